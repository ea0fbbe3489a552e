// Numerical building blocks of the sequential GMM: per-market inversion of the market
// constants by safeguarded Newton, and the Levenberg–Marquardt (Gauss–Newton) GMM minimizer.
import { PromoptError } from '../errors.js';
import type { Block } from '../kernels/runtime.js';
import type { MomentWorkspace } from '../kernels/moments.js';
import { dot, multiply, multiplyVector, quadraticForm, solve, transpose, zeros, type Matrix } from './estimate-linalg.js';

export interface InversionResult {
  delta: Float64Array;
  /** Markets whose inversion did not converge. */
  failures: number;
  passes: number;
}

/**
 * Solves Σ_{i∈m} ω_i (Λ(δ_m + o_i) − y_i) = 0 for every market at once, one pass over the data
 * per iteration. The left side is increasing in δ, so each market keeps a bracket [lo, hi];
 * a Newton step that leaves the bracket (or is not finite) is replaced by bisection, or by a
 * doubling step while one side of the bracket is still open; Newton steps are capped by the same
 * doubling length, since from the flat tail of a steep share curve they overshoot wildly.
 */
export async function invertMarketConstants(
  ws: MomentWorkspace, offset: Block, weight: Block | null, outcome: Block, start: ArrayLike<number>, tolerance = 1e-11, maxPasses = 200,
): Promise<InversionResult> {
  const M = ws.markets;
  const delta = Float64Array.from(start);
  const lo = new Float64Array(M).fill(-Infinity), hi = new Float64Array(M).fill(Infinity);
  const done = new Uint8Array(M);
  const expand = new Float64Array(M).fill(2);
  let passes = 0;
  for (; passes < maxPasses; passes++) {
    const { value, slope } = await ws.inversionSums(offset, weight, outcome, delta);
    let open = 0;
    for (let m = 0; m < M; m++) {
      if (done[m]) continue;
      const f = value[m], d = delta[m];
      if (!Number.isFinite(f)) { done[m] = 2; continue; }
      if (f > 0) hi[m] = Math.min(hi[m], d);
      else if (f < 0) lo[m] = Math.max(lo[m], d);
      else { done[m] = 1; continue; }
      let next = d - f / slope[m];
      // Converged: the Newton correction is below the tolerance (it may be below one ulp of δ).
      if (Math.abs(next - d) <= tolerance * (1 + Math.abs(d))) { done[m] = 1; continue; }
      if (!Number.isFinite(next) || next <= lo[m] || next >= hi[m]) {
        if (Number.isFinite(lo[m]) && Number.isFinite(hi[m])) next = 0.5 * (lo[m] + hi[m]);
        else {
          next = f > 0 ? d - expand[m] : d + expand[m];
          expand[m] *= 2;
        }
      } else if (Math.abs(next - d) > expand[m]) {
        // Newton from the flat side of a steep share curve overshoots: cap the step (doubling cap).
        next = d + Math.sign(next - d) * expand[m];
        expand[m] *= 2;
      }
      if (Math.abs(next - d) <= tolerance * (1 + Math.abs(d)) || (hi[m] - lo[m]) <= tolerance * (1 + Math.abs(d))) done[m] = 1;
      delta[m] = next;
      if (!done[m]) open++;
      if (Math.abs(next) > 700) done[m] = 2; // a market share of 0 or 1: no finite constant
    }
    if (open === 0) { passes++; break; }
  }
  let failures = 0;
  for (let m = 0; m < M; m++) if (done[m] !== 1) failures++;
  return { delta, failures, passes };
}

/** Moments (summed over customers or markets) and their Jacobian at a parameter value. */
export interface GmmPoint {
  g: Float64Array;
  G: Matrix;
}

export interface GmmSolution<T extends GmmPoint> {
  theta: Float64Array;
  point: T;
  objective: number;
  gradientNorm: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
  message: string;
}

/**
 * Minimizes g(θ)'W g(θ) by Levenberg–Marquardt on the Gauss–Newton model.
 *
 * Why Gauss–Newton/LM rather than plain quasi-Newton: each evaluation already returns the
 * analytic Jacobian G (one kernel pass accumulates the moments and their derivatives together),
 * so G'WG is an accurate Hessian wherever the moments' residuals are small — always for the
 * exactly identified steps, where the iteration converges quadratically in a handful of passes
 * over the data where BFGS would need dozens. In the over-identified purchase step the residual
 * at the optimum is not zero and one moment (MC·e^{x'β_α}) is strongly curved, so the model adds
 * the structured secant term S of Dennis, Gay and Welsch (NL2SOL) for Σ_k (Wg)_k ∇²g_k; the LM
 * damping keeps early steps safe when the start is far and the inversions are very nonlinear.
 */
export async function minimizeGmm<T extends GmmPoint>(
  evaluate: (theta: Float64Array) => Promise<T | null>, theta0: Float64Array, W: Matrix, label: string, tolerance = 1e-12, maxIterations = 100,
  /** As many (effective) moments as parameters: the solution must be a root, g'Wg ≈ 0. */
  exactlyIdentified = false,
): Promise<GmmSolution<T>> {
  let theta: Float64Array = Float64Array.from(theta0);
  let point = await evaluate(theta);
  let evaluations = 1;
  if (!point) throw new PromoptError('NOT_CONVERGED', `${label}: the market-constant inversion failed at the starting values`);
  const p = theta.length;
  let Q = quadraticForm(W, point.g);
  if (p === 0) return { theta, point, objective: Q, gradientNorm: 0, iterations: 0, evaluations, converged: true, message: 'no parameters to move' };
  let lambda = 1e-4;
  let iterations = 0, converged = false, message = '';
  let WG = multiply(W, point.G);
  let gradient: Float64Array = multiplyVector(transpose(WG), point.g);
  let S: Matrix = zeros(p, p);
  for (; iterations < maxIterations; iterations++) {
    const GWG = multiply(transpose(point.G), WG);
    let H: Matrix = GWG.map((row, i) => Float64Array.from(row, (x, j) => x + S[i][j]));
    let newton = solve(H, gradient);
    if (!newton || !(dot(gradient, newton) > 0)) {
      // The secant term made the model indefinite: fall back to Gauss–Newton.
      S = zeros(p, p);
      H = GWG;
      newton = solve(H, gradient);
    }
    if (!newton) throw new PromoptError('NOT_CONVERGED', `${label}: the Jacobian of the moments is singular at the current parameters (a parameter does not move any moment)`);
    const decrement = dot(gradient, newton);
    if (decrement <= tolerance * (1 + Q)) { converged = true; message = 'Newton decrement below tolerance'; break; }
    let accepted = false;
    for (let tries = 0; tries < 40 && !accepted; tries++) {
      const damped = H.map((row, i) => { const r = Float64Array.from(row); r[i] += lambda * (GWG[i][i] + 1e-12); return r; });
      const step = solve(damped, gradient);
      if (step) {
        const candidate = Float64Array.from(theta, (t, i) => t - step[i]);
        const next = await evaluate(candidate);
        evaluations++;
        if (next) {
          const Qnext = quadraticForm(W, next.g);
          if (Qnext < Q) {
            const nextWG = multiply(W, next.G);
            const nextGradient = multiplyVector(transpose(nextWG), next.g);
            S = secantUpdate(S, Float64Array.from(candidate, (c, i) => c - theta[i]),
              Float64Array.from(nextGradient, (x, i) => x - gradient[i]),
              Float64Array.from(nextGradient, (x, i) => x - dot(WG.map((row) => row[i]), next.g)));
            theta = candidate; point = next; Q = Qnext; WG = nextWG; gradient = nextGradient;
            lambda = Math.max(lambda / 10, 1e-12);
            accepted = true;
            break;
          }
        }
      }
      lambda *= 10;
    }
    if (!accepted) {
      // No damped step lowers the objective: at a minimum up to rounding, or stuck.
      converged = decrement <= 1e-6 * (1 + Q);
      message = converged ? 'no further decrease at working precision' : `no step lowers the objective (Newton decrement ${decrement.toExponential(2)})`;
      break;
    }
  }
  if (iterations >= maxIterations) message = `stopped after ${maxIterations} iterations`;
  if (converged && exactlyIdentified && Q > 1e-6) {
    // A stationary point of g'Wg with g ≠ 0: the Jacobian is singular there and the moment
    // equations have no root nearby (weakly identified parameters); never report it as a solution.
    converged = false;
    message = `the moment equations have no root near the solution: the objective stops at ${Q.toExponential(3)} where the Jacobian is singular (weakly identified parameters)`;
  }
  let gradientNorm = 0;
  for (const x of gradient) gradientNorm = Math.max(gradientNorm, Math.abs(x));
  return { theta, point, objective: Q, gradientNorm, iterations, evaluations, converged, message };
}

/**
 * Dennis–Gay–Welsch update of the secant term S (sized as in NL2SOL): s the step, y the change in
 * the full gradient G'Wg, ySharp the part due to the change in G at the new residual.
 */
function secantUpdate(S: Matrix, s: Float64Array, y: Float64Array, ySharp: Float64Array): Matrix {
  const ys = dot(y, s);
  if (!(ys > 0)) return S;
  const Ss = S.map((row) => dot(row, s));
  const sSs = dot(s, Ss);
  const tau = sSs !== 0 ? Math.min(1, Math.abs(dot(s, ySharp) / sSs)) : 1;
  const v = Float64Array.from(ySharp, (x, i) => x - tau * Ss[i]);
  const vs = dot(v, s);
  return S.map((row, i) => Float64Array.from(row, (x, j) => tau * x + (v[i] * y[j] + y[i] * v[j]) / ys - (vs * y[i] * y[j]) / (ys * ys)));
}
