// Table I/O: writing and reading a sharing-experiment-shaped table (market text, price, mc, s, w,
// y, referrals, 14 covariates) in CSV, Parquet and Arrow IPC, in ns per row; plus the peak memory
// of a chunked read against the file size, to show reads stream.
// Run: npm run build && node dist/bench/io.bench.js [rows=200000]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readTable, tableChunks, writeTable, type TableColumn } from '../src/io/table.js';
import { CounterRng } from '../src/random.js';
import { runSuite } from './harness.js';

const rows = Number(process.argv[2] ?? 200_000);
const dir = mkdtempSync(join(tmpdir(), 'promopt-io-bench-'));
const columns = new Map<string, TableColumn>();
columns.set('market', Array.from({ length: rows }, (_, i) => `m${Math.floor((21 * i) / rows)}`));
const price = new Float64Array(rows), mc = new Float64Array(rows);
const s = new Uint8Array(rows), w = new Uint8Array(rows), y = new Uint8Array(rows), referrals = new Int32Array(rows);
const covariates = Array.from({ length: 14 }, () => new Float64Array(rows));
for (let i = 0; i < rows; i++) {
  const rng = new CounterRng(1, 5, i);
  price[i] = [59, 79, 88, 98, 118][i % 5];
  mc[i] = 0.8 * price[i];
  s[i] = rng.bernoulli(0.5) ? 1 : 0;
  w[i] = rng.bernoulli(0.3) ? 1 : 0;
  y[i] = rng.bernoulli(0.25) ? 1 : 0;
  referrals[i] = rng.poisson(0.05);
  for (const c of covariates) c[i] = rng.normal();
}
Object.entries({ price, mc, s, w, y, referrals }).forEach(([k, v]) => columns.set(k, v));
covariates.forEach((c, j) => columns.set(`x${j + 1}`, c));
const schema = { required: ['market', 'price'], text: ['market'] };

const cases = (['csv', 'parquet', 'arrow'] as const).flatMap((format) => {
  const path = join(dir, `table.${format}`);
  return [
    { name: `write ${format}`, units: rows, run: () => writeTable(path, columns) },
    { name: `read ${format}`, units: rows, run: () => readTable(path, schema) },
  ];
});
console.error(`table I/O, ${rows.toLocaleString('en-US')} rows × ${columns.size} columns`);
await runSuite('io', cases, { minSamples: 3, maxTime: 4 });
for (const format of ['csv', 'parquet', 'arrow']) {
  const path = join(dir, `table.${format}`);
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before, seen = 0;
  for await (const chunk of tableChunks(path, schema, 16_384)) {
    seen += chunk.rows;
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  console.error(`  chunked read ${format}: ${seen} rows, file ${(statSync(path).size / 2 ** 20).toFixed(1)} MiB, RSS growth ${((peak - before) / 2 ** 20).toFixed(1)} MiB`);
}
rmSync(dir, { recursive: true, force: true });
