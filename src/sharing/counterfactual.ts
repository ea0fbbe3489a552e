// Counterfactual personalization policies (SPEC §1.3, slides appendix "Personalization Schemes").
//
// Six schemes: one price per market (U) or per customer (P), combined with everyone broadcasting
// (S), nobody broadcasting (NS) or a per-customer requirement (P). Everything comes from one
// price-grid search per customer (kernels/grid.ts): per-customer optima give the P schemes,
// per-market per-price totals give the U schemes. The totals are screened in single precision in
// that same pass; exact totals at the few prices that can still win (the "candidates") come block
// by block with the exhaustive kernel's arithmetic and order, so every uniform price and total is
// the exhaustive search's. Most blocks get them in the same pass, at the candidates predicted from
// their market's totals so far; blocks launched before their market had totals, or whose prediction
// missed a final candidate, are read a second time.
//
// Scale and determinism: customers arrive in chunks (a file read piece by piece). Each market's
// customers are re-cut into blocks of BLOCK_SIZE in input order, so the grid kernel sees the same
// blocks — and returns bit-identical per-price totals — whatever the chunk size; block totals
// and per-customer sums are added per market in input order, and markets in market order.
//
// Passes: the first finds every optimum; the exact uniform totals then read the blocks pass 1
// left again (they also count the UP customers who take the requirement at each candidate price,
// so the UP split needs no pass of its own); with a covariance a second pass evaluates the
// delta-method gradients at the uniform prices chosen. The first read's customers (their
// primitives) are kept for the later reads up to a byte budget (`keepBytes`); past it the source
// is read again, so memory stays bounded by the budget, the chunk and the blocks.
// The per-customer work runs in kernels on the workers: the search, then on the same shard the
// personalized schemes' sums, best-price counts and acquisition costs (schemeStats); the main
// thread reads the data, cuts blocks and adds block results in order.
//
// Choices where the slides are silent:
// - Ties: a customer gets the broadcasting requirement when Π(p*S,1) ≥ Π(p*NS,0) (the slides'
//   "s = 1 ⟺ AC ≤ L" uses ≤); equal profits across prices go to the lower price (as the kernel).
// - Sums over markets run in market-name order, so results do not depend on input order of markets.
// - SEs: delta method with envelope-theorem gradients (delta.ts); the sensitivity band is the
//   delta method on the lift Π^PP(γ)/max(Π^US(γ), Π^UNS) − 1 with L = γ·L̂, so the uncertainty in
//   L̂ (and in every other estimated parameter) enters; band = lift ± 1.645·SE. Parameters missing
//   from the covariance are treated as known; market shocks ξ are treated as known.
// - Propositions 2–3 compare customers with equal v, α and market; real customers rarely tie
//   exactly, so every run checks them on perturbed twins of a sample of its customers (every
//   100th row, at most 2,000), and P1 on every customer.
import { badInput, PromoptError } from '../errors.js';
import { getDefaultEngine, type Engine } from '../parallel/engine.js';
import {
  addScreenedLeadTotals, addScreenedTotals, bestCandidate, candidatePrices, emptyScreenedLeadTotals, emptyScreenedTotals, EXACT_TOTAL_ROWS, exactTotalsAtLeads, exactTotalsOf, feasiblePrices,
  leadCandidatePrices, priceGridSearch, priceGridSearchLeads, REGULAR_PRICE, unionOf,
  type GridResult, type LeadGridResult, type PriceTotals, type TotalsRun, type ScreenedLeadTotals, type ScreenedTotals, type UniformChoice,
} from '../kernels/grid.js';
import { readSharingDataChunks } from './data.js';
import type { Progress } from '../report/progress.js';
import { formatTable } from '../report/text.js';
import type { CustomerPrimitives, SharingParameters } from './model.js';
import { FineHistogram, HeterogeneityAccumulator, QUANTILE_LEVELS, type HeterogeneityOptions, type HeterogeneityReport } from './heterogeneity.js';
import {
  checkProposition1, checkTwins, customerProfit, emptyCount, type PropositionReport,
} from './propositions.js';
import { deltaStandardError, GradientSum, parameterNames, profitDerivatives, type ParameterCovariance } from './delta.js';

export type SchemeName = 'UNS' | 'US' | 'UP' | 'PNS' | 'PS' | 'PP';
export const SCHEMES: readonly SchemeName[] = ['UNS', 'US', 'UP', 'PNS', 'PS', 'PP'];
const UNIFORM: readonly ('UNS' | 'US' | 'UP')[] = ['UNS', 'US', 'UP'];

/** Customers per kernel block; fixed so that results do not depend on the chunk size. */
export const BLOCK_SIZE = 4096;
/** Default budget for the chunks kept from the first read (CounterfactualOptions.keepBytes). */
export const DEFAULT_KEEP_BYTES = 2 ** 31;
/** Blocks per kernel call: large enough to keep the workers busy, small enough to pipeline. */
const BATCH_BLOCKS = 48;

/** The default γ grid of the sensitivity analysis: 0, 0.1, …, 2. */
export const DEFAULT_GAMMA_GRID: readonly number[] = Array.from({ length: 21 }, (_, k) => Math.round(k * 10) / 100);

type Primitives = Pick<CustomerPrimitives, 'baselineUtility' | 'priceSensitivity' | 'shareCost' | 'expectedReferrals'>;

/** A piece of the customer list, in input order. */
export interface CustomerChunk {
  /** Market of each customer: an index into the source's `marketNames`. */
  market: ArrayLike<number>;
  marginalCost: ArrayLike<number>;
  /** Covariate columns in the order of `params.covariates` (needed for the β gradients). */
  covariates?: readonly ArrayLike<number>[];
  /** Primitives given directly (then `covariates` may be absent and shocks are already included). */
  primitives?: Primitives;
}

/** Customers that can be read (at least) twice, chunk by chunk. */
export interface CustomerSource {
  /** Market names by index; may grow while chunks are read. */
  readonly marketNames: readonly string[];
  /** Number of customers, when known in advance (for the progress bar). */
  readonly rows?: number;
  /** Chunks in input order; a chunk's arrays must not change once yielded (they are kept and viewed). */
  chunks(): AsyncIterable<CustomerChunk>;
}

export interface CounterfactualOptions {
  /** Highest feasible price (default 188): the grid is {0..regularPrice, last digit 5, 8 or 9}. */
  regularPrice?: number;
  /** A custom ascending price grid instead (tests). */
  prices?: readonly number[];
  /** L̂; default params.L. */
  leadValue?: number;
  /** γ values of the sensitivity curve (L = γ·L̂); [] skips it. Default 0, 0.1, …, 2. */
  gammaGrid?: readonly number[];
  /** Parameter covariance for delta-method SEs and the sensitivity band. */
  covariance?: ParameterCovariance;
  /** Split the UP customers by requirement (counted with the exact totals; no extra pass). Default true. */
  uniformConditions?: boolean;
  /** Every `propositionStride`-th customer (by input row) gets P2/P3 twins, up to `propositionSample`. */
  propositionStride?: number;
  propositionSample?: number;
  heterogeneity?: HeterogeneityOptions;
  /** Customers per kernel block (default BLOCK_SIZE); results depend on it in the last bits only. */
  blockSize?: number;
  /**
   * Bytes of per-customer primitives (44 per customer; + 8 per covariate with a covariance) kept
   * from the first read so that the later passes do not read and convert the data again (a 20M-row
   * CSV takes ≈ 1 min per read). Past it the data are read again per pass. Default 2 GiB; 0 never keeps.
   */
  keepBytes?: number;
  /**
   * Exact uniform totals in pass 1 at the candidates predicted from each market's totals so far
   * (default true); false leaves them all to a second read of the data. The results are the same.
   */
  predictCandidates?: boolean;
  /**
   * Filled in with how the exact uniform totals were obtained: blocks in all, and blocks read a
   * second time because pass 1 had not predicted their market's final candidates (e.g. the blocks
   * launched before their market had any totals). The results do not depend on it.
   */
  work?: { blocks?: number; rereadBlocks?: number };
  /**
   * Updated with customers done over the reads: pass 1 [0, n), the exact totals [n, 2n) and, with a
   * covariance, the gradients [2n, 3n); it jumps over a read that is not needed.
   */
  progress?: Progress;
  seed?: number;
}

/** Counts of customers per grid price under one requirement. */
export type PriceCounts = Record<string, number>;

export interface SchemeResult {
  /** Average profit per customer over all customers (focal + referral). */
  profit: number;
  /** Delta-method standard error (with a covariance). */
  se?: number;
  /** Customers assigned s = 1 (UP: NaN, i.e. null in JSON, when the second pass was skipped). */
  broadcasting: number;
}

export interface ProfitTableRow {
  scheme: string;
  key: SchemeName;
  profit: number;
  se?: number;
  /** Profit increase relative to schemes 1, 2, 3 (null where the slides leave the cell empty). */
  increase: (number | null)[];
  /** Increase relative to scheme 1, in percent of scheme 1. */
  percentOverScheme1: number | null;
}

export interface AcquisitionCostReport {
  /** Customers with s* = 1 (Π(p*S,1) ≥ Π(p*NS,0)) and with AC_i ≤ L. */
  assignedBroadcasting: number;
  acAtMostLead: number;
  /** Customers where the two disagree beyond a near-tie: must be 0. */
  violations: number;
  /** Disagreements explained by a near-tie in profit. */
  ties: number;
  leadValue: number;
  /** Quantiles of AC over customers with finite positive AC; counts of the others. */
  quantiles: Record<string, number>;
  /** AC ≤ 0: broadcasting costs no own profit. */
  nonPositive: number;
  /** No expected leads under broadcasting (S·r = 0 in floating point): AC infinite. */
  infinite: number;
  /** Histogram of finite positive AC: edges (currency units) and counts; the last count is AC ≥ the last edge. */
  histogram: { edges: number[]; counts: number[] };
}

export interface SensitivityCurve {
  gamma: number[];
  /** Π^PP(γ) / max(Π^US(γ), Π^UNS) − 1 */
  lift: number[];
  PP: number[];
  US: number[];
  UNS: number;
  /** Which benchmark is the larger at each γ. */
  benchmark: ('US' | 'UNS')[];
  se?: number[];
  /** 90% delta-method band: lift ± 1.645·se. */
  lower?: number[];
  upper?: number[];
}

export interface CounterfactualResults {
  customers: number;
  markets: string[];
  prices: number[];
  regularPrice: number;
  leadValue: number;
  schemes: Record<SchemeName, SchemeResult>;
  /** Fraction of customers with s = 1 under PP. */
  socialShare: number;
  tieRule: string;
  /** The chosen uniform price of each market under UNS, US and UP. */
  uniformPrices: Record<'UNS' | 'US' | 'UP', Record<string, number>>;
  /** Customers per optimal price, by scheme and requirement. */
  priceDistributions: Record<SchemeName, { traditional: PriceCounts; broadcasting: PriceCounts; mean: number }>;
  profitTable: { nonBroadcastingBenchmark: ProfitTableRow[]; broadcastingBenchmark: ProfitTableRow[] };
  acquisitionCost: AcquisitionCostReport;
  propositions: PropositionReport;
  heterogeneity: HeterogeneityReport;
  sensitivity?: SensitivityCurve;
  /** Per-scheme average ∂Π/∂θ (with a covariance), in `parameters` order. */
  gradients?: Record<SchemeName, number[]>;
  covariance?: { parameters: string[]; estimated: string[]; fixed: string[] };
}

// ---------------------------------------------------------------------------------------------
// Sources

/** Columns a table of customers must provide (SharingData satisfies this). */
export interface CustomerTable {
  marketNames: readonly string[];
  market: ArrayLike<number>;
  marginalCost: ArrayLike<number>;
  covariateNames: readonly string[];
  covariates: readonly ArrayLike<number>[];
}

/** Reorders a table's covariate columns to `params.covariates`, naming a missing one. */
export function covariateColumns(params: Pick<SharingParameters, 'covariates'>, names: readonly string[], columns: readonly ArrayLike<number>[], source = 'data'): ArrayLike<number>[] {
  return params.covariates.map((name) => {
    const j = names.indexOf(name);
    if (j < 0) throw badInput(`${source}: missing covariate column "${name}" required by the parameters`);
    return columns[j];
  });
}

function sliceOf<T extends ArrayLike<number>>(a: T, start: number, end: number): ArrayLike<number> {
  return (a as unknown as { subarray?: (s: number, e: number) => ArrayLike<number> }).subarray?.(start, end) ?? Array.prototype.slice.call(a, start, end);
}

/** An in-memory table as a source, handed out in chunks of `chunkRows`. */
export function tableSource(table: CustomerTable, params: Pick<SharingParameters, 'covariates'>, chunkRows = 1 << 17): CustomerSource {
  const covariates = covariateColumns(params, table.covariateNames, table.covariates);
  const n = table.market.length;
  return {
    marketNames: table.marketNames,
    rows: n,
    async *chunks() {
      for (let start = 0; start < n || start === 0; start += chunkRows) {
        const end = Math.min(n, start + chunkRows);
        yield { market: sliceOf(table.market, start, end), marginalCost: sliceOf(table.marginalCost, start, end), covariates: covariates.map((c) => sliceOf(c, start, end)) };
        if (end >= n) break;
      }
    },
  };
}

/** Customers by their primitives, markets contiguous from `marketStarts` (e.g. `syntheticPopulation`). */
export type PrimitivePopulation = Primitives & { marginalCost: ArrayLike<number>; marketStarts: readonly number[]; marketNames: readonly string[] };

/** Customers given by their primitives (e.g. `syntheticPopulation`), markets contiguous from `marketStarts`. */
export function primitiveSource(
  population: PrimitivePopulation,
  chunkRows = 1 << 17,
): CustomerSource {
  const n = population.baselineUtility.length;
  const market = new Int32Array(n);
  population.marketStarts.forEach((s, m) => market.fill(m, s, population.marketStarts[m + 1] ?? n));
  return {
    marketNames: population.marketNames,
    rows: n,
    async *chunks() {
      for (let start = 0; start < n; start += chunkRows) {
        const end = Math.min(n, start + chunkRows);
        yield {
          market: market.subarray(start, end),
          marginalCost: sliceOf(population.marginalCost, start, end),
          primitives: {
            baselineUtility: sliceOf(population.baselineUtility, start, end) as Float64Array,
            priceSensitivity: sliceOf(population.priceSensitivity, start, end) as Float64Array,
            shareCost: sliceOf(population.shareCost, start, end) as Float64Array,
            expectedReferrals: sliceOf(population.expectedReferrals, start, end) as Float64Array,
          },
        };
      }
    },
  };
}

/**
 * A sharing-experiment file (SPEC §4 columns, validated row by row by the data reader) read in
 * chunks of `chunkRows`; only `market`, `mc` and the parameters' covariates are used (covariates as
 * given, not re-standardized; matched by name, extra columns ignored).
 */
export function fileSource(path: string, params: Pick<SharingParameters, 'covariates'>, chunkRows = 1 << 18, rows?: number): CustomerSource {
  const marketNames: string[] = [];
  return {
    marketNames,
    rows,
    async *chunks() {
      for await (const chunk of readSharingDataChunks(path, chunkRows)) {
        // Market indices are global and names only get appended, so the list stays consistent.
        for (let m = marketNames.length; m < chunk.marketNames.length; m++) marketNames.push(chunk.marketNames[m]);
        yield { market: chunk.market, marginalCost: chunk.marginalCost, covariates: covariateColumns(params, chunk.covariateNames, chunk.covariates, path) };
      }
    },
  };
}

/** Primitives of a chunk: given directly, or from the covariates, in customerPrimitives' order of operations. */
function chunkPrimitives(params: SharingParameters, chunk: CustomerChunk, marketNames: readonly string[], firstRow: number): Primitives {
  if (chunk.primitives) return chunk.primitives;
  const cov = chunk.covariates;
  if (!cov) throw badInput('a chunk has neither covariates nor primitives');
  const n = chunk.market.length;
  const k = params.covariates.length;
  if (cov.length !== k) throw badInput(`expected ${k} covariate columns (${params.covariates.join(', ')}), got ${cov.length}`);
  const xv = new Float64Array(n), xa = new Float64Array(n), xs = new Float64Array(n), xr = new Float64Array(n);
  for (let j = 0; j < k; j++) {
    const col = cov[j], bv = params.beta_v[j], ba = params.beta_alpha[j], bs = params.beta_sc[j], br = params.beta_r[j];
    if (col.length !== n) throw badInput(`covariate ${params.covariates[j]} has ${col.length} values for ${n} customers`);
    for (let i = 0; i < n; i++) {
      const x = col[i];
      xv[i] += x * bv; xa[i] += x * ba; xs[i] += x * bs; xr[i] += x * br;
    }
  }
  const xiY = marketNames.map((m) => params.xi_y[m] ?? 0), xiW = marketNames.map((m) => params.xi_w[m] ?? 0);
  for (let i = 0; i < n; i++) {
    const m = chunk.market[i];
    xv[i] = params.vbar + xv[i] + xiY[m];
    xa[i] = params.abar + xa[i];
    xs[i] = params.scbar + xs[i] + xiW[m];
    xr[i] = Math.exp(params.r0 + xr[i]);
    if (!Number.isFinite(xv[i] + xa[i] + xs[i] + xr[i])) {
      throw badInput(`customer ${firstRow + i + 1}: the parameters give a non-finite primitive (v ${xv[i]}, α ${xa[i]}, SC ${xs[i]}, r ${xr[i]})`);
    }
  }
  return { baselineUtility: xv, priceSensitivity: xa, shareCost: xs, expectedReferrals: xr };
}

/**
 * The first read's chunks with their primitives, kept for the later passes while they fit in a
 * byte budget (the first chunk past it drops them all: the later passes then read the source).
 * Chunks from a source that gives primitives directly are references to its own arrays.
 */
class KeptChunks {
  private kept: CustomerChunk[] | undefined = [];
  private bytes = 0;
  constructor(private readonly limit: number, private readonly withCovariates: boolean) {}

  add(chunk: CustomerChunk, primitives: Primitives): void {
    if (!this.kept) return;
    const n = chunk.market.length;
    const covariates = this.withCovariates ? chunk.covariates : undefined;
    this.bytes += chunk.primitives ? 0 : n * (4 + 8 + 32 + 8 * (covariates?.length ?? 0));
    if (this.bytes > this.limit) {
      this.kept = undefined;
      return;
    }
    this.kept.push({ market: chunk.market, marginalCost: chunk.marginalCost, primitives, covariates });
  }

  /** The kept chunks as a source, or the original source when they did not fit. */
  source(original: CustomerSource): CustomerSource {
    const kept = this.kept;
    if (!kept) return original;
    return {
      marketNames: original.marketNames,
      rows: original.rows,
      async *chunks() {
        yield* kept;
      },
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Pass 1: optima, totals, distributions, acquisition costs, propositions

interface Block {
  market: number;
  /** The block's place among its market's blocks (0, 1, …), the same in every read. */
  ordinal: number;
  /** Not wanted by this read: customers are counted, not copied, and the block is never returned. */
  skip: boolean;
  /** The columns view a chunk's (a whole block inside one run of a market): not pooled. */
  view?: boolean;
  n: number;
  /** Input row of the block's first customer. */
  firstRow: number;
  v: Float64Array;
  alpha: Float64Array;
  sc: Float64Array;
  r: Float64Array;
  mc: Float64Array;
}

function allocateBlock(market: number, size: number): Block {
  return { market, ordinal: 0, skip: false, n: 0, firstRow: 0, v: new Float64Array(size), alpha: new Float64Array(size), sc: new Float64Array(size), r: new Float64Array(size), mc: new Float64Array(size) };
}

interface MarketState {
  customers: number;
  /** Blocks added (their ordinals are 0 … blocks − 1). */
  blocks: number;
  /** Per block (by ordinal): exact totals at the prices predicted when it was launched, if any. */
  predicted: (PredictedTotals | undefined)[];
  /** Screened per-price totals (UNS: traditional, US: broadcasting, UP: personalizedRequirement). */
  screened: ScreenedTotals;
  sumPNS: number;
  sumPS: number;
  sumPP: number;
  /** Screened totals at L = γ L̂ (the broadcasting row is the one used). */
  /** Screened Σ S Π(p, 0) and Σ S r: the broadcasting totals at every γ L of the sensitivity grid. */
  leadScreened: ScreenedLeadTotals;
  gammaSumPP: Float64Array;
}

/**
 * Cuts customers into per-market blocks of a fixed size in input order (a block is full, or the
 * market's last). The same input gives the same blocks whatever the chunking, so kernel sums per
 * block are deterministic; both reads of the data cut them the same way.
 */
class MarketBlocker {
  private readonly pending: Block[] = [];
  /** Spent blocks, reused (fresh typed arrays cost page faults and GC pressure at 20M customers). */
  private readonly pool: Block[] = [];
  /** Blocks started per market. */
  private readonly started: number[] = [];
  /** `wanted`: the blocks this read needs (by market and ordinal); the others are skipped. */
  constructor(private readonly blockSize: number, private readonly wanted?: (market: number, ordinal: number) => boolean) {}

  private newBlock(market: number): Block {
    const block = this.pool.pop() ?? allocateBlock(market, this.blockSize);
    block.market = market;
    block.n = 0;
    this.number(block);
    return block;
  }

  /** Gives an empty block its market's next ordinal. */
  private number(block: Block): void {
    while (this.started.length <= block.market) this.started.push(0);
    block.ordinal = this.started[block.market]++;
    block.skip = this.wanted ? !this.wanted(block.market, block.ordinal) : false;
  }

  recycle(block: Block): void {
    if (!block.view) this.pool.push(block);
  }

  /** Buffers a chunk's customers; returns the blocks that filled up. */
  take(chunk: CustomerChunk, p: Primitives, firstRow: number): Block[] {
    const full: Block[] = [];
    const n = chunk.market.length;
    const copy = (from: ArrayLike<number>, to: Float64Array, at: number, start: number, end: number) => {
      if (ArrayBuffer.isView(from)) to.set((from as Float64Array).subarray(start, end), at);
      else for (let i = start; i < end; i++) to[at + i - start] = from[i];
    };
    // Runs of customers of the same market are copied as ranges (data sorted by market are one run
    // per market); a whole block inside a run of Float64Array columns views them instead.
    const f64 = (a: ArrayLike<number>): a is Float64Array => a instanceof Float64Array;
    const columns = [p.baselineUtility, p.priceSensitivity, p.shareCost, p.expectedReferrals, chunk.marginalCost];
    const viewable = columns.every(f64);
    for (let i = 0; i < n;) {
      const m = chunk.market[i];
      if (!Number.isInteger(m) || m < 0) throw badInput(`row ${firstRow + i}: bad market index ${m}`);
      let end = i + 1;
      while (end < n && chunk.market[end] === m) end++;
      while (this.pending.length <= m) this.pending.push(this.newBlock(this.pending.length));
      while (i < end) {
        const b = this.pending[m];
        if (b.n === 0) b.firstRow = firstRow + i;
        if (viewable && b.n === 0 && !b.skip && end - i >= this.blockSize) {
          const [v, alpha, sc, r, mc] = (columns as Float64Array[]).map((column) => column.subarray(i, i + this.blockSize));
          full.push({ market: m, ordinal: b.ordinal, skip: false, view: true, n: this.blockSize, firstRow: b.firstRow, v, alpha, sc, r, mc });
          this.number(b); // the pending block takes the next ordinal
          i += this.blockSize;
          continue;
        }
        const take = Math.min(end - i, this.blockSize - b.n);
        if (!b.skip) {
          copy(p.baselineUtility, b.v, b.n, i, i + take);
          copy(p.priceSensitivity, b.alpha, b.n, i, i + take);
          copy(p.shareCost, b.sc, b.n, i, i + take);
          copy(p.expectedReferrals, b.r, b.n, i, i + take);
          copy(chunk.marginalCost, b.mc, b.n, i, i + take);
        }
        b.n += take;
        i += take;
        if (b.n === this.blockSize) {
          if (b.skip) this.recycle(b);
          else full.push(b);
          this.pending[m] = this.newBlock(m);
        }
      }
    }
    return full;
  }

  /**
   * The partly filled blocks (after the last chunk), in the order of their first rows: like the
   * full blocks' order, it depends on the input order only, not on how markets are numbered
   * (which differs between sources), so order-dependent sums over blocks are the same.
   */
  rest(): Block[] {
    return this.pending.filter((b) => b.n > 0 && !b.skip).sort((a, b) => a.firstRow - b.firstRow);
  }
}

/** A block's exact totals at the candidate prices its market's partial totals predicted, per run. */
interface PredictedTotals {
  lists: number[][];
  totals: PriceTotals[];
}

/**
 * Exact totals wanted at one lead value: which prices a market's screened totals leave as
 * candidates (`slackFactor` > 1: a wider guess from part of the market) and whether only Σ Π(p, 0) is needed.
 */
interface ExactRun {
  leadValue: number;
  profitOnly?: boolean;
  candidates(state: MarketState, slackFactor?: number): number[];
}

/**
 * A block's candidates are predicted from its market's totals so far with this many times the
 * final margin: on the paper population (3M and 6M customers, three seeds) the plain margin
 * missed a final candidate in 48 of 1,035 predicted blocks (a near tie the partial totals had not
 * yet brought within it), twice the margin in none, at 2.4 prices per block instead of 2.2.
 */
const PREDICTION_SLACK = 2;

interface Grid {
  prices: number[];
  sigma: number;
  leadValue: number;
  gamma: number[];
}

const AC_BINS = 16;

class FirstPass {
  readonly markets: MarketState[] = [];
  readonly counts: Record<'PNS' | 'PS', Float64Array>;
  readonly countsPP: [Float64Array, Float64Array];
  readonly heterogeneity: HeterogeneityAccumulator;
  readonly propositions: PropositionReport = { P1: emptyCount(), P2: emptyCount(), P3: emptyCount() };
  readonly twinSample: { v: number; alpha: number; shareCost: number; referrals: number; mc: number; row: number }[] = [];
  readonly ac = {
    assigned: 0, atMostLead: 0, violations: 0, ties: 0, nonPositive: 0, infinite: 0,
    log10: new FineHistogram(-8, 12, 4000),
    bins: new Float64Array(AC_BINS + 1),
  };
  rows = 0;
  readonly blocker: MarketBlocker;
  private readonly batches: BatchPool;

  constructor(private readonly grid: Grid, sigma: number, private readonly options: CounterfactualOptions, private readonly runs: readonly ExactRun[]) {
    const blockSize = options.blockSize ?? BLOCK_SIZE;
    if (!Number.isInteger(blockSize) || blockSize < 1) throw badInput(`block size must be a positive integer, got ${blockSize}`);
    this.blocker = new MarketBlocker(blockSize);
    this.batches = new BatchPool(BATCH_BLOCKS * blockSize);
    const m = grid.prices.length;
    this.counts = { PNS: new Float64Array(m), PS: new Float64Array(m) };
    this.countsPP = [new Float64Array(m), new Float64Array(m)];
    this.heterogeneity = new HeterogeneityAccumulator(sigma, options.heterogeneity);
  }

  private market(m: number): MarketState {
    while (this.markets.length <= m) {
      const nPrices = this.grid.prices.length;
      this.markets.push({
        customers: 0,
        blocks: 0,
        predicted: [],
        screened: emptyScreenedTotals(nPrices),
        sumPNS: 0, sumPS: 0, sumPP: 0,
        leadScreened: emptyScreenedLeadTotals(nPrices),
        gammaSumPP: new Float64Array(this.grid.gamma.length),
      });
    }
    return this.markets[m];
  }

  /** Buffers a chunk's customers into market blocks; returns the blocks that filled up. */
  take(chunk: CustomerChunk, p: Primitives): Block[] {
    const n = chunk.market.length;
    const stride = this.options.propositionStride ?? 100, cap = this.options.propositionSample ?? 2000;
    const full = this.blocker.take(chunk, p, this.rows);
    for (let i = 0; i < n; i++) this.market(chunk.market[i]);
    for (let row = Math.ceil(this.rows / stride) * stride; row < this.rows + n && this.twinSample.length < cap; row += stride) {
      const i = row - this.rows;
      this.twinSample.push({ v: p.baselineUtility[i], alpha: p.priceSensitivity[i], shareCost: p.shareCost[i], referrals: p.expectedReferrals[i], mc: chunk.marginalCost[i], row });
    }
    this.rows += n;
    return full;
  }

  /** The partly filled blocks, in market order (after the last chunk). */
  rest(): Block[] {
    return this.blocker.rest();
  }

  /** Starts the kernel on a batch of blocks (it runs on the workers while the caller accumulates the previous batch). */
  launch(blocks: Block[], engine: Engine): Promise<() => void> | undefined {
    if (blocks.length === 0) return undefined;
    const batch = this.batches.concat(blocks);
    const { prices, sigma, leadValue, gamma } = this.grid;
    // every γ of the sensitivity grid on the same screen (S and Π(p, 0) do not depend on the lead value)
    const leadValues = gamma.length === 0 ? undefined : gamma.map((g) => g * leadValue);
    // exact totals at the candidates predicted from each market's totals so far (none for a market without any yet)
    const guesses = new Map<number, number[][]>();
    const guess = (m: number): number[][] => {
      let lists = guesses.get(m);
      if (!lists) {
        const state = this.markets[m];
        const predict = state.customers > 0 && this.options.predictCandidates !== false;
        lists = this.runs.map((run) => (predict ? run.candidates(state, PREDICTION_SLACK) : []));
        guesses.set(m, lists);
      }
      return lists;
    };
    const exactAt = this.runs.map((run, k) => ({ leadValue: run.leadValue, profitOnly: run.profitOnly, candidates: blocks.map((block) => guess(block.market)[k]) }));
    const search = priceGridSearch(batch.customers, {
      prices, sigma, leadValue, leadValues, leadSumsOnly: leadValues !== undefined, groupStarts: batch.starts,
      screenTotals: true, schemeStats: true, heterogeneity: this.heterogeneity.grid(), exactAt,
    }, engine);
    return search.then((result) => () => {
      this.batches.release(batch);
      blocks.forEach((block, b) => {
        this.accumulate(block, batch.starts[b], result, b, result.leads);
        const lists = exactAt.map((run) => run.candidates[b]);
        const state = this.markets[block.market];
        if (block.ordinal !== state.blocks - 1) throw new PromoptError('INTERNAL', `market ${block.market} block ${block.ordinal} added as block ${state.blocks - 1}`);
        if (lists.some((list) => list.length > 0)) state.predicted[block.ordinal] = { lists, totals: result.exactAt!.map((byBlock) => byBlock[b]) };
        this.blocker.recycle(block);
      });
    });
  }

  private accumulate(block: Block, offset: number, main: GridResult, b: number, byGamma: LeadGridResult | undefined): void {
    const state = this.markets[block.market];
    addScreenedTotals(state.screened, main.screenTotals![b]);
    if (byGamma) addScreenedLeadTotals(state.leadScreened, byGamma.screenTotals![b]);
    // Block sums, counts and AC statistics from the kernel (blocks are the same whatever the
    // chunking, so adding them to the market's total is deterministic).
    const stats = main.schemeStats![b];
    // the heterogeneity comparison, block by block in the order blocks filled up (chunk-independent)
    this.heterogeneity.addSummarized(main.heterogeneity!.moments[b], main.heterogeneity!.bins.subarray(4 * offset, 4 * (offset + block.n)));
    const ac = this.ac;
    state.sumPNS += stats.sumNS;
    state.sumPS += stats.sumS;
    state.sumPP += stats.sumPP;
    ac.assigned += stats.assigned;
    ac.atMostLead += stats.atMostLead;
    ac.violations += stats.violations;
    ac.ties += stats.ties;
    ac.nonPositive += stats.nonPositive;
    ac.infinite += stats.infinite;
    addInto(this.counts.PNS, stats.countsNS);
    addInto(this.counts.PS, stats.countsS);
    addInto(this.countsPP[0], stats.countsPP0);
    addInto(this.countsPP[1], stats.countsPP1);
    addInto(ac.bins, stats.acBins);
    const { bestIndexNS, bestIndexS, bestProfitS, acquisitionCostLog10 } = main;
    const { v: vs, alpha: alphas, sc: scs, r: rs, mc: mcs } = block;
    // NaN: AC not finite and positive (counted apart)
    ac.log10.addAll(acquisitionCostLog10!.subarray(offset, offset + block.n), 1, false, true);
    const P1 = this.propositions.P1;
    for (let i = 0; i < block.n; i++) {
      const o = offset + i;
      // P1 (p*S ≤ p*NS); only a reversal needs the full check.
      const jNS = bestIndexNS[o], jS = bestIndexS[o];
      if (jS > jNS) checkProposition1(P1, this.grid, vs[i], alphas[i], scs[i], rs[i], mcs[i], jNS, jS, bestProfitS[o]);
      else P1.checked++;
    }
    // PP at each γ: the block's sum from the lead kernel (customer order within the block)
    const sumPP = byGamma?.sumPP?.[b];
    for (let g = 0; sumPP && g < sumPP.length; g++) state.gammaSumPP[g] += sumPP[g];
    state.customers += block.n;
    state.blocks++;
  }

  /**
   * Each block's exact totals at its market's final candidates (`lists[k][m]`, run k), where its
   * predicted prices included them all (undefined elsewhere: those blocks are read again).
   */
  blockTotals(lists: readonly (readonly (readonly number[])[])[]): (PriceTotals[] | undefined)[][] {
    return this.markets.map((state, m) => Array.from({ length: state.blocks }, (_, o) => {
      const predicted = state.predicted[o];
      if (!predicted) return undefined;
      const at = lists.map((run, k) => run[m].map((j) => predicted.lists[k].indexOf(j)));
      if (at.some((positions) => positions.some((i) => i < 0))) return undefined;
      return at.map((positions, k) => {
        const t = predicted.totals[k];
        return exactTotalsOf((row) => Float64Array.from(positions, (i) => t[row]![i]));
      });
    }));
  }
}

function addInto(target: Float64Array, source: Float64Array): void {
  for (let j = 0; j < target.length; j++) target[j] += source[j];
}

interface Batch {
  customers: { baselineUtility: Float64Array; priceSensitivity: Float64Array; shareCost: Float64Array; expectedReferrals: Float64Array; marginalCost: Float64Array };
  starts: number[];
  /** The pooled storage behind the views above, returned to the pool when the batch's job is done. */
  storage: Float64Array[];
}

/**
 * Concatenates blocks into one batch for a kernel job. The batch's arrays come from a pool and go
 * back to it once the job that read them has finished (fresh 8 MB arrays per batch cost page
 * faults and garbage collection at 20M customers).
 */
class BatchPool {
  private readonly free: Float64Array[][] = [];
  constructor(private readonly capacity: number) {}

  concat(blocks: Block[]): Batch {
    const n = blocks.reduce((s, b) => s + b.n, 0);
    let storage = this.free.pop();
    if (!storage || storage[0].length < n) storage = Array.from({ length: 5 }, () => new Float64Array(Math.max(n, this.capacity)));
    const [v, alpha, sc, r, mc] = storage.map((a) => a.subarray(0, n));
    const starts: number[] = [];
    let at = 0;
    for (const b of blocks) {
      starts.push(at);
      v.set(b.v.subarray(0, b.n), at); alpha.set(b.alpha.subarray(0, b.n), at); sc.set(b.sc.subarray(0, b.n), at);
      r.set(b.r.subarray(0, b.n), at); mc.set(b.mc.subarray(0, b.n), at);
      at += b.n;
    }
    return { customers: { baselineUtility: v, priceSensitivity: alpha, shareCost: sc, expectedReferrals: r, marginalCost: mc }, starts, storage };
  }

  /** Call only when no job can still read the batch. */
  release(batch: Batch): void {
    this.free.push(batch.storage);
  }
}

/**
 * Kernel jobs over batches of at most BATCH_BLOCKS blocks, one batch ahead: batch k + 1's job is
 * started (copied in, its shards posted) before batch k's results are added, so the workers run
 * while the main thread adds; results are added in batch order. `launch` starts a batch's job and
 * resolves to the function that adds its results.
 */
class BatchPipeline {
  private previous: Promise<() => void> | undefined;
  /** Blocks not yet launched: batches are full whatever the chunk size (each job costs a pause of the workers). */
  private readonly waiting: Block[] = [];
  constructor(private readonly launch: (blocks: Block[]) => Promise<() => void> | undefined) {}

  async submit(blocks: Block[]): Promise<void> {
    this.waiting.push(...blocks);
    while (this.waiting.length >= BATCH_BLOCKS) await this.next(this.waiting.splice(0, BATCH_BLOCKS));
  }

  /** Launches the blocks still waiting and adds the last batch's results (after the last submit). */
  async finish(): Promise<void> {
    if (this.waiting.length > 0) await this.next(this.waiting.splice(0));
    await this.addPrevious();
    this.previous = undefined;
  }

  private async next(batch: Block[]): Promise<void> {
    const next = this.launch(batch);
    next?.catch(() => undefined); // awaited below; this only keeps a failure from being reported as unhandled meanwhile
    await this.addPrevious();
    this.previous = next;
  }

  private async addPrevious(): Promise<void> {
    if (!this.previous) return;
    const add = await this.previous;
    // let the next batch's job start (copy in, post its shards) before adding this one, or the
    // workers idle while the main thread adds
    await new Promise<void>((resolve) => setImmediate(resolve));
    add();
  }
}

/** Adds exact totals (with their broadcasting counts). */
function addTotals(into: PriceTotals, from: PriceTotals): void {
  for (const row of EXACT_TOTAL_ROWS) addInto(into[row]!, from[row]!);
}

/**
 * Reads the data again for the blocks whose exact totals pass 1 did not give (`perBlock[m][o]`
 * undefined) and fills them in: the customers are cut into blocks exactly as in pass 1 (the other
 * blocks are counted, not copied), and each block's totals come from the kernel
 * (exactTotalsAtLeads, which sums as the exhaustive kernel does) at the runs' candidates.
 */
async function readBlockTotals(
  source: CustomerSource, params: SharingParameters, grid: Grid, options: CounterfactualOptions, engine: Engine,
  runs: readonly TotalsRun[], perBlock: (PriceTotals[] | undefined)[][], onRows?: (rows: number) => void,
): Promise<void> {
  const blockSize = options.blockSize ?? BLOCK_SIZE;
  const blocker = new MarketBlocker(blockSize, (m, o) => m < perBlock.length && o < perBlock[m].length && perBlock[m][o] === undefined);
  const batches = new BatchPool(BATCH_BLOCKS * blockSize);
  const { prices, sigma } = grid;
  // Batch k's totals are stored while the workers run batch k + 1 (as in pass 1).
  const pipeline = new BatchPipeline((batchBlocks: Block[]): Promise<() => void> => {
    const batch = batches.concat(batchBlocks);
    // every run (lead value) in one kernel pass over the batch
    const blockRuns = runs.map((run) => ({ ...run, candidates: batchBlocks.map((block) => run.candidates[block.market]) }));
    return exactTotalsAtLeads(batch.customers, { prices, sigma, groupStarts: batch.starts }, blockRuns, engine).then((byRun) => () => {
      batches.release(batch);
      batchBlocks.forEach((block, b) => {
        perBlock[block.market][block.ordinal] = byRun.map((t) => t[b]);
        blocker.recycle(block);
      });
    });
  });
  let rows = 0;
  for await (const chunk of source.chunks()) {
    const p = chunkPrimitives(params, chunk, source.marketNames, rows);
    await pipeline.submit(blocker.take(chunk, p, rows));
    rows += chunk.market.length;
    onRows?.(rows);
  }
  await pipeline.submit(blocker.rest());
  await pipeline.finish();
  perBlock.forEach((blocks, m) => blocks.forEach((t, o) => {
    if (!t) throw new PromoptError('INTERNAL', `market ${m} block ${o} has no exact totals after the second read`);
  }));
}

// ---------------------------------------------------------------------------------------------
// The whole computation

/**
 * All six schemes and everything the slides report about them. Customers: a table such as
 * `SharingData` (covariates matched to `params.covariates` by name), a population of primitives,
 * or any source — `fileSource(path, params)` reads a file in chunks.
 */
export async function counterfactual(
  customers: CustomerSource | CustomerTable | PrimitivePopulation, params: SharingParameters,
  options: CounterfactualOptions = {}, engine: Engine = getDefaultEngine(),
): Promise<CounterfactualResults> {
  const source: CustomerSource = 'chunks' in customers ? customers
    : 'covariateNames' in customers ? tableSource(customers, params)
    : primitiveSource(customers);
  const regularPrice = options.regularPrice ?? REGULAR_PRICE;
  const prices = options.prices ? [...options.prices] : feasiblePrices(regularPrice);
  const leadValue = options.leadValue ?? params.L;
  if (!Number.isFinite(leadValue)) throw badInput(`lead value must be a finite number, got ${leadValue}`);
  const gamma = [...(options.gammaGrid ?? DEFAULT_GAMMA_GRID)];
  gamma.forEach((g) => {
    if (!Number.isFinite(g) || g < 0) throw badInput(`gamma grid values must be finite and non-negative, got ${g}`);
  });
  const grid: Grid = { prices, sigma: params.sigma, leadValue, gamma };
  const covariance = options.covariance;
  const progress = options.progress;
  const splitUP = options.uniformConditions ?? true;

  // Exact uniform totals: at one lead value for US and UP (S is needed), Σ Π(p, 0) only for UNS
  // (one exponential per price instead of the share's two and a logarithm), and one run per γ.
  const exactRuns: ExactRun[] = [
    { leadValue, candidates: (s, f) => unionOf([candidatePrices(s.screened, 'broadcasting', f), candidatePrices(s.screened, 'personalizedRequirement', f)]) },
    { leadValue, profitOnly: true, candidates: (s, f) => candidatePrices(s.screened, 'traditional', f) },
    ...gamma.map((g): ExactRun => ({ leadValue: g * leadValue, candidates: (s, f) => leadCandidatePrices(s.leadScreened, g * leadValue, f) })),
  ];

  // Pass 1: kernel batches of at most BATCH_BLOCKS blocks, pipelined (accumulate batch k while the workers run batch k + 1).
  const first = new FirstPass(grid, params.sigma, options, exactRuns);
  const pipeline = new BatchPipeline((blocks) => first.launch(blocks, engine));
  const keep = new KeptChunks(options.keepBytes ?? DEFAULT_KEEP_BYTES, covariance !== undefined);
  for await (const chunk of source.chunks()) {
    const p = chunkPrimitives(params, chunk, source.marketNames, first.rows);
    keep.add(chunk, p);
    await pipeline.submit(first.take(chunk, p));
    progress?.update(first.rows);
  }
  await pipeline.submit(first.rest());
  // P2/P3 on the twins (the sample is complete) while the workers run the last batches
  checkTwins(first.propositions, grid, options.seed ?? 1, first.twinSample);
  await pipeline.finish();
  const n = first.rows;
  if (n === 0) throw badInput('no customers');

  const markets = first.markets;
  // Markets in name order for every sum and every output, so that results do not depend on the
  // order in which markets first appear in the input.
  const nameOf = (m: number) => source.marketNames[m] ?? String(m);
  const order = markets.map((_, m) => m).filter((m) => markets[m].customers > 0)
    .sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : a - b));
  const marketNames = order.map(nameOf);
  // Uniform prices: exact totals at each market's candidate prices, block by block — from pass 1
  // where a block's predicted prices included them, else from a second read of those blocks.
  const finalLists = exactRuns.map((run) => markets.map((s) => run.candidates(s)));
  const perBlock = first.blockTotals(finalLists);
  const missing = perBlock.reduce((c, blocks) => c + blocks.filter((t) => t === undefined).length, 0);
  const later = keep.source(source);
  // progress: pass 1 counts [0, n), this read [n, 2n), pass 2 [2n, 3n)
  if (missing > 0) {
    await readBlockTotals(later, params, grid, options, engine, exactRuns.map((run, k) => ({ ...run, candidates: finalLists[k] })), perBlock, (rows) => progress?.update(n + rows));
  }
  progress?.update(2 * n);
  if (options.work) Object.assign(options.work, { blocks: perBlock.reduce((c, blocks) => c + blocks.length, 0), rereadBlocks: missing });
  // per market, block totals added in block order (whichever read gave them)
  const [exactShare, exactTraditional, ...exactGamma] = finalLists.map((lists, k) => lists.map((list, m) => {
    const sum = exactTotalsOf(() => new Float64Array(list.length));
    for (const block of perBlock[m]) addTotals(sum, block![k]);
    return sum;
  }));
  const rowOf = { UNS: 'traditional', US: 'broadcasting', UP: 'personalizedRequirement' } as const;
  const [withShare, candidatesUNS, ...gammaCandidates] = finalLists;
  const uniformIndex = {} as Record<'UNS' | 'US' | 'UP', Int32Array>;
  const uniformChoice = {} as Record<'UNS' | 'US' | 'UP', UniformChoice[]>;
  const sums: Record<SchemeName, number> = { UNS: 0, US: 0, UP: 0, PNS: 0, PS: 0, PP: 0 };
  for (const scheme of UNIFORM) {
    uniformChoice[scheme] = markets.map((_, m) => scheme === 'UNS'
      ? bestCandidate(candidatesUNS[m], exactTraditional[m].traditional)
      : bestCandidate(withShare[m], exactShare[m][rowOf[scheme]]));
    uniformIndex[scheme] = Int32Array.from(uniformChoice[scheme], (c) => c.index);
    for (const m of order) sums[scheme] += uniformChoice[scheme][m].total;
  }
  for (const m of order) {
    sums.PNS += markets[m].sumPNS;
    sums.PS += markets[m].sumPS;
    sums.PP += markets[m].sumPP;
  }
  const gammaUSChoice = gamma.map((_, g) => markets.map((_, m) => bestCandidate(gammaCandidates[g][m], exactGamma[g][m].broadcasting)));
  const gammaUSIndex = gammaUSChoice.map((choices) => Int32Array.from(choices, (c) => c.index));
  const gammaUS = gamma.map((_, g) => order.reduce((t, m) => t + gammaUSChoice[g][m].total, 0) / n);
  const gammaPP = gamma.map((_, g) => order.reduce((t, m) => t + markets[m].gammaSumPP[g], 0) / n);

  // The UP requirement split: customers with Π(p, 1) ≥ Π(p, 0) at their market's UP price, counted
  // with the exact totals (the price is one of the market's candidates with S).
  const countsUP: [Float64Array, Float64Array] = [new Float64Array(prices.length), new Float64Array(prices.length)];
  if (splitUP) {
    markets.forEach((state, m) => {
      if (state.customers === 0) return;
      const j = uniformIndex.UP[m];
      const broadcasting = exactShare[m].broadcastingCount![withShare[m].indexOf(j)];
      countsUP[1][j] += broadcasting;
      countsUP[0][j] += state.customers - broadcasting;
    });
  }

  // Pass 2 (with a covariance): the gradients, at the uniform prices chosen above.
  const names = parameterNames(params);
  const k = params.covariates.length;
  let gradients: Record<SchemeName, GradientSum> | undefined;
  let gammaGradients: { PP: GradientSum; US: GradientSum }[] | undefined;
  if (covariance) {
    gradients = Object.fromEntries(SCHEMES.map((s) => [s, new GradientSum(k)])) as Record<SchemeName, GradientSum>;
    gammaGradients = gamma.map(() => ({ PP: new GradientSum(k), US: new GradientSum(k) }));
    const d = new Float64Array(6), d0 = new Float64Array(6), x = new Float64Array(k);
    const upPrices = markets.map((_, m) => prices[uniformIndex.UP[m]]);
    let done = 0;
    for await (const chunk of later.chunks()) {
      const p = chunkPrimitives(params, chunk, source.marketNames, done);
      const cn = chunk.market.length;
      const customers = { ...p, marginalCost: chunk.marginalCost };
      if (!chunk.covariates && k > 0) throw badInput('delta-method SEs need the covariates, not only the primitives');
      const main = await priceGridSearch(customers, { prices, sigma: params.sigma, leadValue }, engine);
      const byGamma = gamma.length > 0 ? await priceGridSearchLeads(customers, { prices, sigma: params.sigma, leadValues: gamma.map((g) => g * leadValue) }, engine) : undefined;
      for (let i = 0; i < cn; i++) {
        const m = chunk.market[i];
        const v = p.baselineUtility[i], alpha = p.priceSensitivity[i], sc = p.shareCost[i], r = p.expectedReferrals[i], mc = chunk.marginalCost[i];
        // which condition's derivative the UP gradient takes (a near tie is where they meet)
        const pUP = upPrices[m];
        const upBroadcast: 0 | 1 = customerProfit(v, alpha, sc, r, mc, pUP, 1, params.sigma, leadValue) >= customerProfit(v, alpha, sc, r, mc, pUP, 0, params.sigma, leadValue) ? 1 : 0;
        if (chunk.covariates) for (let j = 0; j < k; j++) x[j] = chunk.covariates[j][i];
        const xs = chunk.covariates ? x : null;
        const at = (price: number, s: 0 | 1, lead: number, target: GradientSum, out: Float64Array, leadScale = 1) => {
          profitDerivatives(v, alpha, sc, r, mc, price, s, params.sigma, lead, out);
          target.add(out, price, xs, leadScale);
        };
        at(prices[uniformIndex.UNS[m]], 0, leadValue, gradients.UNS, d);
        at(prices[uniformIndex.US[m]], 1, leadValue, gradients.US, d);
        at(pUP, upBroadcast, leadValue, gradients.UP, d);
        const pNS = prices[main.bestIndexNS[i]], pS = prices[main.bestIndexS[i]];
        at(pNS, 0, leadValue, gradients.PNS, d0);
        at(pS, 1, leadValue, gradients.PS, d);
        if (main.bestProfitS[i] >= main.bestProfitNS[i]) gradients.PP.add(d, pS, xs);
        else gradients.PP.add(d0, pNS, xs);
        for (let g = 0; g < gamma.length; g++) {
          const lead = gamma[g] * leadValue;
          at(prices[gammaUSIndex[g][m]], 1, lead, gammaGradients![g].US, d, gamma[g]);
          if (byGamma!.bestProfitS[g][i] >= main.bestProfitNS[i]) at(prices[byGamma!.bestIndexS[g][i]], 1, lead, gammaGradients![g].PP, d, gamma[g]);
          else gammaGradients![g].PP.add(d0, pNS, xs);
        }
      }
      done += cn;
      progress?.update(2 * n + done);
    }
  }
  progress?.stop();

  // Assemble.
  const schemes = {} as Record<SchemeName, SchemeResult>;
  const broadcastingCount: Record<SchemeName, number> = {
    UNS: 0, US: n, UP: splitUP ? sumArray(countsUP[1]) : NaN, PNS: 0, PS: n, PP: first.ac.assigned,
  };
  for (const s of SCHEMES) schemes[s] = { profit: sums[s] / n, broadcasting: broadcastingCount[s] };
  let gradientOut: Record<SchemeName, number[]> | undefined;
  let covarianceInfo: CounterfactualResults['covariance'];
  if (gradients && covariance) {
    gradientOut = {} as Record<SchemeName, number[]>;
    for (const s of SCHEMES) {
      const g = Array.from(gradients[s].sum, (x) => x / n);
      gradientOut[s] = g;
      schemes[s].se = deltaStandardError(g, names, covariance);
    }
    covarianceInfo = { parameters: names, estimated: [...covariance.names], fixed: names.filter((nm) => !covariance.names.includes(nm)) };
  }

  const counts = (a: Float64Array): PriceCounts => Object.fromEntries(prices.map((p, j) => [String(p), a[j]]).filter(([, c]) => (c as number) > 0));
  const zero = new Float64Array(prices.length);
  const uniformCounts = (scheme: 'UNS' | 'US' | 'UP') => {
    const a = new Float64Array(prices.length);
    for (const m of order) a[uniformIndex[scheme][m]] += markets[m].customers;
    return a;
  };
  const meanPrice = (...arrays: Float64Array[]) => {
    let s = 0, c = 0;
    for (const a of arrays) a.forEach((x, j) => { s += x * prices[j]; c += x; });
    return c > 0 ? s / c : NaN;
  };
  const upSplit = splitUP ? countsUP : null;
  const uns = uniformCounts('UNS'), us = uniformCounts('US'), up = uniformCounts('UP');
  const priceDistributions: CounterfactualResults['priceDistributions'] = {
    UNS: { traditional: counts(uns), broadcasting: {}, mean: meanPrice(uns) },
    US: { traditional: {}, broadcasting: counts(us), mean: meanPrice(us) },
    UP: upSplit
      ? { traditional: counts(upSplit[0]), broadcasting: counts(upSplit[1]), mean: meanPrice(up) }
      : { traditional: {}, broadcasting: {}, mean: meanPrice(up) },
    PNS: { traditional: counts(first.counts.PNS), broadcasting: counts(zero), mean: meanPrice(first.counts.PNS) },
    PS: { traditional: {}, broadcasting: counts(first.counts.PS), mean: meanPrice(first.counts.PS) },
    PP: { traditional: counts(first.countsPP[0]), broadcasting: counts(first.countsPP[1]), mean: meanPrice(first.countsPP[0], first.countsPP[1]) },
  };

  const uniformPrices = {} as CounterfactualResults['uniformPrices'];
  for (const s of UNIFORM) uniformPrices[s] = Object.fromEntries(order.map((m) => [nameOf(m), prices[uniformIndex[s][m]]]));

  const ac = first.ac;
  const acWidth = leadValue > 0 ? leadValue / 4 : 1;
  const acquisitionCost: AcquisitionCostReport = {
    assignedBroadcasting: ac.assigned, acAtMostLead: ac.atMostLead, violations: ac.violations, ties: ac.ties, leadValue,
    quantiles: Object.fromEntries(QUANTILE_LEVELS.map((q) => [String(q), 10 ** ac.log10.quantile(q)])),
    nonPositive: ac.nonPositive, infinite: ac.infinite,
    histogram: { edges: Array.from({ length: AC_BINS + 1 }, (_, b) => b * acWidth), counts: Array.from(ac.bins) },
  };

  let sensitivity: SensitivityCurve | undefined;
  if (gamma.length > 0) {
    const UNS = schemes.UNS.profit;
    const lift = gamma.map((_, g) => gammaPP[g] / Math.max(gammaUS[g], UNS) - 1);
    const benchmark = gamma.map((_, g) => (gammaUS[g] >= UNS ? 'US' : 'UNS') as 'US' | 'UNS');
    sensitivity = { gamma, lift, PP: gammaPP, US: gammaUS, UNS, benchmark };
    if (gammaGradients && gradientOut && covariance) {
      const se = gamma.map((_, g) => {
        const B = Math.max(gammaUS[g], UNS), PP = gammaPP[g];
        const gB = benchmark[g] === 'US' ? Array.from(gammaGradients![g].US.sum, (x) => x / n) : gradientOut!.UNS;
        const gPP = Array.from(gammaGradients![g].PP.sum, (x) => x / n);
        const gLift = gPP.map((a, j) => a / B - (PP * gB[j]) / (B * B));
        return deltaStandardError(gLift, names, covariance);
      });
      sensitivity.se = se;
      sensitivity.lower = lift.map((l, g) => l - 1.6448536269514722 * se[g]);
      sensitivity.upper = lift.map((l, g) => l + 1.6448536269514722 * se[g]);
    }
  }

  return {
    customers: n, markets: marketNames, prices, regularPrice, leadValue,
    schemes, socialShare: ac.assigned / n,
    tieRule: 'a customer is assigned the broadcasting requirement when Π(p*S,1) ≥ Π(p*NS,0) (the slides\' AC ≤ L); equal profits go to the lower price',
    uniformPrices, priceDistributions,
    profitTable: profitTables(schemes),
    acquisitionCost, propositions: first.propositions,
    heterogeneity: first.heterogeneity.report(),
    ...(sensitivity ? { sensitivity } : {}),
    ...(gradientOut ? { gradients: gradientOut, covariance: covarianceInfo } : {}),
  };
}

function sumArray(a: Float64Array): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j];
  return s;
}

const TABLE_LABELS = ['1. No personalization', '2. Personalize prices only', '3. Personalize broadcasting requirements only', '4. Integrated personalization'];

/** The slides' profit table, with the non-broadcasting (UNS, PNS) and the broadcasting (US, PS) benchmark. */
export function profitTables(schemes: Record<SchemeName, SchemeResult>): CounterfactualResults['profitTable'] {
  const table = (keys: SchemeName[]): ProfitTableRow[] => keys.map((key, r) => ({
    scheme: TABLE_LABELS[r], key, profit: schemes[key].profit,
    ...(schemes[key].se !== undefined ? { se: schemes[key].se } : {}),
    increase: [0, 1, 2].map((c) => (c < r ? schemes[key].profit - schemes[keys[c]].profit : null)),
    percentOverScheme1: r > 0 ? (100 * (schemes[key].profit - schemes[keys[0]].profit)) / schemes[keys[0]].profit : null,
  }));
  return { nonBroadcastingBenchmark: table(['UNS', 'PNS', 'UP', 'PP']), broadcastingBenchmark: table(['US', 'PS', 'UP', 'PP']) };
}

// ---------------------------------------------------------------------------------------------
// Text output

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : String(x));

export function formatProfitTable(rows: readonly ProfitTableRow[]): string {
  const withSE = rows.some((r) => r.se !== undefined);
  const header = ['Personalization scheme', 'Average profit (focal + referral)', ...(withSE ? ['(SE)'] : []), 'vs Scheme 1', 'vs Scheme 2', 'vs Scheme 3', '% over 1'];
  return formatTable(header, rows.map((r, i) => [
    `${r.scheme} (${r.key})`, f3(r.profit), ...(withSE ? [r.se !== undefined ? `(${f3(r.se)})` : ''] : []),
    ...r.increase.map((x, c) => (c === i ? '/' : x === null ? '' : f3(x))),
    r.percentOverScheme1 === null ? '' : `${r.percentOverScheme1.toFixed(1)}%`,
  ]));
}

/** What `promopt counterfactual` prints without --json. */
export function formatCounterfactual(res: CounterfactualResults): string {
  const lines: string[] = [];
  lines.push(`Counterfactual policies: ${res.customers.toLocaleString('en-US')} customers in ${res.markets.length} markets, ${res.prices.length} feasible prices (≤ ${res.regularPrice}), L = ${f3(res.leadValue)}`);
  lines.push('', 'Integrated personalization (non-broadcasting benchmark: schemes 1–2 without the requirement)');
  lines.push(formatProfitTable(res.profitTable.nonBroadcastingBenchmark));
  lines.push('', 'Broadcasting benchmark (schemes 1–2 with everyone required to share)');
  lines.push(formatProfitTable(res.profitTable.broadcastingBenchmark));
  lines.push('', formatTable(['Scheme', 'Average profit', ...(res.schemes.PP.se !== undefined ? ['SE'] : []), 'Share with s = 1', 'Mean price'],
    SCHEMES.map((s) => [s, f3(res.schemes[s].profit), ...(res.schemes[s].se !== undefined ? [f3(res.schemes[s].se!)] : []),
      Number.isFinite(res.schemes[s].broadcasting) ? `${((100 * res.schemes[s].broadcasting) / res.customers).toFixed(1)}%` : 'n/a', res.priceDistributions[s].mean.toFixed(1)])));
  lines.push('', `Under integrated personalization ${(100 * res.socialShare).toFixed(1)}% of customers are assigned the broadcasting requirement (slides: 77.8%).`);
  const ac = res.acquisitionCost;
  lines.push(`Acquisition cost check: s* = 1 for ${ac.assignedBroadcasting}, AC ≤ L for ${ac.acAtMostLead}; violations ${ac.violations} (near-ties ${ac.ties}). Median AC ${f3(ac.quantiles['0.5'])}.`);
  const pr = res.propositions;
  lines.push(`Propositions (violations / checked, near-ties): P1 ${pr.P1.violations}/${pr.P1.checked} (${pr.P1.ties}), P2 ${pr.P2.violations}/${pr.P2.checked} (${pr.P2.ties}), P3 ${pr.P3.violations}/${pr.P3.checked} (${pr.P3.ties})${pr.note ? ` — ${pr.note}` : ''}`);
  const h = res.heterogeneity.distributions;
  lines.push('', `Heterogeneity in logit units (price sensitivity as α·${res.heterogeneity.priceScale}):`);
  lines.push(formatTable(['Primitive', 'mean', 'sd', 'IQR', '5–95%'], Object.values(h).map((d) => [d.label, f3(d.mean), f3(d.sd), f3(d.iqr), f3(d.range90)])));
  if (res.sensitivity) {
    const s = res.sensitivity;
    lines.push('', 'Sensitivity to the lead value (L = γ·L̂): Π^PP / max(Π^US, Π^UNS) − 1');
    lines.push(formatTable(['γ', 'lift', ...(s.se ? ['90% band'] : []), 'benchmark'], s.gamma.map((g, k) => [
      g.toFixed(2), `${(100 * s.lift[k]).toFixed(1)}%`, ...(s.se ? [`[${(100 * s.lower![k]).toFixed(1)}%, ${(100 * s.upper![k]).toFixed(1)}%]`] : []), s.benchmark[k],
    ])));
  }
  lines.push('', `Tie rule: ${res.tieRule}.`);
  return lines.join('\n');
}

