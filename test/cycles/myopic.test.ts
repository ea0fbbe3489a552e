// The cycle-versus-myopic comparison: the long-run averages are exact (checked against long
// direct simulations), the cycle is never worse than myopic when the truth is the decision
// model, and day effects in the truth are handled.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { uniformArray, withEngine } from '../helpers.js';
import { logistic } from '../../src/kernels/math.js';
import { compareCycleWithMyopic, decodeCouponCycle, DEFAULT_DISCOUNTS, DEFAULT_NOMINAL } from '../../src/cycles/batch.js';
import { couponCyclesReference, couponGainMatrix } from '../../src/kernels/mdp.js';

const customers = (n: number, seed: number) => ({
  f: uniformArray(n, -4, 0, seed, 1), g: uniformArray(n, 0, 40, seed, 2), h: uniformArray(n, 0, 80, seed, 3), spend: uniformArray(n, 10, 100, seed, 4),
});

/** Plain day-by-day simulation for `days` days, averaging the last `tail`. */
function simulate(i: number, c: ReturnType<typeof customers>, memory: number, policy: (t: number, ref: number) => number, days: number, tail: number, dayEffects = [0]) {
  const D = DEFAULT_DISCOUNTS, d0 = DEFAULT_NOMINAL;
  const history = new Array<number>(memory).fill(0);
  let total = 0;
  for (let t = 0; t < days; t++) {
    const ref = Math.max(...history);
    const d = policy(t, ref);
    if (t >= days - tail) total += c.spend[i] * (1 - D[d]) * logistic(c.f[i] + c.g[i] * (D[d] - d0) - c.h[i] * (D[ref] - d0) + dayEffects[t % dayEffects.length]);
    history.shift();
    history.push(d);
  }
  return total / tail;
}

test('cycle ≥ myopic under the decision model; both long-run averages match long simulations', async () => {
  const n = 400, memory = 4;
  const c = customers(n, 3);
  const result = await withEngine({ threads: 1 }, (engine) => compareCycleWithMyopic(c, { memory }, engine));
  const optimum = couponCyclesReference(c, { discounts: DEFAULT_DISCOUNTS, nominal: DEFAULT_NOMINAL, memory });
  let strictlyBetter = 0;
  for (let i = 0; i < n; i++) {
    assert.ok(Math.abs(result.cycleRevenue[i] - optimum.averageGain[i]) <= 1e-12 * optimum.averageGain[i]);
    assert.ok(result.myopicRevenue[i] <= result.cycleRevenue[i] * (1 + 1e-12), `customer ${i}`);
    if (result.myopicRevenue[i] < result.cycleRevenue[i] * (1 - 1e-6)) strictlyBetter++;
    if (i % 40 === 0) {
      const G = couponGainMatrix(c.f[i], c.g[i], c.h[i], c.spend[i], DEFAULT_DISCOUNTS, DEFAULT_NOMINAL);
      const myopic = (_t: number, ref: number) => { let b = 0; for (let d = 1; d < 5; d++) if (G[d][ref] > G[b][ref]) b = d; return b; };
      const plan = decodeCouponCycle(result.cycleId[i], memory).cycle;
      const period = plan.length;
      // 840 = lcm(1..8) covers every myopic period here; the cycle's tail is whole periods.
      assert.ok(Math.abs(simulate(i, c, memory, myopic, 2000, 840) - result.myopicRevenue[i]) < 1e-9 * result.myopicRevenue[i]);
      assert.ok(Math.abs(simulate(i, c, memory, (t) => plan[t % period], 1000 + period * 50, period * 50) - result.cycleRevenue[i]) < 1e-9 * result.cycleRevenue[i]);
    }
  }
  assert.ok(strictlyBetter > 0, 'some customers gain from cycling');
  assert.ok(result.lift >= 0);
  assert.ok(Math.abs(result.meanCycleRevenue / result.meanMyopicRevenue - 1 - result.lift) < 1e-12);
});

test('a true model with day-of-week effects and other parameters is evaluated exactly', async () => {
  const n = 60, memory = 3, dayEffects = [0.3, -0.2, 0, 0.1, -0.4, 0.5, 0];
  const c = customers(n, 8);
  const truth = { f: uniformArray(n, -4, 0, 9, 1), g: uniformArray(n, 0, 40, 9, 2), h: uniformArray(n, 0, 80, 9, 3), dayEffects };
  const result = await withEngine({ threads: 1 }, (engine) => compareCycleWithMyopic(c, { memory, truth }, engine));
  const t = { ...c, f: truth.f, g: truth.g, h: truth.h };
  for (let i = 0; i < n; i += 7) {
    const plan = decodeCouponCycle(result.cycleId[i], memory).cycle;
    const span = 7 * plan.length * 20;
    const sim = simulate(i, t, memory, (day) => plan[day % plan.length], 500 + span, span, dayEffects);
    assert.ok(Math.abs(sim - result.cycleRevenue[i]) < 1e-9 * sim, `${sim} vs ${result.cycleRevenue[i]}`);
  }
});

test.run();
