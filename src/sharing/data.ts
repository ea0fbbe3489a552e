// Sharing-experiment data (SPEC §4): one row per focal customer with its market, the price and
// wholesale cost of that market, the randomized requirement s, the outcomes w, y and referrals,
// and every other column a covariate. Reading validates the design's logic row by row; the
// chunked reader keeps memory bounded on very large files. CSV, Parquet or Arrow by extension.
import { badInput } from '../errors.js';
import { writeAtomically } from '../io/formats.js';
import { detectTableFormat, tableChunks, tableFormatOf, writeTableChunks, type TableChunk, type TableColumn } from '../io/table.js';
import type { CustomerCovariates, SharingParameters } from './model.js';

export interface SharingData {
  marketNames: string[];
  /** Index into `marketNames`, per customer. */
  market: Int32Array;
  /** Post-discount price offered to the customer (constant within a market). */
  price: Float64Array;
  /** Wholesale cost MC_m of the customer's market. */
  marginalCost: Float64Array;
  /** s: 1 = broadcasting requirement (share to unlock), 0 = traditional. */
  assignment: Uint8Array;
  /** w: shared the deal. */
  shared: Uint8Array;
  /** y: purchased the promoted product. */
  purchased: Uint8Array;
  /** Number of referred customers. */
  referrals: Float64Array;
  covariateNames: string[];
  /** One column per covariate, in the order of `covariateNames`. */
  covariates: Float64Array[];
}

/** A piece of a file read in chunks: `firstRow` is the 0-based index of its first customer. */
export interface SharingDataChunk extends SharingData {
  firstRow: number;
}

/** The columns SPEC §4 fixes; every other column is a covariate. */
export const SHARING_COLUMNS = ['market', 'price', 'mc', 's', 'w', 'y', 'referrals'] as const;

export function customerCount(data: SharingData): number {
  return data.market.length;
}

/** Checks that every column has one entry per customer and market indices are in range. */
export function checkSharingData(data: SharingData, what = 'sharing data'): number {
  const n = data.market.length;
  const columns: Array<[string, ArrayLike<number>]> = [
    ['price', data.price], ['mc', data.marginalCost], ['s', data.assignment], ['w', data.shared],
    ['y', data.purchased], ['referrals', data.referrals],
    ...data.covariateNames.map((name, j): [string, ArrayLike<number>] => [name, data.covariates[j] ?? []]),
  ];
  if (data.covariates.length !== data.covariateNames.length) {
    throw badInput(`${what}: ${data.covariates.length} covariate columns for ${data.covariateNames.length} covariate names`);
  }
  for (const [name, col] of columns) {
    if (col.length !== n) throw badInput(`${what}: column "${name}" has ${col.length} values for ${n} customers`);
  }
  for (let i = 0; i < n; i++) {
    const m = data.market[i];
    if (!(m >= 0 && m < data.marketNames.length)) throw badInput(`${what}: customer ${i} has market index ${m} outside 0..${data.marketNames.length - 1}`);
  }
  return n;
}

/** Validation state carried from chunk to chunk, so a file reads the same in chunks or whole. */
class RowValidator {
  readonly marketNames: string[] = [];
  private readonly marketIndex = new Map<string, number>();
  private readonly marketPrice: number[] = [];
  private readonly marketCost: number[] = [];
  /**
   * @param firstLine the row number reported for the first customer, as the table readers
   *   number rows: the file line in CSV (the header is line 1), else the 1-based record.
   */
  constructor(private readonly path: string, private readonly firstLine: number) {}

  convert(chunk: TableChunk): SharingDataChunk {
    const path = this.path;
    const covariateNames = chunk.header.filter((h) => !(SHARING_COLUMNS as readonly string[]).includes(h));
    const n = chunk.rows;
    const marketText = chunk.text.get('market')!;
    const price = chunk.numeric.get('price')!;
    const mc = chunk.numeric.get('mc')!;
    const rowOf = (i: number) => chunk.firstRow + i + this.firstLine;
    const binary = (name: 's' | 'w' | 'y'): Uint8Array => {
      const col = chunk.numeric.get(name)!;
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const x = col[i];
        if (x !== 0 && x !== 1) throw badInput(`${path}: row ${rowOf(i)}, column "${name}": expected 0 or 1, got ${x}`);
        out[i] = x;
      }
      return out;
    };
    const assignment = binary('s');
    const shared = binary('w');
    const purchased = binary('y');
    const referrals = chunk.numeric.get('referrals')!;
    const market = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const name = marketText[i];
      if (name === '') throw badInput(`${path}: row ${rowOf(i)}, column "market": empty market name`);
      let m = this.marketIndex.get(name);
      if (m === undefined) {
        m = this.marketNames.length;
        this.marketNames.push(name);
        this.marketIndex.set(name, m);
        this.marketPrice.push(price[i]);
        this.marketCost.push(mc[i]);
      }
      market[i] = m;
      if (!(price[i] >= 0)) throw badInput(`${path}: row ${rowOf(i)}, column "price": price ${price[i]} is negative`);
      if (!(mc[i] >= 0)) throw badInput(`${path}: row ${rowOf(i)}, column "mc": wholesale cost ${mc[i]} is negative`);
      if (price[i] !== this.marketPrice[m]) throw badInput(`${path}: row ${rowOf(i)}, column "price": ${price[i]} differs from ${this.marketPrice[m]} earlier in market "${name}" (one price per market)`);
      if (mc[i] !== this.marketCost[m]) throw badInput(`${path}: row ${rowOf(i)}, column "mc": ${mc[i]} differs from ${this.marketCost[m]} earlier in market "${name}" (one wholesale cost per market)`);
      const r = referrals[i];
      if (!(Number.isInteger(r) && r >= 0)) throw badInput(`${path}: row ${rowOf(i)}, column "referrals": expected a non-negative integer count, got ${r}`);
      if (shared[i] === 0 && r !== 0) throw badInput(`${path}: row ${rowOf(i)}, column "referrals": ${r} referrals from a customer who did not share (w = 0)`);
      if (purchased[i] === 1 && assignment[i] === 1 && shared[i] === 0) {
        throw badInput(`${path}: row ${rowOf(i)}, column "y": purchase (y = 1) under the broadcasting requirement (s = 1) without sharing (w = 0)`);
      }
    }
    return {
      firstRow: chunk.firstRow,
      marketNames: this.marketNames.slice(),
      market,
      price: Float64Array.from(price),
      marginalCost: Float64Array.from(mc),
      assignment,
      shared,
      purchased,
      referrals: Float64Array.from(referrals),
      covariateNames: covariateNames.slice(),
      covariates: covariateNames.map((name) => chunk.numeric.get(name)!),
    };
  }
}

/**
 * Reads a sharing-experiment file in chunks of at most `chunkRows` customers. Market indices are
 * global (a market keeps its index in later chunks; each chunk's `marketNames` lists every market
 * seen so far), and the one-price-per-market rule is checked across chunks.
 */
export async function* readSharingDataChunks(path: string, chunkRows = 1 << 20): AsyncGenerator<SharingDataChunk> {
  const validator = new RowValidator(path, (await detectTableFormat(path)) === 'csv' ? 2 : 1);
  let rows = 0;
  for await (const chunk of tableChunks(path, { required: SHARING_COLUMNS, text: ['market'] }, chunkRows)) {
    if (chunk.rows === 0) continue;
    rows += chunk.rows;
    yield validator.convert(chunk);
  }
  if (rows === 0) throw badInput(`${path}: no customers (the file has a header but no rows)`);
}

/** Reads a whole sharing-experiment file (SPEC §4), validating every row. */
export async function readSharingData(path: string): Promise<SharingData> {
  const chunks: SharingData[] = [];
  for await (const { firstRow: _firstRow, ...chunk } of readSharingDataChunks(path)) chunks.push(chunk);
  return concatSharingData(chunks);
}

/** Concatenates chunks in customer order that share covariates and global market indices (the last chunk's names win). */
export function concatSharingData(chunks: readonly SharingData[]): SharingData {
  if (chunks.length === 0) throw badInput('no sharing data to concatenate');
  const last = chunks[chunks.length - 1];
  const names = chunks[0].covariateNames;
  for (const c of chunks) {
    if (c.covariateNames.length !== names.length || c.covariateNames.some((x, j) => x !== names[j])) {
      throw badInput(`chunks have different covariates (${names.join(',')} vs ${c.covariateNames.join(',')})`);
    }
  }
  const n = chunks.reduce((sum, c) => sum + c.market.length, 0);
  const cat = <T extends Float64Array | Int32Array | Uint8Array>(make: (n: number) => T, pick: (c: SharingData) => T): T => {
    const out = make(n);
    let at = 0;
    for (const c of chunks) {
      out.set(pick(c), at);
      at += pick(c).length;
    }
    return out;
  };
  const f64 = (k: number) => new Float64Array(k);
  const u8 = (k: number) => new Uint8Array(k);
  return {
    marketNames: last.marketNames.slice(),
    market: cat((k) => new Int32Array(k), (c) => c.market),
    price: cat(f64, (c) => c.price),
    marginalCost: cat(f64, (c) => c.marginalCost),
    assignment: cat(u8, (c) => c.assignment),
    shared: cat(u8, (c) => c.shared),
    purchased: cat(u8, (c) => c.purchased),
    referrals: cat(f64, (c) => c.referrals),
    covariateNames: names.slice(),
    covariates: names.map((_, j) => cat(f64, (c) => c.covariates[j])),
  };
}

/** CSV cell for a market name: quoted when it holds a delimiter or a quote. */
function csvText(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function headerOf(data: SharingData): string {
  for (const name of data.covariateNames) {
    if ((SHARING_COLUMNS as readonly string[]).includes(name)) throw badInput(`covariate name "${name}" collides with a SPEC §4 column`);
  }
  return [...SHARING_COLUMNS, ...data.covariateNames].map(csvText).join(',');
}

function checkMarketNames(data: SharingData): void {
  for (const name of data.marketNames) {
    if (name === '' || name.trim() !== name) throw badInput(`market name "${name}" is empty or has surrounding spaces (it would not read back)`);
  }
}

/** Small counts as text, so the common cells (0/1 flags, few referrals) need no number formatting. */
const SMALL_COUNTS = Array.from({ length: 256 }, (_, k) => String(k));

/**
 * CSV rows of `data` (no header), in batches so huge data never become one string; batches are
 * small so that the short-lived row strings die young (cheap garbage collection).
 */
function* csvRows(data: SharingData, batchRows = 1024): Generator<string> {
  const n = checkSharingData(data);
  const k = data.covariates.length;
  // The market, price and cost cells only change with the market: format them once per market and price.
  let prefixMarket = -1, prefixPrice = NaN, prefixCost = NaN, prefix = '';
  for (let start = 0; start < n; start += batchRows) {
    const end = Math.min(n, start + batchRows);
    let text = '';
    for (let i = start; i < end; i++) {
      const m = data.market[i], price = data.price[i], cost = data.marginalCost[i];
      if (m !== prefixMarket || price !== prefixPrice || cost !== prefixCost) {
        prefixMarket = m; prefixPrice = price; prefixCost = cost;
        prefix = `${csvText(data.marketNames[m])},${price},${cost},`;
      }
      const r = data.referrals[i];
      let line = prefix + SMALL_COUNTS[data.assignment[i]] + ',' + SMALL_COUNTS[data.shared[i]] + ',' + SMALL_COUNTS[data.purchased[i]] + ','
        + (r >= 0 && r < 256 && Number.isInteger(r) ? SMALL_COUNTS[r] : String(r));
      for (let j = 0; j < k; j++) line += ',' + data.covariates[j][i];
      text += line + '\n';
    }
    yield text;
  }
}

/**
 * Writes the data with the SPEC §4 columns, atomically (a failure leaves no file behind): CSV, or
 * Parquet / Arrow when the extension says so (.parquet, .pq, .arrow, .feather, .ipc, .arrows).
 */
export async function writeSharingData(path: string, data: SharingData): Promise<void> {
  await writeSharingDataChunks(path, [data]);
}

/** The SPEC §4 columns of a chunk, for the Parquet and Arrow writers. */
function tableColumnsOf(data: SharingData): Array<readonly [string, TableColumn]> {
  checkSharingData(data);
  return [
    ['market', customerMarketNames(data)],
    ['price', data.price],
    ['mc', data.marginalCost],
    ['s', data.assignment],
    ['w', data.shared],
    ['y', data.purchased],
    ['referrals', data.referrals],
    ...data.covariateNames.map((name, j) => [name, data.covariates[j]] as const),
  ];
}

/**
 * Streams chunks (in customer order, same covariates) into one file, atomically; the format as
 * for `writeSharingData`. Returns the number of customers written.
 */
export async function writeSharingDataChunks(path: string, chunks: Iterable<SharingData> | AsyncIterable<SharingData>): Promise<number> {
  const format = tableFormatOf(path);
  if (format !== undefined && format !== 'csv') {
    return writeTableChunks(path, (async function* () {
      for await (const chunk of chunks as AsyncIterable<SharingData>) {
        checkMarketNames(chunk);
        headerOf(chunk);
        yield tableColumnsOf(chunk);
      }
    })());
  }
  let rows = 0;
  // writeAtomically (not withAtomicWriter): a failure before the temp file is open leaves no stray file.
  await writeAtomically(path, async (writer) => {
    let header: string | undefined;
    for await (const chunk of chunks as AsyncIterable<SharingData>) {
      checkMarketNames(chunk);
      const h = headerOf(chunk);
      if (header === undefined) {
        header = h;
        await writer.write(`${header}\n`);
      } else if (h !== header) {
        throw badInput(`cannot write ${path}: a chunk has columns ${h}, expected ${header}`);
      }
      for (const text of csvRows(chunk)) await writer.write(text);
      rows += chunk.market.length;
    }
    if (header === undefined) throw badInput(`cannot write ${path}: no data`);
  });
  return rows;
}

/** True when customers are contiguous by market in index order and every listed market has some. */
function isSortedByMarket(data: SharingData): boolean {
  const n = data.market.length;
  const seen = new Uint8Array(data.marketNames.length);
  for (let i = 0; i < n; i++) {
    if (i > 0 && data.market[i] < data.market[i - 1]) return false;
    seen[data.market[i]] = 1;
  }
  return seen.every((x) => x === 1);
}

/**
 * The same customers reordered so that each market's customers are contiguous, markets in the
 * order of `marketNames` (stable within a market); markets without customers are dropped.
 * Returns `data` itself when it is already in that order.
 */
export function sortByMarket(data: SharingData): SharingData {
  const n = checkSharingData(data);
  if (isSortedByMarket(data)) return data;
  const counts = new Int32Array(data.marketNames.length);
  for (let i = 0; i < n; i++) counts[data.market[i]]++;
  const newIndex = new Int32Array(data.marketNames.length).fill(-1);
  const marketNames: string[] = [];
  const offsets: number[] = [];
  let at = 0;
  counts.forEach((c, m) => {
    if (c === 0) return;
    newIndex[m] = marketNames.length;
    marketNames.push(data.marketNames[m]);
    offsets.push(at);
    at += c;
  });
  const order = new Int32Array(n);
  const next = Int32Array.from(offsets);
  for (let i = 0; i < n; i++) order[next[newIndex[data.market[i]]]++] = i;
  const gather = <T extends Float64Array | Uint8Array>(col: T, make: (k: number) => T): T => {
    const out = make(n);
    for (let i = 0; i < n; i++) out[i] = col[order[i]];
    return out;
  };
  const market = new Int32Array(n);
  for (let i = 0; i < n; i++) market[i] = newIndex[data.market[order[i]]];
  const f64 = (k: number) => new Float64Array(k);
  const u8 = (k: number) => new Uint8Array(k);
  return {
    marketNames,
    market,
    price: gather(data.price, f64),
    marginalCost: gather(data.marginalCost, f64),
    assignment: gather(data.assignment, u8),
    shared: gather(data.shared, u8),
    purchased: gather(data.purchased, u8),
    referrals: gather(data.referrals, f64),
    covariateNames: data.covariateNames.slice(),
    covariates: data.covariates.map((col) => gather(col, f64)),
  };
}

/**
 * Market offsets of data sorted by market (see `sortByMarket`): marketNames.length + 1 numbers,
 * the customers of market m being starts[m] ≤ i < starts[m + 1]; the last entry is the customer
 * count. (Kernels' `groupStarts` accept this array as is: the final entry only closes the last group.)
 */
export function marketStarts(data: SharingData): number[] {
  const n = checkSharingData(data);
  if (!isSortedByMarket(data)) throw badInput('customers are not contiguous by market in marketNames order: call sortByMarket first');
  const starts = [0];
  for (let i = 1; i < n; i++) if (data.market[i] !== data.market[i - 1]) starts.push(i);
  starts.push(n);
  return starts;
}

/** Per-customer market names (what `customerPrimitives` takes). */
export function customerMarketNames(data: SharingData): string[] {
  const out: string[] = new Array(data.market.length);
  for (let i = 0; i < out.length; i++) out[i] = data.marketNames[data.market[i]];
  return out;
}

/**
 * The data's covariates in the order of `params.covariates`, with each customer's market name:
 * the input of `customerPrimitives`. A covariate the parameters need but the data lack is bad input;
 * data columns the parameters do not use are ignored.
 */
export function covariatesFor(data: SharingData, params: Pick<SharingParameters, 'covariates'>): CustomerCovariates {
  const columns = params.covariates.map((name) => {
    const j = data.covariateNames.indexOf(name);
    if (j < 0) throw badInput(`the data have no covariate "${name}" that the parameters use (data covariates: ${data.covariateNames.join(', ') || 'none'})`);
    return data.covariates[j];
  });
  return { columns, market: customerMarketNames(data) };
}

/** One row of the summary-statistics table: customers offered one post-discount price. */
export interface PriceGroupOutcome {
  /** The group's price (or the key it was grouped by, e.g. the design price). */
  price: number;
  /** Customer-weighted average price actually offered (equals `price` when grouped by price). */
  averagePrice: number;
  markets: number;
  customers: number;
  /** Customer-weighted average wholesale cost (as the slides' total row is). */
  wholesaleCost: number;
  /** Share of focal customers who shared. */
  shareRate: number;
  /** Share of focal customers who bought (a customer under the requirement who did not share cannot buy). */
  purchaseRate: number;
  referralsPerCustomer: number;
}

export interface SharingSummary {
  groups: PriceGroupOutcome[];
  total: Omit<PriceGroupOutcome, 'price'>;
}

interface GroupTotals { markets: Set<number>; customers: number; price: number; cost: number; shared: number; purchased: number; referrals: number }

/**
 * Accumulates the slides' "Summary Statistics: Propensity to Share/Purchase" table over chunks.
 * Groups are by price unless `groupOf(market, price)` gives another key (e.g. the design price).
 */
export class SharingSummaryAccumulator {
  private readonly groups = new Map<number, GroupTotals>();
  private readonly total: GroupTotals = SharingSummaryAccumulator.empty();
  constructor(private readonly groupOf: (market: number, price: number) => number = (_m, p) => p) {}

  private static empty(): GroupTotals {
    return { markets: new Set(), customers: 0, price: 0, cost: 0, shared: 0, purchased: 0, referrals: 0 };
  }

  add(data: SharingData): this {
    const n = checkSharingData(data);
    for (let i = 0; i < n; i++) {
      const key = this.groupOf(data.market[i], data.price[i]);
      let acc = this.groups.get(key);
      if (!acc) this.groups.set(key, (acc = SharingSummaryAccumulator.empty()));
      for (const a of [acc, this.total]) {
        a.markets.add(data.market[i]);
        a.customers++;
        a.price += data.price[i];
        a.cost += data.marginalCost[i];
        a.shared += data.shared[i];
        a.purchased += data.purchased[i];
        a.referrals += data.referrals[i];
      }
    }
    return this;
  }

  summary(): SharingSummary {
    const row = (a: GroupTotals) => ({
      averagePrice: a.price / a.customers,
      markets: a.markets.size,
      customers: a.customers,
      wholesaleCost: a.cost / a.customers,
      shareRate: a.shared / a.customers,
      purchaseRate: a.purchased / a.customers,
      referralsPerCustomer: a.referrals / a.customers,
    });
    const groups = [...this.groups.entries()].sort((a, b) => a[0] - b[0]).map(([price, a]) => ({ price, ...row(a) }));
    return { groups, total: row(this.total) };
  }
}

/** The slides' summary table (share, purchase and referral rates by price group) computed from data. */
export function summarizeSharing(data: SharingData, groupOf?: (market: number, price: number) => number): SharingSummary {
  return new SharingSummaryAccumulator(groupOf).add(data).summary();
}
