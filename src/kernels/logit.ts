// Batch logit primitives (SPEC §1.1): wasm wrapper and its plain-TypeScript reference.
import { getDefaultEngine, planShards, type Engine } from '../parallel/engine.js';
import { logistic, softplus } from './math.js';
import { commonLength, requireFinite, requireFiniteScalar } from './validate.js';

export interface LogitBatchInput {
  /** v_i, baseline utility (market shock included). */
  baselineUtility: ArrayLike<number>;
  /** α_i, price sensitivity. */
  priceSensitivity: ArrayLike<number>;
  /** SC_i, sharing cost (market shock included). */
  shareCost: ArrayLike<number>;
  /** Post-discount price offered to customer i. */
  price: ArrayLike<number>;
  /** σ, precision of the sharing error relative to the purchase error. */
  sigma: number;
  /** s: 1 broadcasting (share to unlock), 0 traditional. */
  broadcast: 0 | 1;
}

export interface LogitBatchOutput {
  /** D_i(p) = Λ(u) */
  demand: Float64Array;
  /** EU_i(p) = softplus(u) */
  continuationValue: Float64Array;
  /** S_i(p, s) = Λ(σ(−SC + s·EU)) */
  shareProbability: Float64Array;
  /** ∂D/∂p = −α D (1 − D) */
  demandSlope: Float64Array;
  /** ∂S/∂p = σ S (1 − S) s (−α D) */
  shareSlope: Float64Array;
}

function validate(input: LogitBatchInput): number {
  const n = commonLength({
    baselineUtility: input.baselineUtility,
    priceSensitivity: input.priceSensitivity,
    shareCost: input.shareCost,
    price: input.price,
  });
  requireFinite('baselineUtility', input.baselineUtility);
  requireFinite('priceSensitivity', input.priceSensitivity);
  requireFinite('shareCost', input.shareCost);
  requireFinite('price', input.price);
  requireFiniteScalar('sigma', input.sigma);
  if (input.broadcast !== 0 && input.broadcast !== 1) requireFiniteScalar('broadcast (0 or 1)', NaN);
  return n;
}

/** Logit primitives for every customer at its price, in the kernels, sharded over the engine's threads. */
export function logitDemand(input: LogitBatchInput, engine: Engine = getDefaultEngine()): Promise<LogitBatchOutput> {
  const n = validate(input);
  return engine.exclusive(async (arena) => {
    const v = arena.copyF64(input.baselineUtility);
    const alpha = arena.copyF64(input.priceSensitivity);
    const sc = arena.copyF64(input.shareCost);
    const price = arena.copyF64(input.price);
    const outs = [0, 1, 2, 3, 4].map(() => arena.f64(n));
    // the results, copied out shard by shard by the thread that computed the shard
    const buffer = new SharedArrayBuffer(40 * n);
    const results = outs.map((_, k) => new Float64Array(buffer, 8 * n * k, n));
    await engine.forShards('logitDemand', planShards(n), ({ start, end }) => {
      const o = start * 8;
      return [v.ptr + o, alpha.ptr + o, sc.ptr + o, price.ptr + o, end - start, input.sigma, input.broadcast, ...outs.map((b) => b.ptr + o)];
    }, n, outs.map((b, k) => ({ from: b.ptr, to: results[k] })));
    const [demand, continuationValue, shareProbability, demandSlope, shareSlope] = results;
    return { demand, continuationValue, shareProbability, demandSlope, shareSlope };
  });
}

export function logitDemandReference(input: LogitBatchInput): LogitBatchOutput {
  const n = validate(input);
  const out: LogitBatchOutput = {
    demand: new Float64Array(n),
    continuationValue: new Float64Array(n),
    shareProbability: new Float64Array(n),
    demandSlope: new Float64Array(n),
    shareSlope: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    const alpha = input.priceSensitivity[i];
    const u = input.baselineUtility[i] - alpha * input.price[i];
    const d = logistic(u);
    const eu = softplus(u);
    const z = input.sigma * (input.broadcast * eu - input.shareCost[i]);
    const s = logistic(z);
    out.demand[i] = d;
    out.continuationValue[i] = eu;
    out.shareProbability[i] = s;
    // 1 − Λ(u) = Λ(−u), computed directly to keep relative accuracy in the tails.
    out.demandSlope[i] = -alpha * d * logistic(-u);
    out.shareSlope[i] = input.sigma * s * logistic(-z) * input.broadcast * (-alpha * d);
  }
  return out;
}

/** r_i = exp(η_i) for each linear index, in the kernels (vectorized exp). */
export function expectedReferrals(linearIndex: ArrayLike<number>, engine: Engine = getDefaultEngine()): Promise<Float64Array> {
  requireFinite('referral linear index', linearIndex);
  const n = linearIndex.length;
  return engine.exclusive(async (arena) => {
    const x = arena.copyF64(linearIndex);
    const out = arena.f64(n);
    await engine.forShards('expArray', planShards(n), ({ start, end }) => [x.ptr + start * 8, end - start, out.ptr + start * 8], n);
    return arena.viewF64(out).slice();
  });
}

export function expectedReferralsReference(linearIndex: ArrayLike<number>): Float64Array {
  return Float64Array.from(linearIndex, (x) => Math.exp(x));
}
