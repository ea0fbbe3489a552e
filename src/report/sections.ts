// The report's sections: one small data interface per section (plain numbers, as the domain code
// and the results JSON hold them), a Vega-Lite spec builder per plot, and a section builder that
// turns the data into tables, plots and captions for src/report/html.ts.
import { stars } from './text.js';
import type { ReportSection, TableCell } from './html.js';
import type { VegaLiteSpec } from './vega.js';

// ---------------------------------------------------------------------------------------------
// Shared pieces

/** One histogram bin [start, end) and how many observations fell in it. */
export interface HistogramBin {
  start: number;
  end: number;
  count: number;
}

/**
 * Equal-width histogram of `values` over [lo, hi] (default: the data's range); values outside
 * the range are counted in `below` / `above` rather than dropped silently.
 */
export function histogram(values: ArrayLike<number>, binCount = 30, range?: readonly [number, number]): { bins: HistogramBin[]; below: number; above: number } {
  let lo = range?.[0] ?? Infinity;
  let hi = range?.[1] ?? -Infinity;
  if (!range) {
    for (let i = 0; i < values.length; i++) {
      if (values[i] < lo) lo = values[i];
      if (values[i] > hi) hi = values[i];
    }
  }
  if (!(lo <= hi)) return { bins: [], below: 0, above: 0 };
  if (lo === hi) hi = lo + 1;
  const width = (hi - lo) / binCount;
  const counts = new Array<number>(binCount).fill(0);
  let below = 0, above = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < lo) below++;
    else if (v > hi) above++;
    else counts[Math.min(binCount - 1, Math.floor((v - lo) / width))]++;
  }
  return { bins: counts.map((count, k) => ({ start: lo + k * width, end: k === binCount - 1 ? hi : lo + (k + 1) * width, count })), below, above };
}

/** Two-sided normal p-value of z (erfc by Numerical Recipes' erfcc, relative error < 1.2e-7): enough for stars. */
export function twoSidedPValue(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return Math.min(1, erfc);
}

/** A number with `digits` decimals, thousands separated, minus sign as in print. */
export function fmt(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return '–';
  if (Math.abs(x) < 0.5 * 10 ** -digits) x = 0; // no "−0.000"
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }).replace(/^-/, '−');
}

export function pct(x: number, digits = 1): string {
  return `${fmt(100 * x, digits)}%`;
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');

// ---------------------------------------------------------------------------------------------
// 1. Simulated data against the slides' summary table

export interface SummaryRates {
  shareRate: number;
  purchaseRate: number;
  referralsPerCustomer?: number;
}

/** One price group of the summary table: the simulated figures and, optionally, the slides'. */
export interface SummaryRow extends SummaryRates {
  price: number;
  markets: number;
  customers: number;
  wholesaleCost?: number;
  /** The slides' figures for the same price group. */
  target?: SummaryRates;
}

export interface SummaryComparison {
  rows: SummaryRow[];
  /** Where the targets come from (default: the slides' summary statistics). */
  targetLabel?: string;
}

export function summaryPlotSpec(data: SummaryComparison): VegaLiteSpec {
  const target = data.targetLabel ?? 'slides';
  const values = data.rows.flatMap((r) => [
    { price: r.price, measure: 'propensity to share', source: 'simulated', value: r.shareRate },
    { price: r.price, measure: 'propensity to purchase', source: 'simulated', value: r.purchaseRate },
    ...(r.target ? [
      { price: r.price, measure: 'propensity to share', source: target, value: r.target.shareRate },
      { price: r.price, measure: 'propensity to purchase', source: target, value: r.target.purchaseRate },
    ] : []),
  ]);
  return {
    data: { values },
    facet: { column: { field: 'measure', type: 'nominal', title: null, sort: ['propensity to share', 'propensity to purchase'] } },
    spec: {
      width: 300,
      height: 220,
      layer: [
        { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x: { field: 'price', type: 'quantitative', title: 'post-discount price (CNY)', scale: { zero: false } }, y: { field: 'value', type: 'quantitative', title: 'rate', axis: { format: '.0%' } }, color: { field: 'source', type: 'nominal', title: null }, strokeDash: { field: 'source', type: 'nominal', title: null } } },
        { mark: { type: 'point', filled: true, size: 60 }, encoding: { x: { field: 'price', type: 'quantitative' }, y: { field: 'value', type: 'quantitative' }, color: { field: 'source', type: 'nominal', title: null }, shape: { field: 'source', type: 'nominal', title: null } } },
      ],
    },
  } as VegaLiteSpec;
}

export function summarySection(data: SummaryComparison): ReportSection {
  const target = data.targetLabel ?? 'slides';
  const pair = (sim: number, tgt: number | undefined, digits: number): TableCell =>
    ({ text: fmt(sim, digits), detail: tgt === undefined ? undefined : `${target} ${fmt(tgt, digits)}` });
  const withReferrals = data.rows.some((r) => r.referralsPerCustomer !== undefined);
  const total = data.rows.reduce((acc, r) => ({ markets: acc.markets + r.markets, customers: acc.customers + r.customers }), { markets: 0, customers: 0 });
  const weighted = (f: (r: SummaryRow) => number | undefined) => data.rows.reduce((s, r) => s + (f(r) ?? 0) * r.customers, 0) / Math.max(1, total.customers);
  const rows: TableCell[][] = data.rows.map((r) => [
    String(r.price), count(r.markets), count(r.customers), r.wholesaleCost === undefined ? '' : fmt(r.wholesaleCost, 1),
    pair(r.shareRate, r.target?.shareRate, 3), pair(r.purchaseRate, r.target?.purchaseRate, 3),
    ...(withReferrals ? [pair(r.referralsPerCustomer ?? NaN, r.target?.referralsPerCustomer, 3)] : []),
  ]);
  const hasTargets = data.rows.every((r) => r.target);
  rows.push([
    { text: 'Total', emphasis: true }, count(total.markets), count(total.customers), '',
    pair(weighted((r) => r.shareRate), hasTargets ? weighted((r) => r.target!.shareRate) : undefined, 3),
    pair(weighted((r) => r.purchaseRate), hasTargets ? weighted((r) => r.target!.purchaseRate) : undefined, 3),
    ...(withReferrals ? [pair(weighted((r) => r.referralsPerCustomer), hasTargets && data.rows.every((r) => r.target!.referralsPerCustomer !== undefined) ? weighted((r) => r.target!.referralsPerCustomer) : undefined, 3)] : []),
  ]);
  return {
    id: 'summary',
    title: 'Simulated data against the summary statistics',
    intro: `Propensities to share and to purchase per post-discount price group in the simulated experiment, with the ${target}' figures beneath each.`,
    blocks: [
      {
        kind: 'table',
        caption: `Summary statistics by post-discount price: simulated (${target} beneath).`,
        header: ['Price (CNY)', 'Markets', 'Focal customers', 'Wholesale cost', 'Propensity to share', 'Propensity to purchase', ...(withReferrals ? ['Referrals per customer'] : [])],
        rows,
        note: 'Totals are customer-weighted averages.',
      },
      { kind: 'plot', id: 'summary-rates', caption: `Propensities to share and to purchase by price: simulated against the ${target}.`, spec: summaryPlotSpec(data) },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Estimate tables

export interface EstimateCell {
  estimate: number;
  se?: number;
  /** The true value, when the data were simulated. */
  truth?: number;
}

export interface EstimateTable {
  title: string;
  /** Column headings after the parameter column, e.g. ["Estimate"] or the four interactions. */
  columns: string[];
  rows: Array<{ parameter: string; cells: Array<EstimateCell | null> }>;
}

export interface EstimatesData {
  tables: EstimateTable[];
  /** Facts about the fit: objective, iterations, converged… shown as a small table. */
  diagnostics?: Array<{ name: string; value: string | number }>;
}

/** Decimals enough to show small coefficients (price sensitivities are ~0.001), as the slides do. */
export function digitsFor(values: readonly number[]): number {
  const big = Math.max(0, ...values.map((v) => Math.abs(v)).filter(Number.isFinite));
  return big >= 0.1 ? 3 : big >= 0.01 ? 4 : 5;
}

/** "0.790***" with "(0.062)" beneath, stars from the two-sided normal p-value of estimate/SE. */
export function estimateCell(cell: EstimateCell | null, digits = 3): TableCell {
  if (!cell) return '';
  const hasSe = cell.se !== undefined && cell.se > 0;
  const mark = hasSe ? stars(twoSidedPValue(cell.estimate / cell.se!)) : '';
  const details = [hasSe ? `(${fmt(cell.se!, digits)})` : '', cell.truth !== undefined ? `true ${fmt(cell.truth, digits)}` : ''].filter(Boolean);
  return { text: `${fmt(cell.estimate, digits)}${mark}`, detail: details.length ? details.join(' ') : undefined };
}

/** Standardized errors (estimate − truth)/SE of every cell with both: a recovery check. */
export function estimateRecoverySpec(data: EstimatesData): VegaLiteSpec | undefined {
  const values = data.tables.flatMap((t) => t.rows.flatMap((r) => r.cells.flatMap((c, j) =>
    c && c.truth !== undefined && c.se !== undefined && c.se > 0
      ? [{ group: t.columns.length > 1 ? t.columns[j] : t.title.replace(/^parameter estimates:\s*/i, ''), parameter: r.parameter, z: (c.estimate - c.truth) / c.se }]
      : [])));
  if (values.length === 0) return undefined;
  const zMax = Math.max(3, ...values.map((v) => Math.abs(v.z)));
  return {
    width: 520,
    height: { step: 26 },
    layer: [
      { data: { values: [{ lo: -1.96, hi: 1.96 }] }, mark: { type: 'rect', color: '#e8f0f8' }, encoding: { x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
      { data: { values: [{ z: 0 }] }, mark: { type: 'rule', color: '#888' }, encoding: { x: { field: 'z', type: 'quantitative' } } },
      {
        data: { values },
        mark: { type: 'tick', thickness: 2, size: 16 },
        encoding: {
          x: { field: 'z', type: 'quantitative', title: '(estimate − true value) / standard error', scale: { domain: [-zMax, zMax] } },
          y: { field: 'group', type: 'nominal', title: null, axis: { labelLimit: 320 } },
          color: { field: 'group', type: 'nominal', legend: null },
          tooltip: [{ field: 'parameter' }, { field: 'z', format: '.2f' }],
        },
      },
    ],
  } as VegaLiteSpec;
}

export function estimatesSection(data: EstimatesData): ReportSection {
  const blocks: ReportSection['blocks'] = data.tables.map((t) => ({
    kind: 'table' as const,
    caption: t.title,
    header: ['Parameter', ...t.columns],
    // Multi-column tables share decimals per column; a one-column table (the market constants,
    // of very different sizes) picks them per cell.
    rows: t.rows.map((r) => [r.parameter, ...t.columns.map((_c, j) => {
      const cell = r.cells[j] ?? null;
      const digits = t.columns.length > 1 ? digitsFor(t.rows.map((x) => x.cells[j]?.estimate ?? 0)) : digitsFor([cell?.estimate ?? 0]);
      return estimateCell(cell, digits);
    })]),
    note: 'Standard errors in parentheses. * p < 0.1; ** p < 0.05; *** p < 0.01.',
  }));
  if (data.diagnostics?.length) {
    const show = (v: number) => (Number.isInteger(v) ? count(v) : Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6 ? String(Number(v.toPrecision(4))) : v.toExponential(3));
    blocks.push({ kind: 'table', caption: 'Estimation diagnostics.', header: ['', 'Value'], rows: data.diagnostics.map((d) => [d.name, typeof d.value === 'number' ? show(d.value) : d.value]) });
  }
  const recovery = estimateRecoverySpec(data);
  if (recovery) {
    blocks.push({ kind: 'plot', id: 'estimate-recovery', caption: 'Recovery of the true parameters: each tick is one parameter\'s (estimate − truth)/SE; the band marks ±1.96, where about 95% of ticks should fall.', spec: recovery });
  }
  return {
    id: 'estimates',
    title: 'Parameter estimates',
    intro: 'Sequential GMM estimates of the sharing model with standard errors that account for the sequential steps, laid out as the slides\' two estimate tables.',
    blocks,
  };
}

// ---------------------------------------------------------------------------------------------
// 3. Scheme profits

export const SCHEME_ORDER = ['UNS', 'US', 'UP', 'PNS', 'PS', 'PP'] as const;

const SCHEME_WORDS: Record<string, [string, string]> = {
  UNS: ['uniform', 'no one shares'], US: ['uniform', 'everyone shares'], UP: ['uniform', 'personalized'],
  PNS: ['personalized', 'no one shares'], PS: ['personalized', 'everyone shares'], PP: ['personalized', 'personalized'],
};

export interface SchemeProfit {
  /** UNS, US, UP, PNS, PS or PP (other names are shown as given). */
  scheme: string;
  /** Average profit per customer. */
  profit: number;
  /** Delta-method standard error of the average profit. */
  se?: number;
}

export interface SchemeProfitsData {
  schemes: SchemeProfit[];
  /** Scheme that lifts are measured against (default UNS). */
  baseline?: string;
  /** Share of customers assigned s = 1 under PP. */
  socialShare?: number;
  /** Lead value L used. */
  leadValue?: number;
}

/** Colour domain of the pricing kinds present (uniform and personalized always, in that order). */
function pricingDomain(values: ReadonlyArray<{ pricing: string }>): string[] {
  return ['uniform', 'personalized', ...(values.some((v) => v.pricing === 'other') ? ['other'] : [])];
}

function sortSchemes<T extends { scheme: string }>(rows: readonly T[]): T[] {
  const rank = (s: string) => {
    const k = (SCHEME_ORDER as readonly string[]).indexOf(s);
    return k < 0 ? SCHEME_ORDER.length : k;
  };
  return [...rows].sort((a, b) => rank(a.scheme) - rank(b.scheme));
}

export function schemeProfitSpec(data: SchemeProfitsData): VegaLiteSpec {
  const values = sortSchemes(data.schemes).map((s) => ({
    scheme: s.scheme, profit: s.profit, lo: s.se === undefined ? s.profit : s.profit - 1.96 * s.se, hi: s.se === undefined ? s.profit : s.profit + 1.96 * s.se,
    pricing: SCHEME_WORDS[s.scheme]?.[0] ?? 'other',
  }));
  return {
    data: { values },
    width: 420,
    height: 260,
    encoding: { x: { field: 'scheme', type: 'nominal', sort: null, title: 'scheme', axis: { labelAngle: 0 } } },
    layer: [
      { mark: { type: 'bar', width: { band: 0.6 } }, encoding: { y: { field: 'profit', type: 'quantitative', title: 'profit per customer (CNY)' }, color: { field: 'pricing', type: 'nominal', title: 'price', scale: { domain: pricingDomain(values) } } } },
      { mark: { type: 'rule', strokeWidth: 1.5, color: '#333' }, encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
      { mark: { type: 'text', dy: -10, fontSize: 11 }, encoding: { y: { field: 'hi', type: 'quantitative' }, text: { field: 'profit', type: 'quantitative', format: '.2f' } } },
    ],
  } as VegaLiteSpec;
}

export function schemeSection(data: SchemeProfitsData): ReportSection {
  const baselineName = data.baseline ?? 'UNS';
  const baseline = data.schemes.find((s) => s.scheme === baselineName);
  const withSe = data.schemes.some((s) => s.se !== undefined);
  const rows: TableCell[][] = sortSchemes(data.schemes).map((s) => [
    s.scheme, SCHEME_WORDS[s.scheme]?.[0] ?? '', SCHEME_WORDS[s.scheme]?.[1] ?? '',
    fmt(s.profit, 3), ...(withSe ? [s.se === undefined ? '' : fmt(s.se, 3)] : []),
    baseline ? pct(s.profit / baseline.profit - 1) : '',
  ]);
  const facts: string[] = [];
  if (data.socialShare !== undefined) facts.push(`Under PP, ${pct(data.socialShare)} of customers are assigned the sharing requirement (s = 1).`);
  if (data.leadValue !== undefined) facts.push(`Lead value L = ${fmt(data.leadValue, 2)}.`);
  return {
    id: 'schemes',
    title: 'Profit under the six personalization schemes',
    intro: 'Average profit per customer when the price is uniform per market (U) or personalized (P), and the sharing requirement is imposed on no one (NS), on everyone (S) or personalized (P).',
    blocks: [
      {
        kind: 'table',
        caption: `Average profit per customer by scheme, with lift over ${baselineName}.`,
        header: ['Scheme', 'Price', 'Sharing requirement', 'Profit per customer', ...(withSe ? ['SE'] : []), `Lift over ${baselineName}`],
        rows,
        note: withSe ? 'Standard errors by the delta method.' : undefined,
      },
      ...(facts.length ? [{ kind: 'text' as const, text: facts.join(' ') }] : []),
      { kind: 'plot', id: 'scheme-profits', caption: `Average profit per customer by scheme${withSe ? '; whiskers span ±1.96 standard errors' : ''}.`, spec: schemeProfitSpec(data) },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// 4. Optimal price distributions by scheme

export interface PriceDistribution {
  scheme: string;
  /** Customers (or markets, for uniform schemes weighted by customers) at each optimal price. */
  counts: Array<{ price: number; customers: number }>;
}

export function priceDistributionSpec(data: readonly PriceDistribution[]): VegaLiteSpec {
  const values = sortSchemes(data).flatMap((d) => {
    const total = d.counts.reduce((s, c) => s + c.customers, 0) || 1;
    return d.counts.filter((c) => c.customers > 0).map((c) => ({ scheme: d.scheme, price: c.price, share: c.customers / total, pricing: SCHEME_WORDS[d.scheme]?.[0] ?? 'other' }));
  });
  return {
    data: { values },
    facet: { row: { field: 'scheme', type: 'nominal', title: null, sort: sortSchemes(data).map((d) => d.scheme), header: { labelAngle: 0, labelAlign: 'left' } } },
    spec: {
      width: 560,
      height: 90,
      mark: { type: 'bar', width: 4 },
      encoding: {
        x: { field: 'price', type: 'quantitative', title: 'optimal post-discount price (CNY)' },
        y: { field: 'share', type: 'quantitative', title: 'share', axis: { format: '.0%', tickCount: 3 } },
        color: { field: 'pricing', type: 'nominal', legend: null, scale: { domain: pricingDomain(values) } },
      },
    },
    resolve: { scale: { y: 'independent' } },
  } as VegaLiteSpec;
}

export function priceDistributionSection(data: readonly PriceDistribution[]): ReportSection {
  const rows: TableCell[][] = sortSchemes(data).map((d) => {
    const total = d.counts.reduce((s, c) => s + c.customers, 0);
    const mean = d.counts.reduce((s, c) => s + c.price * c.customers, 0) / Math.max(1, total);
    const sorted = [...d.counts].filter((c) => c.customers > 0).sort((a, b) => a.price - b.price);
    let acc = 0;
    const median = sorted.find((c) => (acc += c.customers) >= total / 2)?.price ?? NaN;
    const mode = sorted.reduce((m, c) => (c.customers > m.customers ? c : m), { price: NaN, customers: -1 }).price;
    return [d.scheme, count(total), fmt(mean, 1), String(median), String(mode), String(sorted.length)];
  });
  return {
    id: 'prices',
    title: 'Optimal prices by scheme',
    intro: 'How the optimal post-discount prices spread across customers under each scheme (feasible prices end in 5, 8 or 9).',
    blocks: [
      { kind: 'table', caption: 'Optimal prices by scheme.', header: ['Scheme', 'Customers', 'Mean price', 'Median', 'Most common', 'Distinct prices'], rows },
      { kind: 'plot', id: 'price-distributions', caption: 'Distribution of optimal post-discount prices across customers, one panel per scheme.', spec: priceDistributionSpec(data) },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// 5. γ-sensitivity

export interface GammaSensitivityPoint {
  /** Ratio of the actual lead value to the estimate, L = γ·L̂. */
  gamma: number;
  /** Π^PP(γ) / max(Π^US(γ), Π^UNS(γ)) − 1. */
  lift: number;
  lower?: number;
  upper?: number;
}

export interface GammaSensitivityData {
  points: GammaSensitivityPoint[];
  /** Coverage of the band (default 0.9). */
  level?: number;
}

export function gammaSensitivitySpec(data: GammaSensitivityData): VegaLiteSpec {
  const values = [...data.points].sort((a, b) => a.gamma - b.gamma).map((p) => ({ gamma: p.gamma, lift: p.lift, lower: p.lower ?? p.lift, upper: p.upper ?? p.lift }));
  return {
    data: { values },
    width: 520,
    height: 280,
    encoding: { x: { field: 'gamma', type: 'quantitative', title: 'γ = actual lead value / estimated lead value' } },
    layer: [
      { mark: { type: 'area', opacity: 0.25, color: '#4c78a8' }, encoding: { y: { field: 'lower', type: 'quantitative', title: 'lift of PP over best uniform', axis: { format: '.0%' } }, y2: { field: 'upper' } } },
      { mark: { type: 'line', color: '#4c78a8', strokeWidth: 2, point: { size: 20, color: '#4c78a8' } }, encoding: { y: { field: 'lift', type: 'quantitative' } } },
      { data: { values: [{ gamma: 1 }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { x: { field: 'gamma', type: 'quantitative' } } },
    ],
  } as VegaLiteSpec;
}

export function gammaSensitivitySection(data: GammaSensitivityData): ReportSection {
  const level = data.level ?? 0.9;
  const at1 = data.points.reduce((best, p) => (Math.abs(p.gamma - 1) < Math.abs(best.gamma - 1) ? p : best), data.points[0]);
  return {
    id: 'sensitivity',
    title: 'Sensitivity to the lead value',
    intro: 'If the true lead value is γ times the estimate, how much integrated personalization (PP) gains over the better of the two uniform schemes (US, UNS).',
    blocks: [
      ...(at1 ? [{ kind: 'text' as const, text: `At γ = ${fmt(at1.gamma, 2)} the lift is ${pct(at1.lift)}${at1.lower !== undefined && at1.upper !== undefined ? ` (${Math.round(100 * level)}% band ${pct(at1.lower)} to ${pct(at1.upper)})` : ''}.` }] : []),
      { kind: 'plot', id: 'gamma-sensitivity', caption: `Profit lift Π^PP(γ)/max(Π^US(γ), Π^UNS(γ)) − 1 against γ, with its ${Math.round(100 * level)}% band; the dashed line marks the estimate (γ = 1).`, spec: gammaSensitivitySpec(data) },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// 6. Heterogeneity histograms

export interface HistogramData {
  /** What is distributed, short (a panel title), e.g. "sharing cost SC_i". */
  name: string;
  /** How the quantity is defined or scaled (shown in the table). */
  definition?: string;
  bins: HistogramBin[];
  mean?: number;
  sd?: number;
}

export interface HeterogeneityData {
  histograms: HistogramData[];
}

export function heterogeneitySpec(data: HeterogeneityData): VegaLiteSpec {
  const values = data.histograms.flatMap((h) => h.bins.map((b) => ({ name: h.name, start: b.start, end: b.end, count: b.count })));
  return {
    data: { values },
    facet: { field: 'name', type: 'nominal', title: null, sort: data.histograms.map((h) => h.name) },
    columns: 2,
    spec: {
      width: 300,
      height: 160,
      mark: { type: 'bar', color: '#72b7b2', stroke: 'white', strokeWidth: 0.5 },
      encoding: {
        x: { field: 'start', type: 'quantitative', title: null, bin: { binned: true } },
        x2: { field: 'end' },
        y: { field: 'count', type: 'quantitative', title: 'customers' },
      },
    },
    resolve: { scale: { x: 'independent', y: 'independent' } },
  } as VegaLiteSpec;
}

export function heterogeneitySection(data: HeterogeneityData): ReportSection {
  const withDefinitions = data.histograms.some((h) => h.definition);
  const rows: TableCell[][] = data.histograms.map((h) => {
    const total = h.bins.reduce((s, b) => s + b.count, 0);
    return [h.name, ...(withDefinitions ? [h.definition ?? ''] : []), count(total), h.mean === undefined ? '' : fmt(h.mean, 3), h.sd === undefined ? '' : fmt(h.sd, 3)];
  });
  return {
    id: 'heterogeneity',
    title: 'Customer heterogeneity',
    intro: 'How the customer-level primitives implied by the estimates vary across customers.',
    blocks: [
      { kind: 'table', caption: 'Customer-level primitives.', header: ['Quantity', ...(withDefinitions ? ['Definition'] : []), 'Customers', 'Mean', 'SD'], rows },
      { kind: 'plot', id: 'heterogeneity', caption: 'Histograms of the customer-level primitives (each panel on its own scale).', spec: heterogeneitySpec(data) },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// 7. Acquisition costs against L

export interface AcquisitionCostData {
  /** Histogram of AC_i (customers with no expected leads have no AC and are left out). */
  bins: HistogramBin[];
  /** The lead value L: customers with AC_i ≤ L are better assigned s = 1. */
  leadValue: number;
  /** Customers beyond the histogram's range, on either side. */
  below?: number;
  above?: number;
}

export function acquisitionCostSpec(data: AcquisitionCostData): VegaLiteSpec {
  const values = data.bins.map((b) => ({ start: b.start, end: b.end, count: b.count, side: b.end <= data.leadValue ? 'AC ≤ L: require sharing' : 'AC > L: no requirement' }));
  return {
    width: 560,
    height: 260,
    layer: [
      {
        data: { values },
        mark: { type: 'bar', stroke: 'white', strokeWidth: 0.5 },
        encoding: {
          x: { field: 'start', type: 'quantitative', bin: { binned: true }, title: 'acquisition cost of a lead AC_i (CNY)' },
          x2: { field: 'end' },
          y: { field: 'count', type: 'quantitative', title: 'customers' },
          color: { field: 'side', type: 'nominal', title: null, scale: { domain: ['AC ≤ L: require sharing', 'AC > L: no requirement'], range: ['#54a24b', '#bab0ac'] } },
        },
      },
      { data: { values: [{ L: data.leadValue, label: `L = ${fmt(data.leadValue, 1)}` }] }, mark: { type: 'rule', color: '#e45756', strokeWidth: 2 }, encoding: { x: { field: 'L', type: 'quantitative' } } },
      { data: { values: [{ L: data.leadValue, label: `L = ${fmt(data.leadValue, 1)}` }] }, mark: { type: 'text', align: 'left', dx: 4, dy: 8, color: '#e45756', fontSize: 12 }, encoding: { x: { field: 'L', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } } },
    ],
  } as VegaLiteSpec;
}

export function acquisitionCostSection(data: AcquisitionCostData): ReportSection {
  const inRange = data.bins.reduce((s, b) => s + b.count, 0);
  const total = inRange + (data.below ?? 0) + (data.above ?? 0);
  const cheap = data.bins.reduce((s, b) => s + (b.end <= data.leadValue ? b.count : 0), 0) + (data.below ?? 0);
  return {
    id: 'acquisition',
    title: 'Acquisition costs of leads against their value',
    intro: 'AC_i is the profit given up on customer i by requiring sharing, per expected lead; requiring sharing pays exactly when AC_i ≤ L.',
    blocks: [
      { kind: 'text', text: `${pct(cheap / Math.max(1, total))} of ${count(total)} customers have AC_i ≤ L = ${fmt(data.leadValue, 2)}${data.below || data.above ? ` (${count(data.below ?? 0)} below and ${count(data.above ?? 0)} above the plotted range)` : ''}.` },
      { kind: 'plot', id: 'acquisition-costs', caption: 'Distribution of customers\' acquisition costs per lead; the red line marks the lead value L.', spec: acquisitionCostSpec(data) },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// 8. A/B test of the coupon policies

export interface AbArm {
  /** e.g. "treatment (personalized)" or "control (incumbent)". */
  arm: string;
  customers: number;
  /** Total expected (or realized) revenue. */
  revenue: number;
  /** Total discount redeemed. */
  discountSpent?: number;
}

export interface AbRateRow {
  arm: string;
  /** Discount rate, e.g. 0.15. */
  discount: number;
  /** Coupons offered at this rate over the test (customer-days). */
  coupons: number;
  /** Revenue from purchases made with those coupons. */
  revenue: number;
}

export interface AbTestData {
  arms: AbArm[];
  byRate: AbRateRow[];
  /** Relative revenue lift of the first arm over the second. */
  lift?: number;
  pValue?: number;
  budget?: number;
}

export function couponMixSpec(data: AbTestData): VegaLiteSpec {
  const totals = new Map<string, number>();
  for (const r of data.byRate) totals.set(r.arm, (totals.get(r.arm) ?? 0) + r.coupons);
  return byRateBars(data, (r) => ({ share: r.coupons / (totals.get(r.arm) || 1) }),
    { field: 'share', type: 'quantitative', title: 'share of coupons', axis: { format: '.0%' } });
}

export function revenueByRateSpec(data: AbTestData): VegaLiteSpec {
  return byRateBars(data, (r) => ({ revenuePerCoupon: r.coupons > 0 ? r.revenue / r.coupons : 0 }),
    { field: 'revenuePerCoupon', type: 'quantitative', title: 'revenue per coupon' });
}

/** Bars by coupon rate, one per arm side by side: the A/B section's two plots differ only in y. */
function byRateBars(data: AbTestData, measure: (row: AbTestData['byRate'][number]) => Record<string, number>, y: Record<string, unknown>): VegaLiteSpec {
  const values = data.byRate.map((r) => ({ arm: r.arm, discount: `${fmt(100 * r.discount, 0)}%`, rate: r.discount, ...measure(r) }));
  return {
    data: { values },
    width: 460,
    height: 240,
    mark: 'bar',
    encoding: {
      x: { field: 'discount', type: 'ordinal', sort: { field: 'rate' }, title: 'discount', axis: { labelAngle: 0 } },
      xOffset: { field: 'arm', type: 'nominal', sort: data.arms.map((a) => a.arm) },
      y,
      color: { field: 'arm', type: 'nominal', title: null, scale: { domain: data.arms.map((a) => a.arm) } },
    },
  } as VegaLiteSpec;
}

export function abTestSection(data: AbTestData): ReportSection {
  const first = data.arms[0];
  const rows: TableCell[][] = data.arms.map((a) => [
    a.arm, count(a.customers), fmt(a.revenue, 1), fmt(a.revenue / Math.max(1, a.customers), 4),
    a.discountSpent === undefined ? '' : fmt(a.discountSpent, 1),
    a === first || !first ? '' : pct((first.revenue / first.customers) / (a.revenue / a.customers) - 1),
  ]);
  const facts: string[] = [];
  if (data.lift !== undefined) facts.push(`Revenue per customer is ${pct(data.lift)} higher under ${first?.arm ?? 'the first arm'}${data.pValue !== undefined ? ` (one-sided p = ${data.pValue < 1e-4 ? data.pValue.toExponential(1) : fmt(data.pValue, 4)})` : ''}.`);
  if (data.budget !== undefined) facts.push(`Both arms spend the same budget of ${fmt(data.budget, 1)} in expected discounts.`);
  return {
    id: 'abtest',
    title: 'A/B test: personalized coupons against the incumbent',
    intro: 'A simulated A/B test at equal budget: the shadow-price policy against an incumbent that assigns coupon mixes to coarse clusters.',
    blocks: [
      { kind: 'table', caption: 'Revenue by arm.', header: ['Arm', 'Customers', 'Revenue', 'Revenue per customer', 'Discount spent', `Lift of ${first?.arm ?? 'first arm'}`], rows },
      ...(facts.length ? [{ kind: 'text' as const, text: facts.join(' ') }] : []),
      { kind: 'plot', id: 'coupon-mix', caption: 'Coupon mix: share of each arm\'s coupons (customer-days) at each discount.', spec: couponMixSpec(data) },
      { kind: 'plot', id: 'revenue-by-rate', caption: 'Revenue per coupon offered, by discount, per arm.', spec: revenueByRateSpec(data) },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// 9. Reference effects by memory

export interface ReferenceCorrelation {
  /** Memory length (days). */
  memory: number;
  /** Correlation of the max-over-memory reference discount with purchase. */
  correlation: number;
  /** The same with the average of the remembered discounts as the reference. */
  averageCorrelation?: number;
}

export interface ReferenceMonotonicityRow {
  /** Today's discount group, e.g. "small (10–12%)". */
  today: string;
  memory: number;
  /** Percent change in purchase rate when the reference is small instead of large. */
  percentChange: number;
}

export interface ReferenceEffectsData {
  correlations: ReferenceCorrelation[];
  monotonicity?: ReferenceMonotonicityRow[];
}

export function referenceCorrelationSpec(data: ReferenceEffectsData): VegaLiteSpec {
  const values = data.correlations.flatMap((c) => [
    { memory: c.memory, reference: 'maximum over memory', correlation: c.correlation },
    ...(c.averageCorrelation === undefined ? [] : [{ memory: c.memory, reference: 'average over memory', correlation: c.averageCorrelation }]),
  ]);
  return {
    width: 460,
    height: 260,
    layer: [
      { data: { values: [{ y: 0 }] }, mark: { type: 'rule', color: '#888' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
      {
        data: { values },
        mark: { type: 'line', point: true, strokeWidth: 2 },
        encoding: {
          x: { field: 'memory', type: 'quantitative', title: 'memory length (days)', axis: { tickMinStep: 1 } },
          y: { field: 'correlation', type: 'quantitative', title: 'correlation with purchase' },
          color: { field: 'reference', type: 'nominal', title: 'reference' },
        },
      },
    ],
  } as VegaLiteSpec;
}

export function referenceEffectsSection(data: ReferenceEffectsData): ReportSection {
  const blocks: ReportSection['blocks'] = [
    { kind: 'plot', id: 'reference-correlations', caption: 'Correlation between the reference discount and purchase by memory length: the maximum-based reference against the average-based one.', spec: referenceCorrelationSpec(data) },
  ];
  if (data.monotonicity?.length) {
    const memories = [...new Set(data.monotonicity.map((r) => r.memory))].sort((a, b) => a - b);
    const groups = [...new Set(data.monotonicity.map((r) => r.today))];
    blocks.push({
      kind: 'table',
      caption: 'Percent change in purchase rate when the reference discount is small instead of large (the paper\'s Table 2).',
      header: ['Today\'s discount', ...memories.map((m) => `L = ${m}`)],
      rows: groups.map((g) => [g, ...memories.map((m) => {
        const r = data.monotonicity!.find((x) => x.today === g && x.memory === m);
        return r ? `${fmt(r.percentChange, 1)}%` : '';
      })]),
      note: 'Positive entries support reference-monotonicity: purchase is likelier when the remembered best discount is smaller.',
    });
  }
  return {
    id: 'reference',
    title: 'Reference effects in coupon response',
    intro: 'Evidence from randomized coupons: a bigger recent-best discount goes with a lower propensity to purchase.',
    blocks,
  };
}

// ---------------------------------------------------------------------------------------------
// 10. Optimal promotion cycles

export interface CycleResult {
  label: string;
  prices: number[];
  memory: number;
  averageGain: number;
  /** Generator cycle of distinct prices, in cycle order; null when the optimum is not L-up-1-down. */
  generator: number[] | null;
  /** One period of the prices offered. */
  cycle: number[];
  method: string;
  monotone: boolean;
}

export interface CyclesData {
  results: CycleResult[];
}

export function cyclesSpec(data: CyclesData): VegaLiteSpec {
  // Two periods of each cycle (at least 12 steps), so the L-up-1-down pattern shows.
  const values = data.results.flatMap((r) => {
    const steps = Math.max(12, 2 * r.cycle.length);
    return Array.from({ length: steps + 1 }, (_, t) => ({ label: r.label, t, price: r.cycle[t % r.cycle.length] }));
  });
  return {
    data: { values },
    facet: { row: { field: 'label', type: 'nominal', title: null, sort: data.results.map((r) => r.label), header: { labelAngle: 0, labelAlign: 'left' } } },
    spec: {
      width: 520,
      height: 90,
      layer: [
        { mark: { type: 'line', interpolate: 'step-after', color: '#4c78a8', strokeWidth: 2 } },
        { mark: { type: 'point', filled: true, color: '#4c78a8', size: 30 } },
      ],
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'period', axis: { tickMinStep: 1 } },
        y: { field: 'price', type: 'quantitative', title: 'price offered', scale: { zero: false }, axis: { format: '~f', tickCount: 4 } },
      },
    },
    resolve: { scale: { y: 'independent' } },
  } as VegaLiteSpec;
}

export function cyclesSection(data: CyclesData): ReportSection {
  const list = (xs: number[]) => xs.map((x) => fmt(x, Number.isInteger(x) ? 0 : 2)).join(' → ');
  return {
    id: 'cycles',
    title: 'Optimal promotion cycles',
    intro: 'Long-run average gain of the best price sequence when the reference is the best price within the last L periods; under reference-monotonicity the optimum is an L-up-1-down cycle of a generator cycle.',
    blocks: [
      {
        kind: 'table',
        caption: 'Optimal cycles.',
        header: ['Instance', 'Memory L', 'Prices', 'Generator', 'One period', 'Average gain', 'Method', 'Reference-monotone'],
        rows: data.results.map((r) => [r.label, String(r.memory), list(r.prices), r.generator ? list(r.generator) : '— (not L-up-1-down)', list(r.cycle), fmt(r.averageGain, 4), r.method, r.monotone ? 'yes' : 'no']),
      },
      { kind: 'plot', id: 'cycles', caption: 'Prices offered over two periods of each optimal cycle.', spec: cyclesSpec(data) },
    ],
  };
}
