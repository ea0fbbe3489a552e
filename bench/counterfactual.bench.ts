// Counterfactual policies: all six schemes (UNS, US, UP, PNS, PS, PP) for N customers, with the
// per-market uniform prices, per-customer optima, acquisition costs, P1 check and heterogeneity
// that every run computes. The goal is 20M customers in ≤ 5 s wall on 2 threads; this reports the
// time per customer at N and the extrapolation to 20M, against the exhaustive kernel (the grid
// kernel alone with exact per-market totals) and the same loop in native C (scalar, libm).
// Run: npm run build && node dist/bench/counterfactual.bench.js [customers=1000000] [threads=2]
import { availableParallelism } from 'node:os';
import { Engine } from '../src/parallel/engine.js';
import { feasiblePrices, priceGridSearch } from '../src/kernels/grid.js';
import { counterfactual, primitiveSource, tableSource } from '../src/sharing/counterfactual.js';
import { syntheticPopulation } from '../src/sharing/population.js';
import { PAPER_PARAMETERS, PAPER_SUMMARY } from '../src/sharing/paper.js';
import { CounterRng } from '../src/random.js';
import { runNative, runSuite } from './harness.js';

const customers = Number(process.argv[2] ?? 1_000_000);
const threads = Number(process.argv[3] ?? 2);
const params = PAPER_PARAMETERS;
const population = syntheticPopulation(customers, 1);
const engine = new Engine({ threads, inlineBelow: 0 });

// The same customers as a table of 14 standardized covariates (primitives computed in the run).
const k = params.covariates.length;
const covariates = Array.from({ length: k }, () => new Float64Array(customers));
const market = new Int32Array(customers);
population.marketStarts.forEach((s, m) => market.fill(m, s, population.marketStarts[m + 1] ?? customers));
for (let i = 0; i < customers; i++) {
  const rng = new CounterRng(1, 77, i);
  for (let j = 0; j < k; j++) covariates[j][i] = rng.normal();
}
const table = { marketNames: population.marketNames, market, marginalCost: population.marginalCost, covariateNames: params.covariates, covariates };
const marketStarts = population.marketStarts;
const prices = feasiblePrices();

console.error(`counterfactual, ${customers.toLocaleString('en-US')} customers × ${prices.length} prices, ${PAPER_SUMMARY.length} markets, ${threads} thread(s) of ${availableParallelism()} cores`);
const cases = [
  {
    name: 'grid kernel alone (per-customer optima + per-market totals)', units: customers,
    run: () => priceGridSearch(population, { prices, sigma: params.sigma, leadValue: params.L, groupStarts: marketStarts, totals: true }, engine),
  },
  {
    name: 'six schemes, one pass (primitives given)', units: customers,
    run: () => counterfactual(primitiveSource(population), params, { gammaGrid: [], uniformConditions: false }, engine),
  },
  {
    name: 'six schemes + UP requirement split', units: customers,
    run: () => counterfactual(primitiveSource(population), params, { gammaGrid: [] }, engine),
  },
  {
    name: 'six schemes from 14 covariates, one pass', units: customers,
    run: () => counterfactual(tableSource(table, params), params, { gammaGrid: [], uniformConditions: false }, engine),
  },
];
// steady state: one untimed run of each case first (a cold process adds ≈ 0.6 s at 20M: workers
// starting, JavaScript not yet optimized)
const results = await runSuite('counterfactual', cases, { minSamples: 3, maxTime: 10, warmup: 1 });

// CPU time of the whole process (main thread + workers) per run: less sensitive than wall time
// when the machine is shared; CPU/threads is the wall time a quiet machine could reach at best.
const cpu: number[] = [];
for (const c of cases) {
  const before = process.cpuUsage();
  const runs = 3;
  for (let r = 0; r < runs; r++) await c.run();
  const used = process.cpuUsage(before);
  cpu.push((used.user + used.system) / 1e6 / runs);
}
// What `promopt counterfactual` does by default besides the six schemes: the 21-point γ
// sensitivity curve (every γ in one pass of the lead kernel) and the UP requirement split.
// One timed run (it takes several times the cases above).
const defaultStarted = performance.now(), defaultCpu = process.cpuUsage();
await counterfactual(primitiveSource(population), params, {}, engine);
const defaultWall = (performance.now() - defaultStarted) / 1000;
const defaultUsed = process.cpuUsage(defaultCpu);
await engine.close();

console.log(`### Counterfactual policies (${customers.toLocaleString('en-US')} customers × ${prices.length} prices, ${threads} threads)\n`);
console.log('| case | wall ns per customer | wall extrapolated to 20M (s) | CPU s per run (all threads) | CPU/threads extrapolated to 20M (s) |');
console.log('|---|---:|---:|---:|---:|');
results.forEach((r, k) => console.log(`| ${r.name} | ${r.nsPerUnit.toFixed(1)} | ${((r.nsPerUnit * 20e6) / 1e9).toFixed(1)} | ${cpu[k].toFixed(2)} | ${((cpu[k] / threads) * (20e6 / customers)).toFixed(1)} |`));
const defaultCpuSeconds = (defaultUsed.user + defaultUsed.system) / 1e6;
// The same core loop in native C (bench/native/grid.c: scalar, libm, exhaustive, per-customer
// optima + per-market totals at every price), on 1M customers in 5 markets, 1 thread.
const native = runNative('grid', ['1000000', '3', String(PAPER_SUMMARY.length)]);
console.log(`| default options (21-point γ curve + UP split), one run | ${((defaultWall * 1e9) / customers).toFixed(1)} | ${(defaultWall * (20e6 / customers)).toFixed(1)} | ` +
  `${defaultCpuSeconds.toFixed(2)} | ${((defaultCpuSeconds / threads) * (20e6 / customers)).toFixed(1)} |`);
if (native) {
  const perCustomer = native.nsPerEvaluation * native.prices;
  console.log(`| native C exhaustive loop with per-market totals (gcc -O3, libm), 1 thread, 1M customers | ${perCustomer.toFixed(1)} | ${((perCustomer * 20e6) / 1e9).toFixed(1)} (${((perCustomer * 20e6) / 2e9).toFixed(1)} on 2 threads at a perfect 2×) | | |`);
}
