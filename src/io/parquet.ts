// Parquet tables through hyparquet (read) and hyparquet-writer (write). Reading goes one row group
// at a time, column by column, so memory holds at most one row group's column plus one chunk;
// writing emits one row group per slice of rows straight into the atomic temp file.
import { asyncBufferFromFile, parquetMetadataAsync, parquetScan, type FileMetaData, type SchemaElement } from 'hyparquet';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { badInput } from '../errors.js';
import type { AtomicWriter } from './atomic.js';
import {
  ChunkAssembler, DEFAULT_WRITE_CHUNK_ROWS, writeAtomically, checkHeader, numericColumn, requireReadableFile, textColumn,
  type NormalizedColumns, type TableColumn,
} from './formats.js';
import type { TableChunk, TableSchema } from './table.js';

/** Reads a Parquet file in chunks of `chunkRows` rows, validating the header and every value. */
/** Rows of a Parquet file, from its footer. */
export async function parquetRowCount(path: string): Promise<number> {
  return Number((await parquetMetadataAsync(await asyncBufferFromFile(path))).num_rows);
}

export async function* parquetChunks(path: string, schema: TableSchema = {}, chunkRows = 1 << 20): AsyncGenerator<TableChunk> {
  await requireReadableFile(path);
  const file = await asyncBufferFromFile(path);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
    throw badInput(`${path}: not a readable Parquet file (${firstLine(error)})`);
  }
  const columns = topLevelColumns(metadata.schema);
  const header = columns.map((c) => c.name);
  checkHeader(path, header, schema);
  const textColumns = new Set(schema.text ?? []);
  const isText = header.map((h) => textColumns.has(h));
  columns.forEach((c) => {
    if (c.nested) throw badInput(`${path}: column "${c.name}" is nested (struct, list or map); promopt reads flat columns only`);
  });
  const scan = await parquetScan({ file, metadata, useOffsetIndex: false });
  const assembler = new ChunkAssembler(header, isText, chunkRows);
  for (const range of scan.ranges) {
    // Within a row group, read at most a chunk's worth of rows at a time.
    for (let start = range.rowStart; start < range.rowEnd; start += chunkRows) {
      const end = Math.min(range.rowEnd, start + chunkRows);
      const piece: Array<Float64Array | string[]> = [];
      for (let j = 0; j < header.length; j++) {
        let values: ArrayLike<unknown>;
        try {
          values = await scan.readColumn({ column: header[j], rowStart: start, rowEnd: end });
        } catch (error) {
          throw badInput(`${path}: cannot decode column "${header[j]}" (${firstLine(error)})`);
        }
        piece.push(isText[j] ? textColumn(path, header[j], start, values) : numericColumn(path, header[j], start, values));
      }
      yield* assembler.push(end - start, piece);
    }
  }
  yield* assembler.finish();
}

interface TopLevelColumn {
  name: string;
  nested: boolean;
}

/** The top-level columns of a flattened Parquet schema (depth-first list with child counts). */
function topLevelColumns(schema: SchemaElement[]): TopLevelColumn[] {
  const out: TopLevelColumn[] = [];
  let at = 1;
  const skip = (index: number): number => {
    const children = schema[index].num_children ?? 0;
    let next = index + 1;
    for (let c = 0; c < children; c++) next = skip(next);
    return next;
  };
  const rootChildren = schema[0]?.num_children ?? 0;
  for (let c = 0; c < rootChildren; c++) {
    const element = schema[at];
    out.push({ name: element.name, nested: (element.num_children ?? 0) > 0 || element.repetition_type === 'REPEATED' });
    at = skip(at);
  }
  return out;
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0];
}

/** The writer's schema element type (hyparquet-writer bundles its own copy of hyparquet's types). */
type WriterSchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];

/** Parquet schema element of one column: DOUBLE, INT32, INT32 as UINT_8, or UTF-8 text; never null. */
function schemaElementOf(name: string, column: TableColumn): WriterSchemaElement {
  if (column instanceof Float64Array) return { name, type: 'DOUBLE', repetition_type: 'REQUIRED' };
  if (column instanceof Int32Array) return { name, type: 'INT32', repetition_type: 'REQUIRED' };
  if (column instanceof Uint8Array) return { name, type: 'INT32', repetition_type: 'REQUIRED', converted_type: 'UINT_8' };
  return { name, type: 'BYTE_ARRAY', repetition_type: 'REQUIRED', converted_type: 'UTF8' };
}

/**
 * hyparquet-writer's byte writer, emptied into the atomic temp file after every row group (the
 * library calls `flush` there), so the file never sits whole in memory.
 */
class StreamingByteWriter extends ByteWriter {
  constructor(private readonly out: AtomicWriter) {
    super(1 << 16);
  }

  flush(): Promise<void> {
    const bytes = new Uint8Array(this.buffer, 0, this.index).slice();
    this.index = 0;
    return this.out.write(bytes);
  }

  override finish(): Promise<void> {
    return this.flush();
  }
}

/**
 * Writes checked column sets (same names and types each) as one Parquet file (Snappy-compressed),
 * one row group per `chunkRows` rows. Returns the rows written.
 */
export async function writeParquet(path: string, tables: AsyncIterable<NormalizedColumns>, chunkRows = DEFAULT_WRITE_CHUNK_ROWS): Promise<number> {
  let rows = 0;
  await writeAtomically(path, async (out) => {
    const writer = new StreamingByteWriter(out);
    let parquet: ParquetWriter | undefined;
    for await (const { names, columns, rows: n } of tables) {
      parquet ??= new ParquetWriter({
        writer,
        schema: [{ name: 'root', num_children: names.length }, ...names.map((name, j) => schemaElementOf(name, columns[j]))],
        createdBy: 'promopt',
      });
      for (let start = 0; start < n; start += chunkRows) {
        const end = Math.min(n, start + chunkRows);
        const columnData = names.map((name, j) => {
          const column = columns[j];
          // UINT_8 columns are stored as INT32, which the encoder takes as an Int32Array.
          const data = column instanceof Uint8Array ? Int32Array.from(column.subarray(start, end)) : column.slice(start, end);
          return { name, data };
        });
        await parquet.write({ columnData, rowGroupSize: end - start });
      }
      rows += n;
    }
    await parquet?.finish();
  });
  return rows;
}
