import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  allocate, allocateReference, policyAt, expectedDiscountReference, DEFAULT_DISCOUNTS,
  type AllocationInput, type AllocationResult,
} from '../../src/coupons/allocate.js';
import {
  AllocationPasses, couponResponseReference, coveringShift, envelopeReference, KEY_INFINITY, lambdaKey, nextLambda, previousLambda, RECORD_FIELDS,
  sumField, T_DISCOUNT, T_LIMIT, TOTALS_HEAD,
} from '../../src/kernels/allocation.js';
import { logistic } from '../../src/kernels/math.js';
import { CounterRng } from '../../src/random.js';
import { Engine } from '../../src/parallel/engine.js';
import { withEngine } from '../helpers.js';

/** Customers like the paper's: baseline log-odds around −3, coupon sensitivity mostly positive. */
function randomCustomers(n: number, seed: number, options: { negativeShare?: number; spend?: boolean } = {}): AllocationInput {
  const f = new Float64Array(n), g = new Float64Array(n), spend = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const rng = new CounterRng(seed, 11, i);
    f[i] = -3 + 1.5 * rng.normal();
    g[i] = rng.uniform() < (options.negativeShare ?? 0.005) ? -20 * rng.uniform() : 12 * rng.uniform();
    spend[i] = 40 + 200 * rng.uniform();
  }
  return options.spend === false ? { f, g } : { f, g, spend };
}

const relClose = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));

function assertSameAllocation(actual: AllocationResult, expected: AllocationResult, label: string, lambdaRel = 1e-12) {
  assert.ok(relClose(actual.lambda, expected.lambda, lambdaRel), `${label}: λ ${actual.lambda} vs ${expected.lambda}`);
  assert.ok(relClose(actual.expectedDiscount, expected.expectedDiscount, 1e-11), `${label}: B ${actual.expectedDiscount} vs ${expected.expectedDiscount}`);
  assert.ok(relClose(actual.expectedRevenue, expected.expectedRevenue, 1e-11), `${label}: revenue ${actual.expectedRevenue} vs ${expected.expectedRevenue}`);
  let differ = 0;
  for (let i = 0; i < expected.discountIndex.length; i++) if (actual.discountIndex[i] !== expected.discountIndex[i]) differ++;
  // Only customers with a breakpoint within rounding of λ may differ.
  assert.ok(differ <= 2, `${label}: ${differ} customers get different coupons`);
}

/** B(λ) with the kernel's envelope policy. */
async function kernelDiscountAt(input: AllocationInput, lambda: number, engine: Engine, evaluation: 'envelope' | 'direct' = 'envelope') {
  return (await policyAt(input, lambda, { evaluation }, engine)).expectedDiscount;
}

for (const flavor of ['release', 'debug'] as const) {
  test(`${flavor}: exact allocation matches the plain-TypeScript reference`, async () => {
    await withEngine({ flavor, threads: 1 }, async (engine) => {
      for (const [seed, n, share] of [[1, 3001, 0.7], [2, 1200, 0.35], [3, 517, 0.9]] as const) {
        const input = randomCustomers(n, seed, { negativeShare: 0.05 });
        const atOne = expectedDiscountReference(input, 1);
        const budget = share * atOne;
        const expected = allocateReference(input, { budget });
        const actual = await allocate(input, { budget }, engine);
        assertSameAllocation(actual, expected, `seed ${seed}`);
        assert.ok(actual.budgetBinds);
        assert.ok(actual.expectedDiscount <= budget);
        assert.equal(Object.keys(actual.distribution), DEFAULT_DISCOUNTS.map(String));
        assert.is(Object.values(actual.distribution).reduce((a, b) => a + b, 0), n);
      }
    });
  });
}

for (const flavor of ['release', 'debug'] as const) {
  test(`${flavor}: the envelope kernel's breakpoints, drops and totals match the plain-TypeScript walk`, async () => {
    const input = randomCustomers(3000, 14, { negativeShare: 0.2 });
    const spend = input.spend!;
    await withEngine({ flavor, threads: 1 }, (engine) => engine.exclusive(async (arena) => {
      const passes = new AllocationPasses(engine, arena, input, DEFAULT_DISCOUNTS, 0.1, 1024, 64);
      const { totals, records } = await passes.collect({ lo: 0n, hi: KEY_INFINITY }, passes.shards.map((s) => (s.end - s.start) * 4), true);
      const atOne = passes.assignment();
      const byCustomer = new Map<number, number[]>();
      for (let r = 0; r < records.length; r += RECORD_FIELDS) {
        const i = records[r + 3];
        if (!byCustomer.has(i)) byCustomer.set(i, []);
        byCustomer.get(i)!.push(r);
      }
      let atOneSum = 0, limitSum = 0;
      for (let i = 0; i < input.f.length; i++) {
        const { q, c } = couponResponseReference(input.f[i], input.g[i], DEFAULT_DISCOUNTS, 0.1);
        const envelope = envelopeReference(q, c, DEFAULT_DISCOUNTS);
        const mine = byCustomer.get(i) ?? [];
        assert.is(mine.length, envelope.vertices.length, `customer ${i}: vertex count`);
        envelope.vertices.forEach((v, t) => {
          const r = mine[t];
          // a crossing is as well conditioned as the differences it divides
          const condition = (c[v.left] + c[v.right]) / Math.abs(c[v.left] - c[v.right]) + (q[v.left] + q[v.right]) / Math.abs(q[v.left] - q[v.right]);
          assert.ok(relClose(records[r], v.lambda, 1e-14 * condition), `customer ${i}: λ ${records[r]} vs ${v.lambda}`);
          const at = v.lambda === 1 ? 0 : spend[i] * (c[v.left] - c[v.tie]);
          assert.ok(Math.abs(records[r + 1] - at) <= 1e-13 * spend[i], `customer ${i}: drop at λ`);
          assert.ok(Math.abs(records[r + 2] - spend[i] * (c[v.tie] - c[v.right])) <= 1e-13 * spend[i], `customer ${i}: drop above λ`);
        });
        const one = envelope.vertices[0]?.lambda === 1 ? envelope.vertices[0].tie : envelope.start;
        assert.is(atOne[i], one, `customer ${i}: option at λ = 1`);
        atOneSum += spend[i] * c[one];
        limitSum += spend[i] * c[envelope.limit];
      }
      assert.ok(relClose(sumField(totals, T_DISCOUNT, passes.totalsStride), atOneSum, 1e-13));
      assert.ok(relClose(sumField(totals, T_LIMIT, passes.totalsStride), limitSum, 1e-13));
    }));
  });
}

test('the histogram path (tiny bins, small collections) finds the same λ as collecting everything, bit for bit', async () => {
  const input = randomCustomers(20_000, 4);
  await withEngine({ threads: 1 }, async (engine) => {
    const budget = 0.55 * (await kernelDiscountAt(input, 1, engine));
    const all = await allocate(input, { budget }, engine);
    const tuning = { histogramBins: 16, collectCapacity: 300, shardSize: 4096, blockSize: 512 };
    const narrowed = await allocate(input, { budget, tuning: { ...tuning } }, engine);
    assert.is(narrowed.lambda, all.lambda);
    assert.ok(narrowed.passes > 3, `the narrowing took ${narrowed.passes} passes`);
    // block size 512 sums in a different order: equal to rounding
    assert.ok(relClose(narrowed.expectedDiscount, all.expectedDiscount, 1e-13));
    assert.equal(narrowed.discountIndex, all.discountIndex);
    const sameBlocks = await allocate(input, { budget, tuning: { blockSize: 512, shardSize: 1 << 16 } }, engine);
    assert.is(sameBlocks.expectedDiscount, narrowed.expectedDiscount);
  });
});

test('collect passes reading the slots give the walk\'s records, block totals and options bit for bit', async () => {
  // 20% negative g (non-monotone envelopes), g = 0 (all lines parallel) and duplicated customers (equal crossings)
  const input = randomCustomers(24_000, 12, { negativeShare: 0.2 });
  const f = input.f as Float64Array, g = input.g as Float64Array;
  for (let i = 0; i < 2000; i++) { g[i * 12] = 0; f[i * 12 + 1] = f[i * 12 + 2]; g[i * 12 + 1] = g[i * 12 + 2]; }
  const k = DEFAULT_DISCOUNTS.length;
  await withEngine({ threads: 2, inlineBelow: 0 }, (engine) => engine.exclusive(async (arena) => {
    const plain = new AllocationPasses(engine, arena, input, DEFAULT_DISCOUNTS, 0.1, 4096, 256);
    const slotted = new AllocationPasses(engine, arena, input, DEFAULT_DISCOUNTS, 0.1, 4096, 256);
    assert.ok(slotted.enableSlots());
    const full = { lo: 0n, hi: KEY_INFINITY, shift: coveringShift(0n, 4n << 52n, 64) };
    await plain.histogram(full, 64, true);
    await slotted.histogram(full, 64, true);
    const capacities = plain.shards.map((s) => (s.end - s.start) * (k - 1));
    const every = (await plain.collect({ lo: 0n, hi: KEY_INFINITY }, capacities, false)).records;
    const vertex = (r: number) => every[r * RECORD_FIELDS];
    // ranges starting and ending exactly at breakpoints, a double away from them, wide and narrow
    const m = every.length / RECORD_FIELDS;
    const ranges: Array<[number, number]> = [[1.5, 1.6], [3, 8], [1, 1.25], [2, 1e6]];
    for (const r of [7, 1001, 5003, m - 3]) {
      const l = vertex(r);
      ranges.push([l, nextLambda(nextLambda(l))], [nextLambda(l), l * 1.001], [previousLambda(l), l], [l, vertex(r + 1) > l ? vertex(r + 1) : l * 2]);
    }
    let blocksFromSlots = 0;
    for (const [from, to] of ranges) {
      const range = { lo: lambdaKey(from), hi: lambdaKey(to) };
      const a = await plain.collect(range, capacities, true, from);
      const indexA = plain.assignment();
      const b = await slotted.collect(range, capacities, true, from);
      const indexB = slotted.assignment();
      const label = `range [${from}, ${to})`;
      assert.equal(b.records, a.records, `${label}: records`);
      assert.equal(indexB, indexA, `${label}: options`);
      const stride = TOTALS_HEAD + k;
      for (let at = 0; at < a.totals.length; at += stride) {
        for (let field = 0; field < stride; field++) {
          // kept only when the range reaches ∞: customers taken from the slots do not add to it
          if (field === T_LIMIT) { blocksFromSlots += b.totals[at + field] !== a.totals[at + field] ? 1 : 0; continue; }
          if (b.totals[at + field] !== a.totals[at + field]) assert.unreachable(`${label}: block ${at / stride} field ${field}: ${b.totals[at + field]} vs ${a.totals[at + field]}`);
        }
      }
    }
    assert.ok(blocksFromSlots > 100, `only ${blocksFromSlots} blocks took options from the slots`);
  }));
});

test('results are identical for 1 and 2 threads', async () => {
  const input = randomCustomers(60_000, 5);
  const run = (threads: number) => withEngine({ threads }, async (engine) => {
    const budget = 0.6 * (await kernelDiscountAt(input, 1, engine));
    const tuning = { shardSize: 4096, blockSize: 1024, histogramBins: 256, collectCapacity: 2000 };
    return Promise.all([allocate(input, { budget, tuning }, engine), allocate(input, { budget, tuning, method: 'bisection' }, engine)]);
  });
  const [one, two] = [await run(1), await run(2)];
  for (let m = 0; m < 2; m++) {
    assert.is(two[m].lambda, one[m].lambda);
    assert.is(two[m].expectedDiscount, one[m].expectedDiscount);
    assert.is(two[m].expectedRevenue, one[m].expectedRevenue);
    assert.equal(two[m].discountIndex, one[m].discountIndex);
  }
});

test('exact λ: B(λ) ≤ budget while B at the double just below λ (and at the previous breakpoint) exceeds it', async () => {
  await withEngine({ threads: 1 }, async (engine) => {
    for (const seed of [6, 7, 8]) {
      const input = randomCustomers(4000, seed, { negativeShare: 0.02 });
      const budget = (0.65 + 0.12 * (seed - 6)) * (await kernelDiscountAt(input, 1, engine));
      const result = await allocate(input, { budget }, engine);
      assert.ok(result.expectedDiscount <= budget);
      assert.is(await kernelDiscountAt(input, result.lambda, engine), result.expectedDiscount);
      assert.ok((await kernelDiscountAt(input, previousLambda(result.lambda), engine)) > budget, `seed ${seed}: the double below λ meets the budget too`);
      // the previous breakpoint of any customer is a smaller λ with a larger B
      let previous = 1;
      for (let i = 0; i < input.f.length; i++) {
        const { q, c } = couponResponseReference(input.f[i], input.g[i], DEFAULT_DISCOUNTS, 0.1);
        for (const v of envelopeReference(q, c, DEFAULT_DISCOUNTS).vertices) if (v.lambda < result.lambda * (1 - 1e-12) && v.lambda > previous) previous = v.lambda;
      }
      assert.ok((await kernelDiscountAt(input, previous, engine)) > budget);
      // the reference's own λ passes the same test with its own sums
      const reference = allocateReference(input, { budget });
      assert.ok(expectedDiscountReference(input, reference.lambda) <= budget);
      assert.ok(expectedDiscountReference(input, previousLambda(reference.lambda)) > budget);
    }
  });
});

test('a budget equal to B at a breakpoint gives that breakpoint (B is right-continuous there); a hair less gives a larger λ', async () => {
  const input = randomCustomers(2500, 9);
  await withEngine({ threads: 1 }, async (engine) => {
    const first = await allocate(input, { budget: 0.5 * (await kernelDiscountAt(input, 1, engine)) }, engine);
    const exactly = await allocate(input, { budget: first.expectedDiscount }, engine);
    assert.is(exactly.lambda, first.lambda);
    assert.is(exactly.expectedDiscount, first.expectedDiscount);
    const less = await allocate(input, { budget: first.expectedDiscount * (1 - 1e-15) }, engine);
    assert.ok(less.lambda > first.lambda);
    assert.ok(less.expectedDiscount < first.expectedDiscount);
  });
});

test('one customer, two discounts: the tie at the breakpoint goes to the smaller discount', async () => {
  // q = (Λ(0), Λ(1)); lines 0.5 − 0.05λ and Λ(1)(1 − 0.2λ) cross at λx = (Λ(1) − 0.5) / (0.2 Λ(1) − 0.05).
  const q1 = logistic(1);
  const crossing = (q1 - 0.5) / (0.2 * q1 - 0.05);
  await withEngine({ threads: 1 }, async (engine) => {
    const options = { discounts: [0.1, 0.2], nominal: 0.1 };
    const input = { f: [0], g: [10] };
    const result = await allocate(input, { ...options, budget: 0.06 }, engine);
    assert.ok(relClose(result.lambda, crossing, 1e-14), `${result.lambda} vs ${crossing}`);
    assert.equal(result.distribution, { '0.1': 1, '0.2': 0 });
    assert.ok(relClose(result.expectedDiscount, 0.05, 1e-15));
    // just below the breakpoint the larger discount is still chosen
    const below = await policyAt(input, previousLambda(result.lambda), options, engine);
    assert.equal(below.distribution, { '0.1': 0, '0.2': 1 });
    const reference = allocateReference(input, { ...options, budget: 0.06 });
    assert.ok(relClose(reference.lambda, crossing, 1e-14));
  });
});

test('g < 0: past λ = 1/d_min the larger discount (smaller expected discount) wins, and the tie rule makes B left-continuous there', async () => {
  // q = (0.5, Λ(−2)); c = (0.05, 0.2 Λ(−2)) with c1 < c0: the lines cross at λx ≈ 14.6 > 1/0.1.
  const q1 = logistic(-2);
  const crossing = (0.5 - q1) / (0.05 - 0.2 * q1);
  const options = { discounts: [0.1, 0.2], nominal: 0.1 };
  const input = { f: [0], g: [-20] };
  await withEngine({ threads: 1 }, async (engine) => {
    const result = await allocate(input, { ...options, budget: 0.04 }, engine);
    // at λx itself the tie picks 0.10 (B = 0.05 > budget): the answer is the next double
    assert.ok(relClose(result.lambda, crossing, 1e-14) && result.lambda > crossing * (1 - 1e-14));
    const at = await policyAt(input, previousLambda(result.lambda), options, engine);
    assert.equal(at.distribution, { '0.1': 1, '0.2': 0 });
    assert.equal(result.distribution, { '0.1': 0, '0.2': 1 });
    assert.is(result.lambda, nextLambda(previousLambda(result.lambda)));
    const reference = allocateReference(input, { ...options, budget: 0.04 });
    assert.ok(relClose(reference.lambda, result.lambda, 1e-14));
    assert.equal(reference.distribution, result.distribution);
  });
});

test('edge inputs match the reference: g = 0, |f| up to 700, spend 0, g < 0', async () => {
  const n = 2000;
  const base = randomCustomers(n, 10, { negativeShare: 0.1 });
  const f = Float64Array.from(base.f), g = Float64Array.from(base.g), spend = Float64Array.from(base.spend!);
  for (let i = 0; i < n; i += 7) g[i] = 0;
  for (let i = 3; i < n; i += 11) f[i] = i % 2 ? 700 : -700;
  for (let i = 5; i < n; i += 13) f[i] = i % 2 ? 35 : -35;
  for (let i = 1; i < n; i += 17) spend[i] = 0;
  const input = { f, g, spend };
  await withEngine({ threads: 1 }, async (engine) => {
    for (const share of [0.9, 0.75, 0.62]) {
      const budget = share * expectedDiscountReference(input, 1);
      const expected = allocateReference(input, { budget });
      const actual = await allocate(input, { budget }, engine);
      assertSameAllocation(actual, expected, `share ${share}`);
      for (let i = 0; i < n; i += 7) {
        // g = 0: every discount has the same q, so the smallest always wins for λ ≥ 1
        assert.is(actual.discountIndex[i], 0, `customer ${i} with g = 0`);
      }
    }
  });
});

test('bisection agrees with the exact method within its tolerance, and matches its reference', async () => {
  const input = randomCustomers(5000, 12);
  await withEngine({ threads: 1 }, async (engine) => {
    for (const tolerance of [1e-6, 1e-10]) {
      const budget = 0.45 * (await kernelDiscountAt(input, 1, engine));
      const exact = await allocate(input, { budget }, engine);
      const bisection = await allocate(input, { budget, method: 'bisection', tolerance }, engine);
      assert.ok(bisection.expectedDiscount <= budget);
      assert.ok(Math.abs(bisection.lambda - exact.lambda) <= 2 * tolerance * exact.lambda, `${bisection.lambda} vs ${exact.lambda}`);
      assert.ok(bisection.lambda >= exact.lambda * (1 - 1e-12));
      assert.ok(bisection.passes > 10);
      const reference = allocateReference(input, { budget, method: 'bisection', tolerance });
      assertSameAllocation(bisection, reference, `bisection ${tolerance}`, 1e-15);
    }
  });
});

test('Proposition 2.1: with g ≥ 0 the expected discount B(λ) and every coupon are weakly decreasing in λ', async () => {
  await withEngine({ threads: 1 }, async (engine) => {
    for (let seed = 20; seed < 25; seed++) {
      const input = randomCustomers(1500, seed, { negativeShare: 0 });
      const lambdas = Array.from({ length: 60 }, (_, i) => 1 + 0.25 * i ** 1.2);
      let previous: AllocationResult | undefined;
      for (const lambda of lambdas) {
        const direct = await policyAt(input, lambda, { evaluation: 'direct' }, engine);
        const envelope = await policyAt(input, lambda, {}, engine);
        assert.ok(relClose(direct.expectedDiscount, envelope.expectedDiscount, 1e-12));
        if (previous) {
          assert.ok(direct.expectedDiscount <= previous.expectedDiscount, `seed ${seed}: B rises from λ ${previous.lambda} to ${lambda}`);
          for (let i = 0; i < input.f.length; i++) assert.ok(direct.discountIndex[i] <= previous.discountIndex[i], `customer ${i}'s coupon rises`);
        }
        previous = direct;
      }
    }
  });
});

test('beyond Proposition 2.1: the envelope makes B(λ) weakly decreasing for any sign of g', () => {
  for (let seed = 30; seed < 34; seed++) {
    const input = randomCustomers(300, seed, { negativeShare: 0.5 });
    let previous = Infinity;
    for (let lambda = 1; lambda < 40; lambda *= 1.07) {
      const b = expectedDiscountReference(input, lambda);
      assert.ok(b <= previous, `seed ${seed}: B rises at λ ${lambda}`);
      previous = b;
    }
  }
});

test('a budget that does not bind gives λ = 1; an unmeetable one is refused naming the smallest expected discount', async () => {
  const input = randomCustomers(800, 13);
  await withEngine({ threads: 1 }, async (engine) => {
    const atOne = await kernelDiscountAt(input, 1, engine);
    for (const method of ['exact', 'bisection'] as const) {
      const loose = await allocate(input, { budget: atOne, method }, engine);
      assert.is(loose.lambda, 1);
      assert.is(loose.budgetBinds, false);
      assert.is(loose.expectedDiscount, atOne);
      const minimum = (await policyAt(input, Infinity, {}, engine)).expectedDiscount;
      try {
        await allocate(input, { budget: minimum * 0.99, method }, engine);
        assert.unreachable('an unmeetable budget was accepted');
      } catch (error) {
        const message = (error as Error).message;
        assert.match(message, /^budget [\d.e+-]+ cannot be met: the smallest possible expected discount is [\d.]+$/);
        assert.ok(relClose(Number(message.split(' is ')[1]), minimum, 1e-12));
      }
      const tight = await allocate(input, { budget: minimum, method }, engine);
      assert.ok(tight.expectedDiscount <= minimum);
    }
  });
});

test('bad input is refused with one line naming the field', async () => {
  const good = { f: [0, -1, -2], g: [3, 4, 5], spend: [10, 20, 30] };
  const cases: Array<[string, () => Promise<unknown>, RegExp]> = [
    ['NaN f', () => allocate({ ...good, f: [0, NaN, 1] }, { budget: 1 }), /^f\[1\] is NaN, not a finite number$/],
    ['infinite g', () => allocate({ ...good, g: [0, 1, Infinity] }, { budget: 1 }), /^g\[2\] is Infinity/],
    ['infinite spend', () => allocate({ ...good, spend: [-Infinity, 1, 1] }, { budget: 1 }), /^spend\[0\] is -Infinity/],
    ['negative spend', () => allocate({ ...good, spend: [1, -2, 1] }, { budget: 1 }), /^spend\[1\] is -2: spend must be non-negative$/],
    ['lengths', () => allocate({ ...good, g: [1, 2] }, { budget: 1 }), /g has 2 entries but f has 3/],
    ['negative budget', () => allocate(good, { budget: -1 }), /budget must be a finite non-negative number/],
    ['NaN budget', () => allocate(good, { budget: NaN }), /budget must be a finite non-negative number/],
    ['percent discounts', () => allocate(good, { budget: 1, discounts: [10, 20] }), /discounts\[0\] is 10: discounts are fractions in \(0, 1\) \(write 0\.1 for 10%\)/],
    ['zero discount', () => allocate(good, { budget: 1, discounts: [0, 0.2] }), /discounts\[0\] is 0/],
    ['unsorted discounts', () => allocate(good, { budget: 1, discounts: [0.2, 0.1] }), /strictly ascending: 0\.1 follows 0\.2/],
    ['no discounts', () => allocate(good, { budget: 1, discounts: [] }), /at least one discount/],
    ['nominal', () => allocate(good, { budget: 1, nominal: 10 }), /nominal discount must be a fraction in \[0, 1\), got 10/],
    ['method', () => allocate(good, { budget: 1, method: 'greedy' as 'exact' }), /method must be "exact" or "bisection"/],
  ];
  for (const [label, run, pattern] of cases) {
    try {
      await run();
      assert.unreachable(`${label}: accepted`);
    } catch (error) {
      assert.is((error as { code?: string }).code, 'BAD_INPUT', label);
      assert.match((error as Error).message, pattern, label);
      assert.not.match((error as Error).message, /\n/, label);
    }
  }
  const { closeDefaultEngine } = await import('../../src/parallel/engine.js');
  await closeDefaultEngine();
});

test.run();
