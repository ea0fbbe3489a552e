// promopt cycles end to end: SPEC §4 keys, both languages, method selection, batch output with the
// myopic comparison, and bad input (one line, exit 2, no output file).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'promopt-cycles-'));
const run = (...args: string[]) => spawnSync(process.execPath, [main, '--threads', '1', ...args], { encoding: 'utf8' });
const file = (name: string, content: string) => { const p = join(dir, name); writeFileSync(p, content); return p; };

test('--input (prices): SPEC §4 keys, reduced method on a monotone gain', () => {
  const input = file('p.json', JSON.stringify({ prices: [1, 2, 3], memory: 2, gain: [[0, 0, 3], [0, 0, 0], [0.3, 0.3, 0.3]] }));
  const r = run('cycles', '--input', input, '--json');
  assert.is(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  for (const key of ['averageGain', 'generator', 'cycle', 'monotone', 'method']) assert.ok(key in out, key);
  assert.is(out.method, 'reduced');
  assert.is(out.monotone, true);
  // Cycle 1 3 3: price 1 against reference 3 (gain 3), then 3 twice against reference 1 (0.3 each).
  assert.equal(out.generator, [1, 3]);
  assert.equal(out.cycle, [1, 3, 3]);
  assert.ok(Math.abs(out.averageGain - 1.2) < 1e-12);
  const exact = JSON.parse(run('cycles', '--input', input, '--method', 'exact', '--json').stdout);
  assert.is(exact.method, 'exact');
  assert.ok(Math.abs(exact.averageGain - out.averageGain) < 1e-12);
});

test('--input (discounts) and a non-monotone gain (exact method)', () => {
  const d = file('d.json', JSON.stringify({ discounts: [0.1, 0.2], memory: 3, gain: [[5, 1], [6, 6]] }));
  const r = JSON.parse(run('cycles', '--input', d, '--json').stdout);
  assert.is(r.language, 'discounts');
  assert.ok(r.cycle.every((x: number) => x === 0.1 || x === 0.2));
  const nm = file('nm.json', JSON.stringify({ prices: [1, 2, 3, 4], memory: 2, gain: [[0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0], [1, 1, 1, 0]] }));
  const e = JSON.parse(run('cycles', '--input', nm, '--json').stdout);
  assert.is(e.method, 'exact');
  assert.is(e.monotone, false);
  assert.is(e.generator, null);
  assert.ok(Math.abs(e.averageGain - 6 / 7) < 1e-12);
});

test('bad input: one line naming the field, exit 2', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ prices: [1, 2], memory: 1, gain: [[1, 2]] }, /"gain" must be a 2×2 array/],
    [{ prices: [1, 2], memory: 0, gain: [[1, 2], [1, 2]] }, /"memory"/],
    [{ prices: [1, 2], memory: 1, gain: [[1, 2], [1, 'a']] }, /"gain"\[1\]\[1\]/],
  ];
  for (const [input, pattern] of cases) {
    const r = run('cycles', '--input', file('bad.json', JSON.stringify(input)), '--json');
    assert.is(r.status, 2);
    assert.is(r.stdout, '');
    assert.match(r.stderr, pattern);
    assert.is(r.stderr.trim().split('\n').length, 1);
  }
  const big = file('big.json', JSON.stringify({ prices: [1, 2, 3, 4, 5, 6], memory: 12, gain: Array.from({ length: 6 }, (_, i) => Array.from({ length: 6 }, (_, j) => (i + j) % 2)) }));
  const r = run('cycles', '--input', big);
  assert.is(r.status, 1);
  assert.match(r.stderr, /not reference-monotone.*limited to/);
});

test('--batch writes per-customer cycles and the myopic comparison; bad rows leave no file', () => {
  const rows = ['id,f,g,h,spend'];
  for (let i = 0; i < 50; i++) rows.push(`c${i},${(-3 + (i % 7) * 0.4).toFixed(2)},${10 + (i % 5) * 6},${(i % 9) * 8},${20 + i}`);
  const input = file('c.csv', rows.join('\n') + '\n');
  const out = join(dir, 'out.csv');
  const r = run('cycles', '--batch', input, '--memory', '5', '--compare-myopic', '--out', out, '--json');
  assert.is(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.is(summary.customers, 50);
  assert.ok(summary.myopic.lift >= 0);
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  assert.is(lines[0], 'id,averageGain,generator,period,cycleRevenue,myopicRevenue');
  assert.is(lines.length, 51);
  const bad = file('bad.csv', rows.slice(0, 3).join('\n') + '\nc9,0,1,-2,1\n');
  const out2 = join(dir, 'out2.csv');
  const r2 = run('cycles', '--batch', bad, '--memory', '5', '--out', out2);
  assert.is(r2.status, 2);
  assert.match(r2.stderr, /bad\.csv: row 4: h = -2/);
  assert.not.ok(existsSync(out2));
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
