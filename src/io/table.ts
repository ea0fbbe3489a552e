// Tables in and out: CSV, Parquet and Arrow IPC, chosen by file extension (src/io/formats.ts).
// Input is a header row, then one record per row. Columns come out as Float64Array for numeric
// fields and string[] for text fields. Streaming: `tableChunks` yields bounded chunks so that
// memory stays flat on very large files; `readTable` collects them. `writeTable` writes
// atomically (temp file, then rename).
import { createReadStream } from 'node:fs';
import Papa from 'papaparse';
import { badInput } from '../errors.js';
import { writeCsv } from './csv-write.js';
import {
  DEFAULT_WRITE_CHUNK_ROWS, checkHeader, checkSameLayout, detectTableFormat, normalizeColumns, outputFormatOf, requireReadableFile,
  type NormalizedColumns, type TableColumns, type TableFormat, type WriteTableOptions,
} from './formats.js';
// Parquet and Arrow come in by dynamic import: their libraries take a few hundred milliseconds
// to load, which commands reading CSV should not pay.
const parquetModule = () => import('./parquet.js');
const arrowModule = () => import('./arrow.js');

export type { TableColumn, TableColumns, TableFormat, WriteTableOptions } from './formats.js';
export { TABLE_EXTENSIONS, chunkColumns, detectTableFormat, tableFormatOf } from './formats.js';

export interface TableSchema {
  /** Columns that must be present. */
  required?: readonly string[];
  /** Columns read as text; every other column must be numeric. */
  text?: readonly string[];
}

export interface TableChunk {
  /** Column names in file order. */
  header: string[];
  /** Index of the chunk's first data row (0-based, header excluded). */
  firstRow: number;
  rows: number;
  numeric: Map<string, Float64Array>;
  text: Map<string, string[]>;
}

/**
 * Reads a CSV file in chunks of at most `chunkRows` rows, validating the header and every value.
 * Papa Parse reads the stream (≈ 5× faster than csv-parse here); the file is paused while a chunk
 * waits for its consumer, so memory stays bounded by a chunk and the read-ahead. Fields are
 * trimmed (quoted ones too: a market name keeps no surrounding blanks); empty lines are skipped;
 * a row whose field count differs from the header's, or a malformed or unterminated quote, is an
 * error naming the row (rows count records, the header being row 1).
 */
export async function* csvChunks(path: string, schema: TableSchema = {}, chunkRows = 1 << 20): AsyncGenerator<TableChunk> {
  await requireReadableFile(path);
  const textColumns = new Set(schema.text ?? []);
  let header: string[] | undefined;
  let isText: boolean[] = [];
  // Numbers go straight into typed arrays that grow by doubling up to chunkRows; text into arrays.
  let numbers: Float64Array[] = [];
  let texts: string[][] = [];
  let capacity = 0;
  let firstRow = 0;
  let row = 0;
  const startBuffers = () => {
    capacity = Math.min(chunkRows, 1 << 14);
    numbers = header!.map((_, j) => (isText[j] ? new Float64Array(0) : new Float64Array(capacity)));
    texts = header!.map(() => []);
  };
  const flush = (): TableChunk => {
    const numeric = new Map<string, Float64Array>();
    const text = new Map<string, string[]>();
    const rows = row - firstRow;
    header!.forEach((name, j) => {
      if (isText[j]) text.set(name, texts[j]);
      else numeric.set(name, numbers[j].length === rows ? numbers[j] : numbers[j].slice(0, rows));
    });
    const chunk: TableChunk = { header: header!, firstRow, rows, numeric, text };
    firstRow = row;
    startBuffers();
    return chunk;
  };
  const ready: TableChunk[] = [];
  const take = (record: string[]) => {
    if (!header) {
      header = record.map((name, j) => (j === 0 ? name.replace(/^\uFEFF/, '') : name).trim());
      checkHeader(path, header, schema);
      isText = header.map((h) => textColumns.has(h));
      startBuffers();
      return;
    }
    if (record.length !== header.length) {
      throw badInput(`${path}: row ${row + 2} has ${record.length} field${record.length === 1 ? '' : 's'}, the header ${header.length}`);
    }
    const at = row - firstRow;
    if (at === capacity) {
      capacity = Math.min(chunkRows, 2 * capacity);
      numbers = numbers.map((a, j) => {
        if (isText[j]) return a;
        const grown = new Float64Array(capacity);
        grown.set(a);
        return grown;
      });
    }
    for (let j = 0; j < record.length; j++) {
      const cell = record[j];
      if (isText[j]) {
        texts[j].push(cell.trim());
        continue;
      }
      // Number() ignores surrounding whitespace but reads '' and blanks as 0: those are missing values
      const x = Number(cell);
      if (!Number.isFinite(x) || (x === 0 && cell.trim() === '')) {
        throw badInput(`${path}: row ${row + 2}, column "${header[j]}": "${cell.trim()}" is not a finite number`);
      }
      numbers[j][at] = x;
    }
    row++;
    if (row - firstRow >= chunkRows) ready.push(flush());
  };

  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let parser: Papa.Parser | undefined;
  let failure: unknown;
  let finished = false;
  let wake: (() => void) | undefined;
  const signal = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  Papa.parse<string[]>(stream, {
    delimiter: ',', quoteChar: '"', escapeChar: '"', skipEmptyLines: true,
    chunk: (results, p) => {
      parser = p;
      if (failure !== undefined) return;
      try {
        const records = header ? row : -1; // records before this chunk, the header counted as −1
        const error = results.errors[0];
        const rows = error && typeof error.row === 'number' ? error.row : results.data.length;
        for (let k = 0; k < rows; k++) take(results.data[k]);
        if (error) throw badInput(`${path}: row ${records + rows + 2}: ${error.message}`);
      } catch (e) {
        failure = e;
        p.abort();
      }
      if (ready.length > 0) p.pause();
      signal();
    },
    complete: () => {
      finished = true;
      signal();
    },
    error: (e: Error) => {
      failure ??= e;
      signal();
    },
  });
  try {
    for (;;) {
      if (ready.length > 0) {
        yield ready.shift()!;
        if (ready.length === 0 && !finished && failure === undefined) parser?.resume();
        continue;
      }
      if (failure !== undefined) throw failure;
      if (finished) break;
      await new Promise<void>((resolve) => { wake = resolve; });
    }
  } finally {
    if (!finished) parser?.abort();
    stream.destroy();
  }
  if (!header) throw badInput(`${path}: empty file (no header row)`);
  if (row > firstRow || firstRow === 0) yield flush();
}

/**
 * Data rows of a table file, cheaply, for a progress bar's total: CSV lines after the header (a
 * quoted line break counts as a row), a Parquet footer's count; undefined for Arrow or when the
 * file cannot be read (the reader then reports the problem).
 */
export async function tableRowCount(path: string): Promise<number | undefined> {
  try {
    const format = await detectTableFormat(path);
    if (format === 'parquet') return await (await parquetModule()).parquetRowCount(path);
    if (format !== 'csv') return undefined;
    let lines = 0, last = 10;
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
      if (chunk.length > 0) last = chunk[chunk.length - 1];
    }
    if (last !== 10) lines++;
    return Math.max(0, lines - 1);
  } catch {
    return undefined;
  }
}

/** Reads a whole table into memory. */
export async function readTable(path: string, schema: TableSchema = {}): Promise<TableChunk> {
  const chunks: TableChunk[] = [];
  for await (const chunk of tableChunks(path, schema)) chunks.push(chunk);
  return concatChunks(chunks);
}

/**
 * Chunks of a table file of at most `chunkRows` rows (all full but the last), the format chosen by
 * extension: .csv; .parquet/.pq; .arrow/.feather/.ipc/.arrows (Arrow IPC file or stream). A file
 * with another extension is recognized by its magic bytes, else read as CSV.
 */
export async function* tableChunks(path: string, schema: TableSchema = {}, chunkRows = 1 << 20): AsyncGenerator<TableChunk> {
  if (!(Number.isSafeInteger(chunkRows) && chunkRows >= 1)) throw badInput(`chunk size must be a positive integer, got ${chunkRows}`);
  const format: TableFormat = await detectTableFormat(path);
  if (format === 'parquet') yield* (await parquetModule()).parquetChunks(path, schema, chunkRows);
  else if (format === 'arrow') yield* (await arrowModule()).arrowChunks(path, schema, chunkRows);
  else yield* csvChunks(path, schema, chunkRows);
}

/**
 * Writes columns (in order) to `path`, the format chosen by extension (.csv, .parquet/.pq,
 * .arrow/.feather/.ipc/.arrows; CSV for any other), atomically: on any failure no file is left and
 * an existing file is untouched. Float64Array columns are stored as doubles, Int32Array as 32-bit
 * integers, Uint8Array as 8-bit unsigned integers (0/1 flags), string[] as UTF-8 text.
 */
export async function writeTable(path: string, columns: TableColumns, options: WriteTableOptions = {}): Promise<void> {
  await writeTableChunks(path, [columns], options);
}

/**
 * Streams column sets (chunks of one table, in row order, with the same column names and types)
 * into one file, the format chosen as for `writeTable`, atomically. Each chunk is checked as it
 * comes; memory holds one chunk at a time. Returns the number of rows written.
 */
export async function writeTableChunks(
  path: string,
  chunks: Iterable<TableColumns> | AsyncIterable<TableColumns>,
  options: WriteTableOptions = {},
): Promise<number> {
  const chunkRows = options.chunkRows ?? DEFAULT_WRITE_CHUNK_ROWS;
  if (!(Number.isSafeInteger(chunkRows) && chunkRows >= 1)) throw badInput(`chunk size must be a positive integer, got ${chunkRows}`);
  const format = options.format ?? outputFormatOf(path);
  async function* checked(): AsyncGenerator<NormalizedColumns> {
    let first: NormalizedColumns | undefined;
    let k = 0;
    for await (const columns of chunks as AsyncIterable<TableColumns>) {
      const table = normalizeColumns(path, columns);
      if (first) checkSameLayout(path, first, table, k);
      first ??= table;
      k++;
      yield table;
    }
    if (!first) throw badInput(`cannot write ${path}: no data`);
  }
  if (format === 'parquet') return (await parquetModule()).writeParquet(path, checked(), chunkRows);
  if (format === 'arrow') return (await arrowModule()).writeArrow(path, checked(), chunkRows);
  return writeCsv(path, checked(), chunkRows);
}

export function concatChunks(chunks: readonly TableChunk[]): TableChunk {
  if (chunks.length === 1) return chunks[0];
  const first = chunks[0];
  const rows = chunks.reduce((n, c) => n + c.rows, 0);
  const numeric = new Map<string, Float64Array>();
  const text = new Map<string, string[]>();
  for (const name of first.numeric.keys()) {
    const out = new Float64Array(rows);
    let at = 0;
    for (const c of chunks) {
      out.set(c.numeric.get(name)!, at);
      at += c.rows;
    }
    numeric.set(name, out);
  }
  for (const name of first.text.keys()) text.set(name, chunks.flatMap((c) => c.text.get(name)!));
  return { header: first.header, firstRow: 0, rows, numeric, text };
}
