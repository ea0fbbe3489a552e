import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSharingData } from '../../src/sharing/data.js';
import { counterfactual, fileSource } from '../../src/sharing/counterfactual.js';
import { parameterNames } from '../../src/sharing/delta.js';
import { parseGammaGrid } from '../../src/cli/counterfactual.js';
import { withEngine } from '../helpers.js';
import { smallExperiment } from './counterfactual-fixtures.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });

const { data, params } = smallExperiment(400, 12);
let dir = '';
const path = (name: string) => join(dir, name);

test.before(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'promopt-cf-cli-'));
  await writeSharingData(path('data.csv'), data);
  await fs.writeFile(path('params.json'), JSON.stringify(params));
  const names = parameterNames(params);
  await fs.writeFile(path('cov.json'), JSON.stringify({ names, matrix: names.map((_, i) => names.map((__, j) => (i === j ? 1e-4 : 0))) }));
});
test.after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

test('--json prints the SPEC §4 keys, the same numbers as the API', async () => {
  const out = run(['counterfactual', '--data', path('data.csv'), '--params', path('params.json'), '--gamma-grid', '0:1:0.5', '--json', '--threads', '1']);
  assert.is(out.status, 0, out.stderr);
  const json = JSON.parse(out.stdout);
  for (const s of ['UNS', 'US', 'UP', 'PNS', 'PS', 'PP']) assert.type(json.schemes[s].profit, 'number');
  assert.type(json.socialShare, 'number');
  assert.equal(json.sensitivity.gamma, [0, 0.5, 1]);
  const api = await withEngine({ threads: 1 }, (engine) => counterfactual(fileSource(path('data.csv'), params), params, { gammaGrid: [0, 0.5, 1] }, engine));
  assert.is(json.schemes.PP.profit, api.schemes.PP.profit);
  assert.is(json.socialShare, api.socialShare);
});

test('with a covariance every scheme gets a standard error; text output prints the slides\' table', () => {
  const out = run(['counterfactual', '--data', path('data.csv'), '--params', path('params.json'), '--covariance', path('cov.json'), '--gamma-grid', 'none', '--json']);
  assert.is(out.status, 0, out.stderr);
  const json = JSON.parse(out.stdout);
  for (const s of ['UNS', 'US', 'UP', 'PNS', 'PS', 'PP']) assert.ok(json.schemes[s].se > 0, s);
  const text = run(['counterfactual', '--data', path('data.csv'), '--params', path('params.json'), '--gamma-grid', '0,1']);
  assert.is(text.status, 0, text.stderr);
  assert.match(text.stdout, /1\. No personalization \(UNS\)/);
  assert.match(text.stdout, /4\. Integrated personalization \(PP\)/);
  assert.match(text.stdout, /Broadcasting benchmark/);
});

test('bad input: one line on stderr, exit 2, naming the problem', async () => {
  const wanting = { ...params, covariates: [...params.covariates, 'tenure'], beta_v: [...params.beta_v, 0], beta_alpha: [...params.beta_alpha, 0], beta_sc: [...params.beta_sc, 0], beta_r: [...params.beta_r, 0] };
  await fs.writeFile(path('wanting.json'), JSON.stringify(wanting));
  const cases: [string[], RegExp][] = [
    [['--params', path('wanting.json')], /missing covariate column "tenure"/],
    [['--gamma-grid', '2:0:1'], /--gamma-grid/],
    [['--covariance', path('params.json')], /"names"/],
    [['--data', path('nope.csv')], /nope\.csv/],
  ];
  for (const [extra, message] of cases) {
    const args = ['counterfactual', '--data', path('data.csv'), '--params', path('params.json'), '--json', ...extra];
    const out = run(args);
    assert.is(out.status, 2, `${extra.join(' ')}: ${out.stderr}`);
    assert.is(out.stdout, '');
    assert.match(out.stderr, message);
    assert.is(out.stderr.trim().split('\n').length, 1);
  }
});

test('gamma grids: ranges, lists, none', () => {
  assert.equal(parseGammaGrid('0:2:0.1').length, 21);
  assert.is(parseGammaGrid('0:2:0.1')[3], 0.3);
  assert.equal(parseGammaGrid('0.5, 1,2'), [0.5, 1, 2]);
  assert.equal(parseGammaGrid('none'), []);
  assert.throws(() => parseGammaGrid('-1,2'), /--gamma-grid/);
});

test.run();
