// Shared test utilities: seeded inputs, tolerant comparisons, and engines that get closed.
import * as assert from 'uvu/assert';
import { Engine, type EngineOptions } from '../src/parallel/engine.js';
import { CounterRng } from '../src/random.js';
import { relativeError } from '../src/kernels/math.js';
import type { GridCustomers } from '../src/kernels/grid.js';

/** Uniform draws in [lo, hi) from a fixed seed. */
export function uniformArray(n: number, lo: number, hi: number, seed = 7, stream = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * new CounterRng(seed, stream, i).uniform();
  return out;
}

/** Asserts |a − b| ≤ rel·|b| + abs element-wise, naming the first offender. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rel: number, abs = 0, label = 'value'): void {
  assert.is(actual.length, expected.length, `${label}: lengths differ`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], b = expected[i];
    if (!(Math.abs(a - b) <= rel * Math.abs(b) + abs) && !(a === b)) {
      assert.unreachable(`${label}[${i}]: ${a} vs expected ${b} (relative error ${relativeError(a, b)})`);
    }
  }
}

/** Runs `body` with engines of the given options and closes them afterwards. */
export async function withEngine<T>(options: EngineOptions, body: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = new Engine(options);
  try {
    return await body(engine);
  } finally {
    await engine.close();
  }
}

/** Random customers for the price-grid kernel. */
export function randomCustomers(n: number, seed: number): GridCustomers {
  return {
    baselineUtility: uniformArray(n, -4, 8, seed, 1),
    priceSensitivity: uniformArray(n, 0.002, 0.06, seed, 2),
    shareCost: uniformArray(n, -0.5, 1.5, seed, 3),
    expectedReferrals: uniformArray(n, 0, 0.5, seed, 4),
    marginalCost: uniformArray(n, 30, 100, seed, 5),
  };
}

