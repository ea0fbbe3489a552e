// The experiment simulator (SPEC §1.1 data-generating process, §1.4 paper design): markets with
// a post-discount price and a wholesale cost, customers with the slides' 14 characteristics
// (standardized over the sample), a randomized broadcasting requirement, then share, purchase and
// referral outcomes. Market shocks ξy, ξw are calibrated so that the paper design reproduces the
// slides' propensities to share and to purchase per price group, drawn at random, or given.
// Every random draw is keyed by (seed, purpose, customer index): the data do not depend on how
// the work is chunked.
import { CounterRng, streamId } from '../random.js';
import { PromoptError, badInput } from '../errors.js';
import { logistic, softplus } from '../kernels/math.js';
import { PAPER_PARAMETERS, PAPER_SUMMARY } from './paper.js';
import { validateParameters, type SharingParameters } from './model.js';
import { COVARIATE_NAMES, CovariateMoments, REGIONS, cityComponents, covariateIndices, drawRawCovariates } from './covariates.js';
import { concatSharingData, type SharingData } from './data.js';

/** One market of a design. */
export interface DesignMarket {
  name: string;
  /** Post-discount price offered in the market (the design price; the optimal rule replaces it). */
  price: number;
  /** Wholesale cost MC_m. */
  marginalCost: number;
  customers: number;
  /** Region index (city characteristics differ by region); default: market index mod 3. */
  region?: number;
  /** Propensities the calibrated shocks must reproduce in this market. */
  target?: { shareRate: number; purchaseRate: number };
}

/**
 * A design of one's own: either explicit markets, or a price list with wholesale costs (one per
 * price, or one for all) spread over `marketCount` markets (default: one per price; market m gets
 * price m mod P), with `customers` in total or `customersPerMarket` each. Markets of a price list
 * whose price is one of the slides' (59, 79, 88, 98, 118) get that group's rates as calibration
 * targets.
 */
export interface CustomDesign {
  markets?: DesignMarket[];
  prices?: number[];
  marginalCosts?: number[];
  marketCount?: number;
  customers?: number;
  customersPerMarket?: number;
}

export type PriceRule = 'design' | 'optimal';
export type ShockSource = 'calibrated' | 'random' | 'given';

export interface SimulationOptions {
  design: 'paper' | CustomDesign;
  seed: number;
  /** True parameters (default: the slides' estimates). Their shocks are used when `shocks` is 'given'. */
  params?: SharingParameters;
  /** 'design': the design's prices; 'optimal': each market's price maximizes Π_m(p, 1/2, θ) given a noisy cost. */
  priceRule?: PriceRule;
  /** Standard deviation of η_m in M̃C_m = MC_m + η_m, the cost the firm prices with under the optimal rule (default 1). */
  marginalCostNoise?: number;
  /**
   * Where ξy, ξw come from. Default: 'given' when `params` carries shocks, else 'calibrated' for
   * the paper design at design prices, else 'random'.
   */
  shocks?: ShockSource;
  /** Standard deviations of random shocks (default y 0.25, w 0.05). */
  shockSd?: { y: number; w: number };
  /**
   * 'sample' (default): shocks make the simulated counts hit the targets (common random numbers,
   * so the realized rates match up to one customer); 'expected': the model's expected rates hit them.
   */
  calibration?: 'sample' | 'expected';
  /** Paper design only: total customers, the slides' group sizes scaled proportionally (default 23,266). */
  customers?: number;
  /** Highest price the optimal rule considers (default 188, the regular price). */
  regularPrice?: number;
  /** Standardized covariates are rounded to this many decimals (default 6) so files stay compact and read back exactly. */
  covariateDecimals?: number;
  /** Called during the standardization pass over all customers (for progress bars). */
  onProgress?: (done: number, total: number) => void;
}

/** What the simulator did in one market. */
export interface SimulatedMarket {
  name: string;
  region: string;
  customers: number;
  /** Index of the market's first customer in the data. */
  firstCustomer: number;
  designPrice: number;
  /** Price in the data. */
  price: number;
  marginalCost: number;
  /** M̃C_m the firm priced with (optimal rule); equals marginalCost under the design rule. */
  perceivedCost: number;
  xi_y: number;
  xi_w: number;
  target?: { shareRate: number; purchaseRate: number };
  /** The model's expected rates at the market's price and shocks (given the realized assignments). */
  expected: { shareRate: number; purchaseRate: number; referralsPerCustomer: number };
}

export interface SimulationPlan {
  params: SharingParameters;
  markets: SimulatedMarket[];
  customers: number;
  priceRule: PriceRule;
  shocks: ShockSource;
  /** Means and standard deviations the raw covariates were standardized with. */
  standardization: { names: string[]; mean: number[]; sd: number[] };
}

/** A plan plus what the row generator needs (the customer factory, seed and cached markets). */
export interface PreparedSimulation extends SimulationPlan {
  factory: CustomerFactory;
  seed: number;
  cache: Map<number, MarketCustomers>;
}

export interface SimulationResult {
  data: SharingData;
  /** The true parameters, with the market shocks used. */
  params: SharingParameters;
  markets: SimulatedMarket[];
  plan: SimulationPlan;
}

export const PAPER_CUSTOMERS = PAPER_SUMMARY.reduce((n, g) => n + g.customers, 0);

/**
 * The paper design's 21 markets (3 regions × 7 promotion cycles) by cycle: the price each region
 * got. Cycles where regions got different prices mirror the slides' "98/118"-type cycles; the
 * counts per price are the slides' (59: 6, 79: 4, 88: 5, 98: 2, 118: 4).
 */
const PAPER_CYCLES: ReadonlyArray<readonly [number, number, number]> = [
  [79, 79, 79],
  [59, 59, 59],
  [59, 59, 59],
  [88, 88, 88],
  [79, 98, 98],
  [88, 88, 118],
  [118, 118, 118],
];
/** Relative size of a region's market within a price group (east is the largest). */
const REGION_WEIGHT = [0.9, 1.2, 0.9];

/** Splits `total` in proportion to `weights` (largest remainders), each part at least 1. */
function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const parts = exact.map(Math.floor);
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const left = total - parts.reduce((a, b) => a + b, 0);
  for (let k = 0; k < left; k++) parts[order[k % parts.length][1]]++;
  if (parts.some((p) => p < 1)) throw badInput(`${total} customers are too few for ${weights.length} markets`);
  return parts;
}

/** The slides' design: markets named like "north-c03", sizes scaled to `customers` in total. */
export function paperDesign(customers = PAPER_CUSTOMERS): DesignMarket[] {
  if (!Number.isSafeInteger(customers) || customers < 21) throw badInput(`the paper design needs at least 21 customers, got ${customers}`);
  const groupSizes = apportion(customers, PAPER_SUMMARY.map((g) => g.customers));
  const markets: DesignMarket[] = [];
  const cells: Array<{ cycle: number; region: number; group: number }> = [];
  PAPER_CYCLES.forEach((prices, cycle) => prices.forEach((price, region) => {
    const group = PAPER_SUMMARY.findIndex((g) => g.price === price);
    cells.push({ cycle, region, group });
  }));
  const sizes = new Array<number>(cells.length).fill(0);
  PAPER_SUMMARY.forEach((_, group) => {
    const members = cells.map((c, i) => [c, i] as const).filter(([c]) => c.group === group);
    const parts = apportion(groupSizes[group], members.map(([c]) => REGION_WEIGHT[c.region]));
    members.forEach(([, i], k) => (sizes[i] = parts[k]));
  });
  cells.forEach((c, i) => {
    const g = PAPER_SUMMARY[c.group];
    markets.push({
      name: `${REGIONS[c.region]}-c${String(c.cycle + 1).padStart(2, '0')}`,
      price: g.price,
      marginalCost: g.wholesaleCost,
      customers: sizes[i],
      region: c.region,
      target: { shareRate: g.shareRate, purchaseRate: g.purchaseRate },
    });
  });
  return markets;
}

function finitePositive(name: string, x: unknown, allowZero = false): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0 || (!allowZero && x === 0)) throw badInput(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${x}`);
  return x;
}

function customerCountOf(name: string, x: unknown): number {
  if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 1) throw badInput(`${name} must be a positive integer, got ${x}`);
  return x;
}

/** A custom design's markets, validated. */
export function customDesign(design: CustomDesign): DesignMarket[] {
  let markets: DesignMarket[];
  if (design.markets) {
    if (design.prices || design.marginalCosts) throw badInput('a custom design gives either markets or prices and costs, not both');
    markets = design.markets.map((m) => ({ ...m }));
  } else {
    const prices = design.prices ?? PAPER_SUMMARY.map((g) => g.price);
    const costs = design.marginalCosts ?? (design.prices ? undefined : PAPER_SUMMARY.map((g) => g.wholesaleCost));
    if (!costs) throw badInput('a custom design with a price list needs wholesale costs (one per price, or one for all)');
    if (prices.length === 0) throw badInput('the custom design has no prices');
    if (costs.length !== 1 && costs.length !== prices.length) throw badInput(`${costs.length} wholesale costs for ${prices.length} prices (give one per price, or one for all)`);
    const count = design.marketCount ?? prices.length;
    customerCountOf('the number of markets', count);
    let sizes: number[];
    if (design.customersPerMarket !== undefined) {
      if (design.customers !== undefined) throw badInput('give customers in total or per market, not both');
      sizes = new Array<number>(count).fill(customerCountOf('customers per market', design.customersPerMarket));
    } else {
      sizes = apportion(customerCountOf('customers', design.customers ?? PAPER_CUSTOMERS), new Array<number>(count).fill(1));
    }
    markets = sizes.map((customers, m) => {
      const price = prices[m % prices.length];
      // A price of the slides' table brings that group's rates as targets (used by calibrated shocks).
      const slides = PAPER_SUMMARY.find((g) => g.price === price);
      return {
        name: `${REGIONS[m % 3]}-c${String(Math.floor(m / 3) + 1).padStart(2, '0')}`,
        price,
        marginalCost: costs.length === 1 ? costs[0] : costs[m % prices.length],
        customers,
        region: m % 3,
        ...(slides ? { target: { shareRate: slides.shareRate, purchaseRate: slides.purchaseRate } } : {}),
      };
    });
  }
  if (markets.length === 0) throw badInput('the custom design has no markets');
  const seen = new Set<string>();
  markets.forEach((m, k) => {
    if (typeof m.name !== 'string' || m.name === '' || m.name.trim() !== m.name || /[",\r\n]/.test(m.name)) throw badInput(`market ${k}: name "${m.name}" must be non-empty text without quotes, commas or surrounding spaces`);
    if (seen.has(m.name)) throw badInput(`market name "${m.name}" appears twice`);
    seen.add(m.name);
    finitePositive(`market "${m.name}": price`, m.price, true);
    finitePositive(`market "${m.name}": wholesale cost`, m.marginalCost, true);
    customerCountOf(`market "${m.name}": customers`, m.customers);
    m.region ??= k % 3;
    if (!Number.isInteger(m.region) || m.region < 0) throw badInput(`market "${m.name}": region must be a non-negative integer, got ${m.region}`);
    if (m.target) {
      for (const key of ['shareRate', 'purchaseRate'] as const) {
        const t = m.target[key];
        if (!(t > 0 && t < 1)) throw badInput(`market "${m.name}": target ${key} must lie strictly between 0 and 1, got ${t}`);
      }
    }
  });
  return markets;
}

const ASSIGNMENT_STREAM = streamId('sharing.assignment');
const SHARE_STREAM = streamId('sharing.share');
const PURCHASE_STREAM = streamId('sharing.purchase');
const REFERRAL_STREAM = streamId('sharing.referrals');
const SHOCK_STREAM = streamId('sharing.shocks');
const COST_NOISE_STREAM = streamId('sharing.costNoise');

/** One market's customers: standardized covariates and shock-free primitives. */
export interface MarketCustomers {
  covariates: Float64Array[];
  /** v̄ + x'β_v (ξy excluded) */
  baseUtility: Float64Array;
  /** α_i = ᾱ + x'β_α */
  priceSensitivity: Float64Array;
  /** S̄C + x'β_sc (ξw excluded) */
  baseShareCost: Float64Array;
  /** r_i = exp(r0 + x'β_r) */
  expectedReferrals: Float64Array;
  assignment: Uint8Array;
}

/** Generates customers [first, first + count) of a market (covariates standardized and rounded). */
export class CustomerFactory {
  private readonly cities: Float64Array[];
  private readonly indices: number[];
  private readonly raw = new Float64Array(COVARIATE_NAMES.length);
  private readonly scale: number;
  constructor(
    private readonly seed: number,
    private readonly params: SharingParameters,
    private readonly mean: Float64Array,
    private readonly sd: Float64Array,
    decimals: number,
  ) {
    this.cities = cityComponents(seed);
    this.indices = covariateIndices(params.covariates);
    this.scale = 10 ** decimals;
  }

  make(first: number, count: number, region: number): MarketCustomers {
    const k = this.indices.length;
    const p = this.params;
    const out: MarketCustomers = {
      covariates: Array.from({ length: k }, () => new Float64Array(count)),
      baseUtility: new Float64Array(count),
      priceSensitivity: new Float64Array(count),
      baseShareCost: new Float64Array(count),
      expectedReferrals: new Float64Array(count),
      assignment: new Uint8Array(count),
    };
    for (let i = 0; i < count; i++) {
      const index = first + i;
      drawRawCovariates(this.seed, index, region, this.cities, this.raw);
      let xv = 0, xa = 0, xs = 0, xr = 0;
      for (let j = 0; j < k; j++) {
        const src = this.indices[j];
        const x = Math.round(((this.raw[src] - this.mean[src]) / this.sd[src]) * this.scale) / this.scale;
        out.covariates[j][i] = x;
        xv += x * p.beta_v[j];
        xa += x * p.beta_alpha[j];
        xs += x * p.beta_sc[j];
        xr += x * p.beta_r[j];
      }
      out.baseUtility[i] = p.vbar + xv;
      out.priceSensitivity[i] = p.abar + xa;
      out.baseShareCost[i] = p.scbar + xs;
      out.expectedReferrals[i] = Math.exp(p.r0 + xr);
      out.assignment[i] = new CounterRng(this.seed, ASSIGNMENT_STREAM, index).uniform() < 0.5 ? 1 : 0;
    }
    return out;
  }
}

/** Expected share and purchase rates of a market at price p and shocks (given the assignments). */
function expectedRates(c: MarketCustomers, price: number, xiY: number, xiW: number, sigma: number): { shareRate: number; purchaseRate: number; referralsPerCustomer: number } {
  const n = c.baseUtility.length;
  let share = 0, purchase = 0, referrals = 0;
  for (let i = 0; i < n; i++) {
    const u = c.baseUtility[i] + xiY - c.priceSensitivity[i] * price;
    const s = c.assignment[i];
    const shareProbability = logistic(sigma * (-(c.baseShareCost[i] + xiW) + (s ? softplus(u) : 0)));
    share += shareProbability;
    purchase += (s ? shareProbability : 1) * logistic(u);
    referrals += shareProbability * c.expectedReferrals[i];
  }
  return { shareRate: share / n, purchaseRate: purchase / n, referralsPerCustomer: referrals / n };
}

/** Widens [lo, hi] until f(lo) ≤ target ≤ f(hi) for an increasing f. */
function bracket(f: (x: number) => number, target: number, lo: number, hi: number, what: string): [number, number, number, number] {
  let flo = f(lo), fhi = f(hi);
  for (let widen = 0; flo > target || fhi < target; widen++) {
    if (widen > 30) throw new PromoptError('NOT_CONVERGED', `${what}: the target ${target} is out of reach`);
    const width = hi - lo;
    if (flo > target) flo = f((lo -= width));
    if (fhi < target) fhi = f((hi += width));
  }
  return [lo, hi, flo, fhi];
}

/** Root of an increasing step function (simulated counts) by bisection: exact hit or a 1e-12 bracket. */
function bisectIncreasing(f: (x: number) => number, target: number, lo0: number, hi0: number, what: string): number {
  let [lo, hi] = bracket(f, target, lo0, hi0, what);
  for (let it = 0; it < 200 && hi - lo > 1e-12 * Math.max(1, Math.abs(lo)); it++) {
    const mid = 0.5 * (lo + hi);
    const value = f(mid);
    if (value === target) return mid;
    if (value < target) lo = mid;
    else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/** Root of a smooth increasing function by the Illinois method (regula falsi that keeps a bracket). */
function solveIncreasing(f: (x: number) => number, target: number, lo0: number, hi0: number, what: string, tolerance = 1e-11): number {
  let [lo, hi, flo, fhi] = bracket(f, target, lo0, hi0, what);
  flo -= target;
  fhi -= target;
  let side = 0;
  for (let it = 0; it < 200; it++) {
    if (Math.abs(flo) <= tolerance) return lo;
    if (Math.abs(fhi) <= tolerance) return hi;
    const x = fhi === flo ? 0.5 * (lo + hi) : lo - (flo * (hi - lo)) / (fhi - flo);
    const fx = f(x) - target;
    if (Math.abs(fx) <= tolerance || hi - lo < 1e-14 * Math.max(1, Math.abs(x))) return x;
    if (fx < 0) {
      lo = x; flo = fx;
      if (side === -1) fhi /= 2;
      side = -1;
    } else {
      hi = x; fhi = fx;
      if (side === 1) flo /= 2;
      side = 1;
    }
  }
  throw new PromoptError('NOT_CONVERGED', `${what}: no convergence in 200 iterations`);
}

/**
 * Calibrates (ξy, ξw) of one market: for each ξy, ξw is solved to match the share rate; then ξy
 * is solved to match the purchase rate. 'sample' works on the market's own uniforms (customer i
 * shares iff ξw < c_i, so ξw sits midway between the order statistics around the target count).
 */
function calibrateMarket(
  c: MarketCustomers, price: number, sigma: number, target: { shareRate: number; purchaseRate: number },
  mode: 'sample' | 'expected', uniforms: { share: Float64Array; purchase: Float64Array }, name: string,
): { xiY: number; xiW: number } {
  const n = c.baseUtility.length;
  const utility = new Float64Array(n); // u_i without ξy
  for (let i = 0; i < n; i++) utility[i] = c.baseUtility[i] - c.priceSensitivity[i] * price;
  if (mode === 'sample') {
    const shareTarget = Math.round(target.shareRate * n);
    const purchaseTarget = Math.round(target.purchaseRate * n);
    const threshold = new Float64Array(n);
    const sorted = new Float64Array(n);
    const shareLogit = new Float64Array(n);
    const purchaseLogit = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      shareLogit[i] = Math.log(uniforms.share[i] / (1 - uniforms.share[i]));
      purchaseLogit[i] = Math.log(uniforms.purchase[i] / (1 - uniforms.purchase[i]));
    }
    const shareShock = (xiY: number): number => {
      for (let i = 0; i < n; i++) {
        threshold[i] = -c.baseShareCost[i] + (c.assignment[i] ? softplus(utility[i] + xiY) : 0) - shareLogit[i] / sigma;
      }
      sorted.set(threshold);
      sorted.sort();
      // Exactly shareTarget thresholds lie above ξw: between the (n−T)-th and (n−T+1)-th smallest.
      const below = n - shareTarget;
      if (below <= 0) return sorted[0] - 1;
      if (below >= n) return sorted[n - 1] + 1;
      return 0.5 * (sorted[below - 1] + sorted[below]);
    };
    let xiW = 0;
    const purchases = (xiY: number): number => {
      xiW = shareShock(xiY);
      let count = 0;
      for (let i = 0; i < n; i++) {
        const entered = c.assignment[i] === 0 || threshold[i] > xiW;
        if (entered && purchaseLogit[i] < utility[i] + xiY) count++;
      }
      return count;
    };
    const xiY = bisectIncreasing(purchases, purchaseTarget, -5, 5, `market "${name}": calibrating the purchase rate`);
    xiW = shareShock(xiY);
    return { xiY, xiW };
  }
  let xiW = 0;
  const shareRate = (xiY: number, w: number): number => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += logistic(sigma * (-(c.baseShareCost[i] + w) + (c.assignment[i] ? softplus(utility[i] + xiY) : 0)));
    return sum / n;
  };
  const purchaseRate = (xiY: number): number => {
    // Share rate decreases in ξw: solve on −ξw, which increases it.
    xiW = -solveIncreasing((negW) => shareRate(xiY, -negW), target.shareRate, -xiW - 0.05, -xiW + 0.05, `market "${name}": calibrating the share rate`);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const u = utility[i] + xiY;
      const entry = c.assignment[i] ? logistic(sigma * (-(c.baseShareCost[i] + xiW) + softplus(u))) : 1;
      sum += entry * logistic(u);
    }
    return sum / n;
  };
  const xiY = solveIncreasing(purchaseRate, target.purchaseRate, -1, 1, `market "${name}": calibrating the purchase rate`);
  purchaseRate(xiY);
  return { xiY, xiW };
}

/** Inputs of the firm's market profit Π_m(p, 1/2, θ): one entry per customer of the market. */
export interface MarketProfitCustomers {
  /** v_i including ξy_m */
  baselineUtility: ArrayLike<number>;
  priceSensitivity: ArrayLike<number>;
  /** SC_i including ξw_m */
  shareCost: ArrayLike<number>;
  expectedReferrals: ArrayLike<number>;
}

/**
 * Π_m(p, 1/2, θ) = Σ_i [(1 + S^S_i(p))/2 · D_i(p)(p − cost) + (S^NS_i + S^S_i(p))/2 · r_i L]:
 * the firm's expected market profit when half the customers get the broadcasting requirement.
 */
export function marketProfit(customers: MarketProfitCustomers, price: number, sigma: number, leadValue: number, cost: number): number {
  const n = customers.baselineUtility.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const u = customers.baselineUtility[i] - customers.priceSensitivity[i] * price;
    const sc = customers.shareCost[i];
    const shareS = logistic(sigma * (-sc + softplus(u)));
    const shareNS = logistic(-sigma * sc);
    total += 0.5 * (1 + shareS) * logistic(u) * (price - cost) + 0.5 * (shareNS + shareS) * customers.expectedReferrals[i] * leadValue;
  }
  return total;
}

/**
 * The price in [0, regularPrice] maximizing Π_m(p, 1/2, θ): the best point of a unit grid, then
 * golden-section search on the two grid cells around it (to ~1e-9 CNY), so the firm's
 * first-order condition holds at an interior optimum.
 */
export function optimalMarketPrice(customers: MarketProfitCustomers, sigma: number, leadValue: number, cost: number, regularPrice = 188): number {
  if (!(regularPrice > 0)) throw badInput(`the regular price must be positive, got ${regularPrice}`);
  const profit = (p: number) => marketProfit(customers, p, sigma, leadValue, cost);
  let best = 0, bestProfit = -Infinity;
  const steps = Math.ceil(regularPrice);
  for (let k = 0; k <= steps; k++) {
    const p = Math.min(k, regularPrice);
    const value = profit(p);
    if (value > bestProfit) {
      bestProfit = value;
      best = p;
    }
  }
  let lo = Math.max(0, best - 1), hi = Math.min(regularPrice, best + 1);
  const ratio = (Math.sqrt(5) - 1) / 2;
  let x1 = hi - ratio * (hi - lo), x2 = lo + ratio * (hi - lo);
  let f1 = profit(x1), f2 = profit(x2);
  while (hi - lo > 1e-9) {
    if (f1 < f2) {
      lo = x1; x1 = x2; f1 = f2;
      x2 = lo + ratio * (hi - lo); f2 = profit(x2);
    } else {
      hi = x2; x2 = x1; f2 = f1;
      x1 = hi - ratio * (hi - lo); f1 = profit(x1);
    }
  }
  const candidate = 0.5 * (lo + hi);
  return profit(candidate) >= bestProfit ? candidate : best;
}

/** At most this many customers' covariates are kept from planning for the output pass; the rest are regenerated. */
const CACHE_CUSTOMERS = 1 << 20;

function resolveOptions(options: SimulationOptions) {
  if (!Number.isSafeInteger(options.seed) || options.seed < 0) throw badInput(`the seed must be a non-negative integer, got ${options.seed}`);
  const params = validateParameters(options.params ?? PAPER_PARAMETERS, 'simulation parameters');
  const priceRule = options.priceRule ?? 'design';
  if (priceRule !== 'design' && priceRule !== 'optimal') throw badInput(`unknown price rule "${priceRule}" (design or optimal)`);
  let designMarkets: DesignMarket[];
  if (options.design === 'paper') designMarkets = paperDesign(options.customers ?? PAPER_CUSTOMERS);
  else {
    if (options.customers !== undefined) throw badInput('`customers` scales the paper design; a custom design gives its own customer counts');
    designMarkets = customDesign(options.design);
  }
  const hasGivenShocks = Object.keys(params.xi_y).length + Object.keys(params.xi_w).length > 0;
  const shocks: ShockSource = options.shocks
    ?? (hasGivenShocks ? 'given' : options.design === 'paper' && priceRule === 'design' ? 'calibrated' : 'random');
  if (!['calibrated', 'random', 'given'].includes(shocks)) throw badInput(`unknown shock source "${shocks}" (calibrated, random or given)`);
  if (shocks === 'calibrated') {
    const missing = designMarkets.find((m) => !m.target);
    if (missing) throw badInput(`market "${missing.name}" has no target rates to calibrate shocks to (use random or given shocks)`);
  }
  const shockSd = options.shockSd ?? { y: 0.25, w: 0.05 };
  finitePositive('the random ξy standard deviation', shockSd.y, true);
  finitePositive('the random ξw standard deviation', shockSd.w, true);
  const noise = finitePositive('the marginal-cost noise', options.marginalCostNoise ?? 1, true);
  const calibration = options.calibration ?? 'sample';
  if (calibration !== 'sample' && calibration !== 'expected') throw badInput(`unknown calibration "${calibration}" (sample or expected)`);
  const decimals = options.covariateDecimals ?? 6;
  if (!Number.isInteger(decimals) || decimals < 0 || decimals > 15) throw badInput(`covariate decimals must be an integer from 0 to 15, got ${decimals}`);
  const regularPrice = finitePositive('the regular price', options.regularPrice ?? 188);
  return { params, priceRule, designMarkets, shocks, shockSd, noise, calibration, decimals, regularPrice };
}

/**
 * Everything market-level: standardization constants (a pass over all customers), shocks and
 * prices. The customer rows come from `simulatedChunks(plan)`.
 */
export function planSimulation(options: SimulationOptions): PreparedSimulation {
  const { params, priceRule, designMarkets, shocks, shockSd, noise, calibration, decimals, regularPrice } = resolveOptions(options);
  const seed = options.seed;
  const total = designMarkets.reduce((n, m) => n + m.customers, 0);
  let done = 0;
  // Pass 1: standardization constants over the whole sample (in customer order: deterministic).
  const moments = new CovariateMoments(COVARIATE_NAMES.length);
  const cities = cityComponents(seed);
  const raw = new Float64Array(COVARIATE_NAMES.length);
  let first = 0;
  const firstCustomer: number[] = [];
  for (const m of designMarkets) {
    firstCustomer.push(first);
    for (let i = 0; i < m.customers; i++) {
      drawRawCovariates(seed, first + i, m.region!, cities, raw);
      moments.add(raw);
      if (((done + i) & 0xffff) === 0) options.onProgress?.(done + i, total);
    }
    first += m.customers;
    done += m.customers;
  }
  const sd = moments.sd();
  const factory = new CustomerFactory(seed, params, moments.mean, sd, decimals);
  const cache = new Map<number, MarketCustomers>();
  let cached = 0;
  const xiY: Record<string, number> = {};
  const xiW: Record<string, number> = {};
  const markets: SimulatedMarket[] = designMarkets.map((m, k) => {
    let y = 0, w = 0;
    if (shocks === 'given') {
      y = params.xi_y[m.name] ?? 0;
      w = params.xi_w[m.name] ?? 0;
    } else if (shocks === 'random') {
      const rng = new CounterRng(seed, SHOCK_STREAM, k);
      y = shockSd.y * rng.normal();
      w = shockSd.w * rng.normal();
    }
    const needCustomers = shocks === 'calibrated' || priceRule === 'optimal';
    const customers = needCustomers ? factory.make(firstCustomer[k], m.customers, m.region!) : undefined;
    if (customers && cached + m.customers <= CACHE_CUSTOMERS) {
      cache.set(k, customers);
      cached += m.customers;
    }
    if (shocks === 'calibrated') {
      const share = new Float64Array(m.customers), purchase = new Float64Array(m.customers);
      for (let i = 0; i < m.customers; i++) {
        share[i] = new CounterRng(seed, SHARE_STREAM, firstCustomer[k] + i).uniform();
        purchase[i] = new CounterRng(seed, PURCHASE_STREAM, firstCustomer[k] + i).uniform();
      }
      ({ xiY: y, xiW: w } = calibrateMarket(customers!, m.price, params.sigma, m.target!, calibration, { share, purchase }, m.name));
    }
    let price = m.price;
    let perceivedCost = m.marginalCost;
    if (priceRule === 'optimal') {
      perceivedCost = m.marginalCost + noise * new CounterRng(seed, COST_NOISE_STREAM, k).normal();
      const c = customers!;
      const shifted = {
        baselineUtility: c.baseUtility.map((v) => v + y),
        priceSensitivity: c.priceSensitivity,
        shareCost: c.baseShareCost.map((s) => s + w),
        expectedReferrals: c.expectedReferrals,
      };
      price = optimalMarketPrice(shifted, params.sigma, params.L, perceivedCost, regularPrice);
    }
    xiY[m.name] = y;
    xiW[m.name] = w;
    const expected = customers ? expectedRates(customers, price, y, w, params.sigma) : { shareRate: NaN, purchaseRate: NaN, referralsPerCustomer: NaN };
    return {
      name: m.name, region: REGIONS[m.region! % 3], customers: m.customers, firstCustomer: firstCustomer[k],
      designPrice: m.price, price, marginalCost: m.marginalCost, perceivedCost, xi_y: y, xi_w: w,
      ...(m.target ? { target: { ...m.target } } : {}), expected,
    };
  });
  return {
    params: { ...params, xi_y: xiY, xi_w: xiW },
    markets,
    customers: total,
    priceRule,
    shocks,
    standardization: { names: params.covariates.slice(), mean: covariateIndices(params.covariates).map((j) => moments.mean[j]), sd: covariateIndices(params.covariates).map((j) => sd[j]) },
    factory,
    seed,
    cache,
  };
}

/**
 * The customer rows of a plan, market by market, in chunks of at most `chunkRows` customers.
 * Each chunk lists every market of the design in `marketNames` (indices are global).
 */
export function* simulatedChunks(plan: PreparedSimulation, chunkRows = 1 << 18, onProgress?: (done: number, total: number) => void): Generator<SharingData> {
  const { params, markets, factory, seed, cache } = plan;
  const names = markets.map((m) => m.name);
  const sigma = params.sigma;
  let done = 0;
  for (let k = 0; k < markets.length; k++) {
    const m = markets[k];
    const cached = cache.get(k);
    for (let start = 0; start < m.customers; start += chunkRows) {
      const count = Math.min(chunkRows, m.customers - start);
      const first = m.firstCustomer + start;
      const c = cached ?? factory.make(first, count, REGIONS.indexOf(m.region as (typeof REGIONS)[number]));
      const offset = cached ? start : 0;
      const chunk: SharingData = {
        marketNames: names.slice(),
        market: new Int32Array(count).fill(k),
        price: new Float64Array(count).fill(m.price),
        marginalCost: new Float64Array(count).fill(m.marginalCost),
        assignment: new Uint8Array(count),
        shared: new Uint8Array(count),
        purchased: new Uint8Array(count),
        referrals: new Float64Array(count),
        covariateNames: params.covariates.slice(),
        covariates: c.covariates.map((col) => (cached ? col.slice(offset, offset + count) : col)),
      };
      for (let i = 0; i < count; i++) {
        const index = first + i;
        const j = offset + i;
        // SPEC §1.1 data-generating process.
        const u = c.baseUtility[j] + m.xi_y - c.priceSensitivity[j] * m.price;
        const s = c.assignment[j];
        const shareProbability = logistic(sigma * (-(c.baseShareCost[j] + m.xi_w) + (s ? softplus(u) : 0)));
        const w = new CounterRng(seed, SHARE_STREAM, index).uniform() < shareProbability ? 1 : 0;
        const entered = s === 0 || w === 1;
        const y = entered && new CounterRng(seed, PURCHASE_STREAM, index).uniform() < logistic(u) ? 1 : 0;
        chunk.assignment[i] = s;
        chunk.shared[i] = w;
        chunk.purchased[i] = y;
        chunk.referrals[i] = w ? new CounterRng(seed, REFERRAL_STREAM, index).poisson(c.expectedReferrals[j]) : 0;
      }
      done += count;
      onProgress?.(done, plan.customers);
      yield chunk;
    }
    // Free the market's kept covariates (a later pass regenerates the same values).
    cache.delete(k);
  }
}

/** Simulates a whole experiment in memory (see `planSimulation` + `simulatedChunks` for streaming). */
export function simulateSharing(options: SimulationOptions): SimulationResult {
  const plan = planSimulation(options);
  const data = concatSharingData([...simulatedChunks(plan)]);
  const { factory: _f, cache: _c, seed: _s, ...publicPlan } = plan;
  return { data, params: plan.params, markets: plan.markets, plan: publicPlan };
}
