// Promotion-cycle kernels (SPEC §3): Howard's policy iteration for the maximum cycle ratio, and
// the per-customer best L-up-1-down coupon cycle over five discounts. Wasm wrappers and their
// plain-TypeScript references side by side.
import { PromoptError, badInput } from '../errors.js';
import { getDefaultEngine, planShards, type Engine } from '../parallel/engine.js';
import { kernelsOf } from './runtime.js';
import { commonLength, requireFinite } from './validate.js';
import { logistic } from './math.js';
import { enumerateGeneratorCycles, cycleGroups, groupIndex, cyclePeriod } from '../cycles/enumerate.js';

interface MdpKernels {
  maxRatioCycleHoward(n: number, degree: number, succ: number, w: number, tau: number, eps: number, maxIter: number,
    policy: number, eta: number, bias: number, color: number, stack: number): number;
}

/** A graph in which every node has `degree` out-edges; edge e = v·degree + a. */
export interface CycleGraph {
  nodes: number;
  degree: number;
  successor: Int32Array;
  weight: Float64Array;
  /** Positive duration of each edge (steps of the underlying process). */
  duration: Float64Array;
}

export interface HowardOptions {
  /** Improvement threshold; default scales with the weights and the graph size. */
  tolerance?: number;
  maxIterations?: number;
}

/** Howard's result: per node the chosen edge, the ratio of the cycle it reaches, and its bias. */
export interface HowardSolution {
  policy: Int32Array;
  ratio: Float64Array;
  bias: Float64Array;
  iterations: number;
  tolerance: number;
}

function checkGraph(graph: CycleGraph): void {
  const { nodes: n, degree } = graph;
  if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(degree) && degree >= 1)) throw new PromoptError('INTERNAL', `bad graph size ${n}×${degree}`);
  const m = n * degree;
  if (graph.successor.length !== m || graph.weight.length !== m || graph.duration.length !== m) throw new PromoptError('INTERNAL', 'graph arrays do not have nodes × degree entries');
  for (let e = 0; e < m; e++) {
    const s = graph.successor[e];
    if (!(s >= 0 && s < n)) throw new PromoptError('INTERNAL', `edge ${e} leads to node ${s} outside 0..${n - 1}`);
    if (!(graph.duration[e] > 0) || !Number.isFinite(graph.duration[e])) throw new PromoptError('INTERNAL', `edge ${e} has duration ${graph.duration[e]}`);
    if (!Number.isFinite(graph.weight[e])) throw new PromoptError('INTERNAL', `edge ${e} has weight ${graph.weight[e]}`);
  }
}

/** Default threshold: relative 1e-12 of the weight scale, more on large graphs where biases add up rounding. */
export function defaultTolerance(graph: CycleGraph): number {
  let scale = 0, longest = 1;
  for (let e = 0; e < graph.weight.length; e++) {
    scale = Math.max(scale, Math.abs(graph.weight[e] / graph.duration[e]));
    longest = Math.max(longest, graph.duration[e]);
  }
  // Biases are sums along paths of up to nodes × longest periods, each rounded at 2^-52 relative.
  return Math.max(scale, 1e-300) * Math.max(1e-12, graph.nodes * longest * 4e-16);
}

/** Start from each node's best immediate ratio (first best edge). */
function initialPolicy(graph: CycleGraph): Int32Array {
  const policy = new Int32Array(graph.nodes);
  for (let v = 0; v < graph.nodes; v++) {
    let best = -Infinity;
    for (let a = 0; a < graph.degree; a++) {
      const e = v * graph.degree + a;
      const r = graph.weight[e] / graph.duration[e];
      if (r > best) { best = r; policy[v] = a; }
    }
  }
  return policy;
}

const DEFAULT_MAX_ITERATIONS = 10_000;

/** Howard's policy iteration for the maximum cycle ratio, in the kernel. */
export async function maxRatioCycle(graph: CycleGraph, options: HowardOptions = {}, engine: Engine = getDefaultEngine()): Promise<HowardSolution> {
  checkGraph(graph);
  const tolerance = options.tolerance ?? defaultTolerance(graph);
  const maxIterations = options.maxIterations ?? DEFAULT_MAX_ITERATIONS;
  const n = graph.nodes;
  return engine.exclusive(async (arena) => {
    const succ = arena.i32(graph.successor.length);
    arena.viewI32(succ).set(graph.successor);
    const w = arena.copyF64(graph.weight);
    const tau = arena.copyF64(graph.duration);
    const policy = arena.i32(n);
    arena.viewI32(policy).set(initialPolicy(graph));
    const eta = arena.f64(n), bias = arena.f64(n), color = arena.i32(n), stack = arena.i32(n);
    const iterations = kernelsOf<MdpKernels>(arena.runtime).maxRatioCycleHoward(
      n, graph.degree, succ.ptr, w.ptr, tau.ptr, tolerance, maxIterations, policy.ptr, eta.ptr, bias.ptr, color.ptr, stack.ptr,
    );
    if (iterations < 0) throw new PromoptError('NOT_CONVERGED', `policy iteration did not converge in ${maxIterations} iterations`);
    return {
      policy: arena.viewI32(policy).slice(), ratio: arena.viewF64(eta).slice(), bias: arena.viewF64(bias).slice(),
      iterations, tolerance,
    };
  });
}

/** Plain-TypeScript Howard's policy iteration, step for step the kernel's algorithm. */
export function maxRatioCycleReference(graph: CycleGraph, options: HowardOptions = {}): HowardSolution {
  checkGraph(graph);
  const tolerance = options.tolerance ?? defaultTolerance(graph);
  const maxIterations = options.maxIterations ?? DEFAULT_MAX_ITERATIONS;
  const { nodes: n, degree, successor: succ, weight: w, duration: tau } = graph;
  const policy = initialPolicy(graph);
  const eta = new Float64Array(n), bias = new Float64Array(n);
  const color = new Int32Array(n), stack = new Int32Array(n);
  for (let iter = 1; iter <= maxIterations; iter++) {
    color.fill(-1);
    for (let v0 = 0; v0 < n; v0++) {
      if (color[v0] >= 0) continue;
      let top = 0, v = v0;
      while (color[v] < 0) {
        color[v] = v0;
        stack[top++] = v;
        v = succ[v * degree + policy[v]];
      }
      let root = -1, ratio = 0;
      if (color[v] === v0) {
        let num = 0, den = 0, u = v;
        do {
          const e = u * degree + policy[u];
          num += w[e];
          den += tau[e];
          u = succ[e];
        } while (u !== v);
        ratio = num / den;
        root = v;
        eta[v] = ratio;
        bias[v] = 0;
      } else {
        ratio = eta[v];
      }
      for (let s = top - 1; s >= 0; s--) {
        const x = stack[s];
        if (x === root) continue;
        const e = x * degree + policy[x];
        eta[x] = ratio;
        bias[x] = w[e] - ratio * tau[e] + bias[succ[e]];
      }
    }
    let changed = false;
    for (let v = 0; v < n; v++) {
      let best = eta[v] + tolerance, bestA = -1;
      for (let a = 0; a < degree; a++) {
        const r = eta[succ[v * degree + a]];
        if (r > best) { best = r; bestA = a; }
      }
      if (bestA >= 0) { policy[v] = bestA; changed = true; }
    }
    if (changed) continue;
    for (let v = 0; v < n; v++) {
      const own = eta[v];
      let best = bias[v] + tolerance, bestA = -1;
      for (let a = 0; a < degree; a++) {
        const e = v * degree + a;
        const u = succ[e];
        if (Math.abs(eta[u] - own) > tolerance) continue;
        const value = w[e] - own * tau[e] + bias[u];
        if (value > best) { best = value; bestA = a; }
      }
      if (bestA >= 0) { policy[v] = bestA; changed = true; }
    }
    if (!changed) return { policy, ratio: eta, bias, iterations: iter, tolerance };
  }
  throw new PromoptError('NOT_CONVERGED', `policy iteration did not converge in ${maxIterations} iterations`);
}

/**
 * The optimal cycle of a converged Howard solution (nodes in order, starting where the policy
 * path from the best node enters it), after checking the optimality certificate: on a strongly
 * connected graph every node has the best ratio η* and w − η*τ + bias[succ] − bias[v] ≤ slack for
 * every edge, which bounds every cycle's ratio by η* + slack. Throws NOT_CONVERGED otherwise.
 */
export function certifiedCycle(graph: CycleGraph, solution: HowardSolution): { ratio: number; nodes: number[]; maxViolation: number } {
  const { nodes: n, degree, successor: succ, weight: w, duration: tau } = graph;
  const { ratio, bias, policy, tolerance } = solution;
  let best = 0;
  for (let v = 1; v < n; v++) if (ratio[v] > ratio[best]) best = v;
  const top = ratio[best];
  let maxViolation = 0;
  for (let v = 0; v < n; v++) {
    maxViolation = Math.max(maxViolation, top - ratio[v]);
    for (let a = 0; a < degree; a++) {
      const e = v * degree + a;
      maxViolation = Math.max(maxViolation, (w[e] - top * tau[e] + bias[succ[e]] - bias[v]) / tau[e]);
    }
  }
  if (maxViolation > 64 * tolerance) {
    throw new PromoptError('NOT_CONVERGED', `cycle solver: optimality certificate violated by ${maxViolation.toExponential(2)} (tolerance ${tolerance.toExponential(2)})`);
  }
  // Walk the policy from the best node until a node repeats: that node starts the cycle.
  const seen = new Int32Array(n).fill(-1);
  let v = best;
  for (let step = 0; seen[v] < 0; step++) {
    seen[v] = step;
    v = succ[v * degree + policy[v]];
  }
  const nodes: number[] = [];
  let u = v;
  do {
    nodes.push(u);
    u = succ[u * degree + policy[u]];
  } while (u !== v);
  return { ratio: top, nodes, maxViolation };
}

// ---------------------------------------------------------------------------------------------
// Per-customer coupon cycles over five discounts.

interface CouponKernels {
  couponCyclesK5(f: number, g: number, h: number, spend: number, n: number, discounts: number, nominal: number, memory: number, gainOut: number, cycleOut: number): void;
}

/** Customers of the coupon response model q = Λ(f + g(d − d0) − h(ref − d0)), struct-of-arrays. */
export interface CycleCustomers {
  /** Baseline logit at the nominal discount. */
  f: ArrayLike<number>;
  /** Coupon sensitivity. */
  g: ArrayLike<number>;
  /** Reference sensitivity, ≥ 0 (a bigger recent discount lowers today's response). */
  h: ArrayLike<number>;
  /** Expected spend given a purchase (default 1 each). */
  spend?: ArrayLike<number>;
}

export interface CouponCycleOptions {
  /** Five ascending discounts (the kernel's alphabet). */
  discounts: readonly number[];
  /** d0 of the response model. */
  nominal: number;
  /** L: the reference is the highest discount of the last L days. */
  memory: number;
  /** How errors name customer i (default "customer i"; the CLI names the file and row). */
  rowLabel?: (i: number) => string;
}

export interface CouponCycleResult {
  /** Long-run average expected revenue per day of each customer's best cycle (eq. 7). */
  averageGain: Float64Array;
  /** Index into `enumerateGeneratorCycles(5)` (price indices: discount index = 4 − price index). */
  cycleId: Int32Array;
}

/** Partial exponents of the factored logistic stay within ±this, so the kernel's factors never saturate. */
export const COUPON_EXPONENT_LIMIT = 300;

export function validateCouponCustomers(customers: CycleCustomers, options: CouponCycleOptions): { n: number; spend: ArrayLike<number> } {
  const n = commonLength({ f: customers.f, g: customers.g, h: customers.h, ...(customers.spend ? { spend: customers.spend } : {}) });
  const { discounts, nominal, memory } = options;
  if (discounts.length !== 5) throw badInput(`the batch cycle kernel takes exactly 5 discounts, got ${discounts.length}`);
  requireFinite('discounts', discounts);
  for (let j = 1; j < 5; j++) if (!(discounts[j] > discounts[j - 1])) throw badInput(`discounts must be strictly ascending: ${discounts.join(',')}`);
  if (!Number.isFinite(nominal)) throw badInput(`nominal discount is ${nominal}, not a finite number`);
  if (!Number.isInteger(memory) || memory < 1 || memory > 10_000) throw badInput(`memory must be an integer from 1 to 10000, got ${memory}`);
  const spread = Math.max(...discounts.map((d) => Math.abs(d - nominal)));
  const spend = customers.spend ?? new Float64Array(n).fill(1);
  const who = options.rowLabel ?? ((i: number) => `customer ${i}`);
  const check = (i: number) => {
    const f = customers.f[i], g = customers.g[i], h = customers.h[i], s = spend[i];
    if (!Number.isFinite(f) || Math.abs(f) > COUPON_EXPONENT_LIMIT) throw badInput(`${who(i)}: f = ${f} must be finite with |f| ≤ ${COUPON_EXPONENT_LIMIT}`);
    if (!Number.isFinite(g) || Math.abs(g) * spread > COUPON_EXPONENT_LIMIT) throw badInput(`${who(i)}: g = ${g} must be finite with |g·(d − d0)| ≤ ${COUPON_EXPONENT_LIMIT}`);
    if (!(h >= 0) || !Number.isFinite(h) || h * spread > COUPON_EXPONENT_LIMIT) throw badInput(`${who(i)}: h = ${h} must be finite, ≥ 0 (reference-monotone) and h·|d − d0| ≤ ${COUPON_EXPONENT_LIMIT}`);
    if (!(s >= 0) || !Number.isFinite(s)) throw badInput(`${who(i)}: spend = ${s} must be a finite number ≥ 0`);
  };
  // One cheap comparison per value (false for NaN too) on the fast path; the detailed check names the row.
  const gLimit = spread > 0 ? COUPON_EXPONENT_LIMIT / spread : Infinity;
  const bounded = (values: ArrayLike<number>, lo: number, hi: number) => {
    for (let i = 0; i < n; i++) {
      const x = values[i];
      if (!(x >= lo && x <= hi)) check(i);
    }
  };
  bounded(customers.f, -COUPON_EXPONENT_LIMIT, COUPON_EXPONENT_LIMIT);
  bounded(customers.g, -gLimit, gLimit);
  bounded(customers.h, 0, gLimit);
  bounded(spend, 0, Number.MAX_VALUE);
  return { n, spend };
}

/** Every customer's best L-up-1-down cycle, in the kernel, sharded over the engine's threads. */
export async function couponCycles(customers: CycleCustomers, options: CouponCycleOptions, engine: Engine = getDefaultEngine()): Promise<CouponCycleResult> {
  const { n, spend } = validateCouponCustomers(customers, options);
  return engine.exclusive(async (arena) => {
    const f = arena.copyF64(customers.f), g = arena.copyF64(customers.g), h = arena.copyF64(customers.h);
    const s = arena.copyF64(spend);
    const discounts = arena.copyF64(options.discounts);
    const gain = arena.f64(n), cycle = arena.i32(n);
    // Shard starts are even so that every vector load stays on a pair boundary.
    await engine.forShards('couponCyclesK5', planShards(n), ({ start, end }) => {
      const o8 = start * 8;
      return [f.ptr + o8, g.ptr + o8, h.ptr + o8, s.ptr + o8, end - start, discounts.ptr, options.nominal, options.memory, gain.ptr + o8, cycle.ptr + start * 4];
    }, n * 120);
    return { averageGain: arena.viewF64(gain).slice(), cycleId: arena.viewI32(cycle).slice() };
  });
}

/** One customer's 5×5 gain matrix in the discount language: G[d][r] = spend·(1 − d)·Λ(f + g(d − d0) − h(r − d0)). */
export function couponGainMatrix(f: number, g: number, h: number, spend: number, discounts: readonly number[], nominal: number): number[][] {
  return discounts.map((d) => discounts.map((r) => spend * (1 - d) * logistic(f + g * (d - nominal) - h * (r - nominal))));
}

/** Plain-TypeScript reference: eq. 7 for every generator cycle of every customer, Math.exp logistic. */
export function couponCyclesReference(customers: CycleCustomers, options: CouponCycleOptions): CouponCycleResult {
  const { n, spend } = validateCouponCustomers(customers, options);
  const k = 5, L = options.memory;
  const cycles = enumerateGeneratorCycles(k);
  const groups = cycleGroups(k);
  const averageGain = new Float64Array(n), cycleId = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const G = couponGainMatrix(customers.f[i], customers.g[i], customers.h[i], spend[i], options.discounts, options.nominal);
    // Edge weights in price indices (price index = 4 − discount index), τ·G for a step up.
    const w = (a: number, b: number) => (b > a ? L : 1) * G[k - 1 - b][k - 1 - a];
    const bestTotal = new Array<number>(groups.length).fill(-Infinity), bestId = new Array<number>(groups.length).fill(-1);
    cycles.forEach((cycle, id) => {
      const q = cycle.prices;
      // The kernel's summation order: along the path from the lowest price, then the closing edge.
      let total = q.length === 1 ? w(q[0], q[0]) : w(q[0], q[1]);
      for (let j = 2; j < q.length; j++) total += w(q[j - 1], q[j]);
      if (q.length > 1) total += w(q[q.length - 1], q[0]);
      const g = groupIndex(q.length, cycle.ascents);
      if (bestId[g] < 0 || total > bestTotal[g]) { bestTotal[g] = total; bestId[g] = id; }
    });
    let best = -Infinity, bestCycle = -1;
    groups.forEach((group, g) => {
      if (bestId[g] < 0) return;
      const ratio = bestTotal[g] / cyclePeriod(cycles[bestId[g]], L);
      if (bestCycle < 0 || ratio > best) { best = ratio; bestCycle = bestId[g]; }
    });
    averageGain[i] = best;
    cycleId[i] = bestCycle;
  }
  return { averageGain, cycleId };
}
