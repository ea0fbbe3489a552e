// Per-customer price-grid search (SPEC §1.3): wasm wrapper and plain-TypeScript reference.
import { badInput, PromoptError } from '../errors.js';
import { getDefaultEngine, planShards, type Engine, type Shard, type ShardCopy } from '../parallel/engine.js';
import { kernelsOf, type Arena, type Block } from './runtime.js';
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
   * Return each group's screened totals (single-precision profits summed in double precision,
   * with error bounds): the building block of `uniform` for callers that add groups up across
   * calls, e.g. a market read in chunks (see `candidatePrices` and `exactTotalsAtLeads`).
   */
  screenTotals?: boolean;
  /**
   * Also return, per group, the personalized schemes' sums and price counts and the acquisition
   * costs' statistics (`schemeStats`), and each customer's log10 AC (`acquisitionCostLog10`):
   * computed in the workers right after the search (see assembly/schemes.ts).
   */
  schemeStats?: boolean;
  /**
   * Also the heterogeneity comparison's raw material (`heterogeneity`): per group the moments of
   * σ SC, log r, v and p̄ α (priceScale = p̄) in customer order, and each customer's bin of each
   * on the fine grid [lo, lo + bins / inverseWidth), computed in the workers after the search.
   */
  heterogeneity?: HeterogeneityGrid;
  /**
   * Also the s = 1 optimum at each of these lead values, as priceGridSearchLeads gives it (and its
   * screened lead totals with `screenTotals`), from the same screen: S and Π(p, 0) are computed
   * once for both. Needs the screened search; working memory 8 bytes per customer-price.
   */
  leadValues?: readonly number[];
  /**
   * With `leadValues`: per group, PP's total at each lead value, Σ_i max(best Π_i(p, 1) at L_g,
   * best Π_i(p, 0)) (ties to broadcasting), summed in the workers in customer order within each
   * shard (`leads.sumPP`); the per-customer lead results are then not returned (their arrays are
   * empty), which saves copying 12 bytes per customer per lead value.
   */
  leadSumsOnly?: boolean;
  /**
   * Evaluate every price in double precision instead of screening in single precision first.
   * Both give the same result bit for bit; screening is about 3× faster. Totals always use it.
   */
  exhaustive?: boolean;
  /**
   * Also exact totals at given prices per group, as exactTotalsAtLeads gives them bit for bit
   * (`exactAt[k][g]`), by a further kernel on each shard after the search, on the customers the
   * search has just read. A group with no candidates in any run costs nothing.
   */
  exactAt?: readonly TotalsRun[];
}

/** Σ_i Π_i(p, 0), Σ_i Π_i(p, 1) and Σ_i max_s Π_i(p, s) at each grid price, for one group. */
export interface PriceTotals {
  traditional: Float64Array;
  broadcasting: Float64Array;
  personalizedRequirement: Float64Array;
  /**
   * Exact totals at candidates only: customers with Π(p, 1) ≥ Π(p, 0), the UP scheme's requirement
   * split at p (as requirementSplit decides it; 0 at a profit-only run's prices without S).
   */
  broadcastingCount?: Float64Array;
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

/**
 * A group's screened per-price totals: |exact total − screened total| ≤ error[row] + summation,
 * where summation bounds the double-precision rounding of the sum (see `candidatePrices`).
 * Screened totals of several groups (e.g. blocks of one market) add up with `addScreenedTotals`.
 */
export interface ScreenedTotals {
  traditional: Float64Array;
  broadcasting: Float64Array;
  personalizedRequirement: Float64Array;
  /** Summed error bounds of the three rows (+∞ if a customer was outside the bounds' range). */
  error: [number, number, number];
  /** Σ over customers of their largest |profit|. */
  scale: number;
  customers: number;
  /**
   * 1 where the broadcasting and personalized-requirement rows are screened totals; 0 where they
   * are only upper bounds (customers whose S was bounded between anchor prices there).
   */
  exact: Uint8Array;
}

/**
 * A group's statistics of the personalized schemes and of the acquisition costs AC_i =
 * (Π(p*NS, 0) − S Π(p*S, 0)) / (S r) at p*S (SPEC §1.3), computed as ((Π(p*NS, 0) − Π(p*S, 0))
 * + (1 − S) Π(p*S, 0)) / (S r) so that S near 1 loses no digits; sums in customer order within a shard.
 */
export interface SchemeStats {
  /** Σ_i max_p Π_i(p, 0), Σ_i max_p Π_i(p, 1), Σ_i of the larger of the two (PP). */
  sumNS: number;
  sumS: number;
  sumPP: number;
  /** Customers for whom the broadcasting requirement is optimal (Π(p*S, 1) ≥ Π(p*NS, 0)). */
  assigned: number;
  /** Customers with AC ≤ L. */
  atMostLead: number;
  /** AC ≤ L disagrees with the optimal requirement: beyond / within the tie tolerance 1e-9. */
  violations: number;
  ties: number;
  /** AC ≤ 0; no expected leads under s = 1 (AC = ∞ or 0/0). */
  nonPositive: number;
  infinite: number;
  /** Per price: customers whose best price it is under PNS, PS, and PP with s = 0 / s = 1. */
  countsNS: Float64Array;
  countsS: Float64Array;
  countsPP0: Float64Array;
  countsPP1: Float64Array;
  /** AC histogram: 16 bins of width L/4 from 0, then AC ≥ 4L (finite positive AC only). */
  acBins: Float64Array;
}

/** Per-customer arrays are views of one SharedArrayBuffer (the workers fill it shard by shard). */
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
  /** Per group, when `screenTotals` was asked for. */
  screenTotals?: ScreenedTotals[];
  /** With `leadValues`: the s = 1 optima at each (and per group the screened lead totals with `screenTotals`). */
  leads?: LeadGridResult;
  /** Per group, and log10 AC per customer (NaN where AC is not finite and positive), when `schemeStats` was asked for. */
  schemeStats?: SchemeStats[];
  acquisitionCostLog10?: Float64Array;
  /**
   * With `heterogeneity`: per group the four primitives' moments (σ SC, log r, v, p̄ α), and per
   * customer their four bins (element 4 i + k; HETEROGENEITY_NOT_BINNED where the value is not
   * finite or off the grid).
   */
  heterogeneity?: { moments: HistogramMoments[][]; bins: Uint16Array };
  /** With `exactAt`: totals[k][g] at run k's candidates of group g, in their order. */
  exactAt?: PriceTotals[][];
}

export interface HeterogeneityGrid {
  priceScale: number;
  lo: number;
  inverseWidth: number;
  bins: number;
}

/** A histogram's moments as FineHistogram keeps them: sums of deviations from `shift`, the first finite value. */
export interface HistogramMoments {
  count: number;
  min: number;
  max: number;
  shift: number;
  sum: number;
  sumSquares: number;
  nonFinite: number;
  below: number;
  above: number;
}

export const HETEROGENEITY_NOT_BINNED = 0xffff;

export function emptyMoments(): HistogramMoments {
  return { count: 0, min: Infinity, max: -Infinity, shift: NaN, sum: 0, sumSquares: 0, nonFinite: 0, below: 0, above: 0 };
}

/**
 * Adds the moments of values that came after `into`'s (b's deviations re-centred on a's shift:
 * Σ(x − a) = Σ(x − b) + n (b − a), Σ(x − a)² = Σ(x − b)² + 2 (b − a) Σ(x − b) + n (b − a)²).
 */
export function combineMoments(into: HistogramMoments, b: HistogramMoments): void {
  into.nonFinite += b.nonFinite;
  into.below += b.below;
  into.above += b.above;
  if (b.count === 0) return;
  if (into.count === 0) {
    Object.assign(into, { count: b.count, min: b.min, max: b.max, shift: b.shift, sum: b.sum, sumSquares: b.sumSquares });
    return;
  }
  const d = b.shift - into.shift;
  into.sumSquares += b.sumSquares + 2 * d * b.sum + b.count * d * d;
  into.sum += b.sum + b.count * d;
  into.count += b.count;
  into.min = Math.min(into.min, b.min);
  into.max = Math.max(into.max, b.max);
}

/** Per-customer results over one SharedArrayBuffer (workers copy their shards into it). */
function sharedResults(n: number): Pick<GridResult, 'bestIndexNS' | 'bestProfitNS' | 'bestIndexS' | 'bestProfitS'> {
  const buffer = new SharedArrayBuffer(24 * n);
  return {
    bestProfitNS: new Float64Array(buffer, 0, n), bestProfitS: new Float64Array(buffer, 8 * n, n),
    bestIndexNS: new Int32Array(buffer, 16 * n, n), bestIndexS: new Int32Array(buffer, 20 * n, n),
  };
}

/** The five columns by name (for the length checks' messages). */
function columnsOf(customers: GridCustomers): Record<keyof GridCustomers, ArrayLike<number>> {
  const { baselineUtility, priceSensitivity, shareCost, expectedReferrals, marginalCost } = customers;
  return { baselineUtility, priceSensitivity, shareCost, expectedReferrals, marginalCost };
}

function requireFiniteColumns(customers: GridCustomers): void {
  for (const [name, values] of Object.entries(columnsOf(customers))) requireFinite(name, values);
}

/** Names the first non-finite value when a kernel flagged one (a flag can also mean an overflow of the kernel's probe sum, which is harmless). */
function requireFiniteIfFlagged(flags: readonly number[], customers: GridCustomers): void {
  if (flags.some((flag) => flag !== 0)) requireFiniteColumns(customers);
}

/**
 * Sizes, grid and groups. With `finite: 'kernel'` the customers' values are checked by the kernel
 * (in the workers, as it reads them: it returns non-zero for a shard with a non-finite value, and
 * the wrapper then names the field and row with requireFiniteColumns before returning anything).
 */
function validate(customers: GridCustomers, options: GridOptions, finite: 'here' | 'kernel' = 'here'): { n: number; groupStarts: number[] } {
  const n = commonLength(columnsOf(customers));
  if (finite === 'here') requireFiniteColumns(customers);
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
  const { n, groupStarts } = validate(customers, options, 'kernel');
  const nPrices = options.prices.length;
  const leads = options.leadValues ? [...options.leadValues] : undefined;
  if (leads) {
    requireFinite('leadValues', leads);
    if (options.totals || options.exhaustive) throw badInput('leadValues needs the screened search (not totals or exhaustive)');
    const bytes = 8 * n * Math.ceil(nPrices / 4) * 4;
    if (bytes > 2 ** 30) throw badInput(`leadValues needs ${(bytes / 2 ** 30).toFixed(1)} GiB of working memory for ${n} customers: search them in batches`);
  }
  if (options.leadSumsOnly && !leads) throw badInput('leadSumsOnly needs leadValues');
  if (options.exactAt) validateRuns(options.exactAt, groupStarts.length, nPrices, 'exactAt');
  // The kernel steps through prices two at a time: repeat the last price, which never wins a strict comparison.
  const padded = nPrices % 2 === 0 ? [...options.prices] : [...options.prices, options.prices[nPrices - 1]];
  const m = padded.length;
  return engine.exclusive(async (arena) => {
    const { v, alpha, sc, r, mc } = copyColumns(arena, customers);
    const idxNS = arena.i32(n), profitNS = arena.f64(n), idxS = arena.i32(n), profitS = arena.f64(n);
    const shards = planShards(n, undefined, groupStarts);
    // the result arrays, filled shard by shard by whichever thread ran the shard
    const out = sharedResults(n);
    // the padding repeats the last price, which never wins a strict comparison: no index reaches it
    const result: GridResult = { ...out };
    const outputs: ShardCopy[] = [
      { from: idxNS.ptr, to: out.bestIndexNS }, { from: profitNS.ptr, to: out.bestProfitNS },
      { from: idxS.ptr, to: out.bestIndexS }, { from: profitS.ptr, to: out.bestProfitS },
    ];
    let flags: number[];
    // optional: the schemes' statistics, by a second kernel on each shard right after the search
    const statsWidth = options.schemeStats ? kernelsOf<SchemeKernels>(engine.runtime).schemeStatsWidth(nPrices) : 0;
    const stats = options.schemeStats ? arena.f64(shards.length * statsWidth) : undefined;
    const acLog10 = options.schemeStats ? arena.f64(n) : undefined;
    const screening = !options.totals && !options.exhaustive;
    // the screened search keeps D, z and e^−|z| at each customer's s = 1 optimum for schemeStats
    const atBestS = options.schemeStats && screening ? arena.f64(3 * n) : undefined;
    let statsPrices: Block | undefined;
    if (stats) {
      arena.viewF64(stats).fill(0);
      statsPrices = arena.copyF64(options.prices);
      result.acquisitionCostLog10 = new Float64Array(new SharedArrayBuffer(8 * n));
      outputs.push({ from: acLog10!.ptr, to: result.acquisitionCostLog10 });
    }
    const then: { kernel: string; argsFor: (shard: Shard, k: number) => number[] }[] = stats ? [{
      kernel: 'schemeStats',
      argsFor: ({ start, end }: Shard, k: number) => {
        const o8 = start * 8, o4 = start * 4;
        return [
          v.ptr + o8, alpha.ptr + o8, sc.ptr + o8, r.ptr + o8, mc.ptr + o8, end - start,
          statsPrices!.ptr, nPrices, options.sigma, options.leadValue,
          idxNS.ptr + o4, profitNS.ptr + o8, idxS.ptr + o4, profitS.ptr + o8, stats.ptr + k * statsWidth * 8, acLog10!.ptr + o8,
          atBestS ? atBestS.ptr + start * 24 : 0,
        ];
      },
    }] : [];
    // optional: the heterogeneity comparison's moments and bins, by a further kernel on each shard
    const grid = options.heterogeneity;
    if (grid && !(Number.isInteger(grid.bins) && grid.bins > 0 && grid.bins < HETEROGENEITY_NOT_BINNED)) throw badInput(`heterogeneity grid needs 1 to ${HETEROGENEITY_NOT_BINNED - 1} bins, got ${grid.bins}`);
    const hetWidth = grid ? kernelsOf<SchemeKernels>(engine.runtime).heterogeneityWidth() : 0;
    const hetMoments = grid ? arena.f64(shards.length * hetWidth) : undefined;
    if (grid && hetMoments) {
      arena.viewF64(hetMoments).fill(0);
      const hetBins = arena.f64(n); // four u16 per customer
      const buffer = new SharedArrayBuffer(8 * n);
      result.heterogeneity = { moments: [], bins: new Uint16Array(buffer) };
      outputs.push({ from: hetBins.ptr, to: new Float64Array(buffer) });
      then.push({
        kernel: 'heterogeneityStats',
        argsFor: ({ start, end }: Shard, k: number) => [
          v.ptr + start * 8, alpha.ptr + start * 8, sc.ptr + start * 8, r.ptr + start * 8, end - start,
          options.sigma, grid.priceScale, grid.lo, grid.inverseWidth, grid.bins, hetMoments.ptr + k * hetWidth * 8, hetBins.ptr + start * 8,
        ],
      });
    }
    // optional: exact totals at given prices, by a further kernel on each shard
    const exactRuns = options.exactAt;
    const exactJob = exactRuns ? entryTotalsJob(arena, shards, groupStarts, runEntries(exactRuns, groupStarts.length), options, { v, alpha, sc, r, mc }) : undefined;
    if (exactJob) then.push({ kernel: 'priceTotalsAt', argsFor: exactJob.argsFor });
    if (options.uniform && !screening && !options.totals) options = { ...options, totals: true };
    let totals: Block | undefined;
    let uniform: UniformBest[] | undefined;
    let screened: ScreenedTotals[] | undefined;
    if (screening) {
      const { m4, prices, prices32, maxAbsPrice } = screenGrid(arena, options.prices);
      // per shard: four f32 rows (profits, u, e^−|u|), the anchors' prices and S (windowed totals), f32 partial sums of the totals, S
      const scratchBytes = m4 * 40 + 64;
      const scratch = arena.f64(shards.length * scratchBytes / 8);
      const screenRow = 4 * m4 + 4;
      const screenTotals = options.uniform || options.screenTotals ? arena.f64(shards.length * screenRow) : undefined;
      if (screenTotals) arena.viewF64(screenTotals).fill(0);
      // the lead values: the lead kernel after the search on each shard, on the S and Π(p, 0) rows it leaves
      const rows = leads ? arena.f64(n * m4) : undefined;
      const leadJob = leads ? leadSearch(arena, n, leads, m4, shards.length, !!options.screenTotals, !!options.leadSumsOnly) : undefined;
      if (leadJob && rows) {
        result.leads = leadJob.result;
        outputs.push(...leadJob.outputs);
        then.push({
          kernel: 'priceGridSearchLeads',
          argsFor: (shard: Shard, k: number) => leadJob.argsFor(shard, k, { v, alpha, sc, r, mc }, { prices, prices32, m4, maxAbsPrice, sigma: options.sigma },
            rows.ptr + shard.start * m4 * 8, profitNS),
        });
      }
      flags = await engine.forShards('priceGridSearchScreened', shards, ({ start, end }, k) => {
        const o8 = start * 8, o4 = start * 4;
        return [
          v.ptr + o8, alpha.ptr + o8, sc.ptr + o8, r.ptr + o8, mc.ptr + o8, end - start,
          prices.ptr, prices32.ptr, m4, maxAbsPrice, options.sigma, options.leadValue,
          idxNS.ptr + o4, profitNS.ptr + o8, idxS.ptr + o4, profitS.ptr + o8, scratch.ptr + k * scratchBytes,
          screenTotals ? screenTotals.ptr + k * screenRow * 8 : 0, rows ? rows.ptr + start * m4 * 8 : 0, atBestS ? atBestS.ptr + start * 24 : 0,
        ];
      }, n * nPrices * (leads ? 1 + leads.length / 8 : 1), outputs, then);
      requireFiniteIfFlagged(flags, customers);
      if (leadJob?.totals) result.leads!.screenTotals = reduceLeadTotals(arena.viewF64(leadJob.totals), m4, nPrices, shards, groupStarts);
      if (leadJob?.sums) result.leads!.sumPP = leadJob.reduceSums(shards, groupStarts);
      if (screenTotals) {
        screened = reduceScreenTotals(arena.viewF64(screenTotals), screenRow, m4, nPrices, shards, groupStarts);
        if (options.uniform) {
          const candidates = screened.map((t) => unionOf(TOTAL_ROWS.map((row) => candidatePrices(t, row))));
          const exact = await totalsAtCandidates(engine, arena, shards, groupStarts, candidates, options, { v, alpha, sc, r, mc });
          uniform = candidates.map((list, g) => ({
            traditional: bestCandidate(list, exact[g].traditional),
            broadcasting: bestCandidate(list, exact[g].broadcasting),
            personalizedRequirement: bestCandidate(list, exact[g].personalizedRequirement),
            candidates: list,
          }));
        }
      }
    } else {
      const prices = arena.copyF64(padded);
      totals = options.totals ? arena.f64(shards.length * 3 * m) : undefined;
      if (totals) arena.viewF64(totals).fill(0);
      flags = await engine.forShards('priceGridSearch', shards, ({ start, end }, k) => {
        const o8 = start * 8, o4 = start * 4;
        return [
          v.ptr + o8, alpha.ptr + o8, sc.ptr + o8, r.ptr + o8, mc.ptr + o8, end - start,
          prices.ptr, m, options.sigma, options.leadValue,
          idxNS.ptr + o4, profitNS.ptr + o8, idxS.ptr + o4, profitS.ptr + o8,
          totals ? totals.ptr + k * 3 * m * 8 : 0,
        ];
      }, n * m, outputs, then);
      requireFiniteIfFlagged(flags, customers);
    }
    if (exactJob) result.exactAt = splitByRun(exactRuns!, exactJob.reduce());
    if (stats) result.schemeStats = reduceSchemeStats(arena.viewF64(stats), statsWidth, nPrices, shards, groupStarts);
    if (hetMoments) result.heterogeneity!.moments = reduceMoments(arena.viewF64(hetMoments), hetWidth, shards, groupStarts);
    if (totals) result.totals = reduceTotals(arena.viewF64(totals), shards, groupStarts, m, nPrices);
    if (options.uniform) result.uniform = uniform ?? groupStarts.map((_, g) => uniformFromTotals(result.totals![g], nPrices));
    if (screened && options.screenTotals) result.screenTotals = screened;
    return result;
  });
}

export interface LeadGridOptions {
  prices: readonly number[];
  sigma: number;
  /** The lead values L_g (e.g. γ_g L over a sensitivity grid), each finite. */
  leadValues: readonly number[];
  groupStarts?: readonly number[];
  /** Return each group's screened lead totals (see `ScreenedLeadTotals`). */
  screenTotals?: boolean;
}

/**
 * A group's screened totals of Π(p, 1) for any lead value L: broadcasting(L)[p] = shareProfit[p]
 * + L · shareReferrals[p], within error.shareProfit + L · error.shareReferrals (+ summation, see
 * `leadCandidatePrices`) of the exact total.
 */
export interface ScreenedLeadTotals {
  /** Σ_i S_i(p) Π_i(p, 0). */
  shareProfit: Float64Array;
  /** Σ_i S_i(p) r_i. */
  shareReferrals: Float64Array;
  error: { shareProfit: number; shareReferrals: number };
  /** Σ_i max_p |Π_i(p, 0)| and Σ_i |r_i|: bound the double-precision rounding of the sums. */
  scale: { shareProfit: number; shareReferrals: number };
  customers: number;
}

export interface LeadGridResult {
  /** Per lead value: each customer's best price index with s = 1 and its profit (empty with `leadSumsOnly`). */
  bestIndexS: Int32Array[];
  bestProfitS: Float64Array[];
  screenTotals?: ScreenedLeadTotals[];
  /** With `leadSumsOnly`: per group, per lead value, Σ_i max(best Π_i(p, 1), best Π_i(p, 0)). */
  sumPP?: Float64Array[];
}

/**
 * The s = 1 optimum of every customer for several lead values in one pass: `bestIndexS[g]` and
 * `bestProfitS[g]` equal priceGridSearch's with leadValue = leadValues[g], bit for bit (S and
 * Π(p, 0) do not depend on L, so they are screened once).
 */
export function priceGridSearchLeads(customers: GridCustomers, options: LeadGridOptions, engine: Engine = getDefaultEngine()): Promise<LeadGridResult> {
  const { n, groupStarts } = validate(customers, { prices: options.prices, sigma: options.sigma, leadValue: 0, groupStarts: options.groupStarts });
  const leads = [...options.leadValues];
  requireFinite('leadValues', leads);
  const nPrices = options.prices.length;
  return engine.exclusive(async (arena) => {
    const columns = copyColumns(arena, customers);
    const shards = planShards(n, undefined, groupStarts);
    const grid = { ...screenGrid(arena, options.prices), sigma: options.sigma };
    const job = leadSearch(arena, n, leads, grid.m4, shards.length, !!options.screenTotals);
    await engine.forShards('priceGridSearchLeads', shards, (shard, k) => job.argsFor(shard, k, columns, grid, 0),
      n * nPrices * Math.max(1, leads.length / 8), job.outputs);
    if (job.totals) job.result.screenTotals = reduceLeadTotals(arena.viewF64(job.totals), grid.m4, nPrices, shards, groupStarts);
    return job.result;
  });
}

/**
 * The arena blocks, result arrays (one SharedArrayBuffer, filled by the workers) and per-shard
 * arguments of a priceGridSearchLeads run (all but its last argument, the rows pointer).
 */
function leadSearch(arena: Arena, n: number, leads: readonly number[], m4: number, shardCount: number, withTotals: boolean, sumsOnly = false) {
  const G = leads.length;
  const leadBlock = arena.copyF64(leads);
  const bestIndex = arena.i32(n * G), bestProfit = arena.f64(n * G);
  const scratch = arena.f64(shardCount * m4 * 6); // 44 bytes per price per shard used
  const totalsRow = 2 * m4 + 4;
  const totals = withTotals ? arena.f64(shardCount * totalsRow) : undefined;
  if (totals) arena.viewF64(totals).fill(0);
  const sums = sumsOnly ? arena.f64(shardCount * G) : undefined;
  if (sums) arena.viewF64(sums).fill(0);
  const buffer = new SharedArrayBuffer(sumsOnly ? 0 : 12 * n * G);
  const result: LeadGridResult = {
    bestProfitS: sumsOnly ? [] : leads.map((_, g) => new Float64Array(buffer, 8 * n * g, n)),
    bestIndexS: sumsOnly ? [] : leads.map((_, g) => new Int32Array(buffer, 8 * n * G + 4 * n * g, n)),
  };
  const outputs: ShardCopy[] = sumsOnly ? [] : leads.flatMap((_, g) => [
    { from: bestIndex.ptr + 4 * n * g, to: result.bestIndexS[g] }, { from: bestProfit.ptr + 8 * n * g, to: result.bestProfitS[g] },
  ]);
  /** The kernel's arguments for a shard: rowsPtr from the screen (or 0), bestProfitNS (needed with sums). */
  const argsFor = (
    { start, end }: Shard, k: number, { v, alpha, sc, r, mc }: Columns,
    grid: { prices: Block; prices32: Block; m4: number; maxAbsPrice: number; sigma: number }, rowsPtr: number, bestProfitNS?: Block,
  ): number[] => {
    const o8 = start * 8;
    if (sums && !bestProfitNS) throw new PromoptError('INTERNAL', 'lead sums need the s = 0 optima');
    return [
      v.ptr + o8, alpha.ptr + o8, sc.ptr + o8, r.ptr + o8, mc.ptr + o8, end - start,
      grid.prices.ptr, grid.prices32.ptr, m4, grid.maxAbsPrice, grid.sigma, leadBlock.ptr, G,
      bestIndex.ptr + start * 4, bestProfit.ptr + start * 8, n, scratch.ptr + k * m4 * 48,
      totals ? totals.ptr + k * totalsRow * 8 : 0, rowsPtr,
      sums ? bestProfitNS!.ptr + o8 : 0, sums ? sums.ptr + k * G * 8 : 0,
    ];
  };
  /** Per group, the shards' PP sums added in shard order. */
  const reduceSums = (shards: readonly Shard[], groupStarts: readonly number[]): Float64Array[] => {
    const partials = arena.viewF64(sums!);
    const groupOf = shardGroups(shards, groupStarts);
    const groups = groupStarts.map(() => new Float64Array(G));
    shards.forEach((_, k) => {
      const t = groups[groupOf[k]];
      for (let g = 0; g < G; g++) t[g] += partials[k * G + g];
    });
    return groups;
  };
  return { result, outputs, argsFor, totals, sums, reduceSums };
}

/** Adds the lead kernel's per-shard screened totals into per-group ones, in shard order. */
function reduceLeadTotals(partials: Float64Array, m4: number, nPrices: number, shards: readonly Shard[], groupStarts: readonly number[]): ScreenedLeadTotals[] {
  const totalsRow = 2 * m4 + 4;
  const groupOf = shardGroups(shards, groupStarts);
  const groups = groupStarts.map(() => emptyScreenedLeadTotals(nPrices));
  shards.forEach((shard, k) => {
    const t = groups[groupOf[k]], base = k * totalsRow;
    for (let j = 0; j < nPrices; j++) {
      t.shareProfit[j] += partials[base + j];
      t.shareReferrals[j] += partials[base + m4 + j];
    }
    t.error.shareProfit += partials[base + 2 * m4];
    t.error.shareReferrals += partials[base + 2 * m4 + 1];
    t.scale.shareProfit += partials[base + 2 * m4 + 2];
    t.scale.shareReferrals += partials[base + 2 * m4 + 3];
    t.customers += shard.end - shard.start;
  });
  return groups;
}

export function emptyScreenedLeadTotals(nPrices: number): ScreenedLeadTotals {
  return {
    shareProfit: new Float64Array(nPrices), shareReferrals: new Float64Array(nPrices),
    error: { shareProfit: 0, shareReferrals: 0 }, scale: { shareProfit: 0, shareReferrals: 0 }, customers: 0,
  };
}

/** Adds screened lead totals `b` into `a` (groups that are parts of one market). */
export function addScreenedLeadTotals(a: ScreenedLeadTotals, b: ScreenedLeadTotals): void {
  for (let j = 0; j < a.shareProfit.length; j++) {
    a.shareProfit[j] += b.shareProfit[j];
    a.shareReferrals[j] += b.shareReferrals[j];
  }
  a.error.shareProfit += b.error.shareProfit;
  a.error.shareReferrals += b.error.shareReferrals;
  a.scale.shareProfit += b.scale.shareProfit;
  a.scale.shareReferrals += b.scale.shareReferrals;
  a.customers += b.customers;
}

/**
 * The prices (indices, ascending) whose exact total Σ_i Π_i(p, 1) at lead value L can still be
 * the largest, from screened lead totals (as `candidatePrices` for the broadcasting row).
 */
export function leadCandidatePrices(t: ScreenedLeadTotals, leadValue: number, slackFactor = 1): number[] {
  const totals = Array.from(t.shareProfit, (a, j) => a + leadValue * t.shareReferrals[j]);
  const best = Math.max(...totals);
  const error = t.error.shareProfit + Math.abs(leadValue) * t.error.shareReferrals;
  // the sums' double-precision rounding (as candidatePrices), plus forming A + L B
  const scale = t.scale.shareProfit + Math.abs(leadValue) * t.scale.shareReferrals;
  const slack = slackFactor * (2 * error + 4 * (t.customers + 2) * Number.EPSILON * scale);
  const keep: number[] = [];
  for (let j = 0; j < totals.length; j++) if (!(totals[j] < best - slack)) keep.push(j);
  return keep;
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

function emptySchemeStats(nPrices: number, acBins: number): SchemeStats {
  return {
    sumNS: 0, sumS: 0, sumPP: 0, assigned: 0, atMostLead: 0, violations: 0, ties: 0, nonPositive: 0, infinite: 0,
    countsNS: new Float64Array(nPrices), countsS: new Float64Array(nPrices), countsPP0: new Float64Array(nPrices), countsPP1: new Float64Array(nPrices),
    acBins: new Float64Array(acBins),
  };
}

interface SchemeKernels {
  schemeStatsWidth(nPrices: number): number;
  heterogeneityWidth(): number;
}

/** Merges the kernel's per-shard heterogeneity rows into per-group moments, in shard order (layout: assembly/schemes.ts). */
function reduceMoments(partials: Float64Array, width: number, shards: readonly Shard[], groupStarts: readonly number[]): HistogramMoments[][] {
  const groupOf = shardGroups(shards, groupStarts);
  const groups = groupStarts.map(() => [0, 1, 2, 3].map(emptyMoments));
  const keys = ['count', 'min', 'max', 'shift', 'sum', 'sumSquares', 'nonFinite', 'below', 'above'] as const;
  shards.forEach((_, k) => {
    groups[groupOf[k]].forEach((into, q) => {
      const base = k * width + q * keys.length;
      const shard = emptyMoments();
      keys.forEach((key, at) => { shard[key] = partials[base + at]; });
      combineMoments(into, shard);
    });
  });
  return groups;
}

/** Adds the kernel's per-shard scheme statistics into per-group ones, in shard order (layout: assembly/schemes.ts). */
function reduceSchemeStats(partials: Float64Array, width: number, nPrices: number, shards: readonly Shard[], groupStarts: readonly number[]): SchemeStats[] {
  const groupOf = shardGroups(shards, groupStarts);
  const groups = groupStarts.map(() => emptySchemeStats(nPrices, width - 9 - 4 * nPrices));
  const scalars = ['sumNS', 'sumS', 'sumPP', 'assigned', 'atMostLead', 'violations', 'ties', 'nonPositive', 'infinite'] as const;
  shards.forEach((_, k) => {
    const t = groups[groupOf[k]], base = k * width;
    scalars.forEach((key, at) => { t[key] += partials[base + at]; });
    [t.countsNS, t.countsS, t.countsPP0, t.countsPP1, t.acBins].forEach((row, r) => {
      for (let j = 0; j < row.length; j++) row[j] += partials[base + 9 + r * nPrices + j];
    });
  });
  return groups;
}

/** Adds the kernel's per-shard screened totals into per-group ones, in shard order. */
function reduceScreenTotals(partials: Float64Array, screenRow: number, m4: number, nPrices: number, shards: readonly Shard[], groupStarts: readonly number[]): ScreenedTotals[] {
  const groupOf = shardGroups(shards, groupStarts);
  const groups = groupStarts.map(() => emptyScreenedTotals(nPrices));
  shards.forEach((shard, k) => {
    const t = groups[groupOf[k]];
    const base = k * screenRow;
    TOTAL_ROWS.forEach((row, r) => {
      const out = t[row];
      for (let j = 0; j < nPrices; j++) out[j] += partials[base + r * m4 + j];
      t.error[r] += partials[base + 3 * m4 + r];
    });
    t.scale += partials[base + 3 * m4 + 3];
    for (let j = 0; j < nPrices; j++) if (partials[base + 3 * m4 + 4 + j] === 0) t.exact[j] = 0;
    t.customers += shard.end - shard.start;
  });
  return groups;
}

/** Adds screened totals `b` into `a` (for groups that are parts of one market). */
export function addScreenedTotals(a: ScreenedTotals, b: ScreenedTotals): void {
  TOTAL_ROWS.forEach((row, r) => {
    for (let j = 0; j < a[row].length; j++) a[row][j] += b[row][j];
    a.error[r] += b.error[r];
  });
  a.scale += b.scale;
  a.customers += b.customers;
  for (let j = 0; j < a.exact.length; j++) a.exact[j] &= b.exact[j];
}

export function emptyScreenedTotals(nPrices: number): ScreenedTotals {
  return {
    traditional: new Float64Array(nPrices), broadcasting: new Float64Array(nPrices), personalizedRequirement: new Float64Array(nPrices),
    error: [0, 0, 0], scale: 0, customers: 0, exact: new Uint8Array(nPrices).fill(1),
  };
}

/**
 * The prices (indices, ascending) whose exact total of `row` can still be the largest: screened
 * total within twice the error bound of the best screened total, the bound including the
 * double-precision rounding of the sums (≤ customers · eps · Σ|profit|, doubled for safety).
 * `slackFactor` > 1 widens the margin (a guess from part of a market's customers).
 */
export function candidatePrices(t: ScreenedTotals, row: (typeof TOTAL_ROWS)[number], slackFactor = 1): number[] {
  const totals = t[row];
  const r = TOTAL_ROWS.indexOf(row);
  // the best total that is known (within error), not a bound: Σ Π(p, 0) is screened at every price
  const known = (j: number) => row === 'traditional' || t.exact[j] === 1;
  let best = -Infinity;
  for (let j = 0; j < totals.length; j++) if (known(j) && totals[j] > best) best = totals[j];
  const slack = slackFactor * (2 * t.error[r] + 4 * t.customers * Number.EPSILON * t.scale);
  const keep: number[] = [];
  for (let j = 0; j < totals.length; j++) if (!(totals[j] < best - slack)) keep.push(j);
  return keep;
}

export function unionOf(lists: readonly (readonly number[])[]): number[] {
  return [...new Set(lists.flat())].sort((a, b) => a - b);
}

/** The first maximum of exact totals over candidate prices (ascending), as a uniform choice. */
export function bestCandidate(candidates: readonly number[], totals: ArrayLike<number>): UniformChoice {
  let best = 0;
  for (let c = 1; c < candidates.length; c++) if (totals[c] > totals[best]) best = c;
  return { index: candidates[best], total: totals[best] };
}

/** The rows of exact totals at candidate prices: PriceTotals with the broadcasting count. */
export const EXACT_TOTAL_ROWS = ['traditional', 'broadcasting', 'personalizedRequirement', 'broadcastingCount'] as const;

/** Exact totals whose rows are `row(name)` for each of EXACT_TOTAL_ROWS. */
export function exactTotalsOf(row: (name: (typeof EXACT_TOTAL_ROWS)[number]) => Float64Array): PriceTotals {
  return { traditional: row('traditional'), broadcasting: row('broadcasting'), personalizedRequirement: row('personalizedRequirement'), broadcastingCount: row('broadcastingCount') };
}

/** One lead value's candidate prices per group (indices into the grid); `profitOnly`: only Σ Π(p, 0) is needed. */
export interface TotalsRun {
  leadValue: number;
  candidates: readonly (readonly number[])[];
  profitOnly?: boolean;
}

function validateRuns(runs: readonly TotalsRun[], groups: number, nPrices: number, what = 'runs'): void {
  runs.forEach((run, k) => {
    requireFiniteScalar(`${what}[${k}].leadValue`, run.leadValue);
    if (run.candidates.length !== groups) throw badInput(`${what}[${k}]: candidates for ${run.candidates.length} groups, but there are ${groups}`);
    run.candidates.forEach((list, g) => list.forEach((j) => {
      if (!Number.isInteger(j) || j < 0 || j >= nPrices) throw badInput(`${what}[${k}].candidates[${g}] has price index ${j}, outside 0..${nPrices - 1}`);
    }));
  });
}

/** Each group's (price, lead value) entries of every run, runs in order. */
function runEntries(runs: readonly TotalsRun[], groups: number): { price: number; lead: number; profitOnly?: boolean }[][] {
  return Array.from({ length: groups }, (_, g) => runs.flatMap((run) => run.candidates[g].map((price) => ({ price, lead: run.leadValue, profitOnly: run.profitOnly }))));
}

/** Splits each group's entry totals (runEntries' order) back into runs: totals[k][g]. */
function splitByRun(runs: readonly TotalsRun[], totals: readonly PriceTotals[]): PriceTotals[][] {
  const at = totals.map(() => 0);
  return runs.map((run) => run.candidates.map((list, g) => {
    const from = at[g];
    at[g] += list.length;
    return exactTotalsOf((row) => totals[g][row]!.slice(from, from + list.length));
  }));
}

/**
 * The priceTotalsAt kernel over shards, each with its group's (price index, lead value) entries:
 * the per-shard arguments, the work, and the reduction per group in shard order (after the run).
 */
function entryTotalsJob(
  arena: Arena, shards: readonly Shard[], groupStarts: readonly number[],
  entries: readonly (readonly { price: number; lead: number; profitOnly?: boolean }[])[], options: Pick<GridOptions, 'prices' | 'sigma'>,
  columns: Columns,
): { argsFor: (shard: Shard, k: number) => number[]; work: number; reduce: () => PriceTotals[] } {
  const groupOf = shardGroups(shards, groupStarts);
  // Per group: its distinct prices, each entry's index among them and its lead value. The kernel
  // evaluates a customer once per distinct price, whatever the number of lead values at it; S only
  // at the leading nShare prices (those of entries that are not profitOnly).
  const layouts = entries.map((list) => {
    const withShare = new Set(list.filter((e) => !e.profitOnly).map((e) => e.price));
    const share = [...withShare].sort((x, y) => x - y);
    const distinct = [...share, ...[...new Set(list.map((e) => e.price))].filter((j) => !withShare.has(j)).sort((x, y) => x - y)];
    return { distinct, nShare: share.length, entryPrice: list.map((e) => distinct.indexOf(e.price)), leads: list.map((e) => e.lead) };
  });
  const counts = layouts.map((l) => l.leads.length);
  const priceBlocks = layouts.map((l) => (l.distinct.length > 0 ? arena.copyF64(l.distinct.map((j) => options.prices[j])) : undefined));
  const leadBlocks = layouts.map((l) => (l.leads.length > 0 ? arena.copyF64(l.leads) : undefined));
  const entryBlocks = layouts.map((l) => {
    if (l.entryPrice.length === 0) return undefined;
    const block = arena.i32(l.entryPrice.length);
    arena.viewI32(block).set(l.entryPrice);
    return block;
  });
  const shardBase: number[] = [];
  let total = 0;
  shards.forEach((_, k) => {
    shardBase.push(total);
    total += 4 * counts[groupOf[k]];
  });
  const exact = arena.f64(Math.max(total, 1));
  arena.viewF64(exact).fill(0);
  const argsFor = ({ start, end }: Shard, k: number): number[] => {
    const o8 = start * 8, g = groupOf[k];
    if (counts[g] === 0) return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, options.sigma, 0, 0]; // n = 0: nothing read or written
    return [
      columns.v.ptr + o8, columns.alpha.ptr + o8, columns.sc.ptr + o8, columns.r.ptr + o8, columns.mc.ptr + o8, end - start,
      priceBlocks[g]!.ptr, layouts[g].distinct.length, entryBlocks[g]!.ptr, leadBlocks[g]!.ptr, counts[g], options.sigma,
      exact.ptr + shardBase[k] * 8, layouts[g].nShare,
    ];
  };
  const reduce = (): PriceTotals[] => {
    const view = arena.viewF64(exact);
    const out = entries.map((list) => exactTotalsOf(() => new Float64Array(list.length)));
    shards.forEach((_, k) => {
      const g = groupOf[k], c = counts[g], base = shardBase[k];
      EXACT_TOTAL_ROWS.forEach((row, r) => {
        const into = out[g][row]!;
        for (let j = 0; j < entries[g].length; j++) into[j] += view[base + r * c + j];
      });
    });
    return out;
  };
  return { argsFor, work: shards.reduce((sum, s, k) => sum + (s.end - s.start) * layouts[groupOf[k]].distinct.length, 0), reduce };
}

/** priceTotalsAt over every shard with its group's (price index, lead value) entries; reduced per group in shard order. */
async function totalsAtEntries(
  engine: Engine, arena: Arena, shards: readonly Shard[], groupStarts: readonly number[],
  entries: readonly (readonly { price: number; lead: number; profitOnly?: boolean }[])[], options: Pick<GridOptions, 'prices' | 'sigma'>,
  columns: Columns,
): Promise<PriceTotals[]> {
  const job = entryTotalsJob(arena, shards, groupStarts, entries, options, columns);
  await engine.forShards('priceTotalsAt', shards, job.argsFor, job.work);
  return job.reduce();
}

/** totalsAtEntries for one lead value: totals per group in the order of its candidates. */
function totalsAtCandidates(
  engine: Engine, arena: Arena, shards: readonly Shard[], groupStarts: readonly number[], candidates: readonly (readonly number[])[],
  options: GridOptions, columns: Columns,
): Promise<PriceTotals[]> {
  const entries = candidates.map((list) => list.map((price) => ({ price, lead: options.leadValue })));
  return totalsAtEntries(engine, arena, shards, groupStarts, entries, options, columns);
}

/**
 * Exact per-price totals, per group, at that group's candidate prices, for one or several lead
 * values in one kernel pass: `runs[k].candidates[g]` are group g's price indices (into
 * `options.prices`) at lead value `runs[k].leadValue`; returns totals[k][g] in that order. Each
 * total is summed shard by shard with the exhaustive kernel's arithmetic and order, so it equals
 * that kernel's total at that lead value bit for bit, whatever other prices are asked for. A run
 * with `profitOnly` needs only Σ Π(p, 0) (traditional): at prices that no other run of the group
 * needs, S is not evaluated, so its broadcasting row is NaN and its personalized-requirement row
 * meaningless.
 */
export function exactTotalsAtLeads(
  customers: GridCustomers, options: Pick<GridOptions, 'prices' | 'sigma' | 'groupStarts'>,
  runs: readonly TotalsRun[], engine: Engine = getDefaultEngine(),
): Promise<PriceTotals[][]> {
  const { n, groupStarts } = validate(customers, { ...options, leadValue: 0 });
  validateRuns(runs, groupStarts.length, options.prices.length);
  return engine.exclusive(async (arena) => {
    const columns = copyColumns(arena, customers);
    const totals = await totalsAtEntries(engine, arena, planShards(n, undefined, groupStarts), groupStarts, runEntries(runs, groupStarts.length), options, columns);
    return splitByRun(runs, totals);
  });
}

/**
 * The grid for the single-precision screens: f64 and f32 copies padded to a multiple of 4 by
 * repeating the last price (which never wins a strict comparison), and max |price|.
 */
function screenGrid(arena: Arena, gridPrices: readonly number[]): { m4: number; prices: Block; prices32: Block; maxAbsPrice: number } {
  const nPrices = gridPrices.length;
  const m4 = Math.ceil(nPrices / 4) * 4;
  const grid = Array.from({ length: m4 }, (_, j) => gridPrices[Math.min(j, nPrices - 1)]);
  const prices = arena.copyF64(grid);
  const prices32 = arena.i32(m4);
  new Float32Array(arena.runtime.memory.buffer, prices32.ptr, m4).set(grid);
  return { m4, prices, prices32, maxAbsPrice: Math.max(...grid.map(Math.abs)) };
}

type Columns = Record<'v' | 'alpha' | 'sc' | 'r' | 'mc', Block>;

/** The customers' five columns copied into the arena (the one copy the kernels' inputs make). */
function copyColumns(arena: Arena, customers: GridCustomers): Columns {
  return {
    v: arena.copyF64(customers.baselineUtility), alpha: arena.copyF64(customers.priceSensitivity), sc: arena.copyF64(customers.shareCost),
    r: arena.copyF64(customers.expectedReferrals), mc: arena.copyF64(customers.marginalCost),
  };
}

/** The group of each shard (shards never straddle a group start). */
function shardGroups(shards: readonly Shard[], groupStarts: readonly number[]): number[] {
  let g = 0;
  return shards.map((shard) => {
    while (g + 1 < groupStarts.length && shard.start >= groupStarts[g + 1]) g++;
    return g;
  });
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

/**
 * The UP scheme's requirement split: for each market m, how many of its customers earn at least as
 * much with the broadcasting requirement at the market's uniform price, Π(p_m, 1) ≥ Π(p_m, 0)
 * (the tie rule of the counterfactual), with the search kernels' arithmetic. `market[i]` indexes
 * `marketPrices`.
 */
export function requirementSplit(
  customers: GridCustomers, market: ArrayLike<number>, marketPrices: readonly number[], options: Pick<GridOptions, 'sigma' | 'leadValue'>,
  engine: Engine = getDefaultEngine(),
): Promise<Float64Array> {
  const n = commonLength({ ...columnsOf(customers), market });
  requireFiniteColumns(customers);
  requireFinite('marketPrices', marketPrices);
  requireFiniteScalar('sigma', options.sigma);
  requireFiniteScalar('leadValue', options.leadValue);
  const nMarkets = marketPrices.length;
  if (nMarkets === 0) throw badInput('no market prices');
  for (let i = 0; i < n; i++) {
    const m = market[i];
    if (!(Number.isInteger(m) && m >= 0 && m < nMarkets)) throw badInput(`market[${i}] is ${m}, not a market index in 0..${nMarkets - 1}`);
  }
  return engine.exclusive(async (arena) => {
    const { v, alpha, sc, r, mc } = copyColumns(arena, customers);
    const markets = arena.i32(n);
    arena.viewI32(markets).set(market);
    const prices = arena.copyF64(marketPrices);
    const shards = planShards(n);
    const counts = arena.f64(shards.length * nMarkets);
    arena.viewF64(counts).fill(0);
    await engine.forShards('requirementSplit', shards, ({ start, end }, k) => {
      const o8 = start * 8;
      return [
        v.ptr + o8, alpha.ptr + o8, sc.ptr + o8, r.ptr + o8, mc.ptr + o8, markets.ptr + start * 4, end - start,
        prices.ptr, nMarkets, options.sigma, options.leadValue, counts.ptr + k * nMarkets * 8,
      ];
    }, n * 2);
    const partials = arena.viewF64(counts), out = new Float64Array(nMarkets);
    shards.forEach((_, k) => { for (let m = 0; m < nMarkets; m++) out[m] += partials[k * nMarkets + m]; });
    return out;
  });
}

/** requirementSplit in plain TypeScript (Math.exp / Math.log1p): its kernel's reference. */
export function requirementSplitReference(customers: GridCustomers, market: ArrayLike<number>, marketPrices: readonly number[], options: Pick<GridOptions, 'sigma' | 'leadValue'>): Float64Array {
  const out = new Float64Array(marketPrices.length);
  for (let i = 0; i < market.length; i++) {
    const p = marketPrices[market[i]];
    const u = customers.baselineUtility[i] - customers.priceSensitivity[i] * p;
    const profitNS = logistic(u) * (p - customers.marginalCost[i]);
    const profitS = logistic(options.sigma * (softplus(u) - customers.shareCost[i])) * (profitNS + customers.expectedReferrals[i] * options.leadValue);
    if (profitS >= profitNS) out[market[i]]++;
  }
  return out;
}

/**
 * Plain-TypeScript scheme statistics (Math.exp / Math.log1p) of a grid search's results: the
 * reference of the schemeStats kernel, customer by customer within each group.
 */
export function schemeStatsReference(customers: GridCustomers, options: GridOptions, search: GridResult): { schemeStats: SchemeStats[]; acquisitionCostLog10: Float64Array } {
  const { n, groupStarts } = validate(customers, options);
  const { prices, sigma, leadValue } = options;
  const nPrices = prices.length, bins = 16;
  const acInverseWidth = leadValue > 0 ? 4 / leadValue : 1;
  const acquisitionCostLog10 = new Float64Array(n);
  const schemeStats = groupStarts.map((start, g): SchemeStats => {
    const t = emptySchemeStats(nPrices, bins + 1);
    for (let i = start; i < (groupStarts[g + 1] ?? n); i++) {
      const jNS = search.bestIndexNS[i], jS = search.bestIndexS[i], profitNS = search.bestProfitNS[i], profitS = search.bestProfitS[i];
      t.sumNS += profitNS;
      t.sumS += profitS;
      t.countsNS[jNS]++;
      t.countsS[jS]++;
      const broadcast = profitS >= profitNS;
      if (broadcast) {
        t.sumPP += profitS;
        t.assigned++;
        t.countsPP1[jS]++;
      } else {
        t.sumPP += profitNS;
        t.countsPP0[jNS]++;
      }
      const p = prices[jS], mc = customers.marginalCost[i];
      const u = customers.baselineUtility[i] - customers.priceSensitivity[i] * p;
      const z = sigma * (softplus(u) - customers.shareCost[i]);
      const share = logistic(z);
      const leads = share * customers.expectedReferrals[i];
      // (Π(p*NS, 0) − Π(p*S, 0)) + (1 − S) Π(p*S, 0), the first term 0 when p*S = p*NS: no cancellation when S is near 1
      const profitAtS = logistic(u) * (p - mc);
      const acquisitionCost = ((jS === jNS ? 0 : profitNS - profitAtS) + logistic(-z) * profitAtS) / leads;
      const cheap = acquisitionCost <= leadValue;
      if (cheap) t.atMostLead++;
      if (cheap !== broadcast) {
        if (Math.abs(profitS - profitNS) <= 1e-9 * Math.max(Math.abs(profitS), Math.abs(profitNS)) + 1e-300) t.ties++;
        else t.violations++;
      }
      acquisitionCostLog10[i] = NaN;
      if (!(leads > 0) || acquisitionCost === Infinity) t.infinite++;
      else if (!(acquisitionCost > 0)) t.nonPositive++;
      else {
        acquisitionCostLog10[i] = Math.log(acquisitionCost) * Math.LOG10E;
        t.acBins[Math.min(Math.floor(acquisitionCost * acInverseWidth), bins)]++;
      }
    }
    return t;
  });
  return { schemeStats, acquisitionCostLog10 };
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
