// The coupon response model of the paper (§2.1): q(x, d) = Λ(f(x) + g(x)(d − d0)).
// f: logit of a gradient-boosted classifier trained on the observations with d = d0 (or an
// imported XGBoost model); g(x) = β'x̃ with x̃ = (1, standardized features), fit by logistic
// regression of `purchased` on x̃·(d − d0) with offset f (Newton in the kernels, small ridge).
// Diagnostics (§2.2): the share of customer-days with g > 0, held-out log-loss and AUC, and an
// L1-penalized auxiliary regression that lists the top predictors of g with their signs (Table 1).
import { promises as fs } from 'node:fs';
import { getDefaultEngine, type Engine } from '../parallel/engine.js';
import { meanLogLoss, rocAuc, scoreForest, type Forest, type GbmParams } from '../kernels/gbm.js';
import { withLogisticProblem, newtonLogistic, lassoPath, type LogisticDesign } from '../kernels/glm.js';
import { fitBaselineClassifier, forestFromJSON, forestToJSON, splitCounts, type BaselineSource, type ForestJSON } from './gbm.js';
import { CounterRng, streamId } from '../random.js';
import { writeFileAtomic } from '../io/atomic.js';
import { PromoptError, badInput } from '../errors.js';
import { formatTable } from '../report/text.js';

export interface ResponseData {
  featureNames: string[];
  /** One column per feature. */
  features: Float64Array[];
  /** Coupon value d offered on each customer-day. */
  discount: Float64Array;
  /** 1 if the customer purchased that day. */
  purchased: Uint8Array;
}

export interface ResponseModelOptions extends Partial<GbmParams> {
  /** Nominal coupon value d0 (default 0.10). */
  nominalDiscount?: number;
  /** Share of rows held out for early stopping and the held-out diagnostics (default 0.2). */
  validationFraction?: number;
  /** Seed of the hold-out draw (default 1). */
  seed?: number;
  /** Ridge on the g coefficients (intercept excluded; default 1e-6). */
  ridge?: number;
  /** Predictors the auxiliary L1 regression aims for (default 10, as in the paper's Table 1). */
  auxiliaryPredictors?: number;
  /** Rows the auxiliary regression uses at most (an even stride through the data; default 200,000). */
  auxiliaryRows?: number;
  /** Use this forest (e.g. an imported XGBoost model) for f instead of training one. */
  baseline?: { forest: Forest; source: BaselineSource };
  /** Called after each boosting round. */
  progress?: (round: number) => void;
}

export interface Predictor {
  feature: string;
  coefficient: number;
  sign: '+' | '−';
}

export interface ResponseDiagnostics {
  rows: number;
  nominalRows: number;
  trainingRows: number;
  heldOutRows: number;
  /** Share of all customer-days with g(x) > 0 (the paper reports 99.5%). */
  shareGPositive: number;
  /** Held-out performance of q(x, d) on every held-out row. */
  heldOut: { logLoss: number; auc: number; constantLogLoss: number };
  /** Held-out performance of f alone on the held-out nominal rows (the GBM's own validation set). */
  baselineHeldOut: { logLoss: number; auc: number; rows: number };
  baseline: { source: BaselineSource; trees: number; nodes: number; bestRound: number | null; validationLogLoss: number[]; topSplitFeatures: { feature: string; splits: number }[] };
  /** g's coefficients on the standardized features (intercept first) with standard errors. */
  coefficients: { name: string; estimate: number; standardError: number }[];
  newton: { iterations: number; logLik: number; gradientNorm: number };
  /** Top predictors of g from the L1-penalized auxiliary regression, by |coefficient|. */
  auxiliary: { penalty: number; rows: number; predictors: Predictor[] };
  seconds: { baseline: number; sensitivity: number; diagnostics: number };
}

export interface ResponseModelJSON {
  kind: 'promopt-response-model';
  version: 1;
  nominalDiscount: number;
  featureNames: string[];
  standardization: { mean: number[]; sd: number[] };
  /** β: intercept first, then one per standardized feature. */
  beta: number[];
  baseline: { source: BaselineSource; forest: ForestJSON };
  diagnostics: ResponseDiagnostics;
}

const DISCOUNT_TOLERANCE = 1e-9;

export class ResponseModel {
  constructor(
    readonly featureNames: string[],
    readonly nominalDiscount: number,
    readonly mean: Float64Array,
    readonly sd: Float64Array,
    readonly beta: Float64Array,
    readonly forest: Forest,
    readonly baselineSource: BaselineSource,
    readonly diagnostics: ResponseDiagnostics,
  ) {}

  /** f(x) (logit at d0) and g(x) (coupon sensitivity) for every row; columns in featureNames order. */
  async predict(features: readonly Float64Array[], engine: Engine = getDefaultEngine()): Promise<{ f: Float64Array; g: Float64Array }> {
    const p = this.featureNames.length;
    if (features.length !== p) throw badInput(`the model uses ${p} features (${this.featureNames.slice(0, 3).join(', ')}, …), got ${features.length} columns`);
    const n = features[0]?.length ?? 0;
    features.forEach((col, j) => {
      if (col.length !== n) throw badInput(`feature "${this.featureNames[j]}" has ${col.length} rows, "${this.featureNames[0]}" has ${n}`);
      for (let i = 0; i < n; i++) if (!Number.isFinite(col[i])) throw badInput(`feature "${this.featureNames[j]}", row ${i + 1} is ${col[i]}, not a finite number`);
    });
    const f = await scoreForest(this.forest, features, engine);
    return { f, g: this.sensitivity(features) };
  }

  /** g(x) = β0 + Σ β_j (x_j − μ_j)/σ_j, folded into one intercept and per-column slopes (columns validated by the caller). */
  sensitivity(features: readonly Float64Array[]): Float64Array {
    const n = features[0]?.length ?? 0;
    let intercept = this.beta[0];
    const slopes = new Float64Array(features.length);
    for (let j = 0; j < features.length; j++) {
      slopes[j] = this.beta[j + 1] / this.sd[j];
      intercept -= slopes[j] * this.mean[j];
    }
    const g = new Float64Array(n).fill(intercept);
    for (let j = 0; j < features.length; j++) {
      const col = features[j], s = slopes[j];
      if (s !== 0) for (let i = 0; i < n; i++) g[i] += s * col[i];
    }
    return g;
  }

  /** q(x, d) = Λ(f + g (d − d0)). */
  static purchaseProbability(f: number, g: number, discount: number, nominalDiscount: number): number {
    const z = f + g * (discount - nominalDiscount);
    return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
  }

  toJSON(): ResponseModelJSON {
    return {
      kind: 'promopt-response-model', version: 1, nominalDiscount: this.nominalDiscount, featureNames: this.featureNames,
      standardization: { mean: Array.from(this.mean), sd: Array.from(this.sd) }, beta: Array.from(this.beta),
      baseline: { source: this.baselineSource, forest: forestToJSON(this.forest) }, diagnostics: this.diagnostics,
    };
  }

  static fromJSON(obj: unknown, source = 'response model'): ResponseModel {
    const o = obj as Partial<ResponseModelJSON> | null;
    if (!o || typeof o !== 'object' || o.kind !== 'promopt-response-model') throw badInput(`${source}: not a promopt response model (kind "promopt-response-model" expected)`);
    if (o.version !== 1) throw badInput(`${source}: unsupported model version ${o.version}`);
    const names = o.featureNames;
    if (!Array.isArray(names) || names.length === 0 || names.some((s) => typeof s !== 'string')) throw badInput(`${source}: featureNames must be a non-empty array of strings`);
    const p = names.length;
    const numbers = (v: unknown, length: number, what: string) => {
      if (!Array.isArray(v) || v.length !== length || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) throw badInput(`${source}: ${what} must be ${length} finite numbers`);
      return Float64Array.from(v as number[]);
    };
    const d0 = o.nominalDiscount;
    if (typeof d0 !== 'number' || !Number.isFinite(d0)) throw badInput(`${source}: nominalDiscount is not a finite number`);
    const mean = numbers(o.standardization?.mean, p, 'standardization.mean');
    const sd = numbers(o.standardization?.sd, p, 'standardization.sd');
    if (sd.some((s) => !(s > 0))) throw badInput(`${source}: standardization.sd must be positive`);
    const beta = numbers(o.beta, p + 1, 'beta');
    const forest = forestFromJSON(o.baseline?.forest, source);
    if (forest.featureCount > p) throw badInput(`${source}: the forest uses ${forest.featureCount} features, the model names ${p}`);
    forest.featureCount = p;
    const src = o.baseline?.source === 'xgboost' ? 'xgboost' : 'promopt-gbm';
    return new ResponseModel(names, d0, mean, sd, beta, forest, src, o.diagnostics as ResponseDiagnostics);
  }

  /** Writes the model as JSON atomically (no partial file on failure). */
  async save(path: string): Promise<void> {
    await writeFileAtomic(path, `${JSON.stringify(this.toJSON())}\n`);
  }

  static async load(path: string): Promise<ResponseModel> {
    let text: string;
    try {
      text = await fs.readFile(path, 'utf8');
    } catch (error) {
      throw badInput(`${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
    }
    let obj: unknown;
    try {
      obj = JSON.parse(text);
    } catch (error) {
      throw badInput(`${path}: not valid JSON (${(error as Error).message})`);
    }
    return ResponseModel.fromJSON(obj, path);
  }

  /** The diagnostics as text: the paper's §2.2 figures and Table 1. */
  summary(): string {
    const d = this.diagnostics;
    const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
    const lines = [
      `Response model q(x, d) = Λ(f(x) + g(x)(d − ${this.nominalDiscount})): ${d.rows.toLocaleString('en-US')} customer-days ` +
        `(${d.nominalRows.toLocaleString('en-US')} at d0), ${d.trainingRows.toLocaleString('en-US')} for fitting, ${d.heldOutRows.toLocaleString('en-US')} held out`,
      `f: ${d.baseline.source === 'xgboost' ? 'imported XGBoost model' : 'histogram GBM'}, ${d.baseline.trees} trees, ${d.baseline.nodes} nodes` +
        (d.baseline.bestRound !== null ? ` (best round by validation log-loss: ${d.baseline.bestRound})` : ''),
      '',
      formatTable(['held-out', 'log-loss', 'AUC', 'rows'], [
        ['q(x, d), all held-out rows', d.heldOut.logLoss.toFixed(5), d.heldOut.auc.toFixed(4), String(d.heldOutRows)],
        ['constant (held-out purchase rate)', d.heldOut.constantLogLoss.toFixed(5), '0.5000', String(d.heldOutRows)],
        ['f alone, held-out rows at d0', d.baselineHeldOut.logLoss.toFixed(5), d.baselineHeldOut.auc.toFixed(4), String(d.baselineHeldOut.rows)],
      ]),
      '',
      `Share of customer-days with g > 0 (coupon sensitivity of the right sign): ${pct(d.shareGPositive)} (paper: 99.5%)`,
      '',
      `Top predictors of coupon sensitivity g (L1-penalized auxiliary logistic regression, penalty ${d.auxiliary.penalty.toPrecision(3)}, ${d.auxiliary.rows.toLocaleString('en-US')} rows; cf. the paper's Table 1):`,
      formatTable(['', 'feature', 'sign', 'coefficient'], d.auxiliary.predictors.map((p, k) => [`(${String.fromCharCode(97 + k)})`, p.feature, p.sign, p.coefficient.toFixed(4)])),
      '',
      `g = β'x̃ (standardized features; Newton ${d.newton.iterations} iterations, gradient ${d.newton.gradientNorm.toExponential(1)}), largest |β|:`,
      formatTable(['coefficient', 'estimate', 'std. error'], [d.coefficients[0], ...d.coefficients.slice(1).sort((a, b) => Math.abs(b.estimate) - Math.abs(a.estimate)).slice(0, 10)]
        .map((c) => [c.name, c.estimate.toFixed(3), c.standardError.toFixed(3)])),
    ];
    return lines.join('\n');
  }
}

function validateData(data: ResponseData): number {
  const p = data.featureNames.length;
  if (p === 0) throw badInput('response data: no features');
  if (data.features.length !== p) throw badInput(`response data: ${p} feature names but ${data.features.length} feature columns`);
  const n = data.purchased.length;
  if (data.discount.length !== n) throw badInput(`response data: discount has ${data.discount.length} rows, purchased has ${n}`);
  data.features.forEach((col, j) => {
    if (col.length !== n) throw badInput(`response data: feature "${data.featureNames[j]}" has ${col.length} rows, purchased has ${n}`);
    for (let i = 0; i < n; i++) if (!Number.isFinite(col[i])) throw badInput(`response data: feature "${data.featureNames[j]}", row ${i + 1} is ${col[i]}, not a finite number`);
  });
  for (let i = 0; i < n; i++) {
    const d = data.discount[i];
    if (!Number.isFinite(d) || d < 0 || d >= 1) throw badInput(`response data: discount, row ${i + 1} is ${d}, not in [0, 1)`);
    if (data.purchased[i] !== 0 && data.purchased[i] !== 1) throw badInput(`response data: purchased, row ${i + 1} is ${data.purchased[i]}, not 0 or 1`);
  }
  return n;
}

function pick(columns: readonly Float64Array[], rows: Int32Array): Float64Array[] {
  return columns.map((c) => Float64Array.from(rows, (i) => c[i]));
}

/**
 * Fits f and g (paper §2.1) and computes the §2.2 diagnostics. Rows are held out at random
 * (validationFraction, seeded): they stop the boosting early and give the held-out figures.
 */
export async function fitResponseModel(data: ResponseData, options: ResponseModelOptions = {}, engine: Engine = getDefaultEngine()): Promise<ResponseModel> {
  const n = validateData(data);
  const d0 = options.nominalDiscount ?? 0.1;
  if (!Number.isFinite(d0) || d0 < 0 || d0 >= 1) throw badInput(`nominal discount d0 must be in [0, 1), got ${d0}`);
  const validationFraction = options.validationFraction ?? 0.2;
  if (!(validationFraction >= 0 && validationFraction < 1)) throw badInput(`validationFraction must be in [0, 1), got ${validationFraction}`);
  const seed = options.seed ?? 1;
  const p = data.featureNames.length;
  const started = performance.now();

  // Hold-out split, drawn per row so that it does not depend on the data's order of processing.
  const stream = streamId('response-holdout');
  const heldOut = new Uint8Array(n);
  for (let i = 0; i < n; i++) heldOut[i] = new CounterRng(seed, stream, i).uniform() < validationFraction ? 1 : 0;
  const isNominal = (i: number) => Math.abs(data.discount[i] - d0) <= DISCOUNT_TOLERANCE;
  const rowsWhere = (keep: (i: number) => boolean) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) if (keep(i)) out.push(i);
    return Int32Array.from(out);
  };
  const nominalTrain = rowsWhere((i) => !heldOut[i] && isNominal(i));
  const nominalValid = rowsWhere((i) => heldOut[i] === 1 && isNominal(i));
  const nominalRows = nominalTrain.length + nominalValid.length;

  // f: the GBM on nominal-discount rows, or the given (imported) forest.
  let forest: Forest;
  let source: BaselineSource;
  let bestRound: number | null = null;
  let validationLogLoss: number[] = [];
  if (options.baseline) {
    forest = options.baseline.forest;
    source = options.baseline.source;
    if (forest.featureCount > p) throw badInput(`the baseline model uses ${forest.featureCount} features, the data has ${p}`);
  } else {
    if (nominalTrain.length < 2) throw badInput(`response data: ${nominalTrain.length} fitting row(s) with the nominal discount ${d0}; f is trained on those (check --nominal)`);
    const result = await fitBaselineClassifier(
      { features: pick(data.features, nominalTrain), label: Uint8Array.from(nominalTrain, (i) => data.purchased[i]) },
      nominalValid.length ? { features: pick(data.features, nominalValid), label: Uint8Array.from(nominalValid, (i) => data.purchased[i]) } : undefined,
      options, engine, { progress: options.progress },
    );
    forest = result.forest;
    source = 'promopt-gbm';
    validationLogLoss = result.validLogLoss;
    bestRound = result.validLogLoss.length ? result.bestRounds : null;
  }
  const f = await scoreForest(forest, data.features, engine);
  const baselineDone = performance.now();

  // Standardization on the fitting rows; a constant feature keeps sd 1 (its β is then ridge-zero).
  const fitRows = rowsWhere((i) => !heldOut[i]);
  const mean = new Float64Array(p), sd = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    const col = data.features[j];
    let s = 0;
    for (const i of fitRows) s += col[i];
    const m = s / Math.max(fitRows.length, 1);
    let v = 0;
    for (const i of fitRows) v += (col[i] - m) ** 2;
    const sdj = Math.sqrt(v / Math.max(fitRows.length - 1, 1));
    mean[j] = m;
    sd[j] = sdj > 1e-12 * Math.max(1, Math.abs(m)) ? sdj : 1;
  }
  const design = (rows: Int32Array): LogisticDesign => ({
    columns: [new Float64Array(rows.length).fill(1), ...data.features.map((col, j) => Float64Array.from(rows, (i) => (col[i] - mean[j]) / sd[j]))],
    offset: Float64Array.from(rows, (i) => f[i]),
    multiplier: Float64Array.from(rows, (i) => data.discount[i] - d0),
    label: Uint8Array.from(rows, (i) => data.purchased[i]),
  });
  // Rows at d0 add nothing to g's likelihood (their multiplier is 0): leave them out.
  const sensitivityRows = rowsWhere((i) => !heldOut[i] && !isNominal(i));
  if (sensitivityRows.length < p + 1) {
    throw badInput(`response data: ${sensitivityRows.length} fitting row(s) with a discount other than d0 = ${d0}; g needs at least ${p + 1} (one per coefficient)`);
  }
  const unpenalized = [0];
  const fit = await withLogisticProblem(design(sensitivityRows), (evaluate, k) => newtonLogistic(evaluate, k, { ridge: options.ridge ?? 1e-6, unpenalized }), engine);
  const sensitivityDone = performance.now();

  const model = new ResponseModel([...data.featureNames], d0, mean, sd, fit.beta, forest, source, undefined as unknown as ResponseDiagnostics);
  const g = model.sensitivity(data.features);
  let positive = 0;
  for (let i = 0; i < n; i++) if (g[i] > 0) positive++;

  // Held-out figures.
  const validRows = rowsWhere((i) => heldOut[i] === 1);
  const qMargin = Float64Array.from(validRows, (i) => f[i] + g[i] * (data.discount[i] - d0));
  const validLabel = Uint8Array.from(validRows, (i) => data.purchased[i]);
  let purchases = 0;
  for (const y of validLabel) purchases += y;
  const rate = Math.min(Math.max(purchases / Math.max(validLabel.length, 1), 1e-12), 1 - 1e-12);
  const fValid = Float64Array.from(nominalValid, (i) => f[i]);
  const fLabel = Uint8Array.from(nominalValid, (i) => data.purchased[i]);

  // Auxiliary L1 regression (Table 1) on at most auxiliaryRows rows, evenly strided.
  const auxiliaryRows = options.auxiliaryRows ?? 200_000;
  const stride = Math.max(1, Math.ceil(sensitivityRows.length / auxiliaryRows));
  const auxRows = sensitivityRows.filter((_, k) => k % stride === 0);
  const target = Math.min(options.auxiliaryPredictors ?? 10, p);
  const lasso = await withLogisticProblem(design(auxRows), (evaluate, k) => lassoPath(evaluate, k, target, unpenalized), engine);
  const predictors: Predictor[] = [];
  for (let j = 1; j <= p; j++) if (lasso.beta[j] !== 0) predictors.push({ feature: data.featureNames[j - 1], coefficient: lasso.beta[j], sign: lasso.beta[j] > 0 ? '+' : '−' });
  predictors.sort((a, b) => Math.abs(b.coefficient) - Math.abs(a.coefficient));

  const counts = splitCounts(forest);
  const diagnostics: ResponseDiagnostics = {
    rows: n, nominalRows, trainingRows: fitRows.length, heldOutRows: validRows.length,
    shareGPositive: n ? positive / n : NaN,
    heldOut: {
      logLoss: meanLogLoss(qMargin, validLabel), auc: rocAuc(qMargin, validLabel),
      constantLogLoss: validLabel.length ? meanLogLoss(new Float64Array(validLabel.length).fill(Math.log(rate / (1 - rate))), validLabel) : NaN,
    },
    baselineHeldOut: { logLoss: meanLogLoss(fValid, fLabel), auc: rocAuc(fValid, fLabel), rows: nominalValid.length },
    baseline: {
      source, trees: forest.roots.length, nodes: forest.feature.length, bestRound, validationLogLoss,
      topSplitFeatures: Array.from(counts, (splits, j) => ({ feature: data.featureNames[j], splits })).filter((x) => x.splits > 0).sort((a, b) => b.splits - a.splits).slice(0, 10),
    },
    coefficients: ['intercept', ...data.featureNames].map((name, j) => ({ name, estimate: fit.beta[j], standardError: fit.standardErrors[j] })),
    newton: { iterations: fit.iterations, logLik: fit.logLik, gradientNorm: fit.gradientNorm },
    auxiliary: { penalty: lasso.penalty, rows: auxRows.length, predictors: predictors.slice(0, Math.max(target, 1)) },
    seconds: { baseline: (baselineDone - started) / 1000, sensitivity: (sensitivityDone - baselineDone) / 1000, diagnostics: (performance.now() - sensitivityDone) / 1000 },
  };
  if (!Number.isFinite(fit.beta[0])) throw new PromoptError('NOT_CONVERGED', 'g: the logistic regression gave a non-finite intercept');
  return new ResponseModel(model.featureNames, d0, mean, sd, fit.beta, forest, source, diagnostics);
}
