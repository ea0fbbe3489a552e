import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../src/parallel/engine.js';
import { PromoptError } from '../../src/errors.js';
import { estimate, flatten, formatEstimation, referralWeightDiagnostics } from '../../src/sharing/estimate.js';
import { simulateSharing } from '../../src/sharing/simulate.js';
import { PAPER_PARAMETERS } from '../../src/sharing/paper.js';
import type { SharingData } from '../../src/sharing/data.js';
import { smallDesign, smallExperiment } from './estimate-dgp.js';

// Recovery of known parameters from simulated experiments (SPEC §1.2): every estimate within
// 3 standard errors of the truth. One engine for the file; closed at the end.
const engine = new Engine({ threads: 1 });

function zScores(truth: Record<string, number>, est: Record<string, number>, se: Record<string, number>, names: string[]): Record<string, number> {
  return Object.fromEntries(names.map((k) => [k, (est[k] - truth[k]) / se[k]]));
}

function assertWithin(z: Record<string, number>, bound: number, label: string): void {
  const bad = Object.entries(z).filter(([, v]) => !(Math.abs(v) < bound));
  assert.ok(bad.length === 0, `${label}: |error| ≥ ${bound} SE for ${bad.map(([k, v]) => `${k} (${v.toFixed(2)})`).join(', ')}`);
}

test('small experiment (SPEC §1.1 DGP, 12 markets × 2,000): every slope, vbar, abar, scbar, sigma, r0 within 3 SE', async () => {
  const { data, truth } = smallExperiment(smallDesign(12, 2000, 5));
  const res = await estimate(data, {}, engine);
  assert.equal(res.diagnostics.warnings, []);
  for (const step of res.diagnostics.steps) {
    assert.ok(step.converged, `${step.step} did not converge`);
    assert.is(step.inversionFailures, 0);
  }
  const names = Object.keys(flatten(truth)).filter((k) => k !== 'L'); // design prices do not identify the true L (SPEC §1.4)
  assertWithin(zScores(flatten(truth), flatten(res.params), flatten(res.se), names), 3, 'small experiment');
  // Market shocks too: ξ estimates within 3 SE (they rest on ~2,000 customers each).
  for (const m of data.marketNames) {
    assert.ok(Math.abs(res.params.xi_y[m] - truth.xi_y[m]) < 3 * res.se.xi_y[m] + 1e-9, `xi_y ${m}`);
    assert.ok(Math.abs(res.params.xi_w[m] - truth.xi_w[m]) < 3 * res.se.xi_w[m] + 1e-9, `xi_w ${m}`);
  }
  // Covariance: symmetric, its diagonal the squared SEs.
  const { names: cn, matrix } = res.covariance;
  const se = flatten(res.se);
  cn.forEach((a, i) => {
    assert.ok(Math.abs(matrix[i][i] - se[a] ** 2) <= 1e-9 * se[a] ** 2, `covariance diagonal ${a}`);
    cn.forEach((_, j) => assert.ok(Math.abs(matrix[i][j] - matrix[j][i]) <= 1e-9 * Math.sqrt(matrix[i][i] * matrix[j][j])));
  });
});

test('paper design with the optimal price rule: L, the market constants and the purchase and sharing slopes within 3 SE', async () => {
  // Random (not calibrated) shocks: calibrated shocks are chosen to hit the slides' rates per price
  // group, so they co-vary with price and violate E[ξ(1, MC)] = 0. S̄C 0.3 keeps sharers in the
  // 118-price markets at σ = 18.9.
  const sim = simulateSharing({
    design: 'paper', seed: 3, priceRule: 'optimal', shocks: 'random', shockSd: { y: 0.25, w: 0.02 },
    params: { ...PAPER_PARAMETERS, scbar: 0.3 },
  });
  const res = await estimate(sim.data, {}, engine);
  assert.is(res.diagnostics.customers, 23266);
  const names = Object.keys(flatten(sim.params)).filter((k) => !k.startsWith('beta_r') && k !== 'r0');
  assertWithin(zScores(flatten(sim.params), flatten(res.params), flatten(res.se), names), 3, 'paper design');
  // The referral moment E[(R/r − 1) w (1, x)] weights rare referrals by 1/r: with the simulator's
  // skewed covariates its sampling distribution has heavy tails (see bench/montecarlo-results.md),
  // so only a loose check here.
  const ref = zScores(flatten(sim.params), flatten(res.params), flatten(res.se), Object.keys(flatten(sim.params)).filter((k) => k.startsWith('beta_r') || k === 'r0'));
  assertWithin(ref, 6, 'paper design referrals');
  // ... and the estimate says so: the weights 1/r̂ rest on a handful of sharers
  const weights = res.diagnostics.referralWeights;
  assert.ok(weights.effectiveSharers < 0.01 * weights.sharers, `effective ${weights.effectiveSharers} of ${weights.sharers}`);
  assert.ok(res.diagnostics.warnings.some((w) => w.startsWith('referral step: the moment weights')), 'heavy-tail warning');
  const text = formatEstimation(res);
  assert.match(text, 'Parameter Estimates: Market Constants');
  assert.match(text, 'Parameter Estimates: Interaction Terms');
  assert.match(text, 'Number of Orders Using Gift Cards');
});

test('referral weight diagnostics: Kish\'s effective number of the weights 1/r̂, without overflow', () => {
  const equal = referralWeightDiagnostics([Math.log(0.2), Math.log(0.2), Math.log(0.2), Math.log(0.2)], [0, 1, 0, 2]);
  assert.ok(Math.abs(equal.effectiveSharers - 4) < 1e-12);
  assert.is(equal.events, 3);
  assert.ok(Math.abs(equal.smallestRate - 0.2) < 1e-15);
  // weights 1, 1, 2 (rates 1, 1, 0.5): (Σa)² / Σa² = 16 / 6
  const mixed = referralWeightDiagnostics([0, 0, Math.log(0.5)], [0, 0, 0]);
  assert.ok(Math.abs(mixed.effectiveSharers - 16 / 6) < 1e-12);
  // one rate of e^-800 (1/r̂ overflows a double): one effective sharer, no NaN
  const tail = referralWeightDiagnostics([0, -800, -1, -2], [1, 0, 0, 0]);
  assert.ok(Math.abs(tail.effectiveSharers - 1) < 1e-12, String(tail.effectiveSharers));
});

test('results do not depend on the thread count or the shard size (bit-identical)', async () => {
  const { data } = smallExperiment(smallDesign(8, 1500, 9));
  const two = new Engine({ threads: 2, inlineBelow: 0 });
  try {
    const a = await estimate(data, { shardSize: 701, referralBootstrap: 5 }, engine);
    const b = await estimate(data, { shardSize: 701, referralBootstrap: 5 }, two);
    assert.is(JSON.stringify({ p: b.params, s: b.se, r: b.referralBootstrap }), JSON.stringify({ p: a.params, s: a.se, r: a.referralBootstrap }));
  } finally {
    await two.close();
  }
});

test('referral bootstrap: where the sandwich is valid its SEs agree with it; deterministic per seed; intervals in both units', async () => {
  const { data } = smallExperiment(smallDesign(12, 2000, 5));
  const reports: number[] = [];
  const res = await estimate(data, { referralBootstrap: 100, seed: 4, onReferralBootstrapProgress: (done) => reports.push(done) }, engine);
  const rb = res.referralBootstrap!;
  assert.is(rb.replications + rb.failures, 100);
  assert.equal(reports, Array.from({ length: 100 }, (_, b) => b + 1));
  assert.ok(res.diagnostics.referralWeights.effectiveSharers > 0.3 * res.diagnostics.referralWeights.sharers, 'light-tailed weights here');
  const pairs: Array<[string, number, number]> = [['r0', rb.se.r0, res.se.r0], ...res.params.covariates.map((c, j): [string, number, number] => [c, rb.se.beta_r[j], res.se.beta_r[j]])];
  for (const [name, boot, sandwich] of pairs) {
    assert.ok(boot > 0.7 * sandwich && boot < 1.4 * sandwich, `${name}: bootstrap SE ${boot} vs sandwich ${sandwich}`);
  }
  // intervals bracket the estimate's neighbourhood, and the two units agree (β = β̃ / sd)
  assert.ok(rb.interval95.r0[0] < rb.interval95.r0[1]);
  res.params.covariates.forEach((_, j) => {
    const [lo, hi] = rb.interval95.beta_r[j], [slo, shi] = rb.standardized.interval95.beta_r[j];
    assert.ok(lo < hi);
    assert.ok(Math.abs(lo * res.standardized.scale[j] - slo) < 1e-9 * (1 + Math.abs(slo)));
    assert.ok(Math.abs(hi * res.standardized.scale[j] - shi) < 1e-9 * (1 + Math.abs(shi)));
  });
  const again = await estimate(data, { referralBootstrap: 100, seed: 4 }, engine);
  assert.equal(again.referralBootstrap, rb);
  const other = await estimate(data, { referralBootstrap: 100, seed: 5 }, engine);
  assert.not.equal(other.referralBootstrap!.se.r0, rb.se.r0);
});

test('customer order does not matter (markets interleaved in the file)', async () => {
  const { data } = smallExperiment(smallDesign(6, 800, 19));
  const n = data.market.length;
  const order = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? i / 2 : n - 1 - (i - 1) / 2));
  const pick = <T extends Float64Array | Uint8Array | Int32Array>(col: T): T => { const out = col.slice() as T; order.forEach((src, i) => { out[i] = col[src]; }); return out; };
  const shuffled: SharingData = {
    ...data, market: pick(data.market), price: pick(data.price), marginalCost: pick(data.marginalCost), assignment: pick(data.assignment),
    shared: pick(data.shared), purchased: pick(data.purchased), referrals: pick(data.referrals), covariates: data.covariates.map(pick),
  };
  const a = flatten((await estimate(data, {}, engine)).params), b = flatten((await estimate(shuffled, {}, engine)).params);
  for (const k of Object.keys(a)) assert.ok(Math.abs(a[k] - b[k]) <= 1e-7 * (1 + Math.abs(a[k])), `${k}: ${a[k]} vs ${b[k]}`);
});

test('covariates in other units: same standardized estimates, betas rescaled, intercepts shifted', async () => {
  const { data } = smallExperiment(smallDesign(8, 1500, 11));
  const base = await estimate(data, { standardErrors: false }, engine);
  const scaled: SharingData = { ...data, covariates: [Float64Array.from(data.covariates[0], (x) => 10 * x + 5), data.covariates[1]] };
  const res = await estimate(scaled, { standardErrors: false }, engine);
  const a = flatten(base.standardized.params), b = flatten(res.standardized.params);
  for (const k of Object.keys(a)) assert.ok(Math.abs(a[k] - b[k]) <= 1e-6 * (1 + Math.abs(a[k])), `standardized ${k}: ${a[k]} vs ${b[k]}`);
  assert.ok(Math.abs(res.params.beta_v[0] - base.params.beta_v[0] / 10) < 1e-7);
  assert.ok(Math.abs(res.params.beta_sc[0] - base.params.beta_sc[0] / 10) < 1e-7);
  // v_i is the same for every customer: vbar + x'β in either unit.
  const x0 = data.covariates[0][0];
  assert.ok(Math.abs((res.params.vbar + (10 * x0 + 5) * res.params.beta_v[0]) - (base.params.vbar + x0 * base.params.beta_v[0])) < 1e-6);
});

async function rejects(data: SharingData, pattern: RegExp): Promise<void> {
  try {
    await estimate(data, {}, engine);
  } catch (error) {
    assert.instance(error, PromoptError);
    assert.is((error as PromoptError).code, 'BAD_INPUT');
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected an error matching ${pattern}`);
}

test('identification failures stop with a message naming the cause', async () => {
  const design = smallDesign(6, 300, 13);
  const { data } = smallExperiment(design);
  await rejects({ ...data, price: new Float64Array(data.price.length).fill(79) }, /same price 79.*abar/);
  await rejects({ ...data, marginalCost: new Float64Array(data.price.length).fill(60) }, /same marginal cost/);
  const noSharers = { ...data, shared: Uint8Array.from(data.shared, (w, i) => (data.market[i] === 2 ? 0 : w)) };
  noSharers.purchased = Uint8Array.from(data.purchased, (y, i) => (data.market[i] === 2 && data.assignment[i] === 1 ? 0 : y));
  noSharers.referrals = Float64Array.from(data.referrals, (r, i) => (data.market[i] === 2 ? 0 : r));
  await rejects(noSharers, /market "m2" has no sharers/);
  await rejects({ ...data, purchased: Uint8Array.from(data.purchased, (y, i) => (data.market[i] === 4 ? 0 : y)) }, /market "m4" has no buyers/);
  await rejects({ ...data, covariates: [data.covariates[0], new Float64Array(data.price.length).fill(3)] }, /covariate "x2" is constant/);
  const four = smallExperiment({ ...design, prices: design.prices.slice(0, 4), costs: design.costs.slice(0, 4) }).data;
  await rejects(four, /4 market\(s\).*at least 5 markets/);
});

test('market bootstrap: B replications with finite standard errors and progress reports', async () => {
  const { data } = smallExperiment(smallDesign(6, 800, 17));
  const progress: number[] = [];
  const res = await estimate(data, { bootstrap: 3, seed: 4, onBootstrapProgress: (done) => progress.push(done) }, engine);
  assert.equal(progress, [1, 2, 3]);
  assert.ok(res.bootstrap);
  assert.is(res.bootstrap!.replications + res.bootstrap!.failures, 3);
  assert.ok(res.bootstrap!.replications >= 2);
  for (const [k, v] of Object.entries(flatten(res.bootstrap!.se as never))) assert.ok(Number.isFinite(v) && v >= 0, `bootstrap SE ${k} = ${v}`);
});

test('cleanup', async () => {
  await engine.close();
});

test.run();
