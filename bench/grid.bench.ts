// Price-grid search and the logit kernel: WASM (screened and exhaustive) vs plain TypeScript vs a
// native C build of the same loop, 1 vs 2 threads, at 1M customers × 56 prices.
// Run: npm run build && node dist/bench/grid.bench.js [customers]
import { availableParallelism } from 'node:os';
import { Engine } from '../src/parallel/engine.js';
import { feasiblePrices, priceGridSearch, priceGridSearchReference } from '../src/kernels/grid.js';
import { logitDemand, logitDemandReference } from '../src/kernels/logit.js';
import { syntheticPopulation } from '../src/sharing/population.js';
import { PAPER_PARAMETERS } from '../src/sharing/paper.js';
import { markdownTable, runNative, runSuite, type BenchResult } from './harness.js';
import { twoThreadCeiling } from './ceiling.js';

const customers = Number(process.argv[2] ?? 1_000_000);
const prices = feasiblePrices();
const population = syntheticPopulation(customers, 1);
const options = { prices, sigma: PAPER_PARAMETERS.sigma, leadValue: PAPER_PARAMETERS.L };
const one = new Engine({ threads: 1 });
const two = new Engine({ threads: 2, inlineBelow: 0 });
const evaluations = customers * prices.length;

// The plain-TypeScript reference is slow: time it on a tenth of the customers.
const tsCustomers = Math.max(1, Math.floor(customers / 10));
const slice = <T extends ArrayLike<number>>(a: T) => Array.prototype.slice.call(a, 0, tsCustomers) as number[];
const small = {
  baselineUtility: slice(population.baselineUtility), priceSensitivity: slice(population.priceSensitivity),
  shareCost: slice(population.shareCost), expectedReferrals: slice(population.expectedReferrals), marginalCost: slice(population.marginalCost),
};

console.error(`price-grid search, ${customers.toLocaleString('en-US')} customers × ${prices.length} prices (${availableParallelism()} cores)`);
const grid: BenchResult[] = await runSuite('grid', [
  { name: 'wasm screened, 1 thread', units: evaluations, run: () => priceGridSearch(population, options, one) },
  { name: 'wasm screened, 2 threads', units: evaluations, run: () => priceGridSearch(population, options, two) },
  { name: 'wasm exhaustive, 1 thread', units: evaluations, run: () => priceGridSearch(population, { ...options, exhaustive: true }, one) },
  { name: 'wasm exhaustive, 2 threads', units: evaluations, run: () => priceGridSearch(population, { ...options, exhaustive: true }, two) },
  { name: 'plain TypeScript, 1 thread', units: tsCustomers * prices.length, run: () => priceGridSearchReference(small, options) },
], { minSamples: 5, maxTime: 6 });
const native = runNative('grid', [String(customers), '3']);
if (native) grid.push({ name: 'native C (gcc -O3, libm), 1 thread', nsPerUnit: native.nsPerEvaluation, rme: 0, samples: 3 });

const logitInput = {
  baselineUtility: population.baselineUtility, priceSensitivity: population.priceSensitivity, shareCost: population.shareCost,
  price: Float64Array.from(population.marginalCost, (mc) => mc * 1.2), sigma: PAPER_PARAMETERS.sigma, broadcast: 1 as const,
};
const logitSmall = { ...logitInput, baselineUtility: small.baselineUtility, priceSensitivity: small.priceSensitivity, shareCost: small.shareCost, price: slice(logitInput.price) };
console.error(`logit kernel (D, EU, S, slopes), ${customers.toLocaleString('en-US')} customers`);
const logit = await runSuite('logit', [
  { name: 'wasm, 1 thread', units: customers, run: () => logitDemand(logitInput, one) },
  { name: 'wasm, 2 threads', units: customers, run: () => logitDemand(logitInput, two) },
  { name: 'plain TypeScript, 1 thread', units: tsCustomers, run: () => logitDemandReference(logitSmall) },
], { minSamples: 5, maxTime: 4 });
// benchmark.js runs the cases one after the other; a second figure alternates 1 and 2 threads run
// by run (median of 9), so that both see the same machine state.
// Each round also probes the machine's own ceiling (bench/ceiling: a loop that shares nothing,
// 1 worker then 2), so that the kernel's ratio can be read against what the machine gave then.
const alternating = { one: [] as number[], two: [] as number[], ratio: [] as number[], ceiling: [] as number[] };
for (let r = 0; r < 9; r++) {
  const round: number[] = [];
  for (const [engine, times] of [[one, alternating.one], [two, alternating.two]] as const) {
    const started = performance.now();
    await priceGridSearch(population, options, engine);
    times.push(performance.now() - started);
    round.push(performance.now() - started);
  }
  alternating.ratio.push(round[0] / round[1]);
  alternating.ceiling.push(await twoThreadCeiling());
}
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
await one.close();
await two.close();

const find = (rows: BenchResult[], name: string) => rows.find((r) => r.name === name)!.nsPerUnit;
console.log(`### Price-grid search (${customers.toLocaleString('en-US')} customers × ${prices.length} prices)\n`);
console.log(markdownTable(grid, 'ns per customer-price', 'plain TypeScript, 1 thread'));
console.log(`\n2 threads vs 1 (screened): ${(find(grid, 'wasm screened, 1 thread') / find(grid, 'wasm screened, 2 threads')).toFixed(2)}×; ` +
  `(exhaustive): ${(find(grid, 'wasm exhaustive, 1 thread') / find(grid, 'wasm exhaustive, 2 threads')).toFixed(2)}×; ` +
  `screened, alternating runs (median of 9): ${(median(alternating.one) / median(alternating.two)).toFixed(2)}×, ` +
  `median of the rounds' ratios ${median(alternating.ratio).toFixed(2)}× while the machine's own ceiling (bench/ceiling, same rounds) was ` +
  `${median(alternating.ceiling).toFixed(2)}× (range ${Math.min(...alternating.ceiling).toFixed(2)}–${Math.max(...alternating.ceiling).toFixed(2)})`);
console.log(`\n### Logit kernel (${customers.toLocaleString('en-US')} customers)\n`);
console.log(markdownTable(logit, 'ns per customer', 'plain TypeScript, 1 thread'));
