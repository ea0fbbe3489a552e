// Logistic regression with an offset and a per-row multiplier: the kernel-backed accumulation
// of log-likelihood, score and Hessian (assembly/glm.ts), its plain-TypeScript reference, and
// the solvers built on it: Newton with a small ridge (IRLS), and an L1-penalized proximal
// Newton with coordinate descent (glmnet's scheme) for sparse auxiliary fits.
import { getDefaultEngine, planShards, type Engine } from '../parallel/engine.js';
import { logistic, softplus } from './math.js';
import { PromoptError, badInput } from '../errors.js';

/** η_i = offset_i + multiplier_i Σ_j columns[j][i] β_j; y_i ~ Bernoulli(Λ(η_i)). */
export interface LogisticDesign {
  columns: readonly ArrayLike<number>[];
  /** Default 0. */
  offset?: ArrayLike<number>;
  /** Default 1. */
  multiplier?: ArrayLike<number>;
  /** 0/1 outcomes. */
  label: ArrayLike<number>;
}

export interface LogisticAccumulation {
  logLik: number;
  /** ∂ℓ/∂β */
  score: Float64Array;
  /** −∂²ℓ/∂β∂β', k × k row-major (symmetric). */
  hessian: Float64Array;
}

/** Evaluates the accumulation at β (the data stays in kernel memory between calls). */
export type LogisticEvaluator = (beta: ArrayLike<number>) => Promise<LogisticAccumulation>;

function validateDesign(design: LogisticDesign): { n: number; k: number } {
  const k = design.columns.length;
  if (k === 0) throw badInput('logistic regression: no columns');
  const n = design.label.length;
  const check = (name: string, values: ArrayLike<number>) => {
    if (values.length !== n) throw badInput(`logistic regression: ${name} has ${values.length} rows, the label has ${n}`);
    for (let i = 0; i < n; i++) if (!Number.isFinite(values[i])) throw badInput(`logistic regression: ${name}, row ${i} is ${values[i]}, not a finite number`);
  };
  design.columns.forEach((c, j) => check(`column ${j}`, c));
  if (design.offset) check('offset', design.offset);
  if (design.multiplier) check('multiplier', design.multiplier);
  for (let i = 0; i < n; i++) if (design.label[i] !== 0 && design.label[i] !== 1) throw badInput(`logistic regression: label row ${i} is ${design.label[i]}, not 0 or 1`);
  return { n, k };
}

interface GlmKernels {
  glmScratchBytes(k: number): number;
  glmLogisticAccumulate(xPtr: number, stride: number, n: number, k: number, offsetPtr: number, multiplierPtr: number, labelPtr: number, betaPtr: number, scratchPtr: number, outPtr: number): void;
}

/** Rows per shard of the accumulation (fixed: the reduction order does not depend on threads). */
const GLM_SHARD_ROWS = 16384;

/**
 * Copies the design into kernel memory once and runs `body` with an evaluator that accumulates
 * (ℓ, score, Hessian) at any β in the kernels, sharded, reduced in shard order.
 */
export async function withLogisticProblem<T>(design: LogisticDesign, body: (evaluate: LogisticEvaluator, k: number, n: number) => Promise<T>, engine: Engine = getDefaultEngine()): Promise<T> {
  const { n, k } = validateDesign(design);
  return engine.exclusive(async (arena) => {
    const kernels = engine.runtime.exports as unknown as GlmKernels;
    const x = arena.f64(k * n);
    const xView = arena.viewF64(x);
    design.columns.forEach((c, j) => xView.set(c, j * n));
    const offset = arena.f64(n);
    if (design.offset) arena.viewF64(offset).set(design.offset);
    const multiplier = arena.f64(n);
    if (design.multiplier) arena.viewF64(multiplier).set(design.multiplier);
    else arena.viewF64(multiplier).fill(1);
    const label = arena.copyF64(design.label);
    const beta = arena.f64(k);
    const shards = planShards(n, GLM_SHARD_ROWS);
    const width = 1 + k + k * k;
    const outs = arena.f64(width * shards.length);
    const scratchDoubles = Math.ceil(kernels.glmScratchBytes(k) / 8);
    const scratch = arena.f64(scratchDoubles * shards.length);
    const evaluate: LogisticEvaluator = async (b) => {
      if (b.length !== k) throw new PromoptError('INTERNAL', `β has ${b.length} entries, the design ${k} columns`);
      arena.viewF64(beta).set(b);
      arena.viewF64(outs).fill(0);
      await engine.forShards('glmLogisticAccumulate', shards, ({ start, end }, s) => [
        x.ptr + 8 * start, n, end - start, k, offset.ptr + 8 * start, multiplier.ptr + 8 * start, label.ptr + 8 * start, beta.ptr,
        scratch.ptr + 8 * scratchDoubles * s, outs.ptr + 8 * width * s,
      ], n * k * k);
      const view = arena.viewF64(outs);
      const acc = { logLik: 0, score: new Float64Array(k), hessian: new Float64Array(k * k) };
      for (let s = 0; s < shards.length; s++) {
        const o = s * width;
        acc.logLik += view[o];
        for (let j = 0; j < k; j++) acc.score[j] += view[o + 1 + j];
        for (let j = 0; j < k; j++) for (let l = j; l < k; l++) acc.hessian[j * k + l] += view[o + 1 + k + j * k + l];
      }
      for (let j = 0; j < k; j++) for (let l = 0; l < j; l++) acc.hessian[j * k + l] = acc.hessian[l * k + j];
      return acc;
    };
    return body(evaluate, k, n);
  });
}

/** One accumulation in the kernels. */
export function accumulateLogistic(design: LogisticDesign, beta: ArrayLike<number>, engine: Engine = getDefaultEngine()): Promise<LogisticAccumulation> {
  return withLogisticProblem(design, (evaluate) => evaluate(beta), engine);
}

/** The same accumulation in plain TypeScript. */
export function accumulateLogisticReference(design: LogisticDesign, beta: ArrayLike<number>): LogisticAccumulation {
  const { n, k } = validateDesign(design);
  const acc = { logLik: 0, score: new Float64Array(k), hessian: new Float64Array(k * k) };
  for (let i = 0; i < n; i++) {
    let index = 0;
    for (let j = 0; j < k; j++) index += design.columns[j][i] * beta[j];
    const m = design.multiplier ? design.multiplier[i] : 1;
    const eta = (design.offset ? design.offset[i] : 0) + m * index;
    const p = logistic(eta);
    const y = design.label[i];
    acc.logLik += y * eta - softplus(eta);
    const r = m * (y - p);
    const w = m * m * p * logistic(-eta);
    for (let j = 0; j < k; j++) {
      const xj = design.columns[j][i];
      acc.score[j] += xj * r;
      for (let l = 0; l < k; l++) acc.hessian[j * k + l] += w * xj * design.columns[l][i];
    }
  }
  return acc;
}

// ---------------------------------------------------------------------------------------------
// Dense linear algebra for k × k systems (k is the number of features, ~60).

/** Cholesky factor L (lower, row-major) of a symmetric positive definite matrix, or undefined. */
export function cholesky(a: Float64Array, k: number): Float64Array | undefined {
  const l = new Float64Array(k * k);
  for (let j = 0; j < k; j++) {
    let d = a[j * k + j];
    for (let m = 0; m < j; m++) d -= l[j * k + m] * l[j * k + m];
    if (!(d > 0)) return undefined;
    const ljj = Math.sqrt(d);
    l[j * k + j] = ljj;
    for (let i = j + 1; i < k; i++) {
      let s = a[i * k + j];
      for (let m = 0; m < j; m++) s -= l[i * k + m] * l[j * k + m];
      l[i * k + j] = s / ljj;
    }
  }
  return l;
}

/** Solves L L' x = b. */
export function choleskySolve(l: Float64Array, k: number, b: ArrayLike<number>): Float64Array {
  const y = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = b[i];
    for (let m = 0; m < i; m++) s -= l[i * k + m] * y[m];
    y[i] = s / l[i * k + i];
  }
  const x = new Float64Array(k);
  for (let i = k - 1; i >= 0; i--) {
    let s = y[i];
    for (let m = i + 1; m < k; m++) s -= l[m * k + i] * x[m];
    x[i] = s / l[i * k + i];
  }
  return x;
}

/** Inverse from a Cholesky factor (for standard errors). */
export function choleskyInverse(l: Float64Array, k: number): Float64Array {
  const inv = new Float64Array(k * k);
  const e = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    e.fill(0);
    e[j] = 1;
    const col = choleskySolve(l, k, e);
    for (let i = 0; i < k; i++) inv[i * k + j] = col[i];
  }
  return inv;
}

// ---------------------------------------------------------------------------------------------
// Newton (IRLS) with a small ridge.

export interface NewtonOptions {
  /** Ridge ρ: the fit maximizes ℓ(β) − ρ/2 Σ β_j² over penalized j. Default 1e-6. */
  ridge?: number;
  /** Columns left out of the ridge (e.g. the intercept). */
  unpenalized?: readonly number[];
  maxIterations?: number;
  /** Stop when max |Δβ_j| < tolerance. Default 1e-9. */
  tolerance?: number;
}

export interface LogisticFit {
  beta: Float64Array;
  /** Standard errors from the inverse (penalized) Hessian at the estimate. */
  standardErrors: Float64Array;
  logLik: number;
  iterations: number;
  /** Max |score_j − ρ β_j| at the estimate. */
  gradientNorm: number;
}

export async function newtonLogistic(evaluate: LogisticEvaluator, k: number, options: NewtonOptions = {}): Promise<LogisticFit> {
  const ridge = options.ridge ?? 1e-6;
  const penalized = Float64Array.from({ length: k }, (_, j) => (options.unpenalized?.includes(j) ? 0 : ridge));
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-9;
  let beta = new Float64Array(k);
  let acc = await evaluate(beta);
  const objective = (a: LogisticAccumulation, b: Float64Array) => a.logLik - 0.5 * b.reduce((s, v, j) => s + penalized[j] * v * v, 0);
  for (let iteration = 1; iteration <= maxIterations; iteration++) {
    const gradient = Float64Array.from(acc.score, (s, j) => s - penalized[j] * beta[j]);
    const h = acc.hessian.slice();
    for (let j = 0; j < k; j++) h[j * k + j] += penalized[j];
    const l = cholesky(h, k);
    if (!l) throw new PromoptError('NOT_CONVERGED', 'logistic regression: the Hessian is singular (a constant or duplicated column, or no rows with a nonzero multiplier)');
    const delta = choleskySolve(l, k, gradient);
    // Step halving keeps the penalized log-likelihood from decreasing (separation, far starts).
    let stepScale = 1;
    let next = beta.map((b, j) => b + delta[j]);
    let nextAcc = await evaluate(next);
    while (objective(nextAcc, next) < objective(acc, beta) - 1e-12 * Math.abs(objective(acc, beta)) && stepScale > 1e-6) {
      stepScale /= 2;
      next = beta.map((b, j) => b + stepScale * delta[j]);
      nextAcc = await evaluate(next);
    }
    const change = Math.max(...delta.map((d) => Math.abs(stepScale * d)));
    beta = next;
    acc = nextAcc;
    if (change < tolerance) {
      const hFinal = acc.hessian.slice();
      for (let j = 0; j < k; j++) hFinal[j * k + j] += penalized[j];
      const lFinal = cholesky(hFinal, k);
      const inv = lFinal ? choleskyInverse(lFinal, k) : new Float64Array(k * k).fill(NaN);
      return {
        beta,
        standardErrors: Float64Array.from({ length: k }, (_, j) => Math.sqrt(inv[j * k + j])),
        logLik: acc.logLik,
        iterations: iteration,
        gradientNorm: Math.max(...acc.score.map((s, j) => Math.abs(s - penalized[j] * beta[j]))),
      };
    }
  }
  throw new PromoptError('NOT_CONVERGED', `logistic regression: Newton did not converge in ${maxIterations} iterations (perfect separation or a huge ridge-free direction?)`);
}

/** Fits by Newton in the kernels. */
export function fitLogistic(design: LogisticDesign, options: NewtonOptions = {}, engine: Engine = getDefaultEngine()): Promise<LogisticFit> {
  return withLogisticProblem(design, (evaluate, k) => newtonLogistic(evaluate, k, options), engine);
}

// ---------------------------------------------------------------------------------------------
// L1-penalized logistic regression: maximize ℓ(β) − penalty Σ_{j penalized} |β_j|.

export interface LassoFit {
  beta: Float64Array;
  penalty: number;
  logLik: number;
  /** Penalized columns with a nonzero coefficient. */
  active: number;
}

function softThreshold(z: number, t: number): number {
  return z > t ? z - t : z < -t ? z + t : 0;
}

/** Proximal Newton: a coordinate-descent solve of the penalized quadratic model per outer step. */
export async function lassoLogistic(evaluate: LogisticEvaluator, k: number, penalty: number, unpenalized: readonly number[], start?: Float64Array): Promise<LassoFit> {
  const weight = Float64Array.from({ length: k }, (_, j) => (unpenalized.includes(j) ? 0 : penalty));
  let beta = start ? start.slice() : new Float64Array(k);
  let acc = await evaluate(beta);
  const objective = (a: LogisticAccumulation, b: Float64Array) => a.logLik - b.reduce((s, v, j) => s + weight[j] * Math.abs(v), 0);
  for (let outer = 0; outer < 100; outer++) {
    const h = acc.hessian;
    const z = beta.slice();
    for (let sweep = 0; sweep < 500; sweep++) {
      let maxChange = 0;
      for (let j = 0; j < k; j++) {
        const hjj = h[j * k + j];
        if (!(hjj > 0)) continue;
        let c = acc.score[j] + hjj * beta[j];
        for (let l = 0; l < k; l++) if (l !== j) c -= h[j * k + l] * (z[l] - beta[l]);
        const updated = softThreshold(c, weight[j]) / hjj;
        maxChange = Math.max(maxChange, Math.abs(updated - z[j]));
        z[j] = updated;
      }
      if (maxChange < 1e-12) break;
    }
    let stepScale = 1;
    let next = z;
    let nextAcc = await evaluate(next);
    const current = objective(acc, beta);
    while (objective(nextAcc, next) < current - 1e-12 * Math.abs(current) && stepScale > 1e-6) {
      stepScale /= 2;
      next = beta.map((b, j) => b + stepScale * (z[j] - b));
      nextAcc = await evaluate(next);
    }
    const change = Math.max(...next.map((v, j) => Math.abs(v - beta[j])));
    beta = next;
    acc = nextAcc;
    if (change < 1e-9) break;
  }
  let active = 0;
  for (let j = 0; j < k; j++) if (weight[j] > 0 && beta[j] !== 0) active++;
  return { beta, penalty, logLik: acc.logLik, active };
}

/**
 * Walks a geometric path of penalties down from the smallest one that zeroes every penalized
 * coefficient, warm-starting each fit, and returns the first fit with at least `target` active
 * predictors (or the last of the path).
 */
export async function lassoPath(evaluate: LogisticEvaluator, k: number, target: number, unpenalized: readonly number[], ratio = 0.8, maxSteps = 60): Promise<LassoFit> {
  // Unpenalized fit with every penalized coefficient at 0: its score gives the path's top.
  const huge = await lassoLogistic(evaluate, k, 1e300, unpenalized);
  const acc = await evaluate(huge.beta);
  let top = 0;
  for (let j = 0; j < k; j++) if (!unpenalized.includes(j)) top = Math.max(top, Math.abs(acc.score[j]));
  if (!(top > 0)) return { ...huge, penalty: 0 };
  let fit = huge;
  let penalty = top;
  for (let step = 0; step < maxSteps; step++) {
    penalty *= ratio;
    fit = await lassoLogistic(evaluate, k, penalty, unpenalized, fit.beta);
    if (fit.active >= target) break;
  }
  return fit;
}
