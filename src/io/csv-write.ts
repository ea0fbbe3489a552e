// CSV output, written in slices of rows into the atomic temp file so that a large table never
// sits whole in memory as text. Numbers are written in JavaScript's shortest round-trip form, so
// reading the file back gives the same doubles. csv-stringify writes the header and is the
// reference for quoting; rows go through `csvField`, a direct implementation of the same rules
// that is several times faster (test/io compares the two on awkward text).
import { stringify } from 'csv-stringify/sync';
import { DEFAULT_WRITE_CHUNK_ROWS, writeAtomically, type NormalizedColumns } from './formats.js';

const NEEDS_QUOTES = /[",\r\n]/;

/** One text field as csv-stringify writes it by default: quoted when it holds , " CR or LF; quotes doubled. */
export function csvField(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Rows [start, end) of the columns as CSV lines (each ending in a newline). */
export function csvRows(table: NormalizedColumns, start: number, end: number): string {
  const { columns } = table;
  const lines = new Array<string>(end - start);
  const cells = new Array<string>(columns.length);
  for (let i = start; i < end; i++) {
    for (let j = 0; j < columns.length; j++) {
      const column = columns[j];
      cells[j] = Array.isArray(column) ? csvField(column[i]) : String(column[i]);
    }
    lines[i - start] = cells.join(',');
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** The same rows through csv-stringify: the reference `csvRows` is tested against. */
export function csvRowsReference(table: NormalizedColumns, start: number, end: number): string {
  const records = [];
  for (let i = start; i < end; i++) records.push(table.columns.map((c) => (Array.isArray(c) ? c[i] : String(c[i]))));
  return stringify(records);
}

/** Writes checked column sets (same names each) as one CSV file with a header row. Returns the rows written. */
export async function writeCsv(path: string, tables: AsyncIterable<NormalizedColumns>, chunkRows = DEFAULT_WRITE_CHUNK_ROWS): Promise<number> {
  let total = 0;
  await writeAtomically(path, async (out) => {
    let header = false;
    for await (const table of tables) {
      if (!header) {
        await out.write(stringify([table.names]));
        header = true;
      }
      for (let start = 0; start < table.rows; start += chunkRows) await out.write(csvRows(table, start, Math.min(table.rows, start + chunkRows)));
      total += table.rows;
    }
  });
  return total;
}
