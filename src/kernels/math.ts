// Plain-TypeScript numerics: the references the kernels are tested against, and the scalar
// helpers domain code uses outside hot loops. Stable for |z| up to 700 and beyond.

/** Λ(z) = 1 / (1 + e^-z), without overflow for any finite z. */
export function logistic(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** softplus(z) = log(1 + e^z) = max(z, 0) + log1p(e^-|z|). */
export function softplus(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

/** log Λ(z), stable: -softplus(-z). */
export function logLogistic(z: number): number {
  return -softplus(-z);
}

/** Relative difference with an absolute floor, for comparing kernels with references. */
export function relativeError(actual: number, expected: number, floor = 1e-300): number {
  if (actual === expected) return 0;
  return Math.abs(actual - expected) / Math.max(Math.abs(expected), floor);
}
