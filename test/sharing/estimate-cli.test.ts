import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSharingData } from '../../src/sharing/data.js';
import { readParameters } from '../../src/sharing/model.js';
import { readCovariance, parameterNames } from '../../src/sharing/delta.js';
import { smallDesign, smallExperiment } from './estimate-dgp.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const promopt = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
const dir = mkdtempSync(join(tmpdir(), 'promopt-estimate-'));

test('promopt estimate --json: params and se with the same keys, covariance, files for counterfactual', async () => {
  const { data } = smallExperiment(smallDesign(6, 600, 21));
  const file = join(dir, 'data.csv');
  await writeSharingData(file, data);
  const out = join(dir, 'params.json'), cov = join(dir, 'cov.json');
  const r = promopt('--json', '--threads', '1', 'estimate', '--data', file, '--out', out, '--covariance-out', cov);
  assert.is(r.status, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(Object.keys(doc.se).sort(), Object.keys(doc.params).sort());
  for (const key of ['vbar', 'abar', 'scbar', 'sigma', 'r0', 'L']) assert.ok(doc.se[key] > 0, `se.${key}`);
  assert.equal(Object.keys(doc.params.xi_y).sort(), [...data.marketNames].sort());
  const params = await readParameters(out);
  assert.equal(params.covariates, ['x1', 'x2']);
  assert.ok(Math.abs(params.vbar - doc.params.vbar) < 1e-12);
  const covariance = await readCovariance(cov, params);
  assert.equal(covariance.names, parameterNames(params));
  assert.equal(doc.covariance.names, covariance.names);
  const text = promopt('--threads', '1', 'estimate', '--data', file);
  assert.is(text.status, 0, text.stderr);
  assert.match(text.stdout, /Implied Referral Value \(L\)/);
  assert.match(text.stdout, /\(4\) Log Number of Referrals/);
  // the referral step's bootstrap: in the JSON (data units and standardized) and as a table
  const boot = promopt('--json', '--threads', '1', 'estimate', '--data', file, '--referral-bootstrap', '20');
  assert.is(boot.status, 0, boot.stderr);
  const rb = JSON.parse(boot.stdout).referralBootstrap;
  assert.is(rb.replications + rb.failures, 20);
  assert.ok(rb.se.r0 > 0 && rb.se.beta_r.length === 2 && rb.standardized.interval95.beta_r.length === 2);
  const bootText = promopt('--threads', '1', 'estimate', '--data', file, '--referral-bootstrap', '20');
  assert.match(bootText.stdout, /Referral step, customer-level bootstrap: \d+ replications/);
  assert.match(bootText.stdout, /Basic 95% interval/);
});

test('promopt estimate on unidentified data: exit 2, one line naming the cause, no output file', async () => {
  const { data } = smallExperiment(smallDesign(6, 300, 22));
  const file = join(dir, 'constant.csv');
  await writeSharingData(file, { ...data, covariates: [data.covariates[0], new Float64Array(data.price.length).fill(1)] });
  const out = join(dir, 'never.json');
  const r = promopt('--threads', '1', 'estimate', '--data', file, '--out', out);
  assert.is(r.status, 2);
  assert.match(r.stderr, /covariate "x2" is constant/);
  assert.is(r.stderr.trim().split('\n').length, 1);
  assert.is(r.stdout, '');
  assert.not.ok(existsSync(out));
});

test('cleanup', () => rmSync(dir, { recursive: true, force: true }));

test.run();
