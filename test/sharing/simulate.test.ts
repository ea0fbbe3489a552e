// The experiment simulator: the paper design reproduces the slides' summary table, the data follow
// the SPEC §1.1 data-generating process, results do not depend on chunking, custom designs and the
// optimal price rule behave as documented.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PromoptError } from '../../src/errors.js';
import { logistic, softplus } from '../../src/kernels/math.js';
import { PAPER_PARAMETERS, PAPER_SUMMARY } from '../../src/sharing/paper.js';
import { customerPrimitives, type SharingParameters } from '../../src/sharing/model.js';
import {
  concatSharingData, covariatesFor, readSharingData, readSharingDataChunks, summarizeSharing, writeSharingData, writeSharingDataChunks,
  type SharingData,
} from '../../src/sharing/data.js';
import {
  PAPER_CUSTOMERS, marketProfit, optimalMarketPrice, paperDesign, planSimulation, simulateSharing, simulatedChunks,
} from '../../src/sharing/simulate.js';
import { COVARIATE_NAMES } from '../../src/sharing/covariates.js';

const paperRuns = new Map<number, ReturnType<typeof simulateSharing>>();
function paper(seed: number) {
  let run = paperRuns.get(seed);
  if (!run) paperRuns.set(seed, (run = simulateSharing({ design: 'paper', seed })));
  return run;
}

function assertTableMatches(data: SharingData, tolerance: number, label: string): void {
  const summary = summarizeSharing(data);
  assert.equal(summary.groups.map((g) => g.price), PAPER_SUMMARY.map((g) => g.price), `${label}: price groups`);
  summary.groups.forEach((g, k) => {
    const slides = PAPER_SUMMARY[k];
    assert.is(g.markets, slides.markets, `${label}: markets at ${g.price}`);
    assert.is(g.customers, slides.customers, `${label}: customers at ${g.price}`);
    assert.ok(Math.abs(g.wholesaleCost - slides.wholesaleCost) < 1e-9, `${label}: cost at ${g.price}`);
    assert.ok(Math.abs(g.shareRate - slides.shareRate) <= tolerance, `${label}: share rate at ${g.price}: ${g.shareRate} vs ${slides.shareRate}`);
    assert.ok(Math.abs(g.purchaseRate - slides.purchaseRate) <= tolerance, `${label}: purchase rate at ${g.price}: ${g.purchaseRate} vs ${slides.purchaseRate}`);
    // "Same magnitude": within a factor of 10 per group. The model's referral capacity does not
    // depend on price, so it cannot follow the slides' steep fall of referrals per sharer with price
    // (0.16 at 59 CNY, 0.03 at 118); the high-price groups come out 2–5 times the slides' figure.
    const ratio = g.referralsPerCustomer / slides.referralsPerCustomer;
    assert.ok(ratio > 0.1 && ratio < 10, `${label}: referrals at ${g.price}: ${g.referralsPerCustomer} vs ${slides.referralsPerCustomer}`);
  });
  const totalRatio = summary.total.referralsPerCustomer / 0.031;
  assert.ok(totalRatio > 0.67 && totalRatio < 1.5, `${label}: referrals per focal customer overall ${summary.total.referralsPerCustomer} vs 0.031`);
}

test('paper design: 21 markets, the slides\' group sizes and costs, names like north-c03', () => {
  const design = paperDesign();
  assert.is(design.length, 21);
  assert.is(design.reduce((n, m) => n + m.customers, 0), PAPER_CUSTOMERS);
  assert.is(PAPER_CUSTOMERS, 23266);
  assert.ok(design.every((m) => /^(north|east|south)-c0[1-7]$/.test(m.name)));
  assert.is(new Set(design.map((m) => m.name)).size, 21);
  for (const g of PAPER_SUMMARY) {
    const members = design.filter((m) => m.price === g.price);
    assert.is(members.length, g.markets);
    assert.is(members.reduce((n, m) => n + m.customers, 0), g.customers);
    assert.ok(members.every((m) => m.marginalCost === g.wholesaleCost));
  }
  const scaled = paperDesign(232_660);
  assert.equal(scaled.map((m) => m.customers).reduce((a, b) => a + b), 232_660);
});

test('paper design reproduces the slides\' summary table within ±0.02 (default seed and others)', () => {
  for (const seed of [1, 2, 3, 2024]) assertTableMatches(paper(seed).data, 0.02, `seed ${seed}`);
});

test('true parameters are the slides\' estimates plus calibrated shocks for every market', () => {
  const { params, markets } = paper(1);
  for (const key of ['vbar', 'abar', 'scbar', 'sigma', 'r0', 'L', 'covariates', 'beta_v', 'beta_alpha', 'beta_sc', 'beta_r'] as const) {
    assert.equal(params[key], PAPER_PARAMETERS[key]);
  }
  assert.equal(Object.keys(params.xi_y).sort(), markets.map((m) => m.name).sort());
  assert.equal(Object.keys(params.xi_w).sort(), markets.map((m) => m.name).sort());
  assert.ok(Object.values(params.xi_y).every(Number.isFinite) && Object.values(params.xi_w).some((x) => x !== 0));
});

test('expected-rate calibration hits the targets in expectation; realized rates agree within sampling error', () => {
  const run = simulateSharing({ design: 'paper', seed: 7, calibration: 'expected' });
  for (const m of run.markets) {
    assert.ok(Math.abs(m.expected.shareRate - m.target!.shareRate) < 1e-8, `${m.name} expected share ${m.expected.shareRate}`);
    assert.ok(Math.abs(m.expected.purchaseRate - m.target!.purchaseRate) < 1e-8, `${m.name} expected purchase ${m.expected.purchaseRate}`);
  }
  const summary = summarizeSharing(run.data);
  summary.groups.forEach((g, k) => {
    const slides = PAPER_SUMMARY[k];
    for (const [observed, p] of [[g.shareRate, slides.shareRate], [g.purchaseRate, slides.purchaseRate]]) {
      const sd = Math.sqrt((p * (1 - p)) / g.customers);
      assert.ok(Math.abs(observed - p) <= 4 * sd, `price ${g.price}: ${observed} vs ${p} (sd ${sd})`);
    }
  });
});

test('DGP: only sharers refer, s = 1 non-sharers never buy, s is a fair coin, covariates standardized', () => {
  const { data } = paper(1);
  const n = data.market.length;
  let s1 = 0;
  for (let i = 0; i < n; i++) {
    s1 += data.assignment[i];
    if (data.shared[i] === 0) assert.is(data.referrals[i], 0);
    if (data.assignment[i] === 1 && data.shared[i] === 0) assert.is(data.purchased[i], 0);
  }
  assert.ok(Math.abs(s1 / n - 0.5) < 4 * Math.sqrt(0.25 / n), `assignment share ${s1 / n}`);
  assert.equal(data.covariateNames, [...COVARIATE_NAMES]);
  data.covariates.forEach((col, j) => {
    let mean = 0;
    for (const x of col) mean += x;
    mean /= n;
    let variance = 0;
    for (const x of col) variance += (x - mean) ** 2;
    const sd = Math.sqrt(variance / (n - 1));
    assert.ok(Math.abs(mean) < 1e-5 && Math.abs(sd - 1) < 1e-5, `${data.covariateNames[j]}: mean ${mean}, sd ${sd}`);
  });
});

test('DGP: outcome rates agree with the model\'s probabilities (SPEC §1.1) on a large random-shock design', () => {
  const markets = [
    { name: 'a', price: 59, marginalCost: 48.1, customers: 20_000 },
    { name: 'b', price: 98, marginalCost: 80, customers: 20_000 },
  ];
  const run = simulateSharing({ design: { markets }, seed: 11, shockSd: { y: 0.3, w: 0.05 } });
  const { data, params } = run;
  const prim = customerPrimitives(params, covariatesFor(data, params));
  // Expected counts by (market, s): shares, purchases, referrals.
  for (let m = 0; m < 2; m++) {
    for (const s of [0, 1]) {
      let eShare = 0, ePurchase = 0, eReferrals = 0, vShare = 0, vPurchase = 0, vReferrals = 0;
      let share = 0, purchase = 0, referrals = 0, count = 0;
      for (let i = 0; i < data.market.length; i++) {
        if (data.market[i] !== m || data.assignment[i] !== s) continue;
        count++;
        const u = prim.baselineUtility[i] - prim.priceSensitivity[i] * data.price[i];
        const pw = logistic(params.sigma * (-prim.shareCost[i] + s * softplus(u)));
        const py = (s ? pw : 1) * logistic(u);
        const r = prim.expectedReferrals[i];
        eShare += pw; vShare += pw * (1 - pw);
        ePurchase += py; vPurchase += py * (1 - py);
        eReferrals += pw * r; vReferrals += pw * (r + r * r) - (pw * r) ** 2;
        share += data.shared[i]; purchase += data.purchased[i]; referrals += data.referrals[i];
      }
      const label = `market ${markets[m].name}, s = ${s} (${count} customers)`;
      assert.ok(Math.abs(share - eShare) <= 4.5 * Math.sqrt(vShare) + 1, `${label}: ${share} shares vs ${eShare}`);
      assert.ok(Math.abs(purchase - ePurchase) <= 4.5 * Math.sqrt(vPurchase) + 1, `${label}: ${purchase} purchases vs ${ePurchase}`);
      assert.ok(Math.abs(referrals - eReferrals) <= 4.5 * Math.sqrt(vReferrals) + 1, `${label}: ${referrals} referrals vs ${eReferrals}`);
    }
  }
});

test('determinism: the same seed gives the same file; chunk sizes change nothing', async () => {
  const dir = await fs.mkdtemp(join(tmpdir(), 'promopt-sim-'));
  try {
    const a = join(dir, 'a.csv'), b = join(dir, 'b.csv');
    await writeSharingData(a, paper(1).data);
    const plan = planSimulation({ design: 'paper', seed: 1 });
    await writeSharingDataChunks(b, simulatedChunks(plan, 997));
    assert.ok((await fs.readFile(a)).equals(await fs.readFile(b)), 'whole and chunked simulation write identical bytes');
    // Markets kept in memory from planning and markets regenerated for output give the same rows.
    const regenerated = planSimulation({ design: 'paper', seed: 1 });
    regenerated.cache.clear();
    const c = join(dir, 'c.csv');
    await writeSharingDataChunks(c, simulatedChunks(regenerated, 5000));
    assert.ok((await fs.readFile(a)).equals(await fs.readFile(c)), 'regenerated customers are identical');
    const other = simulateSharing({ design: 'paper', seed: 2 }).data;
    assert.not.equal(Array.from(other.shared.subarray(0, 200)), Array.from(paper(1).data.shared.subarray(0, 200)));
    const whole = await readSharingData(a);
    const chunks = [];
    for await (const { firstRow: _f, ...chunk } of readSharingDataChunks(a, 1000)) chunks.push(chunk);
    const chunked = concatSharingData(chunks);
    assert.equal(chunked.marketNames, whole.marketNames);
    assert.ok(chunked.covariates.every((c, j) => c.every((x, i) => x === whole.covariates[j][i])));
    assert.ok(chunked.referrals.every((x, i) => x === whole.referrals[i]));
    // The file reads back exactly as simulated (covariates are rounded before use, so text is exact).
    const sim = paper(1).data;
    assert.equal(whole.marketNames, sim.marketNames);
    assert.ok(whole.covariates.every((c, j) => c.every((x, i) => x === sim.covariates[j][i])));
    assert.ok(whole.purchased.every((x, i) => x === sim.purchased[i]));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('custom designs: explicit markets, price lists, per-market sizes, covariate subsets, given shocks', () => {
  const listed = simulateSharing({ design: { prices: [59, 99], marginalCosts: [40], marketCount: 5, customers: 1003 }, seed: 4 });
  assert.equal(listed.data.marketNames, ['north-c01', 'east-c01', 'south-c01', 'north-c02', 'east-c02']);
  assert.is(listed.data.market.length, 1003);
  assert.equal(listed.markets.map((m) => m.price), [59, 99, 59, 99, 59]);
  assert.ok(listed.markets.every((m) => m.marginalCost === 40));
  assert.is(listed.plan.shocks, 'random');

  // Prices of the slides' table bring their rates as targets, so shocks can be calibrated.
  const slidesPrices = simulateSharing({ design: { prices: [59, 118], marginalCosts: [48.1, 89.1], customers: 4000 }, seed: 4, shocks: 'calibrated' });
  const groups = summarizeSharing(slidesPrices.data).groups;
  assert.ok(Math.abs(groups[0].shareRate - 0.332) < 1e-3 && Math.abs(groups[1].purchaseRate - 0.054) < 1e-3);
  assert.throws(() => simulateSharing({ design: { prices: [60], marginalCosts: [40], customers: 100 }, seed: 4, shocks: 'calibrated' }), /no target rates/);

  const perMarket = simulateSharing({ design: { prices: [70, 80], marginalCosts: [50, 60], customersPerMarket: 40 }, seed: 4 });
  assert.equal(perMarket.markets.map((m) => [m.customers, m.price, m.marginalCost]), [[40, 70, 50], [40, 80, 60]]);

  const params: SharingParameters = {
    ...PAPER_PARAMETERS,
    covariates: ['new_customer', 'tenure'],
    beta_v: [0.1, 0.2], beta_alpha: [0, 0.001], beta_sc: [0.05, 0], beta_r: [0.1, 0.2],
    xi_y: { shop: 0.4 }, xi_w: { shop: -0.1 },
  };
  const given = simulateSharing({ design: { markets: [{ name: 'shop', price: 65, marginalCost: 50, customers: 300, target: { shareRate: 0.3, purchaseRate: 0.3 } }] }, seed: 4, params });
  assert.is(given.plan.shocks, 'given');
  assert.equal(given.params.xi_y, { shop: 0.4 });
  assert.equal(given.data.covariateNames, ['new_customer', 'tenure']);
  const calibrated = simulateSharing({ design: { markets: [{ name: 'shop', price: 65, marginalCost: 50, customers: 2000, target: { shareRate: 0.3, purchaseRate: 0.3 } }] }, seed: 4, params, shocks: 'calibrated' });
  const s = summarizeSharing(calibrated.data).total;
  assert.ok(Math.abs(s.shareRate - 0.3) < 1e-3 && Math.abs(s.purchaseRate - 0.3) < 2e-3, `custom targets: ${s.shareRate}, ${s.purchaseRate}`);
});

test('bad designs and options are bad input', () => {
  const bad = (options: Parameters<typeof simulateSharing>[0], pattern: RegExp) => {
    try {
      simulateSharing(options);
    } catch (error) {
      assert.instance(error, PromoptError);
      assert.is((error as PromoptError).code, 'BAD_INPUT');
      assert.match((error as Error).message, pattern);
      return;
    }
    assert.unreachable(`accepted ${JSON.stringify(options.design)}; expected ${pattern}`);
  };
  bad({ design: { prices: [59, 79], marginalCosts: [1, 2, 3], customers: 10 }, seed: 1 }, /3 wholesale costs for 2 prices/);
  bad({ design: { prices: [59], customers: 10 }, seed: 1 }, /needs wholesale costs/);
  bad({ design: { markets: [{ name: 'a', price: 50, marginalCost: 40, customers: 5 }, { name: 'a', price: 60, marginalCost: 40, customers: 5 }] }, seed: 1 }, /"a" appears twice/);
  bad({ design: { markets: [{ name: 'a', price: -1, marginalCost: 40, customers: 5 }] }, seed: 1 }, /price must be a non-negative number/);
  bad({ design: { markets: [{ name: 'a', price: 50, marginalCost: 40, customers: 0 }] }, seed: 1 }, /customers must be a positive integer/);
  bad({ design: { markets: [{ name: 'a', price: 50, marginalCost: 40, customers: 5 }] }, seed: 1, shocks: 'calibrated' }, /no target rates/);
  bad({ design: 'paper', seed: 1, customers: 5 }, /at least 21 customers/);
  bad({ design: 'paper', seed: -1 }, /seed/);
  bad({ design: 'paper', seed: 1, params: { ...PAPER_PARAMETERS, covariates: ['shoe_size'], beta_v: [0], beta_alpha: [0], beta_sc: [0], beta_r: [0] } }, /cannot draw covariate "shoe_size"/);
});

test('optimal price rule: each market\'s price maximizes Π_m(p, 1/2, θ) at the firm\'s noisy cost', () => {
  const run = simulateSharing({ design: 'paper', seed: 5, priceRule: 'optimal', customers: 4200, marginalCostNoise: 2 });
  const { data, params, markets } = run;
  assert.is(run.plan.shocks, 'random');
  const prim = customerPrimitives(params, covariatesFor(data, params));
  let noisy = 0;
  for (const m of markets) {
    const idx: number[] = [];
    for (let i = 0; i < data.market.length; i++) if (data.marketNames[data.market[i]] === m.name) idx.push(i);
    assert.ok(idx.every((i) => data.price[i] === m.price && data.marginalCost[i] === m.marginalCost), `${m.name}: data record the chosen price and the true cost`);
    if (m.perceivedCost !== m.marginalCost) noisy++;
    const customers = {
      baselineUtility: idx.map((i) => prim.baselineUtility[i]),
      priceSensitivity: idx.map((i) => prim.priceSensitivity[i]),
      shareCost: idx.map((i) => prim.shareCost[i]),
      expectedReferrals: idx.map((i) => prim.expectedReferrals[i]),
    };
    const profit = (p: number) => marketProfit(customers, p, params.sigma, params.L, m.perceivedCost);
    const best = profit(m.price);
    for (let p = 0; p <= 188; p += 0.5) assert.ok(profit(p) <= best + 1e-9 * Math.abs(best), `${m.name}: Π(${p}) = ${profit(p)} beats Π(${m.price}) = ${best}`);
    // SPEC §1.2 step 4: the first-order condition recovers the cost the firm priced with.
    let numerator = 0, denominator = 0;
    for (let j = 0; j < idx.length; j++) {
      const alpha = customers.priceSensitivity[j];
      const u = customers.baselineUtility[j] - alpha * m.price;
      const D = logistic(u);
      const S = logistic(params.sigma * (-customers.shareCost[j] + softplus(u)));
      const dD = -alpha * D * (1 - D);
      const dS = -params.sigma * alpha * D * S * (1 - S);
      numerator += (1 + S) * D + customers.expectedReferrals[j] * params.L * dS;
      denominator += (1 + S) * dD + D * dS;
    }
    if (m.price > 0.01 && m.price < 187.99) {
      const implied = m.price + numerator / denominator;
      assert.ok(Math.abs(implied - m.perceivedCost) < 1e-4, `${m.name}: FOC-implied cost ${implied} vs ${m.perceivedCost}`);
    }
    if (m.price > 0.01 && m.price < 187.99) {
      const h = 1e-4;
      const slope = (profit(m.price + h) - profit(m.price - h)) / (2 * h);
      const scale = Math.abs(profit(m.price)) / m.price;
      assert.ok(Math.abs(slope) < 1e-5 * scale, `${m.name}: first-order condition, slope ${slope}`);
    }
  }
  assert.ok(noisy >= 20, 'the firm prices with a noisy cost');
  // The optimizer itself on a one-customer market with a closed-form optimum (no sharing, no leads):
  // Π(p) ∝ Λ(v − αp)(p − c) peaks where p − c = 1 / (α (1 − Λ(v − αp))).
  const one = { baselineUtility: [3], priceSensitivity: [0.05], shareCost: [50], expectedReferrals: [0] };
  const p = optimalMarketPrice(one, 10, 0, 40);
  assert.ok(Math.abs(p - 40 - 1 / (0.05 * (1 - logistic(3 - 0.05 * p)))) < 1e-6, `closed-form optimum check at ${p}`);
});

test.run();
