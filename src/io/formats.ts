// What the table readers and writers share: which format a path names, the header checks every
// reader applies, conversion of one stored value to a number, and the column layout the writers
// take. Kept free of the format libraries so that every reader and writer can import it.
import { promises as fs } from 'node:fs';
import { extname } from 'node:path';
import { badInput } from '../errors.js';
import { withAtomicWriter, type AtomicWriter } from './atomic.js';
import type { TableChunk, TableSchema } from './table.js';

export type TableFormat = 'csv' | 'parquet' | 'arrow';

/** File extensions and the format each names (lower case, with the dot). */
export const TABLE_EXTENSIONS: Readonly<Record<string, TableFormat>> = {
  '.csv': 'csv',
  '.parquet': 'parquet',
  '.pq': 'parquet',
  '.arrow': 'arrow',
  '.feather': 'arrow',
  '.ipc': 'arrow',
  '.arrows': 'arrow',
};

/** The format a path's extension names, or undefined for an extension promopt does not know. */
export function tableFormatOf(path: string): TableFormat | undefined {
  return TABLE_EXTENSIONS[extname(path).toLowerCase()];
}

/**
 * The format of an existing file: by extension, else by its magic bytes (Parquet files start
 * with "PAR1", Arrow IPC files with "ARROW1", Arrow streams with a continuation marker), else CSV.
 * So `data.txt` holding CSV still reads as before.
 */
export async function detectTableFormat(path: string): Promise<TableFormat> {
  const byExtension = tableFormatOf(path);
  if (byExtension) return byExtension;
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(path, 'r');
    const head = Buffer.alloc(8);
    const { bytesRead } = await handle.read(head, 0, 8, 0);
    const magic = head.subarray(0, bytesRead);
    if (magic.subarray(0, 4).toString('latin1') === 'PAR1') return 'parquet';
    if (magic.subarray(0, 6).toString('latin1') === 'ARROW1') return 'arrow';
    if (bytesRead >= 4 && magic.readUInt32LE(0) === 0xffffffff) return 'arrow';
    return 'csv';
  } catch {
    return 'csv'; // the CSV reader names a missing or unreadable file
  } finally {
    await handle?.close();
  }
}

/** The format to write `path` in: by extension; CSV for an extension promopt does not know. */
export function outputFormatOf(path: string): TableFormat {
  return tableFormatOf(path) ?? 'csv';
}

/** Fails unless `path` is an existing regular file. */
export async function requireReadableFile(path: string): Promise<void> {
  try {
    const stat = await fs.stat(path);
    if (!stat.isFile()) throw badInput(`${path}: not a file`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw badInput(`${path}: no such file`);
    throw error;
  }
}

/** The checks every reader applies to a header: no duplicate names, every required column present. */
export function checkHeader(path: string, header: readonly string[], schema: TableSchema): void {
  const duplicate = header.find((h, i) => header.indexOf(h) !== i);
  if (duplicate !== undefined) throw badInput(`${path}: column "${duplicate}" appears twice in the header`);
  for (const name of schema.required ?? []) {
    if (!header.includes(name)) throw badInput(`${path}: missing column "${name}" (header: ${header.join(',')})`);
  }
}

/**
 * One stored value of a numeric column as a number. Parquet and Arrow store typed values, so
 * this only rejects what cannot be a finite number: null (a missing value), NaN, ±Infinity,
 * integers too large for a double to hold exactly, strings, dates and nested values.
 * `row` is 0-based; messages count data rows from 1.
 */
export function numericValue(path: string, row: number, column: string, value: unknown): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
    throw badInput(`${path}: row ${row + 1}, column "${column}": ${value} is not a finite number`);
  }
  if (typeof value === 'bigint') {
    const n = Number(value);
    if (Number.isSafeInteger(n)) return n;
    throw badInput(`${path}: row ${row + 1}, column "${column}": ${value} is too large to hold exactly as a number`);
  }
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value === null || value === undefined) throw badInput(`${path}: row ${row + 1}, column "${column}": missing value (null)`);
  const shown = value instanceof Date ? value.toISOString() : JSON.stringify(value) ?? String(value);
  throw badInput(`${path}: row ${row + 1}, column "${column}": ${shown.slice(0, 40)} is not a number (declare the column as text or store numbers)`);
}

/** One stored value of a text column as a string; null is refused (CSV has no null, only ""). */
export function textValue(path: string, row: number, column: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value === null || value === undefined) throw badInput(`${path}: row ${row + 1}, column "${column}": missing value (null)`);
  if (value instanceof Date) return value.toISOString();
  throw badInput(`${path}: row ${row + 1}, column "${column}": a nested value where text was expected`);
}

/**
 * Converts one column's values (any typed array or plain array, as Parquet and Arrow decode
 * them) to a Float64Array, naming the first value that is not a finite number. May return
 * `values` itself: the result is only read.
 */
export function numericColumn(path: string, column: string, firstRow: number, values: ArrayLike<unknown>): Float64Array {
  const n = values.length;
  if (values instanceof Float64Array) {
    for (let i = 0; i < n; i++) if (!Number.isFinite(values[i])) numericValue(path, firstRow + i, column, values[i]);
    return values; // callers copy it into their chunk
  }
  if (values instanceof Int32Array || values instanceof Uint32Array || values instanceof Int16Array || values instanceof Uint16Array ||
      values instanceof Int8Array || values instanceof Uint8Array || values instanceof Uint8ClampedArray) {
    return Float64Array.from(values);
  }
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = numericValue(path, firstRow + i, column, values[i]);
  return out;
}

/** Converts one column's values to strings, naming the first null. */
export function textColumn(path: string, column: string, firstRow: number, values: ArrayLike<unknown>): string[] {
  const out = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) out[i] = textValue(path, firstRow + i, column, values[i]);
  return out;
}

/**
 * Regroups pieces of a table (row groups, record batches) into chunks of exactly `chunkRows`
 * rows (the last may be shorter), as the CSV reader yields them, so that callers see the same
 * chunking whatever the format. Holds at most one chunk plus one piece.
 */
export class ChunkAssembler {
  private pieces: Array<{ rows: number; numeric: Float64Array[]; text: string[][] }> = [];
  private pending = 0;
  private emittedRows = 0;
  private emitted = 0;

  constructor(readonly header: string[], private readonly isText: readonly boolean[], private readonly chunkRows: number) {}

  /** Adds a piece (columns in header order) and returns the chunks it completes. */
  push(rows: number, columns: ReadonlyArray<Float64Array | string[]>): TableChunk[] {
    const numeric: Float64Array[] = [];
    const text: string[][] = [];
    columns.forEach((c, j) => (this.isText[j] ? text.push(c as string[]) : numeric.push(c as Float64Array)));
    this.pieces.push({ rows, numeric, text });
    this.pending += rows;
    const out: TableChunk[] = [];
    while (this.pending >= this.chunkRows) out.push(this.take(this.chunkRows));
    return out;
  }

  /** The rows left over at the end (or one empty chunk for a table without rows). */
  finish(): TableChunk[] {
    return this.pending > 0 || this.emitted === 0 ? [this.take(this.pending)] : [];
  }

  private take(rows: number): TableChunk {
    const numericCount = this.isText.filter((t) => !t).length;
    const textCount = this.isText.length - numericCount;
    const numericOut = Array.from({ length: numericCount }, () => new Float64Array(rows));
    const textOut = Array.from({ length: textCount }, () => [] as string[]);
    let filled = 0;
    while (filled < rows) {
      const piece = this.pieces[0];
      const take = Math.min(piece.rows, rows - filled);
      piece.numeric.forEach((col, k) => numericOut[k].set(take === col.length ? col : col.subarray(0, take), filled));
      piece.text.forEach((col, k) => {
        for (let i = 0; i < take; i++) textOut[k].push(col[i]);
      });
      if (take === piece.rows) {
        this.pieces.shift();
      } else {
        piece.rows -= take;
        piece.numeric = piece.numeric.map((c) => c.subarray(take));
        piece.text = piece.text.map((c) => c.slice(take));
      }
      filled += take;
    }
    const numeric = new Map<string, Float64Array>();
    const text = new Map<string, string[]>();
    let a = 0, b = 0;
    this.header.forEach((name, j) => (this.isText[j] ? text.set(name, textOut[b++]) : numeric.set(name, numericOut[a++])));
    const chunk: TableChunk = { header: this.header, firstRow: this.emittedRows, rows, numeric, text };
    this.pending -= rows;
    this.emittedRows += rows;
    this.emitted++;
    return chunk;
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

/** A column to write: numbers (Float64Array, Int32Array, or Uint8Array for 0/1 flags) or text. */
export type TableColumn = Float64Array | Int32Array | Uint8Array | string[];

/**
 * Columns to write, in order: an object (its key order; note that JavaScript puts integer-like
 * keys such as "7" first), a Map, or [name, column] pairs.
 */
export type TableColumns = Readonly<Record<string, TableColumn>> | ReadonlyMap<string, TableColumn> | ReadonlyArray<readonly [string, TableColumn]>;

export interface WriteTableOptions {
  /** Rows per Parquet row group, Arrow record batch or CSV write (default 65,536). */
  chunkRows?: number;
  /** Force a format instead of choosing by extension. */
  format?: TableFormat;
}

export interface NormalizedColumns {
  names: string[];
  columns: TableColumn[];
  rows: number;
}

/** Checks the columns before any byte is written: names unique and non-empty, equal lengths, finite numbers. */
export function normalizeColumns(path: string, input: TableColumns): NormalizedColumns {
  const entries: Array<readonly [string, TableColumn]> = input instanceof Map
    ? [...input.entries()]
    : Array.isArray(input) ? [...(input as ReadonlyArray<readonly [string, TableColumn]>)] : Object.entries(input as Record<string, TableColumn>);
  if (entries.length === 0) throw badInput(`cannot write ${path}: no columns`);
  const names = entries.map(([name]) => name);
  const columns = entries.map(([, column]) => column);
  const duplicate = names.find((h, i) => names.indexOf(h) !== i);
  if (duplicate !== undefined) throw badInput(`cannot write ${path}: column "${duplicate}" given twice`);
  if (names.some((n) => n === '')) throw badInput(`cannot write ${path}: a column has an empty name`);
  const rows = columns[0].length;
  columns.forEach((column, j) => {
    const name = names[j];
    if (!(column instanceof Float64Array || column instanceof Int32Array || column instanceof Uint8Array || Array.isArray(column))) {
      throw badInput(`cannot write ${path}: column "${name}" must be a Float64Array, Int32Array, Uint8Array or string[]`);
    }
    if (column.length !== rows) throw badInput(`cannot write ${path}: column "${name}" has ${column.length} rows, "${names[0]}" has ${rows}`);
    if (column instanceof Float64Array) {
      for (let i = 0; i < rows; i++) {
        if (!Number.isFinite(column[i])) throw badInput(`cannot write ${path}: row ${i + 1}, column "${name}": ${column[i]} is not a finite number`);
      }
    } else if (Array.isArray(column)) {
      for (let i = 0; i < rows; i++) {
        if (typeof column[i] !== 'string') throw badInput(`cannot write ${path}: row ${i + 1}, column "${name}": text columns hold strings only`);
      }
    }
  });
  return { names, columns, rows };
}

/** How a column is stored: the writers keep it the same in every chunk of one file. */
export function columnKind(column: TableColumn): 'float64' | 'int32' | 'uint8' | 'text' {
  return column instanceof Float64Array ? 'float64' : column instanceof Int32Array ? 'int32' : column instanceof Uint8Array ? 'uint8' : 'text';
}

/** Fails unless a later chunk has the first chunk's column names and kinds, in the same order. */
export function checkSameLayout(path: string, first: NormalizedColumns, next: NormalizedColumns, chunk: number): void {
  const layout = (t: NormalizedColumns) => t.names.map((n, j) => `${n}:${columnKind(t.columns[j])}`).join(',');
  if (layout(first) !== layout(next)) throw badInput(`cannot write ${path}: chunk ${chunk + 1} has columns ${layout(next)}, the first had ${layout(first)}`);
}

/** A table chunk's columns in header order, ready for `writeTable`. */
export function chunkColumns(chunk: TableChunk): Map<string, TableColumn> {
  return new Map(chunk.header.map((name) => [name, (chunk.numeric.get(name) ?? chunk.text.get(name))!] as [string, TableColumn]));
}

export const DEFAULT_WRITE_CHUNK_ROWS = 65_536;

/** Writes `path` atomically through `produce` (see src/io/atomic.ts: complete file or none). */
export async function writeAtomically(path: string, produce: (out: AtomicWriter) => Promise<void>): Promise<void> {
  await withAtomicWriter(path, produce);
}
