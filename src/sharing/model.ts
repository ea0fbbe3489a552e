// The share-then-purchase model (SPEC §1.1): parameters, their JSON form (SPEC §4), and the
// per-customer primitives v_i, α_i, SC_i, r_i that every other step uses.
import { promises as fs } from 'node:fs';
import { badInput } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';

/** Sharing-model parameters, exactly the JSON of SPEC §4. Betas follow `covariates`. */
export interface SharingParameters {
  /** v̄, average baseline utility */
  vbar: number;
  /** ᾱ, average price sensitivity */
  abar: number;
  /** S̄C, average sharing cost */
  scbar: number;
  /** σ, scale of the sharing error relative to the purchase error */
  sigma: number;
  /** r0, average log number of referrals */
  r0: number;
  /** L, the value of one referred lead */
  L: number;
  covariates: string[];
  beta_v: number[];
  beta_alpha: number[];
  beta_sc: number[];
  beta_r: number[];
  /** ξy_m, demand shock by market (missing markets: 0) */
  xi_y: Record<string, number>;
  /** ξw_m, sharing-cost shock by market (missing markets: 0) */
  xi_w: Record<string, number>;
}

export const SCALAR_PARAMETERS = ['vbar', 'abar', 'scbar', 'sigma', 'r0', 'L'] as const;
export const BETA_PARAMETERS = ['beta_v', 'beta_alpha', 'beta_sc', 'beta_r'] as const;

/** Checks a parsed JSON value against SPEC §4; errors name `source` and the field. */
export function validateParameters(value: unknown, source = 'parameters'): SharingParameters {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badInput(`${source}: expected a JSON object`);
  const obj = value as Record<string, unknown>;
  for (const key of SCALAR_PARAMETERS) {
    if (!(key in obj)) throw badInput(`${source}: missing key "${key}"`);
    if (typeof obj[key] !== 'number' || !Number.isFinite(obj[key])) throw badInput(`${source}: "${key}" must be a finite number`);
  }
  if (!((obj.sigma as number) > 0)) throw badInput(`${source}: "sigma" must be positive`);
  if (!Array.isArray(obj.covariates) || !obj.covariates.every((c) => typeof c === 'string')) {
    throw badInput(`${source}: "covariates" must be an array of names`);
  }
  const covariates = obj.covariates as string[];
  const duplicate = covariates.find((c, i) => covariates.indexOf(c) !== i);
  if (duplicate !== undefined) throw badInput(`${source}: covariate "${duplicate}" is listed twice`);
  for (const key of BETA_PARAMETERS) {
    const beta = obj[key];
    if (!Array.isArray(beta)) throw badInput(`${source}: missing array "${key}"`);
    if (beta.length !== covariates.length) throw badInput(`${source}: "${key}" has ${beta.length} entries but there are ${covariates.length} covariates`);
    beta.forEach((b, j) => {
      if (typeof b !== 'number' || !Number.isFinite(b)) throw badInput(`${source}: "${key}"[${j}] must be a finite number`);
    });
  }
  for (const key of ['xi_y', 'xi_w'] as const) {
    const shocks = obj[key] ?? {};
    if (typeof shocks !== 'object' || shocks === null || Array.isArray(shocks)) throw badInput(`${source}: "${key}" must be an object of market → number`);
    for (const [market, x] of Object.entries(shocks)) {
      if (typeof x !== 'number' || !Number.isFinite(x)) throw badInput(`${source}: "${key}"."${market}" must be a finite number`);
    }
  }
  return {
    vbar: obj.vbar as number, abar: obj.abar as number, scbar: obj.scbar as number, sigma: obj.sigma as number,
    r0: obj.r0 as number, L: obj.L as number, covariates: [...covariates],
    beta_v: [...(obj.beta_v as number[])], beta_alpha: [...(obj.beta_alpha as number[])],
    beta_sc: [...(obj.beta_sc as number[])], beta_r: [...(obj.beta_r as number[])],
    xi_y: { ...((obj.xi_y ?? {}) as Record<string, number>) }, xi_w: { ...((obj.xi_w ?? {}) as Record<string, number>) },
  };
}

export async function readParameters(path: string): Promise<SharingParameters> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch {
    throw badInput(`${path}: cannot read the parameter file`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw badInput(`${path}: not valid JSON (${(error as Error).message})`);
  }
  return validateParameters(parsed, path);
}

export async function writeParameters(path: string, params: SharingParameters): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(params, null, 2)}\n`);
}

/** Per-customer primitives (market shocks included), struct-of-arrays. */
export interface CustomerPrimitives {
  /** v_i = v̄ + x'β_v + ξy_m */
  baselineUtility: Float64Array;
  /** α_i = ᾱ + x'β_α */
  priceSensitivity: Float64Array;
  /** SC_i = S̄C + x'β_sc + ξw_m */
  shareCost: Float64Array;
  /** r_i = exp(r0 + x'β_r) */
  expectedReferrals: Float64Array;
}

/**
 * Customers' covariates as columns in the order of `params.covariates`, and each customer's
 * market name (for the shocks).
 */
export interface CustomerCovariates {
  columns: readonly ArrayLike<number>[];
  market: readonly string[];
}

export function customerPrimitives(params: SharingParameters, customers: CustomerCovariates): CustomerPrimitives {
  const k = params.covariates.length;
  if (customers.columns.length !== k) throw badInput(`expected ${k} covariate columns (${params.covariates.join(', ')}), got ${customers.columns.length}`);
  const n = customers.market.length;
  customers.columns.forEach((col, j) => {
    if (col.length !== n) throw badInput(`covariate ${params.covariates[j]} has ${col.length} values for ${n} customers`);
  });
  const out: CustomerPrimitives = {
    baselineUtility: new Float64Array(n),
    priceSensitivity: new Float64Array(n),
    shareCost: new Float64Array(n),
    expectedReferrals: new Float64Array(n),
  };
  for (let i = 0; i < n; i++) {
    let xv = 0, xa = 0, xs = 0, xr = 0;
    for (let j = 0; j < k; j++) {
      const x = customers.columns[j][i];
      xv += x * params.beta_v[j];
      xa += x * params.beta_alpha[j];
      xs += x * params.beta_sc[j];
      xr += x * params.beta_r[j];
    }
    const m = customers.market[i];
    out.baselineUtility[i] = params.vbar + xv + (params.xi_y[m] ?? 0);
    out.priceSensitivity[i] = params.abar + xa;
    out.shareCost[i] = params.scbar + xs + (params.xi_w[m] ?? 0);
    out.expectedReferrals[i] = Math.exp(params.r0 + xr);
  }
  return out;
}
