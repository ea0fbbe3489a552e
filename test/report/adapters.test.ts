// Adapters from the domain's result objects to the report's section data: each keeps every
// number and the result passes the results-JSON check (so the report accepts it).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { CounterfactualResults } from '../../src/sharing/counterfactual.js';
import type { AbTestResult } from '../../src/coupons/abtest.js';
import type { ReferenceEvidence } from '../../src/coupons/evidence.js';
import type { SharingSummary } from '../../src/sharing/data.js';
import {
  abTestFromResult, acquisitionCostsFromCounterfactual, cyclesFromSolutions, heterogeneityFromCounterfactual,
  priceDistributionsFromCounterfactual, referenceEffectsFromEvidence, schemesFromCounterfactual, sensitivityFromCounterfactual,
  summaryFromSharing,
} from '../../src/report/adapters.js';
import { parseReportResults, renderReport } from '../../src/report/results.js';

const schemes = { UNS: 9.6, US: 12.2, UP: 12.3, PNS: 9.9, PS: 13.1, PP: 13.5 };
const cf = {
  leadValue: 125.7,
  socialShare: 0.778,
  schemes: Object.fromEntries(Object.entries(schemes).map(([k, profit], j) => [k, { profit, se: j === 0 ? undefined : 0.1 * j, broadcasting: 0 }])),
  priceDistributions: Object.fromEntries(Object.keys(schemes).map((k) => [k, { traditional: { 59: 3, 79: 1 }, broadcasting: { 59: 2, 88: 4 }, mean: 0 }])),
  sensitivity: { gamma: [0, 1, 2], lift: [0.1, 0.4, 0.5], lower: [0.05, 0.3, 0.35], upper: [0.15, 0.5, 0.65], PP: [], US: [], UNS: 1, benchmark: [] },
  acquisitionCost: { leadValue: 125.7, nonPositive: 7, infinite: 11, histogram: { edges: [0, 50, 100, 150], counts: [5, 6, 7, 8] } },
  heterogeneity: {
    priceScale: 188,
    distributions: { sharingCost: { label: 'Sharing cost', definition: 'σ·SC_i', count: 3, mean: 7.5, sd: 2, min: 0, max: 1, iqr: 1, range90: 1, quantiles: {} } },
    centered: { edges: [-1, 0, 1], counts: { sharingCost: [1, 2] } },
    spreadRatios: {},
  },
} as unknown as CounterfactualResults;

test('counterfactual results map to the scheme, price, sensitivity, acquisition and heterogeneity sections', async () => {
  const s = schemesFromCounterfactual(cf);
  assert.equal(s.schemes.map((x) => [x.scheme, x.profit]), Object.entries(schemes));
  assert.is(s.schemes[0].se, undefined);
  assert.is(s.schemes[2].se, 0.2);
  assert.is(s.socialShare, 0.778);
  const prices = priceDistributionsFromCounterfactual(cf);
  assert.equal(prices[0].counts, [{ price: 59, customers: 5 }, { price: 79, customers: 1 }, { price: 88, customers: 4 }]);
  assert.equal(sensitivityFromCounterfactual(cf)!.points[1], { gamma: 1, lift: 0.4, lower: 0.3, upper: 0.5 });
  const ac = acquisitionCostsFromCounterfactual(cf);
  // Three closed bins; the last count is the open bin above, added to the customers without leads.
  assert.equal(ac.bins, [{ start: 0, end: 50, count: 5 }, { start: 50, end: 100, count: 6 }, { start: 100, end: 150, count: 7 }]);
  assert.equal([ac.below, ac.above, ac.leadValue], [7, 8 + 11, 125.7]);
  const het = heterogeneityFromCounterfactual(cf);
  assert.equal(het.histograms[0].bins, [{ start: -1, end: 0, count: 1 }, { start: 0, end: 1, count: 2 }]);
  assert.is(het.histograms[0].name, 'Sharing cost');
  const results = { schemes: s, priceDistributions: prices, gammaSensitivity: sensitivityFromCounterfactual(cf), acquisitionCosts: ac, heterogeneity: het };
  const checked = parseReportResults(JSON.parse(JSON.stringify(results)), 'adapters');
  assert.match(await renderReport(checked), 'data-plot="acquisition-costs"');
});

test('summary, A/B test, reference evidence and cycles map to their sections', async () => {
  const summary = { groups: [{ price: 59, averagePrice: 59, markets: 6, customers: 9000, wholesaleCost: 48, shareRate: 0.33, purchaseRate: 0.34, referralsPerCustomer: 0.05 },
    { price: 60, averagePrice: 60, markets: 1, customers: 10, wholesaleCost: 50, shareRate: 0.3, purchaseRate: 0.3, referralsPerCustomer: 0 }] } as unknown as SharingSummary;
  const sm = summaryFromSharing(summary);
  assert.equal(sm.rows[0].target, { shareRate: 0.332, purchaseRate: 0.342, referralsPerCustomer: 0.054 });
  assert.is(sm.rows[1].target, undefined, 'a price the slides do not have has no target');
  const ab = {
    treatment: { customers: 100, revenue: 1045, discountRedeemed: 50 }, control: { customers: 100, revenue: 1000, discountRedeemed: 49 },
    revenueUplift: 4.5, regression: { pValueOneSided: 0.003 },
    couponsByRate: [{ discount: 0.1, treatment: 60, control: 40, percentChange: 50 }, { discount: 0.2, treatment: 40, control: 60, percentChange: -33 }],
    revenueByRate: [{ discount: 0.1, treatment: 600, control: 420, percentChange: 0 }, { discount: 0.2, treatment: 445, control: 580, percentChange: 0 }],
  } as unknown as AbTestResult;
  const abData = abTestFromResult(ab);
  assert.is(abData.lift, 0.045);
  assert.equal(abData.byRate[3], { arm: 'incumbent', discount: 0.2, coupons: 60, revenue: 580 });
  const evidence = {
    small: [0.1, 0.12], large: [0.17, 0.2],
    correlations: [{ memory: 1, maxReference: -0.02, averageReference: -0.01, observations: 10 }],
    table2: [{ memory: 3, smallToday: { percentChange: 4.2 }, largeToday: { percentChange: 1.1 } }],
  } as unknown as ReferenceEvidence;
  const ref = referenceEffectsFromEvidence(evidence);
  assert.equal(ref.monotonicity, [{ today: 'small today (10%, 12%)', memory: 3, percentChange: 4.2 }, { today: 'large today (17%, 20%)', memory: 3, percentChange: 1.1 }]);
  const cycles = cyclesFromSolutions([{ label: 'x', prices: [1, 2], memory: 2, result: { averageGain: 1.5, generator: null, cycle: [2, 1, 1], monotone: false, method: 'exact', language: 'prices', iterations: 3 } }]);
  assert.is(cycles.results[0].generator, null);
  const checked = parseReportResults(JSON.parse(JSON.stringify({ summary: sm, abTest: abData, referenceEffects: ref, cycles })), 'adapters');
  const html = await renderReport(checked);
  for (const id of ['summary-rates', 'coupon-mix', 'revenue-by-rate', 'reference-correlations', 'cycles']) assert.match(html, `data-plot="${id}"`);
  assert.match(html, 'not L-up-1-down');
});

test.run();
