// The exact full MDP of the paper's §4.1: the state is the last L offered prices (k^L states),
// offering price a from state s earns G[a][min(s)] and moves to s minus its oldest price plus a.
// Transitions are deterministic, so the best long-run average gain over all policies is the
// maximum mean cycle of this graph (Howard's policy iteration, with an optimality certificate).
// It needs no reference-monotonicity (the paper's Example 4.6) and verifies the reduced solver.
import { PromoptError } from '../errors.js';
import { getDefaultEngine, type Engine } from '../parallel/engine.js';
import { certifiedCycle, maxRatioCycle, maxRatioCycleReference, type CycleGraph, type HowardSolution } from '../kernels/mdp.js';
import { canonicalRotation, cycleAverageGain, generatorOf, primitiveCycle, type CycleProblem } from './model.js';
import type { CycleSolution } from './reduced.js';

/** The full MDP is solved only when it has at most this many edges (k^L states × k actions). */
export const EXACT_EDGE_LIMIT = 4_000_000;

/** k^L · k, or Infinity when that overflows the limit (no huge powers computed). */
export function fullMdpEdges(k: number, memory: number): number {
  let edges = k;
  for (let j = 0; j < memory; j++) {
    edges *= k;
    if (edges > EXACT_EDGE_LIMIT) return Infinity;
  }
  return edges;
}

/**
 * The full MDP as a graph. State s = Σ_j x_j k^(L−j) (x_L, the most recent price, is the lowest
 * digit); action a leads to (s·k + a) mod k^L. `forbidden` edges (state·k + action) get a weight
 * so low that no optimal cycle uses them while another cycle exists (for uniqueness checks).
 */
export function fullMdpGraph(problem: CycleProblem, forbidden: readonly number[] = []): CycleGraph {
  const k = problem.prices.length, L = problem.memory;
  const edges = fullMdpEdges(k, L);
  if (!Number.isFinite(edges)) throw new PromoptError('UNSUPPORTED', `the full MDP has more than ${EXACT_EDGE_LIMIT} edges (k^(L+1) with k = ${k}, L = ${L})`);
  const n = edges / k;
  const successor = new Int32Array(edges), weight = new Float64Array(edges), duration = new Float64Array(edges).fill(1);
  for (let s = 0; s < n; s++) {
    let ref = k, x = s;
    for (let j = 0; j < L; j++) {
      ref = Math.min(ref, x % k);
      x = Math.floor(x / k);
    }
    const shifted = (s * k) % n;
    for (let a = 0; a < k; a++) {
      successor[s * k + a] = shifted + a;
      weight[s * k + a] = problem.gain[a][ref];
    }
  }
  if (forbidden.length > 0) {
    let lo = Infinity, hi = -Infinity;
    for (const w of weight) { lo = Math.min(lo, w); hi = Math.max(hi, w); }
    // A simple cycle has at most n edges: one edge this low makes its mean fall below every weight.
    const low = lo - (n + 1) * (hi - lo + 1);
    for (const e of forbidden) weight[e] = low;
  }
  return { nodes: n, degree: k, successor, weight, duration };
}

function finish(problem: CycleProblem, graph: CycleGraph, solution: HowardSolution): CycleSolution {
  const { ratio, nodes } = certifiedCycle(graph, solution);
  const k = problem.prices.length;
  // The price offered on the edge out of each state of the cycle is the next state's lowest digit.
  const offered = nodes.map((_, t) => graph.successor[nodes[t] * k + solution.policy[nodes[t]]] % k);
  const cycle = canonicalRotation(primitiveCycle(offered));
  const averageGain = cycleAverageGain(cycle, problem.gain, problem.memory);
  const scale = Math.max(1, ...problem.gain.flat().map(Math.abs));
  if (Math.abs(averageGain - ratio) > 1e-9 * scale) {
    throw new PromoptError('INTERNAL', `exact solver: cycle value ${averageGain} differs from the mean-cycle value ${ratio}`);
  }
  return { averageGain, generator: generatorOf(cycle, problem.memory), cycle, method: 'exact', iterations: solution.iterations };
}

/** The best price cycle over all policies, by maximum mean cycle on the full MDP, in the kernel. */
export async function solveExact(problem: CycleProblem, engine: Engine = getDefaultEngine(), forbidden: readonly number[] = []): Promise<CycleSolution> {
  const graph = fullMdpGraph(problem, forbidden);
  return finish(problem, graph, await maxRatioCycle(graph, {}, engine));
}

/** The same with the plain-TypeScript policy iteration. */
export function solveExactReference(problem: CycleProblem, forbidden: readonly number[] = []): CycleSolution {
  const graph = fullMdpGraph(problem, forbidden);
  return finish(problem, graph, maxRatioCycleReference(graph));
}

/** The full-MDP edge (state·k + action) of each step of a price cycle, once the cycle has run L steps. */
export function cycleEdges(cycle: readonly number[], problem: CycleProblem): number[] {
  const k = problem.prices.length, L = problem.memory, T = cycle.length;
  return cycle.map((a, t) => {
    let s = 0;
    for (let j = L; j >= 1; j--) s = s * k + cycle[(((t - j) % T) + T) % T];
    return s * k + a;
  });
}

/**
 * Karp's maximum mean cycle value (1978) for unit durations: exact up to rounding, no tolerance,
 * O(n·edges) time and O(n²) memory. An independent check of Howard's answer on small graphs.
 */
export function maxMeanCycleKarp(graph: CycleGraph): number {
  const { nodes: n, degree, successor, weight } = graph;
  if (n > 3000) throw new PromoptError('UNSUPPORTED', `Karp's algorithm is for at most 3000 nodes, got ${n}`);
  // D[j][v]: best weight of a walk of exactly j edges from any node to v (all nodes are sources).
  const D: Float64Array[] = [new Float64Array(n)];
  for (let j = 1; j <= n; j++) {
    const prev = D[j - 1], cur = new Float64Array(n).fill(-Infinity);
    for (let v = 0; v < n; v++) {
      if (prev[v] === -Infinity) continue;
      for (let a = 0; a < degree; a++) {
        const e = v * degree + a, u = successor[e], x = prev[v] + weight[e];
        if (x > cur[u]) cur[u] = x;
      }
    }
    D.push(cur);
  }
  let best = -Infinity;
  for (let v = 0; v < n; v++) {
    if (D[n][v] === -Infinity) continue;
    let worst = Infinity;
    for (let j = 0; j < n; j++) if (D[j][v] > -Infinity) worst = Math.min(worst, (D[n][v] - D[j][v]) / (n - j));
    best = Math.max(best, worst);
  }
  return best;
}
