// Per-customer price-grid search (SPEC §1.3): wasm wrapper and plain-TypeScript reference.
import { badInput } from '../errors.js';
import { getDefaultEngine, planShards, type Engine } from '../parallel/engine.js';
import type { Block } from './runtime.js';
import { logistic, softplus } from './math.js';
import { commonLength, requireFinite, requireFiniteScalar } from './validate.js';

/** The slides' regular retail price of the promoted product (CNY). */
export const REGULAR_PRICE = 188;

/** Feasible post-discount prices: integers 0..regularPrice whose last digit is 5, 8 or 9. */
export function feasiblePrices(regularPrice = REGULAR_PRICE, lastDigits: readonly number[] = [5, 8, 9]): number[] {
  if (!Number.isInteger(regularPrice) || regularPrice < 0) throw badInput(`regular price must be a non-negative integer, got ${regularPrice}`);
  const prices: number[] = [];
  for (let p = 0; p <= regularPrice; p++) if (lastDigits.includes(p % 10)) prices.push(p);
  if (prices.length === 0) throw badInput(`no feasible price at or below the regular price ${regularPrice}`);
  return prices;
}

/** Customers as struct-of-arrays; every array has one entry per customer. */
export interface GridCustomers {
  baselineUtility: ArrayLike<number>;
  priceSensitivity: ArrayLike<number>;
  shareCost: ArrayLike<number>;
  /** r_i, expected referrals when the customer shares. */
  expectedReferrals: ArrayLike<number>;
  /** MC of the customer's market. */
  marginalCost: ArrayLike<number>;
}

export interface GridOptions {
  /** Candidate prices, ascending (ties in profit go to the lower price). */
  prices: readonly number[];
  sigma: number;
  /** L, the value of one referred lead. */
  leadValue: number;
  /**
   * Index of the first customer of each group (market); customers of a group are contiguous.
   * With `totals`, per-price profit totals are returned per group.
   */
  groupStarts?: readonly number[];
  totals?: boolean;
  /**
   * Evaluate every price in double precision instead of screening in single precision first.
   * Both give the same result bit for bit; screening is about 3× faster. Totals always use it.
   */
  exhaustive?: boolean;
}

/** Σ_i Π_i(p, 0), Σ_i Π_i(p, 1) and Σ_i max_s Π_i(p, s) at each grid price, for one group. */
export interface PriceTotals {
  traditional: Float64Array;
  broadcasting: Float64Array;
  personalizedRequirement: Float64Array;
}

export interface GridResult {
  /** Index into `prices` of each customer's best price with s = 0, and its profit. */
  bestIndexNS: Int32Array;
  bestProfitNS: Float64Array;
  /** The same with s = 1 (broadcasting requirement). */
  bestIndexS: Int32Array;
  bestProfitS: Float64Array;
  /** Per group, when `totals` was asked for. */
  totals?: PriceTotals[];
}

function validate(customers: GridCustomers, options: GridOptions): { n: number; groupStarts: number[] } {
  const n = commonLength({
    baselineUtility: customers.baselineUtility,
    priceSensitivity: customers.priceSensitivity,
    shareCost: customers.shareCost,
    expectedReferrals: customers.expectedReferrals,
    marginalCost: customers.marginalCost,
  });
  requireFinite('baselineUtility', customers.baselineUtility);
  requireFinite('priceSensitivity', customers.priceSensitivity);
  requireFinite('shareCost', customers.shareCost);
  requireFinite('expectedReferrals', customers.expectedReferrals);
  requireFinite('marginalCost', customers.marginalCost);
  requireFiniteScalar('sigma', options.sigma);
  requireFiniteScalar('leadValue', options.leadValue);
  const { prices } = options;
  if (prices.length === 0) throw badInput('the price grid is empty');
  requireFinite('prices', prices);
  for (let j = 1; j < prices.length; j++) {
    if (!(prices[j] > prices[j - 1])) throw badInput(`prices must be strictly ascending: prices[${j}] = ${prices[j]} after ${prices[j - 1]}`);
  }
  const groupStarts = [...(options.groupStarts ?? [0])];
  if (groupStarts[0] !== 0) throw badInput('groupStarts must begin with 0');
  for (let g = 1; g < groupStarts.length; g++) {
    const s = groupStarts[g];
    if (!Number.isInteger(s) || s <= groupStarts[g - 1] || s > n) throw badInput(`groupStarts[${g}] = ${s} is not an ascending customer index within 0..${n}`);
  }
  return { n, groupStarts };
}

/** Best price with and without the broadcasting requirement for every customer, in the kernels. */
export function priceGridSearch(customers: GridCustomers, options: GridOptions, engine: Engine = getDefaultEngine()): Promise<GridResult> {
  const { n, groupStarts } = validate(customers, options);
  const nPrices = options.prices.length;
  // The kernel steps through prices two at a time: repeat the last price, which never wins a strict comparison.
  const padded = nPrices % 2 === 0 ? [...options.prices] : [...options.prices, options.prices[nPrices - 1]];
  const m = padded.length;
  return engine.exclusive(async (arena) => {
    const v = arena.copyF64(customers.baselineUtility);
    const alpha = arena.copyF64(customers.priceSensitivity);
    const sc = arena.copyF64(customers.shareCost);
    const r = arena.copyF64(customers.expectedReferrals);
    const mc = arena.copyF64(customers.marginalCost);
    const idxNS = arena.i32(n), profitNS = arena.f64(n), idxS = arena.i32(n), profitS = arena.f64(n);
    const shards = planShards(n, undefined, groupStarts);
    const screened = !options.totals && !options.exhaustive;
    let totals: Block | undefined;
    if (screened) {
      // Both copies of the grid padded to a multiple of 4 with the last price (never a strict winner).
      const m4 = Math.ceil(nPrices / 4) * 4;
      const grid = Array.from({ length: m4 }, (_, j) => options.prices[Math.min(j, nPrices - 1)]);
      const prices = arena.copyF64(grid);
      const prices32 = arena.i32(m4);
      new Float32Array(arena.runtime.memory.buffer, prices32.ptr, m4).set(grid);
      const maxAbsPrice = Math.max(...grid.map(Math.abs));
      const scratch = arena.f64(shards.length * m4); // 8 bytes per price per shard: two f32 profit rows
      const plan = recurrencePlan(grid);
      let gapsPtr = 0, swizzlePtr = 0;
      if (plan) {
        const gaps = arena.copyF64(plan.gaps);
        const swizzle = arena.i32(plan.swizzle.length / 4);
        new Uint8Array(arena.runtime.memory.buffer, swizzle.ptr, plan.swizzle.length).set(plan.swizzle);
        gapsPtr = gaps.ptr;
        swizzlePtr = swizzle.ptr;
      }
      await engine.forShards('priceGridSearchScreened', shards, ({ start, end }, k) => {
        const o8 = start * 8, o4 = start * 4;
        return [
          v.ptr + o8, alpha.ptr + o8, sc.ptr + o8, r.ptr + o8, mc.ptr + o8, end - start,
          prices.ptr, prices32.ptr, m4, maxAbsPrice, options.sigma, options.leadValue,
          idxNS.ptr + o4, profitNS.ptr + o8, idxS.ptr + o4, profitS.ptr + o8, scratch.ptr + k * m4 * 8,
          gapsPtr, swizzlePtr,
        ];
      }, n * nPrices);
    } else {
      const prices = arena.copyF64(padded);
      totals = options.totals ? arena.f64(shards.length * 3 * m) : undefined;
      if (totals) arena.viewF64(totals).fill(0);
      await engine.forShards('priceGridSearch', shards, ({ start, end }, k) => {
        const o8 = start * 8, o4 = start * 4;
        return [
          v.ptr + o8, alpha.ptr + o8, sc.ptr + o8, r.ptr + o8, mc.ptr + o8, end - start,
          prices.ptr, m, options.sigma, options.leadValue,
          idxNS.ptr + o4, profitNS.ptr + o8, idxS.ptr + o4, profitS.ptr + o8,
          totals ? totals.ptr + k * 3 * m * 8 : 0,
        ];
      }, n * m);
    }
    const result: GridResult = {
      bestIndexNS: clampIndex(arena.viewI32(idxNS).slice(), nPrices),
      bestProfitNS: arena.viewF64(profitNS).slice(),
      bestIndexS: clampIndex(arena.viewI32(idxS).slice(), nPrices),
      bestProfitS: arena.viewF64(profitS).slice(),
    };
    if (totals) result.totals = reduceTotals(arena.viewF64(totals), shards, groupStarts, m, nPrices);
    return result;
  });
}

/**
 * For the screen's multiplicative recurrence: the distinct gaps p_{j+4} − p_j between a step's
 * prices and the next step's (at most four, as f64, zero-padded) and, per step, the byte indices
 * that pick each lane's gap factor out of a vector of four f32. Undefined when there are more than
 * four distinct gaps (the screen then calls exp at every price).
 */
export function recurrencePlan(grid: readonly number[]): { gaps: number[]; swizzle: Uint8Array } | undefined {
  const steps = grid.length / 4;
  const gaps: number[] = [];
  const swizzle = new Uint8Array(steps * 16);
  for (let k = 0; k + 1 < steps; k++) {
    for (let lane = 0; lane < 4; lane++) {
      const gap = grid[4 * k + 4 + lane] - grid[4 * k + lane];
      let g = gaps.indexOf(gap);
      if (g < 0) {
        if (gaps.length === 4) return undefined;
        gaps.push(gap);
        g = gaps.length - 1;
      }
      for (let b = 0; b < 4; b++) swizzle[16 * k + 4 * lane + b] = 4 * g + b;
    }
  }
  while (gaps.length < 4) gaps.push(0);
  return { gaps, swizzle };
}

function clampIndex(idx: Int32Array, nPrices: number): Int32Array {
  for (let i = 0; i < idx.length; i++) if (idx[i] >= nPrices) idx[i] = nPrices - 1;
  return idx;
}

/** Sums shard partials into group totals, in shard order (deterministic for any thread count). */
function reduceTotals(partials: Float64Array, shards: readonly { start: number }[], groupStarts: readonly number[], m: number, nPrices: number): PriceTotals[] {
  const groups = groupStarts.map(() => ({
    traditional: new Float64Array(nPrices),
    broadcasting: new Float64Array(nPrices),
    personalizedRequirement: new Float64Array(nPrices),
  }));
  let g = 0;
  shards.forEach((shard, k) => {
    while (g + 1 < groupStarts.length && shard.start >= groupStarts[g + 1]) g++;
    const base = k * 3 * m;
    for (let j = 0; j < nPrices; j++) {
      groups[g].traditional[j] += partials[base + j];
      groups[g].broadcasting[j] += partials[base + m + j];
      groups[g].personalizedRequirement[j] += partials[base + 2 * m + j];
    }
  });
  return groups;
}

/** Plain-TypeScript exhaustive search with Math.exp / Math.log1p: the kernel's reference. */
export function priceGridSearchReference(customers: GridCustomers, options: GridOptions): GridResult {
  const { n, groupStarts } = validate(customers, options);
  const { prices, sigma, leadValue } = options;
  const nPrices = prices.length;
  const result: GridResult = {
    bestIndexNS: new Int32Array(n),
    bestProfitNS: new Float64Array(n),
    bestIndexS: new Int32Array(n),
    bestProfitS: new Float64Array(n),
  };
  const totals = options.totals
    ? groupStarts.map(() => ({ traditional: new Float64Array(nPrices), broadcasting: new Float64Array(nPrices), personalizedRequirement: new Float64Array(nPrices) }))
    : undefined;
  let g = 0;
  for (let i = 0; i < n; i++) {
    while (g + 1 < groupStarts.length && i >= groupStarts[g + 1]) g++;
    const v = customers.baselineUtility[i], alpha = customers.priceSensitivity[i], sc = customers.shareCost[i];
    const leadProfit = customers.expectedReferrals[i] * leadValue, mc = customers.marginalCost[i];
    let bestNS = -Infinity, bestS = -Infinity, idxNS = 0, idxS = 0;
    for (let j = 0; j < nPrices; j++) {
      const p = prices[j];
      const u = v - alpha * p;
      const profitNS = logistic(u) * (p - mc);
      const profitS = logistic(sigma * (softplus(u) - sc)) * (profitNS + leadProfit);
      if (profitNS > bestNS) { bestNS = profitNS; idxNS = j; }
      if (profitS > bestS) { bestS = profitS; idxS = j; }
      if (totals) {
        totals[g].traditional[j] += profitNS;
        totals[g].broadcasting[j] += profitS;
        totals[g].personalizedRequirement[j] += Math.max(profitNS, profitS);
      }
    }
    result.bestIndexNS[i] = idxNS; result.bestProfitNS[i] = bestNS;
    result.bestIndexS[i] = idxS; result.bestProfitS[i] = bestS;
  }
  if (totals) result.totals = totals;
  return result;
}
