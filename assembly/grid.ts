// Per-customer price-grid search (SPEC §1.3): for every customer the best feasible price and
// profit without (s = 0) and with (s = 1) the broadcasting requirement, and optionally the
// per-price profit totals that the uniform-price schemes maximize.
//
// Vectorized over prices: a customer's parameters are splatted and two grid prices are
// evaluated per step. One exp(-|u|) gives D and EU; one exp(-|z|) gives S.
import { expVec, log1pUnitVec, vc, C_ONE, C_TWO } from "./math";

/**
 * prices: nPrices (even; the host pads an odd grid by repeating its last price, which can never
 * win a strict comparison). Outputs per customer: index of the best price and its profit under
 * s = 0 and s = 1; ties go to the lowest price index. If totalsPtr != 0, adds
 * sum_i Pi(p, 0), sum_i Pi(p, 1) and sum_i max_s Pi(p, s) into totals[0..3*nPrices).
 */
export function priceGridSearch(
  vPtr: usize, alphaPtr: usize, shareCostPtr: usize, referralsPtr: usize, marginalCostPtr: usize, n: i32,
  pricesPtr: usize, nPrices: i32, sigma: f64, leadValue: f64,
  bestIndexNSPtr: usize, bestProfitNSPtr: usize, bestIndexSPtr: usize, bestProfitSPtr: usize, totalsPtr: usize,
): void {
  assert(nPrices > 0 && (nPrices & 1) == 0);
  const zero = f64x2.splat(0.0);
  const sigmaV = f64x2.splat(sigma);
  const minusInf = f64x2.splat(-Infinity);
  const withTotals = totalsPtr != 0;
  const totalsS = totalsPtr + (<usize>nPrices << 3);
  const totalsP = totalsS + (<usize>nPrices << 3);
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 3;
    const v = f64x2.splat(load<f64>(vPtr + off));
    const alpha = f64x2.splat(load<f64>(alphaPtr + off));
    const shareCost = f64x2.splat(load<f64>(shareCostPtr + off));
    const leadProfit = f64x2.splat(load<f64>(referralsPtr + off) * leadValue);
    const mc = f64x2.splat(load<f64>(marginalCostPtr + off));
    let bestNS = minusInf, bestS = minusInf;
    let bestNSIdx = f64x2(0, 1), bestSIdx = f64x2(0, 1);
    let idx = f64x2(0, 1);
    for (let j = 0; j < nPrices; j += 2) {
      const pOff = <usize>j << 3;
      const price = v128.load(pricesPtr + pOff);
      const u = f64x2.sub(v, f64x2.mul(alpha, price));
      const e = expVec(f64x2.neg(f64x2.abs(u)));
      const inv = f64x2.div(vc(C_ONE), f64x2.add(vc(C_ONE), e));
      const demand = v128.bitselect(inv, f64x2.mul(e, inv), f64x2.ge(u, zero));
      const continuation = f64x2.add(f64x2.pmax(u, zero), log1pUnitVec(e));
      const z = f64x2.mul(sigmaV, f64x2.sub(continuation, shareCost));
      const e2 = expVec(f64x2.neg(f64x2.abs(z)));
      const inv2 = f64x2.div(vc(C_ONE), f64x2.add(vc(C_ONE), e2));
      const share = v128.bitselect(inv2, f64x2.mul(e2, inv2), f64x2.ge(z, zero));
      const profitNS = f64x2.mul(demand, f64x2.sub(price, mc));
      const profitS = f64x2.mul(share, f64x2.add(profitNS, leadProfit));
      const betterNS = f64x2.gt(profitNS, bestNS);
      bestNS = v128.bitselect(profitNS, bestNS, betterNS);
      bestNSIdx = v128.bitselect(idx, bestNSIdx, betterNS);
      const betterS = f64x2.gt(profitS, bestS);
      bestS = v128.bitselect(profitS, bestS, betterS);
      bestSIdx = v128.bitselect(idx, bestSIdx, betterS);
      idx = f64x2.add(idx, vc(C_TWO));
      if (withTotals) {
        v128.store(totalsPtr + pOff, f64x2.add(v128.load(totalsPtr + pOff), profitNS));
        v128.store(totalsS + pOff, f64x2.add(v128.load(totalsS + pOff), profitS));
        v128.store(totalsP + pOff, f64x2.add(v128.load(totalsP + pOff), f64x2.pmax(profitNS, profitS)));
      }
    }
    storeBest(bestNS, bestNSIdx, bestIndexNSPtr + (<usize>i << 2), bestProfitNSPtr + off);
    storeBest(bestS, bestSIdx, bestIndexSPtr + (<usize>i << 2), bestProfitSPtr + off);
  }
}

/** Combine the two lanes' running maxima: larger profit wins, ties go to the lower index. */
// @ts-ignore: decorator
@inline
function storeBest(best: v128, bestIdx: v128, indexPtr: usize, profitPtr: usize): void {
  const p0 = f64x2.extract_lane(best, 0), p1 = f64x2.extract_lane(best, 1);
  const i0 = f64x2.extract_lane(bestIdx, 0), i1 = f64x2.extract_lane(bestIdx, 1);
  const takeLane1 = p1 > p0 || (p1 == p0 && i1 < i0);
  store<i32>(indexPtr, <i32>(takeLane1 ? i1 : i0));
  store<f64>(profitPtr, takeLane1 ? p1 : p0);
}
