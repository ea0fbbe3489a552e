import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Engine } from '../../src/parallel/engine.js';
import { KernelRuntime, Arena } from '../../src/kernels/runtime.js';
import {
  MomentWorkspace, gramSumsReference, inversionSumsReference, packedIndex, packedSize, purchaseWeightsReference, sharingWeightsReference,
} from '../../src/kernels/moments.js';
import { assertClose, uniformArray } from '../helpers.js';

// Kernels of assembly/moments.ts against their plain-TypeScript references, on both builds, with
// an odd length so the scalar tails run.
const n = 1001, k = 3;
const x = Array.from({ length: k }, (_, j) => uniformArray(n, -2, 2, 21, j + 1));
const offset = uniformArray(n, -30, 30, 22);
const xa = uniformArray(n, -0.5, 0.5, 23);
const e = Float64Array.from(uniformArray(n, 0, 1, 24), (u) => (u < 0.7 ? 1 : 0));
const y = Float64Array.from(uniformArray(n, 0, 1, 25), (u, i) => (u < 0.4 ? e[i] : 0));
const s = Float64Array.from(uniformArray(n, 0, 1, 26), (u) => (u < 0.5 ? 1 : 0));
const demand = uniformArray(n, 0, 1, 27);
const weights = Array.from({ length: 4 }, (_, t) => uniformArray(n, -1, 1, 28, t + 1));

for (const flavor of ['release', 'debug'] as const) {
  const runtime = KernelRuntime.create(flavor);
  const arena = new Arena(runtime);
  const copy = (v: ArrayLike<number>) => arena.copyF64(v);
  const exports = runtime.exports;

  test(`${flavor}: inversionSums matches the reference (weighted and unweighted)`, () => {
    const mark = arena.mark();
    const o = copy(offset), w = copy(e), out = copy(y), res = arena.f64(2);
    for (const weighted of [true, false]) {
      exports.inversionSums(o.ptr, weighted ? w.ptr : 0, out.ptr, n, 0.37, res.ptr);
      const got = arena.viewF64(res);
      const ref = inversionSumsReference(offset, weighted ? e : null, y, 0.37);
      assertClose([got[0], got[1]], [ref.value, ref.slope], 1e-12, 1e-12, `inversion (weighted ${weighted})`);
    }
    arena.release(mark);
  });

  test(`${flavor}: purchaseWeights matches the reference`, () => {
    const mark = arena.mark();
    const out = arena.f64(6 * n);
    exports.purchaseWeights(copy(offset).ptr, copy(xa).ptr, copy(e).ptr, copy(y).ptr, n, -0.4, out.ptr, n);
    const got = arena.viewF64(out);
    purchaseWeightsReference(offset, xa, e, y, -0.4).forEach((col, c) => assertClose(got.subarray(c * n, (c + 1) * n), col, 1e-13, 1e-300, `purchase column ${c}`));
    arena.release(mark);
  });

  test(`${flavor}: sharingWeights matches the reference`, () => {
    const mark = arena.mark();
    const out = arena.f64(7 * n);
    exports.sharingWeights(copy(offset).ptr, copy(s).ptr, copy(y).ptr, copy(demand).ptr, n, 1.3, 7.5, out.ptr, n);
    const got = arena.viewF64(out);
    sharingWeightsReference(offset, s, y, demand, 1.3, 7.5).forEach((col, c) => assertClose(got.subarray(c * n, (c + 1) * n), col, 1e-13, 1e-300, `sharing column ${c}`));
    arena.release(mark);
  });

  test(`${flavor}: gramSums matches the reference (full and vector weights, odd length)`, () => {
    const mark = arena.mark();
    const xb = arena.f64(k * n);
    x.forEach((col, j) => arena.viewF64(xb).set(col, j * n));
    const wb = arena.f64(4 * n);
    weights.forEach((col, t) => arena.viewF64(wb).set(col, t * n));
    const width = 2 * packedSize(k) + 2 * (k + 1);
    const out = arena.f64(width);
    exports.gramSums(xb.ptr, n, n, k, wb.ptr, 2, wb.ptr + 2 * n * 8, 2, n, out.ptr);
    const ref = gramSumsReference(x, weights.slice(0, 2), weights.slice(2));
    assertClose(arena.viewF64(out), ref, 1e-12, 1e-12, 'gram');
    arena.release(mark);
  });
}

test('packedIndex enumerates the upper triangle row by row', () => {
  const seen: number[] = [];
  for (let j = 0; j <= 4; j++) for (let l = j; l <= 4; l++) seen.push(packedIndex(j, l, 4));
  assert.equal(seen, Array.from({ length: packedSize(4) }, (_, i) => i));
  assert.is(packedIndex(3, 1, 4), packedIndex(1, 3, 4));
});

test('workspace sums per market are the references and bit-identical on 1 and 2 threads', async () => {
  const N = 20_011, K = 4;
  const cols = Array.from({ length: K }, (_, j) => uniformArray(N, -2, 2, 31, j + 1));
  const starts = [0, 5_000, 5_001, 12_345];
  const o = uniformArray(N, -3, 3, 32), w = Float64Array.from(uniformArray(N, 0, 1, 33), (u) => (u < 0.3 ? 1 : 0));
  const wt = uniformArray(N, 0, 1, 34);
  const delta = [0.1, -0.2, 0.3, -0.4];
  const run = async (threads: number) => {
    const engine = new Engine({ threads, inlineBelow: 0 });
    try {
      return await engine.exclusive(async (arena) => {
        const ws = new MomentWorkspace(engine, arena, N, K, starts, cols, packedSize(K) + K + 1, 977);
        const ob = ws.columns(1), wb = ws.columns(1), weight = ws.columns(2);
        ws.view(ob).set(o); ws.view(wb).set(w); ws.view(weight).set(wt); ws.view(weight).set(o, N);
        const inv = await ws.inversionSums(ob, null, wb, delta);
        const gram = await ws.gram({ block: weight, first: 0, count: 1 }, { block: weight, first: 1, count: 1 });
        return { inv, gram };
      });
    } finally {
      await engine.close();
    }
  };
  const one = await run(1), two = await run(2);
  assert.equal(Array.from(two.inv.value), Array.from(one.inv.value));
  assert.equal(Array.from(two.inv.slope), Array.from(one.inv.slope));
  two.gram.forEach((g, m) => assert.equal(Array.from(g), Array.from(one.gram[m])));
  starts.forEach((start, m) => {
    const end = m + 1 < starts.length ? starts[m + 1] : N;
    const ref = inversionSumsReference(o.subarray(start, end), null, w.subarray(start, end), delta[m]);
    assertClose([one.inv.value[m], one.inv.slope[m]], [ref.value, ref.slope], 1e-11, 1e-11, `market ${m} inversion`);
    const gref = gramSumsReference(cols.map((c) => c.subarray(start, end)), [wt.subarray(start, end)], [o.subarray(start, end)]);
    assertClose(one.gram[m], gref, 1e-11, 1e-9, `market ${m} gram`);
  });
});

test.run();
