import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  counterfactual, fileSource, primitiveSource, tableSource,
} from '../../src/sharing/counterfactual.js';
import { customerPrimitives, type SharingParameters } from '../../src/sharing/model.js';
import { writeSharingData, type SharingData } from '../../src/sharing/data.js';
import { simulateSharing } from '../../src/sharing/simulate.js';
import { PAPER_PARAMETERS, PAPER_PROFITS } from '../../src/sharing/paper.js';
import { syntheticPopulation } from '../../src/sharing/population.js';
import { feasiblePrices } from '../../src/kernels/grid.js';
import { logistic, softplus } from '../../src/kernels/math.js';
import { smallExperiment } from './counterfactual-fixtures.js';
import { withEngine } from '../helpers.js';

/** Plain loops over every customer, price and requirement: the schemes straight from their definitions. */
function exhaustive(data: SharingData, params: SharingParameters, prices: number[], L: number) {
  const p = customerPrimitives(params, { columns: data.covariates, market: Array.from(data.market, (m) => data.marketNames[m]) });
  const n = data.market.length, M = data.marketNames.length;
  const totals = { UNS: [] as number[][], US: [] as number[][], UP: [] as number[][] };
  for (const key of ['UNS', 'US', 'UP'] as const) for (let m = 0; m < M; m++) totals[key].push(new Array(prices.length).fill(0));
  let PNS = 0, PS = 0, PP = 0, social = 0;
  const profitAt = (i: number, price: number, s: 0 | 1) => {
    const u = p.baselineUtility[i] - p.priceSensitivity[i] * price;
    const own = logistic(u) * (price - data.marginalCost[i]);
    return s === 0 ? own : logistic(params.sigma * (softplus(u) - p.shareCost[i])) * (own + p.expectedReferrals[i] * L);
  };
  const bestNS: number[] = [], bestS: number[] = [];
  for (let i = 0; i < n; i++) {
    let b0 = -Infinity, b1 = -Infinity, j0 = 0, j1 = 0;
    prices.forEach((price, j) => {
      const a = profitAt(i, price, 0), b = profitAt(i, price, 1);
      totals.UNS[data.market[i]][j] += a;
      totals.US[data.market[i]][j] += b;
      totals.UP[data.market[i]][j] += Math.max(a, b);
      if (a > b0) { b0 = a; j0 = j; }
      if (b > b1) { b1 = b; j1 = j; }
    });
    bestNS.push(j0); bestS.push(j1);
    PNS += b0; PS += b1; PP += Math.max(b0, b1);
    if (b1 >= b0) social++;
  }
  const uniform = (key: 'UNS' | 'US' | 'UP') => {
    let sum = 0;
    const chosen = totals[key].map((t) => {
      const j = t.indexOf(Math.max(...t));
      sum += t[j];
      return prices[j];
    });
    return { profit: sum / n, chosen };
  };
  return { UNS: uniform('UNS'), US: uniform('US'), UP: uniform('UP'), PNS: PNS / n, PS: PS / n, PP: PP / n, socialShare: social / n, bestNS, bestS, profitAt };
}

test('every scheme matches a plain exhaustive computation on a small population', async () => {
  const { data, params } = smallExperiment(600, 3);
  const prices = feasiblePrices();
  const expected = exhaustive(data, params, prices, params.L);
  for (const [threads, flavor] of [[1, 'debug'], [2, 'release']] as const) {
    const res = await withEngine({ threads, inlineBelow: 0, flavor }, (engine) => counterfactual(tableSource(data, params), params, { gammaGrid: [] }, engine));
    for (const s of ['UNS', 'US', 'UP'] as const) {
      assert.ok(Math.abs(res.schemes[s].profit - expected[s].profit) <= 1e-10 * expected[s].profit, `${s}: ${res.schemes[s].profit} vs ${expected[s].profit}`);
      assert.equal(data.marketNames.map((m) => res.uniformPrices[s][m]), expected[s].chosen, `${s} uniform prices`);
    }
    for (const s of ['PNS', 'PS', 'PP'] as const) {
      assert.ok(Math.abs(res.schemes[s].profit - expected[s]) <= 1e-10 * expected[s], `${s}: ${res.schemes[s].profit} vs ${expected[s]}`);
    }
    assert.is(res.socialShare, expected.socialShare);
    assert.is(res.customers, 600);
    // Personalized price distributions: counts per grid price.
    const countOf = (idx: number[]) => {
      const c: Record<string, number> = {};
      idx.forEach((j) => { c[String(prices[j])] = (c[String(prices[j])] ?? 0) + 1; });
      return c;
    };
    assert.equal(res.priceDistributions.PNS.traditional, countOf(expected.bestNS));
    assert.equal(res.priceDistributions.PS.broadcasting, countOf(expected.bestS));
    // Under UP every customer of a market pays its price; the requirement splits them.
    const upTotal = Object.values(res.priceDistributions.UP.traditional).reduce((a, b) => a + b, 0) + Object.values(res.priceDistributions.UP.broadcasting).reduce((a, b) => a + b, 0);
    assert.is(upTotal, 600);
    let upBroadcast = 0;
    for (let i = 0; i < 600; i++) {
      const price = expected.UP.chosen[data.market[i]];
      if (expected.profitAt(i, price, 1) >= expected.profitAt(i, price, 0)) upBroadcast++;
    }
    assert.is(res.schemes.UP.broadcasting, upBroadcast);
    // Ordering the definitions imply: personalizing never hurts.
    assert.ok(res.schemes.PP.profit >= Math.max(res.schemes.PS.profit, res.schemes.PNS.profit, res.schemes.UP.profit));
    assert.ok(res.schemes.UP.profit >= Math.max(res.schemes.US.profit, res.schemes.UNS.profit));
    assert.ok(res.schemes.PNS.profit >= res.schemes.UNS.profit && res.schemes.PS.profit >= res.schemes.US.profit);
  }
});

test('acquisition costs: s* = 1 exactly when AC_i ≤ L, and the profit tables follow the slides\' layout', async () => {
  const { data, params } = smallExperiment(2000, 5);
  const res = await withEngine({ threads: 1 }, (engine) => counterfactual(tableSource(data, params), params, { gammaGrid: [] }, engine));
  const ac = res.acquisitionCost;
  assert.is(ac.violations, 0);
  assert.is(ac.assignedBroadcasting + 0, Math.round(res.socialShare * res.customers));
  assert.is(ac.acAtMostLead + ac.ties, ac.assignedBroadcasting + ac.ties);
  assert.ok(ac.assignedBroadcasting > 0 && ac.assignedBroadcasting < res.customers, 'both conditions occur');
  assert.is(ac.histogram.counts.reduce((a, b) => a + b, 0) + ac.nonPositive + ac.infinite, res.customers);
  assert.is(ac.histogram.counts.length, ac.histogram.edges.length);
  const t = res.profitTable.nonBroadcastingBenchmark;
  assert.equal(t.map((r) => r.key), ['UNS', 'PNS', 'UP', 'PP']);
  assert.equal(res.profitTable.broadcastingBenchmark.map((r) => r.key), ['US', 'PS', 'UP', 'PP']);
  assert.is(t[0].increase.every((x) => x === null), true);
  assert.is(t[3].increase[2], res.schemes.PP.profit - res.schemes.UP.profit);
  assert.is(t[2].increase[1], res.schemes.UP.profit - res.schemes.PNS.profit);
  assert.ok(Math.abs(t[3].percentOverScheme1! - 100 * (res.schemes.PP.profit / res.schemes.UNS.profit - 1)) < 1e-9);
});

test('ties between the conditions go to the broadcasting requirement', async () => {
  // S = 1 exactly (huge σ·EU) and negligible leads: Π(p, 1) = Π(p, 0) at every price.
  const n = 10;
  const population = {
    baselineUtility: new Float64Array(n).fill(2), priceSensitivity: new Float64Array(n).fill(0.03), shareCost: new Float64Array(n).fill(-100),
    expectedReferrals: new Float64Array(n).fill(1e-300), marginalCost: new Float64Array(n).fill(40), marketStarts: [0], marketNames: ['m'],
  };
  const params = { ...smallExperiment(1, 1).params, covariates: [], beta_v: [], beta_alpha: [], beta_sc: [], beta_r: [] };
  const res = await withEngine({ threads: 1 }, (engine) => counterfactual(primitiveSource(population), params, { gammaGrid: [] }, engine));
  assert.is(res.schemes.PP.profit, res.schemes.PNS.profit);
  assert.is(res.socialShare, 1);
  assert.is(res.acquisitionCost.violations, 0);
});

async function writeExperiment(data: SharingData, params: SharingParameters) {
  const dir = await fs.mkdtemp(join(tmpdir(), 'promopt-cf-'));
  const dataPath = join(dir, 'data.csv'), paramsPath = join(dir, 'params.json');
  await writeSharingData(dataPath, data);
  await fs.writeFile(paramsPath, JSON.stringify(params));
  return { dir, dataPath, paramsPath };
}

test('chunked reading gives results identical to the single-chunk run (any chunk size, any thread count)', async () => {
  const { data, params } = smallExperiment(3001, 9);
  const { dir, dataPath } = await writeExperiment(data, params);
  try {
    const options = { gammaGrid: [0.5, 1.5], blockSize: 64 };
    const run = (chunkRows: number, threads: number) => withEngine({ threads, inlineBelow: 0 }, (engine) => counterfactual(fileSource(dataPath, params, chunkRows), params, options, engine));
    const whole = JSON.stringify(await run(1 << 20, 1));
    assert.is(JSON.stringify(await run(37, 2)), whole, 'chunks of 37 rows');
    assert.is(JSON.stringify(await run(500, 1)), whole, 'chunks of 500 rows');
    const inMemory = await withEngine({ threads: 2 }, (engine) => counterfactual(tableSource(data, params, 1000), params, options, engine));
    assert.is(JSON.stringify(inMemory), whole, 'in memory');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('the first read is kept for the later passes within the byte budget, with identical results', async () => {
  const { data, params } = smallExperiment(2001, 4);
  const { dir, dataPath } = await writeExperiment(data, params);
  try {
    // a file source that counts how often it is read
    const counted = (chunkRows: number) => {
      const inner = fileSource(dataPath, params, chunkRows);
      const source = { reads: 0, marketNames: inner.marketNames, rows: inner.rows, chunks: () => { source.reads++; return inner.chunks(); } };
      return source;
    };
    const options = { gammaGrid: [0.5, 1.5], blockSize: 64 };
    const run = (keepBytes: number | undefined, covariance?: { names: string[]; matrix: number[][] }) => withEngine({ threads: 2, inlineBelow: 0 }, async (engine) => {
      const source = counted(300);
      const result = await counterfactual(source, params, { ...options, keepBytes, covariance }, engine);
      return { reads: source.reads, json: JSON.stringify(result) };
    });
    const reread = await run(0);
    assert.is(reread.reads, 2, 'keepBytes 0: pass 1 and the exact totals of the blocks pass 1 could not give each read the file (the UP split comes with the exact totals)');
    const kept = await run(undefined);
    assert.is(kept.reads, 1, 'default budget: one read');
    assert.is(kept.json, reread.json);
    const tooSmall = await run(2001 * 44 - 1);
    assert.is(tooSmall.reads, 2, 'a budget one byte short of the data: read again');
    assert.is(tooSmall.json, reread.json);
    // with a covariance the covariates are kept too (the gradients need them)
    const names = ['vbar', 'beta_v.' + params.covariates[0]];
    const covariance = { names, matrix: [[1e-4, 0], [0, 1e-4]] };
    const withSe = await run(undefined, covariance), withSeReread = await run(0, covariance);
    assert.is(withSe.reads, 1);
    assert.is(withSeReread.reads, 3, 'with a covariance the gradients take a third read');
    assert.is(withSe.json, withSeReread.json);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('uniform totals from pass 1\'s predicted candidates, or read again where the prediction missed: identical results whatever the mix', async () => {
  // The paper population with each market's lowest-utility tenth first: its early blocks favour
  // lower prices than the market as a whole, so candidates predicted from them miss the final ones.
  const population = syntheticPopulation(100_000, 5);
  const n = population.baselineUtility.length;
  const order: number[] = [];
  population.marketStarts.forEach((start, m) => {
    const rows = Array.from({ length: (population.marketStarts[m + 1] ?? n) - start }, (_, k) => start + k);
    const low = new Set([...rows].sort((a, b) => population.baselineUtility[a] - population.baselineUtility[b]).slice(0, rows.length / 10));
    order.push(...low, ...rows.filter((i) => !low.has(i)));
  });
  const permuted = (column: ArrayLike<number>) => Float64Array.from(order, (i) => column[i]);
  const drifting = {
    ...population, baselineUtility: permuted(population.baselineUtility), priceSensitivity: permuted(population.priceSensitivity),
    shareCost: permuted(population.shareCost), expectedReferrals: permuted(population.expectedReferrals), marginalCost: permuted(population.marginalCost),
  };
  const run = async (people: typeof population, chunkRows: number, threads: number, predictCandidates = true) => {
    const work: { blocks?: number; rereadBlocks?: number } = {};
    const options = { gammaGrid: [0.5, 1.5], blockSize: 64, work, predictCandidates };
    const res = await withEngine({ threads, inlineBelow: 0 }, (engine) => counterfactual(primitiveSource(people, chunkRows), PAPER_PARAMETERS, options, engine));
    return { blocks: work.blocks!, reread: work.rereadBlocks!, json: JSON.stringify(res) };
  };
  const markets = population.marketNames.length;
  // blocks go to the kernel in batches, market after market: each market's first two batches come
  // before it has totals, the later ones are predicted — and with the drift, more predictions miss
  const steady = await run(population, 1 << 20, 2);
  const drift = await run(drifting, 1 << 20, 2);
  assert.is(drift.blocks, steady.blocks);
  assert.ok(steady.reread > markets && steady.reread < steady.blocks / 2, `${steady.reread} of ${steady.blocks} blocks read again`);
  assert.ok(drift.reread > steady.reread && drift.reread < drift.blocks - markets, `with the drift ${drift.reread} of ${drift.blocks} blocks read again (${steady.reread} without)`);
  for (const [chunkRows, threads] of [[500, 1], [97, 2]]) {
    const small = await run(drifting, chunkRows, threads);
    assert.is(small.blocks, drift.blocks, 'the same blocks whatever the chunking');
    assert.is(small.json, drift.json, `chunks of ${chunkRows}, ${threads} thread(s): identical results`);
  }
  // every block's totals from the second read instead: the same results, bit for bit
  for (const [people, predicted] of [[population, steady], [drifting, drift]] as const) {
    const reread = await run(people, 1 << 20, 1, false);
    assert.is(reread.reread, reread.blocks, 'no predictions: every block read again');
    assert.is(reread.json, predicted.json, 'predicted and re-read totals give identical results');
  }
});

test('a missing covariate column is named', async () => {
  const { data, params } = smallExperiment(50, 2);
  const { dir, dataPath } = await writeExperiment(data, params);
  try {
    const wanting = { ...params, covariates: [...params.covariates, 'tenure'], beta_v: [...params.beta_v, 0], beta_alpha: [...params.beta_alpha, 0], beta_sc: [...params.beta_sc, 0], beta_r: [...params.beta_r, 0] };
    await withEngine({ threads: 1 }, async (engine) => {
      try {
        await counterfactual(fileSource(dataPath, wanting), wanting, { gammaGrid: [] }, engine);
        assert.unreachable('should fail');
      } catch (error) {
        assert.match((error as Error).message, /missing covariate column "tenure"/);
      }
    });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('sensitivity curve: γ = 1 is the main run; the lift is PP over the better uniform benchmark', async () => {
  const { data, params } = smallExperiment(800, 4);
  const res = await withEngine({ threads: 1 }, (engine) => counterfactual(tableSource(data, params), params, { gammaGrid: [0, 1, 2] }, engine));
  const s = res.sensitivity!;
  assert.is(s.PP[1], res.schemes.PP.profit);
  assert.is(s.US[1], res.schemes.US.profit);
  assert.is(s.UNS, res.schemes.UNS.profit);
  assert.is(s.lift[1], res.schemes.PP.profit / Math.max(res.schemes.US.profit, res.schemes.UNS.profit) - 1);
  // With worthless leads, broadcasting can only lose own-profit: PP = PNS, and the uniform benchmark is UNS.
  assert.is(s.PP[0], res.schemes.PNS.profit);
  assert.is(s.benchmark[0], 'UNS');
  assert.ok(s.PP[2] >= s.PP[1] && s.US[2] >= s.US[1], 'profits rise with the lead value');
});

test('sensitivity curve at every γ equals a separate run with lead value γ L, bit for bit (the one-pass lead kernel)', async () => {
  const { data, params } = smallExperiment(2500, 6);
  const gammaGrid = [0, 0.3, 0.7, 1.3, 2];
  await withEngine({ threads: 2, inlineBelow: 0 }, async (engine) => {
    const res = await counterfactual(tableSource(data, params), params, { gammaGrid, blockSize: 128 }, engine);
    for (let g = 0; g < gammaGrid.length; g++) {
      const alone = await counterfactual(tableSource(data, params), params, { gammaGrid: [], leadValue: gammaGrid[g] * params.L, blockSize: 128 }, engine);
      assert.is(res.sensitivity!.PP[g], alone.schemes.PP.profit, `γ = ${gammaGrid[g]}: PP`);
      assert.is(res.sensitivity!.US[g], alone.schemes.US.profit, `γ = ${gammaGrid[g]}: US`);
    }
  });
});

test('the paper design: integrated personalization beats every isolated scheme, most customers broadcast', async () => {
  const { data, params } = simulateSharing({ design: 'paper', seed: 11 });
  const res = await withEngine({ threads: 2 }, (engine) => counterfactual(tableSource(data, params), params, { gammaGrid: [] }, engine));
  assert.is(res.customers, 23266);
  assert.is(res.markets.length, 21);
  const s = res.schemes;
  assert.ok(s.PP.profit > s.UP.profit && s.UP.profit > s.PNS.profit && s.PNS.profit > s.UNS.profit, JSON.stringify(s));
  // Same magnitudes as the slides' table (their data are not ours: within a factor of 1.5).
  const ratio = (a: number, b: number) => Math.max(a / b, b / a);
  assert.ok(ratio(s.UNS.profit, PAPER_PROFITS.noPersonalization) < 1.5);
  assert.ok(ratio(s.PP.profit, PAPER_PROFITS.integrated) < 1.5);
  assert.ok(Math.abs(res.socialShare - PAPER_PROFITS.socialShareUnderPP) < 0.15, `social share ${res.socialShare}`);
  assert.is(res.acquisitionCost.violations, 0);
  assert.is(res.propositions.P1.violations + res.propositions.P2.violations + res.propositions.P3.violations, 0);
});

test.run();
