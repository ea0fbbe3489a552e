import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { counterfactual, tableSource, SCHEMES } from '../../src/sharing/counterfactual.js';
import { deltaStandardError, parameterNames, parameterValue, validateCovariance, withParameter, type ParameterCovariance } from '../../src/sharing/delta.js';
import type { SharingParameters } from '../../src/sharing/model.js';
import { withEngine } from '../helpers.js';
import { smallExperiment } from './counterfactual-fixtures.js';

const { data, params } = smallExperiment(300, 21, 2);
const names = parameterNames(params);

/** A diagonal covariance with SEs of a tenth of each parameter's size (so every entry matters). */
function diagonalCovariance(p: SharingParameters): ParameterCovariance {
  return {
    names,
    matrix: names.map((a, i) => names.map((_, j) => (i === j ? (0.1 * Math.max(0.01, Math.abs(parameterValue(p, a)))) ** 2 : 0))),
  };
}

test('envelope-theorem gradients match finite differences of the fully re-optimized profits', async () => {
  await withEngine({ threads: 1 }, async (engine) => {
    const covariance = diagonalCovariance(params);
    const base = await counterfactual(tableSource(data, params), params, { gammaGrid: [0.5, 1.5], covariance }, engine);
    const value = async (p: SharingParameters) => counterfactual(tableSource(data, p), p, { gammaGrid: [0.5, 1.5], uniformConditions: false }, engine);
    for (const name of names) {
      const x = parameterValue(params, name);
      // Small steps: the value is a max over choices, and a step across a switch of choice blurs the slope.
      const h = (name.includes("alpha") || name === "abar" ? 1e-8 : 1e-7) * Math.max(1, Math.abs(x));
      const up = await value(withParameter(params, name, x + h));
      const down = await value(withParameter(params, name, x - h));
      const k = names.indexOf(name);
      for (const s of SCHEMES) {
        const fd = (up.schemes[s].profit - down.schemes[s].profit) / (2 * h);
        const g = base.gradients![s][k];
        assert.ok(Math.abs(fd - g) <= 1e-4 * Math.abs(g) + 1e-5, `${s} d/d${name}: gradient ${g}, finite difference ${fd}`);
      }
    }
    // SE = √(g'Σg) with the diagonal covariance.
    for (const s of SCHEMES) {
      const g = base.gradients![s];
      const expected = Math.sqrt(g.reduce((acc, gk, k) => acc + gk * gk * covariance.matrix[k][k], 0));
      assert.ok(Math.abs(base.schemes[s].se! - expected) <= 1e-12 * expected, `${s} SE`);
    }
    assert.equal(base.covariance!.fixed, []);
  });
});

test('the sensitivity band is the delta method on the lift, including the uncertainty in L̂', async () => {
  await withEngine({ threads: 1 }, async (engine) => {
    // Only L uncertain: the band's half-width is 1.645·|∂lift/∂L̂|·SE(L̂).
    const seL = 30;
    const covariance: ParameterCovariance = { names: ['L'], matrix: [[seL * seL]] };
    const res = await counterfactual(tableSource(data, params), params, { gammaGrid: [0.5, 1, 1.5], covariance }, engine);
    const h = 1e-4;
    const up = await counterfactual(tableSource(data, params), withParameter(params, 'L', params.L + h), { gammaGrid: [0.5, 1, 1.5], uniformConditions: false }, engine);
    const down = await counterfactual(tableSource(data, params), withParameter(params, 'L', params.L - h), { gammaGrid: [0.5, 1, 1.5], uniformConditions: false }, engine);
    const s = res.sensitivity!;
    s.gamma.forEach((_, g) => {
      const slope = (up.sensitivity!.lift[g] - down.sensitivity!.lift[g]) / (2 * h);
      const half = 1.6448536269514722 * Math.abs(slope) * seL;
      assert.ok(Math.abs(s.upper![g] - s.lift[g] - half) <= 1e-4 * half + 1e-9, `γ = ${s.gamma[g]}: half-width ${s.upper![g] - s.lift[g]} vs ${half}`);
      assert.ok(Math.abs(s.lift[g] - s.lower![g] - half) <= 1e-4 * half + 1e-9);
    });
    assert.ok(res.covariance!.fixed.includes('vbar'));
    // UNS does not depend on L.
    assert.is(res.schemes.UNS.se, 0);
  });
});

test('covariance input is validated with one-line errors', () => {
  assert.throws(() => validateCovariance({ names: ['vbar', 'beta_v.nope'], matrix: [[1, 0], [0, 1]] }, params, 'cov.json'), /cov.json: names\[1\] = "beta_v.nope" is not a parameter/);
  assert.throws(() => validateCovariance({ names: ['vbar'], matrix: [[1, 2]] }, params, 'cov.json'), /row 0 must have 1 entries/);
  assert.throws(() => validateCovariance({ names: ['vbar', 'L'], matrix: [[1, 2], [3, 1]] }, params, 'cov.json'), /not symmetric/);
  assert.throws(() => validateCovariance({ names: ['vbar'], matrix: [[-1]] }, params, 'cov.json'), /negative/);
  const ok = validateCovariance({ names: ['L', `beta_sc.${params.covariates[0]}`], matrix: [[4, 1], [1, 9]] }, params);
  assert.is(deltaStandardError(names.map((n) => (n === 'L' ? 1 : 0)), names, ok), 2);
});

test.run();
