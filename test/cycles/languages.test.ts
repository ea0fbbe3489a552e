// Both languages of the paper: prices with reference = lowest recent price, discounts with
// reference = highest recent discount, mapped by price = 1 − discount. The discount-language
// answer is checked by brute force over all short discount strings simulated with the max-reference.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CounterRng } from '../../src/random.js';
import { Engine } from '../../src/parallel/engine.js';
import {
  discountCycleAverageGain, discountToPriceProblem, isReferenceMonotone, solveCycles, solveDiscountCycles,
} from '../../src/cycles/index.js';

const engine = new Engine({ threads: 1 });

/** Max over all cyclic discount strings of length ≤ maxLength of the simulated average gain. */
function bruteForce(k: number, gain: number[][], memory: number, maxLength: number): number {
  let best = -Infinity;
  const s: number[] = [];
  const grow = () => {
    if (s.length > 0) best = Math.max(best, discountCycleAverageGain(s, gain, memory));
    if (s.length === maxLength) return;
    for (let d = 0; d < k; d++) { s.push(d); grow(); s.pop(); }
  };
  grow();
  return best;
}

test('discount problems solve to the same cycles as their price twins, and to the brute-force optimum', async () => {
  for (let trial = 0; trial < 30; trial++) {
    const rng = new CounterRng(5, 2, trial);
    const k = 2 + (trial % 2), memory = 1 + (trial % 3);
    const discounts = [0.1, 0.15, 0.2].slice(0, k);
    // Reference-monotone in the discount language: gain weakly decreasing in the reference discount.
    const gain = Array.from({ length: k }, () => {
      let x = 3 + rng.normal();
      return Array.from({ length: k }, (_, j) => (j === 0 ? x : (x -= rng.uniform())));
    });
    const problem = { discounts, memory, gain };
    const priceProblem = discountToPriceProblem(problem);
    assert.ok(isReferenceMonotone(priceProblem.gain));
    assert.equal(priceProblem.prices, discounts.map((d) => 1 - d).reverse());
    const viaDiscounts = await solveDiscountCycles(problem, 'auto', engine);
    const viaPrices = await solveCycles(priceProblem, 'auto', engine);
    assert.is(viaDiscounts.method, 'reduced');
    assert.is(viaDiscounts.averageGain, viaPrices.averageGain);
    assert.equal(viaDiscounts.cycle.map((d) => 1 - d), viaPrices.cycle);
    assert.equal(viaDiscounts.generator!.map((d) => 1 - d), viaPrices.generator);
    // The reported discount cycle, simulated with reference = max of the last L discounts.
    const indices = viaDiscounts.cycle.map((d) => discounts.indexOf(d));
    assert.ok(Math.abs(discountCycleAverageGain(indices, gain, memory) - viaDiscounts.averageGain) < 1e-12);
    // Every L-up-1-down cycle has length ≤ (k − 1)L + 1, so strings that long contain the optimum.
    const brute = bruteForce(k, gain, memory, (k - 1) * memory + 1);
    assert.ok(Math.abs(brute - viaDiscounts.averageGain) < 1e-12, `brute ${brute} vs ${viaDiscounts.averageGain}`);
    // The exact solver through the discount mapping agrees.
    const exact = await solveDiscountCycles(problem, 'exact', engine);
    assert.ok(Math.abs(exact.averageGain - viaDiscounts.averageGain) < 1e-12);
  }
});

test.after(() => engine.close());
test.run();
