// The results JSON that `promopt report` turns into HTML: every key optional, one per section.
// Parsing checks every field and names the first bad one (file: path.to.field: what is wrong).
import { promises as fs } from 'node:fs';
import { badInput } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { plotIds, renderReportHtml, type ReportDocument, type ReportSection } from './html.js';
import {
  abTestSection, acquisitionCostSection, cyclesSection, estimatesSection, gammaSensitivitySection, heterogeneitySection,
  priceDistributionSection, referenceEffectsSection, schemeSection, summarySection,
  type AbTestData, type AcquisitionCostData, type CyclesData, type EstimatesData, type GammaSensitivityData,
  type HeterogeneityData, type HistogramBin, type PriceDistribution, type ReferenceEffectsData, type SchemeProfitsData,
  type SummaryComparison,
} from './sections.js';

export interface ReportMeta {
  title?: string;
  subtitle?: string;
  /** ISO time the results were produced. */
  generatedAt?: string;
  seed?: number;
  /** Further label/value facts shown under the title. */
  facts?: Record<string, string | number>;
  /** Paragraphs shown in an opening "About this run" section. */
  notes?: string[];
}

/** Everything the report can show; a missing key leaves its section out. */
export interface ReportResults {
  meta?: ReportMeta;
  summary?: SummaryComparison;
  estimates?: EstimatesData;
  schemes?: SchemeProfitsData;
  priceDistributions?: PriceDistribution[];
  gammaSensitivity?: GammaSensitivityData;
  heterogeneity?: HeterogeneityData;
  acquisitionCosts?: AcquisitionCostData;
  abTest?: AbTestData;
  referenceEffects?: ReferenceEffectsData;
  cycles?: CyclesData;
}

export const RESULT_SECTIONS = ['summary', 'estimates', 'schemes', 'priceDistributions', 'gammaSensitivity', 'heterogeneity',
  'acquisitionCosts', 'abTest', 'referenceEffects', 'cycles'] as const;

/** The report document for a set of results: sections in a fixed order, those without data left out. */
export function buildReport(results: ReportResults): ReportDocument {
  const meta = results.meta ?? {};
  const sections: ReportSection[] = [];
  if (meta.notes?.length) sections.push({ id: 'about', title: 'About this run', blocks: [{ kind: 'text', text: meta.notes.join('\n\n') }] });
  if (results.summary) sections.push(summarySection(results.summary));
  if (results.estimates) sections.push(estimatesSection(results.estimates));
  if (results.schemes) sections.push(schemeSection(results.schemes));
  if (results.priceDistributions) sections.push(priceDistributionSection(results.priceDistributions));
  if (results.gammaSensitivity) sections.push(gammaSensitivitySection(results.gammaSensitivity));
  if (results.heterogeneity) sections.push(heterogeneitySection(results.heterogeneity));
  if (results.acquisitionCosts) sections.push(acquisitionCostSection(results.acquisitionCosts));
  if (results.abTest) sections.push(abTestSection(results.abTest));
  if (results.referenceEffects) sections.push(referenceEffectsSection(results.referenceEffects));
  if (results.cycles) sections.push(cyclesSection(results.cycles));
  const facts: Array<[string, string]> = [];
  if (meta.generatedAt) facts.push(['Generated', meta.generatedAt]);
  if (meta.seed !== undefined) facts.push(['Seed', String(meta.seed)]);
  for (const [k, v] of Object.entries(meta.facts ?? {})) facts.push([k, typeof v === 'number' ? v.toLocaleString('en-US') : v]);
  return {
    title: meta.title ?? 'promopt report',
    subtitle: meta.subtitle ?? 'Personalized promotions: price × broadcasting personalization, budgeted daily coupons and reference-effect promotion cycles.',
    facts,
    sections,
    footer: 'Made by promopt. Plots are Vega-Lite specifications rendered to SVG when the report was built; the file needs no network.',
  };
}

/** Renders results to the report's HTML. */
export async function renderReport(results: ReportResults): Promise<string> {
  return renderReportHtml(buildReport(results));
}

/** Renders results and writes the HTML file atomically; says what it holds. */
export async function writeReport(path: string, results: ReportResults): Promise<{ path: string; bytes: number; sections: string[]; plots: string[] }> {
  const doc = buildReport(results);
  const html = await renderReportHtml(doc);
  await writeFileAtomic(path, html);
  return { path, bytes: Buffer.byteLength(html), sections: doc.sections.map((x) => x.id), plots: plotIds(doc) };
}

/** Reads and checks a results JSON file. */
export async function readReportResults(path: string): Promise<ReportResults> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw badInput(code === 'ENOENT' ? `${path}: no such file` : `${path}: cannot read (${code ?? String(error)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw badInput(`${path}: not valid JSON (${(error as Error).message.split('\n')[0]})`);
  }
  return parseReportResults(json, path);
}

// ---------------------------------------------------------------------------------------------
// Checking

class Checker {
  constructor(private readonly source: string) {}

  fail(at: string, what: string, value: unknown): never {
    const shown = value === undefined ? 'nothing' : JSON.stringify(value)?.slice(0, 40) ?? String(value);
    throw badInput(`${this.source}: ${at}: ${what}, got ${shown}`);
  }

  object(v: unknown, at: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(at, 'expected an object', v);
    return v as Record<string, unknown>;
  }

  array(v: unknown, at: string, minLength = 0): unknown[] {
    if (!Array.isArray(v)) this.fail(at, 'expected an array', v);
    if (v.length < minLength) this.fail(at, `expected at least ${minLength} entr${minLength === 1 ? 'y' : 'ies'}`, v);
    return v;
  }

  number(v: unknown, at: string, min = -Infinity, max = Infinity): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(at, 'expected a finite number', v);
    if (v < min || v > max) this.fail(at, `expected a number from ${min} to ${max}`, v);
    return v;
  }

  optionalNumber(v: unknown, at: string, min = -Infinity, max = Infinity): number | undefined {
    return v === undefined ? undefined : this.number(v, at, min, max);
  }

  string(v: unknown, at: string): string {
    if (typeof v !== 'string') this.fail(at, 'expected a string', v);
    return v;
  }

  optionalString(v: unknown, at: string): string | undefined {
    return v === undefined ? undefined : this.string(v, at);
  }

  boolean(v: unknown, at: string): boolean {
    if (typeof v !== 'boolean') this.fail(at, 'expected true or false', v);
    return v;
  }

  numbers(v: unknown, at: string, minLength = 0): number[] {
    return this.array(v, at, minLength).map((x, i) => this.number(x, `${at}[${i}]`));
  }

  bins(v: unknown, at: string): HistogramBin[] {
    return this.array(v, at, 1).map((b, i) => {
      const o = this.object(b, `${at}[${i}]`);
      const start = this.number(o.start, `${at}[${i}].start`);
      const end = this.number(o.end, `${at}[${i}].end`);
      if (!(end > start)) this.fail(`${at}[${i}].end`, 'expected end > start', end);
      return { start, end, count: this.number(o.count, `${at}[${i}].count`, 0) };
    });
  }
}

/** Checks a parsed results document; `source` names it in error messages. */
export function parseReportResults(json: unknown, source = 'results'): ReportResults {
  const c = new Checker(source);
  const root = c.object(json, '(top level)');
  const known = new Set<string>(['meta', 'version', ...RESULT_SECTIONS]);
  // Keys starting with "$" are comments ("$comment"), as in JSON Schema.
  for (const key of Object.keys(root)) {
    if (!known.has(key) && !key.startsWith('$')) c.fail(key, `unknown section (known: ${[...known].join(', ')})`, root[key]);
  }
  if (root.version !== undefined && root.version !== 1) c.fail('version', 'expected 1 (the only results format so far)', root.version);
  const out: ReportResults = {};

  if (root.meta !== undefined) {
    const m = c.object(root.meta, 'meta');
    out.meta = {
      title: c.optionalString(m.title, 'meta.title'),
      subtitle: c.optionalString(m.subtitle, 'meta.subtitle'),
      generatedAt: c.optionalString(m.generatedAt, 'meta.generatedAt'),
      seed: c.optionalNumber(m.seed, 'meta.seed'),
      notes: m.notes === undefined ? undefined : c.array(m.notes, 'meta.notes').map((n, i) => c.string(n, `meta.notes[${i}]`)),
      facts: m.facts === undefined ? undefined : Object.fromEntries(Object.entries(c.object(m.facts, 'meta.facts')).map(([k, v]) =>
        [k, typeof v === 'number' ? c.number(v, `meta.facts.${k}`) : c.string(v, `meta.facts.${k}`)])),
    };
  }

  const rates = (v: unknown, at: string) => {
    const o = c.object(v, at);
    return {
      shareRate: c.number(o.shareRate, `${at}.shareRate`, 0, 1),
      purchaseRate: c.number(o.purchaseRate, `${at}.purchaseRate`, 0, 1),
      referralsPerCustomer: c.optionalNumber(o.referralsPerCustomer, `${at}.referralsPerCustomer`, 0),
    };
  };

  if (root.summary !== undefined) {
    const s = c.object(root.summary, 'summary');
    out.summary = {
      targetLabel: c.optionalString(s.targetLabel, 'summary.targetLabel'),
      rows: c.array(s.rows, 'summary.rows', 1).map((r, i) => {
        const at = `summary.rows[${i}]`;
        const o = c.object(r, at);
        return {
          price: c.number(o.price, `${at}.price`),
          markets: c.number(o.markets, `${at}.markets`, 0),
          customers: c.number(o.customers, `${at}.customers`, 0),
          wholesaleCost: c.optionalNumber(o.wholesaleCost, `${at}.wholesaleCost`),
          ...rates(o, at),
          target: o.target === undefined ? undefined : rates(o.target, `${at}.target`),
        };
      }),
    };
  }

  if (root.estimates !== undefined) {
    const e = c.object(root.estimates, 'estimates');
    out.estimates = {
      tables: c.array(e.tables, 'estimates.tables', 1).map((t, i) => {
        const at = `estimates.tables[${i}]`;
        const o = c.object(t, at);
        const columns = c.array(o.columns, `${at}.columns`, 1).map((x, j) => c.string(x, `${at}.columns[${j}]`));
        return {
          title: c.string(o.title, `${at}.title`),
          columns,
          rows: c.array(o.rows, `${at}.rows`, 1).map((r, k) => {
            const ra = `${at}.rows[${k}]`;
            const ro = c.object(r, ra);
            const cells = c.array(ro.cells, `${ra}.cells`);
            if (cells.length !== columns.length) c.fail(`${ra}.cells`, `expected ${columns.length} cells (one per column)`, cells.length);
            return {
              parameter: c.string(ro.parameter, `${ra}.parameter`),
              cells: cells.map((cell, j) => {
                if (cell === null) return null;
                const ca = `${ra}.cells[${j}]`;
                const co = c.object(cell, ca);
                return { estimate: c.number(co.estimate, `${ca}.estimate`), se: c.optionalNumber(co.se, `${ca}.se`, 0), truth: c.optionalNumber(co.truth, `${ca}.truth`) };
              }),
            };
          }),
        };
      }),
      diagnostics: e.diagnostics === undefined ? undefined : c.array(e.diagnostics, 'estimates.diagnostics').map((d, i) => {
        const o = c.object(d, `estimates.diagnostics[${i}]`);
        return { name: c.string(o.name, `estimates.diagnostics[${i}].name`), value: typeof o.value === 'number' ? c.number(o.value, `estimates.diagnostics[${i}].value`) : c.string(o.value, `estimates.diagnostics[${i}].value`) };
      }),
    };
  }

  if (root.schemes !== undefined) {
    const s = c.object(root.schemes, 'schemes');
    const schemes = c.array(s.schemes, 'schemes.schemes', 1).map((x, i) => {
      const o = c.object(x, `schemes.schemes[${i}]`);
      return { scheme: c.string(o.scheme, `schemes.schemes[${i}].scheme`), profit: c.number(o.profit, `schemes.schemes[${i}].profit`), se: c.optionalNumber(o.se, `schemes.schemes[${i}].se`, 0) };
    });
    const baseline = c.optionalString(s.baseline, 'schemes.baseline');
    if (baseline !== undefined && !schemes.some((x) => x.scheme === baseline)) c.fail('schemes.baseline', 'expected one of the schemes listed', baseline);
    out.schemes = { schemes, baseline, socialShare: c.optionalNumber(s.socialShare, 'schemes.socialShare', 0, 1), leadValue: c.optionalNumber(s.leadValue, 'schemes.leadValue') };
  }

  if (root.priceDistributions !== undefined) {
    out.priceDistributions = c.array(root.priceDistributions, 'priceDistributions', 1).map((d, i) => {
      const at = `priceDistributions[${i}]`;
      const o = c.object(d, at);
      return {
        scheme: c.string(o.scheme, `${at}.scheme`),
        counts: c.array(o.counts, `${at}.counts`, 1).map((x, k) => {
          const co = c.object(x, `${at}.counts[${k}]`);
          return { price: c.number(co.price, `${at}.counts[${k}].price`), customers: c.number(co.customers, `${at}.counts[${k}].customers`, 0) };
        }),
      };
    });
  }

  if (root.gammaSensitivity !== undefined) {
    const g = c.object(root.gammaSensitivity, 'gammaSensitivity');
    out.gammaSensitivity = {
      level: c.optionalNumber(g.level, 'gammaSensitivity.level', 0, 1),
      points: c.array(g.points, 'gammaSensitivity.points', 2).map((p, i) => {
        const at = `gammaSensitivity.points[${i}]`;
        const o = c.object(p, at);
        const point = { gamma: c.number(o.gamma, `${at}.gamma`, 0), lift: c.number(o.lift, `${at}.lift`), lower: c.optionalNumber(o.lower, `${at}.lower`), upper: c.optionalNumber(o.upper, `${at}.upper`) };
        if (point.lower !== undefined && point.upper !== undefined && point.lower > point.upper) c.fail(`${at}.lower`, 'expected lower ≤ upper', point.lower);
        return point;
      }),
    };
  }

  if (root.heterogeneity !== undefined) {
    const h = c.object(root.heterogeneity, 'heterogeneity');
    out.heterogeneity = {
      histograms: c.array(h.histograms, 'heterogeneity.histograms', 1).map((x, i) => {
        const at = `heterogeneity.histograms[${i}]`;
        const o = c.object(x, at);
        return {
          name: c.string(o.name, `${at}.name`), definition: c.optionalString(o.definition, `${at}.definition`), bins: c.bins(o.bins, `${at}.bins`),
          mean: c.optionalNumber(o.mean, `${at}.mean`), sd: c.optionalNumber(o.sd, `${at}.sd`, 0),
        };
      }),
    };
  }

  if (root.acquisitionCosts !== undefined) {
    const a = c.object(root.acquisitionCosts, 'acquisitionCosts');
    out.acquisitionCosts = {
      bins: c.bins(a.bins, 'acquisitionCosts.bins'),
      leadValue: c.number(a.leadValue, 'acquisitionCosts.leadValue'),
      below: c.optionalNumber(a.below, 'acquisitionCosts.below', 0),
      above: c.optionalNumber(a.above, 'acquisitionCosts.above', 0),
    };
  }

  if (root.abTest !== undefined) {
    const a = c.object(root.abTest, 'abTest');
    const arms = c.array(a.arms, 'abTest.arms', 1).map((x, i) => {
      const at = `abTest.arms[${i}]`;
      const o = c.object(x, at);
      return { arm: c.string(o.arm, `${at}.arm`), customers: c.number(o.customers, `${at}.customers`, 1), revenue: c.number(o.revenue, `${at}.revenue`), discountSpent: c.optionalNumber(o.discountSpent, `${at}.discountSpent`, 0) };
    });
    const names = new Set(arms.map((x) => x.arm));
    out.abTest = {
      arms,
      byRate: c.array(a.byRate, 'abTest.byRate', 1).map((x, i) => {
        const at = `abTest.byRate[${i}]`;
        const o = c.object(x, at);
        const arm = c.string(o.arm, `${at}.arm`);
        if (!names.has(arm)) c.fail(`${at}.arm`, 'expected one of the arms listed', arm);
        return { arm, discount: c.number(o.discount, `${at}.discount`, 0, 1), coupons: c.number(o.coupons, `${at}.coupons`, 0), revenue: c.number(o.revenue, `${at}.revenue`) };
      }),
      lift: c.optionalNumber(a.lift, 'abTest.lift'),
      pValue: c.optionalNumber(a.pValue, 'abTest.pValue', 0, 1),
      budget: c.optionalNumber(a.budget, 'abTest.budget', 0),
    };
  }

  if (root.referenceEffects !== undefined) {
    const r = c.object(root.referenceEffects, 'referenceEffects');
    out.referenceEffects = {
      correlations: c.array(r.correlations, 'referenceEffects.correlations', 1).map((x, i) => {
        const at = `referenceEffects.correlations[${i}]`;
        const o = c.object(x, at);
        return { memory: c.number(o.memory, `${at}.memory`, 1), correlation: c.number(o.correlation, `${at}.correlation`, -1, 1), averageCorrelation: c.optionalNumber(o.averageCorrelation, `${at}.averageCorrelation`, -1, 1) };
      }),
      monotonicity: r.monotonicity === undefined ? undefined : c.array(r.monotonicity, 'referenceEffects.monotonicity').map((x, i) => {
        const at = `referenceEffects.monotonicity[${i}]`;
        const o = c.object(x, at);
        return { today: c.string(o.today, `${at}.today`), memory: c.number(o.memory, `${at}.memory`, 1), percentChange: c.number(o.percentChange, `${at}.percentChange`) };
      }),
    };
  }

  if (root.cycles !== undefined) {
    const y = c.object(root.cycles, 'cycles');
    out.cycles = {
      results: c.array(y.results, 'cycles.results', 1).map((x, i) => {
        const at = `cycles.results[${i}]`;
        const o = c.object(x, at);
        return {
          label: c.string(o.label, `${at}.label`),
          prices: c.numbers(o.prices, `${at}.prices`, 1),
          memory: c.number(o.memory, `${at}.memory`, 1),
          averageGain: c.number(o.averageGain, `${at}.averageGain`),
          generator: o.generator === null ? null : c.numbers(o.generator, `${at}.generator`, 1),
          cycle: c.numbers(o.cycle, `${at}.cycle`, 1),
          method: c.string(o.method, `${at}.method`),
          monotone: c.boolean(o.monotone, `${at}.monotone`),
        };
      }),
    };
  }
  return out;
}
