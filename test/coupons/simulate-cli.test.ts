import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COUPON_FEATURE_NAMES } from '../../src/coupons/features.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'promopt-coupons-'));

function promopt(...args: string[]) {
  return spawnSync(process.execPath, [main, ...args, '--threads', '1'], { encoding: 'utf8' });
}

function assertBadInput(run: ReturnType<typeof promopt>, pattern: RegExp) {
  assert.is(run.status, 2, `exit ${run.status}: ${run.stderr}`);
  assert.is(run.stdout, '');
  assert.is(run.stderr.trim().split('\n').length, 1, run.stderr);
  assert.match(run.stderr, pattern);
}

test('coupons simulate --json: logs, customers, training panel and next-day features, streamed to files', () => {
  const files = ['logs.csv', 'customers.csv', 'panel.csv', 'next.csv'].map((f) => join(dir, f));
  const run = promopt('coupons', 'simulate', '--customers', '300', '--days', '12', '--warmup-days', '2', '--seed', '4', '--json',
    '--out', files[0], '--customers-out', files[1], '--features-out', files[2], '--next-day-out', files[3]);
  assert.is(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  assert.is(out.rows, 3600);
  assert.ok(out.purchaseRate > 0.01 && out.purchaseRate < 0.2, `purchase rate ${out.purchaseRate}`);
  const lines = (f: string) => readFileSync(f, 'utf8').trim().split('\n');
  assert.is(lines(files[0]).length, 3601);
  assert.is(lines(files[1]).length, 301);
  const panel = lines(files[2]);
  assert.is(panel.length, 1 + 300 * 10);
  assert.equal(panel[0].split(','), ['customer', 'day', 'discount', 'purchased', 'spend', ...COUPON_FEATURE_NAMES]);
  const next = lines(files[3]);
  assert.is(next.length, 301);
  assert.equal(next[0].split(',').slice(0, 2), ['id', 'spend']);
  // The panel's discount and purchase columns are the logs' (same simulation, second pass).
  const logRows = lines(files[0]).slice(1).map((l) => l.split(','));
  const byKey = new Map(logRows.map((r) => [`${r[0]},${r[1]}`, r]));
  for (const row of panel.slice(1, 200).map((l) => l.split(','))) {
    const log = byKey.get(`${row[0]},${row[1]}`)!;
    assert.is(row[2], log[4]);
    assert.is(row[3], log[11]);
  }
  // Same seed, same file.
  const again = join(dir, 'logs-again.csv');
  assert.is(promopt('coupons', 'simulate', '--customers', '300', '--days', '12', '--seed', '4', '--out', again, '--json').status, 0);
  assert.is(readFileSync(again, 'utf8'), readFileSync(files[0], 'utf8'));
});

test('coupons evidence reads logs and keeps the randomized rows', () => {
  const logs = join(dir, 'logs.csv');
  const run = promopt('coupons', 'evidence', '--logs', logs, '--json');
  assert.is(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  assert.is(out.correlations.length, 14);
  assert.is(out.table2.length, 4);
  assert.match(out.source, /randomized = 1/);
  assert.is(out.reportData.correlations.length, 14);
});

test('bad input: one line on stderr, exit 2, no output file', () => {
  const before = readdirSync(dir).length;
  assertBadInput(promopt('coupons', 'simulate', '--customers', '0', '--out', join(dir, 'x.csv')), /--customers/);
  assertBadInput(promopt('coupons', 'simulate', '--paper-size', '--customers', '5', '--out', join(dir, 'x.csv')), /--paper-size/);
  assertBadInput(promopt('coupons', 'simulate', '--customers', '10', '--days', '3', '--out', join(dir, 'missing', 'x.csv')), /does not exist/);
  assertBadInput(promopt('coupons', 'simulate', '--customers', '10', '--days', '3', '--discounts', '0.2,0.1', '--out', join(dir, 'x.csv')), /ascending/);
  assertBadInput(promopt('coupons', 'simulate', '--customers', '10', '--days', '3', '--warmup-days', '3', '--features-out', join(dir, 'x.csv')), /--warmup-days/);
  const bad = join(dir, 'bad-logs.csv');
  writeFileSync(bad, 'customer,day,purchased\n1,0,1\n');
  assertBadInput(promopt('coupons', 'evidence', '--logs', bad), /coupon/);
  writeFileSync(bad, 'customer,day,coupon,purchased\n1,0,0.1,2\n');
  assertBadInput(promopt('coupons', 'evidence', '--logs', bad), /row 2, column "purchased"/);
  assertBadInput(promopt('abtest', '--customers', '100', '--test-days', '0'), /--test-days/);
  assertBadInput(promopt('abtest', '--customers', '100', '--training-days', '5', '--warmup-days', '5'), /--warmup-days/);
  assertBadInput(promopt('abtest', '--customers', '100', '--model', join(dir, 'no-model.json')), /no such file/);
  assert.is(readdirSync(dir).length, before + 1); // only bad-logs.csv was added
  assert.not.ok(existsSync(join(dir, 'x.csv')));
});

test.run();
