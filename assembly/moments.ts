// GMM moment contributions, per-customer weights and their weighted cross products for the
// sequential estimator of SPEC §1.2. Every kernel works on one shard of one market and writes
// (never accumulates into) its own output slot, so the TypeScript side can sum slots in shard
// order and get the same bits for any thread count.
import { expVec, log1pUnitVec, vc, C_ONE } from "./math";

/** Rows per cache block of the cross-product kernel: 15 covariate columns × 256 rows ≈ 30 KB. */
// @ts-ignore: decorator
@inline const BLOCK: i32 = 256;

// @ts-ignore: decorator
@inline
function laneSum(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/**
 * Inversion sums for one market shard: out[0] = Σ ω_i (Λ(δ + o_i) − y_i), out[1] = Σ ω_i Λ'(δ + o_i),
 * the value and slope in δ of the market-share equation. weightPtr = 0 means ω = 1.
 */
export function inversionSums(offsetPtr: usize, weightPtr: usize, outcomePtr: usize, n: i32, delta: f64, outPtr: usize): void {
  const d = f64x2.splat(delta);
  const zero = f64x2.splat(0.0);
  let accValue = zero;
  let accSlope = zero;
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const off = <usize>i << 3;
    const z = f64x2.add(d, v128.load(offsetPtr + off));
    const e = expVec(f64x2.neg(f64x2.abs(z)));
    const inv = f64x2.div(vc(C_ONE), f64x2.add(vc(C_ONE), e));
    const p = v128.bitselect(inv, f64x2.mul(e, inv), f64x2.ge(z, zero));
    let r = f64x2.sub(p, v128.load(outcomePtr + off));
    let slope = f64x2.mul(f64x2.mul(e, inv), inv);
    if (weightPtr != 0) {
      const w = v128.load(weightPtr + off);
      r = f64x2.mul(r, w);
      slope = f64x2.mul(slope, w);
    }
    accValue = f64x2.add(accValue, r);
    accSlope = f64x2.add(accSlope, slope);
  }
  let value = laneSum(accValue);
  let slopeSum = laneSum(accSlope);
  if (i < n) {
    const off = <usize>i << 3;
    const z = f64x2.splat(delta + load<f64>(offsetPtr + off));
    const e = expVec(f64x2.neg(f64x2.abs(z)));
    const inv = f64x2.div(vc(C_ONE), f64x2.add(vc(C_ONE), e));
    const p = f64x2.extract_lane(v128.bitselect(inv, f64x2.mul(e, inv), f64x2.ge(z, zero)), 0);
    const w = weightPtr != 0 ? load<f64>(weightPtr + off) : 1.0;
    value += w * (p - load<f64>(outcomePtr + off));
    slopeSum += w * f64x2.extract_lane(f64x2.mul(f64x2.mul(e, inv), inv), 0);
  }
  store<f64>(outPtr, value);
  store<f64>(outPtr, slopeSum, 8);
}

/**
 * Purchase-stage weights for one market shard at δy: with D = Λ(δ + a_i), q = exp(xa_i),
 * r = e(D − y) and w = e D(1 − D), writes the columns (stride colStride)
 * 0: w, 1: w q, 2: r q, 3: r, 4: D, 5: EU = softplus(δ + a_i).
 */
export function purchaseWeights(aPtr: usize, xaPtr: usize, ePtr: usize, yPtr: usize, n: i32, delta: f64, outPtr: usize, colStride: i32): void {
  const col = <usize>colStride << 3;
  const d = f64x2.splat(delta);
  const zero = f64x2.splat(0.0);
  for (let i = 0; i < n; i += 2) {
    const full = i + 2 <= n;
    const off = <usize>i << 3;
    let aV: v128, xaV: v128, eV: v128, yV: v128;
    if (full) {
      aV = v128.load(aPtr + off); xaV = v128.load(xaPtr + off); eV = v128.load(ePtr + off); yV = v128.load(yPtr + off);
    } else {
      aV = f64x2.splat(load<f64>(aPtr + off)); xaV = f64x2.splat(load<f64>(xaPtr + off));
      eV = f64x2.splat(load<f64>(ePtr + off)); yV = f64x2.splat(load<f64>(yPtr + off));
    }
    const z = f64x2.add(d, aV);
    const ez = expVec(f64x2.neg(f64x2.abs(z)));
    const inv = f64x2.div(vc(C_ONE), f64x2.add(vc(C_ONE), ez));
    const demand = v128.bitselect(inv, f64x2.mul(ez, inv), f64x2.ge(z, zero));
    const w = f64x2.mul(eV, f64x2.mul(f64x2.mul(ez, inv), inv));
    const q = expVec(xaV);
    const r = f64x2.mul(eV, f64x2.sub(demand, yV));
    const continuation = f64x2.add(f64x2.pmax(z, zero), log1pUnitVec(ez));
    const o = outPtr + off;
    storeLanes(o, w, full);
    storeLanes(o + col, f64x2.mul(w, q), full);
    storeLanes(o + 2 * col, f64x2.mul(r, q), full);
    storeLanes(o + 3 * col, r, full);
    storeLanes(o + 4 * col, demand, full);
    storeLanes(o + 5 * col, continuation, full);
  }
}

/**
 * Sharing-stage weights for one market shard at κ = σ δw: with z = κ + o_i, S = Λ(z),
 * v = S(1 − S), t = z / σ, writes the columns (stride colStride)
 * 0: v s D, 1: v, 2: v s, 3: v t, 4: v t s, 5: S − w, 6: (S − w) s.
 */
export function sharingWeights(oPtr: usize, sPtr: usize, wPtr: usize, dPtr: usize, n: i32, kappa: f64, sigma: f64, outPtr: usize, colStride: i32): void {
  const col = <usize>colStride << 3;
  const k = f64x2.splat(kappa);
  const invSigma = f64x2.splat(1.0 / sigma);
  const zero = f64x2.splat(0.0);
  for (let i = 0; i < n; i += 2) {
    const full = i + 2 <= n;
    const off = <usize>i << 3;
    let oV: v128, sV: v128, wV: v128, dV: v128;
    if (full) {
      oV = v128.load(oPtr + off); sV = v128.load(sPtr + off); wV = v128.load(wPtr + off); dV = v128.load(dPtr + off);
    } else {
      oV = f64x2.splat(load<f64>(oPtr + off)); sV = f64x2.splat(load<f64>(sPtr + off));
      wV = f64x2.splat(load<f64>(wPtr + off)); dV = f64x2.splat(load<f64>(dPtr + off));
    }
    const z = f64x2.add(k, oV);
    const ez = expVec(f64x2.neg(f64x2.abs(z)));
    const inv = f64x2.div(vc(C_ONE), f64x2.add(vc(C_ONE), ez));
    const share = v128.bitselect(inv, f64x2.mul(ez, inv), f64x2.ge(z, zero));
    const v = f64x2.mul(f64x2.mul(ez, inv), inv);
    const vs = f64x2.mul(v, sV);
    const vt = f64x2.mul(v, f64x2.mul(z, invSigma));
    const resid = f64x2.sub(share, wV);
    const o = outPtr + off;
    storeLanes(o, f64x2.mul(vs, dV), full);
    storeLanes(o + col, v, full);
    storeLanes(o + 2 * col, vs, full);
    storeLanes(o + 3 * col, vt, full);
    storeLanes(o + 4 * col, f64x2.mul(vt, sV), full);
    storeLanes(o + 5 * col, resid, full);
    storeLanes(o + 6 * col, f64x2.mul(resid, sV), full);
  }
}

// @ts-ignore: decorator
@inline
function storeLanes(ptr: usize, value: v128, full: bool): void {
  if (full) v128.store(ptr, value);
  else v128.store64_lane(ptr, value, 0);
}

// Σ_{i in [from, to)} a_i (pairs from `from` to `even`, then one scalar at `even` if odd).
// @ts-ignore: decorator
@inline
function sum1(a: usize, from: i32, even: i32, to: i32): f64 {
  let acc0 = f64x2.splat(0.0);
  let acc1 = f64x2.splat(0.0);
  let i = from;
  for (; i + 4 <= even; i += 4) {
    const off = <usize>i << 3;
    acc0 = f64x2.add(acc0, v128.load(a + off));
    acc1 = f64x2.add(acc1, v128.load(a + off + 16));
  }
  if (i < even) acc0 = f64x2.add(acc0, v128.load(a + (<usize>i << 3)));
  let s = laneSum(f64x2.add(acc0, acc1));
  if (even < to) s += load<f64>(a + (<usize>even << 3));
  return s;
}

// @ts-ignore: decorator
@inline
function sum2(a: usize, b: usize, from: i32, even: i32, to: i32): f64 {
  let acc0 = f64x2.splat(0.0);
  let acc1 = f64x2.splat(0.0);
  let i = from;
  for (; i + 4 <= even; i += 4) {
    const off = <usize>i << 3;
    acc0 = f64x2.add(acc0, f64x2.mul(v128.load(a + off), v128.load(b + off)));
    acc1 = f64x2.add(acc1, f64x2.mul(v128.load(a + off + 16), v128.load(b + off + 16)));
  }
  if (i < even) {
    const off = <usize>i << 3;
    acc0 = f64x2.add(acc0, f64x2.mul(v128.load(a + off), v128.load(b + off)));
  }
  let s = laneSum(f64x2.add(acc0, acc1));
  if (even < to) {
    const off = <usize>even << 3;
    s += load<f64>(a + off) * load<f64>(b + off);
  }
  return s;
}

// @ts-ignore: decorator
@inline
function sum3(a: usize, b: usize, c: usize, from: i32, even: i32, to: i32): f64 {
  let acc0 = f64x2.splat(0.0);
  let acc1 = f64x2.splat(0.0);
  let i = from;
  for (; i + 4 <= even; i += 4) {
    const off = <usize>i << 3;
    acc0 = f64x2.add(acc0, f64x2.mul(f64x2.mul(v128.load(a + off), v128.load(b + off)), v128.load(c + off)));
    acc1 = f64x2.add(acc1, f64x2.mul(f64x2.mul(v128.load(a + off + 16), v128.load(b + off + 16)), v128.load(c + off + 16)));
  }
  if (i < even) {
    const off = <usize>i << 3;
    acc0 = f64x2.add(acc0, f64x2.mul(f64x2.mul(v128.load(a + off), v128.load(b + off)), v128.load(c + off)));
  }
  let s = laneSum(f64x2.add(acc0, acc1));
  if (even < to) {
    const off = <usize>even << 3;
    s += load<f64>(a + off) * load<f64>(b + off) * load<f64>(c + off);
  }
  return s;
}

/**
 * Weighted cross products of x̄ = (1, x) over one shard. Covariates are stored column by column
 * (k columns, stride `stride`); weights too (stride `wStride`). For each of the nFull weight
 * columns at fullPtr it writes Σ_i w_i x̄_i x̄_i' as a packed upper triangle
 * ((k+1)(k+2)/2 entries, row-major: (0,0), (0,1), …, (0,k), (1,1), …); then for each of the nVec
 * weight columns at vecPtr only the first row Σ_i w_i x̄_i (k+1 entries).
 */
export function gramSums(xPtr: usize, stride: i32, n: i32, k: i32, fullPtr: usize, nFull: i32, vecPtr: usize, nVec: i32, wStride: i32, outPtr: usize): void {
  const k1 = k + 1;
  const packed = (k1 * (k1 + 1)) >> 1;
  const total = nFull * packed + nVec * k1;
  for (let t = 0; t < total; t++) store<f64>(outPtr + (<usize>t << 3), 0.0);
  const colBytes = <usize>stride << 3;
  const wBytes = <usize>wStride << 3;
  for (let b0 = 0; b0 < n; b0 += BLOCK) {
    const b1 = min<i32>(n, b0 + BLOCK);
    const even = b0 + ((b1 - b0) & ~1);
    for (let t = 0; t < nFull + nVec; t++) {
      const isFull = t < nFull;
      const w = isFull ? fullPtr + <usize>t * wBytes : vecPtr + <usize>(t - nFull) * wBytes;
      let o = isFull ? outPtr + (<usize>(t * packed) << 3) : outPtr + (<usize>(nFull * packed + (t - nFull) * k1) << 3);
      store<f64>(o, load<f64>(o) + sum1(w, b0, even, b1));
      o += 8;
      for (let l = 0; l < k; l++) {
        store<f64>(o, load<f64>(o) + sum2(w, xPtr + <usize>l * colBytes, b0, even, b1));
        o += 8;
      }
      if (!isFull) continue;
      for (let j = 0; j < k; j++) {
        const xj = xPtr + <usize>j * colBytes;
        for (let l = j; l < k; l++) {
          store<f64>(o, load<f64>(o) + sum3(w, xj, xPtr + <usize>l * colBytes, b0, even, b1));
          o += 8;
        }
      }
    }
  }
}
