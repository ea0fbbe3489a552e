// promopt allocate end to end: SPEC §4 keys, --out id,discount, both methods, and bad input
// (one line on stderr, exit 2, no output file).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocate } from '../../src/coupons/allocate.js';
import { ResponseModel } from '../../src/coupons/response.js';
import { logistic } from '../../src/kernels/math.js';
import { CounterRng } from '../../src/random.js';
import { withEngine } from '../helpers.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'promopt-allocate-'));
const run = (...args: string[]) => spawnSync(process.execPath, [main, '--threads', '1', ...args], { encoding: 'utf8' });
const file = (name: string, content: string) => { const p = join(dir, name); writeFileSync(p, content); return p; };

const n = 400;
const f: number[] = [], g: number[] = [], spend: number[] = [];
for (let i = 0; i < n; i++) {
  const rng = new CounterRng(77, 3, i);
  f.push(Number((-3 + rng.normal()).toFixed(6)));
  g.push(Number((10 * rng.uniform()).toFixed(6)));
  spend.push(Number((50 + 100 * rng.uniform()).toFixed(2)));
}
const rows = (edit: (i: number, row: string[]) => string[] = (_i, r) => r, header = 'id,f,g,spend') =>
  [header, ...f.map((_, i) => edit(i, [`c${i}`, String(f[i]), String(g[i]), String(spend[i])]).join(','))].join('\n') + '\n';
const budget = '600';

test('allocate --json: SPEC §4 keys, the API\'s answer, and --out with one id,discount row per customer', async () => {
  const input = file('customers.csv', rows());
  const out = join(dir, 'coupons.csv');
  const r = run('allocate', '--input', input, '--budget', budget, '--out', out, '--json');
  assert.is(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  for (const key of ['lambda', 'expectedRevenue', 'expectedDiscount', 'distribution']) assert.ok(key in json, key);
  const api = await withEngine({ threads: 1 }, (engine) => allocate({ f, g, spend }, { budget: Number(budget) }, engine));
  assert.is(json.lambda, api.lambda);
  assert.is(json.expectedDiscount, api.expectedDiscount);
  assert.equal(json.distribution, api.distribution);
  assert.ok(json.lambda > 1 && json.expectedDiscount <= Number(budget));
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  assert.is(lines[0], 'id,discount');
  assert.is(lines.length, n + 1);
  lines.slice(1).forEach((line, i) => assert.is(line, `c${i},${api.discounts[api.discountIndex[i]]}`));
  const bisection = JSON.parse(run('allocate', '--input', input, '--budget', budget, '--method', 'bisection', '--tolerance', '1e-8', '--json').stdout);
  assert.ok(Math.abs(bisection.lambda - json.lambda) <= 2e-8 * json.lambda);
  // custom discounts and nominal, and the text report
  const text = run('allocate', '--input', input, '--budget', budget, '--discounts', '0.05,0.1,0.25', '--nominal', '0.05');
  assert.is(text.status, 0, text.stderr);
  assert.match(text.stdout, /shadow price λ/);
  assert.match(text.stdout, /25%/);
});

test('spend is optional (default 1)', () => {
  const input = file('nospend.csv', ['id,f,g', ...f.map((_, i) => `c${i},${f[i]},${g[i]}`)].join('\n'));
  const r = run('allocate', '--input', input, '--budget', '6', '--json');
  assert.is(r.status, 0, r.stderr);
  assert.ok(JSON.parse(r.stdout).expectedDiscount <= 6);
});

test('allocate --model --features: f and g from a fitted response model (promopt fit)', async () => {
  // a small training panel for `promopt fit`: three features, discounts 0.10–0.20
  const lines = ['customer,day,clicks,cart_visits,max_coupon,discount,purchased'];
  for (let i = 0; i < 6000; i++) {
    const rng = new CounterRng(3, 9, i);
    const clicks = rng.integer(5), cart = rng.normal(), maxCoupon = [0, 0.1, 0.2][rng.integer(3)];
    const d = [0.1, 0.15, 0.2][rng.integer(3)];
    const y = rng.uniform() < logistic(-1 + 0.3 * clicks + (6 + 3 * cart - 10 * maxCoupon) * (d - 0.1)) ? 1 : 0;
    lines.push([`c${i % 500}`, String(Math.floor(i / 500)), String(clicks), cart.toFixed(4), String(maxCoupon), String(d), String(y)].join(','));
  }
  const days = file('days.csv', `${lines.join('\n')}\n`);
  const model = join(dir, 'model.json');
  const fit = run('fit', '--input', days, '--model', model, '--rounds', '10', '--max-depth', '3', '--json');
  assert.is(fit.status, 0, fit.stderr);
  const features = ['id,spend,clicks,cart_visits,max_coupon'];
  for (let i = 0; i < 300; i++) {
    const rng = new CounterRng(5, 1, i);
    features.push([`k${i}`, (20 + 100 * rng.uniform()).toFixed(2), String(rng.integer(5)), rng.normal().toFixed(4), String([0, 0.1, 0.2][rng.integer(3)])].join(','));
  }
  const featureFile = file('features.csv', `${features.join('\n')}\n`);
  const loaded = await ResponseModel.load(model);
  const rows = features.slice(1).map((l) => l.split(','));
  const column = (j: number) => Float64Array.from(rows, (r) => Number(r[j]));
  const out = join(dir, 'model-coupons.csv');
  const expected = await withEngine({ threads: 1 }, async (engine) => {
    const { f: fm, g: gm } = await loaded.predict([column(2), column(3), column(4)], engine);
    const atOne = await allocate({ f: fm, g: gm, spend: column(1) }, { budget: 1e12, nominal: loaded.nominalDiscount }, engine);
    const b = 0.8 * atOne.expectedDiscount;
    return { b, result: await allocate({ f: fm, g: gm, spend: column(1) }, { budget: b, nominal: loaded.nominalDiscount }, engine) };
  });
  const r = run('allocate', '--model', model, '--features', featureFile, '--budget', String(expected.b), '--out', out, '--json');
  assert.is(r.status, 0, r.stderr);
  const json = JSON.parse(r.stdout);
  assert.is(json.lambda, expected.result.lambda);
  assert.equal(json.distribution, expected.result.distribution);
  assert.is(readFileSync(out, 'utf8').trim().split('\n').length, 301);
  const both = run('allocate', '--model', model, '--features', featureFile, '--input', featureFile, '--budget', '1');
  assert.is(both.status, 2);
  assert.match(both.stderr, /either --input .* or --model with --features/);
  const neither = run('allocate', '--budget', '1');
  assert.is(neither.status, 2);
  assert.match(neither.stderr, /needs --input FILE/);
});

test('bad input: one line on stderr, exit 2, and no output file', () => {
  const cases: Array<[string, string, string[], RegExp]> = [
    ['nan.csv', rows((i, r) => (i === 5 ? [r[0], 'NaN', r[2], r[3]] : r)), [], /nan\.csv: row 7, column "f": "NaN" is not a finite number/],
    ['inf.csv', rows((i, r) => (i === 2 ? [r[0], r[1], 'Infinity', r[3]] : r)), [], /row 4, column "g"/],
    ['negative.csv', rows((i, r) => (i === 1 ? [r[0], r[1], r[2], '-5'] : r)), [], /negative\.csv: row 3, column "spend": -5 is negative/],
    ['missing.csv', 'id,f\na,1\n', [], /missing column "g"/],
    ['ok1.csv', rows(), ['--budget', '1'], /^promopt: budget 1 cannot be met: the smallest possible expected discount is [\d.]+$/],
    ['ok2.csv', rows(), ['--discounts', '10,20'], /discounts\[0\] is 10: discounts are fractions in \(0, 1\)/],
    ['ok3.csv', rows(), ['--discounts', '0.2,0.1'], /strictly ascending/],
    ['ok4.csv', rows(), ['--nominal', '2'], /--nominal must be a number from 0 to 1/],
    ['ok5.csv', rows(), ['--method', 'greedy'], /--method must be "exact" or "bisection"/],
  ];
  for (const [name, content, extra, pattern] of cases) {
    const input = file(name, content);
    const out = join(dir, `${name}.out.csv`);
    const args = ['allocate', '--input', input, '--budget', budget, '--out', out, '--json', ...extra];
    const r = run(...args);
    assert.is(r.status, 2, `${name}: exit ${r.status}, stderr ${r.stderr}`);
    assert.is(r.stdout, '', name);
    const lines = r.stderr.trim().split('\n');
    assert.is(lines.length, 1, `${name}: ${r.stderr}`);
    assert.match(lines[0], pattern, name);
    assert.not.ok(existsSync(out), `${name}: an output file was left behind`);
  }
  rmSync(dir, { recursive: true, force: true });
});

test.run();
