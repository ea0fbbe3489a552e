// promopt grid: per-customer best price with and without the broadcasting requirement on a
// synthetic population (the foundation's end-to-end job).
import type { Command } from 'commander';
import { action, parseInteger, parseNumber } from './context.js';
import { feasiblePrices, priceGridSearch, REGULAR_PRICE } from '../kernels/grid.js';
import { syntheticPopulation } from '../sharing/population.js';
import { PAPER_PARAMETERS } from '../sharing/paper.js';
import { formatTable } from '../report/text.js';

export function registerGrid(program: Command): void {
  program
    .command('grid')
    .description('best personalized price with and without the broadcasting requirement, per customer, on a synthetic population')
    .option('--customers <n>', 'customers to simulate', parseInteger('--customers', 1, 50_000_000), 1_000_000)
    .option('--regular-price <p>', 'highest feasible price', parseInteger('--regular-price', 1, 100_000), REGULAR_PRICE)
    .option('--lead-value <L>', 'value of one referred lead (default: the slides\' estimate)', parseNumber('--lead-value', 0), PAPER_PARAMETERS.L)
    .action(action(async (ctx, opts: { customers: number; regularPrice: number; leadValue: number }) => {
      const population = syntheticPopulation(opts.customers, ctx.options.seed);
      const prices = feasiblePrices(opts.regularPrice);
      const started = performance.now();
      const result = await priceGridSearch(
        { ...population, marginalCost: population.marginalCost },
        { prices, sigma: PAPER_PARAMETERS.sigma, leadValue: opts.leadValue },
        ctx.engine,
      );
      const seconds = (performance.now() - started) / 1000;
      const n = opts.customers;
      let sumNS = 0, sumS = 0, sumBest = 0, broadcast = 0;
      const countNS = new Array<number>(prices.length).fill(0);
      const countS = new Array<number>(prices.length).fill(0);
      for (let i = 0; i < n; i++) {
        sumNS += result.bestProfitNS[i];
        sumS += result.bestProfitS[i];
        const s = result.bestProfitS[i] >= result.bestProfitNS[i];
        if (s) broadcast++;
        sumBest += s ? result.bestProfitS[i] : result.bestProfitNS[i];
        countNS[result.bestIndexNS[i]]++;
        countS[result.bestIndexS[i]]++;
      }
      const distribution = (counts: number[]) => Object.fromEntries(prices.map((p, j) => [String(p), counts[j]]).filter(([, c]) => (c as number) > 0));
      const json = {
        customers: n,
        prices: prices.length,
        threads: ctx.engine.threads,
        seconds,
        nanosecondsPerEvaluation: (seconds * 1e9) / (n * prices.length),
        traditional: { averageProfit: sumNS / n, priceDistribution: distribution(countNS) },
        broadcasting: { averageProfit: sumS / n, priceDistribution: distribution(countS) },
        personalized: { averageProfit: sumBest / n, broadcastShare: broadcast / n },
      };
      const rows = prices.map((p, j) => [String(p), String(countNS[j]), String(countS[j])]).filter((r) => r[1] !== '0' || r[2] !== '0');
      const text = [
        `Price-grid search: ${n.toLocaleString('en-US')} customers × ${prices.length} prices on ${json.threads} thread(s) in ${seconds.toFixed(3)} s (${json.nanosecondsPerEvaluation.toFixed(2)} ns per customer-price)`,
        '',
        formatTable(['', 'average profit per customer'], [
          ['best price, no requirement (s = 0)', json.traditional.averageProfit.toFixed(3)],
          ['best price, broadcasting (s = 1)', json.broadcasting.averageProfit.toFixed(3)],
          ['best price and requirement', json.personalized.averageProfit.toFixed(3)],
        ]),
        '',
        `Share of customers better off with the broadcasting requirement: ${(100 * json.personalized.broadcastShare).toFixed(1)}%`,
        '',
        'Distribution of optimal prices:',
        formatTable(['price', 's = 0', 's = 1'], rows),
      ].join('\n');
      return { json, text };
    }));
}
