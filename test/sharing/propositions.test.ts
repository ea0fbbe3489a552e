// Propositions 1–3 of the slides as property tests on random customers (discrete grid, weakly).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { feasiblePrices, priceGridSearch, priceGridSearchReference, type GridCustomers } from '../../src/kernels/grid.js';
import {
  checkPair, checkProposition1, checkPropositions, emptyCount, type GridContext, type PropositionReport,
} from '../../src/sharing/propositions.js';
import { CounterRng } from '../../src/random.js';
import { withEngine } from '../helpers.js';

const prices = feasiblePrices();

/** Random customers over wide ranges of every primitive, with a random σ and L ≥ 0 per trial. */
function randomTrial(seed: number, n: number) {
  const u = (i: number, s: number) => new CounterRng(seed, s, i).uniform();
  const ctx: GridContext = { prices, sigma: 1 + 29 * u(0, 90), leadValue: 300 * u(0, 91) };
  const customers = {
    baselineUtility: Array.from({ length: n }, (_, i) => -2 + 6 * u(i, 1)),
    priceSensitivity: Array.from({ length: n }, (_, i) => 0.004 + 0.06 * u(i, 2)),
    shareCost: Array.from({ length: n }, (_, i) => -0.3 + 1.5 * u(i, 3)),
    expectedReferrals: Array.from({ length: n }, (_, i) => Math.exp(-6 + 7 * u(i, 4))),
    marginalCost: Array.from({ length: n }, (_, i) => 20 + 100 * u(i, 5)),
  };
  return { ctx, customers };
}

test('P1: the optimal broadcasting price is never above the optimal traditional price (kernel and reference)', async () => {
  for (const flavor of ['release', 'debug'] as const) {
    await withEngine({ flavor, threads: 1 }, async (engine) => {
      for (let trial = 0; trial < 6; trial++) {
        const { ctx, customers } = randomTrial(100 + trial, 2000);
        for (const result of [await priceGridSearch(customers, ctx, engine), priceGridSearchReference(customers, ctx)]) {
          const count = emptyCount();
          let strict = 0;
          for (let i = 0; i < 2000; i++) {
            checkProposition1(count, ctx, customers.baselineUtility[i], customers.priceSensitivity[i], customers.shareCost[i], customers.expectedReferrals[i],
              customers.marginalCost[i], result.bestIndexNS[i], result.bestIndexS[i], result.bestProfitS[i]);
            if (result.bestIndexS[i] < result.bestIndexNS[i]) strict++;
          }
          assert.is(count.violations, 0, `trial ${trial} (${flavor}): ${JSON.stringify(count.examples[0])}`);
          assert.ok(strict > 100, 'the comparison is not vacuous');
        }
      }
    });
  }
});

/** Random pairs with the same v, α, MC; `high` has the higher sharing cost and r moved as `direction` says. */
function pairs(seed: number, n: number, direction: 'up' | 'down' | 'same', sameCost = false) {
  const { ctx, customers } = randomTrial(seed, n);
  const u = (i: number, s: number) => new CounterRng(seed, s, i).uniform();
  const high: GridCustomers = {
    ...customers,
    shareCost: customers.shareCost.map((sc, i) => (sameCost ? sc : sc + (2 * u(i, 6)) / ctx.sigma)),
    expectedReferrals: customers.expectedReferrals.map((r, i) => r * Math.exp((direction === 'up' ? 1 : direction === 'down' ? -1 : 0) * 1.5 * u(i, 7))),
  };
  return { ctx, low: customers, high };
}

function runPairs(ctx: GridContext, low: GridCustomers, high: GridCustomers) {
  const report: PropositionReport = { P1: emptyCount(), P2: emptyCount(), P3: emptyCount() };
  const a = priceGridSearchReference(low, ctx), b = priceGridSearchReference(high, ctx);
  let priceMoves = 0, requirementMoves = 0;
  for (let i = 0; i < low.baselineUtility.length; i++) {
    const opt = (r: typeof a) => ({ indexNS: r.bestIndexNS[i], profitNS: r.bestProfitNS[i], indexS: r.bestIndexS[i], profitS: r.bestProfitS[i] });
    checkPair(report, ctx,
      { v: low.baselineUtility[i], alpha: low.priceSensitivity[i], mc: low.marginalCost[i] },
      { shareCost: low.shareCost[i], referrals: low.expectedReferrals[i] }, { shareCost: high.shareCost[i], referrals: high.expectedReferrals[i] },
      opt(a), opt(b));
    if (b.bestIndexS[i] < a.bestIndexS[i]) priceMoves++;
    if ((b.bestProfitS[i] >= b.bestProfitNS[i]) !== (a.bestProfitS[i] >= a.bestProfitNS[i])) requirementMoves++;
  }
  return { report, priceMoves, requirementMoves };
}

test('P2: the optimal broadcasting price decreases in the sharing cost and in referral capacity', () => {
  for (let trial = 0; trial < 8; trial++) {
    for (const [direction, sameCost] of [['up', false], ['same', false], ['up', true]] as const) {
      const { ctx, low, high } = pairs(200 + trial, 1500, direction, sameCost);
      const { report, priceMoves } = runPairs(ctx, low, high);
      assert.ok(report.P2.checked === 1500);
      assert.is(report.P2.violations, 0, `trial ${trial} (${direction}, same cost ${sameCost}): ${JSON.stringify(report.P2.examples[0])}`);
      assert.ok(priceMoves > 0 || ctx.leadValue < 1, 'some prices move');
    }
  }
});

test('P3: the broadcasting requirement is assigned less with higher sharing cost and more with higher referral capacity', () => {
  for (let trial = 0; trial < 8; trial++) {
    for (const direction of ['down', 'same'] as const) {
      const { ctx, low, high } = pairs(300 + trial, 1500, direction);
      const { report, requirementMoves } = runPairs(ctx, low, high);
      assert.ok(report.P3.checked === 1500);
      assert.is(report.P3.violations, 0, `trial ${trial} (${direction}): ${JSON.stringify(report.P3.examples[0])}`);
      assert.ok(requirementMoves > 0, 'some requirements move');
    }
  }
});

test('the runtime check reports reversals that are not near-ties', () => {
  const ctx: GridContext = { prices, sigma: 18.858, leadValue: 125.742 };
  const count = emptyCount();
  // A made-up answer claiming p*S = 188 > p*NS = 5 for an ordinary customer: a real violation.
  checkProposition1(count, ctx, 1, 0.02, 0.4, 0.1, 50, 0, prices.length - 1, 1);
  assert.is(count.violations, 1);
  assert.is(count.examples.length, 1);
  const report: PropositionReport = { P1: emptyCount(), P2: emptyCount(), P3: emptyCount() };
  // Higher sharing cost but claimed higher broadcasting price: a P2 violation.
  checkPair(report, ctx, { v: 1, alpha: 0.02, mc: 50 }, { shareCost: 0.3, referrals: 0.1 }, { shareCost: 0.5, referrals: 0.1 },
    { indexNS: 30, profitNS: 5, indexS: 10, profitS: 4 }, { indexNS: 30, profitNS: 5, indexS: 20, profitS: 3 });
  assert.is(report.P2.violations, 1);
});

test('checkPropositions runs all three on a population (P2/P3 on perturbed twins)', () => {
  const { ctx, customers } = randomTrial(7, 400);
  const report = checkPropositions(customers, ctx, 3);
  assert.is(report.P1.checked, 400);
  assert.is(report.P2.checked + report.P3.checked > 400, true);
  assert.is(report.P1.violations + report.P2.violations + report.P3.violations, 0);
});

test.run();
