// The paper's §4 results as property tests against the exact full-MDP solver:
// Theorem 4.5 (reduced optimum = true optimum under reference-monotonicity), Example 4.6
// (without it the optimum can be a complex cycle, found only by the exact solver), and
// Theorem 4.10 (every generator cycle is the unique optimum of some monotone gain function).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CounterRng } from '../../src/random.js';
import { Engine } from '../../src/parallel/engine.js';
import {
  bestGeneratorByEnumeration, canonicalRotation, cycleAverageGain, cycleEdges, fullMdpGraph, generatorOf,
  isReferenceMonotone, lUpOneDownCycle, maxMeanCycleKarp, solveCycles, solveExact, solveExactReference,
  solveReduced, solveReducedReference, tightInstance, type CycleProblem,
} from '../../src/cycles/index.js';
import { PromoptError } from '../../src/errors.js';

const engine = new Engine({ threads: 1 });
const close = (a: number, b: number, tol = 1e-12) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));

function monotoneInstance(rng: CounterRng, k: number, L: number): CycleProblem {
  // Rows increase in the reference by random non-negative steps (some zero: weak monotonicity).
  const gain = Array.from({ length: k }, () => {
    let x = 4 * rng.normal();
    return Array.from({ length: k }, (_, j) => (j === 0 ? x : (x += rng.uniform() < 0.2 ? 0 : 2 * rng.uniform())));
  });
  return { prices: Array.from({ length: k }, (_, i) => 10 + i), memory: L, gain };
}

/** The best value over cycles other than `cycle`: each must drop one of its full-MDP edges. */
function bestOtherValue(problem: CycleProblem, cycle: number[]): number {
  let best = -Infinity;
  for (const e of new Set(cycleEdges(cycle, problem))) best = Math.max(best, solveExactReference(problem, [e]).averageGain);
  return best;
}

test('Theorem 4.5: on random reference-monotone instances (k ≤ 5, L ≤ 4) the reduced optimum is the exact optimum', async () => {
  for (let trial = 0; trial < 120; trial++) {
    const rng = new CounterRng(45, 1, trial);
    const k = 2 + (trial % 4), L = 1 + Math.floor(rng.uniform() * 4);
    const problem = monotoneInstance(rng, k, L);
    assert.ok(isReferenceMonotone(problem.gain));
    const reduced = await solveReduced(problem, engine);
    const exact = await solveExact(problem, engine);
    const karp = maxMeanCycleKarp(fullMdpGraph(problem));
    const enumerated = bestGeneratorByEnumeration(problem);
    assert.ok(close(reduced.averageGain, exact.averageGain), `k=${k} L=${L}: reduced ${reduced.averageGain} vs exact ${exact.averageGain}`);
    assert.ok(close(karp, exact.averageGain), `Karp ${karp} vs Howard ${exact.averageGain}`);
    assert.ok(close(enumerated.averageGain, reduced.averageGain), `enumeration ${enumerated.averageGain}`);
    // The reduced answer is an L-up-1-down cycle whose simulated value is the optimum.
    assert.equal(reduced.cycle, lUpOneDownCycle(reduced.generator!, L));
    assert.equal(generatorOf(reduced.cycle, L), reduced.generator);
    assert.ok(close(cycleAverageGain(reduced.cycle, problem.gain, L), exact.averageGain));
    // Kernel and plain-TypeScript policy iteration agree.
    const reference = solveReducedReference(problem);
    assert.equal(reference.generator, reduced.generator);
    assert.is(reference.averageGain, reduced.averageGain);
  }
});

test('larger alphabets (k = 6–8): the reduced solver matches brute-force enumeration and, for L ≤ 2, the exact solver', async () => {
  for (let trial = 0; trial < 9; trial++) {
    const rng = new CounterRng(47, 1, trial);
    const k = 6 + (trial % 3), L = 1 + (trial % 2);
    const problem = monotoneInstance(rng, k, L);
    const reduced = await solveReduced(problem, engine);
    assert.ok(close(reduced.averageGain, bestGeneratorByEnumeration(problem).averageGain));
    const exact = await solveExact(problem, engine);
    assert.ok(close(reduced.averageGain, exact.averageGain), `k=${k} L=${L}`);
  }
});

// Our stand-in for Example 4.6 (the extracted text lost the paper's table): prices 1..4, L = 2,
// 0/1 gains that are not reference-monotone. The unique optimum offers price 4 in three different
// contexts and beats every L-up-1-down cycle.
const EXAMPLE_4_6: CycleProblem = { prices: [1, 2, 3, 4], memory: 2, gain: [[0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0], [1, 1, 1, 0]] };

test('Example 4.6: without monotonicity the unique optimum is not L-up-1-down; the exact solver finds it', async () => {
  assert.not.ok(isReferenceMonotone(EXAMPLE_4_6.gain));
  const result = await solveCycles(EXAMPLE_4_6);
  assert.is(result.method, 'exact');
  assert.is(result.monotone, false);
  assert.is(result.generator, null);
  const exact = await solveExact(EXAMPLE_4_6, engine);
  assert.is(generatorOf(exact.cycle, 2), undefined);
  assert.ok(close(exact.averageGain, 6 / 7), `${exact.averageGain}`);
  assert.ok(close(maxMeanCycleKarp(fullMdpGraph(EXAMPLE_4_6)), exact.averageGain));
  const bestLUp = bestGeneratorByEnumeration(EXAMPLE_4_6).averageGain;
  assert.ok(exact.averageGain > bestLUp + 1e-9, `exact ${exact.averageGain} vs best L-up-1-down ${bestLUp}`);
  assert.ok(bestOtherValue(EXAMPLE_4_6, exact.cycle) < exact.averageGain - 1e-9, 'the optimum is unique');
  // Forcing the reduced solver on it is refused rather than answered wrongly.
  let refused = '';
  await solveCycles(EXAMPLE_4_6, 'reduced').catch((e: Error) => (refused = e.message));
  assert.match(refused, /reference-monotone/);
});

test('without monotonicity the exact solver is never beaten by L-up-1-down cycles and agrees with Karp', async () => {
  for (let trial = 0; trial < 60; trial++) {
    const rng = new CounterRng(46, 1, trial);
    const k = 2 + (trial % 3), L = 1 + Math.floor(rng.uniform() * 3);
    const gain = Array.from({ length: k }, () => Array.from({ length: k }, () => (rng.uniform() < 0.5 ? Math.round(4 * rng.uniform()) : rng.normal())));
    const problem = { prices: Array.from({ length: k }, (_, i) => i), memory: L, gain };
    const exact = await solveExact(problem, engine);
    assert.ok(close(exact.averageGain, maxMeanCycleKarp(fullMdpGraph(problem))));
    assert.ok(exact.averageGain >= bestGeneratorByEnumeration(problem).averageGain - 1e-12);
    assert.ok(close(cycleAverageGain(exact.cycle, gain, L), exact.averageGain));
  }
});

test('the exact solver refuses beyond its documented size instead of answering approximately', async () => {
  const k = 6, L = 9;
  const gain = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => ((i + j) % 2 ? 1 : 0)));
  const problem = { prices: Array.from({ length: k }, (_, i) => i), memory: L, gain };
  try {
    await solveCycles(problem);
    assert.unreachable('should refuse');
  } catch (error) {
    assert.instance(error, PromoptError);
    assert.is((error as PromoptError).code, 'UNSUPPORTED');
    assert.match((error as Error).message, /not reference-monotone/);
  }
});

test('Theorem 4.10: for random generator cycles the constructed gain is monotone and its L-up-1-down cycle the unique optimum', async () => {
  for (let trial = 0; trial < 40; trial++) {
    const rng = new CounterRng(410, 1, trial);
    const k = 2 + (trial % 4), L = 1 + Math.floor(rng.uniform() * 3);
    const all = Array.from({ length: k }, (_, i) => i);
    for (let i = k - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform() * (i + 1));
      [all[i], all[j]] = [all[j], all[i]];
    }
    const generator = all.slice(0, 1 + Math.floor(rng.uniform() * k));
    let h = 0;
    const potentials = all.map(() => (h += 0.1 + rng.uniform()));
    const level = 3 * rng.normal();
    const problem = tightInstance(k, L, generator, { potentials, level });
    assert.ok(isReferenceMonotone(problem.gain));
    const target = canonicalRotation(lUpOneDownCycle(generator, L));
    const exact = await solveExact(problem, engine);
    assert.equal(exact.cycle, target, `k=${k} L=${L} generator ${generator}`);
    assert.ok(close(exact.averageGain, level, 1e-10));
    const reduced = await solveReduced(problem, engine);
    assert.equal(reduced.cycle, target);
    const other = bestOtherValue(problem, target);
    assert.ok(other < exact.averageGain - 1e-9, `best other cycle ${other} vs ${exact.averageGain}`);
  }
});

test.after(() => engine.close());
test.run();
