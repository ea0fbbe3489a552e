// Arrow IPC tables through apache-arrow. Reading goes record batch by record batch (file or stream
// format, detected by the library), so memory holds one batch plus one chunk; writing emits one
// record batch per slice of rows in the IPC file format (what .arrow and .feather v2 mean).
import { promises as fs } from 'node:fs';
import {
  Field, Float64, Int32, RecordBatch, RecordBatchFileWriter, RecordBatchReader, Schema, Struct, Uint8, Utf8, makeData,
  type Data, type DataType, type Vector,
} from 'apache-arrow';
import { badInput } from '../errors.js';
import {
  ChunkAssembler, DEFAULT_WRITE_CHUNK_ROWS, writeAtomically, checkHeader, numericColumn, requireReadableFile, textColumn,
  type NormalizedColumns, type TableColumn,
} from './formats.js';
import type { TableChunk, TableSchema } from './table.js';

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}

/** Reads an Arrow IPC file or stream in chunks of `chunkRows` rows, validating the header and every value. */
export async function* arrowChunks(path: string, schema: TableSchema = {}, chunkRows = 1 << 20): AsyncGenerator<TableChunk> {
  await requireReadableFile(path);
  const handle = await fs.open(path, 'r');
  try {
    let reader: Awaited<ReturnType<typeof openReader>>;
    try {
      reader = await openReader(handle);
    } catch (error) {
      throw badInput(`${path}: not a readable Arrow IPC file (${firstLine(error)})`);
    }
    let assembler: ChunkAssembler | undefined;
    let header: string[] = [];
    let isText: boolean[] = [];
    let row = 0;
    const start = (names: string[]) => {
      header = names;
      checkHeader(path, header, schema);
      const textColumns = new Set(schema.text ?? []);
      isText = header.map((h) => textColumns.has(h));
      assembler = new ChunkAssembler(header, isText, chunkRows);
    };
    const batches = reader[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<{ numRows: number; schema: { fields: { name: string }[] }; getChildAt(i: number): Vector | null }>;
      try {
        next = await batches.next();
      } catch (error) {
        throw badInput(`${path}: cannot decode Arrow record batch (${firstLine(error)})`);
      }
      if (next.done) break;
      const batch = next.value;
      if (!assembler) start(batch.schema.fields.map((f) => f.name));
      const piece = header.map((name, j) => {
        const vector = batch.getChildAt(j)!;
        if (vector.nullCount > 0) {
          for (let i = 0; i < vector.length; i++) {
            if (!vector.isValid(i)) throw badInput(`${path}: row ${row + i + 1}, column "${name}": missing value (null)`);
          }
        }
        const values = vector.toArray() as ArrayLike<unknown>;
        return isText[j] ? textColumn(path, name, row, values) : numericColumn(path, name, row, values);
      });
      row += batch.numRows;
      yield* assembler!.push(batch.numRows, piece);
    }
    // A stream or file without batches still has a schema: the header is known.
    if (!assembler) start(reader.schema?.fields.map((f) => f.name) ?? []);
    yield* assembler!.finish();
  } finally {
    await handle.close();
  }
}

async function openReader(handle: fs.FileHandle) {
  const reader = await RecordBatchReader.from(handle);
  await reader.open();
  return reader;
}

/**
 * Writes checked column sets (same names and types each) as one Arrow IPC file, one record batch
 * per `chunkRows` rows. Returns the rows written.
 */
export async function writeArrow(path: string, tables: AsyncIterable<NormalizedColumns>, chunkRows = DEFAULT_WRITE_CHUNK_ROWS): Promise<number> {
  let rows = 0;
  await writeAtomically(path, async (out) => {
    const writer = new RecordBatchFileWriter();
    // The writer queues its bytes; drain them into the temp file while batches are produced.
    const drained = (async () => {
      for await (const bytes of writer) await out.write(bytes);
    })();
    try {
      let batchOf: ((table: NormalizedColumns, start: number, end: number) => RecordBatch) | undefined;
      let batches = 0;
      for await (const table of tables) {
        if (!batchOf) {
          const fields = table.names.map((name, j) => new Field(name, arrowTypeOf(table.columns[j]), false));
          const schema = new Schema(fields);
          batchOf = (t, start, end) => new RecordBatch(schema, makeData({
            type: new Struct(fields), length: end - start, nullCount: 0,
            children: t.columns.map((column) => columnData(column, start, end)),
          }));
        }
        // An empty table still gets its schema written (one empty batch).
        for (let start = 0; start < table.rows || (start === 0 && batches === 0); start += chunkRows) {
          writer.write(batchOf(table, start, Math.min(table.rows, start + chunkRows)));
          batches++;
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (table.rows === 0) break;
        }
        rows += table.rows;
      }
      writer.finish();
      writer.close();
      await drained;
    } catch (error) {
      writer.abort(error);
      await drained.catch(() => undefined);
      throw error;
    }
  });
  return rows;
}

function arrowTypeOf(column: TableColumn): DataType {
  if (column instanceof Float64Array) return new Float64();
  if (column instanceof Int32Array) return new Int32();
  if (column instanceof Uint8Array) return new Uint8();
  return new Utf8();
}

const utf8 = new TextEncoder();

/** One column's rows [start, end) as Arrow data: numbers without copying, text as UTF-8 with offsets. */
function columnData(column: TableColumn, start: number, end: number): Data {
  const length = end - start;
  if (column instanceof Float64Array) return makeData({ type: new Float64(), length, nullCount: 0, data: column.subarray(start, end) });
  if (column instanceof Int32Array) return makeData({ type: new Int32(), length, nullCount: 0, data: column.subarray(start, end) });
  if (column instanceof Uint8Array) return makeData({ type: new Uint8(), length, nullCount: 0, data: column.subarray(start, end) });
  const encoded = column.slice(start, end).map((text) => utf8.encode(text));
  const valueOffsets = new Int32Array(length + 1);
  let bytes = 0;
  encoded.forEach((b, i) => {
    bytes += b.length;
    valueOffsets[i + 1] = bytes;
  });
  const data = new Uint8Array(bytes);
  encoded.forEach((b, i) => data.set(b, valueOffsets[i]));
  return makeData({ type: new Utf8(), length, nullCount: 0, valueOffsets, data });
}
