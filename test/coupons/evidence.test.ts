import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { simulateCoupons } from '../../src/coupons/simulate.js';
import { formatReferenceEvidence, randomizedRows, referenceEvidence } from '../../src/coupons/evidence.js';

test('hand-made rows: reference values, correlations and Table 2 by direct count', () => {
  // One customer, days 0..5, coupons and purchases chosen by hand (rows shuffled on purpose).
  const coupon = [0.1, 0.2, 0.1, 0.12, 0.1, 0.2];
  const purchased = [0, 0, 0, 1, 1, 0];
  const order = [3, 0, 5, 1, 4, 2];
  const rows = { customer: order.map(() => 7), day: order, coupon: order.map((d) => coupon[d]), purchased: order.map((d) => purchased[d]) };
  const e = referenceEvidence(rows, { memories: [1, 2], tableMemories: [2], small: [0.1, 0.12], large: [0.17, 0.2] });
  assert.throws(() => referenceEvidence(rows), /overlap/);
  // L = 1: reference = yesterday's coupon, days 1..5.
  const x = [0.1, 0.2, 0.1, 0.12, 0.1], y = [0, 0, 1, 1, 0];
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const mx = mean(x), my = mean(y);
  const r = x.reduce((s, xi, k) => s + (xi - mx) * (y[k] - my), 0) / Math.sqrt(x.reduce((s, xi) => s + (xi - mx) ** 2, 0) * y.reduce((s, yi) => s + (yi - my) ** 2, 0));
  assert.ok(Math.abs(e.correlations[0].maxReference - r) < 1e-12);
  assert.is(e.correlations[0].observations, 5);
  assert.is(e.correlations[1].observations, 4);
  // L = 2 (days 2..5): max refs 0.2, 0.2, 0.12, 0.12; today 0.1, 0.12, 0.1, 0.2; purchases 0, 1, 1, 0.
  const row = e.table2[0];
  assert.is(row.smallToday.observationsSmallReference, 1); // day 4
  assert.is(row.smallToday.observationsLargeReference, 2); // days 2, 3
  assert.is(row.smallToday.rateSmallReference, 1);
  assert.is(row.smallToday.rateLargeReference, 0.5);
  assert.is(row.smallToday.percentChange, 100);
  assert.is(row.largeToday.observationsSmallReference, 1); // day 5
  assert.is(row.largeToday.observationsLargeReference, 0);
  assert.match(formatReferenceEvidence(e), /Table 2/);
});

test('gaps in a customer\'s days: only days with a full memory count', () => {
  const rows = { customer: [1, 1, 1, 1], day: [0, 1, 3, 4], coupon: [0.1, 0.2, 0.1, 0.2], purchased: [0, 1, 0, 1] };
  const e = referenceEvidence(rows, { memories: [1, 2], tableMemories: [] });
  assert.is(e.correlations[0].observations, 2); // days 1 and 4
  assert.is(e.correlations[1].observations, 0);
});

test('bad rows are refused with the field named', () => {
  assert.throws(() => referenceEvidence({ customer: [1, 1], day: [0, 0], coupon: [0.1, 0.1], purchased: [0, 1] }), /two rows for day 0/);
  assert.throws(() => referenceEvidence({ customer: [1], day: [0], coupon: [NaN], purchased: [0] }), /coupon\[0\]/);
  assert.throws(() => referenceEvidence({ customer: [1, 2], day: [0], coupon: [0.1], purchased: [0] }), /day has 1 entries/);
  assert.throws(() => referenceEvidence({ customer: [], day: [], coupon: [], purchased: [] }), /randomized group/);
});

test('the simulator\'s reference effect is recovered: negative correlations, strongest near the true memory, max beats average, Table 2 positive', () => {
  const sim = simulateCoupons({ customers: 10_000, days: 50, seed: 3, randomizedShare: 0.6, memory: 7 });
  const e = referenceEvidence(randomizedRows(sim.customers.randomized, sim.logs));
  const byMemory = new Map(e.correlations.map((c) => [c.memory, c]));
  for (let L = 1; L <= 14; L++) assert.ok(byMemory.get(L)!.maxReference < 0, `L = ${L}: corr ${byMemory.get(L)!.maxReference}`);
  const strongest = e.correlations.reduce((a, b) => (b.maxReference < a.maxReference ? b : a));
  assert.ok(Math.abs(strongest.memory - 7) <= 1, `strongest at L = ${strongest.memory}`);
  for (const L of [5, 6, 7, 8]) assert.ok(byMemory.get(L)!.maxReference < byMemory.get(L)!.averageReference, `L = ${L}: max not stronger than average`);
  const changes = e.table2.flatMap((row) => [row.smallToday.percentChange, row.largeToday.percentChange]);
  assert.ok(changes.filter((c) => c > 0).length >= 6, `Table 2: ${changes.map((c) => c.toFixed(1)).join(', ')}`);
  // Another true memory moves the peak.
  const short = simulateCoupons({ customers: 6000, days: 30, seed: 4, randomizedShare: 0.6, memory: 3 });
  const e3 = referenceEvidence(randomizedRows(short.customers.randomized, short.logs), { memories: [1, 2, 3, 4, 5, 6, 7, 8] });
  const peak = e3.correlations.reduce((a, b) => (b.maxReference < a.maxReference ? b : a));
  assert.ok(Math.abs(peak.memory - 3) <= 1, `true L = 3, strongest at L = ${peak.memory}`);
});

test('no reference effect (c = 0): correlations are noise', () => {
  const sim = simulateCoupons({ customers: 5000, days: 30, seed: 5, randomizedShare: 0.6, referenceSensitivity: 0 });
  const e = referenceEvidence(randomizedRows(sim.customers.randomized, sim.logs), { memories: [1, 3, 7] });
  for (const c of e.correlations) assert.ok(Math.abs(c.maxReference) < 4 / Math.sqrt(c.observations), `L = ${c.memory}: ${c.maxReference}`);
});

test.run();
