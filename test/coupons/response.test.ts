import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fitResponseModel, ResponseModel, type ResponseData } from '../../src/coupons/response.js';
import { parseXGBoostModel } from '../../src/coupons/xgboost.js';
import { PromoptError } from '../../src/errors.js';
import { CounterRng } from '../../src/random.js';
import { logistic } from '../../src/kernels/math.js';
import { withEngine } from '../helpers.js';

const DISCOUNTS = [0.1, 0.12, 0.15, 0.17, 0.2];
/** True g(x) = 10 + 4 x0 − 3 x1 + 0 x2 + 2 x3 (raw features), f(x) nonlinear. */
const G_TRUE = [10, 4, -3, 0, 2];

function simulate(n: number, seed: number): ResponseData & { gTrue: Float64Array } {
  const p = 4;
  const features = Array.from({ length: p }, () => new Float64Array(n));
  const discount = new Float64Array(n);
  const purchased = new Uint8Array(n);
  const gTrue = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const rng = new CounterRng(seed, 3, i);
    features[0][i] = rng.normal();
    features[1][i] = rng.integer(4); // a count, as in the paper's features
    features[2][i] = rng.uniform();
    features[3][i] = rng.normal();
    discount[i] = DISCOUNTS[rng.integer(DISCOUNTS.length)];
    const f = -1 + 0.8 * Math.sin(2 * features[0][i]) - 0.3 * features[1][i] + (features[2][i] > 0.5 ? 0.6 : 0);
    gTrue[i] = G_TRUE[0] + G_TRUE.slice(1).reduce((s, b, j) => s + b * features[j][i], 0);
    purchased[i] = rng.uniform() < logistic(f + gTrue[i] * (discount[i] - 0.1)) ? 1 : 0;
  }
  return { featureNames: ['clicks', 'cart_visits', 'coupon_share', 'max_coupon'], features, discount, purchased, gTrue };
}

const options = { rounds: 60, learningRate: 0.2, maxDepth: 3, earlyStoppingRounds: 8, seed: 4 };

test('recovers a known logistic g (β within 4 standard errors) and reports sane diagnostics', async () => {
  const data = simulate(150_000, 12);
  const model = await withEngine({ threads: 2 }, (engine) => fitResponseModel(data, options, engine));
  const d = model.diagnostics;
  // β lives on standardized features: β_j = b_j sd_j, β0 = b0 + Σ b_j mean_j.
  const expected = [G_TRUE[0] + G_TRUE.slice(1).reduce((s, b, j) => s + b * model.mean[j], 0), ...G_TRUE.slice(1).map((b, j) => b * model.sd[j])];
  expected.forEach((b, j) => {
    const se = d.coefficients[j].standardError;
    assert.ok(Math.abs(model.beta[j] - b) < 4 * se + 0.02 * Math.abs(b), `β${j} = ${model.beta[j]} ± ${se}, expected ${b}`);
  });
  let truePositive = 0;
  for (const g of data.gTrue) if (g > 0) truePositive++;
  assert.ok(Math.abs(d.shareGPositive - truePositive / data.gTrue.length) < 0.04, `share g > 0: ${d.shareGPositive} vs ${truePositive / data.gTrue.length}`);
  assert.ok(d.heldOut.logLoss < d.heldOut.constantLogLoss - 0.02, `held-out log-loss ${d.heldOut.logLoss} vs constant ${d.heldOut.constantLogLoss}`);
  assert.ok(d.heldOut.auc > 0.65 && d.baselineHeldOut.auc > 0.6);
  assert.ok(d.heldOutRows > 0.15 * data.purchased.length && d.heldOutRows < 0.25 * data.purchased.length);
  // The auxiliary L1 regression finds the three real predictors of g with their signs, not the null one first.
  const signs = Object.fromEntries(d.auxiliary.predictors.map((p) => [p.feature, p.sign]));
  assert.is(signs.clicks, '+');
  assert.is(signs.cart_visits, '−');
  assert.is(signs.max_coupon, '+');
  assert.not.equal(d.auxiliary.predictors[0].feature, 'coupon_share');
  assert.match(model.summary(), /Share of customer-days with g > 0/);
});

test('save/load round trip gives identical predictions; the file is written atomically', async () => {
  const data = simulate(20_000, 5);
  const dir = mkdtempSync(join(tmpdir(), 'promopt-response-'));
  const path = join(dir, 'model.json');
  await withEngine({ threads: 1 }, async (engine) => {
    const model = await fitResponseModel(data, { ...options, rounds: 15 }, engine);
    await model.save(path);
    const loaded = await ResponseModel.load(path);
    const fresh = simulate(3001, 77);
    const a = await model.predict(fresh.features, engine);
    const b = await loaded.predict(fresh.features, engine);
    assert.equal(Array.from(b.f), Array.from(a.f));
    assert.equal(Array.from(b.g), Array.from(a.g));
    assert.equal(loaded.diagnostics, model.diagnostics);
    assert.equal(readdirSync(dir), ['model.json'], 'no temporary file left behind');
    try {
      await model.save(join(dir, 'missing-dir', 'model.json'));
      assert.unreachable();
    } catch (error) {
      assert.instance(error, PromoptError);
    }
    assert.equal(readdirSync(dir), ['model.json']);
  });
});

test('f from an imported XGBoost model instead of the GBM', async () => {
  const data = simulate(20_000, 6);
  // A one-split stump on feature 0 at 0 (leaf values −1.5 / −0.5, base_score 0.5).
  const stump = parseXGBoostModel([{ nodeid: 0, split: 'f0', split_condition: 0, yes: 1, no: 2, missing: 1, children: [{ nodeid: 1, leaf: -1.5 }, { nodeid: 2, leaf: -0.5 }] }]);
  const model = await withEngine({ threads: 1 }, (engine) => fitResponseModel(data, { baseline: { forest: stump.forest, source: 'xgboost' } }, engine));
  assert.is(model.diagnostics.baseline.source, 'xgboost');
  const { f } = await withEngine({ threads: 1 }, (engine) => model.predict([Float64Array.of(-1, 1), Float64Array.of(0, 0), Float64Array.of(0, 0), Float64Array.of(0, 0)], engine));
  assert.equal(Array.from(f), [-1.5, -0.5]);
  assert.ok(model.beta[0] > 0);
});

test('bad input: clear one-line errors', async () => {
  const data = simulate(2000, 1);
  const expectError = async (mutate: (d: ResponseData) => ResponseData, pattern: RegExp, extra = {}) => {
    try {
      await withEngine({ threads: 1 }, (engine) => fitResponseModel(mutate({ ...data, features: data.features.map((c) => c.slice()), discount: data.discount.slice(), purchased: data.purchased.slice() }), { ...options, ...extra }, engine));
      assert.unreachable('should throw');
    } catch (error) {
      assert.instance(error, PromoptError, String(error));
      assert.match((error as Error).message, pattern);
      assert.not.match((error as Error).message, /\n/);
    }
  };
  await expectError((d) => ((d.features[2][9] = NaN), d), /feature "coupon_share", row 10 is NaN/);
  await expectError((d) => ((d.discount[3] = -0.1), d), /discount, row 4 is -0.1/);
  await expectError((d) => ((d.purchased[0] = 3), d), /purchased, row 1 is 3/);
  await expectError((d) => ({ ...d, discount: d.discount.subarray(0, 10) }), /discount has 10 rows/);
  await expectError((d) => ({ ...d, featureNames: d.featureNames.slice(1) }), /3 feature names but 4 feature columns/);
  await expectError((d) => d, /with the nominal discount 0.3/, { nominalDiscount: 0.3 });
  await expectError((d) => ((d.discount.fill(0.1)), d), /discount other than d0/);
  const dir = mkdtempSync(join(tmpdir(), 'promopt-response-'));
  writeFileSync(join(dir, 'x.json'), '{"kind": "something-else"}');
  for (const [file, pattern] of [['x.json', /not a promopt response model/], ['none.json', /no such file/]] as const) {
    try {
      await ResponseModel.load(join(dir, file));
      assert.unreachable();
    } catch (error) {
      assert.match((error as Error).message, pattern);
    }
  }
  const model = await withEngine({ threads: 1 }, (engine) => fitResponseModel(data, { ...options, rounds: 3 }, engine));
  try {
    await model.predict(data.features.slice(0, 3));
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, /uses 4 features/);
  }
});

test.run();
