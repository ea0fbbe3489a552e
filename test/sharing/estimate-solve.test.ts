import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../src/parallel/engine.js';
import { PromoptError } from '../../src/errors.js';
import { estimate } from '../../src/sharing/estimate.js';
import { minimizeGmm } from '../../src/sharing/estimate-solve.js';
import { inverse, multiply, transpose, pseudoInverseSym, symmetricEigen, twoSidedP, zeros, type Matrix } from '../../src/sharing/estimate-linalg.js';
import { CounterRng } from '../../src/random.js';
import { smallDesign, smallExperiment } from './estimate-dgp.js';

function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const m = zeros(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m[i][j] = new CounterRng(seed, i, j).normal();
  return m;
}
const t = (a: Matrix) => transpose(a);
const maxAbsDiff = (a: Matrix, b: Matrix) => Math.max(...a.map((row, i) => Math.max(...row.map((x, j) => Math.abs(x - b[i][j])))));

test('eigen-decomposition reconstructs random symmetric matrices; inverse and pseudo-inverse agree when full rank', () => {
  for (let seed = 1; seed <= 5; seed++) {
    const b = randomMatrix(7, 7, seed);
    const a = multiply(b, t(b));
    const { values, vectors } = symmetricEigen(a);
    const rebuilt = multiply(multiply(vectors, values.reduce((d, v, i) => { d[i][i] = v; return d; }, zeros(7, 7))), t(vectors));
    assert.ok(maxAbsDiff(rebuilt, a) < 1e-10, `reconstruction ${seed}`);
    const inv = inverse(a)!;
    const pinv = pseudoInverseSym(a);
    assert.is(pinv.rank, 7);
    assert.ok(maxAbsDiff(inv, pinv.inverse) < 1e-8 * Math.max(...inv.map((r) => Math.max(...r.map(Math.abs)))), `pinv ${seed}`);
  }
});

test('pseudo-inverse of a rank-deficient matrix: A A⁺ A = A and the rank is found', () => {
  const b = randomMatrix(6, 3, 9);
  const a = multiply(b, t(b)); // rank 3
  const { inverse: p, rank } = pseudoInverseSym(a);
  assert.is(rank, 3);
  assert.ok(maxAbsDiff(multiply(multiply(a, p), a), a) < 1e-9 * Math.max(...a.map((r) => Math.max(...r.map(Math.abs)))));
});

test('two-sided p-values of the normal distribution', () => {
  assert.ok(Math.abs(twoSidedP(1.959964, 1) - 0.05) < 1e-6);
  assert.ok(Math.abs(twoSidedP(-2.575829, 1) - 0.01) < 1e-6);
  assert.ok(Math.abs(twoSidedP(0, 1) - 1) < 1e-6);
});

test('minimizeGmm solves an over-identified nonlinear GMM problem (exponential regression moments)', async () => {
  // g(θ) = Σ_i z_i (y_i − exp(θ0 + θ1 x_i)) with z = (1, x, x²), y exact at θ = (0.3, −0.5): minimum at the truth.
  const xs = Array.from({ length: 50 }, (_, i) => -1 + i / 25);
  const ys = xs.map((x) => Math.exp(0.3 - 0.5 * x));
  const evaluate = async (th: Float64Array) => {
    const g = new Float64Array(3);
    const G = zeros(3, 2);
    xs.forEach((x, i) => {
      const mu = Math.exp(th[0] + th[1] * x);
      const z = [1, x, x * x];
      z.forEach((zj, j) => { g[j] += zj * (ys[i] - mu); G[j][0] -= zj * mu; G[j][1] -= zj * mu * x; });
    });
    return { g, G };
  };
  const W = [Float64Array.of(1, 0, 0), Float64Array.of(0, 1, 0), Float64Array.of(0, 0, 1)];
  const sol = await minimizeGmm(evaluate, new Float64Array(2), W, 'test');
  assert.ok(sol.converged, sol.message);
  assert.ok(Math.abs(sol.theta[0] - 0.3) < 1e-8 && Math.abs(sol.theta[1] + 0.5) < 1e-8, `θ = ${Array.from(sol.theta)}`);
});

test('non-convergence is an error (strict) or a loud warning with the reason', async () => {
  const engine = new Engine({ threads: 1 });
  try {
    const { data } = smallExperiment(smallDesign(6, 600, 23));
    try {
      await estimate(data, { maxIterations: 1, standardErrors: false }, engine);
      assert.unreachable('expected NOT_CONVERGED');
    } catch (error) {
      assert.instance(error, PromoptError);
      assert.is((error as PromoptError).code, 'NOT_CONVERGED');
      assert.match((error as Error).message, /did not converge: stopped after 1 iterations/);
    }
    const res = await estimate(data, { maxIterations: 1, strict: false, standardErrors: false }, engine);
    assert.ok(res.diagnostics.warnings.length > 0);
    assert.ok(res.diagnostics.steps.some((s) => !s.converged));
  } finally {
    await engine.close();
  }
});

test.run();
