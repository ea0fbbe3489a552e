// Single-precision (f32x4) exp and log1p for screening passes whose results are re-checked in
// double precision. Accuracy (test/kernels/math.test.ts): exp32 relative error <= 4e-7 on
// [-87, 88] (degree-6 Taylor on |r| <= ln2/2, truncation 1.2e-7), flush to 0 below -87;
// log1p32 on [0, 1] relative error <= 4e-7 (fdlibm logf core, 4 coefficients).

// @ts-ignore: decorator
@inline
export function exp32(x: v128): v128 {
  const tooSmall = f32x4.lt(x, f32x4.splat(-87.0));
  const xc = f32x4.pmin(f32x4.pmax(x, f32x4.splat(-87.0)), f32x4.splat(88.0));
  // 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits.
  const kShifted = f32x4.add(f32x4.mul(xc, f32x4.splat(1.4426950408889634)), f32x4.splat(12582912.0));
  const k = f32x4.sub(kShifted, f32x4.splat(12582912.0));
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(k, f32x4.splat(0.693359375))), f32x4.mul(k, f32x4.splat(-2.12194440e-4)));
  const r2 = f32x4.mul(r, r);
  const p01 = f32x4.add(f32x4.splat(1.0), r);
  const p23 = f32x4.add(f32x4.splat(0.5), f32x4.mul(r, f32x4.splat(<f32>(1.0 / 6.0))));
  const p45 = f32x4.add(f32x4.splat(<f32>(1.0 / 24.0)), f32x4.mul(r, f32x4.splat(<f32>(1.0 / 120.0))));
  const p6 = f32x4.splat(<f32>(1.0 / 720.0));
  const poly = f32x4.add(p01, f32x4.mul(r2, f32x4.add(p23, f32x4.mul(r2, f32x4.add(p45, f32x4.mul(r2, p6))))));
  const scaled = i32x4.add(poly, i32x4.shl(kShifted, 23));
  return v128.andnot(scaled, tooSmall);
}

/** log(1 + t) for t in [0, 1]. */
// @ts-ignore: decorator
@inline
export function log1pUnit32(t: v128): v128 {
  const big = f32x4.gt(t, f32x4.splat(0.41421356));
  const f = v128.bitselect(f32x4.mul(f32x4.sub(t, f32x4.splat(1.0)), f32x4.splat(0.5)), t, big);
  const offset = v128.and(f32x4.splat(0.6931471805599453), big);
  const s = f32x4.div(f, f32x4.add(f32x4.splat(2.0), f));
  return f32x4.add(offset, log1pCore32(f, s));
}

/** log1p(f) for f in [sqrt(2)/2 − 1, sqrt(2) − 1] given s = f / (2 + f) (fdlibm logf). */
// @ts-ignore: decorator
@inline
export function log1pCore32(f: v128, s: v128): v128 {
  const z = f32x4.mul(s, s);
  const w = f32x4.mul(z, z);
  // fdlibm logf: Lg1..Lg4.
  const t1 = f32x4.mul(w, f32x4.add(f32x4.splat(0.40000972152), f32x4.mul(w, f32x4.splat(0.24279078841))));
  const t2 = f32x4.mul(z, f32x4.add(f32x4.splat(0.66666662693), f32x4.mul(w, f32x4.splat(0.28498786688))));
  const R = f32x4.add(t1, t2);
  const hfsq = f32x4.mul(f32x4.splat(0.5), f32x4.mul(f, f));
  return f32x4.sub(f, f32x4.sub(hfsq, f32x4.mul(s, f32x4.add(hfsq, R))));
}

/** Element-wise exp32 / log1p32 over f32 arrays whose length is a multiple of 4 (for tests). */
export function exp32Array(xPtr: usize, n: i32, outPtr: usize): void {
  for (let i = 0; i < n; i += 4) v128.store(outPtr + (<usize>i << 2), exp32(v128.load(xPtr + (<usize>i << 2))));
}

export function log1pUnit32Array(tPtr: usize, n: i32, outPtr: usize): void {
  for (let i = 0; i < n; i += 4) v128.store(outPtr + (<usize>i << 2), log1pUnit32(v128.load(tPtr + (<usize>i << 2))));
}
