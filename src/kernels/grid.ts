// Per-customer price-grid search (SPEC §1.3): wasm wrapper and plain-TypeScript reference.
import { badInput } from '../errors.js';
import { getDefaultEngine, planShards, type Engine, type Shard } from '../parallel/engine.js';
import type { Arena, Block } from './runtime.js';
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
   * With `groupStarts`: find each group's best uniform price for Σ_iΠ_i(p,0), Σ_iΠ_i(p,1) and
   * Σ_i max_s Π_i(p,s) exactly (the totals are screened in single precision, then computed in
   * double precision at the prices that can still win). Much cheaper than `totals`.
   */
  uniform?: boolean;
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

/** A group's best uniform price (index into prices) and the exact total profit there. */
export interface UniformChoice {
  index: number;
  total: number;
}

export interface UniformBest {
  traditional: UniformChoice;
  broadcasting: UniformChoice;
  personalizedRequirement: UniformChoice;
  /** Prices (indices) at which the exact totals were computed. */
  candidates: number[];
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
  /** Per group, when `uniform` was asked for. */
  uniform?: UniformBest[];
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
    if (options.uniform && !screened && !options.totals) options = { ...options, totals: true };
    let totals: Block | undefined;
    let uniform: UniformBest[] | undefined;
    if (screened) {
      // Both copies of the grid padded to a multiple of 4 with the last price (never a strict winner).
      const m4 = Math.ceil(nPrices / 4) * 4;
      const grid = Array.from({ length: m4 }, (_, j) => options.prices[Math.min(j, nPrices - 1)]);
      const prices = arena.copyF64(grid);
      const prices32 = arena.i32(m4);
      new Float32Array(arena.runtime.memory.buffer, prices32.ptr, m4).set(grid);
      const maxAbsPrice = Math.max(...grid.map(Math.abs));
      const scratch = arena.f64(shards.length * m4); // 8 bytes per price per shard: two f32 profit rows
      const screenRow = 3 * m4 + 4;
      const screenTotals = options.uniform ? arena.f64(shards.length * screenRow) : undefined;
      if (screenTotals) arena.viewF64(screenTotals).fill(0);
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
          gapsPtr, swizzlePtr, screenTotals ? screenTotals.ptr + k * screenRow * 8 : 0,
        ];
      }, n * nPrices);
      if (screenTotals) {
        uniform = await exactUniformBest(engine, arena, arena.viewF64(screenTotals), screenRow, m4, shards, groupStarts, options,
          { v, alpha, sc, r, mc });
      }
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
    if (options.uniform) result.uniform = uniform ?? groupStarts.map((_, g) => uniformFromTotals(result.totals![g], nPrices));
    return result;
  });
}

const TOTAL_ROWS = ['traditional', 'broadcasting', 'personalizedRequirement'] as const;

/** The best uniform price of each row of exact totals (first maximum). */
function uniformFromTotals(totals: PriceTotals, nPrices: number): UniformBest {
  const choose = (row: Float64Array): UniformChoice => {
    let index = 0;
    for (let j = 1; j < nPrices; j++) if (row[j] > row[index]) index = j;
    return { index, total: row[index] };
  };
  return {
    traditional: choose(totals.traditional), broadcasting: choose(totals.broadcasting),
    personalizedRequirement: choose(totals.personalizedRequirement), candidates: Array.from({ length: nPrices }, (_, j) => j),
  };
}

/**
 * From the screened totals of every shard: per group, the prices whose exact total can still be
 * the best (screened total within twice the summed error bounds, plus the f64 summation error,
 * of the best screened total), their exact totals (priceTotalsAt, same shards and order as the
 * exhaustive kernel), and the first maximum among them — which is the exhaustive kernel's.
 */
async function exactUniformBest(
  engine: Engine, arena: Arena, screened: Float64Array, screenRow: number, m4: number, shards: readonly Shard[],
  groupStarts: readonly number[], options: GridOptions, columns: Record<'v' | 'alpha' | 'sc' | 'r' | 'mc', Block>,
): Promise<UniformBest[]> {
  const nPrices = options.prices.length;
  const groupOf = shardGroups(shards, groupStarts);
  const sums = groupStarts.map(() => new Float64Array(screenRow));
  shards.forEach((_, k) => {
    const row = sums[groupOf[k]];
    for (let j = 0; j < screenRow; j++) row[j] += screened[k * screenRow + j];
  });
  const candidateLists = sums.map((row, g) => {
    const customers = (groupStarts[g + 1] ?? shards[shards.length - 1].end) - groupStarts[g];
    const summation = 4 * customers * Number.EPSILON * row[3 * m4 + 3];
    const keep = new Set<number>();
    TOTAL_ROWS.forEach((_, t) => {
      const totals = row.subarray(t * m4, t * m4 + nPrices);
      const best = Math.max(...totals);
      const slack = 2 * row[3 * m4 + t] + summation;
      for (let j = 0; j < nPrices; j++) if (!(totals[j] < best - slack)) keep.add(j);
    });
    return [...keep].sort((a, b) => a - b);
  });
  // Exact totals at each group's candidates, padded to an even count by repeating the last.
  const width = Math.max(...candidateLists.map((c) => c.length + (c.length % 2)));
  const candidatePrices = arena.f64(groupStarts.length * width);
  const priceView = arena.viewF64(candidatePrices);
  candidateLists.forEach((list, g) => {
    for (let c = 0; c < width; c++) priceView[g * width + c] = options.prices[list[Math.min(c, list.length - 1)]];
  });
  const exact = arena.f64(shards.length * 3 * width);
  arena.viewF64(exact).fill(0);
  await engine.forShards('priceTotalsAt', shards, ({ start, end }, k) => {
    const o8 = start * 8;
    const g = groupOf[k];
    const count = candidateLists[g].length + (candidateLists[g].length % 2);
    return [
      columns.v.ptr + o8, columns.alpha.ptr + o8, columns.sc.ptr + o8, columns.r.ptr + o8, columns.mc.ptr + o8, end - start,
      candidatePrices.ptr + g * width * 8, count, options.sigma, options.leadValue, exact.ptr + k * 3 * width * 8,
    ];
  }, shards.reduce((sum, s, k) => sum + (s.end - s.start) * candidateLists[groupOf[k]].length, 0));
  const exactView = arena.viewF64(exact);
  const totals = groupStarts.map(() => new Float64Array(3 * width));
  shards.forEach((_, k) => {
    const row = totals[groupOf[k]];
    for (let j = 0; j < 3 * width; j++) row[j] += exactView[k * 3 * width + j];
  });
  return candidateLists.map((list, g) => {
    const stride = list.length + (list.length % 2); // the kernel's row length for this group
    const choose = (t: number): UniformChoice => {
      let bestC = 0;
      for (let c = 1; c < list.length; c++) if (totals[g][t * stride + c] > totals[g][t * stride + bestC]) bestC = c;
      return { index: list[bestC], total: totals[g][t * stride + bestC] };
    };
    return { traditional: choose(0), broadcasting: choose(1), personalizedRequirement: choose(2), candidates: list };
  });
}

/** The group of each shard (shards never straddle a group start). */
function shardGroups(shards: readonly Shard[], groupStarts: readonly number[]): number[] {
  let g = 0;
  return shards.map((shard) => {
    while (g + 1 < groupStarts.length && shard.start >= groupStarts[g + 1]) g++;
    return g;
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
