// Small dense linear algebra for the estimator (matrices of at most a few hundred rows):
// LU solves and inverses, a symmetric eigen-decomposition and a pseudo-inverse for weighting
// matrices whose moments are (nearly) collinear.
import { PromoptError } from '../errors.js';

export type Matrix = Float64Array[];

export function zeros(rows: number, cols: number): Matrix {
  return Array.from({ length: rows }, () => new Float64Array(cols));
}

export function identity(n: number): Matrix {
  const out = zeros(n, n);
  for (let i = 0; i < n; i++) out[i][i] = 1;
  return out;
}

export function transpose(a: Matrix): Matrix {
  const rows = a.length, cols = a[0]?.length ?? 0;
  const out = zeros(cols, rows);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j][i] = a[i][j];
  return out;
}

export function multiply(a: Matrix, b: Matrix): Matrix {
  const rows = a.length, inner = b.length, cols = b[0]?.length ?? 0;
  const out = zeros(rows, cols);
  for (let i = 0; i < rows; i++) {
    const ai = a[i], oi = out[i];
    for (let k = 0; k < inner; k++) {
      const aik = ai[k];
      if (aik === 0) continue;
      const bk = b[k];
      for (let j = 0; j < cols; j++) oi[j] += aik * bk[j];
    }
  }
  return out;
}

export function multiplyVector(a: Matrix, x: ArrayLike<number>): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    let s = 0;
    const ai = a[i];
    for (let j = 0; j < ai.length; j++) s += ai[j] * x[j];
    out[i] = s;
  }
  return out;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** a' W a for a symmetric W. */
export function quadraticForm(w: Matrix, a: ArrayLike<number>): number {
  return dot(a, multiplyVector(w, a));
}

/** LU factorization with partial pivoting; null when singular to working precision. */
function lu(a: Matrix): { lu: Matrix; pivot: Int32Array } | null {
  const n = a.length;
  const m = a.map((row) => Float64Array.from(row));
  const pivot = new Int32Array(n);
  let scale = 0;
  for (const row of m) for (const v of row) scale = Math.max(scale, Math.abs(v));
  if (!(scale > 0)) return null;
  for (let k = 0; k < n; k++) {
    let p = k, best = Math.abs(m[k][k]);
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i][k]) > best) { best = Math.abs(m[i][k]); p = i; }
    if (!(best > 1e-300) || !(best > scale * 1e-15)) return null;
    if (p !== k) [m[p], m[k]] = [m[k], m[p]];
    pivot[k] = p;
    const mk = m[k];
    for (let i = k + 1; i < n; i++) {
      const mi = m[i];
      const f = mi[k] / mk[k];
      if (f === 0) continue;
      mi[k] = f;
      for (let j = k + 1; j < n; j++) mi[j] -= f * mk[j];
    }
  }
  return { lu: m, pivot };
}

function luSolve(f: { lu: Matrix; pivot: Int32Array }, b: ArrayLike<number>): Float64Array {
  const n = f.lu.length;
  const x = Float64Array.from(b);
  for (let k = 0; k < n; k++) {
    const p = f.pivot[k];
    if (p !== k) [x[p], x[k]] = [x[k], x[p]];
  }
  for (let i = 0; i < n; i++) {
    let s = x[i];
    for (let j = 0; j < i; j++) s -= f.lu[i][j] * x[j];
    x[i] = s;
  }
  for (let i = n - 1; i >= 0; i--) {
    let s = x[i];
    for (let j = i + 1; j < n; j++) s -= f.lu[i][j] * x[j];
    x[i] = s / f.lu[i][i];
  }
  return x;
}

/** Solves A x = b; null if A is singular. */
export function solve(a: Matrix, b: ArrayLike<number>): Float64Array | null {
  const f = lu(a);
  return f ? luSolve(f, b) : null;
}

/**
 * A^{-1}, or null if A is singular. Rows and columns are equilibrated first (the stacked
 * Jacobian mixes entries from 1e-6 to 1e6), so the singularity test is scale-free.
 */
export function inverse(a: Matrix): Matrix | null {
  const n = a.length;
  const r = Float64Array.from(a, (row) => { let m = 0; for (const x of row) m = Math.max(m, Math.abs(x)); return m > 0 ? 1 / m : 1; });
  const c = new Float64Array(n);
  for (let j = 0; j < n; j++) { let m = 0; for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(a[i][j] * r[i])); c[j] = m > 0 ? 1 / m : 1; }
  const scaled = a.map((row, i) => Float64Array.from(row, (x, j) => x * r[i] * c[j]));
  const f = lu(scaled);
  if (!f) return null;
  const cols = Array.from({ length: n }, (_, j) => {
    const e = new Float64Array(n);
    e[j] = 1;
    return luSolve(f, e);
  });
  // (R A C)^{-1} = C^{-1} A^{-1} R^{-1}  ⇒  A^{-1} = C (R A C)^{-1} R
  return transpose(cols).map((row, i) => Float64Array.from(row, (x, j) => c[i] * x * r[j]));
}

/** Symmetric eigen-decomposition by cyclic Jacobi rotations: A = V diag(values) V'. */
export function symmetricEigen(a: Matrix): { values: Float64Array; vectors: Matrix } {
  const n = a.length;
  const m = a.map((row) => Float64Array.from(row));
  const v = identity(n);
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0, total = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) { const x = m[i][j] * m[i][j]; total += x; if (i !== j) off += x; }
    if (off <= 1e-30 * total || off === 0) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p][q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q][q] - m[p][p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1), s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k][p], mkq = m[k][q];
          m[k][p] = c * mkp - s * mkq;
          m[k][q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p][k], mqk = m[q][k];
          m[p][k] = c * mpk - s * mqk;
          m[q][k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p], vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  return { values: Float64Array.from(m, (row, i) => row[i]), vectors: v };
}

/**
 * Pseudo-inverse of a symmetric positive semi-definite matrix, computed on its correlation
 * scale; directions with eigenvalue below `relTol` × the largest are dropped. Returns the rank.
 */
export function pseudoInverseSym(a: Matrix, relTol = 1e-8): { inverse: Matrix; rank: number } {
  const n = a.length;
  const d = Float64Array.from(a, (row, i) => (row[i] > 0 ? 1 / Math.sqrt(row[i]) : 0));
  const scaled = a.map((row, i) => Float64Array.from(row, (x, j) => x * d[i] * d[j]));
  const { values, vectors } = symmetricEigen(scaled);
  const top = Math.max(0, ...values);
  const out = zeros(n, n);
  let rank = 0;
  for (let e = 0; e < n; e++) {
    if (!(values[e] > relTol * top)) continue;
    rank++;
    const inv = 1 / values[e];
    for (let i = 0; i < n; i++) {
      const vi = vectors[i][e] * inv;
      if (vi === 0) continue;
      for (let j = 0; j < n; j++) out[i][j] += vi * vectors[j][e];
    }
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[i][j] *= d[i] * d[j];
  return { inverse: out, rank };
}

export function requireInverse(a: Matrix, what: string): Matrix {
  const inv = inverse(a);
  if (!inv) throw new PromoptError('NOT_CONVERGED', `${what} is singular: the parameters are not identified by these data`);
  return inv;
}

/** Standard normal upper tail 1 − Φ(z), via erfc (W. J. Cody's rational approximations, |rel err| < 1e-7 suffices for stars). */
export function normalUpperTail(z: number): number {
  return 0.5 * erfc(z / Math.SQRT2);
}

function erfc(x: number): number {
  // Numerical Recipes' erfcc (Chebyshev fit), fractional error < 1.2e-7 everywhere.
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

/** Two-sided p-value of a z statistic. */
export function twoSidedP(estimate: number, se: number): number {
  if (!(se > 0)) return NaN;
  return 2 * normalUpperTail(Math.abs(estimate / se));
}
