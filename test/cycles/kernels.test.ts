// The cycle kernels against their plain-TypeScript references: Howard's policy iteration (release
// and debug builds) and the per-customer coupon cycles (values, cycle ids, thread-count determinism,
// and the generated kernel body matching the TypeScript enumeration).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { CounterRng } from '../../src/random.js';
import { Engine } from '../../src/parallel/engine.js';
import { uniformArray, withEngine } from '../helpers.js';
import {
  certifiedCycle, couponCycles, couponCyclesReference, couponGainMatrix, maxRatioCycle, maxRatioCycleReference, type CycleGraph,
} from '../../src/kernels/mdp.js';
import { couponKernelBody } from '../../src/cycles/codegen.js';
import { decodeCouponCycle, DEFAULT_DISCOUNTS, DEFAULT_NOMINAL } from '../../src/cycles/batch.js';
import { discountCycleAverageGain, generatorAverageGain } from '../../src/cycles/model.js';
import { enumerateGeneratorCycles } from '../../src/cycles/enumerate.js';

function randomGraph(seed: number, n: number, degree: number): CycleGraph {
  const rng = new CounterRng(seed, 3, 0);
  const m = n * degree;
  const successor = new Int32Array(m), weight = new Float64Array(m), duration = new Float64Array(m);
  for (let v = 0; v < n; v++) for (let a = 0; a < degree; a++) {
    const e = v * degree + a;
    // Edge a = 0 goes to v + 1 so that the graph is strongly connected.
    successor[e] = a === 0 ? (v + 1) % n : Math.floor(rng.uniform() * n);
    weight[e] = rng.uniform() < 0.3 ? Math.round(3 * rng.uniform()) : rng.normal();
    duration[e] = rng.uniform() < 0.5 ? 1 : 1 + Math.floor(4 * rng.uniform());
  }
  return { nodes: n, degree, successor, weight, duration };
}

/** Best cycle ratio by brute force over simple cycles (tiny graphs only). */
function bruteForceRatio(graph: CycleGraph): number {
  let best = -Infinity;
  const onPath = new Array<boolean>(graph.nodes).fill(false);
  const dfs = (start: number, v: number, w: number, t: number) => {
    for (let a = 0; a < graph.degree; a++) {
      const e = v * graph.degree + a, u = graph.successor[e];
      if (u === start) best = Math.max(best, (w + graph.weight[e]) / (t + graph.duration[e]));
      else if (u > start && !onPath[u]) {
        onPath[u] = true;
        dfs(start, u, w + graph.weight[e], t + graph.duration[e]);
        onPath[u] = false;
      }
    }
  };
  for (let s = 0; s < graph.nodes; s++) { onPath[s] = true; dfs(s, s, 0, 0); onPath[s] = false; }
  return best;
}

for (const flavor of ['release', 'debug'] as const) {
  test(`Howard kernel (${flavor}) matches the TypeScript reference step for step and the brute-force optimum`, async () => {
    await withEngine({ threads: 1, flavor }, async (engine) => {
      for (let trial = 0; trial < 40; trial++) {
        const n = 2 + (trial % 7), degree = 1 + (trial % 4);
        const graph = randomGraph(100 + trial, n, degree);
        const kernel = await maxRatioCycle(graph, {}, engine);
        const reference = maxRatioCycleReference(graph);
        assert.equal(Array.from(kernel.policy), Array.from(reference.policy));
        assert.equal(Array.from(kernel.ratio), Array.from(reference.ratio));
        assert.equal(Array.from(kernel.bias), Array.from(reference.bias));
        assert.is(kernel.iterations, reference.iterations);
        const { ratio } = certifiedCycle(graph, kernel);
        const brute = bruteForceRatio(graph);
        assert.ok(Math.abs(ratio - brute) <= 1e-12 * Math.max(1, Math.abs(brute)), `${ratio} vs ${brute}`);
      }
    });
  });
}

function randomCustomers(n: number, seed: number) {
  return {
    f: uniformArray(n, -4, 1, seed, 1),
    g: uniformArray(n, 0, 40, seed, 2),
    h: uniformArray(n, 0, 60, seed, 3),
    spend: uniformArray(n, 10, 100, seed, 4),
  };
}

test('couponCyclesK5 matches the reference (eq. 7 over all 89 cycles) for several memories, release and debug', async () => {
  const customers = randomCustomers(2001, 5);
  for (const flavor of ['release', 'debug'] as const) {
    await withEngine({ threads: 1, flavor }, async (engine) => {
      for (const memory of [1, 3, 7, 14]) {
        const options = { discounts: DEFAULT_DISCOUNTS, nominal: DEFAULT_NOMINAL, memory };
        const kernel = await couponCycles(customers, options, engine);
        const reference = couponCyclesReference(customers, options);
        let sameCycle = 0;
        for (let i = 0; i < 2001; i++) {
          const a = kernel.averageGain[i], b = reference.averageGain[i];
          assert.ok(Math.abs(a - b) <= 1e-13 * Math.abs(b), `customer ${i}: ${a} vs ${b}`);
          if (kernel.cycleId[i] === reference.cycleId[i]) sameCycle++;
          else {
            // Only a near tie may pick another cycle: its exact value must be the optimum.
            const G = couponGainMatrix(customers.f[i], customers.g[i], customers.h[i], customers.spend[i], DEFAULT_DISCOUNTS, DEFAULT_NOMINAL);
            const cycle = decodeCouponCycle(kernel.cycleId[i], memory).cycle;
            assert.ok(Math.abs(discountCycleAverageGain(cycle, G, memory) - b) <= 1e-13 * Math.abs(b));
          }
        }
        assert.ok(sameCycle >= 1990, `${sameCycle} of 2001 identical cycles`);
      }
    });
  }
});

test('the kernel answer is the optimal L-up-1-down cycle in the discount language (direct simulation with max-reference)', () => {
  const customers = randomCustomers(300, 9);
  const cycles = enumerateGeneratorCycles(5);
  for (const memory of [2, 5]) {
    const result = couponCyclesReference(customers, { discounts: DEFAULT_DISCOUNTS, nominal: DEFAULT_NOMINAL, memory });
    for (let i = 0; i < 300; i++) {
      const G = couponGainMatrix(customers.f[i], customers.g[i], customers.h[i], customers.spend[i], DEFAULT_DISCOUNTS, DEFAULT_NOMINAL);
      const own = discountCycleAverageGain(decodeCouponCycle(result.cycleId[i], memory).cycle, G, memory);
      assert.ok(Math.abs(own - result.averageGain[i]) <= 1e-12 * own);
      // In price indices (price index = 4 − discount index) every other generator is no better by eq. 7.
      const priceGain = G.map((_, p) => G[4 - p].map((_, q) => G[4 - p][4 - q]));
      for (const c of cycles) assert.ok(generatorAverageGain(c.prices, priceGain, memory) <= own + 1e-12 * own);
    }
  }
});

test('coupon cycles are bit-identical on 1 and 2 threads', async () => {
  const customers = randomCustomers(70_001, 21);
  const options = { discounts: DEFAULT_DISCOUNTS, nominal: DEFAULT_NOMINAL, memory: 7 };
  const one = await withEngine({ threads: 1 }, (engine) => couponCycles(customers, options, engine));
  const two = await withEngine({ threads: 2, inlineBelow: 0 }, (engine) => couponCycles(customers, options, engine));
  assert.equal(Array.from(two.cycleId), Array.from(one.cycleId));
  assert.ok(two.averageGain.every((x, i) => Object.is(x, one.averageGain[i])));
  // The customers do not all share one cycle: the test exercises the whole table.
  assert.ok(new Set(one.cycleId).size >= 5, `${new Set(one.cycleId).size} distinct cycles`);
});

test('the generated kernel body in assembly/mdp.ts is the one the TypeScript enumeration writes', () => {
  const source = readFileSync(new URL('../../../assembly/mdp.ts', import.meta.url), 'utf8');
  assert.ok(source.includes(`// BEGIN GENERATED (src/cycles/codegen.ts)\n${couponKernelBody()}\n    // END GENERATED`));
});

test('bad customer values are refused with the customer named', async () => {
  const customers = randomCustomers(5, 1);
  const h = Float64Array.from(customers.h);
  h[3] = -1;
  await withEngine({ threads: 1 }, async (engine) => {
    let message = '';
    await couponCycles({ ...customers, h }, { discounts: DEFAULT_DISCOUNTS, nominal: DEFAULT_NOMINAL, memory: 3 }, engine).catch((e: Error) => (message = e.message));
    assert.match(message, /customer 3: h = -1/);
    await couponCycles(customers, { discounts: [0.1, 0.2], nominal: 0.1, memory: 3 }, engine).catch((e: Error) => (message = e.message));
    assert.match(message, /exactly 5 discounts/);
  });
});

test.run();
