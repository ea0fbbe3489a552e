// Sequential GMM estimation (SPEC §1.2). Goals: the paper design (23,266 customers, 14
// covariates, 21 markets) in ≤ 0.5 s wall for point estimates + SEs; 2.3M customers in ≤ 20 s on
// 2 threads with memory linear in customers. Also the cross-product kernel against its
// plain-TypeScript reference.
// Run: npm run build && node dist/bench/estimate.bench.js [largeCustomers=2300000] [threads=2]
// (largeCustomers 0 skips the large run.)
import { availableParallelism } from 'node:os';
import { Engine } from '../src/parallel/engine.js';
import { estimate } from '../src/sharing/estimate.js';
import { simulateSharing } from '../src/sharing/simulate.js';
import { PAPER_PARAMETERS } from '../src/sharing/paper.js';
import { gramSumsReference, packedSize } from '../src/kernels/moments.js';
import { KernelRuntime, Arena } from '../src/kernels/runtime.js';
import { CounterRng } from '../src/random.js';
import { runSuite } from './harness.js';

const largeCustomers = Number(process.argv[2] ?? 2_300_000);
const threads = Number(process.argv[3] ?? 2);
// Random shocks (see bench/montecarlo.ts); S̄C 0.3 keeps sharers in every market.
const params = { ...PAPER_PARAMETERS, scbar: 0.3 };
const simulate = (customers: number) => simulateSharing({ design: 'paper', seed: 1, shocks: 'random', shockSd: { y: 0.25, w: 0.02 }, params, customers }).data;

const paper = simulate(23_266);
const one = new Engine({ threads: 1 });
const many = new Engine({ threads });
console.error(`estimate: paper design 23,266 customers, 14 covariates, 21 markets; ${threads} thread(s) of ${availableParallelism()} cores`);

// Kernel vs reference: 4 weight columns (3 full, 1 vector) over 14 covariates.
const n = 100_000, k = 14;
const runtime = KernelRuntime.create('release');
const arena = new Arena(runtime);
const x = Array.from({ length: k }, (_, j) => Float64Array.from({ length: n }, (_, i) => new CounterRng(1, j, i).normal()));
const w = Array.from({ length: 4 }, (_, t) => Float64Array.from({ length: n }, (_, i) => new CounterRng(2, t, i).uniform()));
const xb = arena.f64(k * n), wb = arena.f64(4 * n), out = arena.f64(3 * packedSize(k) + k + 1);
x.forEach((c, j) => arena.viewF64(xb).set(c, j * n));
w.forEach((c, t) => arena.viewF64(wb).set(c, t * n));

const results = await runSuite('estimate', [
  { name: 'paper design: estimates + stacked SEs, 1 thread', units: 1, run: () => estimate(paper, {}, one) },
  { name: `paper design: estimates + stacked SEs, ${threads} threads`, units: 1, run: () => estimate(paper, {}, many) },
  { name: 'paper design: point estimates only, 1 thread', units: 1, run: () => estimate(paper, { standardErrors: false }, one) },
  { name: 'gramSums kernel (3 full + 1 vector weight, k = 14)', units: n, run: () => runtime.exports.gramSums(xb.ptr, n, n, k, wb.ptr, 3, wb.ptr + 3 * n * 8, 1, n, out.ptr) },
  { name: 'gramSums plain-TypeScript reference', units: n, run: () => gramSumsReference(x, w.slice(0, 3), w.slice(3)) },
], { minSamples: 3, maxTime: 6 });

console.log('### Sequential GMM estimation\n');
console.log('| case | time |');
console.log('|---|---:|');
for (const [i, r] of results.entries()) console.log(`| ${r.name} | ${i < 3 ? `${(r.nsPerUnit / 1e6).toFixed(1)} ms` : `${r.nsPerUnit.toFixed(1)} ns/customer`} |`);
const kernel = results[3], reference = results[4];
console.log(`\nKernel speed-up over the TypeScript reference: ${(reference.nsPerUnit / kernel.nsPerUnit).toFixed(1)}×`);

if (largeCustomers > 0) {
  const t0 = performance.now();
  const large = simulate(largeCustomers);
  const simulated = (performance.now() - t0) / 1000;
  const rssBefore = process.memoryUsage().rss;
  const t1 = performance.now();
  const res = await estimate(large, {}, many);
  const seconds = (performance.now() - t1) / 1000;
  const wasmBytes = many.runtime.byteLength;
  console.log(`\n${largeCustomers.toLocaleString('en-US')} customers (simulated in ${simulated.toFixed(1)} s): estimates + SEs in ${seconds.toFixed(2)} s wall on ${threads} threads; ` +
    `wasm memory ${(wasmBytes / 2 ** 20).toFixed(0)} MiB (${(wasmBytes / largeCustomers).toFixed(0)} B/customer), RSS ${(rssBefore / 2 ** 20).toFixed(0)} → ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB; ` +
    `steps ${res.diagnostics.steps.map((s) => `${s.step} ${s.iterations} it`).join(', ')}`);
}
await one.close();
await many.close();
