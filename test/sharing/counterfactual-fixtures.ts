// Small sharing experiments for the counterfactual tests (not a test file itself).
import { CounterRng } from '../../src/random.js';
import type { SharingParameters } from '../../src/sharing/model.js';
import type { SharingData } from '../../src/sharing/data.js';

/** A small experiment: K covariates, markets shuffled (not contiguous), shocks, per-market wholesale cost. */
export function smallExperiment(n: number, seed: number, k = 3): { data: SharingData; params: SharingParameters } {
  const rng = (i: number, s: number) => new CounterRng(seed, s, i);
  const marketNames = ['north-1', 'east-1', 'south-1', 'north-2'];
  const cost = [48.1, 71, 78.7, 89.1], price = [59, 79, 88, 118];
  const covariateNames = Array.from({ length: k }, (_, j) => `x${j}`);
  const market = new Int32Array(n);
  const covariates = covariateNames.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    market[i] = rng(i, 1).integer(marketNames.length);
    for (let j = 0; j < k; j++) covariates[j][i] = rng(i * k + j, 2).normal();
  }
  const coef = (s: number, scale: number) => Array.from({ length: k }, (_, j) => scale * rng(j, s).normal());
  const params: SharingParameters = {
    vbar: 0.79, abar: 0.023, scbar: 0.401, sigma: 18.858, r0: -2.284, L: 125.742, covariates: covariateNames,
    beta_v: coef(10, 0.3), beta_alpha: coef(11, 0.004), beta_sc: coef(12, 0.06), beta_r: coef(13, 0.5),
    xi_y: { 'north-1': 0.3, 'east-1': -0.2, 'south-1': 0.1 }, xi_w: { 'north-1': -0.05, 'south-1': 0.08 },
  };
  const data: SharingData = {
    marketNames, market,
    price: Float64Array.from(market, (m) => price[m]), marginalCost: Float64Array.from(market, (m) => cost[m]),
    assignment: new Uint8Array(n), shared: new Uint8Array(n), purchased: new Uint8Array(n), referrals: new Float64Array(n),
    covariateNames, covariates,
  };
  return { data, params };
}

