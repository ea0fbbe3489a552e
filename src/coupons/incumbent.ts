// The retailer's incumbent coupon rule (paper §3): customers clustered ad hoc by tenure and average
// spend; each cluster gets a target coupon distribution; customers of a cluster mostly get the
// same value, adjusted to fit the distribution; a rotation heuristic makes every customer see
// varying discounts over time. It uses static features only.
import { badInput } from '../errors.js';
import { CounterRng, streamId } from '../random.js';

export interface IncumbentCustomers {
  tenureDays: ArrayLike<number>;
  /** Average spend of the customer's historical orders (0 when none). */
  historicalAverageSpend: ArrayLike<number>;
}

export interface IncumbentOptions {
  /** Number of discount levels (the distribution is over level indices 0..levels−1). */
  levels: number;
  /** Tenure cuts in days (ascending): new / established / loyal by default. */
  tenureCuts?: readonly number[];
  /** Average-spend cuts (ascending); customers with no orders form their own spend group. */
  spendCuts?: readonly number[];
  /** Shifts every cluster toward larger (> 0) or smaller (< 0) discounts; 0 by default. */
  generosity?: number;
  seed?: number;
}

/** Default cuts: the partner's clusters were "based mostly on tenure and average spend". */
export const INCUMBENT_TENURE_CUTS = [180, 730];
export const INCUMBENT_SPEND_CUTS = [90, 180];

// Rotation step (golden-ratio conjugate): a customer's position in the cluster's distribution moves
// by this much per day, so consecutive days give different discounts without long repeats.
const ROTATION = 0.6180339887498949;

export class IncumbentPolicy {
  readonly levels: number;
  readonly clusterCount: number;
  /** Cluster of each customer. */
  readonly cluster: Int32Array;
  /** Target distribution per cluster (cumulative, levels entries each). */
  readonly cumulative: Float64Array[];
  private readonly position: Float64Array;

  constructor(customers: IncumbentCustomers, options: IncumbentOptions) {
    const levels = options.levels;
    if (!Number.isInteger(levels) || levels < 1) throw badInput(`the incumbent needs at least one discount level, got ${levels}`);
    const tenureCuts = options.tenureCuts ?? INCUMBENT_TENURE_CUTS;
    const spendCuts = options.spendCuts ?? INCUMBENT_SPEND_CUTS;
    const generosity = options.generosity ?? 0;
    const seed = options.seed ?? 1;
    const n = customers.tenureDays.length;
    if (customers.historicalAverageSpend.length !== n) throw badInput('tenureDays and historicalAverageSpend differ in length');
    this.levels = levels;
    const spendGroups = spendCuts.length + 2; // + "no orders"
    this.clusterCount = (tenureCuts.length + 1) * spendGroups;
    this.cluster = new Int32Array(n);
    this.position = new Float64Array(n);
    const stream = streamId('incumbent-position');
    for (let i = 0; i < n; i++) {
      const tenure = customers.tenureDays[i], spend = customers.historicalAverageSpend[i];
      let t = 0;
      while (t < tenureCuts.length && tenure >= tenureCuts[t]) t++;
      let s = 0;
      if (spend > 0) {
        s = 1;
        while (s - 1 < spendCuts.length && spend >= spendCuts[s - 1]) s++;
      }
      this.cluster[i] = t * spendGroups + s;
      // Clustered positions: customers of a cluster share a few positions, so most of a cluster
      // gets the same value on a given day, and the rest fill the distribution.
      const rng = new CounterRng(seed, stream, i);
      this.position[i] = (Math.floor(rng.uniform() * 8) + 0.5 * rng.uniform()) / 8;
    }
    // Cluster distributions: newer and lower-spend customers lean to bigger discounts (the kind of
    // rule of thumb an incumbent encodes); a softmax over levels keeps every level in use.
    this.cumulative = [];
    for (let t = 0; t <= tenureCuts.length; t++) {
      for (let s = 0; s < spendGroups; s++) {
        const lean = generosity + 0.5 * (1 - t) + (s === 0 ? 0.4 : 0.3 * (spendGroups / 2 - s));
        // Level position z in [−1, 1]; the quadratic term keeps medium discounts the most common.
        const weights = Array.from({ length: levels }, (_, k) => {
          const z = levels > 1 ? (2 * k) / (levels - 1) - 1 : 0;
          return Math.exp(1.2 * lean * z - 0.8 * z * z);
        });
        const total = weights.reduce((a, b) => a + b, 0);
        const cum = new Float64Array(levels);
        let acc = 0;
        for (let k = 0; k < levels; k++) {
          acc += weights[k] / total;
          cum[k] = acc;
        }
        cum[levels - 1] = 1;
        this.cumulative.push(cum);
      }
    }
  }

  /** Target distribution of a cluster (probabilities per level). */
  distribution(cluster: number): number[] {
    const cum = this.cumulative[cluster];
    return Array.from(cum, (c, k) => c - (k > 0 ? cum[k - 1] : 0));
  }

  /** The level the rule gives customer i on `day`. */
  levelOf(i: number, day: number): number {
    const u = (this.position[i] + day * ROTATION) % 1;
    const cum = this.cumulative[this.cluster[i]];
    let k = 0;
    while (k < this.levels - 1 && u >= cum[k]) k++;
    return k;
  }

  /** Levels for customers `indices` (all when omitted) on `day`. */
  assign(day: number, indices?: ArrayLike<number>): Uint8Array {
    const n = indices ? indices.length : this.cluster.length;
    const out = new Uint8Array(n);
    for (let j = 0; j < n; j++) out[j] = this.levelOf(indices ? indices[j] : j, day);
    return out;
  }
}
