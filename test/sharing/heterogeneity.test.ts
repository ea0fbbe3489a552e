import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FineHistogram, HeterogeneityAccumulator, heterogeneityComparison } from '../../src/sharing/heterogeneity.js';
import { syntheticPopulation } from '../../src/sharing/population.js';
import { PAPER_PARAMETERS } from '../../src/sharing/paper.js';
import { CounterRng } from '../../src/random.js';
import { feasiblePrices, priceGridSearch } from '../../src/kernels/grid.js';
import { withEngine } from '../helpers.js';

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

test('addAll leaves a histogram exactly as adding the values one by one (scaled, logged, non-finite, out of range, NaN skipped on request)', () => {
  const rng = new CounterRng(5, 1, 0);
  const values = Float64Array.from({ length: 20_000 }, (_, i) => (i % 997 === 3 ? NaN : i % 991 === 7 ? -Infinity : i % 13 === 0 ? 1e9 : rng.normal() * 3 + 0.5));
  for (const [scale, log] of [[1, false], [18.858, false], [-0.5, false], [1, true]] as const) {
    const one = new FineHistogram(-10, 10, 4000), all = new FineHistogram(-10, 10, 4000);
    for (const x of values) one.add(log ? Math.log(x) : scale * x);
    all.addAll(values, scale, log);
    assert.equal({ ...all }, { ...one }, `scale ${scale}, log ${log}`);
    assert.ok(all.count > 0 && all.nonFinite > 0 && all.above + all.below > 0);
    // skipNaN: as adding only the values that are not NaN (±∞ still count as non-finite)
    const some = new FineHistogram(-10, 10, 4000), skipping = new FineHistogram(-10, 10, 4000);
    for (const x of values) {
      const y = log ? Math.log(x) : scale * x;
      if (!Number.isNaN(y)) some.add(y);
    }
    skipping.addAll(values, scale, log, true);
    assert.equal({ ...skipping }, { ...some }, `skipping NaN, scale ${scale}, log ${log}`);
    assert.ok(skipping.nonFinite < all.nonFinite && (log || skipping.nonFinite > 0));
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

test('the heterogeneityStats kernel (priceGridSearch\'s `heterogeneity`) gives FineHistogram\'s moments and bins, merged over shards and groups', async () => {
  const n = 30_011;
  const pop = syntheticPopulation(n, 12);
  const v = Float64Array.from(pop.baselineUtility), r = Float64Array.from(pop.expectedReferrals);
  for (let i = 0; i < n; i += 101) v[i] = i % 202 === 0 ? 1e3 : -1e3; // off the fine grid at both ends
  for (let i = 7; i < n; i += 997) r[i] = 0; // log r = −∞: not finite
  const customers = { ...pop, baselineUtility: v, expectedReferrals: r };
  const acc = new HeterogeneityAccumulator(PAPER_PARAMETERS.sigma);
  const groupStarts = [0, 5, 4096]; // the last group spans two shards (16,384 customers each at most)
  for (const threads of [1, 2]) {
    const res = await withEngine({ threads, inlineBelow: 0 }, (engine) => priceGridSearch(customers, {
      prices: feasiblePrices(), sigma: PAPER_PARAMETERS.sigma, leadValue: PAPER_PARAMETERS.L, groupStarts, heterogeneity: acc.grid(),
    }, engine));
    const values = [
      (i: number) => PAPER_PARAMETERS.sigma * customers.shareCost[i], (i: number) => Math.log(r[i]),
      (i: number) => v[i], (i: number) => acc.priceScale * customers.priceSensitivity[i],
    ];
    const { lo, inverseWidth, bins } = acc.grid();
    groupStarts.forEach((start, g) => {
      const end = groupStarts[g + 1] ?? n;
      values.forEach((value, k) => {
        const reference = new FineHistogram(lo, lo + bins / inverseWidth, bins);
        for (let i = start; i < end; i++) reference.add(value(i));
        const m = res.heterogeneity!.moments[g][k];
        const summarized = new FineHistogram(lo, lo + bins / inverseWidth, bins);
        summarized.addMoments(m);
        summarized.addBins(res.heterogeneity!.bins.subarray(4 * start, 4 * end), k, 4);
        for (const key of ['count', 'min', 'max', 'nonFinite', 'below', 'above'] as const) assert.is(summarized[key], reference[key], `group ${g}, primitive ${k}: ${key}`);
        // the kernel's logarithm may differ from V8's in the last bit: means within 1e-12, bins within one customer
        assert.ok(Math.abs(summarized.mean - reference.mean) <= 1e-12 * (1 + Math.abs(reference.mean)), `group ${g}, primitive ${k}: mean`);
        assert.ok(Math.abs(summarized.sd - reference.sd) <= 1e-9 * reference.sd + 1e-12, `group ${g}, primitive ${k}: sd`);
        let moved = 0;
        for (let b = 0; b < bins; b++) moved += Math.abs(summarized.counts[b] - reference.counts[b]);
        assert.ok(k === 1 ? moved <= 2 : moved === 0, `group ${g}, primitive ${k}: ${moved} customers in other bins`);
      });
    });
    assert.ok(res.heterogeneity!.moments.some((g) => g[1].nonFinite > 0) && res.heterogeneity!.moments.some((g) => g[2].above > 0 && g[2].below > 0));
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
