// The cycle model's formulas: eq. 7 against eq. 5 simulation, the per-step references of an
// L-up-1-down cycle, cycle naming, and input validation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CounterRng } from '../../src/random.js';
import {
  canonicalRotation, cycleAverageGain, cycleReferences, generatorAverageGain, generatorOf, isReferenceMonotone,
  lUpOneDownCycle, primitiveCycle, validateCycleProblem, validateDiscountCycleProblem,
} from '../../src/cycles/model.js';
import { enumerateGeneratorCycles } from '../../src/cycles/enumerate.js';

function shuffledGenerator(rng: CounterRng, k: number): number[] {
  const all = Array.from({ length: k }, (_, i) => i);
  for (let i = k - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, 1 + Math.floor(rng.uniform() * k));
}

test('eq. 7 equals the eq. 5 simulation of the L-up-1-down cycle, and each q_i is offered against q_{i−1}', () => {
  for (let trial = 0; trial < 300; trial++) {
    const rng = new CounterRng(11, 1, trial);
    const k = 1 + Math.floor(rng.uniform() * 7), L = 1 + Math.floor(rng.uniform() * 6);
    const gain = Array.from({ length: k }, () => Array.from({ length: k }, () => rng.normal()));
    const generator = shuffledGenerator(rng, k);
    const cycle = lUpOneDownCycle(generator, L);
    const refs = cycleReferences(cycle, L);
    let t = 0;
    const m = generator.length;
    generator.forEach((q, i) => {
      const previous = generator[(i + m - 1) % m];
      const copies = m === 1 ? 1 : q > previous ? L : 1;
      for (let c = 0; c < copies; c++, t++) {
        assert.is(cycle[t], q);
        assert.is(refs[t], previous, `reference of copy ${c} of q_${i}`);
      }
    });
    const simulated = cycleAverageGain(cycle, gain, L), formula = generatorAverageGain(generator, gain, L);
    assert.ok(Math.abs(simulated - formula) <= 1e-12 * (1 + Math.abs(formula)), `${simulated} vs ${formula}`);
    assert.equal(generatorOf(cycle, L), canonicalRotation(generator));
  }
});

test('the paper\'s Example 4.4: which strings are L-up-1-down (L = 3)', () => {
  const L = 3, s = (x: string) => [...x].map(Number);
  assert.equal(generatorOf(s('1222'), L), [1, 2]);
  assert.equal(generatorOf(s('1222333'), L), [1, 2, 3]);
  assert.equal(generatorOf(s('13332'), L), [1, 3, 2]);
  assert.equal(generatorOf(s('2221'), L), [1, 2]);
  assert.equal(generatorOf(s('12221222'), L), [1, 2]);
  assert.is(generatorOf(s('12'), L), undefined);
  assert.is(generatorOf(s('111222'), L), undefined);
  assert.is(generatorOf(s('12223332'), L), undefined);
  assert.equal(generatorOf(s('4'), L), [4]);
});

test('canonical rotation, primitive period and enumeration counts', () => {
  assert.equal(canonicalRotation([3, 1, 2, 1, 1]), [1, 1, 3, 1, 2]);
  assert.equal(primitiveCycle([1, 2, 1, 2]), [1, 2]);
  const counts = [1, 2, 3, 4, 5, 6].map((k) => enumerateGeneratorCycles(k).length);
  assert.equal(counts, [1, 3, 8, 24, 89, 415]); // Σ_m C(k,m)(m−1)!
});

test('reference-monotonicity check', () => {
  assert.ok(isReferenceMonotone([[1, 1, 2], [0, 3, 3]]));
  assert.not.ok(isReferenceMonotone([[1, 0.5]]));
});

test('bad input names the field', () => {
  const bad = (input: unknown, pattern: RegExp) => assert.throws(() => validateCycleProblem(input, 'f.json'), (e: Error) => pattern.test(e.message) && !e.message.includes('\n'));
  bad({ prices: [1, 2], memory: 1, gain: [[1, 2], [3]] }, /"gain"\[1\] must have 2 entries/);
  bad({ prices: [2, 1], memory: 1, gain: [[1, 2], [3, 4]] }, /"prices" must be strictly ascending/);
  bad({ prices: [1, 2], memory: 0, gain: [[1, 2], [3, 4]] }, /"memory" must be an integer ≥ 1/);
  bad({ prices: [1, 2], memory: 1.5, gain: [[1, 2], [3, 4]] }, /"memory"/);
  bad({ prices: [1, 2], memory: 1, gain: [[1, 'x'], [3, 4]] }, /"gain"\[0\]\[1\] is "x"/);
  bad({ prices: [1, null], memory: 1, gain: [[1, 2], [3, 4]] }, /"prices"\[1\]/);
  bad({ prices: [1, 2], memory: 1 }, /"gain" must be a 2×2 array/);
  bad([1, 2], /expected a JSON object/);
  assert.throws(() => validateDiscountCycleProblem({ discounts: [0.2, 0.1], memory: 1, gain: [[1, 2], [3, 4]] }), /"discounts" must be strictly ascending/);
});

test.run();
