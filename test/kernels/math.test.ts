import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KernelRuntime, Arena } from '../../src/kernels/runtime.js';
import { logistic, softplus } from '../../src/kernels/math.js';
import { uniformArray } from '../helpers.js';
import { Engine, planShards } from '../../src/parallel/engine.js';

// Documented accuracy of the vectorized exp / log1p in assembly/math.ts, checked on both builds.
for (const flavor of ['release', 'debug'] as const) {
  const runtime = KernelRuntime.create(flavor);
  const arena = new Arena(runtime);

  const run = (kernel: 'expArray' | 'log1pUnitArray', xs: Float64Array) => {
    const mark = arena.mark();
    const x = arena.copyF64(xs);
    const out = arena.f64(xs.length);
    runtime.exports[kernel](x.ptr, xs.length, out.ptr);
    const result = arena.viewF64(out).slice();
    arena.release(mark);
    return result;
  };

  test(`${flavor}: exp relative error ≤ 1e-15 on [-708, 709] (odd length, tail included)`, () => {
    const xs = uniformArray(200_001, -708, 709, 11);
    xs[0] = 0; xs[1] = -708; xs[2] = 709; xs[3] = 1e-300; xs[4] = -1e-17;
    const ys = run('expArray', xs);
    let worst = 0;
    for (let i = 0; i < xs.length; i++) worst = Math.max(worst, Math.abs(ys[i] - Math.exp(xs[i])) / Math.exp(xs[i]));
    assert.ok(worst <= 1e-15, `worst relative error ${worst}`);
  });

  test(`${flavor}: exp flushes below -708 to zero and never returns NaN`, () => {
    const xs = Float64Array.from([-708.5, -745, -1e6, -Infinity, 710, 1e6]);
    const ys = run('expArray', xs);
    assert.equal(Array.from(ys.subarray(0, 4)), [0, 0, 0, 0]);
    assert.ok(ys[4] > 1e307 && Number.isFinite(ys[4]));
    assert.ok(Number.isFinite(ys[5]));
  });

  test(`${flavor}: log1p relative error ≤ 4e-16 on [0, 1]`, () => {
    const ts = uniformArray(200_001, 0, 1, 12);
    ts[0] = 0; ts[1] = 1; ts[2] = 1e-300; ts[3] = Math.SQRT2 - 1; ts[4] = 5e-324;
    const ys = run('log1pUnitArray', ts);
    let worst = 0;
    for (let i = 0; i < ts.length; i++) {
      const ref = Math.log1p(ts[i]);
      worst = Math.max(worst, ref === 0 ? Math.abs(ys[i]) : Math.abs(ys[i] - ref) / ref);
    }
    assert.ok(worst <= 4e-16, `worst relative error ${worst}`);
  });
}

test('single-precision exp and log1p (screening) within 4e-7 relative', () => {
  const runtime = KernelRuntime.create('release');
  const arena = new Arena(runtime);
  const n = 100_000;
  const run = (kernel: 'exp32Array' | 'expNegAbs32Array' | 'log1pUnit32Array', xs: Float32Array) => {
    const x = arena.i32(n), out = arena.i32(n);
    new Float32Array(runtime.memory.buffer, x.ptr, n).set(xs);
    runtime.exports[kernel](x.ptr, n, out.ptr);
    return new Float32Array(runtime.memory.buffer, out.ptr, n).slice();
  };
  const xs = Float32Array.from(uniformArray(n, -87, 88, 21));
  const ys = run('exp32Array', xs);
  let worst = 0;
  for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(ys[i] - Math.exp(xs[i])) / Math.exp(xs[i]));
  assert.ok(worst <= 4e-7, `exp32 worst relative error ${worst}`);
  // e^−|x| as the screen uses it: the same accuracy down to e^−87, floored there (never 0, never NaN)
  const wide = Float32Array.from(uniformArray(n, -120, 120, 23));
  const negAbs = run('expNegAbs32Array', wide);
  worst = 0;
  for (let i = 0; i < n; i++) {
    const x = -Math.abs(wide[i]);
    if (x >= -87) worst = Math.max(worst, Math.abs(negAbs[i] - Math.exp(x)) / Math.exp(x));
    else assert.ok(negAbs[i] > 0 && Math.abs(negAbs[i] / Math.exp(-87) - 1) < 1e-6, `e^${x} floored at e^-87, got ${negAbs[i]}`);
  }
  assert.ok(worst <= 4e-7, `expNegAbs32 worst relative error ${worst}`);
  const ts = Float32Array.from(uniformArray(n, 0, 1, 22));
  const ls = run('log1pUnit32Array', ts);
  worst = 0;
  for (let i = 0; i < n; i++) if (ts[i] > 0) worst = Math.max(worst, Math.abs(ls[i] - Math.log1p(ts[i])) / Math.log1p(ts[i]));
  assert.ok(worst <= 4e-7, `log1p32 worst relative error ${worst}`);
});

test('the screen\'s f32 exp and log1p error constants hold for every f32 input of their domains (exhaustive)', async () => {
  // The grid screen's error bounds (assembly/grid.ts, screenErrors) rest on these two constants;
  // every f32 input is checked, on two threads (≈ 2 × 10^9 values).
  const engine = new Engine({ threads: 2, inlineBelow: 0 });
  const bits = (x: number) => new Uint32Array(Float32Array.of(x).buffer)[0];
  const worstOver = async (kernel: string, from: number, to: number) => {
    const shards = planShards(to - from, 1 << 25);
    const results = await engine.forShards(kernel, shards, ({ start, end }) => [from + start, from + end], to - from);
    return Math.max(...results);
  };
  try {
    const exports = engine.runtime.exports as unknown as Record<string, () => number>;
    // e^x for every f32 x in [−87, 0] (magnitudes' bits 0 .. bits(87))
    const expWorst = await worstOver('expNegAbs32MaxError', 0, bits(87) + 1);
    assert.ok(expWorst > 0 && expWorst <= exports.exp32RelativeError(), `expNegAbs32 worst relative error ${expWorst} > ${exports.exp32RelativeError()}`);
    // log1p(t) for every f32 t in [e^−87, 1] (the values e^−|x| takes, floored at e^−87; a few ulps' room below)
    const logWorst = await worstOver('log1pUnit32MaxError', bits(Math.fround(Math.exp(-87))) - 16, bits(1) + 1);
    assert.ok(logWorst > 0 && logWorst <= exports.log1p32RelativeError(), `log1pUnit32 worst relative error ${logWorst} > ${exports.log1p32RelativeError()}`);
  } finally {
    await engine.close();
  }
});

test('reference logistic and softplus are stable at |z| = 700 and beyond', () => {
  assert.is(logistic(800), 1);
  assert.ok(logistic(-700) > 0 && Math.abs(logistic(-700) / Math.exp(-700) - 1) < 1e-15);
  assert.is(softplus(-800), 0);
  assert.is(softplus(800), 800);
  assert.ok(Math.abs(softplus(0) - Math.LN2) < 1e-16);
});

test.run();
