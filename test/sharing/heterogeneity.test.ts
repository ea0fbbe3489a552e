import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FineHistogram, HeterogeneityAccumulator, heterogeneityComparison } from '../../src/sharing/heterogeneity.js';
import { syntheticPopulation } from '../../src/sharing/population.js';
import { PAPER_PARAMETERS } from '../../src/sharing/paper.js';
import { CounterRng } from '../../src/random.js';

/** Exact quantile with the same convention (smallest x with F(x) ≥ q, interpolated). */
function sortedQuantile(sorted: number[], q: number): number {
  const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[k];
}

test('fine-histogram quantiles agree with sorted data to within one bin; moments are exact', () => {
  const h = new FineHistogram(-10, 10, 4000);
  const xs: number[] = [];
  for (let i = 0; i < 20000; i++) {
    const x = 3 * new CounterRng(5, 1, i).normal() + 1;
    xs.push(x);
    h.add(x);
  }
  h.add(NaN);
  xs.sort((a, b) => a - b);
  for (const q of [0.01, 0.1, 0.5, 0.9, 0.99]) {
    assert.ok(Math.abs(h.quantile(q) - sortedQuantile(xs, q)) <= h.width + 1e-12, `q = ${q}: ${h.quantile(q)} vs ${sortedQuantile(xs, q)}`);
  }
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  assert.ok(Math.abs(h.mean - mean) < 1e-12 * Math.abs(mean) + 1e-12);
  assert.ok(Math.abs(h.sd - sd) < 1e-10 * sd);
  assert.is(h.nonFinite, 1);
  assert.is(h.min, xs[0]);
  assert.is(h.max, xs[xs.length - 1]);
});

test('addAll leaves a histogram exactly as adding the values one by one (scaled, logged, non-finite, out of range)', () => {
  const rng = new CounterRng(5, 1, 0);
  const values = Float64Array.from({ length: 20_000 }, (_, i) => (i % 997 === 3 ? NaN : i % 991 === 7 ? -Infinity : i % 13 === 0 ? 1e9 : rng.normal() * 3 + 0.5));
  for (const [scale, log] of [[1, false], [18.858, false], [-0.5, false], [1, true]] as const) {
    const one = new FineHistogram(-10, 10, 4000), all = new FineHistogram(-10, 10, 4000);
    for (const x of values) one.add(log ? Math.log(x) : scale * x);
    all.addAll(values, scale, log);
    assert.equal({ ...all }, { ...one }, `scale ${scale}, log ${log}`);
    assert.ok(all.count > 0 && all.nonFinite > 0 && all.above + all.below > 0);
  }
});

test('heterogeneity comparison: the four primitives in logit units, spreads as the model implies', () => {
  const n = 20000;
  const pop = syntheticPopulation(n, 4);
  const report = heterogeneityComparison(pop, PAPER_PARAMETERS.sigma);
  const d = report.distributions;
  assert.is(report.priceScale, 188);
  // With i.i.d. standard-normal covariates and no shocks, each primitive's sd is |β| (times its scale).
  const norm = (b: readonly number[]) => Math.sqrt(b.reduce((a, x) => a + x * x, 0));
  const expectSd = {
    sharingCost: PAPER_PARAMETERS.sigma * norm(PAPER_PARAMETERS.beta_sc),
    logReferralCapacity: norm(PAPER_PARAMETERS.beta_r),
    willingnessToPay: norm(PAPER_PARAMETERS.beta_v),
    priceSensitivity: 188 * norm(PAPER_PARAMETERS.beta_alpha),
  };
  for (const [key, sd] of Object.entries(expectSd)) {
    const got = d[key as keyof typeof d].sd;
    assert.ok(Math.abs(got - sd) < 0.03 * sd, `${key}: sd ${got} vs ${sd}`);
    assert.is(d[key as keyof typeof d].count, n);
  }
  assert.ok(Math.abs(d.sharingCost.mean - PAPER_PARAMETERS.sigma * PAPER_PARAMETERS.scbar) < 0.1);
  assert.ok(Math.abs(d.logReferralCapacity.mean - PAPER_PARAMETERS.r0) < 0.05);
  // The slides' finding on their estimates: sharing costs vary more than willingness to pay and price sensitivity.
  assert.ok(report.spreadRatios['sharingCost/willingnessToPay'] > 1);
  assert.ok(report.spreadRatios['sharingCost/priceSensitivity'] > 1);
  assert.ok(report.spreadRatios['logReferralCapacity/willingnessToPay'] > 1);
  // Centered plotting histogram: shared edges, every customer counted once.
  for (const key of Object.keys(expectSd)) {
    const counts = report.centered.counts[key as keyof typeof report.centered.counts];
    assert.is(counts.length, report.centered.edges.length - 1);
    assert.is(counts.reduce((a, b) => a + b, 0), n);
  }
});

test('accumulating in chunks gives the same report as all at once', () => {
  const pop = syntheticPopulation(5000, 8);
  const whole = heterogeneityComparison(pop, 18.858);
  const acc = new HeterogeneityAccumulator(18.858);
  for (let s = 0; s < 5000; s += 777) {
    const e = Math.min(5000, s + 777);
    acc.add({ baselineUtility: pop.baselineUtility.subarray(s, e), priceSensitivity: pop.priceSensitivity.subarray(s, e), shareCost: pop.shareCost.subarray(s, e), expectedReferrals: pop.expectedReferrals.subarray(s, e) });
  }
  assert.equal(acc.report(), whole);
});

test.run();
