// Share-then-purchase logit primitives for a batch of customers (SPEC §1.1).
// One exp(-|u|) per customer serves the demand, the continuation value and their slopes.
import { expVec, log1pUnitVec, vc, C_ONE } from "./math";

/**
 * out[i] = intercept + sum_j x[j * stride + i] * beta[j]  (covariates stored column by column).
 * Sharding passes xPtr + 8 * start with the same stride.
 */
export function linearPredictor(xPtr: usize, stride: i32, n: i32, k: i32, betaPtr: usize, intercept: f64, outPtr: usize): void {
  const colBytes = <usize>stride << 3;
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const off = <usize>i << 3;
    let acc = f64x2.splat(intercept);
    for (let j = 0; j < k; j++) {
      const b = f64x2.splat(load<f64>(betaPtr + (<usize>j << 3)));
      acc = f64x2.add(acc, f64x2.mul(v128.load(xPtr + <usize>j * colBytes + off), b));
    }
    v128.store(outPtr + off, acc);
  }
  for (; i < n; i++) {
    const off = <usize>i << 3;
    let acc = intercept;
    for (let j = 0; j < k; j++) acc += load<f64>(xPtr + <usize>j * colBytes + off) * load<f64>(betaPtr + (<usize>j << 3));
    store<f64>(outPtr + off, acc);
  }
}

/** Stores both lanes, or lane 0 only for an odd tail (never writes past the array). */
// @ts-ignore: decorator
@inline
export function storePair(ptr: usize, value: v128, full: bool): void {
  if (full) v128.store(ptr, value);
  else v128.store64_lane(ptr, value, 0);
}

// @ts-ignore: decorator
@inline
function logitPair(
  v: v128, alpha: v128, shareCost: v128, price: v128, sigma: v128, broadcast: v128,
  off: usize, full: bool, demandPtr: usize, continuationPtr: usize, sharePtr: usize, demandSlopePtr: usize, shareSlopePtr: usize,
): void {
  const zero = f64x2.splat(0.0);
  const u = f64x2.sub(v, f64x2.mul(alpha, price));
  const e = expVec(f64x2.neg(f64x2.abs(u)));
  const inv = f64x2.div(vc(C_ONE), f64x2.add(vc(C_ONE), e));
  const demand = v128.bitselect(inv, f64x2.mul(e, inv), f64x2.ge(u, zero));
  const continuation = f64x2.add(f64x2.pmax(u, zero), log1pUnitVec(e));
  const z = f64x2.mul(sigma, f64x2.sub(f64x2.mul(broadcast, continuation), shareCost));
  const e2 = expVec(f64x2.neg(f64x2.abs(z)));
  const inv2 = f64x2.div(vc(C_ONE), f64x2.add(vc(C_ONE), e2));
  const share = v128.bitselect(inv2, f64x2.mul(e2, inv2), f64x2.ge(z, zero));
  // dD/dp = -alpha D (1 - D); dEU/dp = -alpha D; dS/dp = sigma S (1 - S) s dEU/dp.
  const oneMinusD = v128.bitselect(f64x2.mul(e, inv), inv, f64x2.ge(u, zero));
  const oneMinusS = v128.bitselect(f64x2.mul(e2, inv2), inv2, f64x2.ge(z, zero));
  const continuationSlope = f64x2.neg(f64x2.mul(alpha, demand));
  storePair(demandPtr + off, demand, full);
  storePair(continuationPtr + off, continuation, full);
  storePair(sharePtr + off, share, full);
  storePair(demandSlopePtr + off, f64x2.mul(continuationSlope, oneMinusD), full);
  storePair(shareSlopePtr + off, f64x2.mul(f64x2.mul(f64x2.mul(sigma, share), oneMinusS), f64x2.mul(broadcast, continuationSlope)), full);
}

/**
 * Demand D, continuation value EU = softplus(u), share propensity S(p, s) and the price slopes
 * dD/dp and dS/dp for customer i at price[i]; `broadcast` is the condition s (0 or 1).
 */
export function logitDemand(
  vPtr: usize, alphaPtr: usize, shareCostPtr: usize, pricePtr: usize, n: i32, sigma: f64, broadcast: f64,
  demandPtr: usize, continuationPtr: usize, sharePtr: usize, demandSlopePtr: usize, shareSlopePtr: usize,
): void {
  const sigmaV = f64x2.splat(sigma);
  const sV = f64x2.splat(broadcast);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const off = <usize>i << 3;
    logitPair(v128.load(vPtr + off), v128.load(alphaPtr + off), v128.load(shareCostPtr + off), v128.load(pricePtr + off),
      sigmaV, sV, off, true, demandPtr, continuationPtr, sharePtr, demandSlopePtr, shareSlopePtr);
  }
  if (i < n) {
    // Odd tail: the same vector code on splatted lanes, storing lane 0 only.
    const off = <usize>i << 3;
    logitPair(f64x2.splat(load<f64>(vPtr + off)), f64x2.splat(load<f64>(alphaPtr + off)), f64x2.splat(load<f64>(shareCostPtr + off)),
      f64x2.splat(load<f64>(pricePtr + off)), sigmaV, sV, off, false, demandPtr, continuationPtr, sharePtr, demandSlopePtr, shareSlopePtr);
  }
}
