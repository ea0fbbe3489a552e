// Rolling-window customer features (paper Appendix A): the wasm wrapper that advances the window
// sums one day at a time, and a plain-TypeScript reference that recomputes every window from the
// full history.
import { badInput, PromoptError } from '../errors.js';
import { getDefaultEngine, planShards, type Engine } from '../parallel/engine.js';
import { kernelsOf, type Block } from './runtime.js';

/** Fields of a daily block (one column each, customers in order). */
export const DAILY_FIELDS = [
  'couponCode', // coupon level + 1 (0 = no coupon that day)
  'emailOpened', 'emailClicked', 'siteViews', 'productViews', 'cartViews', 'checkoutViews',
  'purchased', 'spend', 'cartItems', 'cartValue',
] as const;
export const SHORT_FIELDS = DAILY_FIELDS.length;
const LONG_FIELDS = 3;
const STATE_SIZE = 59;
const MAX_LEVELS = 8;
/** Static pre-period columns. */
export const STATIC_FIELDS = ['tenureDays', 'historicalAverageSpend', 'historicalOrders', 'historicalCouponOrders', 'historicalCouponDiscountSum'] as const;
/** Ages (days before the day that just ended) the kernel reads: 1 and 2 days ago, window exits. */
const SHORT_AGES = [0, 1, 3, 7, 28, 30];
const LONG_AGE = 360;

/** Names of the features, in the kernel's output order (Appendix A's categories). */
export const ROLLING_FEATURE_NAMES: readonly string[] = [
  // Purchasing
  'purchaseAmount30', 'purchaseAmount360', 'transactions3', 'transactions7', 'transactions30', 'transactions360', 'cartItems', 'cartValue',
  // Coupon
  'couponReceived1DayAgo', 'couponReceived2DaysAgo', 'largestCoupon3', 'largestCoupon7', 'largestCoupon28',
  'averageCoupon3', 'averageCoupon7', 'averageCoupon28', 'averageCoupon30', 'medianCoupon28', 'couponVariance7', 'couponVariance28',
  'averageCouponClicked7', 'averageCouponClicked30', 'averageCouponOpened7', 'averageCouponOpened30',
  'averageCouponOfPurchases30', 'averageCouponOfPurchases360', 'averageCouponOfAllPurchases', 'couponOrderShare',
  // Email
  'emailOpened1DayAgo', 'emailOpened2DaysAgo', 'emailsOpened3', 'emailsOpened7', 'emailsOpened28', 'allEmailsOpened28',
  'emailClicked1DayAgo', 'emailClicked2DaysAgo', 'emailsClicked3', 'emailsClicked7', 'emailsClicked28',
  // Website
  'siteViews1', 'siteViews3', 'siteViews7', 'siteViews30', 'cartViews1', 'cartViews3', 'cartViews7', 'cartViews30',
  'cartViewDays1', 'cartViewDays3', 'cartViewDays7', 'cartViewDays30', 'productViews7', 'checkoutViews7',
  // Time and customer
  'dayOfWeek', 'tenureDays', 'historicalAverageSpend',
];
export const FEATURE_COUNT = ROLLING_FEATURE_NAMES.length;

interface FeatureKernels {
  zeroBytes(ptr: number, bytes: number): void;
  couponFeatureDay(start: number, end: number, stride: number, agesPtr: number, statePtr: number, staticPtr: number,
    discountsPtr: number, levels: number, daysSeen: number, dayOfWeek: number, outPtr: number): void;
}

function validateDiscounts(discounts: readonly number[]): void {
  if (discounts.length < 1 || discounts.length > MAX_LEVELS) throw badInput(`the feature kernel supports 1 to ${MAX_LEVELS} discount levels, got ${discounts.length}`);
  discounts.forEach((d, k) => {
    if (!Number.isFinite(d)) throw badInput(`discounts[${k}] is ${d}, not a finite number`);
  });
}

function validateStatic(n: number, columns: readonly ArrayLike<number>[]): void {
  if (columns.length !== STATIC_FIELDS.length) throw badInput(`expected ${STATIC_FIELDS.length} static columns (${STATIC_FIELDS.join(', ')}), got ${columns.length}`);
  columns.forEach((c, f) => {
    if (c.length !== n) throw badInput(`${STATIC_FIELDS[f]} has ${c.length} entries, expected ${n}`);
    for (let i = 0; i < n; i++) if (!Number.isFinite(c[i])) throw badInput(`${STATIC_FIELDS[f]}[${i}] is ${c[i]}, not a finite number`);
  });
}

/**
 * Streaming features: `advance(block)` takes the log of the day that just ended (a daily block:
 * SHORT_FIELDS columns of n f32 values, or null before the first day) and returns the features
 * of the coming day, one Float64Array of n values per feature. Keeps the last 31 daily blocks
 * (and the last 361 days of purchases for the 360-day windows unless `horizonDays` ≤ 361 says they
 * will never be needed).
 */
export class RollingFeatures {
  readonly n: number;
  private readonly stride: number;
  private readonly state: Float64Array;
  private readonly staticPadded: Float64Array;
  private readonly shortRing: (Float32Array | undefined)[] = new Array(31);
  private readonly longRing: (Float32Array | undefined)[] | undefined;
  private daysSeen = 0;
  private readonly discounts: Float64Array;
  /** Customers per shard (even; default the engine's). */
  private readonly shardSize: number | undefined;

  constructor(n: number, staticColumns: readonly ArrayLike<number>[], discounts: readonly number[], options: { horizonDays?: number; shardSize?: number } = {}) {
    if (!Number.isInteger(n) || n < 1) throw badInput(`the feature stream needs at least one customer, got ${n}`);
    validateStatic(n, staticColumns);
    validateDiscounts(discounts);
    if (options.shardSize !== undefined && !(Number.isInteger(options.shardSize) && options.shardSize >= 2 && options.shardSize % 2 === 0)) throw badInput(`shardSize must be an even integer ≥ 2, got ${options.shardSize}`);
    this.n = n;
    this.stride = n + (n & 1);
    this.state = new Float64Array(STATE_SIZE * this.stride);
    this.staticPadded = new Float64Array(STATIC_FIELDS.length * this.stride);
    staticColumns.forEach((c, f) => this.staticPadded.set(c, f * this.stride));
    this.discounts = Float64Array.from(discounts);
    const horizon = options.horizonDays ?? Infinity;
    this.longRing = horizon > LONG_AGE + 1 ? new Array(LONG_AGE + 1) : undefined;
    this.shardSize = options.shardSize;
  }

  /** Days pushed so far. */
  get days(): number {
    return this.daysSeen;
  }

  private padded(block: Float32Array | null): Float32Array | null {
    if (block === null) return null;
    const n = this.n;
    if (block.length !== SHORT_FIELDS * n) throw badInput(`a daily block has ${SHORT_FIELDS} columns of ${n} customers (${SHORT_FIELDS * n} values), got ${block.length}`);
    const levels = this.discounts.length;
    for (let i = 0; i < n; i++) {
      const code = block[i];
      if (!(Number.isInteger(code) && code >= 0 && code <= levels)) throw badInput(`couponCode[${i}] = ${code} is not 0..${levels}`);
    }
    for (let k = 0; k < block.length; k++) if (!Number.isFinite(block[k])) throw badInput(`${DAILY_FIELDS[Math.floor(k / n)]}[${k % n}] is ${block[k]}, not a finite number`);
    return pairMajor(block, n, this.stride, SHORT_FIELDS);
  }

  /**
   * Pushes the day that just ended (null before the first day) and returns the coming day's
   * features, written into `into` (FEATURE_COUNT arrays of n) when given, else into new arrays.
   */
  async advance(block: Float32Array | null, dayOfWeek: number, engine: Engine = getDefaultEngine(), into?: Float64Array[]): Promise<Float64Array[]> {
    if (into && (into.length !== FEATURE_COUNT || into.some((c) => c.length !== this.n))) throw badInput(`output columns must be ${FEATURE_COUNT} arrays of ${this.n} values`);
    if (!Number.isInteger(dayOfWeek) || dayOfWeek < 0 || dayOfWeek > 6) throw badInput(`day of week must be 0..6, got ${dayOfWeek}`);
    if (block === null && this.daysSeen > 0) throw badInput('only the first day may be advanced without a log (null block)');
    const entering = this.padded(block);
    const stride = this.stride;
    if (entering) {
      this.daysSeen++;
      this.shortRing.unshift(entering);
      this.shortRing.length = 31;
      if (this.longRing) {
        const long = new Float32Array(LONG_FIELDS * stride);
        // Both blocks are pair-major: field f of customer 2p + lane sits at (p·F + f)·2 + lane.
        for (let i = 0; i < stride; i++) {
          const pair = i >> 1, lane = i & 1;
          const at = (fields: number, f: number) => (pair * fields + f) * 2 + lane;
          const purchased = entering[at(SHORT_FIELDS, 7)];
          long[at(LONG_FIELDS, 0)] = purchased;
          long[at(LONG_FIELDS, 1)] = entering[at(SHORT_FIELDS, 8)];
          long[at(LONG_FIELDS, 2)] = purchased > 0 ? entering[at(SHORT_FIELDS, 0)] : 0;
        }
        this.longRing.unshift(long);
        this.longRing.length = LONG_AGE + 1;
      }
    }
    // Blocks by age: with no entering day nothing enters or leaves (all ages read zeros).
    const shortAt = (age: number) => (entering ? this.shortRing[age] : undefined);
    const longAt = entering && this.longRing ? this.longRing[LONG_AGE] : undefined;
    const levels = this.discounts.length;
    return engine.exclusive(async (arena) => {
      const kernels = kernelsOf<FeatureKernels>(engine.runtime);
      const zeros = arena.f64(Math.ceil((SHORT_FIELDS * stride) / 2));
      kernels.zeroBytes(zeros.ptr, zeros.length * 8);
      const copied = new Map<Float32Array, Block>();
      const place = (data: Float32Array | undefined): number => {
        if (!data) return zeros.ptr;
        let block = copied.get(data);
        if (!block) {
          block = arena.f64(Math.ceil(data.length / 2));
          new Float32Array(arena.runtime.memory.buffer, block.ptr, data.length).set(data);
          copied.set(data, block);
        }
        return block.ptr;
      };
      const ages = arena.i32(SHORT_AGES.length + 1);
      const agesView = arena.viewI32(ages);
      SHORT_AGES.forEach((age, k) => { agesView[k] = place(shortAt(age)); });
      agesView[SHORT_AGES.length] = place(longAt);
      const state = arena.copyF64(this.state);
      const statics = arena.copyF64(this.staticPadded);
      const discounts = arena.copyF64(this.discounts);
      const out = arena.f64(FEATURE_COUNT * stride);
      await engine.forShards('couponFeatureDay', planShards(stride, this.shardSize), ({ start, end }) => [
        start, end, stride, ages.ptr, state.ptr, statics.ptr, discounts.ptr, levels, this.daysSeen, dayOfWeek, out.ptr,
      ], stride * FEATURE_COUNT);
      this.state.set(arena.viewF64(state));
      const all = arena.viewF64(out);
      // Fresh output arrays cost a page fault per 4 KiB on first touch: callers that stream many
      // days pass the previous day's arrays back in.
      const features = into ?? Array.from({ length: FEATURE_COUNT }, () => new Float64Array(this.n));
      features.forEach((column, f) => column.set(all.subarray(f * stride, f * stride + this.n)));
      return features;
    });
  }
}

/**
 * A column-major block (fields × n) in the kernel's pair-major layout: for each pair of customers
 * (2p, 2p + 1), every field's two values in turn; an odd n gets a zero padding customer.
 */
function pairMajor(block: Float32Array, n: number, stride: number, fields: number): Float32Array {
  const out = new Float32Array(fields * stride);
  for (let f = 0; f < fields; f++) {
    const column = block.subarray(f * n, (f + 1) * n);
    for (let i = 0; i < n; i++) out[((i >> 1) * fields + f) * 2 + (i & 1)] = column[i];
  }
  return out;
}


/**
 * Plain-TypeScript reference: the features of day t = history.length, recomputed from every
 * daily block of days 0..t−1 (unpadded, as passed to `advance`).
 */
export function rollingFeaturesReference(history: readonly Float32Array[], staticColumns: readonly ArrayLike<number>[], discounts: readonly number[], dayOfWeek: number): Float64Array[] {
  validateDiscounts(discounts);
  const n = staticColumns[0]?.length ?? 0;
  validateStatic(n, staticColumns);
  const t = history.length;
  const out = Array.from({ length: FEATURE_COUNT }, () => new Float64Array(n));
  const at = (field: number, day: number, i: number) => (day >= 0 && day < t ? history[day][field * n + i] : 0);
  const value = (code: number) => (code > 0 ? discounts[code - 1] : 0);
  const windowSum = (w: number, i: number, term: (day: number) => number) => {
    let s = 0;
    for (let day = Math.max(0, t - w); day < t; day++) s += term(day);
    return s;
  };
  for (let i = 0; i < n; i++) {
    const purchased = (d: number) => at(7, d, i);
    const spend = (d: number) => at(8, d, i);
    const code = (d: number) => at(0, d, i);
    const coupon = (d: number) => value(code(d));
    const opened = (d: number) => at(1, d, i);
    const clicked = (d: number) => at(2, d, i);
    const counts = (w: number) => {
      const c = new Array<number>(discounts.length).fill(0);
      for (let day = Math.max(0, t - w); day < t; day++) if (code(day) > 0) c[code(day) - 1]++;
      return c;
    };
    const moments = (w: number) => {
      const c = counts(w);
      let days = 0, sum = 0, squares = 0, largest = 0;
      c.forEach((ck, k) => { days += ck; sum += ck * discounts[k]; squares += ck * discounts[k] * discounts[k]; if (ck > 0) largest = discounts[k]; });
      const mean = sum / Math.max(days, 1);
      const variance = Math.max(squares / Math.max(days, 1) - mean * mean, 0);
      let median = 0;
      if (days > 0) {
        const position = Math.floor((days - 1) / 2);
        let cum = 0;
        for (let k = 0; k < c.length; k++) { cum += c[k]; if (cum > position) { median = discounts[k]; break; } }
      }
      return { days, mean, variance, median, largest };
    };
    const ratio = (a: number, b: number) => a / Math.max(b, 1);
    const tx30 = windowSum(30, i, purchased), tx360 = windowSum(360, i, purchased);
    const opens7 = windowSum(7, i, opened), opens30 = windowSum(30, i, opened);
    const clicks7 = windowSum(7, i, clicked), clicks30 = windowSum(30, i, clicked);
    const allPurchases = windowSum(Infinity, i, purchased);
    const allPurchaseCoupon = windowSum(Infinity, i, (d) => coupon(d) * purchased(d));
    const m3 = moments(3), m7 = moments(7), m28 = moments(28);
    const couponDays30 = windowSum(30, i, (d) => (code(d) > 0 ? 1 : 0));
    const opens28 = windowSum(28, i, opened);
    const couponOrders = staticColumns[3][i] + allPurchases;
    const views = (field: number, w: number) => windowSum(w, i, (d) => at(field, d, i));
    const cartDays = (w: number) => windowSum(w, i, (d) => (at(5, d, i) > 0 ? 1 : 0));
    const row = [
      windowSum(30, i, spend), windowSum(360, i, spend), windowSum(3, i, purchased), windowSum(7, i, purchased), tx30, tx360,
      at(9, t - 1, i), at(10, t - 1, i),
      coupon(t - 1), coupon(t - 2), m3.largest, m7.largest, m28.largest,
      m3.mean, m7.mean, m28.mean, ratio(windowSum(30, i, coupon), couponDays30), m28.median, m7.variance, m28.variance,
      ratio(windowSum(7, i, (d) => coupon(d) * clicked(d)), clicks7), ratio(windowSum(30, i, (d) => coupon(d) * clicked(d)), clicks30),
      ratio(windowSum(7, i, (d) => coupon(d) * opened(d)), opens7), ratio(windowSum(30, i, (d) => coupon(d) * opened(d)), opens30),
      ratio(windowSum(30, i, (d) => coupon(d) * purchased(d)), tx30), ratio(windowSum(360, i, (d) => coupon(d) * purchased(d)), tx360),
      ratio(staticColumns[4][i] + allPurchaseCoupon, couponOrders), ratio(couponOrders, staticColumns[2][i] + allPurchases),
      opened(t - 1), opened(t - 2), windowSum(3, i, opened), opens7, opens28, opens28 === m28.days && m28.days > 0 ? 1 : 0,
      clicked(t - 1), clicked(t - 2), windowSum(3, i, clicked), clicks7, windowSum(28, i, clicked),
      at(3, t - 1, i), views(3, 3), views(3, 7), views(3, 30),
      at(5, t - 1, i), views(5, 3), views(5, 7), views(5, 30),
      at(5, t - 1, i) > 0 ? 1 : 0, cartDays(3), cartDays(7), cartDays(30),
      views(4, 7), views(6, 7),
      dayOfWeek, staticColumns[0][i] + t, staticColumns[1][i],
    ];
    if (row.length !== FEATURE_COUNT) throw new PromoptError('INTERNAL', `reference computed ${row.length} features, expected ${FEATURE_COUNT}`);
    for (let f = 0; f < FEATURE_COUNT; f++) out[f][i] = row[f];
  }
  return out;
}
