import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  addScreenedTotals, candidatePrices, emptyScreenedTotals, exactTotalsAtLeads, feasiblePrices, leadCandidatePrices, priceGridSearch, priceGridSearchLeads, priceGridSearchReference, requirementSplit, requirementSplitReference,
  schemeStatsReference,
  type GridCustomers, type GridOptions, type PriceTotals, type UniformBest,
} from '../../src/kernels/grid.js';
import { assertClose, randomCustomers, uniformArray, withEngine } from '../helpers.js';
import { logistic, softplus } from '../../src/kernels/math.js';
import { syntheticPopulation } from '../../src/sharing/population.js';
import { planShards } from '../../src/parallel/engine.js';
import { Arena, KernelRuntime } from '../../src/kernels/runtime.js';

test('feasible prices: 56 integers up to 188 ending in 5, 8 or 9', () => {
  const prices = feasiblePrices();
  assert.is(prices.length, 56);
  assert.equal(prices.slice(0, 6), [5, 8, 9, 15, 18, 19]);
  assert.equal(prices.slice(-3), [179, 185, 188]);
  assert.ok(prices.every((p) => [5, 8, 9].includes(p % 10) && p <= 188));
});

/** The kernel's choice must be an argmax of the reference's profits (equal index unless a near-tie). */
function assertSameArgmax(kernelIndex: Int32Array, referenceIndex: Int32Array, profitsAt: (i: number, j: number) => number, label: string) {
  let differing = 0;
  for (let i = 0; i < kernelIndex.length; i++) {
    if (kernelIndex[i] === referenceIndex[i]) continue;
    differing++;
    const a = profitsAt(i, kernelIndex[i]), b = profitsAt(i, referenceIndex[i]);
    assert.ok(Math.abs(a - b) <= 1e-12 * Math.abs(b), `${label}: customer ${i} picks ${kernelIndex[i]} (${a}) over ${referenceIndex[i]} (${b})`);
  }
  assert.ok(differing <= kernelIndex.length * 1e-3, `${label}: ${differing} customers differ`);
}

for (const flavor of ['release', 'debug'] as const) {
  for (const prices of [feasiblePrices(), feasiblePrices(100)]) {
    test(`${flavor}: grid search matches the exhaustive reference (${prices.length} prices${prices.length % 2 ? ', odd' : ''})`, async () => {
      const customers = randomCustomers(5_003, 17);
      const options: GridOptions = { prices, sigma: 18.858, leadValue: 125.742, totals: true, groupStarts: [0, 1000, 3000] };
      const actual = await withEngine({ flavor, threads: 1 }, (engine) => priceGridSearch(customers, options, engine));
      const expected = priceGridSearchReference(customers, options);
      const profit = (s: 0 | 1) => (i: number, j: number) => {
        const single: GridCustomers = {
          baselineUtility: [customers.baselineUtility[i]], priceSensitivity: [customers.priceSensitivity[i]], shareCost: [customers.shareCost[i]],
          expectedReferrals: [customers.expectedReferrals[i]], marginalCost: [customers.marginalCost[i]],
        };
        const r = priceGridSearchReference(single, { ...options, prices: [prices[j]], totals: false, groupStarts: [0] });
        return s ? r.bestProfitS[0] : r.bestProfitNS[0];
      };
      assertSameArgmax(actual.bestIndexNS, expected.bestIndexNS, profit(0), 's = 0');
      assertSameArgmax(actual.bestIndexS, expected.bestIndexS, profit(1), 's = 1');
      assertClose(actual.bestProfitNS, expected.bestProfitNS, 1e-12, 1e-300, 'profit s = 0');
      assertClose(actual.bestProfitS, expected.bestProfitS, 1e-12, 1e-300, 'profit s = 1');
      assert.is(actual.totals!.length, 3);
      for (let g = 0; g < 3; g++) {
        for (const key of ['traditional', 'broadcasting', 'personalizedRequirement'] as const) {
          assertClose(actual.totals![g][key], expected.totals![g][key], 1e-11, 1e-9, `totals[${g}].${key}`);
        }
      }
    });
  }
}

test('grid search on extreme utilities stays finite and exact', async () => {
  const n = 1001;
  const customers: GridCustomers = {
    baselineUtility: Float64Array.from({ length: n }, (_, i) => -690 + (1380 * i) / (n - 1)),
    priceSensitivity: new Float64Array(n).fill(0.01),
    shareCost: Float64Array.from({ length: n }, (_, i) => ((i % 7) - 3) * 3),
    expectedReferrals: new Float64Array(n).fill(0.1),
    marginalCost: new Float64Array(n).fill(50),
  };
  const options: GridOptions = { prices: feasiblePrices(), sigma: 18.858, leadValue: 125.742 };
  const actual = await withEngine({ threads: 1 }, (engine) => priceGridSearch(customers, options, engine));
  const expected = priceGridSearchReference(customers, options);
  assertClose(actual.bestProfitNS, expected.bestProfitNS, 1e-12, 1e-300, 'profit s = 0');
  assertClose(actual.bestProfitS, expected.bestProfitS, 1e-12, 1e-300, 'profit s = 1');
});

test('grid search rejects a price grid that is not ascending and a bad group start', async () => {
  const customers = randomCustomers(10, 1);
  await withEngine({ threads: 1 }, async (engine) => {
    try {
      await priceGridSearch(customers, { prices: [5, 9, 8], sigma: 1, leadValue: 1 }, engine);
      assert.unreachable();
    } catch (error) {
      assert.match((error as Error).message, /strictly ascending: prices\[2\] = 8/);
    }
    try {
      await priceGridSearch(customers, { prices: [5, 8], sigma: 1, leadValue: 1, groupStarts: [0, 11] }, engine);
      assert.unreachable();
    } catch (error) {
      assert.match((error as Error).message, /groupStarts\[1\] = 11/);
    }
  });
});


test('grid search names the field and row of a non-finite input (values are checked by the kernels, on every thread count)', async () => {
  const fields = ['baselineUtility', 'priceSensitivity', 'shareCost', 'expectedReferrals', 'marginalCost'] as const;
  for (const threads of [1, 2]) {
    await withEngine({ threads, inlineBelow: 0 }, async (engine) => {
      for (const [f, field] of fields.entries()) {
        for (const exhaustive of [false, true]) {
          const customers = randomCustomers(60_000, 3 + f);
          const row = 20_000 + 7919 * f;
          const column = Float64Array.from(customers[field]);
          column[row] = [NaN, Infinity, -Infinity][f % 3];
          try {
            await priceGridSearch({ ...customers, [field]: column }, { prices: feasiblePrices(), sigma: 2, leadValue: 10, exhaustive }, engine);
            assert.unreachable(`${field} accepted`);
          } catch (error) {
            assert.match((error as Error).message, new RegExp(`^${field}\\[${row}\\] is -?(NaN|Infinity), not a finite number$`));
          }
        }
      }
      // values whose probe sum could overflow are still accepted
      const big = randomCustomers(1000, 9);
      const mc = new Float64Array(1000).fill(1.7e308);
      const res = await priceGridSearch({ ...big, marginalCost: mc }, { prices: [5, 8, 9], sigma: 2, leadValue: 10 }, engine);
      assert.is(res.bestIndexNS.length, 1000);
    });
  }
});

/** Customers chosen to stress the single-precision screen: flat profit curves, near-ties, extremes. */
function adversarialCustomers(n: number, seed: number): GridCustomers {
  const c = randomCustomers(n, seed);
  const v = Float64Array.from(c.baselineUtility), alpha = Float64Array.from(c.priceSensitivity);
  const sc = Float64Array.from(c.shareCost), r = Float64Array.from(c.expectedReferrals), mc = Float64Array.from(c.marginalCost);
  for (let i = 0; i < n; i++) {
    switch (i % 8) {
      case 0: alpha[i] = 1e-7; break; // nearly flat demand: the best price is the top of the grid
      case 1: sc[i] = -3; r[i] = 2; break; // sharing nearly certain, leads dominate
      case 2: v[i] = -60; break; // demand ~ e^-60 everywhere: tiny profits
      case 3: alpha[i] = -0.01; break; // perverse price sensitivity (no monotonicity)
      case 4: v[i] = 3000; alpha[i] = 20; break; // beyond the f32 screen's range
      case 5: mc[i] = 1e6; break; // every margin negative
      case 6: v[i] = 12 + (i % 5) * 1e-9; alpha[i] = 0.08; break; // near-identical customers
      default: break;
    }
  }
  return { baselineUtility: v, priceSensitivity: alpha, shareCost: sc, expectedReferrals: r, marginalCost: mc };
}

test('scheme statistics kernel equals its plain-TypeScript reference (sums bit for bit, counts, AC categories and histogram)', async () => {
  // random and adversarial customers (negative margins, no leads, AC ties), odd sizes, groups of one customer
  const base = adversarialCustomers(30_001, 47);
  const r = Float64Array.from(base.expectedReferrals);
  for (let i = 5; i < r.length; i += 97) r[i] = 0; // no expected leads: AC = ∞ (or 0/0)
  const sc = Float64Array.from(base.shareCost);
  for (let i = 11; i < sc.length; i += 89) { sc[i] = -100; r[i] = 1e-300; } // S = 1, leads negligible: the two profits tie
  const customers = { ...base, expectedReferrals: r, shareCost: sc };
  for (const [threads, exhaustive, leadValue] of [[1, false, 125.742], [2, true, 125.742], [2, false, 0], [1, false, -3]] as const) {
    const options: GridOptions = { prices: feasiblePrices(), sigma: 18.858, leadValue, groupStarts: [0, 1, 2, 9_999, 20_000], exhaustive };
    const res = await withEngine({ threads, inlineBelow: 0 }, (engine) => priceGridSearch(customers, { ...options, schemeStats: true }, engine));
    const ref = schemeStatsReference(customers, options, res);
    res.schemeStats!.forEach((t, g) => {
      const e = ref.schemeStats[g];
      for (const key of ['sumNS', 'sumS', 'sumPP', 'assigned', 'atMostLead', 'violations', 'ties', 'nonPositive', 'infinite'] as const) {
        assert.ok(Object.is(t[key], e[key]), `group ${g} ${key}: kernel ${t[key]} vs reference ${e[key]} (L ${leadValue})`);
      }
      for (const key of ['countsNS', 'countsS', 'countsPP0', 'countsPP1', 'acBins'] as const) assert.equal(Array.from(t[key]), Array.from(e[key]), `group ${g} ${key}`);
    });
    const total = (k: 'infinite' | 'nonPositive' | 'ties') => ref.schemeStats.reduce((a, t) => a + t[k], 0);
    assert.ok(total('infinite') > 0 && total('nonPositive') > 0, 'the population has infinite and non-positive AC');
    if (leadValue > 0) assert.ok(total('ties') > 0, 'and near ties');
    const a = res.acquisitionCostLog10!, b = ref.acquisitionCostLog10;
    for (let i = 0; i < a.length; i++) {
      if (Number.isNaN(b[i]) ? !Number.isNaN(a[i]) : !(Math.abs(a[i] - b[i]) <= 1e-12 * Math.max(1, Math.abs(b[i])))) assert.unreachable(`log10 AC[${i}]: kernel ${a[i]} vs reference ${b[i]}`);
    }
  }
});

test('UP requirement split kernel equals its plain-TypeScript reference; bad market indices are named', async () => {
  const base = adversarialCustomers(20_001, 53);
  const sc = Float64Array.from(base.shareCost), r = Float64Array.from(base.expectedReferrals);
  for (let i = 11; i < sc.length; i += 89) { sc[i] = -100; r[i] = 1e-300; } // Π(p, 1) = Π(p, 0): ties go to broadcasting
  const customers = { ...base, shareCost: sc, expectedReferrals: r };
  const market = Int32Array.from({ length: 20_001 }, (_, i) => (i * 7919) % 3);
  const marketPrices = [49, 99, 158];
  for (const [threads, leadValue] of [[1, 125.742], [2, 125.742], [2, 0], [1, -40]] as const) {
    const options = { sigma: 18.858, leadValue };
    const kernel = await withEngine({ threads, inlineBelow: 0 }, (engine) => requirementSplit(customers, market, marketPrices, options, engine));
    const reference = requirementSplitReference(customers, market, marketPrices, options);
    assert.equal(Array.from(kernel), Array.from(reference), `L ${leadValue}, ${threads} thread(s)`);
    assert.ok(kernel.every((c, m) => c > 0 && c < 20_001 / 3), 'both conditions occur in every market');
  }
  await withEngine({ threads: 1 }, async (engine) => {
    try {
      await requirementSplit(customers, Int32Array.from(market, (m, i) => (i === 777 ? 3 : m)), marketPrices, { sigma: 1, leadValue: 1 }, engine);
      assert.unreachable();
    } catch (error) {
      assert.match((error as Error).message, /^market\[777\] is 3, not a market index in 0\.\.2$/);
    }
  });
});

for (const [label, customers] of [['random', randomCustomers(200_003, 41)], ['adversarial', adversarialCustomers(40_000, 43)]] as const) {
  for (const prices of [feasiblePrices(), feasiblePrices(61), [10, 10.5, 11, 11.25, 11.3, 40, 41, 99.9, 100]]) {
    test(`screened search equals the exhaustive kernel bit for bit (${label}, ${prices.length} prices)`, async () => {
      const options: GridOptions = { prices, sigma: 18.858, leadValue: 125.742 };
      await withEngine({ threads: 1 }, async (engine) => {
        const screened = await priceGridSearch(customers, options, engine);
        const exhaustive = await priceGridSearch(customers, { ...options, exhaustive: true }, engine);
        for (const key of ['bestIndexNS', 'bestProfitNS', 'bestIndexS', 'bestProfitS'] as const) {
          const a = screened[key], b = exhaustive[key];
          for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.unreachable(`${key}[${i}]: screened ${a[i]} vs exhaustive ${b[i]}`);
        }
        // an odd grid is padded by repeating its last price: the padding is never the answer
        for (const index of [screened.bestIndexNS, screened.bestIndexS]) for (const j of index) if (j < 0 || j >= prices.length) assert.unreachable(`index ${j} outside the grid`);
      });
    });
  }
}

/**
 * Customers whose two best prices tie in exact arithmetic, then moved off the tie by relative
 * amounts from 1e-15 (far inside f32 noise) to 1e-5 (outside it): Π(p, 0) ties between adjacent
 * prices by the baseline utility (bisection), Π(p, 1) ties at the top by r (Π(p, 1) is linear in r).
 * The screen's error bounds are what keeps both prices here, so they must hold to the last term.
 */
function nearTieCustomers(n: number, seed: number, prices: readonly number[], sigma: number, leadValue: number): GridCustomers {
  const c = randomCustomers(n, seed);
  const v = Float64Array.from(c.baselineUtility), alpha = Float64Array.from(c.priceSensitivity);
  const sc = Float64Array.from(c.shareCost), r = Float64Array.from(c.expectedReferrals), mc = Float64Array.from(c.marginalCost);
  const pick = uniformArray(n, 0, 1, seed, 9);
  const offsets = [0, 1e-15, -1e-15, 1e-12, -1e-12, 1e-9, -1e-9, 1e-7, -1e-7, 3e-7, -3e-7, 1e-6, -1e-6, 1e-5, -1e-5];
  const demand = (vi: number, ai: number, p: number) => logistic(vi - ai * p);
  const share = (vi: number, ai: number, sci: number, p: number) => logistic(sigma * (softplus(vi - ai * p) - sci));
  for (let i = 0; i < n; i++) {
    const offset = offsets[i % offsets.length];
    if (i % 2 === 0) {
      // Π(p, 0) equal at prices j and j + 1 (both above the cost): log-ratio falls with v
      alpha[i] = 0.05 + 0.25 * pick[i];
      const j = Math.min(prices.length - 2, Math.max(0, Math.floor(pick[i] * 37) % (prices.length - 1)));
      const [p1, p2] = [prices[j], prices[j + 1]];
      mc[i] = p1 - 1 - 4 * pick[i];
      const gap = (vi: number) => Math.log(demand(vi, alpha[i], p1) * (p1 - mc[i])) - Math.log(demand(vi, alpha[i], p2) * (p2 - mc[i]));
      let lo = -60, hi = 60;
      if (!(gap(lo) > 0 && gap(hi) < 0)) continue;
      for (let k = 0; k < 200; k++) { const mid = (lo + hi) / 2; if (gap(mid) > 0) lo = mid; else hi = mid; }
      v[i] = lo * (1 + offset);
    } else {
      // Π(p, 1) equal at its two best prices for some r ≥ 0 (accepted when no other price beats the tie)
      const w = (p: number, ri: number) => share(v[i], alpha[i], sc[i], p) * (demand(v[i], alpha[i], p) * (p - mc[i]) + ri * leadValue);
      const j = Math.floor(pick[i] * prices.length), k = (j + 1 + (i % 3)) % prices.length;
      const sj = share(v[i], alpha[i], sc[i], prices[j]), sk = share(v[i], alpha[i], sc[i], prices[k]);
      const aj = sj * demand(v[i], alpha[i], prices[j]) * (prices[j] - mc[i]), ak = sk * demand(v[i], alpha[i], prices[k]) * (prices[k] - mc[i]);
      const rTie = (ak - aj) / (leadValue * (sj - sk));
      if (!(rTie > 0 && Number.isFinite(rTie))) continue;
      const tie = w(prices[j], rTie);
      if (prices.some((p, q) => q !== j && q !== k && w(p, rTie) >= tie * (1 - 1e-9))) continue;
      r[i] = rTie * (1 + offset);
    }
  }
  return { baselineUtility: v, priceSensitivity: alpha, shareCost: sc, expectedReferrals: r, marginalCost: mc };
}

test('near ties (1e-15 to 1e-5 apart) under s = 0 and s = 1: screened, windowed and many-lead searches equal the exhaustive kernel bit for bit', async () => {
  const prices = feasiblePrices(), sigma = 18.858, leadValue = 125.742;
  const customers = nearTieCustomers(30_000, 97, prices, sigma, leadValue);
  await withEngine({ threads: 2, inlineBelow: 0 }, async (engine) => {
    const options: GridOptions = { prices, sigma, leadValue };
    const exhaustive = await priceGridSearch(customers, { ...options, exhaustive: true }, engine);
    const screened = await priceGridSearch(customers, options, engine);
    // with totals: the first customers of each shard place the window, the rest are windowed
    const windowed = await priceGridSearch(customers, { ...options, screenTotals: true, groupStarts: [0, 7_000, 19_000] }, engine);
    const leads = await priceGridSearchLeads(customers, { prices, sigma, leadValues: [leadValue] }, engine);
    // both tied prices must be among the kept ones for the two f64 values to decide: count real near-ties
    let ties = 0;
    for (const [label, result] of [['screened', screened], ['windowed', windowed]] as const) {
      for (const key of ['bestIndexNS', 'bestProfitNS', 'bestIndexS', 'bestProfitS'] as const) {
        const a = result[key], b = exhaustive[key];
        for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) assert.unreachable(`${label} ${key}[${i}]: ${a[i]} vs exhaustive ${b[i]}`);
      }
    }
    for (let i = 0; i < customers.baselineUtility.length; i++) {
      if (leads.bestIndexS[0][i] !== exhaustive.bestIndexS[i] || !Object.is(leads.bestProfitS[0][i], exhaustive.bestProfitS[i])) {
        assert.unreachable(`many-lead search, customer ${i}: (${leads.bestIndexS[0][i]}, ${leads.bestProfitS[0][i]}) vs (${exhaustive.bestIndexS[i]}, ${exhaustive.bestProfitS[i]})`);
      }
      if (i % 2 === 0 && Math.abs(customers.baselineUtility[i]) < 60) ties++;
    }
    assert.ok(ties > 10_000, `${ties} customers with a tie under s = 0`);
    const drawn = randomCustomers(30_000, 97).expectedReferrals;
    const shareTies = Array.from(customers.expectedReferrals).filter((x, i) => i % 2 === 1 && x !== drawn[i]).length;
    assert.ok(shareTies > 1_000, `${shareTies} customers with a tie under s = 1`);
  });
});

test('the screen\'s f32 profits stay within the error bounds its keep rule uses (every price; random, adversarial, paper and near-tie customers; σ and L)', () => {
  const runtime = KernelRuntime.create('release');
  const arena = new Arena(runtime);
  const prices = feasiblePrices();
  const m4 = Math.ceil(prices.length / 4) * 4;
  const prices32 = Float32Array.from({ length: m4 }, (_, j) => prices[Math.min(j, prices.length - 1)]);
  const populations: [string, GridCustomers][] = [
    ['random', randomCustomers(6_000, 101)], ['adversarial', adversarialCustomers(6_000, 103)],
    ['paper', syntheticPopulation(6_000, 7)], ['near ties', nearTieCustomers(6_000, 107, prices, 18.858, 125.742)],
  ];
  let worst = 0, checked = 0;
  for (const [label, c] of populations) {
    const n = c.baselineUtility.length;
    for (const sigma of [0.3, 2, 18.858, 80, -1.5]) {
      for (const leadValue of [0, 125.742, 4000]) {
        const mark = arena.mark();
        const cols = [c.baselineUtility, c.priceSensitivity, c.shareCost, c.expectedReferrals, c.marginalCost].map((col) => arena.copyF64(col).ptr);
        const p32 = arena.i32(m4);
        new Float32Array(runtime.memory.buffer, p32.ptr, m4).set(prices32);
        const rows = arena.i32(2 * m4 * n), bounds = arena.f64(2 * n);
        (runtime.exports.screenErrorCheck as (...args: number[]) => void)(...cols, n, p32.ptr, m4, Math.max(...prices.map(Math.abs)), sigma, leadValue, rows.ptr, bounds.ptr);
        const row = new Float32Array(runtime.memory.buffer, rows.ptr, 2 * m4 * n).slice();
        const bound = arena.viewF64(bounds).slice();
        arena.release(mark);
        for (let i = 0; i < n; i++) {
          const [errNS, errS] = [bound[2 * i], bound[2 * i + 1]];
          if (errNS === Infinity) continue;
          const v = c.baselineUtility[i], alpha = c.priceSensitivity[i], sc = c.shareCost[i], mc = c.marginalCost[i];
          const lead = c.expectedReferrals[i] * leadValue;
          for (let j = 0; j < prices.length; j++) {
            const u = v - alpha * prices[j];
            const profitNS = logistic(u) * (prices[j] - mc);
            const profitS = logistic(sigma * (softplus(u) - sc)) * (profitNS + lead);
            const dNS = Math.abs(row[2 * m4 * i + j] - profitNS), dS = Math.abs(row[2 * m4 * i + m4 + j] - profitS);
            if (!(dNS <= errNS && dS <= errS)) {
              assert.unreachable(`${label}, σ ${sigma}, L ${leadValue}, customer ${i}, price ${prices[j]}: |δΠ(p, 0)| ${dNS} (bound ${errNS}), |δΠ(p, 1)| ${dS} (bound ${errS})`);
            }
            worst = Math.max(worst, dNS / errNS, dS / errS);
            checked++;
          }
        }
      }
    }
  }
  assert.ok(checked > 3_000_000, `${checked} profits checked`);
  // the bounds are not vacuous: some profit comes within a factor of 20 of its bound
  assert.ok(worst > 0.05 && worst <= 1, `largest error / bound ${worst}`);
});

// The screen skips the share stage where a bound rules Π(p, 1) out; every sharpness of sharing,
// lead value (0: Π(p, 1) = S Π(p, 0); large: Π(p, 1) flat and led by S) and sign of σ must still
// give the exhaustive argmax. Sharing costs reach 6 so that S often falls well below the Π(p, 0) peak.
test('screened search equals the exhaustive kernel bit for bit across σ and lead values (share stage skipped by bounds)', async () => {
  const base = adversarialCustomers(24_000, 61);
  const shareCost = Float64Array.from(uniformArray(24_000, -1, 6, 62, 1));
  const customers = { ...base, shareCost };
  await withEngine({ threads: 1 }, async (engine) => {
    for (const sigma of [0.3, 2, 18.858, 80, -1.5]) {
      for (const leadValue of [0, 125.742, 4000]) {
        const options: GridOptions = { prices: feasiblePrices(), sigma, leadValue };
        const screened = await priceGridSearch(customers, options, engine);
        const exhaustive = await priceGridSearch(customers, { ...options, exhaustive: true }, engine);
        for (const key of ['bestIndexNS', 'bestProfitNS', 'bestIndexS', 'bestProfitS'] as const) {
          const a = screened[key], b = exhaustive[key];
          for (let i = 0; i < a.length; i++) {
            if (!Object.is(a[i], b[i])) assert.unreachable(`σ ${sigma}, L ${leadValue}: ${key}[${i}]: screened ${a[i]} vs exhaustive ${b[i]}`);
          }
        }
      }
    }
  });
});

test('many-lead search stops its screen below prices that larger lead values cannot bring back, bit for bit with the exhaustive kernel', async () => {
  // a fine ascending grid (the screen's range shrinks as the best price falls with L), then lead
  // values out of order (the range starts over); paper-like and adversarial customers
  const leads = [...Array.from({ length: 41 }, (_, k) => (k * 125.742) / 20), 125.742, 0, 3000, -50, 7];
  const paperLike = syntheticPopulation(12_000, 5);
  // σ < 0: S rises with the price, the best price rises with L and nothing may be dropped
  for (const [label, customers, sigma] of [['paper', paperLike, 18.858], ['adversarial', adversarialCustomers(12_000, 73), 18.858], ['paper, σ = −1.5', paperLike, -1.5]] as const) {
    await withEngine({ threads: 2, inlineBelow: 0 }, async (engine) => {
      const prices = feasiblePrices();
      const many = await priceGridSearchLeads(customers, { prices, sigma, leadValues: leads }, engine);
      let moved = 0;
      for (let g = 0; g < leads.length; g++) {
        const one = await priceGridSearch(customers, { prices, sigma, leadValue: leads[g], exhaustive: true }, engine);
        for (let i = 0; i < one.bestIndexS.length; i++) {
          if (many.bestIndexS[g][i] !== one.bestIndexS[i] || !Object.is(many.bestProfitS[g][i], one.bestProfitS[i])) {
            assert.unreachable(`${label}, L = ${leads[g]}, customer ${i}: (${many.bestIndexS[g][i]}, ${many.bestProfitS[g][i]}) vs (${one.bestIndexS[i]}, ${one.bestProfitS[i]})`);
          }
          if (g > 0 && g < 41 && one.bestIndexS[i] !== many.bestIndexS[g - 1][i]) moved++;
        }
      }
      assert.ok(moved > 1000, `${label}: the best price moved with L ${moved} times`);
    });
  }
});

test('lead values searched after the main search on its rows equal priceGridSearchLeads bit for bit (results and lead totals), and leave the main results as they are', async () => {
  const customers = adversarialCustomers(20_003, 79);
  const groupStarts = [0, 7000, 15_000];
  const leadValues = [0, 62.871, 125.742, 251.484, 40];
  for (const threads of [1, 2]) {
    await withEngine({ threads, inlineBelow: 0 }, async (engine) => {
      const options: GridOptions = { prices: feasiblePrices(), sigma: 18.858, leadValue: 125.742, groupStarts, screenTotals: true, schemeStats: true };
      const both = await priceGridSearch(customers, { ...options, leadValues }, engine);
      const main = await priceGridSearch(customers, options, engine);
      const leads = await priceGridSearchLeads(customers, { prices: options.prices, sigma: options.sigma, leadValues, groupStarts, screenTotals: true }, engine);
      for (const key of ['bestIndexNS', 'bestProfitNS', 'bestIndexS', 'bestProfitS', 'acquisitionCostLog10'] as const) {
        assert.equal(Array.from(both[key]!), Array.from(main[key]!), key);
      }
      // With the lead values every customer's S is screened at every price; without them the
      // windowed totals bound it between anchors outside the window: equal where both are exact.
      both.screenTotals!.forEach((full, group) => {
        const windowed = main.screenTotals![group];
        assert.ok(full.exact.every((x) => x === 1), 'every price screened with the lead rows');
        assert.equal(Array.from(full.traditional), Array.from(windowed.traditional));
        assert.is(full.customers, windowed.customers);
        for (const row of ['broadcasting', 'personalizedRequirement'] as const) {
          for (let j = 0; j < full[row].length; j++) {
            if (windowed.exact[j]) assert.ok(Object.is(full[row][j], windowed[row][j]), `group ${group} ${row}[${j}]`);
            else assert.ok(windowed[row][j] + windowed.error[1] + windowed.error[2] >= full[row][j] - full.error[1] - full.error[2], `group ${group} ${row}[${j}]: bound below the total`);
          }
        }
        assert.ok(group === 0 || windowed.exact.some((x) => x === 0), `group ${group}: outside the window only bounds`);
      });
      assert.equal(both.schemeStats, main.schemeStats);
      leadValues.forEach((_, g) => {
        assert.equal(Array.from(both.leads!.bestIndexS[g]), Array.from(leads.bestIndexS[g]), `lead ${g} index`);
        assert.equal(Array.from(both.leads!.bestProfitS[g]), Array.from(leads.bestProfitS[g]), `lead ${g} profit`);
      });
      assert.equal(both.leads!.screenTotals, leads.screenTotals);
      // PP's total at each lead value, summed in the workers: each shard's customers in order, shards in order
      const sums = await priceGridSearch(customers, { ...options, leadValues, leadSumsOnly: true }, engine);
      assert.equal(sums.leads!.bestProfitS, [], 'no per-customer lead results');
      assert.equal(Array.from(sums.bestProfitS), Array.from(main.bestProfitS));
      const shards = planShards(customers.baselineUtility.length, undefined, groupStarts);
      groupStarts.forEach((start, group) => {
        const end = groupStarts[group + 1] ?? customers.baselineUtility.length;
        leadValues.forEach((_, g) => {
          let total = 0;
          for (const shard of shards.filter((x) => x.start >= start && x.end <= end)) {
            let sum = 0;
            for (let i = shard.start; i < shard.end; i++) {
              const pg = leads.bestProfitS[g][i], pn = main.bestProfitNS[i];
              sum += pg >= pn ? pg : pn;
            }
            total += sum;
          }
          assert.is(sums.leads!.sumPP![group][g], total, `group ${group}, lead ${g}`);
        });
      });
    });
  }
  try {
    await withEngine({ threads: 1 }, (engine) => priceGridSearch(customers, { prices: [5, 8], sigma: 1, leadValue: 1, leadValues: [1], exhaustive: true }, engine));
    assert.unreachable();
  } catch (error) {
    assert.match((error as Error).message, /leadValues needs the screened search/);
  }
});

test('one pass for many lead values equals priceGridSearch at each lead value, bit for bit; its lead totals keep the exact uniform argmax', async () => {
  const mixed = adversarialCustomers(16_000, 71);
  const random = randomCustomers(30_001, 72);
  const leads = [0, 12.5, 125.742, 251.484, 3000];
  for (const [label, customers, prices, sigma] of [
    ['random', random, feasiblePrices(), 18.858], ['adversarial', mixed, feasiblePrices(), 18.858],
    ['adversarial, σ = 2, odd grid', mixed, feasiblePrices(61), 2], ['random, σ = −1.5', random, [10, 10.5, 11, 40, 41, 99.9, 100], -1.5],
  ] as const) {
    const groupStarts = [0, 5000, 12_000];
    await withEngine({ threads: 2, inlineBelow: 0 }, async (engine) => {
      const many = await priceGridSearchLeads(customers, { prices, sigma, leadValues: leads, groupStarts, screenTotals: true }, engine);
      for (let g = 0; g < leads.length; g++) {
        const one = await priceGridSearch(customers, { prices, sigma, leadValue: leads[g], exhaustive: true, totals: true, groupStarts }, engine);
        for (let i = 0; i < one.bestIndexS.length; i++) {
          if (many.bestIndexS[g][i] !== one.bestIndexS[i] || !Object.is(many.bestProfitS[g][i], one.bestProfitS[i])) {
            assert.unreachable(`${label}, L = ${leads[g]}, customer ${i}: (${many.bestIndexS[g][i]}, ${many.bestProfitS[g][i]}) vs (${one.bestIndexS[i]}, ${one.bestProfitS[i]})`);
          }
        }
        one.totals!.forEach((t, group) => {
          let argmax = 0;
          for (let j = 1; j < t.broadcasting.length; j++) if (t.broadcasting[j] > t.broadcasting[argmax]) argmax = j;
          const kept = leadCandidatePrices(many.screenTotals![group], leads[g]);
          assert.ok(kept.includes(argmax), `${label}, L = ${leads[g]}, group ${group}: exact argmax ${argmax} not among ${kept}`);
          assert.ok(kept.length <= Math.max(4, prices.length / 3) || label.startsWith('adversarial'), `${label}: ${kept.length} candidates`);
        });
      }
    });
  }
});

/** Each uniform choice is the first maximum of the exhaustive totals, with that total bit for bit. */
function assertExhaustiveChoice(best: UniformBest, totals: PriceTotals, label: string): void {
  for (const key of ['traditional', 'broadcasting', 'personalizedRequirement'] as const) {
    const row = totals[key];
    let index = 0;
    for (let j = 1; j < row.length; j++) if (row[j] > row[index]) index = j;
    assert.is(best[key].index, index, `${label} ${key}: price index`);
    assert.ok(Object.is(best[key].total, row[index]), `${label} ${key}: total ${best[key].total} vs ${row[index]}`);
  }
}

for (const [label, customers] of [['random', randomCustomers(100_003, 51)], ['adversarial', adversarialCustomers(40_000, 53)]] as const) {
  test(`screened uniform-price search equals the exhaustive totals' argmax bit for bit (${label})`, async () => {
    const groupStarts = [0, 17, 20_000, 35_000];
    const options: GridOptions = { prices: feasiblePrices(), sigma: 18.858, leadValue: 125.742, groupStarts };
    await withEngine({ threads: 2, inlineBelow: 0 }, async (engine) => {
      const screened = await priceGridSearch(customers, { ...options, uniform: true }, engine);
      const exhaustive = await priceGridSearch(customers, { ...options, totals: true }, engine);
      assert.is(screened.uniform!.length, groupStarts.length);
      screened.uniform!.forEach((best, g) => {
        assertExhaustiveChoice(best, exhaustive.totals![g], `group ${g}`);
        assert.ok(best.candidates.length < feasiblePrices().length || label === 'adversarial', `group ${g}: screen kept every price`);
      });
    });
  });
}


test('windowed totals on small and odd grids (one to five blocks, the last anchor clipped) give the exhaustive uniform argmax', async () => {
  const customers = randomCustomers(3001, 101);
  const groupStarts = [0, 1000, 2200];
  await withEngine({ threads: 2, inlineBelow: 0 }, async (engine) => {
    for (const size of [1, 3, 4, 5, 8, 9, 13, 17, 20]) {
      const prices = Array.from({ length: size }, (_, j) => 20 + j * (160 / size));
      const options: GridOptions = { prices, sigma: 18.858, leadValue: 125.742, groupStarts };
      const screened = await priceGridSearch(customers, { ...options, uniform: true }, engine);
      const exhaustive = await priceGridSearch(customers, { ...options, totals: true }, engine);
      screened.uniform!.forEach((best, g) => {
        assertExhaustiveChoice(best, exhaustive.totals![g], `${size} prices, group ${g}`);
      });
    }
  });
});

/** Starts of blocks of 4096 customers within each market, as the counterfactual cuts them. */
function marketBlockStarts(marketStarts: readonly number[], n: number): number[] {
  return marketStarts.flatMap((start, m) => {
    const starts: number[] = [];
    for (let b = start; b < (marketStarts[m + 1] ?? n); b += 4096) starts.push(b);
    return starts;
  });
}

test('windowed screened totals are within their error of the exhaustive totals where flagged exact, and above them less the error elsewhere (anchor bounds)', async () => {
  // What the candidate rule rests on, price by price: random customers (negative margins at low
  // prices, so w = Π(p, 0) + rL < 0 takes the anchor above), the paper population and one whose
  // pilot is unlike the rest of its shard.
  const paper = syntheticPopulation(40_000, 5);
  const odd = randomCustomers(8000, 71);
  const utility = odd.baselineUtility as Float64Array, referrals = odd.expectedReferrals as Float64Array;
  for (let i = 0; i < 8000; i++) if (i % 4000 < 200) { utility[i] += 6; referrals[i] = 0; }
  const cases: [string, GridCustomers, number[]][] = [
    ['random', randomCustomers(12_000, 29), [0, 4000, 8000]],
    ['paper', paper, marketBlockStarts(paper.marketStarts, 40_000)],
    ['unlike pilot', odd, [0, 4000]],
  ];
  await withEngine({ threads: 2, inlineBelow: 0 }, async (engine) => {
    for (const [label, customers, groupStarts] of cases) {
      const options: GridOptions = { prices: feasiblePrices(), sigma: 18.858, leadValue: 125.742, groupStarts };
      const screened = await priceGridSearch(customers, { ...options, screenTotals: true }, engine);
      const exhaustive = await priceGridSearch(customers, { ...options, totals: true }, engine);
      let bounded = 0;
      screened.screenTotals!.forEach((t, g) => {
        (['traditional', 'broadcasting', 'personalizedRequirement'] as const).forEach((row, r) => {
          const slack = t.error[r] + 4 * t.customers * Number.EPSILON * t.scale;
          const exact = exhaustive.totals![g][row];
          exact.forEach((x, j) => {
            const known = row === 'traditional' || t.exact[j] === 1;
            if (!known) bounded++;
            const ok = known ? Math.abs(t[row][j] - x) <= slack : t[row][j] >= x - slack;
            assert.ok(ok, `${label}, group ${g}, ${row}, price ${j}: screened ${t[row][j]} vs exact ${x} (${known ? 'exact' : 'bound'}, slack ${slack})`);
          });
        });
      });
      assert.ok(bounded > 0, `${label}: some prices bounded`);
    }
  });
});

test('windowed totals on the paper population: each scheme\'s exhaustive uniform price is among at most two candidates left for the exact totals', async () => {
  // Σ Π(p, 0) is screened at every price (its best need not be a flagged price), and S at the
  // highest evaluated price bounds the S rows above it: on the slides' population little but the
  // optimum comes within the error, so the exact second read evaluates one or two prices per scheme.
  const population = syntheticPopulation(150_000, 3);
  const groupStarts = marketBlockStarts(population.marketStarts, 150_000);
  const options: GridOptions = { prices: feasiblePrices(), sigma: 18.858, leadValue: 125.742, groupStarts };
  let unflaggedTraditional = 0, candidateCount = 0;
  await withEngine({ threads: 2, inlineBelow: 0 }, async (engine) => {
    const screened = await priceGridSearch(population, { ...options, screenTotals: true }, engine);
    const exhaustive = await priceGridSearch(population, { ...options, totals: true }, engine);
    population.marketStarts.forEach((start, m) => {
      const end = population.marketStarts[m + 1] ?? 150_000;
      const blocks = groupStarts.flatMap((s, g) => (s >= start && s < end ? [g] : []));
      const market = emptyScreenedTotals(options.prices.length);
      const exact: PriceTotals = { traditional: new Float64Array(options.prices.length), broadcasting: new Float64Array(options.prices.length), personalizedRequirement: new Float64Array(options.prices.length) };
      for (const g of blocks) {
        addScreenedTotals(market, screened.screenTotals![g]);
        for (const row of ['traditional', 'broadcasting', 'personalizedRequirement'] as const) exact[row].forEach((_, j) => { exact[row][j] += exhaustive.totals![g][row][j]; });
      }
      for (const row of ['traditional', 'broadcasting', 'personalizedRequirement'] as const) {
        const candidates = candidatePrices(market, row);
        let best = 0;
        exact[row].forEach((x, j) => { if (x > exact[row][best]) best = j; });
        assert.ok(candidates.includes(best) && candidates.length <= 2, `market ${m} ${row}: candidates ${candidates}, exhaustive optimum ${best}`);
        if (row === 'traditional' && market.exact[best] === 0) unflaggedTraditional++;
        candidateCount += candidates.length;
      }
    });
    assert.ok(unflaggedTraditional > 0, 'some market\'s Σ Π(p, 0) optimum lies outside the window and its anchors');
    assert.ok(candidateCount <= 18, `${candidateCount} candidates for 15 optima`);
  });
});

test('windowed totals: a pilot unlike the rest of its shard still gives the exhaustive uniform argmax (bounded prices become candidates)', async () => {
  // The first customers of each shard place the window; here they want the highest prices (no
  // referrals) and the rest lower ones, where their referrals make broadcasting pay.
  const n = 6000;
  const customers = randomCustomers(n, 97);
  const pilotUtility = uniformArray(n, 6, 8, 97, 9), restUtility = uniformArray(n, 1, 3, 97, 10), restReferrals = uniformArray(n, 0.5, 1, 97, 11);
  const utility = customers.baselineUtility as Float64Array, referrals = customers.expectedReferrals as Float64Array;
  for (let i = 0; i < n; i++) {
    const pilot = i % 3000 < 300;
    utility[i] = pilot ? pilotUtility[i] : restUtility[i];
    referrals[i] = pilot ? 0 : restReferrals[i];
  }
  const groupStarts = [0, 3000];
  const options: GridOptions = { prices: feasiblePrices(), sigma: 18.858, leadValue: 125.742, groupStarts };
  for (const threads of [1, 2]) {
    await withEngine({ threads, inlineBelow: 0 }, async (engine) => {
      const screened = await priceGridSearch(customers, { ...options, uniform: true, screenTotals: true }, engine);
      const exhaustive = await priceGridSearch(customers, { ...options, totals: true }, engine);
      screened.uniform!.forEach((best, g) => {
        const exact = screened.screenTotals![g].exact;
        assert.ok(exact.some((x) => x === 0), `group ${g}: some prices bounded`);
        assertExhaustiveChoice(best, exhaustive.totals![g], `group ${g}`);
        assert.is(exact[best.broadcasting.index], 0, `group ${g}: the US optimum lies outside the pilot's window`);
      });
    });
  }
});

test('exact totals at (price, lead value) entries equal the exhaustive kernel\'s totals bit for bit, prices shared across lead values evaluated once', async () => {
  const customers = adversarialCustomers(9001, 83);
  const prices = feasiblePrices();
  const groupStarts = [0, 4000, 6000];
  const leads = [0, 62.871, 125.742, 3000];
  // overlapping, unsorted, repeated and odd-length candidate lists; a group without entries at one lead value
  const lists = [[[14, 31, 2], [31, 14], [55], [0, 55, 31]], [[7], [7, 8, 9], [], [9]], [[20, 21], [21], [20, 22, 21], [40]]];
  const runs = leads.map((leadValue, k) => ({ leadValue, candidates: lists.map((perLead) => perLead[k]) }));
  for (const threads of [1, 2]) {
    await withEngine({ threads, inlineBelow: 0 }, async (engine) => {
      const exact = await exactTotalsAtLeads(customers, { prices, sigma: 18.858, groupStarts }, runs, engine);
      let splitsBetween = 0;
      const groupOf = (g: number) => {
        const start = groupStarts[g], end = groupStarts[g + 1] ?? customers.baselineUtility.length;
        const cut = (a: ArrayLike<number>) => Float64Array.from({ length: end - start }, (_, i) => a[start + i]);
        return {
          baselineUtility: cut(customers.baselineUtility), priceSensitivity: cut(customers.priceSensitivity), shareCost: cut(customers.shareCost),
          expectedReferrals: cut(customers.expectedReferrals), marginalCost: cut(customers.marginalCost),
        };
      };
      for (const [k, leadValue] of leads.entries()) {
        const full = await priceGridSearch(customers, { prices, sigma: 18.858, leadValue, exhaustive: true, totals: true, groupStarts }, engine);
        for (const [g, list] of runs[k].candidates.entries()) {
          for (const [e, j] of list.entries()) {
            for (const row of ['traditional', 'broadcasting', 'personalizedRequirement'] as const) {
              assert.is(exact[k][g][row][e], full.totals![g][row][j], `lead ${leadValue}, group ${g}, price ${j}, ${row}`);
            }
            // the UP requirement split at this price: as the requirementSplit kernel counts it
            const group = groupOf(g);
            const [split] = await requirementSplit(group, new Int32Array(group.baselineUtility.length), [prices[j]], { sigma: 18.858, leadValue }, engine);
            assert.is(exact[k][g].broadcastingCount![e], split, `lead ${leadValue}, group ${g}, price ${j}: customers with Π(p, 1) ≥ Π(p, 0)`);
            if (split > 0 && split < group.baselineUtility.length) splitsBetween++;
          }
        }
      }
      assert.ok(splitsBetween > 5, 'groups split between the two requirements');
    });
  }
});

test('exact totals: a profit-only run gets Σ Π(p, 0) bit for bit, and S only where another run needs it', async () => {
  const customers = adversarialCustomers(5001, 89);
  const prices = feasiblePrices();
  const groupStarts = [0, 2500];
  const leadValue = 125.742;
  const runs = [
    { leadValue, candidates: [[10, 30], [5]] },
    { leadValue, candidates: [[30, 40, 41], [6, 7]], profitOnly: true },
  ];
  await withEngine({ threads: 2, inlineBelow: 0 }, async (engine) => {
    const [withShare, profitOnly] = await exactTotalsAtLeads(customers, { prices, sigma: 18.858, groupStarts }, runs, engine);
    const full = await priceGridSearch(customers, { prices, sigma: 18.858, leadValue, exhaustive: true, totals: true, groupStarts }, engine);
    runs[1].candidates.forEach((list, g) => list.forEach((j, e) => {
      assert.is(profitOnly[g].traditional[e], full.totals![g].traditional[j], `group ${g}, price ${j}`);
      const shared = runs[0].candidates[g].includes(j);
      for (const row of ['broadcasting', 'personalizedRequirement'] as const) {
        if (shared) assert.is(profitOnly[g][row][e], full.totals![g][row][j], `group ${g}, price ${j}, ${row}`);
        else if (row === 'broadcasting') assert.ok(Number.isNaN(profitOnly[g][row][e]), `group ${g}, price ${j}: S not computed`);
      }
    }));
    runs[0].candidates.forEach((list, g) => list.forEach((j, e) => {
      for (const row of ['traditional', 'broadcasting', 'personalizedRequirement'] as const) assert.is(withShare[g][row][e], full.totals![g][row][j]);
    }));
  });
});

test('exact totals on the search\'s shards (exactAt) equal exactTotalsAtLeads bit for bit, and leave the search\'s results as they were', async () => {
  const customers = adversarialCustomers(7001, 97);
  const prices = feasiblePrices();
  const groupStarts = [0, 2000, 4096, 6500];
  const leadValue = 125.742;
  // per group: a group with no candidates, odd lists, a profit-only run sharing a price with the S run
  const runs = [
    { leadValue, candidates: [[14, 15], [], [3], [30, 31, 40]] },
    { leadValue, candidates: [[14, 31], [], [2, 3], [7]], profitOnly: true },
    { leadValue: 2 * leadValue, candidates: [[9], [], [], [30]] },
  ];
  for (const threads of [1, 2]) {
    await withEngine({ threads, inlineBelow: 0 }, async (engine) => {
      const expected = await exactTotalsAtLeads(customers, { prices, sigma: 18.858, groupStarts }, runs, engine);
      for (const mode of [{ screenTotals: true, schemeStats: true }, { exhaustive: true }] as const) {
        const options: GridOptions = { prices, sigma: 18.858, leadValue, groupStarts, ...mode };
        const plain = await priceGridSearch(customers, options, engine);
        const withExact = await priceGridSearch(customers, { ...options, exactAt: runs }, engine);
        assert.equal(Array.from(withExact.bestIndexS), Array.from(plain.bestIndexS));
        assert.equal(Array.from(withExact.bestProfitNS), Array.from(plain.bestProfitNS));
        runs.forEach((run, k) => run.candidates.forEach((list, g) => {
          for (const row of ['traditional', 'broadcasting', 'personalizedRequirement'] as const) {
            const got = Array.from(withExact.exactAt![k][g][row]), want = Array.from(expected[k][g][row]);
            assert.equal(got, want, `${threads} thread(s), ${JSON.stringify(mode)}, run ${k}, group ${g}, ${row}`);
          }
          assert.is(withExact.exactAt![k][g].traditional.length, list.length);
        }));
      }
      const rejects = async (exactAt: GridOptions['exactAt'], message: RegExp) => {
        try {
          await priceGridSearch(customers, { prices, sigma: 18.858, leadValue, groupStarts, exactAt }, engine);
          assert.unreachable();
        } catch (error) {
          assert.match((error as Error).message, message);
        }
      };
      await rejects([{ leadValue, candidates: [[1]] }], /exactAt\[0\]: candidates for 1 groups, but there are 4/);
      await rejects([{ leadValue, candidates: [[1], [], [], [prices.length]] }], /exactAt\[0\]\.candidates\[3\] has price index \d+, outside 0\.\.\d+/);
    });
  }
});

test.run();
