import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CounterRng } from '../../src/random.js';
import { logistic } from '../../src/kernels/math.js';
import { ResponseModel } from '../../src/coupons/response.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'promopt-fit-'));

function promopt(...args: string[]) {
  return spawnSync(process.execPath, [main, ...args, '--threads', '1'], { encoding: 'utf8' });
}

function writeCsv(path: string, n: number, mutate?: (row: string[], i: number) => void): void {
  const lines = ['customer,day,clicks,cart_visits,max_coupon,discount,purchased'];
  for (let i = 0; i < n; i++) {
    const rng = new CounterRng(3, 9, i);
    const clicks = rng.integer(5), cart = rng.normal(), maxCoupon = [0, 0.1, 0.2][rng.integer(3)];
    const d = [0.1, 0.15, 0.2][rng.integer(3)];
    const y = rng.uniform() < logistic(-1 + 0.3 * clicks + (6 + 3 * cart - 10 * maxCoupon) * (d - 0.1)) ? 1 : 0;
    const row = [`c${i % 500}`, String(Math.floor(i / 500)), String(clicks), cart.toFixed(4), String(maxCoupon), String(d), String(y)];
    mutate?.(row, i);
    lines.push(row.join(','));
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

test('promopt fit --json: fits, writes a loadable model, prints diagnostics', () => {
  const input = join(dir, 'days.csv');
  const model = join(dir, 'model.json');
  writeCsv(input, 6000);
  const run = promopt('fit', '--input', input, '--model', model, '--rounds', '20', '--max-depth', '3', '--json');
  assert.is(run.status, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  assert.is(out.features, 3);
  assert.is(out.rows, 6000);
  assert.ok(out.shareGPositive > 0.5);
  assert.ok(out.heldOut.logLoss < out.heldOut.constantLogLoss);
  assert.equal(out.coefficients.map((c: { name: string }) => c.name), ['intercept', 'clicks', 'cart_visits', 'max_coupon']);
  const loaded = ResponseModel.fromJSON(JSON.parse(readFileSync(model, 'utf8')));
  assert.equal(loaded.featureNames, ['clicks', 'cart_visits', 'max_coupon']);
  const text = promopt('fit', '--input', input, '--model', join(dir, 'model2.json'), '--rounds', '5');
  assert.is(text.status, 0, text.stderr);
  assert.match(text.stdout, /Top predictors of coupon sensitivity g/);
});

test('promopt fit: bad input exits 2 with one line naming the row and column, and writes no model', () => {
  const input = join(dir, 'bad.csv');
  const model = join(dir, 'bad-model.json');
  writeCsv(input, 300, (row, i) => { if (i === 41) row[6] = '2'; });
  const run = promopt('fit', '--input', input, '--model', model);
  assert.is(run.status, 2);
  assert.match(run.stderr, /row 43, column "purchased": 2 is not 0 or 1/);
  assert.is(run.stderr.trim().split('\n').length, 1);
  assert.not.ok(existsSync(model));
  writeCsv(input, 300, (row, i) => { if (i === 7) row[4] = 'abc'; });
  const nan = promopt('fit', '--input', input, '--model', model);
  assert.is(nan.status, 2);
  assert.match(nan.stderr, /row 9, column "max_coupon"/);
  const missing = promopt('fit', '--input', join(dir, 'nope.csv'), '--model', model);
  assert.is(missing.status, 2);
  assert.match(missing.stderr, /no such file/);
  assert.not.ok(existsSync(model));
});

test.run();
