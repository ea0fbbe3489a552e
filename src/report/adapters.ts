// From the domain's result objects to the report's section data: one small function per
// section, so that a run (the demo, a script) can fill a ReportResults without knowing the
// report's layout. Only types are imported from the domain folders.
import type { CounterfactualResults } from '../sharing/counterfactual.js';
import type { EstimationResults } from '../sharing/estimate.js';
import type { SharingParameters } from '../sharing/model.js';
import type { SharingSummary } from '../sharing/data.js';
import type { AbTestResult } from '../coupons/abtest.js';
import type { ReferenceEvidence } from '../coupons/evidence.js';
import type { CycleResult as SolvedCycle } from '../cycles/index.js';
import { PAPER_COVARIATES, PAPER_SUMMARY } from '../sharing/paper.js';
import {
  SCHEME_ORDER,
  type AbTestData, type AcquisitionCostData, type CyclesData, type EstimatesData, type GammaSensitivityData,
  type HeterogeneityData, type PriceDistribution, type ReferenceEffectsData, type SchemeProfitsData, type SummaryComparison,
  type SummaryRates,
} from './sections.js';

/** Simulated summary statistics against a target table (default: the slides'), matched by price. */
export function summaryFromSharing(
  summary: SharingSummary,
  target: ReadonlyArray<SummaryRates & { price: number }> = PAPER_SUMMARY,
  targetLabel = 'slides',
): SummaryComparison {
  return {
    targetLabel,
    rows: summary.groups.map((g) => {
      const t = target.find((x) => x.price === g.price);
      return {
        price: g.price, markets: g.markets, customers: g.customers, wholesaleCost: g.wholesaleCost,
        shareRate: g.shareRate, purchaseRate: g.purchaseRate, referralsPerCustomer: g.referralsPerCustomer,
        target: t ? { shareRate: t.shareRate, purchaseRate: t.purchaseRate, referralsPerCustomer: t.referralsPerCustomer } : undefined,
      };
    }),
  };
}

const CONSTANTS = [
  ['Average baseline utility (v̄)', 'vbar'], ['Average price sensitivity (ᾱ)', 'abar'], ['Average sharing cost (SC̄)', 'scbar'],
  ['Ratio of standard deviation (σ)', 'sigma'], ['Average log number of referrals (r₀)', 'r0'], ['Implied referral value (L)', 'L'],
] as const;

/**
 * The slides' two estimate tables from an estimation (per standard deviation of each covariate,
 * as the slides report them), with the true values when the data were simulated from `truth`
 * (given in the same standardized units).
 */
export function estimatesFromResults(results: EstimationResults, truth?: SharingParameters): EstimatesData {
  const { params, se } = results.standardized;
  const labels = new Map<string, string>(PAPER_COVARIATES.map((c) => [c.name, c.label]));
  const truthIndex = truth ? new Map(truth.covariates.map((name, j) => [name, j])) : undefined;
  const blocks = ['beta_v', 'beta_alpha', 'beta_sc', 'beta_r'] as const;
  const d = results.diagnostics;
  return {
    tables: [
      {
        title: 'Parameter estimates: market constants',
        columns: ['Estimate'],
        rows: CONSTANTS.map(([label, key]) => ({ parameter: label, cells: [{ estimate: params[key], se: finite(se[key]), truth: truth?.[key] }] })),
      },
      {
        title: 'Parameter estimates: interaction terms (per standard deviation of each covariate)',
        columns: ['(1) Baseline utility', '(2) Price sensitivity', '(3) Sharing cost', '(4) Log number of referrals'],
        rows: params.covariates.map((name, j) => ({
          parameter: labels.get(name) ?? name,
          cells: blocks.map((b) => {
            const t = truthIndex?.get(name);
            return { estimate: params[b][j], se: finite(se[b][j]), truth: t === undefined ? undefined : truth![b][t] };
          }),
        })),
      },
    ],
    diagnostics: [
      { name: 'Customers', value: d.customers },
      { name: 'Markets', value: d.markets },
      { name: 'Covariates', value: d.covariates },
      ...d.steps.map((s) => ({ name: `Step "${s.step}": objective; converged`, value: `${s.objective.toExponential(3)}; ${s.converged ? 'yes' : 'NO'}` })),
      { name: `Hansen's J (df ${d.overidentification.df})`, value: d.overidentification.J },
      { name: 'Seconds', value: Number(d.seconds.toFixed(2)) },
    ],
  };
}

function finite(x: number | undefined): number | undefined {
  return x !== undefined && Number.isFinite(x) ? x : undefined;
}

/** Average profit per customer of the six schemes. */
export function schemesFromCounterfactual(cf: CounterfactualResults): SchemeProfitsData {
  return {
    schemes: SCHEME_ORDER.map((k) => ({ scheme: k, profit: cf.schemes[k].profit, se: finite(cf.schemes[k].se) })),
    baseline: 'UNS',
    socialShare: cf.socialShare,
    leadValue: cf.leadValue,
  };
}

/** Customers per optimal price under each scheme, whatever their requirement. */
export function priceDistributionsFromCounterfactual(cf: CounterfactualResults): PriceDistribution[] {
  return SCHEME_ORDER.map((k) => {
    const counts = new Map<number, number>();
    const d = cf.priceDistributions[k];
    for (const part of [d.traditional, d.broadcasting]) {
      for (const [price, n] of Object.entries(part)) counts.set(Number(price), (counts.get(Number(price)) ?? 0) + n);
    }
    return { scheme: k, counts: [...counts].sort((a, b) => a[0] - b[0]).map(([price, customers]) => ({ price, customers })) };
  });
}

/** The γ-sensitivity curve with its 90% band, when the run computed it. */
export function sensitivityFromCounterfactual(cf: CounterfactualResults): GammaSensitivityData | undefined {
  const s = cf.sensitivity;
  if (!s || s.gamma.length < 2) return undefined;
  return {
    level: 0.9,
    points: s.gamma.map((gamma, k) => ({ gamma, lift: s.lift[k], lower: finite(s.lower?.[k]), upper: finite(s.upper?.[k]) })),
  };
}

/**
 * The acquisition-cost histogram against L. Customers with AC ≤ 0 (sharing costs them nothing)
 * are counted below the plotted range; those with no expected leads (AC infinite) and the open
 * last bin above it.
 */
export function acquisitionCostsFromCounterfactual(cf: CounterfactualResults): AcquisitionCostData {
  const { edges, counts } = cf.acquisitionCost.histogram;
  const bins = [];
  let above = cf.acquisitionCost.infinite;
  for (let k = 0; k < counts.length; k++) {
    if (k + 1 < edges.length) bins.push({ start: edges[k], end: edges[k + 1], count: counts[k] });
    else above += counts[k];
  }
  return { bins, leadValue: cf.acquisitionCost.leadValue, below: cf.acquisitionCost.nonPositive, above };
}

/** Histograms of the four customer-level primitives (centered on each one's mean, in logit units). */
export function heterogeneityFromCounterfactual(cf: CounterfactualResults): HeterogeneityData {
  const h = cf.heterogeneity;
  const keys = Object.keys(h.centered.counts) as Array<keyof typeof h.centered.counts>;
  return {
    histograms: keys.map((key) => {
      const d = h.distributions[key];
      const counts = h.centered.counts[key];
      return {
        name: d.label,
        definition: `${d.definition}, centered on its mean (logit units; values beyond the plotted range fall in the end bins)`,
        bins: counts.map((count, b) => ({ start: h.centered.edges[b], end: h.centered.edges[b + 1], count })),
        mean: d.mean,
        sd: d.sd,
      };
    }),
  };
}

/** The A/B test's arms, coupon mix and revenue by rate (treatment first). */
export function abTestFromResult(ab: AbTestResult, armNames: readonly [string, string] = ['personalized', 'incumbent']): AbTestData {
  const [t, c] = armNames;
  return {
    arms: [
      { arm: t, customers: ab.treatment.customers, revenue: ab.treatment.revenue, discountSpent: ab.treatment.discountRedeemed },
      { arm: c, customers: ab.control.customers, revenue: ab.control.revenue, discountSpent: ab.control.discountRedeemed },
    ],
    byRate: ab.couponsByRate.flatMap((row, k) => [
      { arm: t, discount: row.discount, coupons: row.treatment, revenue: ab.revenueByRate[k].treatment },
      { arm: c, discount: row.discount, coupons: row.control, revenue: ab.revenueByRate[k].control },
    ]),
    lift: ab.revenueUplift / 100,
    pValue: ab.regression.pValueOneSided,
  };
}

/** Correlations by memory and the Table 2 percent changes. */
export function referenceEffectsFromEvidence(evidence: ReferenceEvidence): ReferenceEffectsData {
  const pctList = (xs: number[]) => xs.map((x) => `${Math.round(100 * x)}%`).join(', ');
  return {
    correlations: evidence.correlations.map((c) => ({ memory: c.memory, correlation: c.maxReference, averageCorrelation: c.averageReference })),
    monotonicity: evidence.table2.flatMap((r) => [
      { today: `small today (${pctList(evidence.small)})`, memory: r.memory, percentChange: r.smallToday.percentChange },
      { today: `large today (${pctList(evidence.large)})`, memory: r.memory, percentChange: r.largeToday.percentChange },
    ]),
  };
}

/** Solved cycle problems, each with a label and its inputs. */
export function cyclesFromSolutions(items: ReadonlyArray<{ label: string; prices: readonly number[]; memory: number; result: SolvedCycle }>): CyclesData {
  return {
    results: items.map(({ label, prices, memory, result }) => ({
      label, prices: [...prices], memory, averageGain: result.averageGain, generator: result.generator ? [...result.generator] : null,
      cycle: [...result.cycle], method: result.method, monotone: result.monotone,
    })),
  };
}
