// Daily coupon allocation under a promotional budget (SPEC §2, paper §1.1 and §2.3).
//
// Customer i with spend s_i buys with probability q_i(d) = Λ(f_i + g_i (d − d0)) when offered
// discount d. For a shadow price λ every customer gets d_i(λ) = argmax_d q_i(d)(1 − λ d), ties to
// the smaller discount, and the expected discount redeemed is B(λ) = Σ_i q_i(d_i) d_i s_i.
// Given a budget we use the smallest λ ≥ 1 with B(λ) ≤ budget (λ = 1 when B(1) ≤ budget).
//
// B is a step function of λ. Each customer's options are lines q_j − λ q_j d_j; as λ grows the
// optimum moves to lines of smaller slope q_j d_j, so every customer's expected discount is weakly
// decreasing in λ for any sign of g (the paper's Proposition 2.1 assumes g ≥ 0; the envelope
// argument does not need it), and B(λ), summed in a fixed order, is weakly decreasing too
// because floating-point addition is monotone. At a breakpoint the tie goes to the smaller
// discount: when the customer moves to a smaller discount (always, if g ≥ 0) the value at the
// breakpoint is the one above it, so B is right-continuous there and the smallest λ with
// B(λ) ≤ budget is the breakpoint itself. When it moves to a larger discount (possible only for
// g < 0, beyond λ = 1/d of the smaller discount, where both options lose money and the one with
// the smaller expected discount q d wins) the value at the breakpoint is the one below it, and the answer
// is the next double above the breakpoint. In both cases: B(λ*) ≤ budget < B(previous double).
//
// The exact method never sorts all breakpoints. A kernel pass histograms every customer's
// breakpoints (bins on the bits of λ) and evaluates λ = 1 and λ → ∞; the bin where the
// cumulative drop reaches B(1) − budget is refined by further passes until it holds few enough
// breakpoints to collect (at 20M customers: one histogram pass, one collect pass). The first
// histogram pass also keeps every customer's breakpoints as f32 ("slots"), so the collect pass
// walks only the customers with a breakpoint near its bin and reads everybody else's option from
// the slots (an f32 value decides a side only when it lies clear of the bin by its rounding). The
// collect pass also evaluates everybody at the bin's lower end; the collected breakpoints locate λ, and
// the choice is confirmed with B computed directly — sums per block of 256 customers, in
// customer order, then over blocks in order, so the same for any thread count — recomputing
// only the blocks of customers with a breakpoint in between: B(λ*) ≤ budget < B(the double
// below λ*). "Exact" is relative to the breakpoints as computed in floating point: every pass
// walks the same envelope with the same arithmetic, so they agree bit for bit.
import { badInput, PromoptError } from '../errors.js';
import { getDefaultEngine, type Engine } from '../parallel/engine.js';
import {
  AllocationPasses, binBracket, couponResponseReference, coveringShift, directOptionReference, envelopeReference,
  KEY_INFINITY, lambdaKey, lambdaOfKey, nextLambda, optionAtReference, previousLambda, RECORD_FIELDS, sumField,
  T_DISCOUNT, T_LIMIT, T_REVENUE, TOTALS_HEAD, type Bracket, type CustomerEnvelope, type VertexHistogram,
} from '../kernels/allocation.js';
import { commonLength, requireFinite } from '../kernels/validate.js';

/** The paper's coupon values. */
export const DEFAULT_DISCOUNTS: readonly number[] = [0.10, 0.12, 0.15, 0.17, 0.20];
/** The nominal discount d0 at which f was fit. */
export const DEFAULT_NOMINAL = 0.10;
/** Relative tolerance on λ of the bisection method. */
export const DEFAULT_BISECTION_TOLERANCE = 1e-9;
const MAX_DISCOUNTS = 64;

export interface AllocationInput {
  /** f_i: purchase log-odds at the nominal discount. */
  f: ArrayLike<number>;
  /** g_i: coupon sensitivity (log-odds per unit of discount). */
  g: ArrayLike<number>;
  /** Pre-discount spend on purchase (default 1 for everyone). */
  spend?: ArrayLike<number>;
}

/** Knobs that change how the exact search runs, never its answer (tests use small values). */
export interface AllocationTuning {
  /** Customers per shard (default 2^18; a multiple of the block size). */
  shardSize?: number;
  /** Customers per block of partial sums (default 2^8; a power of two). Sums are over blocks in order. */
  blockSize?: number;
  /** Histogram bins per pass (default 2^14). */
  histogramBins?: number;
  /** Breakpoints collected at most before refining further (default max(2^16, n/64)). */
  collectCapacity?: number;
}

export interface AllocationOptions {
  /** Promotional budget: the largest expected discount redeemed, Σ q d spend. */
  budget: number;
  /** Offered discounts, ascending, each in (0, 1) (default 0.10, 0.12, 0.15, 0.17, 0.20). */
  discounts?: number[];
  /** Nominal discount d0 of the response model, in [0, 1) (default 0.10). */
  nominal?: number;
  /** 'exact' (default): breakpoints; 'bisection': the paper's search on λ, to `tolerance`. */
  method?: 'exact' | 'bisection';
  /** Relative tolerance on λ for 'bisection' (default 1e-9). */
  tolerance?: number;
  tuning?: AllocationTuning;
}

export interface AllocationResult {
  /** The shadow price used (1 when the budget does not bind). */
  lambda: number;
  /** Σ q (1 − d) spend. */
  expectedRevenue: number;
  /** Σ q d spend. */
  expectedDiscount: number;
  /** Customers per discount, keyed by the discount as a string (String(0.1) = "0.1"). */
  distribution: Record<string, number>;
  /** Each customer's discount as an index into `discounts`. */
  discountIndex: Int32Array;
  discounts: number[];
  method: 'exact' | 'bisection';
  /** False when B(1) ≤ budget. */
  budgetBinds: boolean;
  /** Kernel work in passes over all customers (a pass over some shards counts as that fraction). */
  passes: number;
}

interface ValidatedAllocation {
  n: number;
  budget: number;
  discounts: number[];
  nominal: number;
  method: 'exact' | 'bisection';
  tolerance: number;
}

/** Checks every input; throws a one-line BAD_INPUT error naming the field and index at fault. */
export function validateAllocation(input: AllocationInput, options: AllocationOptions): ValidatedAllocation {
  const arrays: Record<string, ArrayLike<number>> = { f: input.f, g: input.g };
  if (input.spend) arrays.spend = input.spend;
  const n = commonLength(arrays);
  requireFinite('f', input.f);
  requireFinite('g', input.g);
  if (input.spend) {
    requireFinite('spend', input.spend);
    for (let i = 0; i < n; i++) if (input.spend[i] < 0) throw badInput(`spend[${i}] is ${input.spend[i]}: spend must be non-negative`);
  }
  const { budget } = options;
  if (typeof budget !== 'number' || !Number.isFinite(budget) || budget < 0) throw badInput(`budget must be a finite non-negative number, got ${budget}`);
  const discounts = [...(options.discounts ?? DEFAULT_DISCOUNTS)];
  if (discounts.length === 0) throw badInput('discounts: at least one discount is needed');
  if (discounts.length > MAX_DISCOUNTS) throw badInput(`discounts: at most ${MAX_DISCOUNTS} discounts, got ${discounts.length}`);
  discounts.forEach((d, j) => {
    if (typeof d !== 'number' || !Number.isFinite(d) || d <= 0 || d >= 1) {
      throw badInput(`discounts[${j}] is ${d}: discounts are fractions in (0, 1)${d >= 1 && d < 100 ? ` (write ${d / 100} for ${d}%)` : ''}`);
    }
    if (j > 0 && !(d > discounts[j - 1])) throw badInput(`discounts must be strictly ascending: ${d} follows ${discounts[j - 1]}`);
  });
  const nominal = options.nominal ?? DEFAULT_NOMINAL;
  if (typeof nominal !== 'number' || !Number.isFinite(nominal) || nominal < 0 || nominal >= 1) {
    throw badInput(`nominal discount must be a fraction in [0, 1), got ${nominal}`);
  }
  const method = options.method ?? 'exact';
  if (method !== 'exact' && method !== 'bisection') throw badInput(`method must be "exact" or "bisection", got "${method}"`);
  const tolerance = options.tolerance ?? DEFAULT_BISECTION_TOLERANCE;
  if (!Number.isFinite(tolerance) || tolerance <= 0 || tolerance >= 1) throw badInput(`tolerance must be in (0, 1), got ${tolerance}`);
  return { n, budget, discounts, nominal, method, tolerance };
}

function unmeetable(budget: number, minimum: number): PromoptError {
  return badInput(`budget ${budget} cannot be met: the smallest possible expected discount is ${minimum}`);
}

function distributionOf(discounts: readonly number[], counts: ArrayLike<number>): Record<string, number> {
  return Object.fromEntries(discounts.map((d, j) => [String(d), counts[j]]));
}

/** Sums block totals into a result (block order). */
function summarize(totals: Float64Array, k: number): { discount: number; revenue: number; counts: number[] } {
  const stride = TOTALS_HEAD + k;
  const counts = new Array<number>(k).fill(0);
  for (let at = 0; at < totals.length; at += stride) for (let j = 0; j < k; j++) counts[j] += totals[at + TOTALS_HEAD + j];
  return { discount: sumField(totals, T_DISCOUNT, stride), revenue: sumField(totals, T_REVENUE, stride), counts };
}

/**
 * The coupon each customer gets under the budget, with λ found exactly (default) or by the
 * paper's bisection; hot loops in the kernels, sharded over the engine's threads.
 */
export async function allocate(input: AllocationInput, options: AllocationOptions, engine: Engine = getDefaultEngine()): Promise<AllocationResult> {
  const v = validateAllocation(input, options);
  const tuning = options.tuning ?? {};
  return engine.exclusive(async (arena) => {
    const passes = new AllocationPasses(engine, arena, input, v.discounts, v.nominal, tuning.shardSize, tuning.blockSize);
    const found = v.method === 'exact' ? await exactSearch(passes, v.budget, tuning) : await bisectionSearch(passes, v.budget, v.tolerance);
    const { discount, revenue, counts } = summarize(found.totals, v.discounts.length);
    return {
      lambda: found.lambda,
      expectedRevenue: revenue,
      expectedDiscount: discount,
      distribution: distributionOf(v.discounts, counts),
      discountIndex: passes.assignment(),
      discounts: v.discounts,
      method: v.method,
      budgetBinds: found.binds,
      passes: found.passes,
    };
  });
}

export interface PolicyOptions {
  discounts?: number[];
  nominal?: number;
  /** 'envelope' (default): the exact method's policy; 'direct': argmax of q (1 − λ d) as the bisection evaluates it. */
  evaluation?: 'envelope' | 'direct';
  tuning?: AllocationTuning;
}

/**
 * Every customer's coupon at a given shadow price λ ≥ 1 (no budget), with the expected revenue
 * and discount: what the paper's employee gets by setting λ by hand.
 */
export async function policyAt(input: AllocationInput, lambda: number, options: PolicyOptions = {}, engine: Engine = getDefaultEngine()): Promise<AllocationResult> {
  const v = validateAllocation(input, { budget: 0, discounts: options.discounts, nominal: options.nominal });
  if (typeof lambda !== 'number' || Number.isNaN(lambda) || lambda < 1) throw badInput(`λ must be a number ≥ 1, got ${lambda}`);
  const evaluation = options.evaluation ?? 'envelope';
  const tuning = options.tuning ?? {};
  return engine.exclusive(async (arena) => {
    const passes = new AllocationPasses(engine, arena, input, v.discounts, v.nominal, tuning.shardSize, tuning.blockSize);
    const totals = evaluation === 'direct' || lambda === Infinity
      ? await passes.direct(lambda, lambda === Infinity, true)
      : await passes.policy(lambda);
    const { discount, revenue, counts } = summarize(totals, v.discounts.length);
    return {
      lambda, expectedRevenue: revenue, expectedDiscount: discount, distribution: distributionOf(v.discounts, counts),
      discountIndex: passes.assignment(), discounts: v.discounts, method: 'exact', budgetBinds: false, passes: 1,
    };
  });
}

interface SearchOutcome {
  lambda: number;
  /** Block totals at lambda; the pass memory holds the options at lambda. */
  totals: Float64Array;
  binds: boolean;
  passes: number;
}

// ---- the paper's bisection ---------------------------------------------------------------------

async function bisectionSearch(passes: AllocationPasses, budget: number, tolerance: number): Promise<SearchOutcome> {
  const stride = passes.totalsStride;
  let count = 0;
  const at = async (lambda: number) => {
    count++;
    const totals = await passes.direct(lambda, false, true);
    return { totals, discount: sumField(totals, T_DISCOUNT, stride) };
  };
  const atOne = await at(1);
  if (atOne.discount <= budget) return { lambda: 1, totals: atOne.totals, binds: false, passes: count };
  count++;
  const minimum = sumField(await passes.direct(Infinity, true, false), T_DISCOUNT, stride);
  if (minimum > budget) throw unmeetable(budget, minimum);
  // Raise λ until the budget is met, then bisect; `hi` always meets it.
  let lo = 1, hi = 2;
  let best = await at(hi);
  while (best.discount > budget) {
    lo = hi;
    hi *= 2;
    if (!Number.isFinite(hi)) throw new PromoptError('NOT_CONVERGED', `bisection: no finite λ meets budget ${budget}`);
    best = await at(hi);
  }
  let lastAt = hi;
  while (hi - lo > tolerance * hi) {
    const mid = lo + (hi - lo) / 2;
    if (mid <= lo || mid >= hi) break;
    const e = await at(mid);
    lastAt = mid;
    if (e.discount <= budget) { hi = mid; best = e; } else lo = mid;
  }
  if (lastAt !== hi) best = await at(hi); // the options in memory must be those at hi
  return { lambda: hi, totals: best.totals, binds: true, passes: count };
}

// ---- the exact search --------------------------------------------------------------------------

const DEFAULT_HISTOGRAM_BINS = 1 << 14;
/** Collect a bin's breakpoints once there are at most this many (or n/64, if more): beyond, refine it. */
const DEFAULT_COLLECT_CAPACITY = 1 << 16;
/** The first histogram spans λ in [1, 16) finely (every g ≥ 0 breakpoint lies in [1, 1/d_min]); its last bin takes the rest. */
const FIRST_SPAN_KEYS = 4n << 52n;

/** Breakpoints collected from a key range, in (shard, customer) order. */
interface Collected {
  range: { lo: bigint; hi: bigint };
  /** Drops of the breakpoints between the search start and the range (from the histograms). */
  below: number;
  lambda: Float64Array;
  dropAt: Float64Array;
  dropAbove: Float64Array;
  customer: Float64Array;
}

/** Splits records into columns, keeping their (shard, customer) order: every sum over them runs in that order. */
function splitRecords(records: Float64Array, range: { lo: bigint; hi: bigint }): Collected {
  const m = records.length / RECORD_FIELDS;
  const out: Collected = { range, below: 0, lambda: new Float64Array(m), dropAt: new Float64Array(m), dropAbove: new Float64Array(m), customer: new Float64Array(m) };
  for (let i = 0; i < m; i++) {
    const r = i * RECORD_FIELDS;
    out.lambda[i] = records[r];
    out.dropAt[i] = records[r + 1];
    out.dropAbove[i] = records[r + 2];
    out.customer[i] = records[r + 3];
  }
  return out;
}

/** Candidate λ above `from`: every breakpoint and the double just above it (B changes nowhere else). */
function searchPositions(collected: Collected, from: number): Float64Array {
  const values: number[] = [];
  for (const l of collected.lambda) {
    if (l > from) values.push(l);
    const above = nextLambda(l);
    if (above > from) values.push(above);
  }
  const sorted = Float64Array.from(values).sort();
  let u = 0;
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[u - 1]) sorted[u++] = sorted[i];
  return sorted.slice(0, u);
}

/**
 * Narrows [from, ∞) by histogram passes to a key range holding the λ where B, starting from
 * B(from) = start, falls to the budget, and collects the breakpoints there.
 */
async function narrowAndCollect(
  passes: AllocationPasses, from: number, start: number, budget: number, tuning: Required<AllocationTuning>, count: { passes: number }, upTo: number,
  initial?: VertexHistogram,
): Promise<{ collected: Collected; totals: Float64Array; at: number }> {
  const nBins = tuning.histogramBins;
  const need = start - budget;
  let lo = lambdaKey(from);
  let hi = upTo === Infinity ? KEY_INFINITY : lambdaKey(upTo) + 1n;
  let shift = lo === 0n && hi === KEY_INFINITY ? coveringShift(0n, FIRST_SPAN_KEYS, nBins) : coveringShift(lo, hi, nBins);
  let below = 0;
  let capacities: number[] | undefined;
  // A range small enough to collect outright (at most k − 1 breakpoints per customer).
  const everything = passes.n * Math.max(0, passes.k - 1);
  if (everything <= tuning.collectCapacity) capacities = passes.shards.map((s) => (s.end - s.start) * Math.max(0, passes.k - 1));
  while (!capacities) {
    const bracket: Bracket = { lo, hi, shift };
    let histogram = initial;
    initial = undefined;
    if (!histogram) {
      count.passes++;
      histogram = (await passes.histogram(bracket, nBins, false)).histogram;
    }
    const S = passes.shards.length;
    const weight = new Float64Array(nBins), total = new Int32Array(nBins);
    for (let s = 0; s < S; s++) {
      for (let b = 0; b < nBins; b++) {
        weight[b] += histogram.weights[s * nBins + b];
        total[b] += histogram.counts[s * nBins + b];
      }
    }
    let chosen = -1, cumulative = below, lastNonEmpty = -1;
    for (let b = 0; b < nBins; b++) {
      if (total[b] === 0) continue;
      lastNonEmpty = b;
      if (cumulative + weight[b] >= need) { chosen = b; break; }
      cumulative += weight[b];
    }
    if (chosen < 0) {
      // Rounding: the drops add up to slightly less than needed; the answer is at the end.
      if (lastNonEmpty < 0) throw new PromoptError('INTERNAL', `allocation: no breakpoint above λ = ${from} although B(${from}) = ${start} exceeds the budget ${budget}`);
      chosen = lastNonEmpty;
      cumulative -= weight[chosen];
    }
    below = cumulative;
    ({ lo, hi } = binBracket(bracket, chosen, nBins));
    shift = coveringShift(lo, hi, nBins);
    if (total[chosen] <= tuning.collectCapacity || hi - lo <= 1n) {
      capacities = [];
      for (let s = 0; s < S; s++) capacities.push(histogram.counts[s * nBins + chosen]);
    }
  }
  // The collect pass also evaluates everybody at the range's lower end: afterwards only customers
  // with a breakpoint between it and the answer need another look.
  count.passes++;
  const at = lambdaOfKey(lo);
  const { records, totals } = await passes.collect({ lo, hi }, capacities, true, at);
  const collected = splitRecords(records, { lo, hi });
  collected.below = below;
  return { collected, totals, at };
}

/**
 * B at the positions of `collected`, from B(from) = start minus the drops of the breakpoints
 * passed (at λ: drops at breakpoints ≤ λ, and drops above breakpoints < λ). Breakpoints at
 * `from` itself only contribute their drop above it (B(from) includes the rest).
 */
function estimatedDiscount(collected: Collected, from: number, start: number, lambda: number): number {
  let drop = collected.below;
  const { lambda: lam, dropAt, dropAbove } = collected;
  for (let r = 0; r < lam.length; r++) {
    if (lam[r] > lambda) continue;
    if (lam[r] < lambda) drop += lam[r] === from ? dropAbove[r] : dropAt[r] + dropAbove[r];
    else if (lam[r] !== from) drop += dropAt[r];
  }
  return start - drop;
}

async function exactSearch(passes: AllocationPasses, budget: number, tuningIn: AllocationTuning): Promise<SearchOutcome> {
  const tuning: Required<AllocationTuning> = {
    shardSize: tuningIn.shardSize ?? 0,
    blockSize: tuningIn.blockSize ?? 0,
    histogramBins: tuningIn.histogramBins ?? DEFAULT_HISTOGRAM_BINS,
    collectCapacity: tuningIn.collectCapacity ?? Math.max(DEFAULT_COLLECT_CAPACITY, Math.floor(passes.n / 64)),
  };
  if (!Number.isInteger(tuning.histogramBins) || tuning.histogramBins < 2) throw badInput(`tuning.histogramBins must be an integer ≥ 2`);
  if (!Number.isInteger(tuning.collectCapacity) || tuning.collectCapacity < 1) throw badInput(`tuning.collectCapacity must be a positive integer`);
  const count = { passes: 1 };
  // Pass 1: the options, totals and λ → ∞ totals at λ = 1 (and, when small, every breakpoint).
  const k1 = Math.max(0, passes.k - 1);
  const collectAll = passes.n * k1 <= tuning.collectCapacity;
  let first: Float64Array;
  let collectedAll: Collected | undefined;
  let firstHistogram: VertexHistogram | undefined;
  if (collectAll) {
    const full = { lo: 0n, hi: KEY_INFINITY };
    const { totals, records } = await passes.collect(full, passes.shards.map((s) => (s.end - s.start) * k1), true);
    first = totals;
    collectedAll = splitRecords(records, full);
  } else {
    // Later collect passes then walk only the customers with a breakpoint near their range.
    passes.enableSlots();
    // the first bracket narrowAndCollect uses when searching from λ = 1
    const { totals, histogram } = await passes.histogram({ lo: 0n, hi: KEY_INFINITY, shift: coveringShift(0n, FIRST_SPAN_KEYS, tuning.histogramBins) }, tuning.histogramBins, true);
    first = totals;
    firstHistogram = histogram;
  }
  const stride = passes.totalsStride;
  const atOne = sumField(first, T_DISCOUNT, stride);
  if (atOne <= budget) return { lambda: 1, totals: first, binds: false, passes: count.passes };
  const minimum = sumField(first, T_LIMIT, stride);
  if (minimum > budget) throw unmeetable(budget, minimum);

  // Block totals and the λ at which each block's options were last written.
  let totals = first;
  const evaluatedAt = new Float64Array(passes.blocks).fill(1);
  const evaluateAll = async (lambda: number) => {
    count.passes++;
    totals = await passes.policy(lambda);
    evaluatedAt.fill(lambda);
    return sumField(totals, T_DISCOUNT, stride);
  };
  const evaluateBlocks = async (lambda: number, blocks: readonly number[]) => {
    count.passes += blocks.length / passes.blocks;
    totals = await passes.policy(lambda, blocks);
    for (const b of blocks) evaluatedAt[b] = lambda;
    return sumField(totals, T_DISCOUNT, stride);
  };
  /**
   * B(λ) given each block's options at evaluatedAt[block]: a block must be re-evaluated only if
   * one of its customers has a breakpoint between its λ and the new one, which the collected
   * breakpoints tell when all those λ lie inside the collected range (else everybody is).
   */
  const moveTo = async (collected: Collected, lambda: number): Promise<number> => {
    let lo = lambda, hi = lambda;
    for (const e of evaluatedAt) { if (e < lo) lo = e; if (e > hi) hi = e; }
    if (lambdaKey(lo) < collected.range.lo || lambdaKey(hi) >= collected.range.hi) return evaluateAll(lambda);
    const blocks = new Set<number>();
    for (let r = 0; r < collected.lambda.length; r++) {
      const l = collected.lambda[r];
      if (l < lo || l > hi) continue;
      const block = passes.blockOf(collected.customer[r]);
      const e = evaluatedAt[block];
      if (Math.min(e, lambda) <= l && l <= Math.max(e, lambda) && e !== lambda) blocks.add(block);
    }
    if (blocks.size === 0) return sumField(totals, T_DISCOUNT, stride);
    return evaluateBlocks(lambda, [...blocks].sort((x, y) => x - y));
  };

  // Invariant: B(from) = start > budget, and B(upTo) ≤ budget (upTo = ∞: the λ → ∞ policy).
  let from = 1, start = atOne, upTo = Infinity;
  for (let round = 0; round < 64; round++) {
    let collected: Collected;
    if (round === 0 && collectedAll) collected = collectedAll;
    else {
      const narrowed = await narrowAndCollect(passes, from, start, budget, tuning, count, upTo, round === 0 ? firstHistogram : undefined);
      collected = narrowed.collected;
      totals = narrowed.totals;
      evaluatedAt.fill(narrowed.at);
    }
    const positions = searchPositions(collected, from).filter((p) => p <= upTo);
    if (positions.length === 0) throw new PromoptError('INTERNAL', `allocation: no breakpoint above λ = ${from} although B(${from}) = ${start} exceeds the budget ${budget}`);
    // First position whose estimated B meets the budget (the estimate is exact up to rounding).
    let lo = 0, hi = positions.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (estimatedDiscount(collected, from, start, positions[mid]) <= budget) hi = mid; else lo = mid + 1;
    }
    let m = lo;
    // Confirm with B computed directly: B(λ*) ≤ budget < B(the double below λ*).
    let current = await moveTo(collected, positions[m]);
    while (current > budget && m + 1 < positions.length) current = await moveTo(collected, positions[++m]);
    if (current > budget) {
      // The budget is met only past the collected range: search again from here.
      from = positions[m];
      start = current;
      continue;
    }
    let settled = false;
    for (;;) {
      const before = previousLambda(positions[m]);
      if (before <= from) { settled = true; break; }
      const previous = await moveTo(collected, before);
      if (previous > budget) {
        await moveTo(collected, positions[m]);
        settled = true;
        break;
      }
      // The budget is met already below: B is constant on [positions[m − 1], positions[m]).
      if (m > 0 && lambdaKey(positions[m - 1]) >= collected.range.lo) {
        m--;
        await moveTo(collected, positions[m]);
        continue;
      }
      upTo = before;
      break;
    }
    if (settled) return { lambda: positions[m], totals, binds: true, passes: Math.round(count.passes * 100) / 100 };
  }
  throw new PromoptError('INTERNAL', `allocation: the exact search did not settle for budget ${budget}`);
}

// ---- plain-TypeScript reference ------------------------------------------------------------------

/**
 * The same allocation in plain TypeScript with Math.exp, written for clarity: every customer's
 * envelope, every breakpoint sorted, and a binary search on B computed directly. The 'bisection'
 * method mirrors the paper's search with the direct argmax. For tests on small inputs.
 */
export function allocateReference(input: AllocationInput, options: AllocationOptions): AllocationResult {
  const v = validateAllocation(input, options);
  const { n, discounts, nominal, budget } = v;
  const k = discounts.length;
  const spend = (i: number) => (input.spend ? input.spend[i] : 1);
  const responses = Array.from({ length: n }, (_, i) => couponResponseReference(input.f[i], input.g[i], discounts, nominal));
  let passes = 0;
  const evaluate = (optionOf: (i: number) => number) => {
    passes++;
    const index = new Int32Array(n);
    const counts = new Array<number>(k).fill(0);
    let discount = 0, revenue = 0;
    for (let i = 0; i < n; i++) {
      const j = optionOf(i);
      index[i] = j;
      counts[j]++;
      const { q } = responses[i];
      discount += spend(i) * (q[j] * discounts[j]);
      revenue += spend(i) * (q[j] * (1 - discounts[j]));
    }
    return { index, counts, discount, revenue };
  };
  const finish = (lambda: number, e: ReturnType<typeof evaluate>, binds: boolean): AllocationResult => ({
    lambda, expectedRevenue: e.revenue, expectedDiscount: e.discount, distribution: distributionOf(discounts, e.counts),
    discountIndex: e.index, discounts, method: v.method, budgetBinds: binds, passes,
  });

  if (v.method === 'bisection') {
    const at = (lambda: number) => evaluate((i) => directOptionReference(responses[i].q, discounts, lambda));
    const one = at(1);
    if (one.discount <= budget) return finish(1, one, false);
    const minimum = evaluate((i) => directOptionReference(responses[i].q, discounts, Infinity)).discount;
    if (minimum > budget) throw unmeetable(budget, minimum);
    let lo = 1, hi = 2;
    let best = at(hi);
    while (best.discount > budget) { lo = hi; hi *= 2; best = at(hi); }
    while (hi - lo > v.tolerance * hi) {
      const mid = lo + (hi - lo) / 2;
      if (mid <= lo || mid >= hi) break;
      const e = at(mid);
      if (e.discount <= budget) { hi = mid; best = e; } else lo = mid;
    }
    return finish(hi, best, true);
  }

  const envelopes: CustomerEnvelope[] = responses.map(({ q, c }) => envelopeReference(q, c, discounts));
  const at = (lambda: number) => evaluate((i) => optionAtReference(envelopes[i], lambda));
  const one = at(1);
  if (one.discount <= budget) return finish(1, one, false);
  const minimum = evaluate((i) => envelopes[i].limit).discount;
  if (minimum > budget) throw unmeetable(budget, minimum);
  const candidates: number[] = [];
  for (const e of envelopes) for (const vertex of e.vertices) candidates.push(vertex.lambda, nextLambda(vertex.lambda));
  const positions = [...new Set(candidates.filter((l) => l > 1))].sort((a, b) => a - b);
  // B is weakly decreasing in λ; find the first position that meets the budget.
  let lo = 0, hi = positions.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (at(positions[mid]).discount <= budget) hi = mid; else lo = mid + 1;
  }
  return finish(positions[lo], at(positions[lo]), true);
}

/** B(λ) under the envelope policy, in plain TypeScript (for tests and property checks). */
export function expectedDiscountReference(input: AllocationInput, lambda: number, discounts: readonly number[] = DEFAULT_DISCOUNTS, nominal = DEFAULT_NOMINAL, direct = false): number {
  let sum = 0;
  for (let i = 0; i < input.f.length; i++) {
    const { q, c } = couponResponseReference(input.f[i], input.g[i], discounts, nominal);
    const j = direct ? directOptionReference(q, discounts, lambda) : optionAtReference(envelopeReference(q, c, discounts), lambda);
    sum += (input.spend ? input.spend[i] : 1) * c[j];
  }
  return sum;
}
