// Processed features of the paper's Appendix A, computed streaming day by day from the simulated
// logs: the features of day t use the logs of days < t (plus the static pre-period summary and the
// day of week), never day t's own outcomes. Windows longer than the data so far cover the days
// there are. Features the simulated logs cannot support (free-shipping and stackable coupons,
// site-sale discounts) are left out; the rest keep the paper's windows.
import { badInput } from '../errors.js';
import { getDefaultEngine, type Engine } from '../parallel/engine.js';
import { DAILY_FIELDS, ROLLING_FEATURE_NAMES, RollingFeatures, SHORT_FIELDS } from '../kernels/features.js';
import type { CouponCustomers, CouponDayLog } from './simulate.js';

/** Names of the processed features, in the order the arrays come out. */
export const COUPON_FEATURE_NAMES: readonly string[] = ROLLING_FEATURE_NAMES;

/** The daily block the feature kernel reads (f32 columns; coupon stored as level + 1). */
export function dailyBlock(log: CouponDayLog): Float32Array {
  const n = log.couponLevel.length;
  const block = new Float32Array(SHORT_FIELDS * n);
  const columns: ArrayLike<number>[] = [
    log.couponLevel, log.emailOpened, log.emailClicked, log.siteViews, log.productViews, log.cartViews,
    log.checkoutViews, log.purchased, log.spend, log.cartItems, log.cartValue,
  ];
  if (columns.length !== DAILY_FIELDS.length) throw new Error('daily block layout out of date');
  for (let f = 0; f < columns.length; f++) {
    const c = columns[f];
    if (c.length !== n) throw badInput(`day ${log.day}: ${DAILY_FIELDS[f]} has ${c.length} entries, expected ${n}`);
    const base = f * n;
    if (f === 0) for (let i = 0; i < n; i++) block[base + i] = c[i] + 1;
    else for (let i = 0; i < n; i++) block[base + i] = c[i];
  }
  return block;
}

export function staticColumns(customers: CouponCustomers): Float64Array[] {
  return [customers.tenureDays, customers.historicalAverageSpend, customers.historicalOrders, customers.historicalCouponOrders, customers.historicalCouponDiscountSum];
}

/**
 * Features for one day at a time: `next(previousLog)` pushes the log of the day that just ended
 * (omit it before the first day) and returns the coming day's features, one Float64Array per
 * feature (customers in order).
 */
export class CouponFeatureStream {
  private readonly rolling: RollingFeatures;
  private output: Float64Array[] | undefined;
  private readonly reuseOutput: boolean;
  /**
   * `reuseOutput`: every call returns the same arrays, overwritten with the new day (saves the
   * page faults of fresh arrays when streaming many days; copy what must outlive the next call).
   */
  constructor(customers: CouponCustomers, readonly discounts: readonly number[], readonly firstDayOfWeek: number, options: { horizonDays?: number; shardSize?: number; reuseOutput?: boolean } = {}) {
    this.rolling = new RollingFeatures(customers.count, staticColumns(customers), discounts, options);
    this.reuseOutput = options.reuseOutput ?? false;
  }

  get days(): number {
    return this.rolling.days;
  }

  async next(previous: CouponDayLog | null, engine: Engine = getDefaultEngine()): Promise<Float64Array[]> {
    if (previous && previous.day !== this.rolling.days) throw badInput(`logs must be pushed in day order: expected day ${this.rolling.days}, got ${previous.day}`);
    // The coming day's index: the days pushed so far, counting `previous`.
    const dayOfWeek = (this.firstDayOfWeek + this.rolling.days + (previous ? 1 : 0)) % 7;
    const features = await this.rolling.advance(previous ? dailyBlock(previous) : null, dayOfWeek, engine, this.output);
    if (this.reuseOutput) this.output = features;
    return features;
  }
}

/** A training panel: one row per customer-day (row = (day − firstDay) · customers + customer). */
export interface CouponPanel {
  featureNames: string[];
  /** One column per feature. */
  features: Float64Array[];
  /** Discount offered on the row's day. */
  discount: Float64Array;
  purchased: Uint8Array;
  /** Pre-discount spend of the purchase (0 without). */
  spend: Float64Array;
  customer: Int32Array;
  day: Int32Array;
}

/**
 * Features of every customer-day of the logs from `firstDay` on (earlier days only feed the
 * windows), optionally only for the customers `include` selects.
 */
export async function couponPanel(customers: CouponCustomers, logs: readonly CouponDayLog[], options: { discounts: readonly number[]; firstDayOfWeek: number; firstDay?: number; include?: (i: number) => boolean }, engine: Engine = getDefaultEngine()): Promise<CouponPanel> {
  const firstDay = options.firstDay ?? 0;
  if (!Number.isInteger(firstDay) || firstDay < 0 || firstDay >= logs.length) throw badInput(`firstDay must be 0..${logs.length - 1}, got ${firstDay}`);
  const selected: number[] = [];
  for (let i = 0; i < customers.count; i++) if (!options.include || options.include(i)) selected.push(i);
  const m = selected.length, days = logs.length - firstDay, rows = m * days;
  const stream = new CouponFeatureStream(customers, options.discounts, options.firstDayOfWeek, { horizonDays: logs.length, reuseOutput: true });
  const panel: CouponPanel = {
    featureNames: [...COUPON_FEATURE_NAMES],
    features: COUPON_FEATURE_NAMES.map(() => new Float64Array(rows)),
    discount: new Float64Array(rows),
    purchased: new Uint8Array(rows),
    spend: new Float64Array(rows),
    customer: new Int32Array(rows),
    day: new Int32Array(rows),
  };
  for (let t = 0; t < logs.length; t++) {
    const features = await stream.next(t === 0 ? null : logs[t - 1], engine);
    if (t < firstDay) continue;
    const log = logs[t];
    const base = (t - firstDay) * m;
    for (let f = 0; f < features.length; f++) {
      const column = features[f], out = panel.features[f];
      for (let j = 0; j < m; j++) out[base + j] = column[selected[j]];
    }
    for (let j = 0; j < m; j++) {
      const i = selected[j];
      panel.discount[base + j] = log.coupon[i];
      panel.purchased[base + j] = log.purchased[i];
      panel.spend[base + j] = log.spend[i];
      panel.customer[base + j] = i;
      panel.day[base + j] = t;
    }
  }
  return panel;
}
