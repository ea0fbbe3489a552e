// The slides' 14 customer characteristics, drawn with plausible raw distributions (the real data
// are not public): counts are over-dispersed (Poisson with a lognormal rate), monetary values are
// lognormal, binaries Bernoulli, a city's principal component is shared by the customers of that
// city, and share clicks are zero-inflated. Three latent traits (engagement, deal proneness,
// sociability) correlate the characteristics where one would expect it. Every draw is keyed by
// (seed, customer index), so a customer's characteristics do not depend on chunking.
import { CounterRng, streamId } from '../random.js';
import { badInput } from '../errors.js';
import { logistic } from '../kernels/math.js';
import { PAPER_COVARIATES } from './paper.js';

/** Covariate names in the slides' order (the order of `drawRawCovariates` output). */
export const COVARIATE_NAMES: readonly string[] = PAPER_COVARIATES.map((c) => c.name);

/** Regions of the paper design; a custom design's market m lies in region m mod 3. */
export const REGIONS = ['north', 'east', 'south'] as const;

/** Cities per region; customers concentrate in the large ones. */
const CITIES_PER_REGION = 40;
/** Mean of the city-characteristics component by region (richer east, then south). */
const REGION_CITY_MEAN = [-0.4, 0.5, 0.2];
/** "Days since most recent purchase" is capped at two years. */
export const MAX_DAYS_SINCE_PURCHASE = 730;

const COVARIATE_STREAM = streamId('sharing.covariates');
const CITY_STREAM = streamId('sharing.city');

/** A pair of independent standard normals from one Box–Muller step (both halves used). */
function normalPair(rng: CounterRng, out: Float64Array, at: number): void {
  const radius = Math.sqrt(-2 * Math.log(rng.uniform()));
  const angle = 2 * Math.PI * rng.uniform();
  out[at] = radius * Math.cos(angle);
  out[at + 1] = radius * Math.sin(angle);
}

/** Binomial(n, p) by inversion from one uniform (n is a customer's order count: small). */
function binomial(rng: CounterRng, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  const u = rng.uniform();
  const ratio = p / (1 - p);
  let prob = Math.pow(1 - p, n);
  let cdf = prob;
  let k = 0;
  while (u > cdf && k < n) {
    prob *= (ratio * (n - k)) / (k + 1);
    k++;
    cdf += prob;
  }
  return k;
}

/** City principal components by region, a pure function of the seed. */
export function cityComponents(seed: number): Float64Array[] {
  return REGIONS.map((_, region) => {
    const pcs = new Float64Array(CITIES_PER_REGION);
    for (let c = 0; c < CITIES_PER_REGION; c++) {
      pcs[c] = REGION_CITY_MEAN[region] + 0.7 * new CounterRng(seed, CITY_STREAM, region * 1024 + c).normal();
    }
    return pcs;
  });
}

/**
 * Raw (unstandardized) characteristics of customer `index` living in `region`, written into
 * `out` in the order of COVARIATE_NAMES. `cities` comes from `cityComponents(seed)`.
 */
export function drawRawCovariates(seed: number, index: number, region: number, cities: readonly Float64Array[], out: Float64Array): void {
  const rng = new CounterRng(seed, COVARIATE_STREAM, index);
  const z = scratch;
  normalPair(rng, z, 0); // engagement, deal proneness (raw)
  normalPair(rng, z, 2); // sociability noise, tenure noise
  normalPair(rng, z, 4); // order-rate noise, order-value noise
  normalPair(rng, z, 6); // coupon, gift-card value noise
  normalPair(rng, z, 8); // direct-discount value noise, share intensity noise
  const engagement = z[0];
  const dealProneness = z[1];
  const sociability = 0.4 * dealProneness + 0.3 * engagement + Math.sqrt(1 - 0.16 - 0.09) * z[2];

  const isNew = rng.uniform() < 0.22;
  // Tenure in days since registration: new customers mostly registered recently.
  const tenure = isNew
    ? Math.min(1500, Math.floor(Math.exp(2.5 + 1.4 * z[3])))
    : Math.min(1500, 30 + Math.floor(Math.exp(5.9 + 0.7 * z[3] + 0.25 * engagement)));
  // Orders in the past year: over-dispersed counts (Poisson with a lognormal rate); none for new customers.
  const orders = isNew ? 0 : rng.poisson(Math.exp(1.5 + 0.9 * engagement + 0.5 * z[4]));
  const daysUniform = rng.uniform();
  const daysSinceLast = orders > 0
    ? Math.min(365, Math.ceil((-Math.log(daysUniform) * 365) / (orders + 1)))
    // No order in the past year: a lapsed customer's last order lies between one year and tenure
    // ago; a new customer never ordered, and the field falls back to days since registration.
    : isNew ? tenure : Math.min(MAX_DAYS_SINCE_PURCHASE, 366 + Math.floor(daysUniform * Math.max(0, tenure - 366)));
  const purchasedBefore = !isNew && rng.uniform() < logistic(-1.3 + 0.8 * engagement) ? 1 : 0;
  const orderValue = orders > 0 ? Math.exp(4.3 + 0.45 * z[5] + 0.1 * engagement) : 0;
  const couponOrders = binomial(rng, orders, logistic(-0.8 + 0.9 * dealProneness));
  const giftCardOrders = binomial(rng, orders, logistic(-3.2 + 0.6 * dealProneness));
  const directDiscountOrders = binomial(rng, orders, logistic(-0.3 + 0.7 * dealProneness));
  const couponValue = couponOrders > 0 ? Math.exp(2.4 + 0.35 * z[6] + 0.15 * dealProneness) : 0;
  const giftCardValue = giftCardOrders > 0 ? Math.exp(3.9 + 0.6 * z[7]) : 0;
  const directDiscountValue = directDiscountOrders > 0 ? Math.exp(2.0 + 0.5 * z[8]) * Math.pow(orderValue / 75, 0.3) : 0;
  // City: a few large cities hold most customers (index ~ u², so small indices are common).
  const regionCities = cities[region % cities.length];
  const city = Math.min(regionCities.length - 1, Math.floor(regionCities.length * rng.uniform() ** 2));
  const cityPc = regionCities[city];
  // Share-button clicks last month: most customers never click; clickers click a few times.
  const clicks = rng.uniform() < logistic(-1.4 + 0.9 * sociability + (isNew ? -0.5 : 0))
    ? 1 + rng.poisson(Math.exp(0.3 + 0.5 * sociability + 0.3 * z[9]))
    : 0;

  out[0] = daysSinceLast;
  out[1] = orders;
  out[2] = purchasedBefore;
  out[3] = orderValue;
  out[4] = couponOrders;
  out[5] = giftCardOrders;
  out[6] = directDiscountOrders;
  out[7] = couponValue;
  out[8] = giftCardValue;
  out[9] = directDiscountValue;
  out[10] = isNew ? 1 : 0;
  out[11] = tenure;
  out[12] = cityPc;
  out[13] = clicks;
}

const scratch = new Float64Array(10);

/** Running mean and variance per covariate (Welford, in customer order: deterministic). */
export class CovariateMoments {
  count = 0;
  readonly mean: Float64Array;
  private readonly m2: Float64Array;
  constructor(readonly k: number) {
    this.mean = new Float64Array(k);
    this.m2 = new Float64Array(k);
  }

  add(x: ArrayLike<number>): void {
    this.count++;
    for (let j = 0; j < this.k; j++) {
      const delta = x[j] - this.mean[j];
      this.mean[j] += delta / this.count;
      this.m2[j] += delta * (x[j] - this.mean[j]);
    }
  }

  /** Sample standard deviations (n − 1); a constant covariate gets 1 so it standardizes to 0. */
  sd(): Float64Array {
    const out = new Float64Array(this.k);
    for (let j = 0; j < this.k; j++) {
      const v = this.count > 1 ? this.m2[j] / (this.count - 1) : 0;
      out[j] = v > 0 ? Math.sqrt(v) : 1;
    }
    return out;
  }
}

/** Index of each requested covariate name among COVARIATE_NAMES; unknown names are bad input. */
export function covariateIndices(names: readonly string[]): number[] {
  return names.map((name) => {
    const j = COVARIATE_NAMES.indexOf(name);
    if (j < 0) throw badInput(`the simulator cannot draw covariate "${name}" (it knows ${COVARIATE_NAMES.join(', ')})`);
    return j;
  });
}
