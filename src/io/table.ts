// Tabular input: a header row, then one record per row. Columns come out as Float64Array for
// numeric fields and string[] for text fields. Streaming: `tableChunks` yields bounded chunks so
// that memory stays flat on very large files; `readTable` collects them.
import { createReadStream, promises as fs } from 'node:fs';
import { parse } from 'csv-parse';
import { badInput } from '../errors.js';

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

async function requireReadable(path: string): Promise<void> {
  try {
    const stat = await fs.stat(path);
    if (!stat.isFile()) throw badInput(`${path}: not a file`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw badInput(`${path}: no such file`);
    throw error;
  }
}

/** Reads a CSV file in chunks of at most `chunkRows` rows, validating the header and every value. */
export async function* csvChunks(path: string, schema: TableSchema = {}, chunkRows = 1 << 20): AsyncGenerator<TableChunk> {
  await requireReadable(path);
  const parser = createReadStream(path).pipe(parse({ bom: true, trim: true, skip_empty_lines: true, relax_column_count: false }));
  const textColumns = new Set(schema.text ?? []);
  let header: string[] | undefined;
  let isText: boolean[] = [];
  let buffers: (number[] | string[])[] = [];
  let firstRow = 0;
  let row = 0;
  const flush = (): TableChunk => {
    const numeric = new Map<string, Float64Array>();
    const text = new Map<string, string[]>();
    header!.forEach((name, j) => {
      if (isText[j]) text.set(name, buffers[j] as string[]);
      else numeric.set(name, Float64Array.from(buffers[j] as number[]));
    });
    const chunk: TableChunk = { header: header!, firstRow, rows: row - firstRow, numeric, text };
    buffers = header!.map(() => []);
    firstRow = row;
    return chunk;
  };
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!header) {
        header = record;
        const duplicate = header.find((h, i) => header!.indexOf(h) !== i);
        if (duplicate !== undefined) throw badInput(`${path}: column "${duplicate}" appears twice in the header`);
        for (const name of schema.required ?? []) {
          if (!header.includes(name)) throw badInput(`${path}: missing column "${name}" (header: ${header.join(',')})`);
        }
        isText = header.map((h) => textColumns.has(h));
        buffers = header.map(() => []);
        continue;
      }
      for (let j = 0; j < record.length; j++) {
        const cell = record[j];
        if (isText[j]) {
          (buffers[j] as string[]).push(cell);
        } else {
          const x = cell === '' ? NaN : Number(cell);
          if (!Number.isFinite(x)) throw badInput(`${path}: row ${row + 2}, column "${header[j]}": "${cell}" is not a finite number`);
          (buffers[j] as number[]).push(x);
        }
      }
      row++;
      if (row - firstRow >= chunkRows) yield flush();
    }
  } catch (error) {
    const e = error as { code?: string; message?: string; lines?: number };
    if (typeof e.code === 'string' && e.code.startsWith('CSV_')) throw badInput(`${path}: ${e.message}`);
    throw error;
  }
  if (!header) throw badInput(`${path}: empty file (no header row)`);
  if (row > firstRow || firstRow === 0) yield flush();
}

/** Reads a whole table into memory. */
export async function readTable(path: string, schema: TableSchema = {}): Promise<TableChunk> {
  const chunks: TableChunk[] = [];
  for await (const chunk of tableChunks(path, schema)) chunks.push(chunk);
  return concatChunks(chunks);
}

/** Chunks of a table file, the format chosen by extension (.csv; other formats: see src/io/formats). */
export function tableChunks(path: string, schema: TableSchema = {}, chunkRows = 1 << 20): AsyncGenerator<TableChunk> {
  return csvChunks(path, schema, chunkRows);
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
