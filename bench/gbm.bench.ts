// Histogram GBM: promopt's kernels vs XGBoost `hist` (the Debian package, when installed).
// Training: ROWS rows × 61 features, 100 trees of depth 6, η 0.3, 256 bins, λ 1 on both sides;
// held-out log-loss on 200,000 further rows. Scoring: SCORE_ROWS rows (1M-row chunks).
// Run: npm run build && node dist/bench/gbm.bench.js [rows=1000000] [scoreRows=20000000] [threads=2]
// PROMOPT_BENCH_SKIP_XGBOOST=1 runs promopt's side only.
// The XGBoost side is bench/gbm_xgboost.py (run with /usr/bin/python3, the interpreter the
// `python3-xgboost` package installs into); install with `apt-get install python3-xgboost`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Engine } from '../src/parallel/engine.js';
import { meanLogLoss, scoreForest, trainGbm } from '../src/kernels/gbm.js';
import { CounterRng } from '../src/random.js';
import { logistic } from '../src/kernels/math.js';
import { runSuite } from './harness.js';

const rows = Number(process.argv[2] ?? 1_000_000);
const scoreRows = Number(process.argv[3] ?? 20_000_000);
const threads = Number(process.argv[4] ?? 2);
const testRows = 200_000;
const features = 61;
const rounds = 100;

/** Features shaped like the paper's processed ones: counts, shares, amounts, a day of week. */
function generate(n: number): { columns: Float64Array[]; label: Uint8Array } {
  const columns = Array.from({ length: features }, () => new Float64Array(n));
  const label = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const rng = new CounterRng(2026, 5, i);
    for (let j = 0; j < features - 1; j++) {
      const kind = j % 3;
      columns[j][i] = kind === 0 ? rng.normal() : kind === 1 ? Math.floor(Math.exp(1.2 * rng.normal())) : rng.uniform();
    }
    columns[features - 1][i] = rng.integer(7);
    const x = (j: number) => columns[j][i];
    const eta = -1.2 + Math.sin(1.5 * x(0)) + 0.6 * x(3) * x(6) + 0.25 * Math.min(x(1), 6) - 0.8 * (x(2) > 0.7 ? 1 : 0)
      + 0.4 * x(9) + 0.3 * Math.log1p(x(4)) * (x(5) - 0.5) + (x(60) >= 5 ? 0.3 : 0) + 0.2 * Math.abs(x(12));
    label[i] = rng.uniform() < logistic(eta) ? 1 : 0;
  }
  return { columns, label };
}

console.error(`generating ${(rows + testRows).toLocaleString('en-US')} rows × ${features} features`);
const data = generate(rows + testRows);
const train = { features: data.columns.map((c) => c.subarray(0, rows)), label: data.label.subarray(0, rows) };
const heldOut = { features: data.columns.map((c) => c.subarray(rows)), label: data.label.subarray(rows) };
const engine = new Engine({ threads });
const params = { rounds, maxDepth: 6, learningRate: 0.3, bins: 255, lambda: 1, minChildWeight: 1, earlyStoppingRounds: 0 };

console.error(`promopt: training ${rounds} trees on ${threads} thread(s)`);
const c0 = process.cpuUsage();
const t0 = performance.now();
const { forest } = await trainGbm(train, undefined, params, engine);
const trainSeconds = (performance.now() - t0) / 1000;
const trainCpuSeconds = cpuSince(c0);
const heldOutLogLoss = meanLogLoss(await scoreForest(forest, heldOut.features, engine), heldOut.label);
console.error(`  ${trainSeconds.toFixed(2)} s, held-out log-loss ${heldOutLogLoss.toFixed(5)}, ${forest.feature.length} nodes`);

// Scoring: 1M-row chunks of the training rows until scoreRows rows are scored.
const chunkRows = Math.min(rows, 1_000_000);
const chunk = train.features.map((c) => c.subarray(0, chunkRows));
const scoreAll = async () => {
  for (let done = 0; done < scoreRows; done += chunkRows) {
    const n = Math.min(chunkRows, scoreRows - done);
    await scoreForest(forest, n === chunkRows ? chunk : chunk.map((c) => c.subarray(0, n)), engine);
  }
};
console.error(`promopt: scoring ${scoreRows.toLocaleString('en-US')} rows`);
const c1 = process.cpuUsage();
const s1 = performance.now();
await scoreAll();
const scoreOnceSeconds = (performance.now() - s1) / 1000;
const scoreCpuSeconds = cpuSince(c1);
const [scoring] = await runSuite('gbm scoring', [{ name: `score ${scoreRows} rows, ${threads} threads`, units: scoreRows, run: scoreAll }], { minSamples: 1, maxTime: 1 });
const scoreSeconds = (scoring.nsPerUnit * scoreRows) / 1e9;
await engine.close();

// XGBoost on the same rows (row-major float64 file; XGBoost builds its own float32 matrix).
let xgboost: Record<string, number | string> | undefined;
const probe = process.env.PROMOPT_BENCH_SKIP_XGBOOST ? { status: 1 } : spawnSync('/usr/bin/python3', ['-c', 'import xgboost']);
if (probe.status === 0) {
  const dir = mkdtempSync(join(tmpdir(), 'promopt-gbm-'));
  const prefix = join(dir, 'data');
  const n = rows + testRows;
  const rowMajor = new Float64Array(n * features);
  for (let j = 0; j < features; j++) {
    const col = data.columns[j];
    for (let i = 0; i < n; i++) rowMajor[i * features + j] = col[i];
  }
  writeFileSync(`${prefix}.x.f64`, new Uint8Array(rowMajor.buffer));
  writeFileSync(`${prefix}.y.u8`, data.label);
  writeFileSync(`${prefix}.meta.json`, JSON.stringify({ rows: n, trainRows: rows, features }));
  console.error(`xgboost: training and scoring on ${threads} thread(s)`);
  const script = fileURLToPath(new URL('../../bench/gbm_xgboost.py', import.meta.url));
  const run = spawnSync('/usr/bin/python3', [script, prefix, String(rounds), String(threads), String(scoreRows)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  rmSync(dir, { recursive: true, force: true });
  if (run.status === 0) xgboost = JSON.parse(run.stdout) as Record<string, number | string>;
  else console.error(`xgboost run failed: ${run.stderr}`);
} else {
  console.error('xgboost skipped: /usr/bin/python3 cannot import xgboost (apt-get install python3-xgboost)');
}

function cpuSince(start: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1e6;
}

const fmt = (x: unknown, d = 2) => (typeof x === 'number' ? x.toFixed(d) : '–');
console.log(`### Histogram GBM (${rows.toLocaleString('en-US')} rows × ${features} features, ${rounds} trees, depth 6, ${threads} threads)\n`);
console.log('| | promopt | XGBoost hist | ratio |');
console.log('|---|---:|---:|---:|');
console.log(`| training, s (XGBoost: DMatrix + train) | ${fmt(trainSeconds)} | ${fmt(xgboost?.totalTrainSeconds)} | ${xgboost ? fmt(trainSeconds / Number(xgboost.totalTrainSeconds)) + '×' : ''} |`);
console.log(`| held-out log-loss (${testRows.toLocaleString('en-US')} rows) | ${fmt(heldOutLogLoss, 5)} | ${fmt(xgboost?.heldOutLogLoss, 5)} | |`);
console.log(`| scoring ${scoreRows.toLocaleString('en-US')} rows, s | ${fmt(scoreSeconds)} | ${fmt(xgboost?.scoreSeconds)} | ${xgboost ? fmt(scoreSeconds / Number(xgboost.scoreSeconds)) + '×' : ''} |`);
console.log(`| training, CPU s (all threads) | ${fmt(trainCpuSeconds)} | ${fmt(xgboost?.trainCpuSeconds)} | ${xgboost ? fmt(trainCpuSeconds / Number(xgboost.trainCpuSeconds)) + '×' : ''} |`);
console.log(`| scoring, CPU s (all threads; one timed pass, ${fmt(scoreOnceSeconds)} s wall) | ${fmt(scoreCpuSeconds)} | ${fmt(xgboost?.scoreCpuSeconds)} | ${xgboost ? fmt(scoreCpuSeconds / Number(xgboost.scoreCpuSeconds)) + '×' : ''} |`);
if (xgboost) console.log(`\nXGBoost ${xgboost.version}: DMatrix ${fmt(xgboost.dmatrixSeconds)} s + train ${fmt(xgboost.trainSeconds)} s.`);
