import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseXGBoostModel } from '../../src/coupons/xgboost.js';
import { scoreForest, scoreForestReference } from '../../src/kernels/gbm.js';
import { PromoptError } from '../../src/errors.js';
import { assertClose, withEngine } from '../helpers.js';

/**
 * Two hand-written trees (save_model layout, children deliberately not adjacent in tree 1):
 *   tree 0: x0 < 0.1 (missing → right) ? 0.5 : (x1 < 2 (missing → left) ? -0.25 : 1)
 *   tree 1: x1 < 0.3 (missing → left) ? -0.5 : 0.125
 * base_score 0.2 → base margin log(0.25).
 */
const HAND_MODEL = {
  learner: {
    feature_names: [],
    learner_model_param: { base_score: '2E-1', num_class: '0', num_feature: '2' },
    objective: { name: 'binary:logistic' },
    gradient_booster: {
      name: 'gbtree',
      model: {
        trees: [
          {
            left_children: [1, -1, 3, -1, -1], right_children: [2, -1, 4, -1, -1], split_indices: [0, 0, 1, 0, 0],
            split_conditions: [0.1, 0.5, 2, -0.25, 1], default_left: [0, 0, 1, 0, 0], split_type: [0, 0, 0, 0, 0],
          },
          { left_children: [2, -1, -1], right_children: [1, -1, -1], split_indices: [1, 0, 0], split_conditions: [0.3, 0.125, -0.5], default_left: [true, false, false] },
        ],
      },
    },
  },
};

function handMargin(x0: number, x1: number): number {
  const f32 = Math.fround;
  const t0 = Number.isNaN(x0) ? (Number.isNaN(x1) || f32(x1) < 2 ? -0.25 : 1) : f32(x0) < f32(0.1) ? 0.5 : Number.isNaN(x1) || f32(x1) < 2 ? -0.25 : 1;
  const t1 = Number.isNaN(x1) || f32(x1) < f32(0.3) ? -0.5 : 0.125;
  return Math.log(0.2 / 0.8) + t0 + t1;
}

test('hand-written XGBoost model: float32 comparison, default_left for NaN, base_score through the logit', async () => {
  const { forest } = parseXGBoostModel(HAND_MODEL);
  // 0.1 is not a float32: a double just below float32(0.1) but above 0.1 still compares equal in float32, so it goes right.
  const justBelow = Math.fround(0.1) - 1e-12;
  const x0 = [0, 0.2, NaN, justBelow, 0.09, 5, NaN, 0.0999999];
  const x1 = [0, 3, 1, 0.29, NaN, 2, NaN, 0.30000001];
  const expected = x0.map((v, i) => handMargin(v, x1[i]));
  assert.is(expected[3], Math.log(0.25) + -0.25 + -0.5, 'x0 = float32(0.1) − 1e-12 goes right (float32 rounding)');
  const features = [Float64Array.from(x0), Float64Array.from(x1)];
  assertClose(scoreForestReference(forest, features), expected, 1e-15, 1e-15, 'reference walk');
  const kernel = await withEngine({ threads: 1 }, (engine) => scoreForest(forest, features, engine));
  assertClose(kernel, expected, 1e-15, 1e-15, 'kernel walk');
});

const fixture = JSON.parse(readFileSync(fileURLToPath(new URL('../../../test/coupons/fixtures/xgboost-binary.json', import.meta.url)), 'utf8')) as {
  featureNames: string[]; model: unknown; dump: unknown; rows: (number | null)[][]; margin: number[]; probability: number[];
};
const columns = fixture.featureNames.map((_, j) => Float64Array.from(fixture.rows, (row) => row[j] ?? NaN));

test('real XGBoost 1.7.4 (fixture made by fixtures/make_xgboost_fixture.py): save_model JSON reproduces XGBoost\'s own margins', async () => {
  const model = parseXGBoostModel(fixture.model, { featureNames: fixture.featureNames });
  assert.equal(model.featureNames, fixture.featureNames);
  assert.is(model.objective, 'binary:logistic');
  const margin = await withEngine({ threads: 1 }, (engine) => scoreForest(model.forest, columns, engine));
  // XGBoost adds float32 leaf values; promopt adds them in float64.
  assertClose(margin, fixture.margin, 1e-6, 1e-6, 'margins');
  assertClose(scoreForestReference(model.forest, columns), margin, 1e-15, 1e-15, 'reference walk');
});

test('real XGBoost: the dump_model JSON gives the same margins (base_score passed in)', async () => {
  const model = parseXGBoostModel(fixture.dump, { featureNames: fixture.featureNames, baseScore: 0.3 });
  const margin = await withEngine({ threads: 1 }, (engine) => scoreForest(model.forest, columns, engine));
  assertClose(margin, fixture.margin, 1e-6, 1e-6, 'margins');
});

test('XGBoost import: column order follows the names given, not the model\'s', async () => {
  const reversed = [...fixture.featureNames].reverse();
  const model = parseXGBoostModel(fixture.model, { featureNames: reversed });
  const margin = await withEngine({ threads: 1 }, (engine) => scoreForest(model.forest, [...columns].reverse(), engine));
  assertClose(margin, fixture.margin, 1e-6, 1e-6, 'margins');
});

test('XGBoost import: unsupported or malformed models are rejected with a clear error', () => {
  const bad = (doc: unknown, pattern: RegExp) => {
    try {
      parseXGBoostModel(doc, {}, 'm.json');
      assert.unreachable('should throw');
    } catch (error) {
      assert.instance(error, PromoptError);
      assert.match((error as Error).message, pattern);
    }
  };
  const clone = () => JSON.parse(JSON.stringify(HAND_MODEL));
  const multi = clone();
  multi.learner.objective.name = 'multi:softprob';
  bad(multi, /objective "multi:softprob" is not a binary logistic classifier/);
  const ragged = clone();
  ragged.learner.gradient_booster.model.trees[0].right_children.pop();
  bad(ragged, /m.json: tree 0: right_children has 4 entries, expected 5/);
  const cyclic = clone();
  cyclic.learner.gradient_booster.model.trees[1].left_children[0] = 0;
  bad(cyclic, /two parents/);
  bad('hello', /not an XGBoost JSON model/);
  bad({ learner: { gradient_booster: { name: 'dart' } } }, /booster "dart" is not supported/);
});

test.run();
