// Per-customer promotion cycles from the coupon response model (paper §2 model, §4 cycles), and
// the long-run comparison of each customer's cycle against the myopic daily policy.
//
// In the discount language the gain of offering discount d when the customer's reference (the
// highest discount of the last L days) is r is the expected daily revenue
//     G[d][r] = spend · (1 − d) · Λ(f + g(d − d0) − h(r − d0)),
// reference-monotone because h ≥ 0 (a higher reference never helps). Prices are 1 − d, so the
// paper's L-up-1-down cycle reads here as: the big discount once, then each smaller discount of
// the generator held for L days before the next step.
import { badInput } from '../errors.js';
import { getDefaultEngine, type Engine } from '../parallel/engine.js';
import { logistic } from '../kernels/math.js';
import {
  couponCycles, couponGainMatrix, validateCouponCustomers,
  type CycleCustomers, type CouponCycleOptions, type CouponCycleResult,
} from '../kernels/mdp.js';
import { enumerateGeneratorCycles, cyclePeriod } from './enumerate.js';
import { lUpOneDownCycle } from './model.js';

export const DEFAULT_DISCOUNTS: readonly number[] = [0.1, 0.12, 0.15, 0.17, 0.2];
export const DEFAULT_NOMINAL = 0.1;

const KERNEL_CYCLES = enumerateGeneratorCycles(5);

/** A kernel cycle id as discount indices: the generator (starting at its biggest discount) and one period of the daily cycle. */
export function decodeCouponCycle(cycleId: number, memory: number): { generator: number[]; cycle: number[]; period: number } {
  const c = KERNEL_CYCLES[cycleId];
  if (!c) throw badInput(`cycle id ${cycleId} is not in 0..${KERNEL_CYCLES.length - 1}`);
  const flip = (p: number) => 4 - p;
  return {
    generator: c.prices.map(flip),
    cycle: lUpOneDownCycle(c.prices, memory).map(flip),
    period: cyclePeriod(c, memory),
  };
}

/** Per-customer best cycles: the kernel result plus readable generators. */
export interface BatchCycles extends CouponCycleResult {
  discounts: readonly number[];
  memory: number;
}

export async function batchCouponCycles(
  customers: CycleCustomers,
  options: Partial<CouponCycleOptions> & { memory: number },
  engine: Engine = getDefaultEngine(),
): Promise<BatchCycles> {
  const full: CouponCycleOptions = { discounts: options.discounts ?? DEFAULT_DISCOUNTS, nominal: options.nominal ?? DEFAULT_NOMINAL, memory: options.memory, rowLabel: options.rowLabel };
  const result = await couponCycles(customers, full, engine);
  return { ...result, discounts: full.discounts, memory: full.memory };
}

/** Generator as text, e.g. "0.2>0.1>0.15": discounts in cycle order, the biggest first. */
export function generatorLabel(cycleId: number, discounts: readonly number[], memory: number): string {
  return decodeCouponCycle(cycleId, memory).generator.map((d) => String(discounts[d])).join('>');
}

// ---------------------------------------------------------------------------------------------
// Cycle versus myopic policy, both evaluated under a true model.

/** The true response model the policies are evaluated under (defaults: the decision model). */
export interface TrueCouponModel {
  f?: ArrayLike<number>;
  g?: ArrayLike<number>;
  h?: ArrayLike<number>;
  spend?: ArrayLike<number>;
  /** Additive logit effect of day t mod P (e.g. day of week), same for every customer; default none. */
  dayEffects?: readonly number[];
}

export interface CycleComparisonOptions extends Partial<CouponCycleOptions> {
  memory: number;
  truth?: TrueCouponModel;
}

export interface CycleComparison {
  /** Long-run average daily revenue per customer under the truth: the optimal cycle, the myopic policy. */
  cycleRevenue: Float64Array;
  myopicRevenue: Float64Array;
  /** Means over customers and the relative lift Σ cycle / Σ myopic − 1. */
  meanCycleRevenue: number;
  meanMyopicRevenue: number;
  lift: number;
  /** Each customer's cycle id (kernel numbering). */
  cycleId: Int32Array;
}

/**
 * For each customer: (a) the myopic policy — each day the discount maximizing today's expected
 * revenue given today's reference, under the decision model — and (b) the customer's optimal
 * cycle under the decision model, played open-loop; both evaluated as long-run average expected
 * daily revenue under the true model (exact: the joint dynamics are deterministic and periodic,
 * so the average is taken over one detected period). Histories start at the smallest discount.
 */
export async function compareCycleWithMyopic(customers: CycleCustomers, options: CycleComparisonOptions, engine: Engine = getDefaultEngine()): Promise<CycleComparison> {
  const discounts = options.discounts ?? DEFAULT_DISCOUNTS, nominal = options.nominal ?? DEFAULT_NOMINAL, L = options.memory;
  const full: CouponCycleOptions = { discounts, nominal, memory: L, rowLabel: options.rowLabel };
  const { n, spend } = validateCouponCustomers(customers, full);
  const truth = options.truth ?? {};
  const tf = truth.f ?? customers.f, tg = truth.g ?? customers.g, th = truth.h ?? customers.h, ts = truth.spend ?? spend;
  for (const [name, values] of [['truth.f', tf], ['truth.g', tg], ['truth.h', th], ['truth.spend', ts]] as const) {
    if (values.length !== n) throw badInput(`${name} has ${values.length} entries but there are ${n} customers`);
    for (let i = 0; i < n; i++) if (!Number.isFinite(values[i])) throw badInput(`${name}[${i}] is ${values[i]}, not a finite number`);
  }
  const days = truth.dayEffects && truth.dayEffects.length > 0 ? [...truth.dayEffects] : [0];
  days.forEach((x, t) => { if (!Number.isFinite(x)) throw badInput(`dayEffects[${t}] is ${x}, not a finite number`); });
  const { cycleId } = await couponCycles(customers, full, engine);
  const cycleRevenue = new Float64Array(n), myopicRevenue = new Float64Array(n);
  const k = discounts.length;
  for (let i = 0; i < n; i++) {
    const decision = couponGainMatrix(customers.f[i], customers.g[i], customers.h[i], spend[i], discounts, nominal);
    // Myopic choice per reference (first best on ties).
    const myopic = decision[0].map((_, r) => {
      let best = 0;
      for (let d = 1; d < k; d++) if (decision[d][r] > decision[best][r]) best = d;
      return best;
    });
    const trueGain = (d: number, r: number, t: number) => ts[i] * (1 - discounts[d]) * logistic(tf[i] + tg[i] * (discounts[d] - nominal) - th[i] * (discounts[r] - nominal) + days[t % days.length]);
    const plan = decodeCouponCycle(cycleId[i], L).cycle;
    cycleRevenue[i] = longRunAverage(L, days.length, trueGain, (_history, phase) => plan[phase % plan.length], plan.length);
    myopicRevenue[i] = longRunAverage(L, days.length, trueGain, (history) => myopic[Math.max(...history)], 1);
  }
  let sumCycle = 0, sumMyopic = 0;
  for (let i = 0; i < n; i++) { sumCycle += cycleRevenue[i]; sumMyopic += myopicRevenue[i]; }
  return {
    cycleRevenue, myopicRevenue, cycleId,
    meanCycleRevenue: n > 0 ? sumCycle / n : NaN,
    meanMyopicRevenue: n > 0 ? sumMyopic / n : NaN,
    lift: sumCycle / sumMyopic - 1,
  };
}

/**
 * Long-run average of gain(d_t, ref_t, t) under a deterministic policy choose(history, phase),
 * phase = t mod planPeriod. The state (history of L discounts, t mod lcm(dayPeriod, planPeriod))
 * evolves deterministically, so Brent's cycle detection finds the period and the average over it
 * is exact.
 */
function longRunAverage(
  memory: number, dayPeriod: number,
  gain: (d: number, r: number, t: number) => number,
  choose: (history: number[], phase: number) => number,
  planPeriod: number,
): number {
  const clock = lcm(dayPeriod, planPeriod);
  type State = { history: number[]; t: number };
  const step = (s: State): State => {
    const d = choose(s.history, s.t % planPeriod);
    return { history: [...s.history.slice(1), d], t: (s.t + 1) % clock };
  };
  const same = (a: State, b: State) => a.t === b.t && a.history.every((x, j) => x === b.history[j]);
  // Brent: find the period λ; the hare is then on the cycle.
  let power = 1, lambda = 1;
  let tortoise: State = { history: new Array<number>(memory).fill(0), t: 0 };
  let hare = step(tortoise);
  while (!same(tortoise, hare)) {
    if (power === lambda) { tortoise = hare; power *= 2; lambda = 0; }
    hare = step(hare);
    lambda++;
  }
  let total = 0, s = hare;
  for (let j = 0; j < lambda; j++) {
    const d = choose(s.history, s.t % planPeriod);
    total += gain(d, Math.max(...s.history), s.t);
    s = step(s);
  }
  return total / lambda;
}

function lcm(a: number, b: number): number {
  const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
  return (a / gcd(a, b)) * b;
}
