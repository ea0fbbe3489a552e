// Table I/O: CSV ↔ Parquet ↔ Arrow round trips keep every value, chunked reads equal whole reads,
// bad input names file, row and column, and a failed write leaves no file behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, promises as fs, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { Bool, Float64, Int64, Table, Utf8, tableToIPC, vectorFromArray } from 'apache-arrow';
import { concatChunks, readTable, tableChunks, tableRowCount, writeTable, writeTableChunks, chunkColumns, type TableChunk, type TableColumn } from '../../src/io/table.js';
import { PromoptError } from '../../src/errors.js';
import { csvRows, csvRowsReference } from '../../src/io/csv-write.js';
import { normalizeColumns } from '../../src/io/formats.js';

const dir = mkdtempSync(join(tmpdir(), 'promopt-io-'));
const at = (name: string) => join(dir, name);
const FORMATS = ['csv', 'parquet', 'arrow'] as const;
const SCHEMA = { required: ['market', 'price', 's'], text: ['market', 'label'] };

/** A table with awkward doubles, extreme integers, 0/1 flags and awkward text. */
function sampleColumns(n: number): Map<string, TableColumn> {
  const price = new Float64Array(n);
  const count = new Int32Array(n);
  const s = new Uint8Array(n);
  const market: string[] = [];
  const label: string[] = [];
  const special = [0.1 + 0.2, 1e-300, -1.5e300, 123456789012345, 5e-324, -0, 2 ** 53, Math.PI, -7.25];
  const texts = ['plain', 'comma, inside', 'quote " inside', 'line\nbreak', 'é ü 北京 🚀', '', '007', '1e5', 'NaN'];
  for (let i = 0; i < n; i++) {
    price[i] = i < special.length ? special[i] : Math.sin(i) * 1000 / (i + 1);
    count[i] = i === 0 ? -(2 ** 31) : i === 1 ? 2 ** 31 - 1 : (i * 7919) % 1000 - 500;
    s[i] = i % 3 === 0 ? 1 : 0;
    market.push(`m${i % 21}`);
    label.push(texts[i % texts.length]);
  }
  return new Map<string, TableColumn>([['market', market], ['price', price], ['count', count], ['s', s], ['label', label]]);
}

/** Asserts that a table read back holds exactly the written values (numbers bit for bit, -0 aside in CSV). */
function assertSameTable(actual: TableChunk, expected: Map<string, TableColumn>, label: string): void {
  assert.equal(actual.header, [...expected.keys()], `${label}: header`);
  for (const [name, column] of expected) {
    if (Array.isArray(column)) {
      assert.equal(actual.text.get(name), column, `${label}: text column ${name}`);
    } else {
      const got = actual.numeric.get(name)!;
      assert.ok(got instanceof Float64Array, `${label}: ${name} is numeric`);
      assert.is(got.length, column.length, `${label}: ${name} length`);
      for (let i = 0; i < column.length; i++) {
        // Object.is would tell -0 from 0; CSV writes -0 as "0", which is the same number.
        if (!(got[i] === column[i])) assert.unreachable(`${label}: ${name}[${i}] = ${got[i]}, wrote ${column[i]}`);
      }
    }
  }
}

async function expectBadInput(promise: Promise<unknown>, ...fragments: string[]): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, PromoptError);
    assert.is((error as PromoptError).code, 'BAD_INPUT');
    const message = (error as Error).message;
    assert.not.ok(message.includes('\n'), `one line: ${message}`);
    for (const f of fragments) assert.ok(message.includes(f), `"${message}" should mention ${f}`);
    return message;
  }
  assert.unreachable(`expected a bad-input error mentioning ${fragments.join(', ')}`);
  return '';
}

async function collect(path: string, chunkRows: number, schema = SCHEMA): Promise<TableChunk[]> {
  const chunks: TableChunk[] = [];
  for await (const c of tableChunks(path, schema, chunkRows)) chunks.push(c);
  return chunks;
}

test('each format round-trips numeric and text columns exactly', async () => {
  const columns = sampleColumns(1000);
  for (const format of FORMATS) {
    const path = at(`direct.${format}`);
    await writeTable(path, columns, { chunkRows: 300 });
    assertSameTable(await readTable(path, SCHEMA), columns, format);
  }
});

test('CSV rows are written exactly as csv-stringify writes them', () => {
  const awkward = ['', ' ', ' lead', 'trail ', 'a,b', 'say "hi"', '"', '""', 'cr\rhere', 'lf\nhere', 'crlf\r\n', 'tab\there', '=1+2', "it's", 'é北🚀', ';', '#', 'NaN', '-0'];
  const columns = sampleColumns(awkward.length * 3);
  columns.set('label', Array.from({ length: awkward.length * 3 }, (_, i) => awkward[i % awkward.length]));
  const table = normalizeColumns('x.csv', columns);
  assert.is(csvRows(table, 0, table.rows), csvRowsReference(table, 0, table.rows));
  assert.is(csvRows(table, 5, 9), csvRowsReference(table, 5, 9));
});

test('CSV → Parquet → Arrow → CSV keeps every value', async () => {
  const columns = sampleColumns(500);
  await writeTable(at('chain0.csv'), columns);
  const fromCsv = await readTable(at('chain0.csv'), SCHEMA);
  await writeTable(at('chain1.parquet'), chunkColumns(fromCsv));
  const fromParquet = await readTable(at('chain1.parquet'), SCHEMA);
  await writeTable(at('chain2.arrow'), chunkColumns(fromParquet));
  const fromArrow = await readTable(at('chain2.arrow'), SCHEMA);
  await writeTable(at('chain3.csv'), chunkColumns(fromArrow));
  const back = await readTable(at('chain3.csv'), SCHEMA);
  for (const [label, table] of [['csv', fromCsv], ['parquet', fromParquet], ['arrow', fromArrow], ['csv again', back]] as const) {
    assertSameTable(table, columns, label);
  }
  // The CSV written from Arrow is byte-identical to the first one (numbers are Float64 after reading).
  const first = await readTable(at('chain0.csv'), SCHEMA);
  assert.equal(chunkColumns(first).get('price'), chunkColumns(back).get('price'));
});

test('chunked reading equals whole reading, chunks full but the last, in every format', async () => {
  const columns = sampleColumns(100);
  for (const format of FORMATS) {
    const path = at(`chunks.${format}`);
    await writeTable(path, columns, { chunkRows: 13 }); // row groups / batches of 13 rows
    const whole = await readTable(path, SCHEMA);
    const chunks = await collect(path, 7);
    assert.is(chunks.length, 15, `${format}: chunk count`);
    chunks.forEach((c, k) => {
      assert.is(c.firstRow, 7 * k, `${format}: firstRow of chunk ${k}`);
      assert.is(c.rows, k < 14 ? 7 : 2, `${format}: rows of chunk ${k}`);
    });
    const joined = concatChunks(chunks);
    assert.equal(joined.numeric, whole.numeric, `${format}: numeric`);
    assert.equal(joined.text, whole.text, `${format}: text`);
    assertSameTable(joined, columns, format);
  }
});

test('CSV: a file larger than the read-ahead, with multi-byte text across its boundaries, reads back exactly in chunks', async () => {
  // ≈ 3 MiB: several 1 MiB reads, so UTF-8 sequences and quoted line breaks fall across them
  const columns = sampleColumns(60_000);
  const path = at('large.csv');
  await writeTable(path, columns);
  const chunks = await collect(path, 25_000);
  assert.equal(chunks.map((c) => c.rows), [25_000, 25_000, 10_000]);
  assertSameTable(concatChunks(chunks), columns, 'large csv');
  // a consumer that stops early releases the file (no error, no hang)
  for await (const chunk of tableChunks(path, SCHEMA, 1000)) {
    assert.is(chunk.rows, 1000);
    break;
  }
});

test('CSV: BOM, CRLF, blank lines and spaces around fields are accepted', async () => {
  writeFileSync(at('crlf.csv'), '\uFEFFmarket , price,s\r\n a ,1.5 , 0\r\n\r\n"b, c", 2,1\r\n');
  const table = await readTable(at('crlf.csv'), SCHEMA);
  assert.equal(table.header, ['market', 'price', 's']);
  assert.equal(table.text.get('market'), ['a', 'b, c']);
  assert.equal([...table.numeric.get('price')!], [1.5, 2]);
  assert.equal([...table.numeric.get('s')!], [0, 1]);
});

test('CSV: a row with too few or too many fields, or an unterminated quote, names the row', async () => {
  writeFileSync(at('short.csv'), 'market,price,s\na,1,0\nb,2\nc,3,1\n');
  await expectBadInput(readTable(at('short.csv'), SCHEMA), at('short.csv'), 'row 3', '2 fields', 'header 3');
  writeFileSync(at('long.csv'), 'market,price,s\na,1,0\nb,2,1\nc,3,1,9\n');
  await expectBadInput(readTable(at('long.csv'), SCHEMA), at('long.csv'), 'row 4', '4 fields');
  writeFileSync(at('quote.csv'), 'market,price,s\na,1,0\n"b,2,1\nc,3,1\n');
  await expectBadInput(readTable(at('quote.csv'), SCHEMA), at('quote.csv'), 'row 3', 'unterminated');
  writeFileSync(at('empty.csv'), '');
  await expectBadInput(readTable(at('empty.csv'), SCHEMA), at('empty.csv'), 'empty file');
});

test('row counts for the progress bar: CSV lines, the Parquet footer; Arrow and missing files unknown', async () => {
  const columns = sampleColumns(50); // one label holds a quoted line break every 9 rows
  for (const format of FORMATS) await writeTable(at(`count.${format}`), columns);
  const csvRows = await tableRowCount(at('count.csv'));
  assert.ok(csvRows !== undefined && csvRows >= 50 && csvRows <= 56, `CSV: ${csvRows}`);
  assert.is(await tableRowCount(at('count.parquet')), 50);
  assert.is(await tableRowCount(at('count.arrow')), undefined);
  assert.is(await tableRowCount(at('nowhere.csv')), undefined);
});

test('writing a table in streamed chunks gives the same table as writing it whole', async () => {
  const columns = sampleColumns(1000);
  const slices = async function* () {
    for (let start = 0; start < 1000; start += 333) {
      const end = Math.min(1000, start + 333);
      yield new Map([...columns].map(([name, c]) => [name, c.slice(start, end)] as [string, TableColumn]));
    }
  };
  for (const format of FORMATS) {
    const path = at(`streamed.${format}`);
    assert.is(await writeTableChunks(path, slices(), { chunkRows: 100 }), 1000);
    assertSameTable(await readTable(path, SCHEMA), columns, `streamed ${format}`);
    // A chunk whose columns differ from the first is refused and nothing is left behind.
    const mismatched = [new Map<string, TableColumn>([['x', new Float64Array(3)]]), new Map<string, TableColumn>([['x', new Int32Array(3)]])];
    await expectBadInput(writeTableChunks(at(`mismatch.${format}`), mismatched), 'chunk 2 has columns x:int32, the first had x:float64');
    await assertAbsent(at(`mismatch.${format}`));
    await expectBadInput(writeTableChunks(at(`nothing.${format}`), []), 'no data');
    await assertAbsent(at(`nothing.${format}`));
  }
});

test('an empty table keeps its header in every format', async () => {
  const columns = new Map<string, TableColumn>([['market', []], ['price', new Float64Array(0)], ['s', new Uint8Array(0)]]);
  for (const format of FORMATS) {
    const path = at(`empty.${format}`);
    await writeTable(path, columns);
    const table = await readTable(path, SCHEMA);
    assert.is(table.rows, 0, format);
    assert.equal(table.header, ['market', 'price', 's'], format);
  }
});

test('columns keep their order, integer-like names included', async () => {
  const columns = new Map<string, TableColumn>([['b', new Float64Array([1, 2])], ['10', new Float64Array([3, 4])], ['a', ['x', 'y']]]);
  for (const format of FORMATS) {
    const path = at(`order.${format}`);
    await writeTable(path, columns);
    assert.equal((await readTable(path, { text: ['a'] })).header, ['b', '10', 'a'], format);
  }
});

test('the format comes from the extension, else from the magic bytes, else CSV', async () => {
  const columns = sampleColumns(20);
  await writeTable(at('noext-parquet'), columns, { format: 'parquet' });
  await writeTable(at('noext-arrow'), columns, { format: 'arrow' });
  await writeTable(at('plain.txt'), columns);
  for (const name of ['noext-parquet', 'noext-arrow', 'plain.txt']) assertSameTable(await readTable(at(name), SCHEMA), columns, name);
  assert.ok((await fs.readFile(at('plain.txt'), 'utf8')).startsWith('market,price,count,s,label\n'));
  // An Arrow IPC stream (not file) reads too.
  const table = new Table({ price: vectorFromArray([1.5, 2.5], new Float64()), market: vectorFromArray(['a', 'b'], new Utf8()) });
  writeFileSync(at('stream.arrows'), tableToIPC(table, 'stream'));
  const read = await readTable(at('stream.arrows'), { text: ['market'] });
  assert.equal(Array.from(read.numeric.get('price')!), [1.5, 2.5]);
  assert.equal(read.text.get('market'), ['a', 'b']);
});

test('a missing required column is a one-line error naming file and column', async () => {
  const columns = new Map<string, TableColumn>([['market', ['a']], ['s', new Uint8Array([1])]]);
  for (const format of FORMATS) {
    const path = at(`missing.${format}`);
    await writeTable(path, columns);
    await expectBadInput(readTable(path, SCHEMA), path, 'missing column "price"');
  }
});

test('a non-numeric value in a numeric column names the row and the column', async () => {
  writeFileSync(at('bad.csv'), 'market,price,s\na,1,0\nb,abc,1\n');
  await expectBadInput(readTable(at('bad.csv'), SCHEMA), at('bad.csv'), 'row 3', 'column "price"', 'abc');
  // Text stored where a number is expected (the column was not declared as text).
  const columns = new Map<string, TableColumn>([['market', ['a', 'b']], ['price', ['1', 'cheap']], ['s', new Uint8Array(2)]]);
  for (const format of ['parquet', 'arrow']) {
    const path = at(`textprice.${format}`);
    await writeTable(path, columns);
    await expectBadInput(readTable(path, SCHEMA), path, 'row 1', 'column "price"', 'not a number');
  }
});

test('Parquet nulls and NaN in numeric columns are rejected with the row', async () => {
  const nulls = parquetWriteBuffer({ columnData: [
    { name: 'market', data: ['a', 'b', 'c'], type: 'STRING' },
    { name: 'price', data: [59, 79, null], type: 'DOUBLE' },
    { name: 's', data: [true, false, true], type: 'BOOLEAN' },
  ] });
  writeFileSync(at('nulls.parquet'), new Uint8Array(nulls));
  await expectBadInput(readTable(at('nulls.parquet'), SCHEMA), 'row 3', 'column "price"', 'missing value');
  const nan = parquetWriteBuffer({ columnData: [
    { name: 'market', data: ['a', 'b'], type: 'STRING' },
    { name: 'price', data: new Float64Array([NaN, 1]) },
    { name: 's', data: [1n, 0n], type: 'INT64' },
  ] });
  writeFileSync(at('nan.parquet'), new Uint8Array(nan));
  await expectBadInput(readTable(at('nan.parquet'), SCHEMA), 'row 1', 'column "price"', 'NaN');
  // Booleans and 64-bit integers are numbers (0/1 and exact integers).
  const ok = parquetWriteBuffer({ columnData: [
    { name: 'market', data: [null, 'b'], type: 'STRING' },
    { name: 'price', data: new Float64Array([1, 2]) },
    { name: 's', data: [true, false], type: 'BOOLEAN' },
  ] });
  writeFileSync(at('nulltext.parquet'), new Uint8Array(ok));
  await expectBadInput(readTable(at('nulltext.parquet'), SCHEMA), 'row 1', 'column "market"', 'missing value');
  const table = await readTable(at('nulls.parquet'), { text: ['market'] }).catch(() => undefined);
  assert.is(table, undefined);
});

test('Arrow nulls and NaN in numeric columns are rejected with the row', async () => {
  const withNull = new Table({
    market: vectorFromArray(['a', 'b', 'c'], new Utf8()),
    price: vectorFromArray([59, null, 88], new Float64()),
    s: vectorFromArray([true, false, true], new Bool()),
  });
  writeFileSync(at('nulls.arrow'), tableToIPC(withNull, 'file'));
  await expectBadInput(readTable(at('nulls.arrow'), SCHEMA), 'row 2', 'column "price"', 'missing value');
  const withNaN = new Table({
    market: vectorFromArray(['a', 'b'], new Utf8()),
    price: vectorFromArray([59, NaN], new Float64()),
    s: vectorFromArray([1n, 0n], new Int64()),
  });
  writeFileSync(at('nan.feather'), tableToIPC(withNaN, 'file'));
  await expectBadInput(readTable(at('nan.feather'), SCHEMA), 'row 2', 'column "price"', 'NaN');
  const huge = new Table({ market: vectorFromArray(['a'], new Utf8()), price: vectorFromArray([2n ** 60n], new Int64()), s: vectorFromArray([true], new Bool()) });
  writeFileSync(at('huge.arrow'), tableToIPC(huge, 'file'));
  await expectBadInput(readTable(at('huge.arrow'), SCHEMA), 'row 1', 'column "price"', 'too large');
  // Booleans and 64-bit integers that fit read as numbers.
  writeFileSync(at('ok.arrow'), tableToIPC(new Table({ market: vectorFromArray(['a'], new Utf8()), price: vectorFromArray([88n], new Int64()), s: vectorFromArray([true], new Bool()) }), 'file'));
  const ok = await readTable(at('ok.arrow'), SCHEMA);
  assert.equal([ok.numeric.get('price')![0], ok.numeric.get('s')![0]], [88, 1]);
});

test('files that are not what their extension says, or are missing, are one-line errors', async () => {
  writeFileSync(at('fake.parquet'), 'market,price\na,1\n');
  await expectBadInput(readTable(at('fake.parquet')), at('fake.parquet'), 'Parquet');
  writeFileSync(at('fake.arrow'), 'market,price\na,1\n');
  await expectBadInput(readTable(at('fake.arrow')), at('fake.arrow'), 'Arrow');
  for (const format of FORMATS) await expectBadInput(readTable(at(`nowhere.${format}`)), 'no such file');
});

test('bad columns are refused before anything is written', async () => {
  const bad: Array<[string, Map<string, TableColumn>, string]> = [
    ['nan', new Map<string, TableColumn>([['x', new Float64Array([1, NaN])]]), 'row 2, column "x"'],
    ['ragged', new Map<string, TableColumn>([['x', new Float64Array(2)], ['y', ['a']]]), 'column "y" has 1 rows'],
    ['none', new Map<string, TableColumn>(), 'no columns'],
  ];
  for (const [name, columns, fragment] of bad) {
    for (const format of FORMATS) {
      const path = at(`refused-${name}.${format}`);
      await expectBadInput(writeTable(path, columns), fragment);
      await assertAbsent(path);
    }
  }
  await expectBadInput(writeTable(join(dir, 'no-such-dir', 'x.csv'), { x: new Float64Array(1) }), 'does not exist');
});

async function assertAbsent(path: string): Promise<void> {
  await fs.stat(path).then(() => assert.unreachable(`${path} should not exist`), () => undefined);
}

test('a write that fails midway leaves no file and no temp file, and keeps an older file intact', async () => {
  const n = 50_000;
  for (const format of FORMATS) {
    // A text column that fails on its second pass (the first is validation), i.e. while rows are
    // being written, after earlier slices reached the temp file.
    let reads = 0;
    const values = Array.from({ length: n }, (_, i) => `v${i}`);
    const failing = new Proxy(values, {
      get(target, key, receiver) {
        if (key === String(n - 5) && ++reads > 1) throw new Error('disk on fire');
        if (key === 'slice') {
          return (a: number, b: number) => Array.from({ length: b - a }, (_, i) => receiver[a + i] as string);
        }
        return Reflect.get(target, key, receiver);
      },
    });
    const path = at(`failing.${format}`);
    const columns = new Map<string, TableColumn>([['x', new Float64Array(n)], ['t', failing]]);
    await writeTable(path, columns, { chunkRows: 1000 }).then(() => assert.unreachable('write should fail'), (error: Error) => {
      assert.match(error.message, 'disk on fire');
    });
    await assertAbsent(path);
    // With an older file in place, it survives the failed write unchanged.
    await writeTable(path, { x: new Float64Array([42]) });
    const before = await fs.readFile(path);
    reads = 0;
    await writeTable(path, columns, { chunkRows: 1000 }).catch(() => undefined);
    assert.ok((await fs.readFile(path)).equals(before), `${format}: older file untouched`);
  }
  assert.equal(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temp files left');
});

test.after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

test.run();
