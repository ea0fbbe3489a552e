import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { simulateCoupons } from '../../src/coupons/simulate.js';
import { COUPON_FEATURE_NAMES, CouponFeatureStream, couponPanel, dailyBlock, staticColumns } from '../../src/coupons/features.js';
import { rollingFeaturesReference, FEATURE_COUNT, RollingFeatures } from '../../src/kernels/features.js';
import { assertClose, withEngine } from '../helpers.js';

const feature = (name: string) => COUPON_FEATURE_NAMES.indexOf(name);

test('feature names are unique and match the kernel output', () => {
  assert.is(new Set(COUPON_FEATURE_NAMES).size, COUPON_FEATURE_NAMES.length);
  assert.is(COUPON_FEATURE_NAMES.length, FEATURE_COUNT);
  assert.ok(FEATURE_COUNT >= 50, `${FEATURE_COUNT} features`);
});

for (const [flavor, threads] of [['release', 1], ['release', 2], ['debug', 1]] as const) {
  test(`${flavor}, ${threads} thread(s): streaming window kernel = reference recomputed from the full history, every day`, async () => {
    // Odd customer count: exercises the padding to an even stride.
    const sim = simulateCoupons({ customers: 301, days: 36, seed: 5, randomizedShare: 0.5 });
    const statics = staticColumns(sim.customers);
    const blocks = sim.logs.map(dailyBlock);
    await withEngine({ flavor, threads, inlineBelow: 0 }, async (engine) => {
      const stream = new CouponFeatureStream(sim.customers, sim.config.discounts, sim.config.firstDayOfWeek, { shardSize: 64 });
      for (let t = 0; t < sim.logs.length; t++) {
        const actual = await stream.next(t === 0 ? null : sim.logs[t - 1], engine);
        const expected = rollingFeaturesReference(blocks.slice(0, t), statics, sim.config.discounts, (sim.config.firstDayOfWeek + t) % 7);
        for (let f = 0; f < FEATURE_COUNT; f++) assertClose(actual[f], expected[f], 1e-12, 1e-12, `day ${t} ${COUPON_FEATURE_NAMES[f]}`);
      }
    });
  });
}

test('bit-identical features on 1 and 2 threads with small shards (customers are independent)', async () => {
  const sim = simulateCoupons({ customers: 777, days: 12, seed: 8 });
  const run = (threads: number) => withEngine({ threads, inlineBelow: 0 }, async (engine) => {
    const stream = new CouponFeatureStream(sim.customers, sim.config.discounts, sim.config.firstDayOfWeek, { shardSize: threads === 1 ? 16384 : 128 });
    const days: Float64Array[][] = [];
    for (let t = 0; t < sim.logs.length; t++) days.push(await stream.next(t === 0 ? null : sim.logs[t - 1], engine));
    return days;
  });
  const [a, b] = [await run(1), await run(2)];
  for (let t = 0; t < a.length; t++) for (let f = 0; f < FEATURE_COUNT; f++) assert.ok(a[t][f].every((x, i) => Object.is(x, b[t][f][i])), `day ${t} ${COUPON_FEATURE_NAMES[f]}`);
});

test('360-day windows: purchases leave the window after 360 days', async () => {
  const sim = simulateCoupons({ customers: 6, days: 372, seed: 9, randomizedShare: 1 });
  const statics = staticColumns(sim.customers);
  const blocks = sim.logs.map(dailyBlock);
  await withEngine({ threads: 1 }, async (engine) => {
    const rolling = new RollingFeatures(6, statics, sim.config.discounts);
    for (let t = 0; t < blocks.length; t++) {
      const actual = await rolling.advance(t === 0 ? null : blocks[t - 1], t % 7, engine);
      if (t >= 355) {
        const expected = rollingFeaturesReference(blocks.slice(0, t), statics, sim.config.discounts, t % 7);
        for (let f = 0; f < FEATURE_COUNT; f++) assertClose(actual[f], expected[f], 1e-11, 1e-10, `day ${t} ${COUPON_FEATURE_NAMES[f]}`);
      }
    }
    // After 372 days the 360-day transaction count differs from the all-time count for someone who bought early.
    const last = rollingFeaturesReference(blocks.slice(0, 371), statics, sim.config.discounts, 0);
    let all = 0;
    for (let t = 0; t < 371; t++) all += blocks[t][7 * 6 + 0];
    assert.ok(last[feature('transactions360')][0] <= all);
  });
});

test('features use only past days: day t features do not change when day t outcomes change', async () => {
  const sim = simulateCoupons({ customers: 40, days: 10, seed: 2 });
  const statics = staticColumns(sim.customers);
  const blocks = sim.logs.map(dailyBlock);
  const a = rollingFeaturesReference(blocks.slice(0, 5), statics, sim.config.discounts, 3);
  const altered = blocks.map((b) => Float32Array.from(b));
  altered[5].fill(1); // day 5's own log
  const b = rollingFeaturesReference(altered.slice(0, 5), statics, sim.config.discounts, 3);
  for (let f = 0; f < FEATURE_COUNT; f++) assert.equal(Array.from(a[f]), Array.from(b[f]));
  // And spot checks of meaning on day 5: yesterday's coupon and the 3-day transaction count.
  const log4 = sim.logs[4];
  for (let i = 0; i < 40; i++) {
    assert.is(a[feature('couponReceived1DayAgo')][i], log4.coupon[i]);
    const tx3 = sim.logs[2].purchased[i] + sim.logs[3].purchased[i] + sim.logs[4].purchased[i];
    assert.is(a[feature('transactions3')][i], tx3);
    const largest = Math.max(sim.logs[2].coupon[i], sim.logs[3].coupon[i], sim.logs[4].coupon[i]);
    assert.is(a[feature('largestCoupon3')][i], largest);
  }
});

test('panel: one row per customer-day with the day\'s discount and outcome', async () => {
  const sim = simulateCoupons({ customers: 50, days: 12, seed: 3 });
  const panel = await withEngine({ threads: 1 }, (engine) => couponPanel(sim.customers, sim.logs, { discounts: sim.config.discounts, firstDayOfWeek: sim.config.firstDayOfWeek, firstDay: 4, include: (i) => i % 2 === 0 }, engine));
  assert.is(panel.discount.length, 25 * 8);
  assert.is(panel.features.length, FEATURE_COUNT);
  for (let r = 0; r < panel.discount.length; r++) {
    const log = sim.logs[panel.day[r]];
    assert.is(panel.discount[r], log.coupon[panel.customer[r]]);
    assert.is(panel.purchased[r], log.purchased[panel.customer[r]]);
    assert.ok(panel.customer[r] % 2 === 0);
  }
});

test('bad input: a block of the wrong size or a bad coupon code is refused with the field named', async () => {
  const sim = simulateCoupons({ customers: 4, days: 2, seed: 3 });
  const rolling = new RollingFeatures(4, staticColumns(sim.customers), sim.config.discounts);
  await withEngine({ threads: 1 }, async (engine) => {
    await rolling.advance(null, 0, engine);
    try { await rolling.advance(new Float32Array(3), 1, engine); assert.unreachable('accepted a short block'); } catch (e) { assert.match((e as Error).message, /daily block/); }
    const block = dailyBlock(sim.logs[0]);
    block[2] = 9;
    try { await rolling.advance(block, 1, engine); assert.unreachable('accepted a bad coupon code'); } catch (e) { assert.match((e as Error).message, /couponCode\[2\]/); }
    const nan = dailyBlock(sim.logs[0]);
    nan[8 * 4 + 1] = NaN;
    try { await rolling.advance(nan, 1, engine); assert.unreachable('accepted NaN'); } catch (e) { assert.match((e as Error).message, /spend\[1\]/); }
  });
});

test.run();
