// Sharing-model parameters (SPEC §4 JSON): validation with one-line errors naming the field,
// the file round trip, and the per-customer primitives.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PromoptError } from '../../src/errors.js';
import { customerPrimitives, readParameters, validateParameters, writeParameters, type SharingParameters } from '../../src/sharing/model.js';
import { PAPER_PARAMETERS } from '../../src/sharing/paper.js';

function valid(): Record<string, unknown> {
  return {
    vbar: 0.5, abar: 0.02, scbar: 0.4, sigma: 10, r0: -2, L: 100,
    covariates: ['a', 'b'],
    beta_v: [0.1, 0.2], beta_alpha: [0.001, -0.002], beta_sc: [0.03, 0.04], beta_r: [0.5, -0.6],
    xi_y: { m1: 0.1 }, xi_w: { m1: -0.02, m2: 0.01 },
  };
}

/** Asserts that `fn` throws a bad-input PromoptError whose single-line message matches `pattern`. */
function rejects(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (error) {
    assert.instance(error, PromoptError);
    assert.is((error as PromoptError).code, 'BAD_INPUT');
    const message = (error as Error).message;
    assert.not.ok(message.includes('\n'), `one-line message: ${message}`);
    assert.match(message, pattern);
    return;
  }
  assert.unreachable(`expected an error matching ${pattern}`);
}

async function tempDir(): Promise<string> {
  return fs.mkdtemp(join(tmpdir(), 'promopt-model-'));
}

test('a complete parameter object validates and is copied', () => {
  const input = valid();
  const params = validateParameters(input);
  assert.equal(params.beta_r, [0.5, -0.6]);
  (input.beta_r as number[])[0] = 99;
  assert.is(params.beta_r[0], 0.5, 'validated parameters do not alias the input');
  assert.equal(validateParameters(PAPER_PARAMETERS).covariates.length, 14);
});

test('missing scalar keys are named', () => {
  for (const key of ['vbar', 'abar', 'scbar', 'sigma', 'r0', 'L']) {
    const obj = valid();
    delete obj[key];
    rejects(() => validateParameters(obj, 'truth.json'), new RegExp(`^truth\\.json: missing key "${key}"$`));
  }
});

test('missing or wrong-length beta arrays are named', () => {
  for (const key of ['beta_v', 'beta_alpha', 'beta_sc', 'beta_r']) {
    const missing = valid();
    delete missing[key];
    rejects(() => validateParameters(missing), new RegExp(`missing array "${key}"`));
    const short = valid();
    short[key] = [0.1];
    rejects(() => validateParameters(short), new RegExp(`"${key}" has 1 entries but there are 2 covariates`));
  }
  const noNames = valid();
  delete noNames.covariates;
  rejects(() => validateParameters(noNames), /"covariates" must be an array of names/);
  const twice = valid();
  twice.covariates = ['a', 'a'];
  rejects(() => validateParameters(twice), /covariate "a" is listed twice/);
});

test('non-finite and non-numeric values are rejected with their field', () => {
  for (const bad of [Infinity, -Infinity, NaN, '1', null]) {
    const scalar = valid();
    scalar.L = bad;
    rejects(() => validateParameters(scalar), /"L" must be a finite number/);
    const beta = valid();
    beta.beta_sc = [0.1, bad];
    rejects(() => validateParameters(beta), /"beta_sc"\[1\] must be a finite number/);
    const shock = valid();
    shock.xi_w = { m1: bad };
    rejects(() => validateParameters(shock), /"xi_w"\."m1" must be a finite number/);
  }
  const sigma = valid();
  sigma.sigma = 0;
  rejects(() => validateParameters(sigma), /"sigma" must be positive/);
  rejects(() => validateParameters([1, 2]), /expected a JSON object/);
  const shocks = valid();
  shocks.xi_y = [1];
  rejects(() => validateParameters(shocks), /"xi_y" must be an object of market → number/);
});

test('missing shock maps mean zero shocks', () => {
  const obj = valid();
  delete obj.xi_y;
  delete obj.xi_w;
  const params = validateParameters(obj);
  assert.equal(params.xi_y, {});
  assert.equal(params.xi_w, {});
});

test('write then read gives the same parameters; bad files are reported by path', async () => {
  const dir = await tempDir();
  try {
    const path = join(dir, 'params.json');
    const params = validateParameters(valid());
    await writeParameters(path, params);
    assert.equal(await readParameters(path), params);
    const paper = join(dir, 'paper.json');
    await writeParameters(paper, PAPER_PARAMETERS as SharingParameters);
    assert.equal(await readParameters(paper), validateParameters(PAPER_PARAMETERS));
    await fs.writeFile(join(dir, 'broken.json'), '{"vbar": 1,');
    await readParameters(join(dir, 'broken.json')).then(() => assert.unreachable('parsed broken JSON'), (e: Error) => assert.match(e.message, /broken\.json: not valid JSON/));
    await readParameters(join(dir, 'absent.json')).then(() => assert.unreachable('read a missing file'), (e: Error) => assert.match(e.message, /absent\.json: cannot read/));
    const noL = valid();
    delete noL.L;
    await fs.writeFile(join(dir, 'nol.json'), JSON.stringify(noL));
    await readParameters(join(dir, 'nol.json')).then(() => assert.unreachable('accepted a missing key'), (e: Error) => assert.match(e.message, /nol\.json: missing key "L"/));
    assert.equal((await fs.readdir(dir)).filter((f) => f.endsWith('.tmp')), [], 'no temporary files left');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('customer primitives follow SPEC §1.1, with market shocks (missing market: 0)', () => {
  const params = validateParameters(valid());
  const columns = [Float64Array.from([1, -0.5, 0]), Float64Array.from([2, 0.25, 0])];
  const market = ['m1', 'm2', 'other'];
  const p = customerPrimitives(params, { columns, market });
  for (let i = 0; i < 3; i++) {
    const x = [columns[0][i], columns[1][i]];
    const dot = (b: number[]) => x[0] * b[0] + x[1] * b[1];
    const xiY = params.xi_y[market[i]] ?? 0, xiW = params.xi_w[market[i]] ?? 0;
    assert.ok(Math.abs(p.baselineUtility[i] - (params.vbar + dot(params.beta_v) + xiY)) < 1e-15);
    assert.ok(Math.abs(p.priceSensitivity[i] - (params.abar + dot(params.beta_alpha))) < 1e-15);
    assert.ok(Math.abs(p.shareCost[i] - (params.scbar + dot(params.beta_sc) + xiW)) < 1e-15);
    assert.ok(Math.abs(p.expectedReferrals[i] - Math.exp(params.r0 + dot(params.beta_r))) < 1e-15 * p.expectedReferrals[i] + 1e-300);
  }
  rejects(() => customerPrimitives(params, { columns: [columns[0]], market }), /expected 2 covariate columns/);
  rejects(() => customerPrimitives(params, { columns: [columns[0], Float64Array.of(1)], market }), /covariate b has 1 values for 3 customers/);
});

test.run();
