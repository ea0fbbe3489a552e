// How much one thread slows down when a second one runs beside it, on loops that share nothing
// (no memory traffic, no promopt code): the ceiling the machine puts on "2 threads vs 1". The
// latency-bound loop waits on one dependency chain; the throughput-bound one keeps eight
// independent chains busy, as the SIMD kernels do, and shows whether the two vCPUs share
// execution units. Each round runs a loop in 1 worker, then in 2 workers at once (each doing
// the full loop).
// Run: npm run build && node dist/bench/scaling.bench.js [rounds=5] [iterations=300000000]
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

function latencyBound(iterations: number): number {
  let sum = 0;
  for (let i = 0; i < iterations; i++) sum += Math.sqrt(1.0001 * i + 1.5) * 1.0000001;
  return sum;
}

function throughputBound(iterations: number): number {
  let a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8;
  for (let i = 0; i < iterations; i++) {
    a = a * 0.9999999 + 1e-9; b = b * 0.9999999 + 1e-9; c = c * 0.9999999 + 1e-9; d = d * 0.9999999 + 1e-9;
    e = e * 0.9999999 + 1e-9; f = f * 0.9999999 + 1e-9; g = g * 0.9999999 + 1e-9; h = h * 0.9999999 + 1e-9;
  }
  return a + b + c + d + e + f + g + h;
}

type Loop = 'latency' | 'throughput';

function inWorkers(count: number, loop: Loop, iterations: number): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let done = 0;
    for (let w = 0; w < count; w++) {
      const worker = new Worker(new URL(import.meta.url), { workerData: { loop, iterations } });
      worker.on('error', reject);
      worker.on('message', () => {
        void worker.terminate();
        if (++done === count) resolve(performance.now() - started);
      });
    }
  });
}

if (isMainThread) {
  const rounds = Number(process.argv[2] ?? 5);
  const iterations = Number(process.argv[3] ?? 300_000_000);
  for (const loop of ['latency', 'throughput'] as const) {
    const slowdowns: number[] = [];
    const count = iterations;
    console.log(`\n${loop}-bound loop\n`);
    console.log('| round | 1 worker, ms | 2 workers (same loop each), ms | per-thread slowdown | implied 2-thread speed-up |');
    console.log('|---:|---:|---:|---:|---:|');
    for (let r = 1; r <= rounds; r++) {
      const one = await inWorkers(1, loop, count);
      const two = await inWorkers(2, loop, count);
      slowdowns.push(two / one);
      console.log(`| ${r} | ${one.toFixed(0)} | ${two.toFixed(0)} | ${(two / one).toFixed(3)} | ${((2 * one) / two).toFixed(2)}× |`);
    }
    slowdowns.sort((a, b) => a - b);
    console.log(`\nper-thread slowdown: min ${slowdowns[0].toFixed(3)}, median ${slowdowns[slowdowns.length >> 1].toFixed(3)}, max ${slowdowns[slowdowns.length - 1].toFixed(3)}`);
  }
} else {
  const { loop, iterations } = workerData as { loop: Loop; iterations: number };
  parentPort!.postMessage(loop === 'latency' ? latencyBound(iterations) : throughputBound(iterations));
}
