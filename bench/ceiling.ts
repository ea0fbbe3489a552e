// The machine's own ceiling on "2 threads vs 1": a loop that shares nothing (no memory traffic,
// no promopt code) run in 1 worker, then in 2 workers at once (each doing the full loop). This
// module is also the workers' entry. Used by bench/scaling and bench/grid.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

/** Waits on one dependency chain. */
function latencyBound(iterations: number): number {
  let sum = 0;
  for (let i = 0; i < iterations; i++) sum += Math.sqrt(1.0001 * i + 1.5) * 1.0000001;
  return sum;
}

/** Eight independent chains, as the SIMD kernels keep busy: shows whether two vCPUs share execution units. */
function throughputBound(iterations: number): number {
  let a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8;
  for (let i = 0; i < iterations; i++) {
    a = a * 0.9999999 + 1e-9; b = b * 0.9999999 + 1e-9; c = c * 0.9999999 + 1e-9; d = d * 0.9999999 + 1e-9;
    e = e * 0.9999999 + 1e-9; f = f * 0.9999999 + 1e-9; g = g * 0.9999999 + 1e-9; h = h * 0.9999999 + 1e-9;
  }
  return a + b + c + d + e + f + g + h;
}

export type Loop = 'latency' | 'throughput';

/** Wall ms for `count` workers each running the loop at once. */
export function inWorkers(count: number, loop: Loop, iterations: number): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let done = 0;
    for (let w = 0; w < count; w++) {
      const worker = new Worker(new URL(import.meta.url), { workerData: { ceilingProbe: true, loop, iterations } });
      worker.on('error', reject);
      worker.on('message', () => {
        void worker.terminate();
        if (++done === count) resolve(performance.now() - started);
      });
    }
  });
}

/** One probe: the speed-up 2 threads could give over 1 on the throughput-bound loop right now (2 × one / two). */
export async function twoThreadCeiling(iterations = 60_000_000): Promise<number> {
  const one = await inWorkers(1, 'throughput', iterations);
  const two = await inWorkers(2, 'throughput', iterations);
  return (2 * one) / two;
}

if (!isMainThread && (workerData as { ceilingProbe?: boolean } | null)?.ceilingProbe) {
  const { loop, iterations } = workerData as { loop: Loop; iterations: number };
  parentPort!.postMessage(loop === 'latency' ? latencyBound(iterations) : throughputBound(iterations));
}
