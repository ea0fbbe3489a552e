// promopt demo (what `npm start` runs): the end-to-end job on built-in simulated data.
import type { Command } from 'commander';
import { action } from './context.js';
import { feasiblePrices, priceGridSearch } from '../kernels/grid.js';
import { syntheticPopulation } from '../sharing/population.js';
import { PAPER_PARAMETERS } from '../sharing/paper.js';
import { formatTable } from '../report/text.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the end-to-end demo on built-in simulated data (what `npm start` runs)')
    .action(action(async (ctx) => {
      const customers = 1_000_000;
      const prices = feasiblePrices();
      const population = syntheticPopulation(customers, ctx.options.seed);
      const started = performance.now();
      const grid = await priceGridSearch(population, { prices, sigma: PAPER_PARAMETERS.sigma, leadValue: PAPER_PARAMETERS.L }, ctx.engine);
      const seconds = (performance.now() - started) / 1000;
      let ns = 0, s = 0, best = 0, social = 0;
      for (let i = 0; i < customers; i++) {
        ns += grid.bestProfitNS[i];
        s += grid.bestProfitS[i];
        const b = Math.max(grid.bestProfitNS[i], grid.bestProfitS[i]);
        best += b;
        if (grid.bestProfitS[i] >= grid.bestProfitNS[i]) social++;
      }
      const json = {
        steps: [{ step: 'price-grid search', customers, prices: prices.length, seconds, traditional: ns / customers, broadcasting: s / customers, personalized: best / customers, broadcastShare: social / customers }],
      };
      const text = [
        'promopt demo',
        '',
        `1. Price-grid search: ${customers.toLocaleString('en-US')} simulated customers × ${prices.length} feasible prices in ${seconds.toFixed(2)} s on ${ctx.engine.threads} thread(s)`,
        formatTable(['personalized price with', 'average profit'], [
          ['no broadcasting requirement', (ns / customers).toFixed(3)],
          ['broadcasting requirement', (s / customers).toFixed(3)],
          ['the better of the two', (best / customers).toFixed(3)],
        ]),
        `   ${(100 * social / customers).toFixed(1)}% of customers are worth the broadcasting requirement.`,
      ].join('\n');
      return { json, text };
    }));
}
