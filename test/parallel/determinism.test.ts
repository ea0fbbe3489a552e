import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { feasiblePrices, priceGridSearch, priceGridSearchLeads, type GridResult } from '../../src/kernels/grid.js';
import { logitDemand } from '../../src/kernels/logit.js';
import { groupShards, planShards } from '../../src/parallel/engine.js';
import { randomCustomers, uniformArray, withEngine } from '../helpers.js';

const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

test('shards cover [0, n) contiguously and cut at every group start', () => {
  const shards = planShards(100_000, 16384, [0, 20_000, 20_001, 70_000]);
  assert.is(shards[0].start, 0);
  assert.is(shards[shards.length - 1].end, 100_000);
  for (let k = 1; k < shards.length; k++) assert.is(shards[k].start, shards[k - 1].end);
  for (const cut of [20_000, 20_001, 70_000]) assert.ok(shards.some((s) => s.start === cut), `no shard starts at ${cut}`);
  assert.ok(shards.every((s) => s.end - s.start <= 16384 && s.end > s.start));
});

test('worker tasks group consecutive shards in order, at least four tasks per thread', () => {
  for (const [n, shardSize, threads] of [[1_000_000, 4096, 2], [100_000, 16384, 2], [50_000, 4096, 8], [7, 1, 3], [5000, 4096, 2]]) {
    const shards = planShards(n, shardSize, [0, Math.floor(n / 3)]);
    const groups = groupShards(shards, threads);
    assert.is(groups[0].start, 0);
    assert.is(groups.at(-1)!.end, shards.length);
    groups.forEach((g, k) => {
      assert.ok(g.end > g.start, 'no empty task');
      if (k > 0) assert.is(g.start, groups[k - 1].end, 'tasks are consecutive');
    });
    const items = (g: { start: number; end: number }) => shards.slice(g.start, g.end).reduce((s, x) => s + x.end - x.start, 0);
    // every task but the last reaches the target size, and the target leaves ≥ 4 tasks per thread when there are enough shards
    const target = Math.min(16384, Math.ceil(n / (4 * threads)));
    groups.slice(0, -1).forEach((g) => assert.ok(items(g) >= target));
    groups.forEach((g) => assert.ok(items(g) < target + shardSize, 'a task stops at the shard that reaches the target'));
    if (shards.length >= 4 * threads) assert.ok(groups.length >= Math.min(shards.length, 4 * threads) - 1);
  }
});

test('grid search (with per-market totals) is bit-identical on 1, 2 and 4 threads', async () => {
  const customers = randomCustomers(120_001, 99);
  const options = { prices: feasiblePrices(), sigma: 18.858, leadValue: 125.742, totals: true, groupStarts: [0, 33_333, 90_000] };
  const runs: GridResult[] = [];
  for (const threads of [1, 2, 4]) runs.push(await withEngine({ threads, inlineBelow: 0 }, (engine) => priceGridSearch(customers, options, engine)));
  for (const run of runs.slice(1)) {
    for (const key of ['bestIndexNS', 'bestProfitNS', 'bestIndexS', 'bestProfitS'] as const) assert.ok(bytes(run[key]).equals(bytes(runs[0][key])), key);
    run.totals!.forEach((group, g) => {
      for (const key of ['traditional', 'broadcasting', 'personalizedRequirement'] as const) {
        assert.ok(bytes(group[key]).equals(bytes(runs[0].totals![g][key])), `totals[${g}].${key}`);
      }
    });
  }
});

test('screened search and the many-lead search are bit-identical on 1, 2 and 4 threads (results copied out by the workers)', async () => {
  const customers = randomCustomers(100_003, 7);
  const options = { prices: feasiblePrices(), sigma: 18.858, leadValue: 125.742, groupStarts: [0, 40_000] };
  const leadOptions = { prices: options.prices, sigma: options.sigma, leadValues: [0, 62.871, 125.742], groupStarts: options.groupStarts };
  const runs = [];
  for (const threads of [1, 2, 4]) {
    runs.push(await withEngine({ threads, inlineBelow: 0 }, async (engine) => ({
      screened: await priceGridSearch(customers, options, engine), leads: await priceGridSearchLeads(customers, leadOptions, engine),
    })));
  }
  const first = runs[0];
  assert.ok(first.screened.bestIndexS.some((j) => j > 0) && first.leads.bestIndexS[2].some((j) => j > 0), 'the search moved off the first price');
  for (const run of runs.slice(1)) {
    for (const key of ['bestIndexNS', 'bestProfitNS', 'bestIndexS', 'bestProfitS'] as const) assert.ok(bytes(run.screened[key]).equals(bytes(first.screened[key])), key);
    run.leads.bestIndexS.forEach((a, g) => assert.ok(bytes(a).equals(bytes(first.leads.bestIndexS[g])), `lead ${g} index`));
    run.leads.bestProfitS.forEach((a, g) => assert.ok(bytes(a).equals(bytes(first.leads.bestProfitS[g])), `lead ${g} profit`));
  }
  // the lead search at the main lead value is the screened search's s = 1 result
  assert.ok(bytes(first.leads.bestIndexS[2]).equals(bytes(first.screened.bestIndexS)));
});

test('logit batch is bit-identical on 1 and 2 threads', async () => {
  const n = 100_003;
  const input = {
    baselineUtility: uniformArray(n, -5, 5, 1, 1), priceSensitivity: uniformArray(n, 0, 0.05, 1, 2),
    shareCost: uniformArray(n, 0, 1, 1, 3), price: uniformArray(n, 0, 188, 1, 4), sigma: 10, broadcast: 1 as const,
  };
  const one = await withEngine({ threads: 1 }, (engine) => logitDemand(input, engine));
  const two = await withEngine({ threads: 2, inlineBelow: 0 }, (engine) => logitDemand(input, engine));
  for (const key of Object.keys(one) as (keyof typeof one)[]) assert.ok(bytes(one[key]).equals(bytes(two[key])), key);
});

test.run();
