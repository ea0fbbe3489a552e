// `promopt simulate sharing`: exit codes, --json output, atomic outputs, reproducibility.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readParameters } from '../../src/sharing/model.js';
import { readSharingData, summarizeSharing } from '../../src/sharing/data.js';
import { PAPER_SUMMARY } from '../../src/sharing/paper.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function promopt(args: string[], cwd: string) {
  const run = spawnSync(process.execPath, [main, ...args], { cwd, encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

let dir = '';
test.before(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'promopt-simcli-'));
});
test.after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

test('paper design: --json prints the table beside the slides\' figures; files are written and read back', async () => {
  const run = promopt(['simulate', 'sharing', '--design', 'paper', '--seed', '3', '--out', 'data.csv', '--params-out', 'truth.json', '--json'], dir);
  assert.is(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  assert.is(out.customers, 23266);
  assert.is(out.markets, 21);
  assert.is(out.groups.length, 5);
  out.groups.forEach((g: { price: number; shareRate: number; purchaseRate: number; slides: { shareRate: number; purchaseRate: number } }, k: number) => {
    assert.is(g.price, PAPER_SUMMARY[k].price);
    assert.is(g.slides.shareRate, PAPER_SUMMARY[k].shareRate);
    assert.ok(Math.abs(g.shareRate - g.slides.shareRate) <= 0.02);
    assert.ok(Math.abs(g.purchaseRate - g.slides.purchaseRate) <= 0.02);
  });
  const data = await readSharingData(join(dir, 'data.csv'));
  const summary = summarizeSharing(data);
  assert.equal(summary.groups.map((g) => g.shareRate), out.groups.map((g: { shareRate: number }) => g.shareRate), 'printed numbers are the file\'s');
  const truth = await readParameters(join(dir, 'truth.json'));
  assert.equal(Object.keys(truth.xi_y).sort(), [...data.marketNames].sort());
  assert.is(truth.L, 125.742);
  assert.equal(out.warnings, [], 'every market has sharers and buyers');
  // At the slides' S̄C some markets' optimal prices leave no sharers: said, with the markets named
  // (stderr in text mode, `warnings` in JSON); cheaper sharing (the README's S̄C 0.3) has none.
  const optimal = promopt(['simulate', 'sharing', '--design', 'paper', '--price-rule', 'optimal', '--shocks', 'random', '--out', 'opt.csv', '--json'], dir);
  assert.is(optimal.code, 0, optimal.stderr);
  const warnings: string[] = JSON.parse(optimal.stdout).warnings;
  assert.is(warnings.length, 1);
  assert.match(warnings[0], /market\(s\) without sharers or without buyers \(.*-c06/);
  const text = promopt(['simulate', 'sharing', '--design', 'paper', '--price-rule', 'optimal', '--shocks', 'random', '--out', 'opt.csv'], dir);
  assert.match(text.stderr, /promopt: warning: .*cannot identify their constants/);
  const cheaper = JSON.parse(await fs.readFile(join(dir, 'truth.json'), 'utf8'));
  await fs.writeFile(join(dir, 'cheaper.json'), JSON.stringify({ ...cheaper, scbar: 0.3 }));
  const fine = promopt(['simulate', 'sharing', '--design', 'paper', '--params', 'cheaper.json', '--price-rule', 'optimal', '--shocks', 'random', '--out', 'opt.csv', '--json'], dir);
  assert.is(fine.code, 0, fine.stderr);
  assert.equal(JSON.parse(fine.stdout).warnings, []);
});

test('text output shows the slides\' columns; the same seed writes the same bytes', async () => {
  const run = promopt(['simulate', 'sharing', '--seed', '3', '--out', 'again.csv'], dir);
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /share \(sim\)\s+share \(slides\)/);
  assert.match(run.stdout, /\n118\s+4\s+1,393\s+89\.1/);
  assert.match(run.stdout, /\nTotal\s+21\s+23,266/);
  assert.ok((await fs.readFile(join(dir, 'again.csv'))).equals(await fs.readFile(join(dir, 'data.csv'))));
});

test('custom design with the optimal price rule', async () => {
  const run = promopt(['simulate', 'sharing', '--design', 'custom', '--prices', '59,99', '--costs', '40', '--markets', '4', '--customers', '2000',
    '--price-rule', 'optimal', '--seed', '2', '--out', 'custom.csv', '--params-out', 'custom.json', '--json'], dir);
  assert.is(run.code, 0, run.stderr);
  const out = JSON.parse(run.stdout);
  assert.is(out.priceRule, 'optimal');
  assert.is(out.shocks, 'random');
  assert.equal(out.groups.map((g: { price: number }) => g.price), [59, 99], 'grouped by design price');
  assert.ok(out.groups.every((g: { slides: unknown }) => g.slides === null));
  const data = await readSharingData(join(dir, 'custom.csv'));
  assert.is(data.market.length, 2000);
  const truth = JSON.parse(await fs.readFile(join(dir, 'custom.json'), 'utf8'));
  assert.equal(truth.simulation.markets.map((m: { price: number }) => m.price), out.marketDetails.map((m: { price: number }) => m.price));
});

test('bad input exits 2 with one line on stderr and writes nothing', async () => {
  const before = (await fs.readdir(dir)).sort();
  const cases: Array<[string[], RegExp]> = [
    [['--design', 'bogus', '--out', 'x.csv'], /--design must be one of paper, custom/],
    [['--prices', '59,79', '--out', 'x.csv'], /custom design/],
    [['--design', 'custom', '--prices', '59,x', '--costs', '40', '--out', 'x.csv'], /--prices must be a number/],
    [['--design', 'custom', '--prices', '59,79', '--costs', '40,50,60', '--out', 'x.csv'], /3 wholesale costs for 2 prices/],
    [['--out', join(dir, 'missing-dir', 'x.csv')], /directory .* does not exist/],
    [['--out', 'x.csv', '--params-out', join(dir, 'missing-dir', 't.json')], /directory .* does not exist/],
    [['--out', 'x.csv', '--params', 'absent.json'], /absent\.json: cannot read/],
    [['--out', 'x.csv', '--price-rule', 'cheap'], /--price-rule must be one of design, optimal/],
  ];
  for (const [args, pattern] of cases) {
    const run = promopt(['simulate', 'sharing', ...args], dir);
    assert.is(run.code, 2, `${args.join(' ')}: exit ${run.code}, ${run.stderr}`);
    assert.is(run.stdout, '');
    assert.is(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, pattern);
  }
  const missing = promopt(['simulate', 'sharing'], dir);
  assert.is(missing.code, 2, 'a missing --out is a usage error');
  assert.equal((await fs.readdir(dir)).sort(), before, 'no output or temporary files');
});

test.run();
