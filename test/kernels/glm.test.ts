import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  accumulateLogistic, accumulateLogisticReference, fitLogistic, withLogisticProblem, lassoPath, cholesky, choleskySolve, type LogisticDesign,
} from '../../src/kernels/glm.js';
import { PromoptError } from '../../src/errors.js';
import { CounterRng } from '../../src/random.js';
import { logistic } from '../../src/kernels/math.js';
import { assertClose, uniformArray, withEngine } from '../helpers.js';

/** y ~ Λ(offset + m (β'x)) with an intercept column; returns the design and the true β. */
function simulate(n: number, beta: number[], seed: number, withMultiplier = true): LogisticDesign {
  const k = beta.length;
  const columns = [new Float64Array(n).fill(1), ...Array.from({ length: k - 1 }, (_, j) => uniformArray(n, -1.5, 1.5, seed, 10 + j))];
  const offset = uniformArray(n, -2, 1, seed, 2);
  const multiplier = withMultiplier ? Float64Array.from(uniformArray(n, 0, 1, seed, 3), (u) => [0.02, 0.05, 0.07, 0.1][Math.floor(u * 4)]) : undefined;
  const label = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let index = 0;
    for (let j = 0; j < k; j++) index += columns[j][i] * beta[j];
    label[i] = new CounterRng(seed, 4, i).uniform() < logistic(offset[i] + (multiplier ? multiplier[i] : 1) * index) ? 1 : 0;
  }
  return { columns, offset, multiplier, label };
}

for (const flavor of ['release', 'debug'] as const) {
  test(`${flavor}: kernel accumulation (log-lik, score, Hessian) matches the reference within 1e-11 (odd n, several shards)`, async () => {
    const design = simulate(flavor === 'debug' ? 3001 : 40_001, [0.3, -1, 2, 0.5, 0, 1.5, -0.7], 3);
    const beta = [0.2, -0.5, 1, 0.1, 0.3, -0.2, 0.05];
    const actual = await withEngine({ flavor, threads: flavor === 'debug' ? 1 : 2, inlineBelow: 0 }, (engine) => accumulateLogistic(design, beta, engine));
    const expected = accumulateLogisticReference(design, beta);
    assertClose([actual.logLik], [expected.logLik], 1e-11, 0, 'logLik');
    assertClose(actual.score, expected.score, 1e-11, 1e-9, 'score');
    assertClose(actual.hessian, expected.hessian, 1e-11, 1e-9, 'hessian');
  });
}

test('accumulation is bit-identical for 1 and 2 threads', async () => {
  const design = simulate(50_000, [0.1, 1, -1], 8);
  const beta = [0.1, 0.2, 0.3];
  const one = await withEngine({ threads: 1 }, (engine) => accumulateLogistic(design, beta, engine));
  const two = await withEngine({ threads: 2, inlineBelow: 0 }, (engine) => accumulateLogistic(design, beta, engine));
  assert.equal(Array.from(one.hessian), Array.from(two.hessian));
  assert.is(one.logLik, two.logLik);
});

test('Newton recovers a known β with an offset and multiplier (within 4 standard errors)', async () => {
  const truth = [8, -12, 15, 0, 6];
  const design = simulate(120_000, truth, 11);
  const fit = await withEngine({ threads: 2 }, (engine) => fitLogistic(design, { unpenalized: [0] }, engine));
  for (let j = 0; j < truth.length; j++) {
    assert.ok(Math.abs(fit.beta[j] - truth[j]) < 4 * fit.standardErrors[j], `β${j} = ${fit.beta[j]} ± ${fit.standardErrors[j]} vs ${truth[j]}`);
  }
  assert.ok(fit.gradientNorm < 1e-6, `gradient ${fit.gradientNorm}`);
  assert.ok(fit.iterations < 15);
});

test('L1 path: sparse fit keeps the strong predictors with the right signs and drops the null ones', async () => {
  const truth = [0.2, 2, -1.5, 0, 0, 0, 0, 1, 0];
  const design = simulate(30_000, truth, 5, false);
  const fit = await withEngine({ threads: 1 }, (engine) => withLogisticProblem(design, (evaluate, k) => lassoPath(evaluate, k, 3, [0]), engine));
  assert.ok(fit.active >= 3, `active ${fit.active}`);
  assert.ok(fit.beta[1] > 0 && fit.beta[2] < 0 && fit.beta[7] > 0, `signs ${Array.from(fit.beta)}`);
  for (const j of [3, 4, 5, 6, 8]) assert.ok(Math.abs(fit.beta[j]) < 0.05, `β${j} = ${fit.beta[j]}`);
});

test('Cholesky solve of a random SPD system', () => {
  const k = 6;
  const a = new Float64Array(k * k);
  const m = uniformArray(k * k, -1, 1, 3);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) for (let l = 0; l < k; l++) a[i * k + j] += m[i * k + l] * m[j * k + l];
  for (let i = 0; i < k; i++) a[i * k + i] += 0.1;
  const b = uniformArray(k, -1, 1, 4);
  const x = choleskySolve(cholesky(a, k)!, k, b);
  const ax = Array.from({ length: k }, (_, i) => x.reduce((s, v, j) => s + a[i * k + j] * v, 0));
  assertClose(ax, b, 1e-12, 1e-12, 'A x');
  assert.is(cholesky(Float64Array.from([1, 2, 2, 1]), 2), undefined);
});

test('bad input: NaN in a column, non-binary label, singular design', async () => {
  const design = simulate(500, [0.1, 1], 1);
  const columns = design.columns.map((c) => Float64Array.from(c));
  columns[1][42] = NaN;
  try {
    accumulateLogisticReference({ ...design, columns }, [0, 0]);
    assert.unreachable();
  } catch (error) {
    assert.instance(error, PromoptError);
    assert.match((error as Error).message, /column 1, row 42 is NaN/);
  }
  try {
    await withEngine({ threads: 1 }, (engine) => fitLogistic({ ...design, columns: [design.columns[0], new Float64Array(500)] }, { ridge: 0 }, engine));
    assert.unreachable();
  } catch (error) {
    assert.instance(error, PromoptError);
    assert.match((error as Error).message, /singular/);
  }
});

test.run();
