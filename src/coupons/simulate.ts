// Customer-day logs of a retailer's daily coupon e-mails (paper §2–3) from a known purchase model,
// so that everything downstream (features, response model, allocation, A/B test, reference-effect
// evidence) can be checked against the truth.
//
// True purchase probability of customer i on day t, offered discount d:
//   q_it = Λ(a_i + τ_dow(t) + e_i·engagement_it + b_i·(d − d0) − c_i·(ref_it − d0))
// - engagement_it = s_it + 0.3·ln(1 + cart items at the start of the day), where s_it is a latent
//   AR(1) engagement state (persistence 0.8, stationary N(0, 1)) that also drives e-mail opens,
//   clicks and site/cart views, so recent activity predicts today's purchase;
// - b_i ≥ 0 is the coupon sensitivity: log-normal, larger for engaged and coupon-prone customers
//   (as in the paper's Table 1), zero for a share of customers who buy regardless;
// - c_i ≥ 0 is the reference sensitivity and ref_it the largest discount offered in the previous
//   L days (d0 when there is no history yet): the best recent coupon lowers today's propensity.
// Every purchase redeems the day's coupon: revenue = spend · (1 − d), spend log-normal per customer.
//
// Random numbers are counter-based and keyed by customer (and day), so the logs do not depend
// on how the work is split; outcome draws do not depend on the coupon offered (common random
// numbers), so two policies can be compared on the same customers and shocks.
import { badInput } from '../errors.js';
import { logistic } from '../kernels/math.js';
import { CounterRng, streamId } from '../random.js';
import { IncumbentPolicy } from './incumbent.js';

export const COUPON_DISCOUNTS: readonly number[] = [0.1, 0.12, 0.15, 0.17, 0.2];
export const NOMINAL_DISCOUNT = 0.1;
/** Customers × days of the paper's historical data set. */
export const PAPER_CUSTOMERS = 360_000;
export const PAPER_DAYS = 90;
/** Day-of-week effects on the purchase logit, Sunday first. */
export const DAY_OF_WEEK_EFFECT: readonly number[] = [0.1, -0.05, -0.1, -0.05, 0, 0.05, 0.15];
/** Persistence of the latent engagement state. */
export const ENGAGEMENT_PERSISTENCE = 0.8;
/** Weight of ln(1 + cart items) in engagement. */
export const CART_ENGAGEMENT = 0.3;
/** Days index the per-day random streams (customer · 2^16 + day). */
const MAX_DAYS = 65536;

export interface CouponSimulationOptions {
  /** Customers (default 20,000). */
  customers?: number;
  /** Days (default 60). */
  days?: number;
  seed?: number;
  /** Memory L of the reference value, in days (default 7). */
  memory?: number;
  discounts?: readonly number[];
  nominal?: number;
  /** Share of customers who get independent uniform random coupons every day (default 0.1). */
  randomizedShare?: number;
  /** Typical coupon sensitivity b (median among the sensitive; default 8). */
  couponSensitivity?: number;
  /** Typical reference sensitivity c (default 10: about the paper's Table 2 effect at L = 7). */
  referenceSensitivity?: number;
  /** Scale of the customer heterogeneity in b and c: 0 makes everyone alike (default 1). */
  heterogeneity?: number;
  /** Share of customers with b = 0 (default 0.15 × heterogeneity, at most 1). */
  insensitiveShare?: number;
  /** Day of week of day 0 (0 = Sunday; default 1). */
  firstDayOfWeek?: number;
}

export interface CouponSimulationConfig {
  customers: number;
  days: number;
  seed: number;
  memory: number;
  discounts: number[];
  nominal: number;
  randomizedShare: number;
  couponSensitivity: number;
  referenceSensitivity: number;
  heterogeneity: number;
  insensitiveShare: number;
  firstDayOfWeek: number;
}

/** Static, observable customer attributes (the pre-period summary the retailer has). */
export interface CouponCustomers {
  count: number;
  tenureDays: Float64Array;
  historicalOrders: Float64Array;
  /** Historical orders that used a coupon. */
  historicalCouponOrders: Float64Array;
  /** Sum of the coupon discounts of those orders. */
  historicalCouponDiscountSum: Float64Array;
  /** Average pre-discount spend of historical orders (0 when none). */
  historicalAverageSpend: Float64Array;
  /** 1 for the randomized group (independent uniform coupons every day). */
  randomized: Uint8Array;
}

/** The true, unobservable parameters (for checks and for the promotion-cycles comparison). */
export interface CouponTruth {
  discounts: number[];
  nominal: number;
  memory: number;
  dayOfWeekEffect: number[];
  engagementPersistence: number;
  cartEngagement: number;
  /** a_i */
  baseline: Float64Array;
  /** b_i */
  couponSensitivity: Float64Array;
  /** c_i */
  referenceSensitivity: Float64Array;
  /** e_i */
  engagementWeight: Float64Array;
  /** Expected pre-discount spend of a purchase. */
  spendMean: Float64Array;
  /** σ of log spend. */
  spendSigma: number;
}

/** One day's log, one entry per customer. */
export interface CouponDayLog {
  day: number;
  dayOfWeek: number;
  /** Index into the discounts of the coupon received. */
  couponLevel: Uint8Array;
  coupon: Float64Array;
  emailOpened: Uint8Array;
  emailClicked: Uint8Array;
  siteViews: Uint16Array;
  productViews: Uint16Array;
  cartViews: Uint16Array;
  checkoutViews: Uint16Array;
  purchased: Uint8Array;
  /** Pre-discount spend (0 without a purchase). */
  spend: Float64Array;
  /** spend · (1 − coupon). */
  revenue: Float64Array;
  /** Cart contents at the end of the day. */
  cartItems: Uint16Array;
  cartValue: Float64Array;
  /** The true purchase probability (not observable; for analysis). */
  purchaseProbability: Float64Array;
  /** The reference value ref_it the customer had (not observable). */
  reference: Float64Array;
}

export function couponSimulationConfig(options: CouponSimulationOptions = {}): CouponSimulationConfig {
  const heterogeneity = options.heterogeneity ?? 1;
  const config: CouponSimulationConfig = {
    customers: options.customers ?? 20_000,
    days: options.days ?? 60,
    seed: options.seed ?? 1,
    memory: options.memory ?? 7,
    discounts: [...(options.discounts ?? COUPON_DISCOUNTS)],
    nominal: options.nominal ?? NOMINAL_DISCOUNT,
    randomizedShare: options.randomizedShare ?? 0.1,
    couponSensitivity: options.couponSensitivity ?? 8,
    referenceSensitivity: options.referenceSensitivity ?? 10,
    heterogeneity,
    insensitiveShare: options.insensitiveShare ?? Math.min(1, 0.15 * heterogeneity),
    firstDayOfWeek: options.firstDayOfWeek ?? 1,
  };
  const c = config;
  if (!Number.isInteger(c.customers) || c.customers < 1 || c.customers > 2 ** 31 - 1) throw badInput(`customers must be a positive integer, got ${c.customers}`);
  if (!Number.isInteger(c.days) || c.days < 1 || c.days >= MAX_DAYS) throw badInput(`days must be an integer from 1 to ${MAX_DAYS - 1}, got ${c.days}`);
  if (!Number.isInteger(c.seed) || c.seed < 0) throw badInput(`seed must be a non-negative integer, got ${c.seed}`);
  if (!Number.isInteger(c.memory) || c.memory < 1 || c.memory > 365) throw badInput(`memory L must be an integer from 1 to 365, got ${c.memory}`);
  if (c.discounts.length < 1 || c.discounts.length > 8) throw badInput(`between 1 and 8 discounts are supported, got ${c.discounts.length}`);
  c.discounts.forEach((d, k) => {
    if (!(d >= 0 && d < 1)) throw badInput(`discounts[${k}] = ${d} is not in [0, 1)`);
    if (k > 0 && !(d > c.discounts[k - 1])) throw badInput(`discounts must be strictly ascending: ${c.discounts.join(',')}`);
  });
  if (!(c.nominal >= 0 && c.nominal < 1)) throw badInput(`nominal discount ${c.nominal} is not in [0, 1)`);
  for (const [name, v] of [['randomizedShare', c.randomizedShare], ['insensitiveShare', c.insensitiveShare]] as const) {
    if (!(v >= 0 && v <= 1)) throw badInput(`${name} must be in [0, 1], got ${v}`);
  }
  for (const [name, v] of [['couponSensitivity', c.couponSensitivity], ['referenceSensitivity', c.referenceSensitivity], ['heterogeneity', c.heterogeneity]] as const) {
    if (!(v >= 0 && Number.isFinite(v))) throw badInput(`${name} must be a non-negative number, got ${v}`);
  }
  if (!Number.isInteger(c.firstDayOfWeek) || c.firstDayOfWeek < 0 || c.firstDayOfWeek > 6) throw badInput(`firstDayOfWeek must be 0..6, got ${c.firstDayOfWeek}`);
  return config;
}

const SPEND_SIGMA = 0.6;

/** Draws the static attributes and the true parameters of every customer. */
export function drawCouponCustomers(config: CouponSimulationConfig): { customers: CouponCustomers; truth: CouponTruth; latent: CustomerLatent } {
  const n = config.customers;
  const customers: CouponCustomers = {
    count: n,
    tenureDays: new Float64Array(n),
    historicalOrders: new Float64Array(n),
    historicalCouponOrders: new Float64Array(n),
    historicalCouponDiscountSum: new Float64Array(n),
    historicalAverageSpend: new Float64Array(n),
    randomized: new Uint8Array(n),
  };
  const truth: CouponTruth = {
    discounts: config.discounts,
    nominal: config.nominal,
    memory: config.memory,
    dayOfWeekEffect: [...DAY_OF_WEEK_EFFECT],
    engagementPersistence: ENGAGEMENT_PERSISTENCE,
    cartEngagement: CART_ENGAGEMENT,
    baseline: new Float64Array(n),
    couponSensitivity: new Float64Array(n),
    referenceSensitivity: new Float64Array(n),
    engagementWeight: new Float64Array(n),
    spendMean: new Float64Array(n),
    spendSigma: SPEND_SIGMA,
  };
  const latent: CustomerLatent = {
    openBase: new Float64Array(n),
    clickBase: new Float64Array(n),
    siteBase: new Float64Array(n),
    cartBase: new Float64Array(n),
    initialEngagement: new Float64Array(n),
  };
  const h = config.heterogeneity;
  const stream = streamId('coupon-customer');
  const groupStream = streamId('coupon-group');
  for (let i = 0; i < n; i++) {
    const rng = new CounterRng(config.seed, stream, i);
    const engaged = rng.normal(); // engagement level
    const couponProne = rng.normal(); // reliance on coupons
    const tenure = Math.min(4000, Math.floor(30 - 700 * Math.log(rng.uniform())));
    const spendMean = Math.exp(Math.log(120) + 0.5 * rng.normal());
    const a = -2.75 + 0.25 * engaged + 0.12 * Math.log1p(tenure / 365) + 0.45 * rng.normal();
    // Coupon sensitivity: log-normal with log-scale loadings on engagement and coupon proneness.
    const z = 0.5 * engaged + 0.5 * couponProne + 0.5 * rng.normal();
    const insensitive = rng.uniform() < config.insensitiveShare;
    const b = insensitive ? 0 : config.couponSensitivity * Math.exp(h * z - (h * h * 0.75) / 2);
    const c = config.referenceSensitivity * Math.exp(h * 0.5 * rng.normal() - (h * h * 0.25) / 2);
    const e = 0.5 + 0.1 * rng.normal();
    truth.baseline[i] = a;
    truth.couponSensitivity[i] = b;
    truth.referenceSensitivity[i] = c;
    truth.engagementWeight[i] = e;
    truth.spendMean[i] = spendMean;
    latent.openBase[i] = -0.6 + 1.0 * engaged;
    latent.clickBase[i] = -1.6 + 0.5 * engaged + 0.4 * couponProne;
    latent.siteBase[i] = -0.4 + 0.6 * engaged;
    latent.cartBase[i] = -1.8 + 0.6 * engaged;
    latent.initialEngagement[i] = rng.normal();
    // Pre-period summary: orders over up to two years at the customer's base rate.
    customers.tenureDays[i] = tenure;
    const orders = rng.poisson(Math.min(tenure, 730) * logistic(a) * 0.8);
    const couponShare = logistic(0.5 + 1.2 * couponProne);
    let couponOrders = 0;
    for (let k = 0; k < orders; k++) if (rng.uniform() < couponShare) couponOrders++;
    const averageCoupon = Math.min(0.2, Math.max(0.1, 0.14 + 0.02 * couponProne + 0.01 * rng.normal()));
    customers.historicalOrders[i] = orders;
    customers.historicalCouponOrders[i] = couponOrders;
    customers.historicalCouponDiscountSum[i] = couponOrders * averageCoupon;
    customers.historicalAverageSpend[i] = orders > 0 ? spendMean * Math.exp((SPEND_SIGMA / Math.sqrt(orders)) * rng.normal()) : 0;
    customers.randomized[i] = new CounterRng(config.seed, groupStream, i).uniform() < config.randomizedShare ? 1 : 0;
  }
  return { customers, truth, latent };
}

/** Per-customer parameters of the auxiliary behavior (not part of the purchase model's truth). */
export interface CustomerLatent {
  openBase: Float64Array;
  clickBase: Float64Array;
  siteBase: Float64Array;
  cartBase: Float64Array;
  initialEngagement: Float64Array;
}

/**
 * The simulated world: customers, their hidden state, and one `step` per day given the coupons
 * offered. Policies are supplied from outside, so the same world serves the historical logs,
 * the randomized group, the A/B test and the promotion-cycle comparison.
 */
export class CouponWorld {
  readonly config: CouponSimulationConfig;
  readonly customers: CouponCustomers;
  readonly truth: CouponTruth;
  private readonly latent: CustomerLatent;
  /** Current day (the next `step` simulates this day). */
  day = 0;
  private readonly engagementState: Float64Array;
  private readonly cartItems: Uint16Array;
  private readonly cartValue: Float64Array;
  /** Ring of the last L coupon levels per customer (255 = no coupon yet). */
  private readonly recentLevels: Uint8Array;
  private readonly outcomeStream = streamId('coupon-outcome');
  private readonly randomStream = streamId('coupon-random');

  constructor(options: CouponSimulationOptions | CouponSimulationConfig = {}) {
    this.config = couponSimulationConfig(options);
    const drawn = drawCouponCustomers(this.config);
    this.customers = drawn.customers;
    this.truth = drawn.truth;
    this.latent = drawn.latent;
    const n = this.config.customers;
    this.engagementState = Float64Array.from(this.latent.initialEngagement);
    this.cartItems = new Uint16Array(n);
    this.cartValue = new Float64Array(n);
    this.recentLevels = new Uint8Array(n * this.config.memory).fill(255);
  }

  get size(): number {
    return this.config.customers;
  }

  dayOfWeek(day = this.day): number {
    return (this.config.firstDayOfWeek + day) % 7;
  }

  /** ref_it of customer i today: the largest discount of the previous L days (d0 without history). */
  reference(i: number): number {
    const L = this.config.memory;
    let best = -1;
    for (let k = 0; k < L; k++) {
      const level = this.recentLevels[i * L + k];
      if (level !== 255 && level > best) best = level;
    }
    return best < 0 ? this.config.nominal : this.config.discounts[best];
  }

  /** Engagement_it at the start of today (latent state plus cart). */
  engagement(i: number): number {
    return this.engagementState[i] + CART_ENGAGEMENT * Math.log1p(this.cartItems[i]);
  }

  /** The true purchase probability of customer i today if offered discount level `level`. */
  purchaseProbability(i: number, level: number): number {
    const t = this.truth;
    const d = this.config.discounts[level], d0 = this.config.nominal;
    return logistic(t.baseline[i] + t.dayOfWeekEffect[this.dayOfWeek()] + t.engagementWeight[i] * this.engagement(i)
      + t.couponSensitivity[i] * (d - d0) - t.referenceSensitivity[i] * (this.reference(i) - d0));
  }

  /** Independent uniform coupon levels for the randomized group today (keyed by customer and day). */
  randomLevels(indices?: ArrayLike<number>): Uint8Array {
    const n = indices ? indices.length : this.size;
    const out = new Uint8Array(n);
    const levels = this.config.discounts.length;
    for (let j = 0; j < n; j++) {
      const i = indices ? indices[j] : j;
      out[j] = new CounterRng(this.config.seed, this.randomStream, i * MAX_DAYS + this.day).integer(levels);
    }
    return out;
  }

  /**
   * Simulates today for every customer given the coupon level each receives, logs it and moves
   * to the next day.
   */
  step(couponLevel: Uint8Array): CouponDayLog {
    const n = this.size;
    if (couponLevel.length !== n) throw badInput(`step needs one coupon level per customer (${n}), got ${couponLevel.length}`);
    if (this.day >= MAX_DAYS - 1) throw badInput(`the simulator supports at most ${MAX_DAYS - 1} days`);
    const { discounts, nominal, memory: L } = this.config;
    const levels = discounts.length;
    const t = this.truth, lat = this.latent;
    const day = this.day;
    const dow = this.dayOfWeek();
    const log: CouponDayLog = {
      day, dayOfWeek: dow,
      couponLevel: Uint8Array.from(couponLevel),
      coupon: new Float64Array(n),
      emailOpened: new Uint8Array(n),
      emailClicked: new Uint8Array(n),
      siteViews: new Uint16Array(n),
      productViews: new Uint16Array(n),
      cartViews: new Uint16Array(n),
      checkoutViews: new Uint16Array(n),
      purchased: new Uint8Array(n),
      spend: new Float64Array(n),
      revenue: new Float64Array(n),
      cartItems: new Uint16Array(n),
      cartValue: new Float64Array(n),
      purchaseProbability: new Float64Array(n),
      reference: new Float64Array(n),
    };
    const innovation = Math.sqrt(1 - ENGAGEMENT_PERSISTENCE ** 2);
    const dayEffect = t.dayOfWeekEffect[dow];
    for (let i = 0; i < n; i++) {
      const level = couponLevel[i];
      if (!(level < levels)) throw badInput(`coupon level ${level} of customer ${i} is not one of the ${levels} discounts`);
      const rng = new CounterRng(this.config.seed, this.outcomeStream, i * MAX_DAYS + day);
      const d = discounts[level];
      const ref = this.reference(i);
      // Engagement evolves before today's e-mail lands (AR(1), stationary N(0, 1)) except on day 0.
      const shock = rng.normal();
      const s = day === 0 ? this.engagementState[i] : ENGAGEMENT_PERSISTENCE * this.engagementState[i] + innovation * shock;
      this.engagementState[i] = s;
      const engagement = s + CART_ENGAGEMENT * Math.log1p(this.cartItems[i]);
      const q = logistic(t.baseline[i] + dayEffect + t.engagementWeight[i] * engagement
        + t.couponSensitivity[i] * (d - nominal) - t.referenceSensitivity[i] * (ref - nominal));
      const purchased = rng.uniform() < q ? 1 : 0;
      const spendDraw = t.spendMean[i] * Math.exp(SPEND_SIGMA * rng.normal() - (SPEND_SIGMA * SPEND_SIGMA) / 2);
      const opened = rng.uniform() < logistic(lat.openBase[i] + s) ? 1 : 0;
      // Clicks respond to the coupon for coupon-sensitive customers: the clicked-coupon features
      // carry information about b_i.
      const clickDraw = rng.uniform();
      const clicked = opened && clickDraw < logistic(lat.clickBase[i] + 0.5 * s + 0.5 * t.couponSensitivity[i] * (d - nominal)) ? 1 : 0;
      const site = rng.poisson(Math.exp(lat.siteBase[i] + 0.5 * s + 1.2 * purchased + 0.8 * clicked));
      const product = rng.poisson(1.5 * site);
      const cart = rng.poisson(Math.exp(lat.cartBase[i] + 0.6 * s + 1.5 * purchased + 0.5 * clicked));
      const checkout = purchased ? 1 + rng.poisson(0.3) : rng.poisson(0.05 * cart);
      const added = rng.poisson(0.5 * cart);
      const itemValue = (t.spendMean[i] / 2.5) * Math.exp(0.3 * rng.normal());
      let items = this.cartItems[i] + added, value = this.cartValue[i] + added * itemValue;
      if (purchased) { items = 0; value = 0; } // the order empties the cart
      items = Math.min(items, 999);
      this.cartItems[i] = items;
      this.cartValue[i] = value;
      log.coupon[i] = d;
      log.emailOpened[i] = opened;
      log.emailClicked[i] = clicked;
      log.siteViews[i] = Math.min(site, 65535);
      log.productViews[i] = Math.min(product, 65535);
      log.cartViews[i] = Math.min(cart, 65535);
      log.checkoutViews[i] = Math.min(checkout, 65535);
      log.purchased[i] = purchased;
      if (purchased) {
        log.spend[i] = spendDraw;
        log.revenue[i] = spendDraw * (1 - d);
      }
      log.cartItems[i] = items;
      log.cartValue[i] = value;
      log.purchaseProbability[i] = q;
      log.reference[i] = ref;
      this.recentLevels[i * L + (day % L)] = level;
    }
    this.day++;
    return log;
  }
}

export interface HistoricalSimulation {
  config: CouponSimulationConfig;
  customers: CouponCustomers;
  truth: CouponTruth;
  /** One log per day, in order (empty when `keepLogs` is false). */
  logs: CouponDayLog[];
  world: CouponWorld;
}

/**
 * The historical data set: the incumbent's coupons for most customers, independent uniform
 * random coupons for the randomized group (paper §3.1). `onDay` sees each day's log as it is
 * produced (for streaming output); logs are kept unless `keepLogs` is false.
 */
export function simulateCoupons(options: CouponSimulationOptions = {}, hooks: { onDay?: (log: CouponDayLog, world: CouponWorld) => void; keepLogs?: boolean } = {}): HistoricalSimulation {
  const world = new CouponWorld(options);
  const logs: CouponDayLog[] = [];
  for (const log of historicalDays(world)) {
    hooks.onDay?.(log, world);
    if (hooks.keepLogs !== false) logs.push(log);
  }
  return { config: world.config, customers: world.customers, truth: world.truth, logs, world };
}

/** The historical days of a fresh world one at a time (incumbent coupons, randomized group random). */
export function* historicalDays(world: CouponWorld): Generator<CouponDayLog> {
  const policy = new IncumbentPolicy(world.customers, { levels: world.config.discounts.length, seed: world.config.seed });
  const randomizedIndex: number[] = [];
  for (let i = 0; i < world.size; i++) if (world.customers.randomized[i]) randomizedIndex.push(i);
  while (world.day < world.config.days) {
    const levels = policy.assign(world.day);
    const random = world.randomLevels(randomizedIndex);
    randomizedIndex.forEach((i, j) => { levels[i] = random[j]; });
    yield world.step(levels);
  }
}

/**
 * The true parameters of a simulation, for comparing policies against the truth (e.g. promotion
 * cycles vs the myopic policy).
 */
export function couponTruth(options: CouponSimulationOptions = {}): { config: CouponSimulationConfig; customers: CouponCustomers; truth: CouponTruth } {
  const config = couponSimulationConfig(options);
  const { customers, truth } = drawCouponCustomers(config);
  return { config, customers, truth };
}

/**
 * Customer i's expected revenue per unit of spend when offered discount level `offered` with
 * reference discount level `reference`, at average engagement and day effect:
 * gain[offered][reference] = Λ(a + τ̄ + b(d_o − d0) − c(d_r − d0)) · (1 − d_o) · spendMean.
 * It is reference-monotone (decreasing in the reference discount) since c ≥ 0.
 */
export function customerGainMatrix(truth: CouponTruth, i: number): number[][] {
  const { discounts, nominal } = truth;
  const tau = truth.dayOfWeekEffect.reduce((s, x) => s + x, 0) / truth.dayOfWeekEffect.length;
  return discounts.map((dOffered) => discounts.map((dReference) =>
    logistic(truth.baseline[i] + tau + truth.couponSensitivity[i] * (dOffered - nominal) - truth.referenceSensitivity[i] * (dReference - nominal))
      * (1 - dOffered) * truth.spendMean[i]));
}
