// The slides' "Greater heterogeneity in sharing costs": how widely the sharing primitives (sharing
// cost, referral capacity) vary across customers compared with the purchase primitives
// (willingness to pay, price sensitivity), all in logit units.
//
// Streaming-friendly: values are binned into a fixed fine grid as they arrive, so memory does not
// grow with the number of customers and the result does not depend on how the customers were
// chunked (moments are accumulated customer by customer in input order, or merged block by block
// in a fixed order from the heterogeneityStats kernel's summaries, as the counterfactual does).
import { combineMoments, HETEROGENEITY_NOT_BINNED, REGULAR_PRICE, type HeterogeneityGrid, type HistogramMoments } from '../kernels/grid.js';
import type { CustomerPrimitives } from './model.js';

/** Quantile levels reported for every distribution. */
export const QUANTILE_LEVELS = [0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99] as const;

/**
 * A histogram on a fixed grid [lo, hi) with equal bins, plus exact count, min, max and running
 * mean/variance (sums of deviations from the first value, in arrival order). Quantiles are read off the grid by linear
 * interpolation within a bin, so they are accurate to one bin width (clamped to the exact min/max).
 */
export class FineHistogram {
  readonly counts: Float64Array;
  readonly width: number;
  readonly inverseWidth: number;
  count = 0;
  min = Infinity;
  max = -Infinity;
  // Moments as sums of deviations from the first value (cheap, stable for values of similar size,
  // and order-deterministic).
  private shift = NaN;
  private sum = 0;
  private sumSquares = 0;
  /** Values that were not finite (skipped). */
  nonFinite = 0;
  below = 0;
  above = 0;

  constructor(readonly lo: number, readonly hi: number, readonly bins: number) {
    this.counts = new Float64Array(bins);
    this.width = (hi - lo) / bins;
    this.inverseWidth = bins / (hi - lo);
  }

  add(x: number): void {
    if (!(x - x === 0)) {
      this.nonFinite++;
      return;
    }
    if (this.count === 0) this.shift = x;
    this.count++;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    const d = x - this.shift;
    this.sum += d;
    this.sumSquares += d * d;
    const b = Math.floor((x - this.lo) * this.inverseWidth);
    if (b < 0) this.below++;
    else if (b >= this.bins) this.above++;
    else this.counts[b]++;
  }

  /**
   * add(scale · x), or add(log x) with `log`, for each value in order: the same state as calling
   * add value by value, in a loop whose state V8 keeps in registers (4–5× faster at 20M values).
   * `skipNaN`: NaN values are left out altogether (not counted as non-finite).
   */
  addAll(values: ArrayLike<number>, scale = 1, log = false, skipNaN = false): void {
    let { count, min, max, shift, sum, sumSquares, nonFinite, below, above } = this;
    const counts = this.counts, lo = this.lo, inverseWidth = this.inverseWidth, bins = this.bins;
    for (let i = 0; i < values.length; i++) {
      const x = log ? Math.log(values[i]) : scale * values[i];
      if (!(x - x === 0)) {
        if (!(skipNaN && x !== x)) nonFinite++;
        continue;
      }
      if (count === 0) shift = x;
      count++;
      if (x < min) min = x;
      if (x > max) max = x;
      const d = x - shift;
      sum += d;
      sumSquares += d * d;
      const b = Math.floor((x - lo) * inverseWidth);
      if (b < 0) below++;
      else if (b >= bins) above++;
      else counts[b]++;
    }
    Object.assign(this, { count, min, max, shift, sum, sumSquares, nonFinite, below, above });
  }

  /** Adds the moments of values that came after this histogram's (their bins go in with addBins). */
  addMoments(m: HistogramMoments): void {
    const mine: HistogramMoments = {
      count: this.count, min: this.min, max: this.max, shift: this.shift, sum: this.sum, sumSquares: this.sumSquares,
      nonFinite: this.nonFinite, below: this.below, above: this.above,
    };
    combineMoments(mine, m);
    Object.assign(this, mine);
  }

  /** Counts bins[offset], bins[offset + stride], ... (HETEROGENEITY_NOT_BINNED: counted by the moments instead). */
  addBins(bins: Uint16Array, offset: number, stride: number): void {
    const counts = this.counts;
    for (let i = offset; i < bins.length; i += stride) {
      const b = bins[i];
      if (b !== HETEROGENEITY_NOT_BINNED) counts[b]++;
    }
  }

  get mean(): number {
    return this.count > 0 ? this.shift + this.sum / this.count : NaN;
  }

  get sd(): number {
    if (this.count < 2) return 0;
    const m = this.sum / this.count;
    return Math.sqrt(Math.max(0, (this.sumSquares - this.count * m * m) / (this.count - 1)));
  }

  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const target = q * this.count;
    let cum = this.below;
    if (target <= cum) return this.min;
    for (let b = 0; b < this.bins; b++) {
      const c = this.counts[b];
      if (c > 0 && cum + c >= target) {
        const x = this.lo + (b + (target - cum) / c) * this.width;
        return Math.min(this.max, Math.max(this.min, x));
      }
      cum += c;
    }
    return this.max;
  }

  quantiles(levels: readonly number[] = QUANTILE_LEVELS): Record<string, number> {
    return Object.fromEntries(levels.map((q) => [String(q), this.quantile(q)]));
  }
}

/** One primitive's distribution across customers, in logit units. */
export interface PrimitiveDistribution {
  label: string;
  /** How the value is put in logit units. */
  definition: string;
  count: number;
  mean: number;
  sd: number;
  min: number;
  max: number;
  /** Interquartile range and 5–95% range: the spread the comparison is about. */
  iqr: number;
  range90: number;
  quantiles: Record<string, number>;
}

/** Histogram of value − mean on bins shared by all four primitives (for plotting). */
export interface CenteredHistogram {
  /** Bin edges (length bins + 1), in logit units around each primitive's mean. */
  edges: number[];
  /** Per primitive, customers per bin (values outside the edges go to the end bins). */
  counts: Record<HeterogeneityKey, number[]>;
}

export type HeterogeneityKey = 'sharingCost' | 'logReferralCapacity' | 'willingnessToPay' | 'priceSensitivity';

export interface HeterogeneityReport {
  /** p̄ used to put price sensitivity in logit units (α_i·p̄). */
  priceScale: number;
  distributions: Record<HeterogeneityKey, PrimitiveDistribution>;
  centered: CenteredHistogram;
  /** Ratio of each sharing primitive's standard deviation to each purchase primitive's. */
  spreadRatios: Record<string, number>;
}

export interface HeterogeneityOptions {
  /** p̄ in α_i·p̄; default the regular price (the slides write the post-discount price as p̄ − c_i). */
  priceScale?: number;
  /** Half-width of the centered plotting histogram and its bin width (logit units). */
  centeredHalfWidth?: number;
  centeredBinWidth?: number;
}

const DEFINITIONS: Record<HeterogeneityKey, { label: string; definition: string }> = {
  sharingCost: { label: 'Sharing cost', definition: 'σ·SC_i (the sharing error has scale 1/σ)' },
  logReferralCapacity: { label: 'Log referral capacity', definition: 'log r_i = r0 + x_i\'β_r' },
  willingnessToPay: { label: 'Willingness to pay', definition: 'v_i (baseline utility; purchase error scale 1)' },
  priceSensitivity: { label: 'Price sensitivity', definition: 'α_i·p̄' },
};
const KEYS = Object.keys(DEFINITIONS) as HeterogeneityKey[];

// Fine grid: ±80 logit units in 0.005 steps; far wider than any plausible primitive.
const FINE_LO = -80, FINE_HI = 80, FINE_BINS = 32000;

/** Accumulates the four primitives customer by customer (call `add` per chunk, in input order). */
export class HeterogeneityAccumulator {
  private readonly histograms: Record<HeterogeneityKey, FineHistogram>;
  readonly priceScale: number;

  constructor(private readonly sigma: number, private readonly options: HeterogeneityOptions = {}) {
    this.priceScale = options.priceScale ?? REGULAR_PRICE;
    this.histograms = Object.fromEntries(KEYS.map((k) => [k, new FineHistogram(FINE_LO, FINE_HI, FINE_BINS)])) as Record<HeterogeneityKey, FineHistogram>;
  }

  add(p: Pick<CustomerPrimitives, 'baselineUtility' | 'priceSensitivity' | 'shareCost' | 'expectedReferrals'>): void {
    const h = this.histograms;
    h.sharingCost.addAll(p.shareCost, this.sigma);
    h.logReferralCapacity.addAll(p.expectedReferrals, 1, true);
    h.willingnessToPay.addAll(p.baselineUtility);
    h.priceSensitivity.addAll(p.priceSensitivity, this.priceScale);
  }

  /** The fine grid and p̄, for the heterogeneityStats kernel (priceGridSearch's `heterogeneity`). */
  grid(): HeterogeneityGrid {
    // the four histograms share one grid; the kernel bins with the histograms' own inverse width
    const { lo, inverseWidth, bins } = this.histograms.sharingCost;
    return { priceScale: this.priceScale, lo, inverseWidth, bins };
  }

  /**
   * Adds customers as the heterogeneityStats kernel summarized them: the four primitives' moments
   * (in KEYS order) and their bins, four per customer.
   */
  addSummarized(moments: readonly HistogramMoments[], bins: Uint16Array): void {
    KEYS.forEach((key, k) => {
      const h = this.histograms[key];
      h.addMoments(moments[k]);
      h.addBins(bins, k, KEYS.length);
    });
  }

  report(): HeterogeneityReport {
    const distributions = {} as Record<HeterogeneityKey, PrimitiveDistribution>;
    for (const key of KEYS) {
      const h = this.histograms[key];
      distributions[key] = {
        ...DEFINITIONS[key],
        count: h.count, mean: h.mean, sd: h.sd, min: h.min, max: h.max,
        iqr: h.quantile(0.75) - h.quantile(0.25),
        range90: h.quantile(0.95) - h.quantile(0.05),
        quantiles: h.quantiles(),
      };
    }
    const half = this.options.centeredHalfWidth ?? 4;
    const width = this.options.centeredBinWidth ?? 0.25;
    const bins = Math.round((2 * half) / width);
    const edges = Array.from({ length: bins + 1 }, (_, b) => -half + b * width);
    const counts = {} as Record<HeterogeneityKey, number[]>;
    for (const key of KEYS) {
      // Re-bin the fine grid around the mean (by fine-bin centre); tails go to the end bins.
      const h = this.histograms[key];
      const out = new Array<number>(bins).fill(0);
      const place = (x: number, c: number) => {
        const b = Math.min(bins - 1, Math.max(0, Math.floor((x - h.mean + half) / width)));
        out[b] += c;
      };
      if (h.below > 0) place(h.min, h.below);
      if (h.above > 0) place(h.max, h.above);
      for (let b = 0; b < h.bins; b++) if (h.counts[b] > 0) place(h.lo + (b + 0.5) * h.width, h.counts[b]);
      counts[key] = out;
    }
    const sd = (k: HeterogeneityKey) => distributions[k].sd;
    const spreadRatios = {
      'sharingCost/willingnessToPay': sd('sharingCost') / sd('willingnessToPay'),
      'sharingCost/priceSensitivity': sd('sharingCost') / sd('priceSensitivity'),
      'logReferralCapacity/willingnessToPay': sd('logReferralCapacity') / sd('willingnessToPay'),
      'logReferralCapacity/priceSensitivity': sd('logReferralCapacity') / sd('priceSensitivity'),
    };
    return { priceScale: this.priceScale, distributions, centered: { edges, counts }, spreadRatios };
  }
}

/** The comparison for customers held in memory (plain data, for the report's plots). */
export function heterogeneityComparison(
  primitives: Pick<CustomerPrimitives, 'baselineUtility' | 'priceSensitivity' | 'shareCost' | 'expectedReferrals'>,
  sigma: number,
  options: HeterogeneityOptions = {},
): HeterogeneityReport {
  const acc = new HeterogeneityAccumulator(sigma, options);
  acc.add(primitives);
  return acc.report();
}
