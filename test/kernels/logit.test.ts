import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { logitDemand, logitDemandReference, expectedReferrals, expectedReferralsReference, type LogitBatchInput } from '../../src/kernels/logit.js';
import { PromoptError } from '../../src/errors.js';
import { assertClose, uniformArray, withEngine } from '../helpers.js';

function randomBatch(n: number, seed: number, broadcast: 0 | 1, utilityScale = 1): LogitBatchInput {
  return {
    baselineUtility: uniformArray(n, -5 * utilityScale, 8 * utilityScale, seed, 1),
    priceSensitivity: uniformArray(n, 0.001, 0.08, seed, 2),
    shareCost: uniformArray(n, -1, 2, seed, 3),
    price: uniformArray(n, 0, 188, seed, 4),
    sigma: 18.858,
    broadcast,
  };
}

function compare(actual: Awaited<ReturnType<typeof logitDemand>>, expected: ReturnType<typeof logitDemandReference>, rel: number) {
  // Absolute floor far below any quantity that matters: values under 1e-300 may flush to zero.
  for (const key of Object.keys(expected) as (keyof typeof expected)[]) assertClose(actual[key], expected[key], rel, 1e-300, key);
}

for (const flavor of ['release', 'debug'] as const) {
  for (const broadcast of [0, 1] as const) {
    test(`${flavor}: logit kernel matches the reference within 1e-12 (s = ${broadcast}, odd n)`, async () => {
      const input = randomBatch(20_001, 3 + broadcast, broadcast);
      const actual = await withEngine({ flavor, threads: 1 }, (engine) => logitDemand(input, engine));
      compare(actual, logitDemandReference(input), 1e-12);
    });
  }
}

test('logit kernel is stable for utilities up to |u| = 700', async () => {
  const n = 4001;
  const u = Float64Array.from({ length: n }, (_, i) => -700 + (1400 * i) / (n - 1));
  const input: LogitBatchInput = {
    baselineUtility: u,
    priceSensitivity: new Float64Array(n).fill(0.02),
    shareCost: Float64Array.from(u, (x) => x / 50),
    price: new Float64Array(n),
    sigma: 18.858,
    broadcast: 1,
  };
  const actual = await withEngine({ threads: 1 }, (engine) => logitDemand(input, engine));
  const expected = logitDemandReference(input);
  for (const key of Object.keys(expected) as (keyof typeof expected)[]) {
    actual[key].forEach((x, i) => assert.ok(Number.isFinite(x), `${key}[${i}] = ${x} at u = ${u[i]}`));
  }
  compare(actual, expected, 1e-12);
  assert.is(actual.demand[0] > 0 && actual.demand[0] < 1e-300, true);
  assert.is(actual.demand[n - 1], 1);
  assert.is(actual.continuationValue[n - 1], 700);
});

test('expected referrals kernel matches Math.exp within 1e-15', async () => {
  const x = uniformArray(10_001, -8, 3, 5);
  const actual = await withEngine({ threads: 1 }, (engine) => expectedReferrals(x, engine));
  assertClose(actual, expectedReferralsReference(x), 1e-15, 0, 'referrals');
});

test('logit kernel rejects mismatched lengths and non-finite inputs before running', async () => {
  const input = randomBatch(10, 1, 1);
  await withEngine({ threads: 1 }, async (engine) => {
    try {
      await logitDemand({ ...input, price: new Float64Array(9) }, engine);
      assert.unreachable('accepted mismatched lengths');
    } catch (error) {
      assert.instance(error, PromoptError);
      assert.match((error as Error).message, /price has 9 entries but baselineUtility has 10/);
    }
    const bad = Float64Array.from(input.shareCost);
    bad[4] = NaN;
    try {
      await logitDemand({ ...input, shareCost: bad }, engine);
      assert.unreachable('accepted NaN');
    } catch (error) {
      assert.match((error as Error).message, /shareCost\[4\] is NaN/);
    }
  });
});

test.run();
