import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatAbTest, normalUpperTail, runAbTest, treatmentRegression, type AbTestResult } from '../../src/coupons/abtest.js';
import { CounterRng } from '../../src/random.js';
import { withEngine } from '../helpers.js';

test('normal upper tail at the usual critical values', () => {
  assert.ok(Math.abs(normalUpperTail(0) - 0.5) < 1e-7);
  assert.ok(Math.abs(normalUpperTail(1.6448536269514722) - 0.05) < 1e-7);
  assert.ok(Math.abs(normalUpperTail(2.3263478740408408) - 0.01) < 1e-7);
  assert.ok(Math.abs(normalUpperTail(-1.959963984540054) - 0.975) < 1e-7);
});

test('treatment regression = OLS with the HC1 sandwich computed from the design matrix', () => {
  for (let trial = 0; trial < 20; trial++) {
    const rng = new CounterRng(trial, 99, 0);
    const n = 20 + rng.integer(200);
    const x = Array.from({ length: n }, (_, i) => (i < 2 ? i : rng.bernoulli(0.4)));
    const y = x.map((xi) => (rng.uniform() < 0.3 ? 0 : Math.exp(rng.normal()) * (1 + 0.5 * xi * rng.uniform())));
    // Generic sandwich: (X'X)^-1 X' diag(e²) X (X'X)^-1 · n/(n−k), X = [1, x].
    let sx = 0, sxx = 0, sy = 0, sxy = 0;
    for (let i = 0; i < n; i++) { sx += x[i]; sxx += x[i] * x[i]; sy += y[i]; sxy += x[i] * y[i]; }
    const det = n * sxx - sx * sx;
    const inv = [[sxx / det, -sx / det], [-sx / det, n / det]];
    const beta = [inv[0][0] * sy + inv[0][1] * sxy, inv[1][0] * sy + inv[1][1] * sxy];
    const meat = [[0, 0], [0, 0]];
    for (let i = 0; i < n; i++) {
      const e2 = (y[i] - beta[0] - beta[1] * x[i]) ** 2;
      const row = [1, x[i]];
      for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) meat[a][b] += e2 * row[a] * row[b];
    }
    let v11 = 0;
    for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) v11 += inv[1][a] * meat[a][b] * inv[b][1];
    v11 *= n / (n - 2);
    const r = treatmentRegression(y, x);
    assert.ok(Math.abs(r.effect - beta[1]) < 1e-10 * (1 + Math.abs(beta[1])), `effect ${r.effect} vs ${beta[1]}`);
    assert.ok(Math.abs(r.standardError - Math.sqrt(v11)) < 1e-9 * Math.sqrt(v11), `se ${r.standardError} vs ${Math.sqrt(v11)}`);
    assert.ok(Math.abs(r.pValueOneSided - normalUpperTail(beta[1] / Math.sqrt(v11))) < 1e-9);
  }
  assert.throws(() => treatmentRegression([1, 2, 3], [1, 0, 0]), /two customers per arm/);
});

const options = { simulation: { customers: 3000, seed: 2 }, trainingDays: 16, warmupDays: 4, testDays: 8, response: { rounds: 30, auxiliaryRows: 20_000 } };
let first: AbTestResult | undefined;

test('heterogeneous customers: the promopt policy beats the incumbent at the same budget', async () => {
  const r = await withEngine({ threads: 1 }, (engine) => runAbTest(options, engine));
  first = r;
  assert.ok(r.revenueUplift > 0, `revenue uplift ${r.revenueUplift}%`);
  assert.ok(r.expectedRevenueUplift > 0, `expected revenue uplift (true model) ${r.expectedRevenueUplift}%`);
  assert.ok(r.regression.effect > 0 && r.regression.pValueOneSided < 0.5);
  assert.ok(countRandomized(r) > 200 && countRandomized(r) < 400, `${countRandomized(r)} customers in the randomized group`);
  for (const day of r.daily) {
    assert.ok(day.allocatedDiscount <= day.budget * (1 + 1e-9) || day.lambda === 1, `day ${day.day}: allocated ${day.allocatedDiscount} over budget ${day.budget}`);
    assert.ok(day.lambda >= 1);
  }
  const sent = (arm: 'treatment' | 'control') => r.couponsByRate.reduce((s, row) => s + row[arm], 0);
  assert.is(sent('treatment'), r.treatment.customers * 8);
  assert.is(sent('control'), r.control.customers * 8);
  const revenueByRate = (arm: 'treatment' | 'control') => r.revenueByRate.reduce((s, row) => s + row[arm], 0);
  assert.ok(Math.abs(revenueByRate('treatment') - r.treatment.revenue) < 1e-6 * r.treatment.revenue);
  assert.ok(r.treatment.contributionMargin < r.treatment.revenue);
  assert.match(formatAbTest(r), /Figure 2/);
});

function countRandomized(r: AbTestResult): number {
  return r.customers - r.treatment.customers - r.control.customers;
}

test('the test period is identical on 1 and 2 threads (given the same model)', async () => {
  assert.ok(first, 'previous test did not run');
  const again = await withEngine({ threads: 2, inlineBelow: 0 }, (engine) => runAbTest({ ...options, model: first!.fittedModel }, engine));
  assert.is(again.treatment.revenue, first!.treatment.revenue);
  assert.is(again.control.revenue, first!.control.revenue);
  assert.equal(again.daily.map((d) => d.lambda), first!.daily.map((d) => d.lambda));
  assert.equal(again.couponsByRate, first!.couponsByRate);
  assert.equal(again.regression, first!.regression);
});

test('bad options are refused', async () => {
  await withEngine({ threads: 1 }, async (engine) => {
    for (const [bad, pattern] of [
      [{ testDays: 0 }, /testDays/], [{ trainingDays: 5, warmupDays: 5 }, /warmupDays/], [{ costOfGoodsShare: 1 }, /costOfGoodsShare/], [{ treatmentShare: 0 }, /treatmentShare/],
    ] as const) {
      try { await runAbTest({ ...options, ...bad }, engine); assert.unreachable(`accepted ${JSON.stringify(bad)}`); } catch (e) { assert.match((e as Error).message, pattern); }
    }
  });
});

test.run();
