// Reference-effect evidence on the randomized group (paper §3.1): with coupons drawn independently
// and uniformly each day, plain correlations need no controls.
// - For memory L, the reference value of a customer-day is the largest discount of the previous L
//   days; the average-based alternative is their mean. Both are correlated with the purchase
//   indicator over the customer-days that have a full L-day memory.
// - Table 2: the percent change in the purchase rate when the reference is small (in the two
//   smallest discounts) rather than large (in the two largest), separately for small and large
//   discounts today.
import { badInput } from '../errors.js';
import { formatTable } from '../report/text.js';
import type { ReferenceEffectsData } from '../report/sections.js';

/** Customer-day rows (any order). */
export interface EvidenceRows {
  customer: ArrayLike<number>;
  day: ArrayLike<number>;
  coupon: ArrayLike<number>;
  purchased: ArrayLike<number>;
}

export interface EvidenceOptions {
  /** Memories for the correlations (default 1..14). */
  memories?: readonly number[];
  /** Memories for Table 2 (default 3, 4, 5, 7). */
  tableMemories?: readonly number[];
  /** Discounts counted as small (default the two smallest in the data). */
  small?: readonly number[];
  /** Discounts counted as large (default the two largest in the data). */
  large?: readonly number[];
}

export interface ReferenceCorrelation {
  memory: number;
  /** corr(max of the last L discounts, purchase). */
  maxReference: number;
  /** corr(mean of the last L discounts, purchase). */
  averageReference: number;
  observations: number;
}

export interface RateComparison {
  /** Purchase rate when the reference is small / large. */
  rateSmallReference: number;
  rateLargeReference: number;
  observationsSmallReference: number;
  observationsLargeReference: number;
  /** 100 · (rateSmallReference / rateLargeReference − 1). */
  percentChange: number;
}

export interface ReferenceMonotonicityRow {
  memory: number;
  smallToday: RateComparison;
  largeToday: RateComparison;
}

export interface ReferenceEvidence {
  customers: number;
  observations: number;
  small: number[];
  large: number[];
  correlations: ReferenceCorrelation[];
  table2: ReferenceMonotonicityRow[];
}

function pearson(x: ArrayLike<number>, y: ArrayLike<number>, n: number): number {
  let mx = 0, my = 0;
  for (let k = 0; k < n; k++) { mx += x[k]; my += y[k]; }
  mx /= n; my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let k = 0; k < n; k++) {
    const dx = x[k] - mx, dy = y[k] - my;
    sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

const near = (set: readonly number[], d: number) => set.some((s) => Math.abs(s - d) < 1e-9);

/** The paper's §3.1 statistics from customer-day rows of the randomized group. */
export function referenceEvidence(rows: EvidenceRows, options: EvidenceOptions = {}): ReferenceEvidence {
  const n = rows.customer.length;
  for (const [name, col] of Object.entries(rows) as [string, ArrayLike<number>][]) {
    if (col.length !== n) throw badInput(`evidence rows: ${name} has ${col.length} entries, customer has ${n}`);
    for (let r = 0; r < n; r++) if (!Number.isFinite(col[r])) throw badInput(`evidence rows: ${name}[${r}] is ${col[r]}, not a finite number`);
  }
  if (n === 0) throw badInput('no customer-days for the reference-effect evidence (is the randomized group empty?)');
  const memories = [...(options.memories ?? Array.from({ length: 14 }, (_, k) => k + 1))];
  const tableMemories = [...(options.tableMemories ?? [3, 4, 5, 7])];
  for (const L of [...memories, ...tableMemories]) if (!Number.isInteger(L) || L < 1) throw badInput(`memory L must be a positive integer, got ${L}`);
  const levels = [...new Set(Array.from(rows.coupon))].sort((a, b) => a - b);
  const small = [...(options.small ?? levels.slice(0, 2))];
  const large = [...(options.large ?? levels.slice(-2))];
  // Order rows by customer, then day.
  const order = Array.from({ length: n }, (_, r) => r).sort((a, b) => rows.customer[a] - rows.customer[b] || rows.day[a] - rows.day[b]);
  const customer = order.map((r) => rows.customer[r]);
  const day = order.map((r) => rows.day[r]);
  const coupon = order.map((r) => rows.coupon[r]);
  const purchased = order.map((r) => rows.purchased[r]);
  for (let k = 1; k < n; k++) if (customer[k] === customer[k - 1] && day[k] === day[k - 1]) throw badInput(`evidence rows: customer ${customer[k]} has two rows for day ${day[k]}`);
  if (tableMemories.length > 0 && small.some((d) => near(large, d))) throw badInput(`the small {${small.join(', ')}} and large {${large.join(', ')}} discount sets overlap: give them explicitly (the data have ${levels.length} discount values)`);
  let customers = 0;
  for (let k = 0; k < n; k++) if (k === 0 || customer[k] !== customer[k - 1]) customers++;

  /** Rows with a full memory of L consecutive previous days, with their max and mean reference. */
  const references = (L: number) => {
    const maxRef: number[] = [], avgRef: number[] = [], today: number[] = [], bought: number[] = [];
    for (let k = 0; k < n; k++) {
      if (k < L || customer[k - L] !== customer[k] || day[k] - day[k - L] !== L) continue;
      let best = -Infinity, sum = 0;
      for (let j = k - L; j < k; j++) { best = Math.max(best, coupon[j]); sum += coupon[j]; }
      maxRef.push(best); avgRef.push(sum / L); today.push(coupon[k]); bought.push(purchased[k]);
    }
    return { maxRef, avgRef, today, bought };
  };

  const correlations: ReferenceCorrelation[] = memories.map((L) => {
    const r = references(L);
    return { memory: L, maxReference: pearson(r.maxRef, r.bought, r.bought.length), averageReference: pearson(r.avgRef, r.bought, r.bought.length), observations: r.bought.length };
  });
  const table2: ReferenceMonotonicityRow[] = tableMemories.map((L) => {
    const r = references(L);
    const compare = (todaySet: readonly number[]): RateComparison => {
      let ns = 0, ps = 0, nl = 0, pl = 0;
      for (let k = 0; k < r.today.length; k++) {
        if (!near(todaySet, r.today[k])) continue;
        if (near(small, r.maxRef[k])) { ns++; ps += r.bought[k]; } else if (near(large, r.maxRef[k])) { nl++; pl += r.bought[k]; }
      }
      const rs = ns > 0 ? ps / ns : NaN, rl = nl > 0 ? pl / nl : NaN;
      return { rateSmallReference: rs, rateLargeReference: rl, observationsSmallReference: ns, observationsLargeReference: nl, percentChange: 100 * (rs / rl - 1) };
    };
    return { memory: L, smallToday: compare(small), largeToday: compare(large) };
  });
  return { customers, observations: n, small, large, correlations, table2 };
}

const pct = (x: number) => (Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(1)}%` : 'n/a');

/** The evidence as the paper presents it: Figure 3's correlations and Table 2. */
export function formatReferenceEvidence(e: ReferenceEvidence): string {
  return [
    `Reference-effect evidence: ${e.customers.toLocaleString('en-US')} randomized customers, ${e.observations.toLocaleString('en-US')} customer-days`,
    '',
    'Correlation with purchase (paper Figure 3):',
    formatTable(['memory L', 'max of last L', 'average of last L', 'customer-days'], e.correlations.map((c) => [
      String(c.memory), c.maxReference.toFixed(4), c.averageReference.toFixed(4), c.observations.toLocaleString('en-US'),
    ])),
    '',
    `Change in purchase rate when the reference is small {${e.small.join(', ')}} rather than large {${e.large.join(', ')}} (paper Table 2):`,
    formatTable(['memory L', `today small`, `today large`, 'days (small ref / large ref)'], e.table2.map((row) => [
      String(row.memory), pct(row.smallToday.percentChange), pct(row.largeToday.percentChange),
      `${row.smallToday.observationsSmallReference + row.largeToday.observationsSmallReference} / ${row.smallToday.observationsLargeReference + row.largeToday.observationsLargeReference}`,
    ])),
  ].join('\n');
}

/** Rows of the randomized group from in-memory logs. */
export function randomizedRows(randomized: ArrayLike<number>, logs: readonly { day: number; coupon: ArrayLike<number>; purchased: ArrayLike<number> }[]): EvidenceRows {
  const members: number[] = [];
  for (let i = 0; i < randomized.length; i++) if (randomized[i]) members.push(i);
  const rows = members.length * logs.length;
  const out = { customer: new Int32Array(rows), day: new Int32Array(rows), coupon: new Float64Array(rows), purchased: new Uint8Array(rows) };
  let r = 0;
  for (const log of logs) {
    for (const i of members) {
      out.customer[r] = i; out.day[r] = log.day; out.coupon[r] = log.coupon[i]; out.purchased[r] = log.purchased[i];
      r++;
    }
  }
  return out;
}

/** The evidence in the shape the HTML report's reference-effect section reads (src/report/sections.ts). */
export function referenceEffectsReportData(e: ReferenceEvidence): ReferenceEffectsData {
  const label = (set: number[]) => `{${set.map((d) => d.toFixed(2)).join(', ')}}`;
  return {
    correlations: e.correlations.map((c) => ({ memory: c.memory, correlation: c.maxReference, averageCorrelation: c.averageReference })),
    monotonicity: e.table2.flatMap((row) => [
      { today: `small today ${label(e.small)}`, memory: row.memory, percentChange: row.smallToday.percentChange },
      { today: `large today ${label(e.large)}`, memory: row.memory, percentChange: row.largeToday.percentChange },
    ]),
  };
}
