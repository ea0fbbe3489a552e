// Single-precision (f32x4) exp and log1p for screening passes whose results are re-checked in
// double precision. Accuracy, over every f32 input of the domains the screen uses (exhaustive
// scans below, rerun by test/kernels/math.test.ts): expNegAbs32 relative error <= 4.43 u
// (u = 2^-24, 2.64e-7) on [-87, 0] (degree-6 Taylor on |r| <= ln2/2, truncation 1.2e-7), floored
// at e^-87 below; log1pUnit32 <= 2.07 u (1.24e-7) on [e^-87, 1] (fdlibm logf core, 4 coefficients).
// exp32 flushes to 0 below -87.

import { expVec, log1pUnitVec } from "./math";

const VEC32: usize = memory.data<f32>([
  -87.0, -87.0, -87.0, -87.0,
  88.0, 88.0, 88.0, 88.0,
  1.4426950408889634, 1.4426950408889634, 1.4426950408889634, 1.4426950408889634,
  12582912.0, 12582912.0, 12582912.0, 12582912.0,
  0.693359375, 0.693359375, 0.693359375, 0.693359375,
  -0.00021219444, -0.00021219444, -0.00021219444, -0.00021219444,
  1.0, 1.0, 1.0, 1.0,
  0.5, 0.5, 0.5, 0.5,
  0.16666666666666666, 0.16666666666666666, 0.16666666666666666, 0.16666666666666666,
  0.041666666666666664, 0.041666666666666664, 0.041666666666666664, 0.041666666666666664,
  0.008333333333333333, 0.008333333333333333, 0.008333333333333333, 0.008333333333333333,
  0.001388888888888889, 0.001388888888888889, 0.001388888888888889, 0.001388888888888889,
  0.41421356, 0.41421356, 0.41421356, 0.41421356,
  0.6931471805599453, 0.6931471805599453, 0.6931471805599453, 0.6931471805599453,
  2.0, 2.0, 2.0, 2.0,
  0.66666662693, 0.66666662693, 0.66666662693, 0.66666662693,
  0.40000972152, 0.40000972152, 0.40000972152, 0.40000972152,
  0.28498786688, 0.28498786688, 0.28498786688, 0.28498786688,
  0.24279078841, 0.24279078841, 0.24279078841, 0.24279078841,
  -0.0, -0.0, -0.0, -0.0,
], 16);
// @ts-ignore: decorator
@inline const K_M87: usize = 0;
// @ts-ignore: decorator
@inline const K_P88: usize = 16;
// @ts-ignore: decorator
@inline const K_LOG2E: usize = 32;
// @ts-ignore: decorator
@inline const K_SHIFT: usize = 48;
// @ts-ignore: decorator
@inline const K_LN2HI: usize = 64;
// @ts-ignore: decorator
@inline const K_LN2LO: usize = 80;
// @ts-ignore: decorator
@inline const K_ONE: usize = 96;
// @ts-ignore: decorator
@inline const K_HALF: usize = 112;
// @ts-ignore: decorator
@inline const K_INV6: usize = 128;
// @ts-ignore: decorator
@inline const K_INV24: usize = 144;
// @ts-ignore: decorator
@inline const K_INV120: usize = 160;
// @ts-ignore: decorator
@inline const K_INV720: usize = 176;
// @ts-ignore: decorator
@inline const K_SQRT2M1: usize = 192;
// @ts-ignore: decorator
@inline const K_LN2: usize = 208;
// @ts-ignore: decorator
@inline const K_TWO: usize = 224;
// @ts-ignore: decorator
@inline const K_LG1: usize = 240;
// @ts-ignore: decorator
@inline const K_LG2: usize = 256;
// @ts-ignore: decorator
@inline const K_LG3: usize = 272;
// @ts-ignore: decorator
@inline const K_LG4: usize = 288;
// @ts-ignore: decorator
@inline const K_SIGN: usize = 304;
// @ts-ignore: decorator
@inline function k32(c: usize): v128 { return v128.load(VEC32 + c); }

// @ts-ignore: decorator
@inline
export function exp32(x: v128): v128 {
  const tooSmall = f32x4.lt(x, k32(K_M87));
  return v128.andnot(expCore32(f32x4.pmin(f32x4.pmax(x, k32(K_M87)), k32(K_P88))), tooSmall);
}

/**
 * e^(−|x|), floored at e^−87 ≈ 1.6e-38 instead of flushing to 0 (an absolute error far below
 * any bound the screen uses): three operations fewer than exp32(−|x|).
 */
// @ts-ignore: decorator
@inline
export function expNegAbs32(x: v128): v128 {
  return expCore32(f32x4.pmax(v128.or(x, k32(K_SIGN)), k32(K_M87)));
}

/** e^x for x in [−87, 88]. */
// @ts-ignore: decorator
@inline
function expCore32(xc: v128): v128 {
  // 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits.
  const kShifted = f32x4.add(f32x4.mul(xc, k32(K_LOG2E)), k32(K_SHIFT));
  const k = f32x4.sub(kShifted, k32(K_SHIFT));
  const r = f32x4.sub(f32x4.sub(xc, f32x4.mul(k, k32(K_LN2HI))), f32x4.mul(k, k32(K_LN2LO)));
  const r2 = f32x4.mul(r, r);
  const p01 = f32x4.add(k32(K_ONE), r);
  const p23 = f32x4.add(k32(K_HALF), f32x4.mul(r, k32(K_INV6)));
  const p45 = f32x4.add(k32(K_INV24), f32x4.mul(r, k32(K_INV120)));
  const p6 = k32(K_INV720);
  const poly = f32x4.add(p01, f32x4.mul(r2, f32x4.add(p23, f32x4.mul(r2, f32x4.add(p45, f32x4.mul(r2, p6))))));
  return i32x4.add(poly, i32x4.shl(kShifted, 23));
}

/** log(1 + t) for t in [0, 1]. */
// @ts-ignore: decorator
@inline
export function log1pUnit32(t: v128): v128 {
  const big = f32x4.gt(t, k32(K_SQRT2M1));
  const f = v128.bitselect(f32x4.mul(f32x4.sub(t, k32(K_ONE)), k32(K_HALF)), t, big);
  const offset = v128.and(k32(K_LN2), big);
  const s = f32x4.div(f, f32x4.add(k32(K_TWO), f));
  return f32x4.add(offset, log1pCore32(f, s));
}

/** log1p(f) for f in [sqrt(2)/2 − 1, sqrt(2) − 1] given s = f / (2 + f) (fdlibm logf). */
// @ts-ignore: decorator
@inline
export function log1pCore32(f: v128, s: v128): v128 {
  const z = f32x4.mul(s, s);
  const w = f32x4.mul(z, z);
  // fdlibm logf: Lg1..Lg4.
  const t1 = f32x4.mul(w, f32x4.add(k32(K_LG2), f32x4.mul(w, k32(K_LG4))));
  const t2 = f32x4.mul(z, f32x4.add(k32(K_LG1), f32x4.mul(w, k32(K_LG3))));
  const R = f32x4.add(t1, t2);
  const hfsq = f32x4.mul(k32(K_HALF), f32x4.mul(f, f));
  return f32x4.sub(f, f32x4.sub(hfsq, f32x4.mul(s, f32x4.add(hfsq, R))));
}

/** Λ(x) given e = e^−|x| (four lanes), as logisticVec. */
// @ts-ignore: decorator
@inline
export function logistic32(x: v128, e: v128): v128 {
  const one = f32x4.splat(1);
  const inv = f32x4.div(one, f32x4.add(one, e));
  return v128.bitselect(inv, f32x4.mul(e, inv), f32x4.ge(x, f32x4.splat(0)));
}

/** softplus(x) given e = e^−|x| (e in [0, 1]), as softplusVec. */
// @ts-ignore: decorator
@inline
export function softplus32(x: v128, e: v128): v128 {
  return f32x4.add(f32x4.pmax(x, f32x4.splat(0)), log1pUnit32(e));
}

/** Element-wise exp32 / log1p32 over f32 arrays whose length is a multiple of 4 (for tests). */
export function exp32Array(xPtr: usize, n: i32, outPtr: usize): void {
  for (let i = 0; i < n; i += 4) v128.store(outPtr + (<usize>i << 2), exp32(v128.load(xPtr + (<usize>i << 2))));
}

export function expNegAbs32Array(xPtr: usize, n: i32, outPtr: usize): void {
  for (let i = 0; i < n; i += 4) v128.store(outPtr + (<usize>i << 2), expNegAbs32(v128.load(xPtr + (<usize>i << 2))));
}

export function log1pUnit32Array(tPtr: usize, n: i32, outPtr: usize): void {
  for (let i = 0; i < n; i += 4) v128.store(outPtr + (<usize>i << 2), log1pUnit32(v128.load(tPtr + (<usize>i << 2))));
}

/**
 * Largest relative error of expNegAbs32(x) against the f64 exp (itself within 2.3e-16) over every
 * f32 x = −m whose magnitude's bits m lie in [fromBits, toBits) — all of [−87, 0], the domain
 * left after the clamp, is bits [0, 0x42AE0001). Sharded by the host; the screen's error bounds
 * use the maximum over the whole domain (test/kernels/math.test.ts).
 */
export function expNegAbs32MaxError(fromBits: u32, toBits: u32): f64 {
  let worst = f64x2.splat(0);
  const step = i32x4(0, 1, 2, 3);
  const sign = i32x4.splat(0x80000000);
  for (let m = fromBits; m < toBits; m += 4) {
    const bits = i32x4.add(i32x4.splat(m), step);
    // lanes past toBits repeat the first lane
    const x = v128.or(v128.bitselect(bits, i32x4.splat(m), i32x4.lt_u(bits, i32x4.splat(toBits))), sign);
    const y = expNegAbs32(x);
    worst = f64x2.pmax(worst, relativeErrorPair(f64x2.promote_low_f32x4(y), expVec(f64x2.promote_low_f32x4(x))));
    const hiX = v128.shuffle<f32>(x, x, 2, 3, 2, 3), hiY = v128.shuffle<f32>(y, y, 2, 3, 2, 3);
    worst = f64x2.pmax(worst, relativeErrorPair(f64x2.promote_low_f32x4(hiY), expVec(f64x2.promote_low_f32x4(hiX))));
  }
  return max(f64x2.extract_lane(worst, 0), f64x2.extract_lane(worst, 1));
}

/**
 * Largest relative error of log1pUnit32(t) against the f64 log1p (itself within 4e-16) over every
 * f32 t > 0 whose bits lie in [fromBits, toBits): the screen applies it to e^−|x| ∈ [e^−87, 1].
 */
export function log1pUnit32MaxError(fromBits: u32, toBits: u32): f64 {
  let worst = f64x2.splat(0);
  const step = i32x4(0, 1, 2, 3);
  for (let m = fromBits; m < toBits; m += 4) {
    const bits = i32x4.add(i32x4.splat(m), step);
    const t = v128.bitselect(bits, i32x4.splat(m), i32x4.lt_u(bits, i32x4.splat(toBits)));
    const y = log1pUnit32(t);
    worst = f64x2.pmax(worst, relativeErrorPair(f64x2.promote_low_f32x4(y), log1pUnitVec(f64x2.promote_low_f32x4(t))));
    const hiT = v128.shuffle<f32>(t, t, 2, 3, 2, 3), hiY = v128.shuffle<f32>(y, y, 2, 3, 2, 3);
    worst = f64x2.pmax(worst, relativeErrorPair(f64x2.promote_low_f32x4(hiY), log1pUnitVec(f64x2.promote_low_f32x4(hiT))));
  }
  return max(f64x2.extract_lane(worst, 0), f64x2.extract_lane(worst, 1));
}

// @ts-ignore: decorator
@inline
function relativeErrorPair(approx: v128, exact: v128): v128 {
  // NaN (e.g. 0/0) compares false in pmax, so mark it as +∞ instead of losing it
  const err = f64x2.div(f64x2.abs(f64x2.sub(approx, exact)), f64x2.abs(exact));
  return v128.bitselect(err, f64x2.splat(Infinity), f64x2.eq(err, err));
}
