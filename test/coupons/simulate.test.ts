import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CouponWorld, couponTruth, customerGainMatrix, simulateCoupons } from '../../src/coupons/simulate.js';
import { IncumbentPolicy } from '../../src/coupons/incumbent.js';

test('same seed, same logs; a customer\'s data do not depend on how many others are simulated', () => {
  const small = simulateCoupons({ customers: 120, days: 15, seed: 11 });
  const again = simulateCoupons({ customers: 120, days: 15, seed: 11 });
  const large = simulateCoupons({ customers: 500, days: 15, seed: 11 });
  for (let t = 0; t < 15; t++) {
    for (const key of ['couponLevel', 'purchased', 'spend', 'emailOpened', 'siteViews', 'cartValue', 'purchaseProbability'] as const) {
      assert.equal(Array.from(again.logs[t][key]), Array.from(small.logs[t][key]), `${key} day ${t}`);
      assert.equal(Array.from(large.logs[t][key].slice(0, 120)), Array.from(small.logs[t][key]), `${key} day ${t} (prefix)`);
    }
  }
  const other = simulateCoupons({ customers: 120, days: 15, seed: 12 });
  assert.not.equal(Array.from(other.logs[3].spend), Array.from(small.logs[3].spend));
});

test('purchases follow the true probabilities; the logged reference is the best coupon of the last L days', () => {
  const L = 5;
  const sim = simulateCoupons({ customers: 3000, days: 20, seed: 4, memory: L });
  let purchases = 0, expected = 0, variance = 0;
  for (const log of sim.logs) {
    for (let i = 0; i < log.purchased.length; i++) {
      purchases += log.purchased[i];
      const q = log.purchaseProbability[i];
      expected += q;
      variance += q * (1 - q);
      let best = -1;
      for (let s = Math.max(0, log.day - L); s < log.day; s++) best = Math.max(best, sim.logs[s].coupon[i]);
      assert.is(log.reference[i], best < 0 ? sim.config.nominal : best);
      assert.is(log.revenue[i], log.purchased[i] ? log.spend[i] * (1 - log.coupon[i]) : 0);
    }
  }
  assert.ok(Math.abs(purchases - expected) < 4 * Math.sqrt(variance), `${purchases} purchases vs ${expected.toFixed(1)} expected`);
});

test('the true purchase probability rises with the discount and falls with the reference (b, c ≥ 0)', () => {
  const { truth } = couponTruth({ customers: 400, seed: 8 });
  for (let i = 0; i < 400; i++) {
    assert.ok(truth.couponSensitivity[i] >= 0 && truth.referenceSensitivity[i] >= 0);
    const gain = customerGainMatrix(truth, i);
    for (let o = 0; o < gain.length; o++) {
      for (let r = 1; r < gain.length; r++) assert.ok(gain[o][r] <= gain[o][r - 1], `customer ${i}: gain not reference-monotone`);
    }
  }
  const world = new CouponWorld({ customers: 50, seed: 8 });
  for (let i = 0; i < 50; i++) {
    for (let k = 1; k < 5; k++) assert.ok(world.purchaseProbability(i, k) >= world.purchaseProbability(i, k - 1));
  }
});

test('coupon sensitivity is higher for engaged and coupon-prone customers (the paper\'s Table 1 signs)', () => {
  const sim = simulateCoupons({ customers: 4000, days: 28, seed: 6 });
  const n = 4000;
  const clicks = new Float64Array(n), cartViews = new Float64Array(n), couponShare = new Float64Array(n);
  for (const log of sim.logs) for (let i = 0; i < n; i++) { clicks[i] += log.emailClicked[i]; cartViews[i] += log.cartViews[i]; }
  for (let i = 0; i < n; i++) couponShare[i] = sim.customers.historicalOrders[i] > 0 ? sim.customers.historicalCouponOrders[i] / sim.customers.historicalOrders[i] : 0.5;
  const corr = (x: ArrayLike<number>, y: ArrayLike<number>) => {
    let mx = 0, my = 0;
    for (let i = 0; i < n; i++) { mx += x[i] / n; my += y[i] / n; }
    let sxy = 0, sxx = 0, syy = 0;
    for (let i = 0; i < n; i++) { sxy += (x[i] - mx) * (y[i] - my); sxx += (x[i] - mx) ** 2; syy += (y[i] - my) ** 2; }
    return sxy / Math.sqrt(sxx * syy);
  };
  const b = sim.truth.couponSensitivity;
  assert.ok(corr(b, clicks) > 0.1, `corr(b, clicks) = ${corr(b, clicks)}`);
  assert.ok(corr(b, cartViews) > 0.05, `corr(b, cart views) = ${corr(b, cartViews)}`);
  assert.ok(corr(b, couponShare) > 0.05, `corr(b, coupon share) = ${corr(b, couponShare)}`);
  // Homogeneous customers: everyone has the same b and c.
  const flat = couponTruth({ customers: 200, seed: 6, heterogeneity: 0 }).truth;
  assert.ok(flat.couponSensitivity.every((x) => x === flat.couponSensitivity[0]));
  assert.ok(flat.referenceSensitivity.every((x) => x === flat.referenceSensitivity[0]));
});

test('randomized group: independent uniform coupons; everyone else gets the incumbent\'s', () => {
  const sim = simulateCoupons({ customers: 3000, days: 30, seed: 7, randomizedShare: 0.3 });
  const policy = new IncumbentPolicy(sim.customers, { levels: 5, seed: 7 });
  const counts = [0, 0, 0, 0, 0];
  let rows = 0, members = 0;
  for (let i = 0; i < 3000; i++) members += sim.customers.randomized[i];
  assert.ok(Math.abs(members / 3000 - 0.3) < 0.04, `${members} randomized`);
  for (const log of sim.logs) {
    for (let i = 0; i < 3000; i++) {
      if (sim.customers.randomized[i]) { counts[log.couponLevel[i]]++; rows++; } else assert.is(log.couponLevel[i], policy.levelOf(i, log.day));
    }
  }
  for (const c of counts) assert.ok(Math.abs(c / rows - 0.2) < 4 * Math.sqrt(0.16 / rows), `level share ${c / rows}`);
});

test('incumbent: each cluster gets its target distribution and customers see varying coupons', () => {
  const { customers } = couponTruth({ customers: 6000, seed: 3 });
  const policy = new IncumbentPolicy(customers, { levels: 5, seed: 3 });
  const days = 40;
  const byCluster = Array.from({ length: policy.clusterCount }, () => [0, 0, 0, 0, 0]);
  let repeats = 0, pairs = 0;
  for (let i = 0; i < 6000; i++) {
    let previous = -1;
    for (let t = 0; t < days; t++) {
      const level = policy.levelOf(i, t);
      byCluster[policy.cluster[i]][level]++;
      if (previous >= 0) { pairs++; if (level === previous) repeats++; }
      previous = level;
    }
  }
  for (let k = 0; k < policy.clusterCount; k++) {
    const total = byCluster[k].reduce((a, b) => a + b, 0);
    if (total < 4000) continue;
    const target = policy.distribution(k);
    byCluster[k].forEach((c, l) => assert.ok(Math.abs(c / total - target[l]) < 0.06, `cluster ${k} level ${l}: ${c / total} vs ${target[l]}`));
  }
  assert.ok(repeats / pairs < 0.1, `same coupon two days running for ${(100 * repeats / pairs).toFixed(1)}% of days`);
  // Newer customers lean to bigger discounts than loyal ones.
  const mean = (k: number) => policy.distribution(k).reduce((s, p, l) => s + p * l, 0);
  assert.ok(mean(1) > mean(policy.clusterCount - 1));
});

test('bad configuration is refused with the field named', () => {
  assert.throws(() => simulateCoupons({ customers: 0 }), /customers/);
  assert.throws(() => simulateCoupons({ days: 0 }), /days/);
  assert.throws(() => simulateCoupons({ discounts: [0.2, 0.1] }), /ascending/);
  assert.throws(() => simulateCoupons({ memory: 0 }), /memory/);
  assert.throws(() => simulateCoupons({ randomizedShare: 1.5 }), /randomizedShare/);
  const world = new CouponWorld({ customers: 3 });
  assert.throws(() => world.step(new Uint8Array(2)), /one coupon level per customer/);
  assert.throws(() => world.step(Uint8Array.of(0, 7, 1)), /coupon level 7 of customer 1/);
});

test.run();
