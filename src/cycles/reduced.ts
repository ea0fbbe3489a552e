// The paper's reduced k-state semi-MDP (eq. 8): the state is the last generator price i, the
// action the next one j; the step takes L periods with reward L·G[j][i] when p_j > p_i (the
// L copies of p_j are all offered against the reference p_i) and one period with reward G[j][i]
// otherwise (including j = i, a constant price). Its optimal average reward per period is the
// best eq. 7 value over generator cycles, i.e. the maximum cycle ratio of a complete k-node graph,
// solved exactly by Howard's policy iteration and then re-evaluated on the expanded cycle by eq. 5.
import { PromoptError } from '../errors.js';
import { getDefaultEngine, type Engine } from '../parallel/engine.js';
import { certifiedCycle, maxRatioCycle, maxRatioCycleReference, type CycleGraph, type HowardSolution } from '../kernels/mdp.js';
import { canonicalRotation, cycleAverageGain, generatorAverageGain, lUpOneDownCycle, type CycleProblem } from './model.js';

/** A solved cycle problem, by price index. */
export interface CycleSolution {
  averageGain: number;
  /** Generator cycle (price indices) starting at its lowest price; undefined when the optimal cycle is not L-up-1-down. */
  generator: number[] | undefined;
  /** One period of the optimal price cycle (price indices), starting at its lowest price. */
  cycle: number[];
  method: 'reduced' | 'exact';
  /** Policy-iteration iterations used. */
  iterations: number;
}

/** The reduced semi-MDP as a graph: edge i → j with weight τ·G[j][i] and duration τ ∈ {1, L}. */
export function reducedGraph(problem: CycleProblem): CycleGraph {
  const k = problem.prices.length, L = problem.memory;
  const successor = new Int32Array(k * k), weight = new Float64Array(k * k), duration = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) {
    const e = i * k + j, tau = j > i ? L : 1;
    successor[e] = j;
    duration[e] = tau;
    weight[e] = tau * problem.gain[j][i];
  }
  return { nodes: k, degree: k, successor, weight, duration };
}

function finish(problem: CycleProblem, graph: CycleGraph, solution: HowardSolution): CycleSolution {
  const { ratio, nodes } = certifiedCycle(graph, solution);
  const generator = canonicalRotation(nodes);
  const cycle = lUpOneDownCycle(generator, problem.memory);
  // The exact value of the final cycle, simulated (eq. 5), must agree with the solver's ratio.
  const averageGain = cycleAverageGain(cycle, problem.gain, problem.memory);
  const scale = Math.max(1, ...problem.gain.flat().map(Math.abs));
  if (Math.abs(averageGain - ratio) > 1e-9 * scale) {
    throw new PromoptError('INTERNAL', `reduced solver: cycle value ${averageGain} differs from the policy ratio ${ratio}`);
  }
  return { averageGain, generator, cycle, method: 'reduced', iterations: solution.iterations };
}

/** The best L-up-1-down cycle, by policy iteration in the kernel (exact under reference-monotonicity, Theorem 4.5). */
export async function solveReduced(problem: CycleProblem, engine: Engine = getDefaultEngine()): Promise<CycleSolution> {
  const graph = reducedGraph(problem);
  return finish(problem, graph, await maxRatioCycle(graph, {}, engine));
}

/** The same with the plain-TypeScript policy iteration. */
export function solveReducedReference(problem: CycleProblem): CycleSolution {
  const graph = reducedGraph(problem);
  return finish(problem, graph, maxRatioCycleReference(graph));
}

/**
 * Brute force over all Σ_m C(k,m)(m−1)! generator cycles by eq. 7 (independent of the solver;
 * for tests and small k). Ties keep the first in enumeration order.
 */
export function bestGeneratorByEnumeration(problem: CycleProblem): { averageGain: number; generator: number[] } {
  const k = problem.prices.length;
  if (k > 9) throw new PromoptError('UNSUPPORTED', `enumeration is for k ≤ 9 prices, got ${k}`);
  let best = { averageGain: -Infinity, generator: [0] };
  const path: number[] = [];
  const visit = () => {
    const value = generatorAverageGain(path, problem.gain, problem.memory);
    if (value > best.averageGain) best = { averageGain: value, generator: [...path] };
    for (let c = path[0] + 1; c < k; c++) {
      if (path.includes(c)) continue;
      path.push(c);
      visit();
      path.pop();
    }
  };
  for (let s = 0; s < k; s++) {
    path.push(s);
    visit();
    path.pop();
  }
  return best;
}
