// How much one thread slows down when a second one runs beside it, on loops that share nothing
// (no memory traffic, no promopt code): the ceiling the machine puts on "2 threads vs 1". The
// latency-bound loop waits on one dependency chain; the throughput-bound one keeps eight
// independent chains busy, as the SIMD kernels do, and shows whether the two vCPUs share
// execution units. Each round runs a loop in 1 worker, then in 2 workers at once (each doing
// the full loop).
// Run: npm run build && node dist/bench/scaling.bench.js [rounds=5] [iterations=300000000]
import { inWorkers } from './ceiling.js';

{
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
}
