// A simulated A/B test of the promopt coupon policy against the incumbent (paper §3).
//
// 1. History: `trainingDays` of logs in which the incumbent assigns the coupons (and the
//    randomized group gets uniform random ones); the response model is fit on those days'
//    features (the first `warmupDays` only fill the feature windows).
// 2. Test: the other customers are split at random into treatment and control for `testDays`.
//    Each day, control gets the incumbent's coupons; treatment gets the promopt policy: features →
//    f, g → allocation at the incumbent's budget for the treatment group that day (the expected
//    discount Σ q̂(d) d spend the model predicts if the incumbent served the treatment customers).
//    Outcomes come from the true model, with the same random draws a customer would have had
//    under either arm.
// 3. Report: revenue uplift with the ATE from regressing each customer's test-period revenue on
//    the treatment indicator (HC1 robust standard error, one-sided test), contribution margin
//    with a cost-of-goods share, and coupons sent and revenue by coupon rate (the paper's Figure 2).
import { badInput } from '../errors.js';
import { getDefaultEngine, type Engine } from '../parallel/engine.js';
import { CounterRng, streamId } from '../random.js';
import { formatTable, stars } from '../report/text.js';
import type { AbTestData } from '../report/sections.js';
import { allocate, type AllocationOptions, type AllocationResult } from './allocate.js';
import { COUPON_FEATURE_NAMES, CouponFeatureStream } from './features.js';
import { IncumbentPolicy } from './incumbent.js';
import { fitResponseModel, type ResponseModel, type ResponseModelOptions } from './response.js';
import { CouponWorld, type CouponDayLog, type CouponSimulationOptions } from './simulate.js';
import { abTestFromResult } from '../report/adapters.js';

export interface AbTestOptions {
  /** The simulated population and its true model (customers, seed, memory, heterogeneity, ...). */
  simulation?: Omit<CouponSimulationOptions, 'days'>;
  /** Days of incumbent history the model is trained on (default 28). */
  trainingDays?: number;
  /** Early history days that only fill the feature windows (default 7). */
  warmupDays?: number;
  /** Length D of the test (default 11, as in the paper). */
  testDays?: number;
  /** Share of the test customers in treatment (default 0.5). */
  treatmentShare?: number;
  /** Cost of goods sold as a share of the pre-discount spend, for the contribution margin (default 0.55). */
  costOfGoodsShare?: number;
  /** Options of the response model fit. */
  response?: ResponseModelOptions;
  /** Allocation method (default exact). */
  allocationMethod?: AllocationOptions['method'];
  /** Use this fitted model instead of fitting one on the history. */
  model?: ResponseModel;
  /** Called after each simulated day (for progress). */
  progress?: (stage: 'history' | 'fit' | 'test', day: number) => void;
}

export interface ArmSummary {
  customers: number;
  /** Σ spend (1 − d) over purchases. */
  revenue: number;
  revenuePerCustomer: number;
  /** revenue − cost-of-goods share · Σ spend. */
  contributionMargin: number;
  purchases: number;
  /** Σ spend · d over purchases (the discount actually redeemed). */
  discountRedeemed: number;
  /** Σ q_true (1 − d) spendMean: the revenue the true model expects (no sampling noise). */
  expectedRevenue: number;
}

export interface RateRow {
  discount: number;
  treatment: number;
  control: number;
  /** Percent change treatment vs control, per customer of each arm. */
  percentChange: number;
}

export interface AbTestDay {
  day: number;
  budget: number;
  lambda: number;
  budgetBinds: boolean;
  /** Expected discount of the treatment allocation under the model. */
  allocatedDiscount: number;
  treatmentRevenue: number;
  controlRevenue: number;
}

export interface AbTestResult {
  customers: number;
  trainingDays: number;
  testDays: number;
  costOfGoodsShare: number;
  treatment: ArmSummary;
  control: ArmSummary;
  /** Percent change of revenue per customer. */
  revenueUplift: number;
  marginUplift: number;
  expectedRevenueUplift: number;
  /** Regression of each customer's D-day revenue on the treatment indicator. */
  regression: { effect: number; standardError: number; tStatistic: number; pValueOneSided: number; covariance: 'HC1' };
  couponsByRate: RateRow[];
  revenueByRate: RateRow[];
  daily: AbTestDay[];
  model: { shareGPositive: number; heldOutAuc: number | null; trainingRows: number };
  /** The response model the treatment used (fitted on the history unless one was given). */
  fittedModel: ResponseModel;
  /** Wall time of the stages. */
  seconds: { history: number; fit: number; test: number };
}

/** Upper tail of the standard normal, 1 − Φ(z) (erfc by Numerical Recipes' Chebyshev fit, relative error < 1.2e-7). */
export function normalUpperTail(z: number): number {
  const x = z / Math.SQRT2;
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const erfc = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/**
 * OLS of y on (1, treated) with the HC1 heteroskedasticity-robust standard error of the slope;
 * the one-sided p-value is for H0: effect ≤ 0.
 */
export function treatmentRegression(y: ArrayLike<number>, treated: ArrayLike<number>): AbTestResult['regression'] {
  const n = y.length;
  let n1 = 0, s1 = 0, s0 = 0;
  for (let i = 0; i < n; i++) { if (treated[i]) { n1++; s1 += y[i]; } else s0 += y[i]; }
  const n0 = n - n1;
  if (n1 < 2 || n0 < 2) throw badInput(`the treatment regression needs two customers per arm, got ${n1} treated and ${n0} control`);
  const m1 = s1 / n1, m0 = s0 / n0;
  let r1 = 0, r0 = 0;
  for (let i = 0; i < n; i++) {
    if (treated[i]) r1 += (y[i] - m1) ** 2; else r0 += (y[i] - m0) ** 2;
  }
  // With a binary regressor, the HC0 sandwich for the slope is Σ_T e²/n1² + Σ_C e²/n0²; HC1 scales by n/(n − k).
  const variance = (r1 / (n1 * n1) + r0 / (n0 * n0)) * (n / (n - 2));
  const effect = m1 - m0, standardError = Math.sqrt(variance);
  const tStatistic = standardError > 0 ? effect / standardError : effect > 0 ? Infinity : effect < 0 ? -Infinity : 0;
  return { effect, standardError, tStatistic, pValueOneSided: normalUpperTail(tStatistic), covariance: 'HC1' };
}

function positiveInteger(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw badInput(`${name} must be an integer ≥ ${min}, got ${v}`);
}

/** Runs the simulated A/B test (see the file comment). */
export async function runAbTest(options: AbTestOptions = {}, engine: Engine = getDefaultEngine()): Promise<AbTestResult> {
  const trainingDays = options.trainingDays ?? 28;
  const warmupDays = options.warmupDays ?? 7;
  const testDays = options.testDays ?? 11;
  const treatmentShare = options.treatmentShare ?? 0.5;
  const cogs = options.costOfGoodsShare ?? 0.55;
  positiveInteger('trainingDays', trainingDays, 1);
  positiveInteger('testDays', testDays, 1);
  if (!Number.isInteger(warmupDays) || warmupDays < 0 || warmupDays >= trainingDays) throw badInput(`warmupDays must be an integer from 0 to trainingDays − 1 (${trainingDays - 1}), got ${warmupDays}`);
  if (!(treatmentShare > 0 && treatmentShare < 1)) throw badInput(`treatmentShare must be in (0, 1), got ${treatmentShare}`);
  if (!(cogs >= 0 && cogs < 1)) throw badInput(`costOfGoodsShare must be in [0, 1), got ${cogs}`);

  const world = new CouponWorld({ ...options.simulation, days: trainingDays + testDays });
  const { discounts, nominal, seed } = world.config;
  const n = world.size;
  const levels = discounts.length;
  const customers = world.customers;
  const incumbent = new IncumbentPolicy(customers, { levels, seed });
  const stream = new CouponFeatureStream(customers, discounts, world.config.firstDayOfWeek, { horizonDays: trainingDays + testDays, reuseOutput: true });
  const randomized: number[] = [];
  for (let i = 0; i < n; i++) if (customers.randomized[i]) randomized.push(i);

  // ---- history under the incumbent ----
  const started = performance.now();
  const rowsPerDay = n, trainRows = rowsPerDay * (trainingDays - warmupDays);
  const fitModel = !options.model;
  const training = fitModel ? {
    featureNames: [...COUPON_FEATURE_NAMES],
    features: COUPON_FEATURE_NAMES.map(() => new Float64Array(trainRows)),
    discount: new Float64Array(trainRows),
    purchased: new Uint8Array(trainRows),
  } : undefined;
  let previous: CouponDayLog | null = null;
  for (let t = 0; t < trainingDays; t++) {
    const features = await stream.next(previous, engine);
    const assigned = incumbent.assign(t);
    const random = world.randomLevels(randomized);
    randomized.forEach((i, j) => { assigned[i] = random[j]; });
    const log = world.step(assigned);
    if (training && t >= warmupDays) {
      const base = (t - warmupDays) * rowsPerDay;
      features.forEach((column, f) => training.features[f].set(column, base));
      training.discount.set(log.coupon, base);
      training.purchased.set(log.purchased, base);
    }
    previous = log;
    options.progress?.('history', t);
  }
  options.progress?.('fit', trainingDays);
  const historyDone = performance.now();
  const model = options.model ?? await fitResponseModel(training!, { nominalDiscount: nominal, ...options.response }, engine);
  if (model.featureNames.join(',') !== COUPON_FEATURE_NAMES.join(',')) throw badInput('the response model was fit on other features than the coupon simulator\'s');

  const fitDone = performance.now();
  // ---- the test ----
  const armStream = streamId('abtest-arm');
  const treatmentIndex: number[] = [], controlIndex: number[] = [];
  const arm = new Int8Array(n).fill(-1); // 1 treatment, 0 control, −1 randomized group
  for (let i = 0; i < n; i++) {
    if (customers.randomized[i]) continue;
    const treated = new CounterRng(seed, armStream, i).uniform() < treatmentShare;
    arm[i] = treated ? 1 : 0;
    (treated ? treatmentIndex : controlIndex).push(i);
  }
  if (treatmentIndex.length < 2 || controlIndex.length < 2) throw badInput(`too few customers for an A/B test: ${treatmentIndex.length} in treatment, ${controlIndex.length} in control`);
  // Spend per purchase the allocation weighs by: the customer's historical average, or the
  // population's when the customer has no orders yet.
  let spendSum = 0, spendCount = 0;
  for (let i = 0; i < n; i++) if (customers.historicalAverageSpend[i] > 0) { spendSum += customers.historicalAverageSpend[i]; spendCount++; }
  const fallbackSpend = spendCount ? spendSum / spendCount : 1;
  const spend = Float64Array.from(treatmentIndex, (i) => customers.historicalAverageSpend[i] > 0 ? customers.historicalAverageSpend[i] : fallbackSpend);

  const customerRevenue = new Float64Array(n), customerMargin = new Float64Array(n);
  const arms = [0, 1].map(() => ({ revenue: 0, margin: 0, purchases: 0, discountRedeemed: 0, expectedRevenue: 0, coupons: new Float64Array(levels), revenueByRate: new Float64Array(levels) }));
  const daily: AbTestDay[] = [];
  let gPositive = 0, gRows = 0;
  for (let day = 0; day < testDays; day++) {
    const t = trainingDays + day;
    const features = await stream.next(previous, engine);
    const assigned = incumbent.assign(t);
    const random = world.randomLevels(randomized);
    randomized.forEach((i, j) => { assigned[i] = random[j]; });
    // The promopt policy for the treatment group at the incumbent's budget.
    const treatmentFeatures = features.map((column) => Float64Array.from(treatmentIndex, (i) => column[i]));
    const { f, g } = await model.predict(treatmentFeatures, engine);
    let budget = 0;
    for (let j = 0; j < treatmentIndex.length; j++) {
      const d = discounts[assigned[treatmentIndex[j]]];
      const z = f[j] + g[j] * (d - nominal);
      budget += (1 / (1 + Math.exp(-z))) * d * spend[j];
      if (g[j] > 0) gPositive++;
      gRows++;
    }
    const allocation: AllocationResult = await allocate({ f, g, spend }, { budget, discounts, nominal, method: options.allocationMethod }, engine);
    treatmentIndex.forEach((i, j) => { assigned[i] = allocation.discountIndex[j]; });
    // Expected revenue under the truth, before the day's draws.
    for (let i = 0; i < n; i++) {
      if (arm[i] < 0) continue;
      const k = assigned[i];
      arms[arm[i]].expectedRevenue += world.purchaseProbability(i, k) * (1 - discounts[k]) * world.truth.spendMean[i];
    }
    const log = world.step(assigned);
    let revenueT = 0, revenueC = 0;
    for (let i = 0; i < n; i++) {
      if (arm[i] < 0) continue;
      const a = arms[arm[i]], k = log.couponLevel[i];
      a.coupons[k]++;
      if (!log.purchased[i]) continue;
      const revenue = log.revenue[i], margin = revenue - cogs * log.spend[i];
      a.revenue += revenue; a.margin += margin; a.purchases++;
      a.discountRedeemed += log.spend[i] * log.coupon[i];
      a.revenueByRate[k] += revenue;
      customerRevenue[i] += revenue; customerMargin[i] += margin;
      if (arm[i] === 1) revenueT += revenue; else revenueC += revenue;
    }
    daily.push({ day: t, budget, lambda: allocation.lambda, budgetBinds: allocation.budgetBinds, allocatedDiscount: allocation.expectedDiscount, treatmentRevenue: revenueT, controlRevenue: revenueC });
    previous = log;
    options.progress?.('test', day);
  }

  const testDone = performance.now();
  const nT = treatmentIndex.length, nC = controlIndex.length;
  const summary = (k: 0 | 1, count: number): ArmSummary => ({
    customers: count, revenue: arms[k].revenue, revenuePerCustomer: arms[k].revenue / count, contributionMargin: arms[k].margin,
    purchases: arms[k].purchases, discountRedeemed: arms[k].discountRedeemed, expectedRevenue: arms[k].expectedRevenue,
  });
  const change = (treatmentTotal: number, controlTotal: number) => 100 * ((treatmentTotal / nT) / (controlTotal / nC) - 1);
  const testCustomers = [...treatmentIndex, ...controlIndex];
  const regression = treatmentRegression(testCustomers.map((i) => customerRevenue[i]), testCustomers.map((i) => arm[i]));
  const rateRows = (key: 'coupons' | 'revenueByRate'): RateRow[] => discounts.map((d, k) => ({
    discount: d, treatment: arms[1][key][k], control: arms[0][key][k], percentChange: change(arms[1][key][k], arms[0][key][k]),
  }));
  return {
    customers: n,
    trainingDays,
    testDays,
    costOfGoodsShare: cogs,
    treatment: summary(1, nT),
    control: summary(0, nC),
    revenueUplift: change(arms[1].revenue, arms[0].revenue),
    marginUplift: change(arms[1].margin, arms[0].margin),
    expectedRevenueUplift: change(arms[1].expectedRevenue, arms[0].expectedRevenue),
    regression,
    couponsByRate: rateRows('coupons'),
    revenueByRate: rateRows('revenueByRate'),
    daily,
    model: { shareGPositive: gRows ? gPositive / gRows : NaN, heldOutAuc: model.diagnostics?.heldOut?.auc ?? null, trainingRows: model.diagnostics?.rows ?? 0 },
    fittedModel: model,
    seconds: { history: (historyDone - started) / 1000, fit: (fitDone - historyDone) / 1000, test: (testDone - fitDone) / 1000 },
  };
}

const signed = (x: number, digits = 1) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(digits)}%` : 'n/a');
const money = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 0 });

/** The A/B test as the paper reports it (§3, Figure 2). */
export function formatAbTest(r: AbTestResult): string {
  const reg = r.regression;
  return [
    `Simulated A/B test: ${r.customers.toLocaleString('en-US')} customers, model trained on ${r.trainingDays} days of incumbent history, ${r.testDays} test days`,
    '',
    formatTable(['', 'treatment (promopt)', 'control (incumbent)', 'change'], [
      ['customers', r.treatment.customers.toLocaleString('en-US'), r.control.customers.toLocaleString('en-US'), ''],
      ['revenue', money(r.treatment.revenue), money(r.control.revenue), signed(r.revenueUplift, 2)],
      [`contribution margin (COGS ${(100 * r.costOfGoodsShare).toFixed(0)}% of spend)`, money(r.treatment.contributionMargin), money(r.control.contributionMargin), signed(r.marginUplift, 2)],
      ['purchases', String(r.treatment.purchases), String(r.control.purchases), ''],
      ['discount redeemed', money(r.treatment.discountRedeemed), money(r.control.discountRedeemed), ''],
      ['expected revenue (true model)', money(r.treatment.expectedRevenue), money(r.control.expectedRevenue), signed(r.expectedRevenueUplift, 2)],
    ]),
    '',
    `Average treatment effect on ${r.testDays}-day revenue per customer: ${reg.effect.toFixed(3)} (HC1 s.e. ${reg.standardError.toFixed(3)}, t = ${reg.tStatistic.toFixed(2)}), one-sided p = ${reg.pValueOneSided.toPrecision(3)} ${stars(reg.pValueOneSided)}`,
    `Share of treatment customer-days with g > 0: ${(100 * r.model.shareGPositive).toFixed(1)}%`,
    '',
    'Coupons sent and revenue by coupon rate (paper Figure 2, per customer of each arm):',
    formatTable(['rate', 'coupons (T)', 'coupons (C)', 'change', 'revenue (T)', 'revenue (C)', 'change'], r.couponsByRate.map((c, k) => {
      const v = r.revenueByRate[k];
      return [c.discount.toFixed(2), String(c.treatment), String(c.control), signed(c.percentChange), money(v.treatment), money(v.control), signed(v.percentChange)];
    })),
  ].join('\n');
}

/** The result in the shape the HTML report's A/B section reads (src/report/sections.ts). */
export function abTestReportData(r: AbTestResult): AbTestData {
  return { ...abTestFromResult(r, ['treatment (promopt)', 'control (incumbent)']), budget: r.daily.reduce((s, d) => s + d.budget, 0) };
}
