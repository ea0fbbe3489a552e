// The reference-effect model of the paper's §4 (SPEC §3), in the paper's price language.
//
// Prices p_0 < … < p_{k−1} are handled by index. The reference at time t is the lowest of the
// previous L offered prices; G[i][j] is the gain of offering p_i when the reference is p_j. A
// price cycle is a cyclic string of price indices; its long-run average gain is the paper's eq. 5:
//     (1/T) Σ_t G[c_t][min(c_{t−1}, …, c_{t−L})]   (indices mod T).
// An L-up-1-down cycle of a generator (q_1, …, q_m) of distinct prices repeats q_i L times when
// q_i > q_{i−1} and once otherwise (q_0 = q_m). While q_i is offered the reference is exactly
// q_{i−1} (every copy: the window holds q_{i−1} and, before it, either more copies of q_{i−1} or a
// descending run of single prices above it that starts with an L-fold block), so its average is
// the paper's eq. 7:   Σ_i ℓ_i G[q_i][q_{i−1}] / Σ_i ℓ_i,   ℓ_i = L if q_i > q_{i−1} else 1.
import { badInput } from '../errors.js';

/** A single-customer cycle problem in the price language (SPEC §4 input). */
export interface CycleProblem {
  /** Ascending prices. */
  prices: number[];
  /** L ≥ 1: the reference is the lowest of the last L prices. */
  memory: number;
  /** k×k: gain[i][j] = gain of offering prices[i] when the reference is prices[j]. */
  gain: number[][];
}

/** The same problem in the discount language (paper §1–3): the reference is the highest recent discount. */
export interface DiscountCycleProblem {
  /** Ascending discounts. */
  discounts: number[];
  memory: number;
  /** gain[i][j] = gain of offering discounts[i] when the reference (max of the last L) is discounts[j]. */
  gain: number[][];
}

/** Checks a problem's shape and values; messages name the field at fault. */
export function validateCycleProblem(input: unknown, source = 'input'): CycleProblem {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw badInput(`${source}: expected a JSON object with "prices", "memory" and "gain"`);
  const raw = input as Record<string, unknown>;
  const prices = numberList(raw.prices, `${source}: "prices"`);
  for (let j = 1; j < prices.length; j++) {
    if (!(prices[j] > prices[j - 1])) throw badInput(`${source}: "prices" must be strictly ascending: prices[${j}] = ${prices[j]} after ${prices[j - 1]}`);
  }
  return { prices, memory: validateMemory(raw.memory, source), gain: validateGain(raw.gain, prices.length, source) };
}

/** The discount-language twin of `validateCycleProblem` (field "discounts" instead of "prices"). */
export function validateDiscountCycleProblem(input: unknown, source = 'input'): DiscountCycleProblem {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw badInput(`${source}: expected a JSON object with "discounts", "memory" and "gain"`);
  const raw = input as Record<string, unknown>;
  const discounts = numberList(raw.discounts, `${source}: "discounts"`);
  for (let j = 1; j < discounts.length; j++) {
    if (!(discounts[j] > discounts[j - 1])) throw badInput(`${source}: "discounts" must be strictly ascending: discounts[${j}] = ${discounts[j]} after ${discounts[j - 1]}`);
  }
  return { discounts, memory: validateMemory(raw.memory, source), gain: validateGain(raw.gain, discounts.length, source) };
}

function numberList(value: unknown, name: string): number[] {
  if (!Array.isArray(value) || value.length === 0) throw badInput(`${name} must be a non-empty array of numbers`);
  value.forEach((x, j) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) throw badInput(`${name}[${j}] is ${JSON.stringify(x)}, not a finite number`);
  });
  return [...(value as number[])];
}

function validateMemory(value: unknown, source: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 1_000_000) {
    throw badInput(`${source}: "memory" must be an integer ≥ 1, got ${JSON.stringify(value)}`);
  }
  return value;
}

function validateGain(value: unknown, k: number, source: string): number[][] {
  if (!Array.isArray(value) || value.length !== k) throw badInput(`${source}: "gain" must be a ${k}×${k} array (one row per price), got ${Array.isArray(value) ? value.length : typeof value} rows`);
  return value.map((row, i) => {
    if (!Array.isArray(row) || row.length !== k) throw badInput(`${source}: "gain"[${i}] must have ${k} entries (one per reference price)`);
    return row.map((x, j) => {
      if (typeof x !== 'number' || !Number.isFinite(x)) throw badInput(`${source}: "gain"[${i}][${j}] is ${JSON.stringify(x)}, not a finite number`);
      return x;
    });
  });
}

/** Definition 4.1: G[i][j] weakly increasing in the reference j for every offered price i. */
export function isReferenceMonotone(gain: readonly (readonly number[])[]): boolean {
  return gain.every((row) => row.every((x, j) => j === 0 || x >= row[j - 1]));
}

/** ℓ_i of a generator: L for a step up in price, 1 for a step down (and for a constant price). */
export function repeatCounts(generator: readonly number[], memory: number): number[] {
  const m = generator.length;
  return generator.map((q, i) => (q > generator[(i + m - 1) % m] ? memory : 1));
}

/** The L-up-1-down price cycle (Definition 4.3) of a generator of distinct price indices. */
export function lUpOneDownCycle(generator: readonly number[], memory: number): number[] {
  requireDistinct(generator);
  const counts = repeatCounts(generator, memory);
  const cycle: number[] = [];
  generator.forEach((q, i) => {
    for (let c = 0; c < counts[i]; c++) cycle.push(q);
  });
  return cycle;
}

function requireDistinct(generator: readonly number[]): void {
  if (generator.length === 0) throw badInput('a generator cycle needs at least one price');
  if (new Set(generator).size !== generator.length) throw badInput(`a generator cycle has distinct prices, got ${generator.join(',')}`);
}

/** Eq. 7: the long-run average gain of the L-up-1-down cycle of `generator`. */
export function generatorAverageGain(generator: readonly number[], gain: readonly (readonly number[])[], memory: number): number {
  requireDistinct(generator);
  const m = generator.length;
  let total = 0, period = 0;
  const counts = repeatCounts(generator, memory);
  for (let i = 0; i < m; i++) {
    total += counts[i] * gain[generator[i]][generator[(i + m - 1) % m]];
    period += counts[i];
  }
  return total / period;
}

/** Reference (lowest of the previous L prices, cyclically) at each step of a price cycle. */
export function cycleReferences(cycle: readonly number[], memory: number): number[] {
  const T = cycle.length;
  return cycle.map((_, t) => {
    let ref = Infinity;
    for (let s = 1; s <= memory; s++) ref = Math.min(ref, cycle[(((t - s) % T) + T) % T]);
    return ref;
  });
}

/** Eq. 5: the long-run average gain of repeating a price cycle forever, by direct simulation. */
export function cycleAverageGain(cycle: readonly number[], gain: readonly (readonly number[])[], memory: number): number {
  if (cycle.length === 0) throw badInput('a price cycle needs at least one price');
  const refs = cycleReferences(cycle, memory);
  let total = 0;
  cycle.forEach((p, t) => (total += gain[p][refs[t]]));
  return total / cycle.length;
}

/** The rotation of a cycle that is lexicographically smallest (a canonical name for it). */
export function canonicalRotation(cycle: readonly number[]): number[] {
  const T = cycle.length;
  let best = 0;
  for (let s = 1; s < T; s++) {
    for (let t = 0; t < T; t++) {
      const a = cycle[(s + t) % T], b = cycle[(best + t) % T];
      if (a !== b) {
        if (a < b) best = s;
        break;
      }
    }
  }
  return [...cycle.slice(best), ...cycle.slice(0, best)];
}

/** The shortest period of a cyclic string (e.g. 1212 → 12). */
export function primitiveCycle(cycle: readonly number[]): number[] {
  const T = cycle.length;
  for (let d = 1; d <= T; d++) {
    if (T % d !== 0) continue;
    if (cycle.every((x, t) => x === cycle[t % d])) return cycle.slice(0, d);
  }
  return [...cycle];
}

/**
 * The generator of an L-up-1-down price cycle, starting at its lowest price, or undefined when
 * the cycle is not L-up-1-down. A constant cycle is L-up-1-down with a one-price generator.
 */
export function generatorOf(cycle: readonly number[], memory: number): number[] | undefined {
  const c = primitiveCycle(cycle);
  if (c.length === 1) return [c[0]];
  // Rotate so that a run of equal prices starts at position 0, then cut into runs.
  let start = 0;
  while (c[start] === c[(start + c.length - 1) % c.length]) start++;
  const rotated = [...c.slice(start), ...c.slice(0, start)];
  const runs: Array<{ price: number; count: number }> = [];
  for (const p of rotated) {
    if (runs.length > 0 && runs[runs.length - 1].price === p) runs[runs.length - 1].count++;
    else runs.push({ price: p, count: 1 });
  }
  const generator = runs.map((r) => r.price);
  if (new Set(generator).size !== generator.length) return undefined;
  const counts = repeatCounts(generator, memory);
  if (!runs.every((r, i) => r.count === counts[i])) return undefined;
  const low = generator.indexOf(Math.min(...generator));
  return [...generator.slice(low), ...generator.slice(0, low)];
}

/**
 * The price-language problem equivalent to a discount-language one: price = 1 − discount, so the
 * order reverses (discount index i ↔ price index k−1−i) and the highest recent discount is the
 * lowest recent price. Reference-monotone in prices ⇔ gain weakly decreasing in the reference discount.
 */
export function discountToPriceProblem(problem: DiscountCycleProblem): CycleProblem {
  const k = problem.discounts.length;
  const flip = (i: number) => k - 1 - i;
  return {
    prices: problem.discounts.map((_, i) => 1 - problem.discounts[flip(i)]),
    memory: problem.memory,
    gain: problem.gain.map((_, i) => problem.gain[flip(i)].map((_, j) => problem.gain[flip(i)][flip(j)])),
  };
}

/** Price indices ↔ discount indices under `discountToPriceProblem` (the map is its own inverse). */
export function flipIndices(indices: readonly number[], k: number): number[] {
  return indices.map((i) => k - 1 - i);
}

/** Eq. 5 in the discount language, simulated directly: the reference is the highest of the last L discounts. */
export function discountCycleAverageGain(cycle: readonly number[], gain: readonly (readonly number[])[], memory: number): number {
  const T = cycle.length;
  let total = 0;
  for (let t = 0; t < T; t++) {
    let ref = -Infinity;
    for (let s = 1; s <= memory; s++) ref = Math.max(ref, cycle[(((t - s) % T) + T) % T]);
    total += gain[cycle[t]][ref];
  }
  return total / T;
}
