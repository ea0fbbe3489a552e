// Batch promotion cycles (issue 6 performance goal: 20M customers, k = 5, L ≤ 14, ≤ 5 s wall on
// 2 threads). Part 1 times couponCycles end to end (copy in, kernel sharded over the threads, copy
// out) at full scale on 1 and 2 threads; part 2 is a benchmark.js suite of the kernel against its
// plain-TypeScript reference on 100k customers (one thread).
// Run: node dist/bench/cycles.bench.js [customers=20000000]
import Benchmark from 'benchmark';
import { Engine } from '../src/parallel/engine.js';
import { couponCycles, couponCyclesReference, type CycleCustomers } from '../src/kernels/mdp.js';
import { DEFAULT_DISCOUNTS, DEFAULT_NOMINAL } from '../src/cycles/batch.js';

function population(n: number, seed: number): Required<CycleCustomers> {
  // xorshift64*: fast enough to build 80M draws; the values only need to be varied.
  let s = BigInt(seed) | 1n;
  const M = (1n << 64n) - 1n;
  const next = () => {
    s ^= s >> 12n; s ^= (s << 25n) & M; s ^= s >> 27n;
    return Number(((s * 2685821657736338717n) & M) >> 11n) / 2 ** 53;
  };
  // BigInt is slow: draw a block of seeds and stretch them with a cheap LCG.
  const f = new Float64Array(n), g = new Float64Array(n), h = new Float64Array(n), spend = new Float64Array(n);
  let x = Math.floor(next() * 2 ** 31) + 1;
  const u = () => ((x = (x * 48271) % 2147483647) / 2147483647);
  for (let i = 0; i < n; i++) {
    f[i] = -4 + 4 * u();
    g[i] = 40 * u();
    h[i] = 80 * u();
    spend[i] = 10 + 90 * u();
  }
  return { f, g, h, spend };
}

async function scale(n: number): Promise<void> {
  const customers = population(n, 7);
  for (const threads of [1, 2]) {
    const engine = new Engine({ threads });
    try {
      await couponCycles(population(1 << 20, 3), { discounts: DEFAULT_DISCOUNTS, nominal: DEFAULT_NOMINAL, memory: 7 }, engine); // warm-up: pool and JIT
      for (const memory of [1, 7, 14]) {
        const times: number[] = [], cpu: number[] = [];
        for (let rep = 0; rep < 3; rep++) {
          const t0 = performance.now(), c0 = process.cpuUsage();
          await couponCycles(customers, { discounts: DEFAULT_DISCOUNTS, nominal: DEFAULT_NOMINAL, memory }, engine);
          times.push((performance.now() - t0) / 1000);
          const c = process.cpuUsage(c0);
          cpu.push((c.user + c.system) / 1e6); // all threads of the process: robust to a busy machine
        }
        const best = times.indexOf(Math.min(...times));
        const median = [...times].sort((a, b) => a - b)[1];
        console.log(`couponCycles  n=${n.toLocaleString('en-US')}  L=${String(memory).padStart(2)}  threads=${threads}: wall best ${times[best].toFixed(3)} s (median ${median.toFixed(3)} s), CPU ${Math.min(...cpu).toFixed(3)} s  (${((times[best] * 1e9) / n).toFixed(1)} ns/customer wall)`);
      }
    } finally {
      await engine.close();
    }
  }
}

async function suite(): Promise<void> {
  const n = 100_000;
  const customers = population(n, 11);
  const options = { discounts: DEFAULT_DISCOUNTS, nominal: DEFAULT_NOMINAL, memory: 7 };
  const engine = new Engine({ threads: 1 });
  await new Promise<void>((resolve) => {
    new Benchmark.Suite(`coupon cycles, ${n.toLocaleString('en-US')} customers, 1 thread`)
      .add('kernel (couponCyclesK5, wasm SIMD)', {
        defer: true,
        fn: (deferred: { resolve(): void }) => { couponCycles(customers, options, engine).then(() => deferred.resolve()); },
      })
      .add('plain-TypeScript reference', () => { couponCyclesReference(customers, options); })
      .on('cycle', (event: { target: unknown }) => console.log(String(event.target)))
      .on('complete', function (this: Benchmark.Suite) {
        const [kernel, reference] = Array.prototype.slice.call(this) as Benchmark[];
        console.log(`kernel / reference speed ratio: ${(kernel.hz / reference.hz).toFixed(1)}×`);
        resolve();
      })
      .run({ async: true });
  });
  await engine.close();
}

const n = Number(process.argv[2] ?? 20_000_000);
await scale(n);
await suite();
