// Sequential GMM estimation of the share-then-purchase model (SPEC §1.2, slides "Moment
// Equations"): purchase, then sharing given purchase, then referrals, then the lead value L from
// the firm's pricing first-order condition. Standard errors come from the stacked moment system
// of all four steps (market constants included as parameters), so they account for the
// sequential estimation.
//
// Covariates are standardized internally (slides: "we standardize the customer characteristics");
// `standardized` holds the estimates per standard deviation (the slides' tables), while `params`
// is the SPEC §4 parameter JSON in the units of the covariates in the data, which is what
// `promopt counterfactual` applies to the data as given. When the data's covariates are already
// standardized the two agree up to the sample mean and standard deviation.
//
// Standard errors: V = (AG)^{-1} A Ω A' (AG)^{-T} over the stacked moments of all four steps,
// with the market constants δy_m, δw_m as parameters (their market-share equations as moments),
// G the analytic Jacobian and A selecting the step-1 combination G1'W1. Ω has two blocks:
// customer-level moments, independent across customers given the market constants
// (heteroskedasticity-robust), and the market-level moments ξy(1, MC), ξw and the pricing FOC,
// independent across markets (one observation per market: "clustered by market"), with the
// small-sample factor M/(M − 4) for the four market-level parameters. Customer noise and market
// shocks are independent, so the cross block is zero.
import { PromoptError, badInput } from '../errors.js';
import { getDefaultEngine, type Engine } from '../parallel/engine.js';
import type { Arena, Block } from '../kernels/runtime.js';
import { MomentWorkspace, packedIndex, packedSize } from '../kernels/moments.js';
import { CounterRng, streamId } from '../random.js';
import { sortByMarket, type SharingData } from './data.js';
import type { SharingParameters } from './model.js';
import { parameterNames, type ParameterCovariance } from './delta.js';
import { identity, inverse, multiply, pseudoInverseSym, transpose, zeros, type Matrix } from './estimate-linalg.js';
import { invertMarketConstants, minimizeGmm, type GmmPoint } from './estimate-solve.js';

export interface EstimationOptions {
  /** Convergence tolerance on the Gauss–Newton decrement, relative to 1 + objective. Default 1e-12. */
  tolerance?: number;
  /** Iterations per GMM solve. Default 100. */
  maxIterations?: number;
  /** Compute the stacked-moment covariance. Default true. */
  standardErrors?: boolean;
  /** Market-level bootstrap replications (0: none). */
  bootstrap?: number;
  /** Seed of the bootstrap draws. Default 1. */
  seed?: number;
  /** Called after each bootstrap replication. */
  onBootstrapProgress?: (done: number, total: number) => void;
  /**
   * Customer-level bootstrap of the referral step alone (0: none): B resamples of the sharers, each
   * re-solved from the estimate, give SEs and basic 95% intervals of r0 and β_r — their sandwich
   * SEs under-cover when the moment's weights 1/r̂ are heavy-tailed (see diagnostics.referralWeights).
   */
  referralBootstrap?: number;
  /** Called after each referral-bootstrap replication. */
  onReferralBootstrapProgress?: (done: number, total: number) => void;
  /** Customers per kernel shard (tests use small shards to exercise the reduction). */
  shardSize?: number;
  /** Throw NOT_CONVERGED when a solve fails to converge (default); false: warn and continue. */
  strict?: boolean;
}

export interface StepDiagnostics {
  step: 'purchase (first step)' | 'purchase' | 'sharing' | 'referrals' | 'lead value';
  /** g'Wg at the solution (weights: the inverse moment covariance where over-identified). */
  objective: number;
  /** max |G'Wg| at the solution (half the objective's gradient). */
  gradientNorm: number;
  iterations: number;
  evaluations: number;
  converged: boolean;
  /** Market-constant inversions that failed during the solve (trial points included). */
  inversionFailures: number;
  moments: number;
  parameters: number;
  /** Rank of the moment covariance behind the weighting matrix. */
  weightRank?: number;
  message: string;
}

/** Standard errors in the shape of the parameter JSON. */
export interface ParameterErrors {
  vbar: number; abar: number; scbar: number; sigma: number; r0: number; L: number;
  covariates: string[];
  beta_v: number[]; beta_alpha: number[]; beta_sc: number[]; beta_r: number[];
  xi_y: Record<string, number>; xi_w: Record<string, number>;
}

export interface EstimationResults {
  /** SPEC §4 parameter JSON, covariates in the data's units. */
  params: SharingParameters;
  se: ParameterErrors;
  /** Covariance of the named parameters (data units), names as in `parameterNames`. */
  covariance: ParameterCovariance;
  /** The slides' units: per standard deviation of each covariate. */
  standardized: {
    mean: number[];
    scale: number[];
    params: SharingParameters;
    se: ParameterErrors;
  };
  diagnostics: {
    customers: number;
    markets: number;
    covariates: number;
    steps: StepDiagnostics[];
    /** Hansen's J statistic of the over-identified purchase block and its degrees of freedom. */
    overidentification: { J: number; df: number };
    /** How concentrated the referral moment's weights 1/r̂ are (a warning when the sandwich SEs of r0, beta_r are unreliable). */
    referralWeights: ReferralWeightDiagnostics;
    seconds: number;
    warnings: string[];
  };
  bootstrap?: { replications: number; failures: number; se: ParameterErrors };
  referralBootstrap?: ReferralBootstrap;
}

/** The referral step's bootstrap (EstimationOptions.referralBootstrap), in data and standardized units. */
export interface ReferralBootstrap {
  replications: number;
  /** Resamples whose step-3 solve did not converge (left out). */
  failures: number;
  se: { r0: number; beta_r: number[] };
  /** Basic (reverse-percentile) 95% intervals: [2θ̂ − q97.5, 2θ̂ − q2.5]. */
  interval95: { r0: [number, number]; beta_r: [number, number][] };
  standardized: { se: { r0: number; beta_r: number[] }; interval95: { r0: [number, number]; beta_r: [number, number][] } };
}

// ---------------------------------------------------------------------------------------------
// Data preparation and identification checks

interface Prepared {
  n: number;
  k: number;
  M: number;
  marketNames: string[];
  covariateNames: string[];
  starts: number[];
  counts: number[];
  price: Float64Array;
  cost: Float64Array;
  mean: number[];
  scale: number[];
  x: Float64Array[];
  e: Float64Array;
  y: Float64Array;
  s: Float64Array;
  w: Float64Array;
  R: Float64Array;
}

/** Market-level parameters: v̄, ᾱ, S̄C and L each rest on market-level moments. */
const MARKET_PARAMETERS = 4;

function prepare(input: SharingData): Prepared {
  const data = sortByMarket(input);
  const n = data.market.length;
  const k = data.covariateNames.length;
  const M = data.marketNames.length;
  if (n === 0) throw badInput('estimate: the data have no customers');
  if (M <= MARKET_PARAMETERS) {
    throw badInput(`estimate: ${M} market(s) but the market-level parameters (vbar, abar, scbar, L) need at least ${MARKET_PARAMETERS + 1} markets to be estimated with standard errors`);
  }
  const starts: number[] = [0];
  for (let i = 1; i < n; i++) if (data.market[i] !== data.market[i - 1]) starts.push(i);
  const counts = starts.map((s, m) => (m + 1 < starts.length ? starts[m + 1] : n) - s);
  const price = new Float64Array(M), cost = new Float64Array(M);
  for (let m = 0; m < M; m++) {
    const i0 = starts[m];
    price[m] = data.price[i0];
    cost[m] = data.marginalCost[i0];
    for (let i = i0; i < i0 + counts[m]; i++) {
      if (data.price[i] !== price[m]) throw badInput(`estimate: market "${data.marketNames[m]}" has more than one price (${price[m]} and ${data.price[i]}); the model has one price per market`);
      if (data.marginalCost[i] !== cost[m]) throw badInput(`estimate: market "${data.marketNames[m]}" has more than one marginal cost (${cost[m]} and ${data.marginalCost[i]})`);
    }
  }
  if (price.every((p) => p === price[0])) throw badInput(`estimate: every market has the same price ${price[0]}: the average price sensitivity abar is not identified without price variation across markets`);
  if (cost.every((c) => c === cost[0])) throw badInput(`estimate: every market has the same marginal cost ${cost[0]}: the instruments (1, MC) cannot separate vbar from abar`);
  const e = new Float64Array(n), y = new Float64Array(n), s = new Float64Array(n), w = new Float64Array(n), R = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s[i] = data.assignment[i]; w[i] = data.shared[i]; y[i] = data.purchased[i]; R[i] = data.referrals[i];
    e[i] = s[i] * w[i] + (1 - s[i]);
    if (y[i] === 1 && e[i] === 0) throw badInput(`estimate: customer ${i + 1} of market "${data.marketNames[data.market[i]]}" purchased (y = 1) without entering the purchase stage (s = 1, w = 0)`);
    if (R[i] > 0 && w[i] === 0) throw badInput(`estimate: customer ${i + 1} of market "${data.marketNames[data.market[i]]}" has referrals without sharing (w = 0)`);
  }
  let assigned = 0, referrals = 0;
  for (let i = 0; i < n; i++) { assigned += s[i]; referrals += R[i]; }
  if (assigned === 0 || assigned === n) throw badInput(`estimate: every customer has s = ${s[0]}: the sharing scale sigma needs both broadcasting (s = 1) and traditional (s = 0) customers`);
  if (referrals === 0) throw badInput('estimate: no customer has any referral: r0 and beta_r are not identified');
  for (let m = 0; m < M; m++) {
    let shared = 0, entered = 0, bought = 0;
    for (let i = starts[m]; i < starts[m] + counts[m]; i++) { shared += w[i]; entered += e[i]; bought += y[i]; }
    const name = data.marketNames[m];
    if (shared === 0) throw badInput(`estimate: market "${name}" has no sharers (w = 0 for all ${counts[m]} customers): its sharing constant is not identified`);
    if (shared === counts[m]) throw badInput(`estimate: market "${name}" has only sharers (w = 1 for all ${counts[m]} customers): its sharing constant is not identified`);
    if (bought === 0) throw badInput(`estimate: market "${name}" has no buyers among the ${entered} customers in the purchase stage: its demand constant is not identified`);
    if (bought === entered) throw badInput(`estimate: market "${name}" has only buyers among the ${entered} customers in the purchase stage: its demand constant is not identified`);
  }
  const mean: number[] = [], scale: number[] = [];
  const x = data.covariates.map((col, j) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += col[i];
    const mu = sum / n;
    let ss = 0;
    for (let i = 0; i < n; i++) ss += (col[i] - mu) ** 2;
    const sd = Math.sqrt(ss / n);
    if (!(sd > 1e-12 * Math.max(1, Math.abs(mu)))) throw badInput(`estimate: covariate "${data.covariateNames[j]}" is constant (${mu}) and cannot be told apart from the intercepts`);
    mean.push(mu); scale.push(sd);
    const standardized = new Float64Array(n);
    for (let i = 0; i < n; i++) standardized[i] = (col[i] - mu) / sd;
    return standardized;
  });
  return { n, k, M, marketNames: data.marketNames, covariateNames: data.covariateNames, starts, counts, price, cost, mean, scale, x, e, y, s, w, R };
}

// ---------------------------------------------------------------------------------------------
// Parameter layout of the stacked system (internal, standardized covariates)

interface Layout {
  M: number; K: number;
  dy: number; bv: number; ba: number; vbar: number; abar: number;
  dw: number; bsc: number; sigma: number; scbar: number; r0: number; br: number; L: number;
  P: number;
}

function layout(M: number, K: number): Layout {
  const dy = 0, bv = M, ba = M + K, vbar = M + 2 * K, abar = vbar + 1, dw = abar + 1, bsc = dw + M, sigma = bsc + K, scbar = sigma + 1;
  const r0 = scbar + 1, br = r0 + 1, L = br + K;
  return { M, K, dy, bv, ba, vbar, abar, dw, bsc, sigma, scbar, r0, br, L, P: L + 1 };
}

/** Moment rows of the stacked system. */
function momentLayout(M: number, K: number) {
  const dummyY = 0, g1 = M, h1 = g1 + 2 * K + 1, dummyW = h1 + 2, g2 = dummyW + M, h2 = g2 + K + 1, g3 = h2 + 1, h4 = g3 + K + 1;
  return { dummyY, g1, h1, dummyW, g2, h2, g3, h4, R: h4 + 1 };
}

// ---------------------------------------------------------------------------------------------
// Per-market pieces of each step, from the kernels' cross-product sums

/** Moments of one market, their partials in the market constant and in the step's slope parameters. */
interface MarketPartials {
  /** ∂(market-share equation)/∂δ_m */
  dummyDelta: number;
  /** ∂(market-share equation)/∂θ */
  dummyTheta: Float64Array;
  g: Float64Array;
  gDelta: Float64Array;
  gTheta: Matrix;
}

/** Sum over markets of the moments and their Jacobian with δ(θ) concentrated out. */
function concentrate(parts: readonly MarketPartials[], rows: number, cols: number): GmmPoint {
  const g = new Float64Array(rows);
  const G = zeros(rows, cols);
  for (const p of parts) {
    for (let r = 0; r < rows; r++) {
      g[r] += p.g[r];
      const f = p.gDelta[r] / p.dummyDelta;
      for (let c = 0; c < cols; c++) G[r][c] += p.gTheta[r][c] - f * p.dummyTheta[c];
    }
  }
  return { g, G };
}

/** Step 1 pieces for market m: sums = Σw x̄x̄' | Σwq x̄x̄' | Σrq x̄x̄' (packed) | Σ r x̄. */
function purchasePartials(sums: Float64Array, K: number, p: number, mc: number): MarketPartials {
  const P = packedSize(K);
  const Gw = (j: number, l: number) => sums[packedIndex(j, l, K)];
  const Gwq = (j: number, l: number) => sums[P + packedIndex(j, l, K)];
  const Grq = (j: number, l: number) => sums[2 * P + packedIndex(j, l, K)];
  const vr = (j: number) => sums[3 * P + j];
  const rows = 2 * K + 1, cols = 2 * K;
  const g = new Float64Array(rows), gDelta = new Float64Array(rows), gTheta = zeros(rows, cols), dummyTheta = new Float64Array(cols);
  for (let l = 1; l <= K; l++) { dummyTheta[l - 1] = Gw(0, l); dummyTheta[K + l - 1] = -p * Gw(0, l); }
  for (let j = 1; j <= K; j++) {
    const r = j - 1;
    g[r] = vr(j);
    gDelta[r] = Gw(0, j);
    for (let l = 1; l <= K; l++) { gTheta[r][l - 1] = Gw(j, l); gTheta[r][K + l - 1] = -p * Gw(j, l); }
  }
  for (let j = 0; j <= K; j++) {
    const r = K + j;
    g[r] = mc * Grq(0, j);
    gDelta[r] = mc * Gwq(0, j);
    for (let l = 1; l <= K; l++) {
      gTheta[r][l - 1] = mc * Gwq(j, l);
      gTheta[r][K + l - 1] = -p * mc * Gwq(j, l) + mc * Grq(j, l);
    }
  }
  return { dummyDelta: Gw(0, 0), dummyTheta, g, gDelta, gTheta };
}

/**
 * Step 2 pieces for market m in θ2 = (β_sc, log σ): sums = Σv x̄x̄' (packed) | Σ vs x̄ | Σ vt x̄ |
 * Σ vts x̄ | Σ (S−w) x̄ | Σ (S−w)s x̄; `offset` skips a leading Σ vsD x̄x̄' block.
 */
function sharingPartials(sums: Float64Array, K: number, sigma: number, offset = 0): MarketPartials {
  const P = packedSize(K), K1 = K + 1;
  const Gv = (j: number, l: number) => sums[offset + packedIndex(j, l, K)];
  const vec = (t: number, j: number) => sums[offset + P + t * K1 + j];
  const VS = 0, VT = 1, VTS = 2, RES = 3, RES_S = 4;
  const rows = K + 1, cols = K + 1;
  const g = new Float64Array(rows), gDelta = new Float64Array(rows), gTheta = zeros(rows, cols), dummyTheta = new Float64Array(cols);
  for (let l = 1; l <= K; l++) dummyTheta[l - 1] = -sigma * Gv(0, l);
  dummyTheta[K] = sigma * vec(VT, 0);
  g[0] = vec(RES_S, 0);
  gDelta[0] = sigma * vec(VS, 0);
  for (let l = 1; l <= K; l++) gTheta[0][l - 1] = -sigma * vec(VS, l);
  gTheta[0][K] = sigma * vec(VTS, 0);
  for (let j = 1; j <= K; j++) {
    g[j] = vec(RES, j);
    gDelta[j] = sigma * Gv(0, j);
    for (let l = 1; l <= K; l++) gTheta[j][l - 1] = -sigma * Gv(j, l);
    gTheta[j][K] = sigma * vec(VT, j);
  }
  return { dummyDelta: sigma * Gv(0, 0), dummyTheta, g, gDelta, gTheta };
}

// ---------------------------------------------------------------------------------------------
// The estimator

interface CoreResult {
  thetaStd: Float64Array; // internal parameter vector (layout), standardized covariates
  covariance: Matrix | null;
  steps: StepDiagnostics[];
  J: number;
  Jdf: number;
  warnings: string[];
  referralWeights: ReferralWeightDiagnostics;
  /** Step-3 bootstrap draws of (r0, β_r) in standardized units, and failed resamples. */
  referralDraws?: { draws: Float64Array[]; failures: number };
}

/**
 * Estimates the model by the sequential GMM of SPEC §1.2 and returns the parameters, their
 * stacked-moment standard errors and covariance, and diagnostics.
 */
export async function estimate(data: SharingData, options: EstimationOptions = {}, engine: Engine = getDefaultEngine()): Promise<EstimationResults> {
  const started = performance.now();
  const prep = prepare(data);
  const core = await engine.exclusive((arena) => estimateCore(prep, options, engine, arena));
  const results = finish(prep, core, (performance.now() - started) / 1000);
  const B = options.bootstrap ?? 0;
  if (B > 0) results.bootstrap = await bootstrap(data, prep, results, options, engine);
  return results;
}

async function estimateCore(prep: Prepared, options: EstimationOptions, engine: Engine, arena: Arena): Promise<CoreResult> {
  const { n, k: K, M, price, cost } = prep;
  const tolerance = options.tolerance ?? 1e-12;
  const maxIterations = options.maxIterations ?? 100;
  const strict = options.strict ?? true;
  const P = packedSize(K), K1 = K + 1;
  const ws = new MomentWorkspace(engine, arena, n, K, prep.starts, prep.x, 15 * P + 16 * K1, options.shardSize);
  const lay = layout(M, K);
  const theta = new Float64Array(lay.P);
  const steps: StepDiagnostics[] = [];
  const warnings: string[] = [];
  const copy = (values: ArrayLike<number>) => { const b = ws.columns(1); ws.view(b).set(values); return b; };
  const eB = copy(prep.e), yB = copy(prep.y), sB = copy(prep.s), wB = copy(prep.w);
  const a = ws.columns(1), xa = ws.columns(1), o = ws.columns(1), eta = ws.columns(1), demandB = ws.columns(1), sEU = ws.columns(1);
  const pw = ws.columns(6), sw = ws.columns(7), scratch = ws.columns(15);
  const col = (block: Block, c: number) => ws.column(block, c);

  const check = (ok: boolean, what: string, detail: string) => {
    if (ok) return;
    const message = `${what} did not converge: ${detail}`;
    if (strict) throw new PromoptError('NOT_CONVERGED', message);
    warnings.push(message);
  };

  // ---- Step 1: purchase -------------------------------------------------------------------
  let deltaY: Float64Array = new Float64Array(M);
  for (let m = 0; m < M; m++) {
    let entered = 0, bought = 0;
    for (let i = prep.starts[m]; i < prep.starts[m] + prep.counts[m]; i++) { entered += prep.e[i]; bought += prep.y[i]; }
    deltaY[m] = Math.log(bought / (entered - bought));
  }
  let purchaseFailures = 0;
  type PurchasePoint = GmmPoint & { parts: MarketPartials[]; sums: Float64Array[]; delta: Float64Array };
  const evalPurchase = async (beta: Float64Array): Promise<PurchasePoint | null> => {
    const bv = beta.subarray(0, K), ba = beta.subarray(K, 2 * K);
    await ws.linearIndex(Array.from(price, (p) => Float64Array.from(bv, (b, j) => b - p * ba[j])), a);
    await ws.linearIndex(ba, xa);
    const inv = await invertMarketConstants(ws, a, eB, yB, deltaY);
    if (inv.failures > 0) { purchaseFailures += inv.failures; return null; }
    deltaY = inv.delta;
    await ws.purchaseWeights(a, xa, eB, yB, inv.delta, pw);
    const sums = await ws.gram({ block: pw, first: 0, count: 3 }, { block: pw, first: 3, count: 1 });
    const parts = sums.map((s, m) => purchasePartials(s, K, price[m], cost[m]));
    return { ...concentrate(parts, 2 * K + 1, 2 * K), parts, sums, delta: inv.delta };
  };

  /** Moment covariance of the step-1 moments with δy projected out (efficient weighting). */
  const purchaseOmega = async (point: PurchasePoint): Promise<Matrix> => {
    const r = col(pw, 3), rq = col(pw, 2);
    const c0 = col(scratch, 0), c1 = col(scratch, 1), c2 = col(scratch, 2);
    for (let i = 0; i < n; i++) { c0[i] = r[i] * r[i]; c1[i] = r[i] * rq[i]; c2[i] = rq[i] * rq[i]; }
    const grams = await ws.gram({ block: scratch, first: 0, count: 3 }, null);
    const rows = 2 * K + 1;
    const omega = zeros(rows, rows);
    const rawDiagonal = new Float64Array(rows);
    const redundant = new Uint8Array(rows);
    grams.forEach((gm, m) => {
      const mc = cost[m];
      // u = (dummy r, r x_1..K, MC rq x̄_0..K); spec = [piece (0: r, 1: rq), component, scale]
      const spec: Array<[number, number, number]> = [[0, 0, 1]];
      for (let j = 1; j <= K; j++) spec.push([0, j, 1]);
      for (let j = 0; j <= K; j++) spec.push([1, j, mc]);
      const gramOf = (pa: number, pb: number) => (pa === 0 && pb === 0 ? 0 : pa + pb === 1 ? 1 : 2);
      const C = spec.map(([pa, ja, sa]) => spec.map(([pb, jb, sb]) => sa * sb * gm[gramOf(pa, pb) * P + packedIndex(ja, jb, K)]));
      const part = point.parts[m];
      const b = Float64Array.from(part.gDelta, (x) => x / part.dummyDelta);
      for (let u = 0; u < rows; u++) {
        for (let v = 0; v < rows; v++) {
          omega[u][v] += C[u + 1][v + 1] - b[u] * C[0][v + 1] - C[u + 1][0] * b[v] + b[u] * b[v] * C[0][0];
        }
      }
      for (let u = 0; u < rows; u++) rawDiagonal[u] += C[u + 1][u + 1];
    });
    // A moment that the market constants absorb exactly (at ᾱ-interactions 0, MC·q is constant within
    // a market) has projected variance 0 up to rounding: zero it so the pseudo-inverse ignores it.
    // The constant component of E[(D−y) e e^{x'β_α} MC (1, x)] is redundant: with δy inverted per
    // market, Σ_{i∈m} e(D − y) = 0, so it equals β_α' × (the x components) up to O(β_α²) and is
    // identically zero at β_α = 0 whatever the other parameters. An "efficient" weight ∝ 1/β_α² on
    // it would pull the estimate toward β_α = 0 along a flat valley, so it gets weight 0.
    redundant[K] = 1;
    for (let u = 0; u < rows; u++) {
      if (redundant[u] || !(omega[u][u] > 1e-9 * rawDiagonal[u])) for (let v = 0; v < rows; v++) { omega[u][v] = 0; omega[v][u] = 0; }
    }
    return omega;
  };

  let beta1: Float64Array = new Float64Array(2 * K);
  const start1 = await evalPurchase(beta1);
  if (!start1) throw new PromoptError('NOT_CONVERGED', 'purchase step: the demand-constant inversion failed at the starting values');
  let weight = pseudoInverseSym(await purchaseOmega(start1));
  let first = await minimizeGmm(evalPurchase, beta1, weight.inverse, 'purchase step (first GMM step)', tolerance, maxIterations, weight.rank <= 2 * K);
  if (!first.converged && K > 0) {
    // Second start: the baseline-utility interactions alone (β_α = 0, moments E[(D−y)e x] = 0, a
    // well-behaved logit-type system), then all of θy from there. The price-sensitivity
    // interactions rest on between-market price variation only and can stall the first path.
    const vOnly = async (bv: Float64Array) => {
      const pt = await evalPurchase(Float64Array.from({ length: 2 * K }, (_, j) => (j < K ? bv[j] : 0)));
      return pt && { g: pt.g.slice(0, K), G: pt.G.slice(0, K).map((row) => row.slice(0, K)) };
    };
    const Wv = identity(K).map((row) => row.map((x) => x / n));
    const baseline = await minimizeGmm(vOnly, new Float64Array(K), Wv, 'purchase step (baseline-utility start)', tolerance, maxIterations, true);
    const restart = await minimizeGmm(evalPurchase, Float64Array.from({ length: 2 * K }, (_, j) => (j < K ? baseline.theta[j] : 0)), weight.inverse,
      'purchase step (first GMM step)', tolerance, maxIterations, weight.rank <= 2 * K);
    if (restart.converged || restart.objective < first.objective) first = { ...restart, iterations: first.iterations + baseline.iterations + restart.iterations, evaluations: first.evaluations + baseline.evaluations + restart.evaluations };
  }
  steps.push(stepReport(weight.rank > 2 * K ? 'purchase (first step)' : 'purchase', first, purchaseFailures, 2 * K + 1, 2 * K, weight.rank));
  check(first.converged, weight.rank > 2 * K ? 'purchase step (first GMM step)' : 'purchase step', first.message);
  purchaseFailures = 0;
  let second = first;
  if (weight.rank > 2 * K) {
    // Over-identified: second step with the moment covariance at the first-step estimate.
    // (Re-evaluate there first: the weight columns hold the last trial point.)
    const atFirst = await evalPurchase(first.theta);
    if (!atFirst) throw new PromoptError('NOT_CONVERGED', 'purchase step: the demand-constant inversion failed at the first-step estimate');
    weight = pseudoInverseSym(await purchaseOmega(atFirst));
    second = await minimizeGmm(evalPurchase, first.theta, weight.inverse, 'purchase step (efficient GMM step)', tolerance, maxIterations);
    steps.push(stepReport('purchase', second, purchaseFailures, 2 * K + 1, 2 * K, weight.rank));
    check(second.converged, 'purchase step (efficient GMM step)', second.message);
  }
  beta1 = second.theta;
  const purchase = await evalPurchase(beta1);
  if (!purchase) throw new PromoptError('NOT_CONVERGED', 'purchase step: the demand-constant inversion failed at the estimate');
  const W1 = weight.inverse;
  const J = second.objective, Jdf = Math.max(0, weight.rank - 2 * K);
  theta.set(purchase.delta, lay.dy);
  theta.set(beta1.subarray(0, K), lay.bv);
  theta.set(beta1.subarray(K), lay.ba);
  // v̄, ᾱ from E_m[ξy_m (1, MC_m)] = 0 with δy_m = v̄ − ᾱ p_m + ξy_m: IV with instruments (1, MC).
  {
    let sp = 0, smc = 0, spmc = 0, sd = 0, smcd = 0;
    for (let m = 0; m < M; m++) { sp += price[m]; smc += cost[m]; spmc += price[m] * cost[m]; sd += purchase.delta[m]; smcd += cost[m] * purchase.delta[m]; }
    // [M, −Σp; ΣMC, −Σ p MC] (v̄, ᾱ)' = (Σδ, Σ MC δ)'
    const det = M * -spmc - -sp * smc;
    if (!(Math.abs(det) > 1e-12 * (M * spmc + Math.abs(sp * smc)))) {
      throw badInput('estimate: prices and marginal costs do not co-vary across markets: the instrument MC cannot identify abar');
    }
    theta[lay.vbar] = (sd * -spmc - -sp * smcd) / det;
    theta[lay.abar] = (M * smcd - smc * sd) / det;
  }
  // Step-1 outputs step 2 needs: D_i and s_i EU_i at the estimate.
  {
    const dv = ws.view(demandB), seu = ws.view(sEU), D = col(pw, 4), EU = col(pw, 5);
    for (let i = 0; i < n; i++) { dv[i] = D[i]; seu[i] = prep.s[i] * EU[i]; }
  }

  // ---- Step 2: sharing given purchase -----------------------------------------------------
  let kappa: Float64Array = new Float64Array(M);
  for (let m = 0; m < M; m++) {
    let shared = 0;
    for (let i = prep.starts[m]; i < prep.starts[m] + prep.counts[m]; i++) shared += prep.w[i];
    kappa[m] = Math.log(shared / (prep.counts[m] - shared));
  }
  let sharingFailures = 0;
  type SharingPoint = GmmPoint & { parts: MarketPartials[]; sums: Float64Array[]; kappa: Float64Array; sigma: number };
  const evalSharing = async (t2: Float64Array, withDemand = false, momentsOnly = false): Promise<SharingPoint | null> => {
    const sigma = Math.exp(t2[K]);
    if (!Number.isFinite(sigma) || sigma <= 0) return null;
    await ws.linearIndex(Float64Array.from(t2.subarray(0, K), (b) => -sigma * b), o);
    const ov = ws.view(o), seu = ws.view(sEU);
    for (let i = 0; i < n; i++) ov[i] += sigma * seu[i];
    const inv = await invertMarketConstants(ws, o, null, wB, kappa);
    if (inv.failures > 0) { sharingFailures += inv.failures; return null; }
    kappa = inv.delta;
    await ws.sharingWeights(o, sB, wB, demandB, inv.delta, sigma, sw);
    if (momentsOnly) {
      // Σ(S−w)x̄ and Σ(S−w)s x̄ only (the σ start grid needs the moments, not their Jacobian).
      const sums = await ws.gram(null, { block: sw, first: 5, count: 2 });
      const g = new Float64Array(K + 1);
      for (const sm of sums) { g[0] += sm[K1]; for (let j = 1; j <= K; j++) g[j] += sm[j]; }
      return { g, G: [], parts: [], sums, kappa: inv.delta, sigma };
    }
    const sums = await ws.gram({ block: sw, first: withDemand ? 0 : 1, count: withDemand ? 2 : 1 }, { block: sw, first: 2, count: 5 });
    const parts = sums.map((s) => sharingPartials(s, K, sigma, withDemand ? P : 0));
    return { ...concentrate(parts, K + 1, K + 1), parts, sums, kappa: inv.delta, sigma };
  };
  // Scale of the exactly identified sharing moments: residual variance ≈ 1/4 times Σ z².
  let assigned = 0;
  for (let i = 0; i < n; i++) assigned += prep.s[i];
  const W2 = identity(K + 1).map((row, j) => row.map((x) => x / (0.25 * (j === 0 ? assigned : n))));
  // Start σ on a coarse grid (β_sc = 0): the sharing step is very nonlinear in σ.
  let start2 = new Float64Array(K + 1);
  {
    let bestQ = Infinity;
    for (const sigma of [0.5, 1.5, 4.5, 13.5, 40.5, 121.5]) {
      const t2 = new Float64Array(K + 1);
      t2[K] = Math.log(sigma);
      const pt = await evalSharing(t2, false, true);
      if (!pt) continue;
      const Q = pt.g.reduce((acc, g, j) => acc + g * g * W2[j][j], 0);
      if (Q < bestQ) { bestQ = Q; start2 = t2; }
    }
  }
  sharingFailures = 0;
  const sharingSolve = await minimizeGmm((t) => evalSharing(t), start2, W2, 'sharing step', tolerance, maxIterations, true);
  steps.push(stepReport('sharing', sharingSolve, sharingFailures, K + 1, K + 1));
  check(sharingSolve.converged, 'sharing step', sharingSolve.message);
  const sharing = await evalSharing(sharingSolve.theta, true);
  if (!sharing) throw new PromoptError('NOT_CONVERGED', 'sharing step: the sharing-constant inversion failed at the estimate');
  const sigma = sharing.sigma;
  theta.set(Float64Array.from(sharing.kappa, (kk) => kk / sigma), lay.dw);
  theta.set(sharingSolve.theta.subarray(0, K), lay.bsc);
  theta[lay.sigma] = sigma;
  // E_m[ξw_m] = 0 with δw_m = −S̄C − ξw_m.
  theta[lay.scbar] = -theta.subarray(lay.dw, lay.dw + M).reduce((acc, d) => acc + d, 0) / M;

  // ---- Step 3: referrals --------------------------------------------------------------------
  // Only sharers carry referral moments: the solve runs on a workspace of sharers alone.
  const sharerIndex: number[] = [];
  const sharerStarts: number[] = [];
  for (let m = 0; m < M; m++) {
    sharerStarts.push(sharerIndex.length);
    for (let i = prep.starts[m]; i < prep.starts[m] + prep.counts[m]; i++) if (prep.w[i] === 1) sharerIndex.push(i);
  }
  const nS = sharerIndex.length;
  const sharerR = new Float64Array(nS);
  for (let t = 0; t < nS; t++) sharerR[t] = prep.R[sharerIndex[t]];
  const sharerX = prep.x.map((c) => { const out = new Float64Array(nS); for (let t = 0; t < nS; t++) out[t] = c[sharerIndex[t]]; return out; });
  type ReferralPoint = GmmPoint & { curvature: Float64Array };
  /** The referral moments Σ w (R/r − 1)(1, x̃) and their Jacobian over a workspace of sharers. */
  const referralMoments = (space: MomentWorkspace, R: Float64Array) => {
    const eta3 = space.columns(1), scratch3 = space.columns(2);
    const evaluate = async (t3: Float64Array): Promise<ReferralPoint | null> => {
      await space.linearIndex(t3.subarray(1), eta3, t3[0]);
      const ev = space.view(eta3), c0 = space.column(scratch3, 0), c1 = space.column(scratch3, 1);
      for (let i = 0; i < R.length; i++) {
        const ratio = R[i] * Math.exp(-ev[i]);
        c0[i] = ratio;
        c1[i] = ratio - 1;
      }
      const sums = await space.gram({ block: scratch3, first: 0, count: 1 }, { block: scratch3, first: 1, count: 1 });
      const total = new Float64Array(P + K1);
      for (const sm of sums) for (let t = 0; t < P + K1; t++) total[t] += sm[t];
      if (!total.every(Number.isFinite)) return null;
      const g = total.slice(P, P + K1);
      const G = zeros(K1, K1);
      for (let j = 0; j <= K; j++) for (let l = 0; l <= K; l++) G[j][l] = -total[packedIndex(j, l, K)];
      return { g, G, curvature: total.slice(0, P) };
    };
    return { evaluate, eta: eta3 };
  };
  const rws = new MomentWorkspace(engine, arena, nS, K, sharerStarts, sharerX, P + K1, options.shardSize);
  const { evaluate: evalReferrals, eta: rEta } = referralMoments(rws, sharerR);
  let referred = 0;
  for (let i = 0; i < nS; i++) referred += sharerR[i];
  const W3 = identity(K1).map((row) => row.map((x) => x / nS));
  const start3 = new Float64Array(K1);
  start3[0] = Math.log(referred / nS);
  const referralSolve = await minimizeGmm(evalReferrals, start3, W3, 'referral step', tolerance, maxIterations, true);
  steps.push(stepReport('referrals', referralSolve, 0, K1, K1));
  check(referralSolve.converged, 'referral step', referralSolve.message);
  theta[lay.r0] = referralSolve.theta[0];
  theta.set(referralSolve.theta.subarray(1), lay.br);
  const referrals = await evalReferrals(referralSolve.theta);
  if (!referrals) throw new PromoptError('NOT_CONVERGED', 'referral step: moments not finite at the estimate');
  const referralWeights = referralWeightDiagnostics(rws.view(rEta), sharerR);
  if (referralWeights.effectiveSharers < REFERRAL_EFFECTIVE_SHARE * nS) {
    warnings.push(
      `referral step: the moment weights 1/r̂ of the ${nS} sharers are heavy-tailed (effective number ${referralWeights.effectiveSharers.toPrecision(3)}, ` +
      `smallest r̂ ${referralWeights.smallestRate.toPrecision(3)}): the sandwich SEs of r0 and beta_r understate their sampling spread and r0 is biased downward ` +
      '(Monte Carlo at the paper design: 66–90% coverage); read them as lower bounds or use the referral bootstrap',
    );
  }
  let referralDraws: CoreResult['referralDraws'];
  const B3 = options.referralBootstrap ?? 0;
  if (B3 > 0) {
    // Resample the sharers (pairs: R with x), re-solve step 3 from the estimate; deterministic per seed and replication.
    const draws: Float64Array[] = [];
    let failures = 0;
    const stream = streamId('estimate.referralBootstrap');
    for (let b = 0; b < B3; b++) {
      const rng = new CounterRng(options.seed ?? 1, stream, b);
      const picks = Int32Array.from({ length: nS }, () => rng.integer(nS));
      const R = Float64Array.from(picks, (t) => sharerR[t]);
      const X = sharerX.map((c) => Float64Array.from(picks, (t) => c[t]));
      const mark = arena.mark();
      try {
        const space = new MomentWorkspace(engine, arena, nS, K, [0], X, P + K1, options.shardSize);
        const solve = await minimizeGmm(referralMoments(space, R).evaluate, referralSolve.theta, W3, 'referral bootstrap', tolerance, maxIterations, true);
        if (solve.converged) draws.push(Float64Array.from(solve.theta));
        else failures++;
      } catch (error) {
        if (!(error instanceof PromoptError)) throw error;
        failures++;
      } finally {
        arena.release(mark);
      }
      options.onReferralBootstrapProgress?.(b + 1, B3);
    }
    referralDraws = { draws, failures };
  }
  await ws.linearIndex(referralSolve.theta.subarray(1), eta, referralSolve.theta[0]); // log r_i of every customer (steps 4 and SEs)

  // ---- Step 4: lead value from the pricing first-order condition -------------------------
  await ws.linearIndex(theta.subarray(lay.bsc, lay.bsc + K), o); // x'β_sc
  const focSums = await leadValueSums(ws, prep, theta, lay, a, xa, o, eta, scratch);
  const fo = focTerms(focSums, K);
  let num = 0, den = 0;
  for (let m = 0; m < M; m++) {
    num += cost[m] - price[m] - fo[m].A / fo[m].Den;
    den += fo[m].B / fo[m].Den;
  }
  if (!(Math.abs(den) > 0) || !Number.isFinite(num / den)) {
    throw badInput('estimate: the pricing first-order condition does not depend on L (no market has sharing-driven referrals at the margin): L is not identified');
  }
  theta[lay.L] = num / den;
  steps.push({ step: 'lead value', objective: 0, gradientNorm: 0, iterations: 1, evaluations: 1, converged: true, inversionFailures: 0, moments: 1, parameters: 1, message: 'closed form (the FOC moment is linear in L)' });

  // ---- Standard errors: stacked-moment sandwich ---------------------------------------------
  let covariance: Matrix | null = null;
  if (options.standardErrors ?? true) {
    covariance = await stackedCovariance({ ws, prep, theta, lay, purchase, sharing, referrals, W1, fo, pw, sw, o, eta, scratch });
  }
  return { thetaStd: theta, covariance, steps, J, Jdf, warnings, referralWeights, referralDraws };
}

/**
 * Below this share of the sharers, the referral moment's weights 1/r̂ are too concentrated for
 * the sandwich: its variance is carried by a few customers with tiny predicted rates (with
 * Poisson–lognormal count covariates and negative coefficients E[1/r] is infinite). The paper
 * design's simulated data give one effective sharer of 6,148; the same design with every β_r = 0.05
 * gives 0.92 of them.
 */
const REFERRAL_EFFECTIVE_SHARE = 0.01;

/**
 * How concentrated the referral step's moment weights are at the estimate: with a_i = 1/r̂_i over
 * the sharers, the effective number (Σ a)² / Σ a² (Kish), the smallest r̂ and the referral events.
 */
export function referralWeightDiagnostics(logRates: ArrayLike<number>, referrals: ArrayLike<number>): ReferralWeightDiagnostics {
  let sum = 0, sumSquares = 0, smallestLog = Infinity, events = 0;
  // scaled by the smallest rate so that 1/r̂ of 1e-300 does not overflow the squares
  for (let i = 0; i < logRates.length; i++) if (logRates[i] < smallestLog) smallestLog = logRates[i];
  for (let i = 0; i < logRates.length; i++) {
    const a = Math.exp(smallestLog - logRates[i]);
    sum += a;
    sumSquares += a * a;
    events += referrals[i];
  }
  return { sharers: logRates.length, events, effectiveSharers: logRates.length > 0 ? (sum * sum) / sumSquares : 0, smallestRate: Math.exp(smallestLog) };
}

export interface ReferralWeightDiagnostics {
  sharers: number;
  /** Referrals observed (Σ R over the sharers). */
  events: number;
  /** Kish's effective number of the weights 1/r̂_i: the sharers the moment effectively averages over. */
  effectiveSharers: number;
  /** The smallest predicted referral rate r̂ among the sharers. */
  smallestRate: number;
}

function stepReport(step: StepDiagnostics['step'], sol: { objective: number; gradientNorm: number; iterations: number; evaluations: number; converged: boolean; message: string }, failures: number, moments: number, parameters: number, weightRank?: number): StepDiagnostics {
  return {
    step, objective: sol.objective, gradientNorm: sol.gradientNorm, iterations: sol.iterations, evaluations: sol.evaluations,
    converged: sol.converged, inversionFailures: failures, moments, parameters, ...(weightRank !== undefined ? { weightRank } : {}), message: sol.message,
  };
}

// ---------------------------------------------------------------------------------------------
// Step 4: the first-order condition MĈ_m = p_m + Σ[(1+S)D + rL ∂pS] / Σ[(1+S)∂pD + D ∂pS]

/** Weight columns of the FOC pass, as vector weights (each gives Σ w x̄ per market). */
const FOC = { Au: 0, Bu: 1, Du: 2, Ba: 3, Da: 4, Az: 5, Bz: 6, Dz: 7, B: 8, A: 9, Den: 10, As: 11, Bs: 12, Ds: 13 } as const;
const FOC_COUNT = 14;

async function leadValueSums(ws: MomentWorkspace, prep: Prepared, theta: Float64Array, lay: Layout, a: Block, xa: Block, xsc: Block, eta: Block, scratch: Block): Promise<Float64Array[]> {
  const { n, M } = prep;
  const sigma = theta[lay.sigma], abar = theta[lay.abar];
  const av = ws.view(a), xav = ws.view(xa), scv = ws.view(xsc), ev = ws.view(eta);
  const cols = Array.from({ length: FOC_COUNT }, (_, c) => ws.column(scratch, c));
  for (let m = 0; m < M; m++) {
    const dy = theta[lay.dy + m], dw = theta[lay.dw + m];
    for (let i = prep.starts[m]; i < prep.starts[m] + prep.counts[m]; i++) {
      const u = dy + av[i];
      const D = logistic(u), D1 = D * logistic(-u), D2 = D1 * (1 - 2 * D);
      const EU = softplus(u);
      const zeta = dw - scv[i];
      const z = sigma * (zeta + EU);
      const S = logistic(z), S1 = S * logistic(-z), S2 = S1 * (1 - 2 * S);
      const alpha = abar + xav[i];
      const r = Math.exp(ev[i]);
      const t = zeta + EU;
      const B = -sigma * alpha * r * S1 * D;
      cols[FOC.A][i] = (1 + S) * D;
      cols[FOC.B][i] = B;
      cols[FOC.Den][i] = -alpha * ((1 + S) * D1 + sigma * S1 * D * D);
      cols[FOC.Au][i] = (1 + S) * D1 + sigma * S1 * D * D;
      cols[FOC.Bu][i] = -sigma * alpha * r * (sigma * S2 * D * D + S1 * D1);
      cols[FOC.Du][i] = -alpha * ((1 + S) * D2 + 3 * sigma * S1 * D * D1 + sigma * sigma * S2 * D * D * D);
      cols[FOC.Ba][i] = -sigma * r * S1 * D;
      cols[FOC.Da][i] = -((1 + S) * D1 + sigma * S1 * D * D);
      cols[FOC.Az][i] = sigma * S1 * D;
      cols[FOC.Bz][i] = -sigma * sigma * alpha * r * S2 * D;
      cols[FOC.Dz][i] = -alpha * (sigma * S1 * D1 + sigma * sigma * S2 * D * D);
      cols[FOC.As][i] = S1 * t * D;
      cols[FOC.Bs][i] = -alpha * r * D * (S1 + sigma * S2 * t);
      cols[FOC.Ds][i] = -alpha * (S1 * t * D1 + S1 * D * D + sigma * S2 * t * D * D);
    }
  }
  return ws.gram(null, { block: scratch, first: 0, count: FOC_COUNT });
}

interface FocMarket { A: number; B: number; Den: number; sums: Float64Array }

function focTerms(sums: Float64Array[], K: number): FocMarket[] {
  const K1 = K + 1;
  return sums.map((s) => ({ A: s[FOC.A * K1], B: s[FOC.B * K1], Den: s[FOC.Den * K1], sums: s }));
}

function logistic(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

function softplus(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

// ---------------------------------------------------------------------------------------------
// Stacked covariance: V = (AG)^{-1} A Ω A' (AG)^{-T}

interface StackedInput {
  ws: MomentWorkspace;
  prep: Prepared;
  theta: Float64Array;
  lay: Layout;
  purchase: { parts: MarketPartials[]; sums: Float64Array[] };
  sharing: { sums: Float64Array[]; sigma: number };
  referrals: { curvature: Float64Array };
  W1: Matrix;
  fo: FocMarket[];
  pw: Block; sw: Block; o: Block; eta: Block; scratch: Block;
}

async function stackedCovariance(inp: StackedInput): Promise<Matrix> {
  const { ws, prep, theta, lay, fo } = inp;
  const { n, M, k: K, price, cost } = prep;
  const P = packedSize(K), K1 = K + 1;
  const rowsL = momentLayout(M, K);
  const R = rowsL.R;
  const G = zeros(R, lay.P);
  const sigma = theta[lay.sigma], L = theta[lay.L];

  // Step 1 rows.
  inp.purchase.parts.forEach((part, m) => {
    const dummy = rowsL.dummyY + m;
    G[dummy][lay.dy + m] = part.dummyDelta;
    for (let c = 0; c < 2 * K; c++) G[dummy][lay.bv + c] = part.dummyTheta[c]; // bv and ba are adjacent
    for (let r = 0; r < 2 * K + 1; r++) {
      G[rowsL.g1 + r][lay.dy + m] += part.gDelta[r];
      for (let c = 0; c < 2 * K; c++) G[rowsL.g1 + r][lay.bv + c] += part.gTheta[r][c];
    }
    // h1 = Σ_m (δy_m − v̄ + ᾱ p_m)(1, MC_m)
    G[rowsL.h1][lay.dy + m] = 1;
    G[rowsL.h1 + 1][lay.dy + m] = cost[m];
    G[rowsL.h1][lay.vbar] -= 1;
    G[rowsL.h1 + 1][lay.vbar] -= cost[m];
    G[rowsL.h1][lay.abar] += price[m];
    G[rowsL.h1 + 1][lay.abar] += price[m] * cost[m];
  });

  // Step 2 rows (partials in δw, β_sc, σ and, through EU, in δy, β_v, β_α).
  inp.sharing.sums.forEach((s, m) => {
    const Gvsd = (j: number, l: number) => s[packedIndex(j, l, K)];
    const Gv = (j: number, l: number) => s[P + packedIndex(j, l, K)];
    const vec = (t: number, j: number) => s[2 * P + t * K1 + j];
    const VS = 0, VT = 1, VTS = 2;
    const p = price[m];
    // Each row: its sums of v z, v z x', v t z, v sD z, v sD z x' for z = 1 (dummy), s, x_j.
    const rowsOf: Array<{ row: number; vz: number; vzx: (l: number) => number; vtz: number; vsdz: number; vsdzx: (l: number) => number }> = [
      { row: rowsL.dummyW + m, vz: Gv(0, 0), vzx: (l) => Gv(0, l), vtz: vec(VT, 0), vsdz: Gvsd(0, 0), vsdzx: (l) => Gvsd(0, l) },
      { row: rowsL.g2, vz: vec(VS, 0), vzx: (l) => vec(VS, l), vtz: vec(VTS, 0), vsdz: Gvsd(0, 0), vsdzx: (l) => Gvsd(0, l) },
    ];
    for (let j = 1; j <= K; j++) rowsOf.push({ row: rowsL.g2 + j, vz: Gv(0, j), vzx: (l) => Gv(j, l), vtz: vec(VT, j), vsdz: Gvsd(0, j), vsdzx: (l) => Gvsd(j, l) });
    for (const r of rowsOf) {
      G[r.row][lay.dw + m] += sigma * r.vz;
      for (let l = 1; l <= K; l++) G[r.row][lay.bsc + l - 1] += -sigma * r.vzx(l);
      G[r.row][lay.sigma] += r.vtz;
      G[r.row][lay.dy + m] += sigma * r.vsdz;
      for (let l = 1; l <= K; l++) {
        G[r.row][lay.bv + l - 1] += sigma * r.vsdzx(l);
        G[r.row][lay.ba + l - 1] += -p * sigma * r.vsdzx(l);
      }
    }
    // h2 = Σ_m (−S̄C − δw_m)
    G[rowsL.h2][lay.dw + m] = -1;
    G[rowsL.h2][lay.scbar] -= 1;
  });

  // Step 3 rows.
  for (let j = 0; j <= K; j++) for (let l = 0; l <= K; l++) G[rowsL.g3 + j][lay.r0 + l] = -inp.referrals.curvature[packedIndex(j, l, K)];

  // Step 4 row: h4 = Σ_m (MĈ_m − MC_m).
  const h4 = rowsL.h4;
  fo.forEach((f, m) => {
    const v = (t: number, j: number) => f.sums[t * K1 + j];
    const N = f.A + L * f.B;
    const comb = (a: number, b: number, d: number) => (a + L * b) / f.Den - (N * d) / (f.Den * f.Den);
    const p = price[m];
    G[h4][lay.dy + m] += comb(v(FOC.Au, 0), v(FOC.Bu, 0), v(FOC.Du, 0));
    G[h4][lay.abar] += comb(0, v(FOC.Ba, 0), v(FOC.Da, 0));
    G[h4][lay.dw + m] += comb(v(FOC.Az, 0), v(FOC.Bz, 0), v(FOC.Dz, 0));
    G[h4][lay.sigma] += comb(v(FOC.As, 0), v(FOC.Bs, 0), v(FOC.Ds, 0));
    G[h4][lay.r0] += comb(0, v(FOC.B, 0), 0);
    for (let l = 1; l <= K; l++) {
      const cu = comb(v(FOC.Au, l), v(FOC.Bu, l), v(FOC.Du, l));
      G[h4][lay.bv + l - 1] += cu;
      G[h4][lay.ba + l - 1] += -p * cu + comb(0, v(FOC.Ba, l), v(FOC.Da, l));
      G[h4][lay.bsc + l - 1] += -comb(v(FOC.Az, l), v(FOC.Bz, l), v(FOC.Dz, l));
      G[h4][lay.br + l - 1] += comb(0, v(FOC.B, l), 0);
    }
    G[h4][lay.L] += f.B / f.Den;
  });

  // Ω, customer part: pieces r1 = e(D−y), r1 q, r2 = S − w, r2 s, r3 = w(R/r − 1); per market Σ c_a c_b x̄x̄'.
  {
    const ev = ws.view(inp.eta), r3 = ws.view(inp.o);
    for (let i = 0; i < n; i++) r3[i] = prep.w[i] * (prep.R[i] * Math.exp(-ev[i]) - 1);
  }
  const pieces = [ws.column(inp.pw, 3), ws.column(inp.pw, 2), ws.column(inp.sw, 5), ws.column(inp.sw, 6), ws.view(inp.o)];
  // Piece 3 (r2 s) only enters through its component 0 (the s moment): its pairs need Σ c_a c_3 x̄
  // (vector weights), the others the full Σ c_a c_b x̄x̄'.
  const ONLY_FIRST = 3;
  const np = pieces.length;
  const fullPairs: Array<[number, number]> = [], vecPairs: Array<[number, number]> = [];
  for (let a = 0; a < np; a++) for (let b = a; b < np; b++) (a === ONLY_FIRST || b === ONLY_FIRST ? vecPairs : fullPairs).push([a, b]);
  const slot: number[][] = zeros(np, np).map((r) => Array.from(r, () => 0));
  [...fullPairs, ...vecPairs].forEach(([a, b], c) => {
    slot[a][b] = slot[b][a] = c;
    const out = ws.column(inp.scratch, c);
    const pa = pieces[a], pb = pieces[b];
    for (let i = 0; i < n; i++) out[i] = pa[i] * pb[i];
  });
  const nFull = fullPairs.length;
  const grams = await ws.gram({ block: inp.scratch, first: 0, count: nFull }, { block: inp.scratch, first: nFull, count: vecPairs.length });
  const cross = (gm: Float64Array, pa: number, ja: number, pb: number, jb: number): number => {
    const c = slot[pa][pb];
    if (c < nFull) return gm[c * P + packedIndex(ja, jb, K)];
    return gm[nFull * P + (c - nFull) * K1 + (pa === ONLY_FIRST ? jb : ja)];
  };
  const omega = zeros(R, R);
  grams.forEach((gm, m) => {
    const mc = cost[m];
    // [global row, piece, component, scale]
    const spec: Array<[number, number, number, number]> = [[rowsL.dummyY + m, 0, 0, 1]];
    for (let j = 1; j <= K; j++) spec.push([rowsL.g1 + j - 1, 0, j, 1]);
    for (let j = 0; j <= K; j++) spec.push([rowsL.g1 + K + j, 1, j, mc]);
    spec.push([rowsL.dummyW + m, 2, 0, 1]);
    spec.push([rowsL.g2, ONLY_FIRST, 0, 1]);
    for (let j = 1; j <= K; j++) spec.push([rowsL.g2 + j, 2, j, 1]);
    for (let j = 0; j <= K; j++) spec.push([rowsL.g3 + j, 4, j, 1]);
    for (let a = 0; a < spec.length; a++) {
      const [ra, pa, ja, sa] = spec[a];
      const row = omega[ra];
      for (let b = 0; b < spec.length; b++) {
        const [rb, pb, jb, sb] = spec[b];
        row[rb] += sa * sb * cross(gm, pa, ja, pb, jb);
      }
    }
  });
  // Ω, market part: h_m = (ξy, ξy MC, ξw, MĈ − MC), independent across markets; small-sample factor M/(M − 4).
  {
    const rows = [rowsL.h1, rowsL.h1 + 1, rowsL.h2, rowsL.h4];
    const factor = M / (M - MARKET_PARAMETERS);
    for (let m = 0; m < M; m++) {
      const xiY = theta[lay.dy + m] - theta[lay.vbar] + theta[lay.abar] * price[m];
      const xiW = -theta[lay.scbar] - theta[lay.dw + m];
      const mcHat = price[m] + (fo[m].A + L * fo[m].B) / fo[m].Den;
      const h = [xiY, xiY * cost[m], xiW, mcHat - cost[m]];
      for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) omega[rows[a]][rows[b]] += factor * h[a] * h[b];
    }
  }

  // Selection A: identity except the over-identified purchase moments, combined as G1'W1.
  const A = zeros(lay.P, R);
  const g1Rows = 2 * K + 1;
  {
    // Concentrated step-1 Jacobian (what the step-1 first-order condition G1c'W1 g1 = 0 uses).
    const G1c = concentrate(inp.purchase.parts, g1Rows, 2 * K).G;
    const AW = multiply(transpose(G1c), inp.W1);
    const map: Array<[number, number]> = [];
    for (let m = 0; m < M; m++) map.push([lay.dy + m, rowsL.dummyY + m]);
    map.push([lay.vbar, rowsL.h1], [lay.abar, rowsL.h1 + 1]);
    for (let m = 0; m < M; m++) map.push([lay.dw + m, rowsL.dummyW + m]);
    for (let j = 0; j < K; j++) map.push([lay.bsc + j, rowsL.g2 + 1 + j]);
    map.push([lay.sigma, rowsL.g2]);
    map.push([lay.scbar, rowsL.h2]);
    for (let j = 0; j <= K; j++) map.push([lay.r0 + j, rowsL.g3 + j]);
    map.push([lay.L, rowsL.h4]);
    for (const [p, r] of map) A[p][r] = 1;
    for (let c = 0; c < 2 * K; c++) for (let r = 0; r < g1Rows; r++) A[lay.bv + c][rowsL.g1 + r] = AW[c][r];
  }
  const AG = multiply(A, G);
  const AGinv = inverse(AG);
  if (!AGinv) throw new PromoptError('NOT_CONVERGED', 'standard errors: the Jacobian of the stacked moments is singular (a parameter is not identified by these data)');
  const middle = multiply(multiply(A, omega), transpose(A));
  return multiply(multiply(AGinv, middle), transpose(AGinv));
}

// ---------------------------------------------------------------------------------------------
// Results: data units, standardized units, tables

/** Linear map from the internal vector to the reported one (names order) plus ξ's. */
/** SEs and basic 95% intervals of r0 and β_r from the step-3 draws (standardized units), in both units. */
function referralBootstrapSummary(prep: Prepared, lay: Layout, thetaStd: Float64Array, { draws, failures }: { draws: Float64Array[]; failures: number }): ReferralBootstrap {
  const summarize = (standardized: boolean) => {
    const { names, T } = reportMap(prep, lay, standardized);
    const rows = ['r0', ...prep.covariateNames.map((c) => `beta_r.${c}`)].map((nm) => T[names.indexOf(nm)]);
    // r0 and β_r in these units for a (r0, β̃_r) vector: the rows of T restricted to those entries
    const value = (t3: ArrayLike<number>) => rows.map((row) => row[lay.r0] * t3[0] + prep.covariateNames.reduce((acc, _, j) => acc + row[lay.br + j] * t3[1 + j], 0));
    const estimate = value([thetaStd[lay.r0], ...thetaStd.subarray(lay.br, lay.br + prep.k)]);
    const values = draws.map(value);
    const se: number[] = [], interval: [number, number][] = [];
    estimate.forEach((est, j) => {
      const xs = values.map((v) => v[j]).sort((a, b) => a - b);
      se.push(sampleStandardDeviation(xs));
      interval.push(xs.length > 1 ? [2 * est - quantileSorted(xs, 0.975), 2 * est - quantileSorted(xs, 0.025)] : [NaN, NaN]);
    });
    return { se: { r0: se[0], beta_r: se.slice(1) }, interval95: { r0: interval[0], beta_r: interval.slice(1) } };
  };
  const raw = summarize(false), std = summarize(true);
  return { replications: draws.length, failures, se: raw.se, interval95: raw.interval95, standardized: std };
}

/** The sample standard deviation of bootstrap draws (n − 1 in the denominator); NaN below two draws. */
function sampleStandardDeviation(xs: readonly number[]): number {
  if (xs.length < 2) return NaN;
  const mu = xs.reduce((acc, x) => acc + x, 0) / xs.length;
  return Math.sqrt(xs.reduce((acc, x) => acc + (x - mu) ** 2, 0) / (xs.length - 1));
}

/** The q-quantile of ascending values (linear interpolation between order statistics). */
function quantileSorted(xs: readonly number[], q: number): number {
  const h = (xs.length - 1) * q, lo = Math.floor(h);
  return lo + 1 < xs.length ? xs[lo] + (h - lo) * (xs[lo + 1] - xs[lo]) : xs[lo];
}

function reportMap(prep: Prepared, lay: Layout, standardized: boolean): { names: string[]; T: Matrix; xiY: Matrix; xiW: Matrix } {
  const { k: K, M } = prep;
  const names = parameterNames({ covariates: prep.covariateNames });
  const T = zeros(names.length, lay.P);
  const scale = standardized ? prep.scale.map(() => 1) : prep.scale;
  const mean = standardized ? prep.mean.map(() => 0) : prep.mean;
  const blocks: Array<[number, number]> = [[lay.bv, lay.vbar], [lay.ba, lay.abar], [lay.bsc, lay.scbar], [lay.br, lay.r0]];
  const row = (name: string) => names.indexOf(name);
  T[row('vbar')][lay.vbar] = 1;
  T[row('abar')][lay.abar] = 1;
  T[row('scbar')][lay.scbar] = 1;
  T[row('sigma')][lay.sigma] = 1;
  T[row('r0')][lay.r0] = 1;
  T[row('L')][lay.L] = 1;
  // x̃ = (x − μ)/sd: β = β̃/sd and the intercept absorbs −Σ μ β̃/sd.
  ['beta_v', 'beta_alpha', 'beta_sc', 'beta_r'].forEach((block, b) => {
    const [first, intercept] = blocks[b];
    const interceptRow = row(['vbar', 'abar', 'scbar', 'r0'][b]);
    for (let j = 0; j < K; j++) {
      T[row(`${block}.${prep.covariateNames[j]}`)][first + j] = 1 / scale[j];
      T[interceptRow][first + j] -= mean[j] / scale[j];
    }
    void intercept;
  });
  const xiY = zeros(M, lay.P), xiW = zeros(M, lay.P);
  for (let m = 0; m < M; m++) {
    xiY[m][lay.dy + m] = 1; xiY[m][lay.vbar] = -1; xiY[m][lay.abar] = prep.price[m];
    xiW[m][lay.dw + m] = -1; xiW[m][lay.scbar] = -1;
  }
  return { names, T, xiY, xiW };
}

function apply(T: Matrix, x: ArrayLike<number>): number[] {
  return T.map((row) => row.reduce((acc, t, j) => acc + t * x[j], 0));
}

function quadDiag(T: Matrix, V: Matrix | null): number[] {
  if (!V) return T.map(() => NaN);
  return T.map((row) => {
    let s = 0;
    for (let i = 0; i < row.length; i++) {
      if (row[i] === 0) continue;
      for (let j = 0; j < row.length; j++) if (row[j] !== 0) s += row[i] * V[i][j] * row[j];
    }
    return Math.sqrt(Math.max(0, s));
  });
}

function toParameters(names: string[], values: number[], prep: Prepared, xiY: number[], xiW: number[]): SharingParameters {
  const get = (name: string) => values[names.indexOf(name)];
  const betas = (block: string) => prep.covariateNames.map((c) => get(`${block}.${c}`));
  return {
    vbar: get('vbar'), abar: get('abar'), scbar: get('scbar'), sigma: get('sigma'), r0: get('r0'), L: get('L'),
    covariates: [...prep.covariateNames],
    beta_v: betas('beta_v'), beta_alpha: betas('beta_alpha'), beta_sc: betas('beta_sc'), beta_r: betas('beta_r'),
    xi_y: Object.fromEntries(prep.marketNames.map((m, i) => [m, xiY[i]])),
    xi_w: Object.fromEntries(prep.marketNames.map((m, i) => [m, xiW[i]])),
  };
}

function finish(prep: Prepared, core: CoreResult, seconds: number): EstimationResults {
  const lay = layout(prep.M, prep.k);
  const make = (standardized: boolean) => {
    const { names, T, xiY, xiW } = reportMap(prep, lay, standardized);
    const values = apply(T, core.thetaStd);
    const ses = quadDiag(T, core.covariance);
    const params = toParameters(names, values, prep, apply(xiY, core.thetaStd), apply(xiW, core.thetaStd));
    const se = toParameters(names, ses, prep, quadDiag(xiY, core.covariance), quadDiag(xiW, core.covariance)) as ParameterErrors;
    let covariance: ParameterCovariance = { names, matrix: names.map(() => names.map(() => NaN)) };
    if (core.covariance) covariance = { names, matrix: multiply(multiply(T, core.covariance), transpose(T)).map((r) => Array.from(r)) };
    return { params, se, covariance };
  };
  const raw = make(false), std = make(true);
  const referralBootstrap = core.referralDraws ? referralBootstrapSummary(prep, lay, core.thetaStd, core.referralDraws) : undefined;
  return {
    ...(referralBootstrap ? { referralBootstrap } : {}),
    params: raw.params,
    se: raw.se,
    covariance: raw.covariance,
    standardized: { mean: prep.mean, scale: prep.scale, params: std.params, se: std.se },
    diagnostics: {
      customers: prep.n, markets: prep.M, covariates: prep.k, steps: core.steps,
      overidentification: { J: core.J, df: core.Jdf }, referralWeights: core.referralWeights, seconds, warnings: core.warnings,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Market-level bootstrap

async function bootstrap(data: SharingData, prep: Prepared, results: EstimationResults, options: EstimationOptions, engine: Engine): Promise<EstimationResults['bootstrap']> {
  const B = options.bootstrap ?? 0;
  const sorted = sortByMarket(data);
  const names = results.covariance.names;
  const draws: number[][] = [];
  let failures = 0;
  const stream = streamId('estimate.bootstrap');
  for (let b = 0; b < B; b++) {
    const rng = new CounterRng(options.seed ?? 1, stream, b);
    const picks = Array.from({ length: prep.M }, () => rng.integer(prep.M));
    const sample = resampleMarkets(sorted, prep, picks);
    try {
      const rep = await estimate(sample, { ...options, bootstrap: 0, referralBootstrap: 0, standardErrors: false, strict: true }, engine);
      const flat = flatten(rep.params);
      draws.push(names.map((nm) => flat[nm]));
    } catch (error) {
      if (!(error instanceof PromoptError)) throw error;
      failures++;
    }
    options.onBootstrapProgress?.(b + 1, B);
  }
  // fewer than two successful replications: no SE (NaN), not 0
  const sd = names.map((_, j) => sampleStandardDeviation(draws.map((d) => d[j])));
  const get = (nm: string) => sd[names.indexOf(nm)];
  const betas = (block: string) => prep.covariateNames.map((c) => get(`${block}.${c}`));
  const se: ParameterErrors = {
    vbar: get('vbar'), abar: get('abar'), scbar: get('scbar'), sigma: get('sigma'), r0: get('r0'), L: get('L'),
    covariates: [...prep.covariateNames], beta_v: betas('beta_v'), beta_alpha: betas('beta_alpha'), beta_sc: betas('beta_sc'), beta_r: betas('beta_r'),
    xi_y: {}, xi_w: {},
  };
  return { replications: draws.length, failures, se };
}

/** The named parameter values of a parameter set (names as in `parameterNames`). */
export function flatten(params: SharingParameters): Record<string, number> {
  const out: Record<string, number> = { vbar: params.vbar, abar: params.abar, scbar: params.scbar, sigma: params.sigma, r0: params.r0, L: params.L };
  for (const block of ['beta_v', 'beta_alpha', 'beta_sc', 'beta_r'] as const) params.covariates.forEach((c, j) => { out[`${block}.${c}`] = params[block][j]; });
  return out;
}

/** A data set made of the markets `picks` (with repetition), each copy a distinct market. */
function resampleMarkets(data: SharingData, prep: Prepared, picks: number[]): SharingData {
  const rows: number[] = [];
  const market: number[] = [];
  picks.forEach((m, b) => {
    for (let i = prep.starts[m]; i < prep.starts[m] + prep.counts[m]; i++) { rows.push(i); market.push(b); }
  });
  const take = <T extends Float64Array | Uint8Array>(src: T, make: (n: number) => T): T => {
    const out = make(rows.length);
    rows.forEach((r, i) => { out[i] = src[r]; });
    return out;
  };
  const f64 = (k: number) => new Float64Array(k), u8 = (k: number) => new Uint8Array(k);
  return {
    marketNames: picks.map((m, b) => `${prep.marketNames[m]}#${b}`),
    market: Int32Array.from(market),
    price: take(data.price, f64), marginalCost: take(data.marginalCost, f64),
    assignment: take(data.assignment, u8), shared: take(data.shared, u8), purchased: take(data.purchased, u8),
    referrals: take(data.referrals, f64),
    covariateNames: [...data.covariateNames],
    covariates: data.covariates.map((c) => take(c, f64)),
  };
}

export { formatEstimation } from './estimate-report.js';
