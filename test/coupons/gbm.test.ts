import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  trainGbm, trainGbmReference, scoreForest, scoreForestReference, quantileCuts, binOf, meanLogLoss, rocAuc, type GbmData,
} from '../../src/kernels/gbm.js';
import { PromoptError } from '../../src/errors.js';
import { CounterRng } from '../../src/random.js';
import { logistic } from '../../src/kernels/math.js';
import { assertClose, withEngine } from '../helpers.js';

/** A nonlinear purchase model: interactions and thresholds a linear logit cannot express. */
function nonlinearProblem(n: number, p: number, seed: number): GbmData & { truth: Float64Array } {
  const features = Array.from({ length: p }, () => new Float64Array(n));
  const label = new Uint8Array(n);
  const truth = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const rng = new CounterRng(seed, 11, i);
    for (let j = 0; j < p; j++) features[j][i] = j % 3 === 2 ? rng.integer(5) : rng.normal();
    const x = (j: number) => features[j][i];
    const eta = -0.5 + 1.5 * Math.sin(2 * x(0)) + (x(1) > 0.3 ? 1.2 : -0.8) * (x(2 % p) >= 2 ? 1 : -0.5) + 0.8 * x(3 % p) * x(4 % p);
    truth[i] = eta;
    label[i] = rng.uniform() < logistic(eta) ? 1 : 0;
  }
  return { features, label, truth };
}

function slice(data: GbmData, start: number, end: number): GbmData {
  return { features: data.features.map((c) => c.subarray(start, end)), label: Array.prototype.slice.call(data.label, start, end) as number[] };
}

for (const flavor of ['release', 'debug'] as const) {
  test(`${flavor}: kernel-trained trees equal the plain-TypeScript reference (same splits, leaf values within 1e-9)`, async () => {
    const data = nonlinearProblem(3000, 7, 5);
    const train = slice(data, 0, 2400), valid = slice(data, 2400, 3000);
    const params = { rounds: flavor === 'debug' ? 4 : 12, maxDepth: 4, learningRate: 0.3, bins: 32, minChildWeight: 1, lambda: 1, earlyStoppingRounds: 0 };
    const reference = await trainGbmReference(train, valid, params);
    const kernel = await withEngine({ flavor, threads: 1 }, (engine) => trainGbm(train, valid, params, engine));
    const a = kernel.forest, b = reference.forest;
    assert.is(a.roots.length, params.rounds);
    assert.equal(Array.from(a.roots), Array.from(b.roots));
    assert.equal(Array.from(a.feature), Array.from(b.feature), 'split features');
    assert.equal(Array.from(a.threshold), Array.from(b.threshold), 'split thresholds');
    assert.equal(Array.from(a.left), Array.from(b.left));
    assert.equal(Array.from(a.right), Array.from(b.right));
    assertClose(a.value, b.value, 0, 1e-9, 'leaf values');
    assert.ok(a.feature.some((f) => f >= 0), 'trees have splits');
    assertClose(kernel.validLogLoss, reference.validLogLoss, 1e-9, 0, 'validation log-loss');
  });
}

test('leaf-limited (best-first) growth matches the reference and respects maxLeaves', async () => {
  const data = nonlinearProblem(2000, 5, 9);
  const params = { rounds: 5, maxDepth: 0, maxLeaves: 7, bins: 64, earlyStoppingRounds: 0 };
  const reference = await trainGbmReference(data, undefined, params);
  const kernel = await withEngine({ threads: 1 }, (engine) => trainGbm(data, undefined, params, engine));
  assert.equal(Array.from(kernel.forest.feature), Array.from(reference.forest.feature));
  assertClose(kernel.forest.value, reference.forest.value, 0, 1e-9, 'leaf values');
  for (let t = 0; t < 5; t++) {
    const end = t + 1 < 5 ? kernel.forest.roots[t + 1] : kernel.forest.feature.length;
    let leaves = 0;
    for (let k = kernel.forest.roots[t]; k < end; k++) if (kernel.forest.left[k] < 0) leaves++;
    assert.ok(leaves <= 7 && leaves >= 2, `tree ${t} has ${leaves} leaves`);
  }
});

test('GBM beats a constant model on held-out log-loss on a nonlinear problem; early stopping keeps the best round', async () => {
  const data = nonlinearProblem(40_000, 8, 21);
  const train = slice(data, 0, 24_000), valid = slice(data, 24_000, 32_000), test_ = slice(data, 32_000, 40_000);
  const result = await withEngine({ threads: 2 }, (engine) => trainGbm(train, valid, { rounds: 300, learningRate: 0.3, maxDepth: 4, earlyStoppingRounds: 5 }, engine));
  assert.ok(result.validLogLoss.length < 300, 'early stopping triggered');
  const best = Math.min(...result.validLogLoss);
  assert.is(result.validLogLoss[result.bestRounds - 1], best);
  assert.is(result.forest.roots.length, result.bestRounds);
  const margin = await withEngine({ threads: 2 }, (engine) => scoreForest(result.forest, test_.features, engine));
  const mean = (test_.label as number[]).reduce((s, y) => s + y, 0) / test_.label.length;
  const constant = meanLogLoss(new Float64Array(test_.label.length).fill(Math.log(mean / (1 - mean))), test_.label);
  const gbm = meanLogLoss(margin, test_.label);
  const oracle = meanLogLoss(data.truth.subarray(32_000), test_.label);
  assert.ok(gbm < constant - 0.05, `GBM log-loss ${gbm} vs constant ${constant}`);
  assert.ok(gbm < oracle + 0.03, `GBM log-loss ${gbm} close to the true model's ${oracle}`);
  assert.ok(rocAuc(margin, test_.label) > 0.75);
});

test('training is bit-identical for 1 and 2 threads (histograms reduced in shard order) and matches the reference on multi-shard nodes', async () => {
  const data = nonlinearProblem(70_000, 4, 3);
  const params = { rounds: 3, maxDepth: 5, earlyStoppingRounds: 0 };
  const one = await withEngine({ threads: 1 }, (engine) => trainGbm(data, undefined, params, engine));
  const two = await withEngine({ threads: 2, inlineBelow: 0 }, (engine) => trainGbm(data, undefined, params, engine));
  assert.equal(Array.from(one.forest.value), Array.from(two.forest.value));
  assert.equal(Array.from(one.forest.threshold), Array.from(two.forest.threshold));
  // Several histogram and partition shards per node: still the reference's trees.
  const reference = await trainGbmReference(data, undefined, params);
  assert.equal(Array.from(one.forest.feature), Array.from(reference.forest.feature));
  assert.equal(Array.from(one.forest.threshold), Array.from(reference.forest.threshold));
  assertClose(one.forest.value, reference.forest.value, 0, 1e-9, 'leaf values');
});

test('kernel scoring equals the reference walk (odd row counts, several chunks of shards)', async () => {
  const data = nonlinearProblem(5000, 6, 8);
  const { forest } = await withEngine({ threads: 1 }, (engine) => trainGbm(data, undefined, { rounds: 6, maxDepth: 5, earlyStoppingRounds: 0 }, engine));
  const fresh = nonlinearProblem(40_001, 6, 99);
  const expected = scoreForestReference(forest, fresh.features);
  for (const threads of [1, 2]) {
    const actual = await withEngine({ threads, inlineBelow: 0 }, (engine) => scoreForest(forest, fresh.features, engine));
    assertClose(actual, expected, 1e-15, 1e-15, `margins (${threads} threads)`);
  }
  // A non-finite value in a later chunk is reported with its row (and nothing is returned).
  const big = fresh.features.map((c) => {
    const col = new Float64Array(300_000);
    for (let i = 0; i < col.length; i += c.length) col.set(c.subarray(0, Math.min(c.length, col.length - i)), i);
    return col;
  });
  big[4][290_123] = Infinity;
  try {
    await withEngine({ threads: 2, inlineBelow: 0 }, (engine) => scoreForest(forest, big, engine));
    assert.unreachable('should throw');
  } catch (error) {
    assert.instance(error, PromoptError);
    assert.match((error as Error).message, /feature 4, row 290123 is Infinity/);
  }
  const debug = await withEngine({ threads: 1, flavor: 'debug' }, (engine) => scoreForest(forest, slicedColumns(fresh.features, 777), engine));
  assertClose(debug, expected.subarray(0, 777), 1e-15, 1e-15, 'debug margins');
});

function slicedColumns(columns: readonly Float64Array[], n: number): Float64Array[] {
  return columns.map((c) => c.subarray(0, n));
}

test('quantile cuts: strictly increasing, below the maximum, and bins agree with x <= cut', () => {
  const rng = (i: number) => new CounterRng(4, 2, i);
  const skewed = Float64Array.from({ length: 10_000 }, (_, i) => Math.floor(Math.exp(3 * rng(i).uniform())));
  const cuts = quantileCuts(skewed, 16);
  assert.ok(cuts.length >= 2 && cuts.length <= 15);
  for (let k = 1; k < cuts.length; k++) assert.ok(cuts[k] > cuts[k - 1]);
  const max = Math.max(...skewed);
  assert.ok(cuts[cuts.length - 1] < max);
  for (const x of skewed.subarray(0, 500)) {
    const b = binOf(cuts, x);
    if (b < cuts.length) assert.ok(x <= cuts[b]);
    if (b > 0) assert.ok(x > cuts[b - 1]);
  }
  assert.is(quantileCuts(new Float64Array(100).fill(3), 255).length, 0, 'a constant feature has no cut');
  assert.equal(Array.from(quantileCuts(Float64Array.from([0, 1, 0, 1, 2]), 255)), [0.5, 1.5]);
});

test('cut points from the kernel radix sort equal the TypeScript sort (negatives, −0, huge values, ties)', async () => {
  const n = 300_001; // more rows than the cut sample: the strided sample is used
  const columns = [
    Float64Array.from({ length: n }, (_, i) => new CounterRng(1, 5, i).normal() * 1e6),
    Float64Array.from({ length: n }, (_, i) => (i % 7 === 0 ? -0 : i % 5 === 0 ? 0 : Math.floor(new CounterRng(2, 5, i).normal() * 3))),
    Float64Array.from({ length: n }, (_, i) => Math.exp(40 * new CounterRng(3, 5, i).normal()) * (i % 2 ? 1 : -1)),
  ];
  const label = Uint8Array.from({ length: n }, (_, i) => i % 3 === 0 ? 1 : 0);
  const result = await withEngine({ threads: 2 }, (engine) => trainGbm({ features: columns, label }, undefined, { rounds: 1, maxDepth: 1 }, engine));
  columns.forEach((col, j) => assert.equal(Array.from(result.cuts[j]), Array.from(quantileCuts(col, 255)), `feature ${j}`));
});

test('bad input: NaN feature, non-binary label, ragged columns, bad parameters', async () => {
  const data = nonlinearProblem(100, 3, 1);
  const bad = (mutate: (d: { features: Float64Array[]; label: number[] }) => void, params = {}) => {
    const d = { features: data.features.map((c) => c.slice()), label: Array.from(data.label) };
    mutate(d);
    return withEngine({ threads: 1 }, (engine) => trainGbm(d, undefined, params, engine));
  };
  const expectError = async (promise: Promise<unknown>, pattern: RegExp) => {
    try {
      await promise;
      assert.unreachable('should have thrown');
    } catch (error) {
      assert.instance(error, PromoptError);
      assert.match((error as Error).message, pattern);
    }
  };
  await expectError(bad((d) => (d.features[1][17] = NaN)), /feature 1, row 17 is NaN/);
  await expectError(bad((d) => (d.label[4] = 2)), /label row 4 is 2/);
  await expectError(bad((d) => (d.features[2] = d.features[2].subarray(0, 50))), /feature column 2 has 50 rows/);
  await expectError(bad(() => undefined, { bins: 300 }), /bins must be an integer from 2 to 255/);
  await expectError(bad(() => undefined, { learningRate: 0 }), /learningRate/);
});

test.run();
