// Reference-effect promotion cycles (SPEC §3–§4, paper §4): one entry point that picks the
// solver, and the public pieces.
import { PromoptError, badInput } from '../errors.js';
import { getDefaultEngine, type Engine } from '../parallel/engine.js';
import {
  discountToPriceProblem, flipIndices, isReferenceMonotone,
  type CycleProblem, type DiscountCycleProblem,
} from './model.js';
import { solveReduced, type CycleSolution } from './reduced.js';
import { EXACT_EDGE_LIMIT, fullMdpEdges, solveExact } from './exact.js';

export * from './model.js';
export { reducedGraph, solveReduced, solveReducedReference, bestGeneratorByEnumeration, type CycleSolution } from './reduced.js';
export { EXACT_EDGE_LIMIT, fullMdpEdges, fullMdpGraph, solveExact, solveExactReference, maxMeanCycleKarp, cycleEdges } from './exact.js';
export { tightInstance, type TightInstanceOptions } from './tightness.js';
export { enumerateGeneratorCycles, cycleGroups, cyclePeriod, type GeneratorCycle } from './enumerate.js';
export {
  batchCouponCycles, compareCycleWithMyopic, decodeCouponCycle, generatorLabel, DEFAULT_DISCOUNTS, DEFAULT_NOMINAL,
  type BatchCycles, type CycleComparison, type CycleComparisonOptions, type TrueCouponModel,
} from './batch.js';

export type CycleMethod = 'auto' | 'reduced' | 'exact';

/** SPEC §4 output of `promopt cycles`. */
export interface CycleResult {
  averageGain: number;
  /** Generator cycle in cycle order (prices, or discounts in the discount language); null when the optimum is not L-up-1-down. */
  generator: number[] | null;
  /** One period of the optimal offers. */
  cycle: number[];
  monotone: boolean;
  method: 'reduced' | 'exact';
  language: 'prices' | 'discounts';
  iterations: number;
}

/**
 * The best long-run cycle of offers. 'auto' uses the reduced semi-MDP when the gain is
 * reference-monotone (exact by Theorem 4.5) and the full MDP otherwise; the full MDP is refused
 * with an UNSUPPORTED error beyond EXACT_EDGE_LIMIT edges rather than answered approximately.
 */
export async function solveCycles(problem: CycleProblem, method: CycleMethod = 'auto', engine: Engine = getDefaultEngine()): Promise<CycleResult> {
  const solution = await solveIndices(problem, method, engine);
  return {
    averageGain: solution.averageGain,
    generator: solution.generator ? solution.generator.map((i) => problem.prices[i]) : null,
    cycle: solution.cycle.map((i) => problem.prices[i]),
    monotone: isReferenceMonotone(problem.gain),
    method: solution.method,
    language: 'prices',
    iterations: solution.iterations,
  };
}

/** The same in the discount language (reference = highest recent discount), via price = 1 − discount. */
export async function solveDiscountCycles(problem: DiscountCycleProblem, method: CycleMethod = 'auto', engine: Engine = getDefaultEngine()): Promise<CycleResult> {
  const priceProblem = discountToPriceProblem(problem);
  const solution = await solveIndices(priceProblem, method, engine);
  const k = problem.discounts.length;
  return {
    averageGain: solution.averageGain,
    generator: solution.generator ? flipIndices(solution.generator, k).map((i) => problem.discounts[i]) : null,
    cycle: flipIndices(solution.cycle, k).map((i) => problem.discounts[i]),
    monotone: isReferenceMonotone(priceProblem.gain),
    method: solution.method,
    language: 'discounts',
    iterations: solution.iterations,
  };
}

async function solveIndices(problem: CycleProblem, method: CycleMethod, engine: Engine): Promise<CycleSolution> {
  const monotone = isReferenceMonotone(problem.gain);
  if (method === 'reduced' || (method === 'auto' && monotone)) {
    if (!monotone) throw badInput(`the reduced solver needs a reference-monotone gain (${monotoneViolation(problem)}); use the exact method`);
    return solveReduced(problem, engine);
  }
  if (method !== 'exact' && method !== 'auto') throw badInput(`method must be auto, reduced or exact, got "${method}"`);
  const k = problem.prices.length;
  if (!Number.isFinite(fullMdpEdges(k, problem.memory))) {
    throw new PromoptError('UNSUPPORTED', `${monotone ? '' : `the gain is not reference-monotone (${monotoneViolation(problem)}) and `}the exact full-MDP solver is limited to k^(L+1) ≤ ${EXACT_EDGE_LIMIT} (k = ${k}, L = ${problem.memory})`);
  }
  return solveExact(problem, engine);
}

function monotoneViolation(problem: CycleProblem): string {
  for (let i = 0; i < problem.gain.length; i++) {
    const row = problem.gain[i];
    for (let j = 1; j < row.length; j++) if (row[j] < row[j - 1]) return `gain[${i}][${j}] = ${row[j]} < gain[${i}][${j - 1}] = ${row[j - 1]}`;
  }
  return 'monotone';
}
