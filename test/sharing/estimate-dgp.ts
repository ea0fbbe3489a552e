// A small share-then-purchase experiment drawn straight from SPEC §1.1's data-generating process
// (independent of the simulator): few covariates, random market shocks, fast to estimate.
import { CounterRng, streamId } from '../../src/random.js';
import { logistic, softplus } from '../../src/kernels/math.js';
import type { SharingData } from '../../src/sharing/data.js';
import type { SharingParameters } from '../../src/sharing/model.js';

export interface SmallDesign {
  prices: number[];
  costs: number[];
  perMarket: number;
  seed: number;
  params: SharingParameters;
  /** Market shock standard deviations (default y 0.2, w 0.02). */
  shockSd?: { y: number; w: number };
}

export const SMALL_PARAMETERS: SharingParameters = {
  vbar: 1.0, abar: 0.025, scbar: 0.3, sigma: 12, r0: -1.5, L: 100,
  covariates: ['x1', 'x2'],
  beta_v: [0.3, -0.2], beta_alpha: [0.002, -0.001], beta_sc: [0.05, -0.03], beta_r: [0.3, -0.2],
  xi_y: {}, xi_w: {},
};

/** Markets m = 0..M−1 with prices[m], costs[m]; covariates N(0, 1); returns the data and the truth with its shocks. */
export function smallExperiment(design: SmallDesign): { data: SharingData; truth: SharingParameters } {
  const { prices, costs, perMarket, seed, params } = design;
  const M = prices.length, n = M * perMarket, K = params.covariates.length;
  const sd = design.shockSd ?? { y: 0.2, w: 0.02 };
  const truth: SharingParameters = { ...params, xi_y: {}, xi_w: {} };
  const marketNames = prices.map((_, m) => `m${m}`);
  const shockStream = streamId('test.shocks');
  marketNames.forEach((name, m) => {
    const rng = new CounterRng(seed, shockStream, m);
    truth.xi_y[name] = sd.y * rng.normal();
    truth.xi_w[name] = sd.w * rng.normal();
  });
  const data: SharingData = {
    marketNames, market: new Int32Array(n), price: new Float64Array(n), marginalCost: new Float64Array(n),
    assignment: new Uint8Array(n), shared: new Uint8Array(n), purchased: new Uint8Array(n), referrals: new Float64Array(n),
    covariateNames: [...params.covariates], covariates: Array.from({ length: K }, () => new Float64Array(n)),
  };
  const stream = streamId('test.customers');
  for (let i = 0; i < n; i++) {
    const m = Math.floor(i / perMarket);
    const rng = new CounterRng(seed, stream, i);
    let xv = 0, xa = 0, xs = 0, xr = 0;
    for (let j = 0; j < K; j++) {
      const x = rng.normal();
      data.covariates[j][i] = x;
      xv += x * params.beta_v[j]; xa += x * params.beta_alpha[j]; xs += x * params.beta_sc[j]; xr += x * params.beta_r[j];
    }
    const u = params.vbar + xv + truth.xi_y[marketNames[m]] - (params.abar + xa) * prices[m];
    const sc = params.scbar + xs + truth.xi_w[marketNames[m]];
    const s = rng.bernoulli(0.5);
    const w = rng.bernoulli(logistic(params.sigma * (-sc + s * softplus(u))));
    const y = s === 0 || w === 1 ? rng.bernoulli(logistic(u)) : 0;
    data.market[i] = m; data.price[i] = prices[m]; data.marginalCost[i] = costs[m];
    data.assignment[i] = s; data.shared[i] = w; data.purchased[i] = y;
    data.referrals[i] = w ? rng.poisson(Math.exp(params.r0 + xr)) : 0;
  }
  return { data, truth };
}

/** A design of `M` markets cycling over five price groups, costs rising with price plus noise. */
export function smallDesign(M: number, perMarket: number, seed: number, params = SMALL_PARAMETERS): SmallDesign {
  const groups = [59, 69, 79, 88, 98];
  const prices = Array.from({ length: M }, (_, m) => groups[m % groups.length]);
  const costs = prices.map((p, m) => Math.round(10 * (0.8 * p + 4 * new CounterRng(seed, streamId('test.costs'), m).normal())) / 10);
  return { prices, costs, perMarket, seed, params };
}
