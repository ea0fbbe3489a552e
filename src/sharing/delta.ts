// Delta-method standard errors of counterfactual profits (slides "Procedure: Estimands").
//
// Envelope theorem: the average optimal profit is a maximum over a finite set of choices (grid
// prices, requirements), so away from ties its gradient in θ is the average of ∂Π_i/∂θ with the
// optimal choices held fixed. ∂Π_i/∂θ is analytic: Π_i depends on θ only through
// u_i = v_i − α_i p, SC_i, σ, log r_i and L, and each of those is linear in θ's pieces.
import { promises as fs } from 'node:fs';
import { badInput } from '../errors.js';
import { SCALAR_PARAMETERS, type SharingParameters } from './model.js';

/** A parameter covariance as the estimator writes it. */
export interface ParameterCovariance {
  names: string[];
  matrix: number[][];
}

/** θ's names in canonical order: the scalars, then beta_v.<cov>, beta_alpha.<cov>, beta_sc.<cov>, beta_r.<cov>. */
export function parameterNames(params: Pick<SharingParameters, 'covariates'>): string[] {
  const names: string[] = [...SCALAR_PARAMETERS];
  for (const block of ['beta_v', 'beta_alpha', 'beta_sc', 'beta_r']) for (const c of params.covariates) names.push(`${block}.${c}`);
  return names;
}

/** The value of a named parameter (for finite-difference checks and perturbations). */
export function withParameter(params: SharingParameters, name: string, value: number): SharingParameters {
  const copy: SharingParameters = {
    ...params,
    covariates: [...params.covariates],
    beta_v: [...params.beta_v], beta_alpha: [...params.beta_alpha], beta_sc: [...params.beta_sc], beta_r: [...params.beta_r],
  };
  const dot = name.indexOf('.');
  if (dot < 0) {
    if (!(SCALAR_PARAMETERS as readonly string[]).includes(name)) throw badInput(`unknown parameter "${name}"`);
    (copy as unknown as Record<string, number>)[name] = value;
    return copy;
  }
  const block = name.slice(0, dot), cov = name.slice(dot + 1);
  const k = params.covariates.indexOf(cov);
  if (k < 0 || !['beta_v', 'beta_alpha', 'beta_sc', 'beta_r'].includes(block)) throw badInput(`unknown parameter "${name}"`);
  (copy as unknown as Record<string, number[]>)[block][k] = value;
  return copy;
}

export function parameterValue(params: SharingParameters, name: string): number {
  const dot = name.indexOf('.');
  if (dot < 0) return (params as unknown as Record<string, number>)[name];
  return (params as unknown as Record<string, number[]>)[name.slice(0, dot)][params.covariates.indexOf(name.slice(dot + 1))];
}

/** Validates a covariance against the model's parameter names; errors name `source` and the field. */
export function validateCovariance(value: unknown, params: Pick<SharingParameters, 'covariates'>, source = 'covariance'): ParameterCovariance {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badInput(`${source}: expected a JSON object with "names" and "matrix"`);
  const obj = value as Record<string, unknown>;
  if (!Array.isArray(obj.names) || !obj.names.every((n) => typeof n === 'string')) throw badInput(`${source}: "names" must be an array of parameter names`);
  const names = obj.names as string[];
  const known = new Set(parameterNames(params));
  names.forEach((n, i) => {
    if (!known.has(n)) throw badInput(`${source}: names[${i}] = "${n}" is not a parameter of the model (expected e.g. "vbar", "L", "beta_sc.${params.covariates[0] ?? 'x'}")`);
    if (names.indexOf(n) !== i) throw badInput(`${source}: "${n}" is listed twice`);
  });
  if (!Array.isArray(obj.matrix) || obj.matrix.length !== names.length) throw badInput(`${source}: "matrix" must have ${names.length} rows (one per name)`);
  const matrix = (obj.matrix as unknown[]).map((row, i) => {
    if (!Array.isArray(row) || row.length !== names.length) throw badInput(`${source}: matrix row ${i} must have ${names.length} entries`);
    return row.map((x, j) => {
      if (typeof x !== 'number' || !Number.isFinite(x)) throw badInput(`${source}: matrix[${i}][${j}] must be a finite number`);
      return x;
    });
  });
  matrix.forEach((row, i) => {
    if (row[i] < 0) throw badInput(`${source}: matrix[${i}][${i}] (variance of ${names[i]}) is negative`);
    for (let j = 0; j < i; j++) {
      const a = row[j], b = matrix[j][i];
      if (Math.abs(a - b) > 1e-8 * Math.max(1, Math.abs(a), Math.abs(b))) throw badInput(`${source}: matrix is not symmetric at [${i}][${j}]`);
    }
  });
  return { names, matrix };
}

export async function readCovariance(path: string, params: Pick<SharingParameters, 'covariates'>): Promise<ParameterCovariance> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch {
    throw badInput(`${path}: cannot read the covariance file`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw badInput(`${path}: not valid JSON (${(error as Error).message})`);
  }
  return validateCovariance(parsed, params, path);
}

/**
 * Per-customer profit and its derivatives in the primitives at a fixed (p, s):
 * [Π, ∂Π/∂u, ∂Π/∂SC, ∂Π/∂σ, ∂Π/∂log r, ∂Π/∂L].
 */
export function profitDerivatives(
  v: number, alpha: number, shareCost: number, referrals: number, mc: number,
  price: number, broadcast: 0 | 1, sigma: number, leadValue: number, out: Float64Array,
): void {
  const u = v - alpha * price;
  const e = Math.exp(-Math.abs(u));
  const demand = u >= 0 ? 1 / (1 + e) : e / (1 + e);
  const margin = price - mc;
  const own = demand * margin;
  const dOwn = demand * (1 - demand) * margin;
  if (broadcast === 0) {
    out[0] = own; out[1] = dOwn; out[2] = 0; out[3] = 0; out[4] = 0; out[5] = 0;
    return;
  }
  const continuation = Math.max(u, 0) + Math.log1p(e);
  const z = sigma * (continuation - shareCost);
  const e2 = Math.exp(-Math.abs(z));
  const share = z >= 0 ? 1 / (1 + e2) : e2 / (1 + e2);
  const s1s = share * (1 - share);
  const lead = referrals * leadValue;
  const total = own + lead;
  out[0] = share * total;
  out[1] = s1s * sigma * demand * total + share * dOwn;
  out[2] = -sigma * s1s * total;
  out[3] = s1s * (continuation - shareCost) * total;
  out[4] = share * lead;
  out[5] = share * referrals;
}

/**
 * Σ_i ∂Π_i/∂θ over customers, in the canonical order of `parameterNames`. `leadScale` is
 * ∂L/∂L̂ (γ in the sensitivity analysis, where L = γ·L̂).
 */
export class GradientSum {
  readonly sum: Float64Array;
  constructor(private readonly k: number) {
    this.sum = new Float64Array(SCALAR_PARAMETERS.length + 4 * k);
  }

  /** d: output of `profitDerivatives`; x: the customer's covariates (null when primitives were given directly). */
  add(d: Float64Array, price: number, x: Float64Array | null, leadScale = 1): void {
    const g = this.sum, k = this.k;
    const gu = d[1], gsc = d[2], glr = d[4];
    g[0] += gu; // vbar
    g[1] -= price * gu; // abar
    g[2] += gsc; // scbar
    g[3] += d[3]; // sigma
    g[4] += glr; // r0
    g[5] += leadScale * d[5]; // L
    if (x === null || gu === 0 && gsc === 0 && glr === 0) return;
    const bv = 6, ba = 6 + k, bs = 6 + 2 * k, br = 6 + 3 * k;
    const pgu = price * gu;
    for (let j = 0; j < k; j++) {
      const xj = x[j];
      g[bv + j] += xj * gu;
      g[ba + j] -= xj * pgu;
      g[bs + j] += xj * gsc;
      g[br + j] += xj * glr;
    }
  }
}

/** √(g'Σg) over the parameters the covariance names (others are treated as known). */
export function deltaStandardError(gradient: ArrayLike<number>, names: readonly string[], covariance: ParameterCovariance): number {
  const index = covariance.names.map((n) => names.indexOf(n));
  let v = 0;
  for (let a = 0; a < index.length; a++) {
    const ga = gradient[index[a]];
    if (ga === 0) continue;
    for (let b = 0; b < index.length; b++) v += ga * covariance.matrix[a][b] * gradient[index[b]];
  }
  return Math.sqrt(Math.max(v, 0));
}
