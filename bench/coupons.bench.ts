// Daily-coupon pipeline pieces: the rolling-window feature kernel (one day for N customers,
// every window full) on 1 and 2 threads against the plain-TypeScript reference, and the
// simulator's customer-day step.
// Run: npm run build && node dist/bench/coupons.bench.js [customers=200000]
import { availableParallelism } from 'node:os';
import { Engine } from '../src/parallel/engine.js';
import { CouponWorld, historicalDays } from '../src/coupons/simulate.js';
import { dailyBlock, staticColumns } from '../src/coupons/features.js';
import { RollingFeatures, rollingFeaturesReference } from '../src/kernels/features.js';
import { runSuite } from './harness.js';

const customers = Number(process.argv[2] ?? 200_000);
const days = 35;
const world = new CouponWorld({ customers, days: days + 1, seed: 1 });
const blocks = [...historicalDays(world)].map(dailyBlock);
const statics = staticColumns(world.customers);
const discounts = world.config.discounts;

async function filled(engine: Engine): Promise<RollingFeatures> {
  const rolling = new RollingFeatures(customers, statics, discounts);
  await rolling.advance(null, 0, engine);
  for (let t = 0; t < days; t++) await rolling.advance(blocks[t], (t + 1) % 7, engine);
  return rolling;
}
const one = new Engine({ threads: 1 });
const two = new Engine({ threads: 2, inlineBelow: 0 });
const rolling1 = await filled(one);
const rolling2 = await filled(two);
const small = 2000;
const smallBlocks = blocks.map((b) => {
  const out = new Float32Array(11 * small);
  for (let f = 0; f < 11; f++) out.set(b.subarray(f * customers, f * customers + small), f * small);
  return out;
});
const smallStatics = statics.map((c) => c.slice(0, small));
const stepWorld = new CouponWorld({ customers: Math.min(customers, 50_000), days: 1000, seed: 2 });
const stepLevels = new Uint8Array(stepWorld.size).fill(2);

// Streaming callers pass the previous day's output arrays back in (no fresh pages each day).
let into1: Float64Array[] | undefined, into2: Float64Array[] | undefined;
console.error(`coupons, ${customers.toLocaleString('en-US')} customers, ${availableParallelism()} cores`);
await runSuite('coupons', [
  { name: 'feature kernel, one day (56 features), 1 thread', units: customers, run: async () => { into1 = await rolling1.advance(blocks[days], 1, one, into1); } },
  { name: 'feature kernel, one day (56 features), 2 threads', units: customers, run: async () => { into2 = await rolling2.advance(blocks[days], 1, two, into2); } },
  { name: `plain-TS reference (recomputes windows), ${small} customers`, units: small, run: () => rollingFeaturesReference(smallBlocks.slice(0, days), smallStatics, discounts, 1) },
  { name: 'simulator step (customer-days)', units: stepWorld.size, run: () => stepWorld.step(stepLevels) },
]);
await one.close();
await two.close();
