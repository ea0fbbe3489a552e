// Theorem 4.10 (tightness of the L-up-1-down characterization), after the paper's Appendix C:
// for any generator cycle q_1..q_m of distinct prices and any L there is a reference-monotone
// gain function whose unique optimal price cycle is the L-up-1-down cycle of q.
//
// Construction (our reconstruction of eqs. 9–10). Take strictly increasing potentials h over the
// price indices and a level g. For the cycle step q_i → q_{i+1} with duration τ_i = L if
// q_{i+1} > q_i else 1, set the gain of offering q_{i+1} against any reference r ≥ q_i to
//     A_{i+1} = g + (h(q_i) − h(q_{i+1})) / τ_i,
// and to g − M against a reference below q_i; every price outside the generator gains g − M
// against every reference. Each row is a step (−M then constant), hence reference-monotone.
// In the reduced semi-MDP the potentials certify optimality: τ(i,j)(G[j][i] − g) + h(j) ≤ h(i)
// for every pair, with equality exactly on the cycle's steps (strict elsewhere because h is
// strictly increasing: a step up to s from r > q_i pays L·A ≤ h(q_i) − h(s) < h(r) − h(s); a step
// down from r > q_i pays A = h(q_i) − h(s) < h(r) − h(s); a constant price s > q_i pays A < 0),
// so the cycle's average gain is g and every other reduced cycle is strictly worse. M is taken
// large enough that no cycle of the full MDP (at most k^L steps) gains from a −M step; the tests
// check uniqueness over all price cycles with the exact full-MDP solver.
import { badInput } from '../errors.js';
import type { CycleProblem } from './model.js';

export interface TightInstanceOptions {
  /** Strictly increasing potentials, one per price index (default 0, 1, 2, …). */
  potentials?: readonly number[];
  /** The optimal average gain g (default 0). */
  level?: number;
  /** The penalty M (default: large enough for every cycle of the full MDP). */
  penalty?: number;
}

/** A reference-monotone problem over k prices whose unique optimal cycle is the L-up-1-down cycle of `generator`. */
export function tightInstance(k: number, memory: number, generator: readonly number[], options: TightInstanceOptions = {}): CycleProblem {
  if (!Number.isInteger(k) || k < 1) throw badInput(`k must be a positive integer, got ${k}`);
  if (generator.length === 0 || new Set(generator).size !== generator.length || generator.some((q) => !Number.isInteger(q) || q < 0 || q >= k)) {
    throw badInput(`generator must be distinct price indices in 0..${k - 1}, got ${generator.join(',')}`);
  }
  const h = options.potentials ? [...options.potentials] : Array.from({ length: k }, (_, i) => i);
  if (h.length !== k || h.some((x, i) => i > 0 && !(x > h[i - 1]))) throw badInput('potentials must be k strictly increasing numbers');
  const g = options.level ?? 0;
  const spread = h[k - 1] - h[0];
  // A cycle has at most k^L steps, each gaining at most g + spread: one −M step outweighs them all.
  const states = Math.min(Number.MAX_SAFE_INTEGER, k ** memory);
  const M = options.penalty ?? (states + 1) * (spread + 1);
  const gain = Array.from({ length: k }, () => new Array<number>(k).fill(g - M));
  const m = generator.length;
  for (let i = 0; i < m; i++) {
    const from = generator[i], to = generator[(i + 1) % m];
    const tau = to > from ? memory : 1;
    const value = g + (h[from] - h[to]) / tau;
    for (let r = from; r < k; r++) gain[to][r] = value;
  }
  return { prices: Array.from({ length: k }, (_, i) => i + 1), memory, gain };
}
