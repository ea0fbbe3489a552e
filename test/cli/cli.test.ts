import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export function promopt(...args: string[]) {
  const result = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('--help lists the commands and exits 0', () => {
  const r = promopt('--help');
  assert.is(r.status, 0);
  assert.match(r.stdout, /Usage: promopt/);
  assert.match(r.stdout, /grid/);
  assert.match(r.stdout, /--threads <n>/);
});

test('<command> --help shows the command options and the global ones', () => {
  const r = promopt('grid', '--help');
  assert.is(r.status, 0);
  assert.match(r.stdout, /--customers <n>/);
  assert.match(r.stdout, /Global Options/);
});

test('--json prints exactly one JSON document on stdout', () => {
  const r = promopt('--json', '--threads', '1', 'grid', '--customers', '2000');
  assert.is(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.is(doc.customers, 2000);
  assert.is(doc.prices, 56);
  assert.ok(doc.personalized.averageProfit >= Math.max(doc.traditional.averageProfit, doc.broadcasting.averageProfit) - 1e-9);
  assert.is(r.stderr, '');
});

test('the same seed gives the same result whatever the thread count', () => {
  const one = JSON.parse(promopt('--json', '--threads', '1', '--seed', '5', 'grid', '--customers', '40000').stdout);
  const two = JSON.parse(promopt('--json', '--threads', '2', '--seed', '5', 'grid', '--customers', '40000').stdout);
  assert.equal(one.traditional, two.traditional);
  assert.equal(one.broadcasting, two.broadcasting);
  assert.equal(one.personalized, two.personalized);
  const other = JSON.parse(promopt('--json', '--threads', '1', '--seed', '6', 'grid', '--customers', '40000').stdout);
  assert.not.equal(one.personalized.averageProfit, other.personalized.averageProfit);
});

test('bad input: one line on stderr, exit 2, nothing on stdout', () => {
  for (const args of [['grid', '--customers', 'many'], ['--threads', '0', 'grid'], ['no-such-command'], ['grid', '--no-such-option']]) {
    const r = promopt(...args);
    assert.is(r.status, 2, `${args.join(' ')}: status ${r.status}`);
    assert.is(r.stdout, '', `${args.join(' ')}: stdout ${r.stdout}`);
    assert.ok(r.stderr.trim().length > 0, `${args.join(' ')}: no message`);
  }
  const r = promopt('grid', '--customers', 'many');
  assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /--customers must be an integer/);
});

test.run();
