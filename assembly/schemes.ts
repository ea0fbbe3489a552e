// Per-block statistics of the personalized schemes (PNS, PS, PP) and of the acquisition costs
// AC_i (SPEC §1.3), from a grid search's per-customer results. They run in the worker right after
// the search on the same shard, instead of customer by customer on the host's main thread.
import { expVec, loadPair, logisticVec, softplusVec } from "./math";
import { evaluatePair, pairProfitNS, pairProfitS } from "./grid";

// Layout of a block's stats row (f64): the sums and counts below, then per price the counts of
// best prices under PNS, PS, PP with s = 0 and PP with s = 1, then the AC histogram (AC_BINS bins
// of width L/4 and one for AC ≥ 4L).
// @ts-ignore: decorator
@inline const SUM_NS: i32 = 0; // Σ max_p Π(p, 0)
// @ts-ignore: decorator
@inline const SUM_S: i32 = 1; // Σ max_p Π(p, 1)
// @ts-ignore: decorator
@inline const SUM_PP: i32 = 2; // Σ max(max_p Π(p, 0), max_p Π(p, 1))
// @ts-ignore: decorator
@inline const ASSIGNED: i32 = 3; // customers given the broadcasting requirement under PP
// @ts-ignore: decorator
@inline const AT_MOST_LEAD: i32 = 4; // AC ≤ L
// @ts-ignore: decorator
@inline const VIOLATIONS: i32 = 5; // (AC ≤ L) ≠ (s* = 1), profits not within the tie tolerance
// @ts-ignore: decorator
@inline const TIES: i32 = 6; // (AC ≤ L) ≠ (s* = 1) at a near tie of the two profits
// @ts-ignore: decorator
@inline const NON_POSITIVE: i32 = 7; // AC ≤ 0
// @ts-ignore: decorator
@inline const INFINITE: i32 = 8; // no expected leads under s = 1 (AC = ∞ or 0/0)
// @ts-ignore: decorator
@inline const HEADER: i32 = 9;
// @ts-ignore: decorator
@inline const AC_BINS: i32 = 16;
// Relative tolerance of a near tie (as nearTie in src/sharing/propositions.ts).
// @ts-ignore: decorator
@inline const TIE_TOLERANCE: f64 = 1e-9;

/** Width of a stats row in f64 values. */
export function schemeStatsWidth(nPrices: i32): i32 {
  return HEADER + 4 * nPrices + AC_BINS + 1;
}

// @ts-ignore: decorator
@inline
function bump(statsPtr: usize, slot: i32): void {
  const at = statsPtr + (<usize>slot << 3);
  store<f64>(at, load<f64>(at) + 1.0);
}

/**
 * One customer's contribution. acquisitionCost = (Π(p*NS, 0) − S Π(p*S, 0)) / (S r) at p*S:
 * own profit given up per expected lead; the broadcasting requirement is optimal exactly when it
 * is ≤ L (ties go to broadcasting). log10 AC goes to acLog10 (NaN when AC is not finite and > 0).
 */
// @ts-ignore: decorator
@inline
function addCustomer(
  statsPtr: usize, nPrices: i32, indexNS: i32, indexS: i32, profitNS: f64, profitS: f64,
  acquisitionCost: f64, expectedLeads: f64, leadValue: f64, acInverseWidth: f64, acLog10At: usize,
): void {
  const sums = statsPtr;
  store<f64>(sums + (<usize>SUM_NS << 3), load<f64>(sums + (<usize>SUM_NS << 3)) + profitNS);
  store<f64>(sums + (<usize>SUM_S << 3), load<f64>(sums + (<usize>SUM_S << 3)) + profitS);
  bump(statsPtr, HEADER + indexNS);
  bump(statsPtr, HEADER + nPrices + indexS);
  const broadcast = profitS >= profitNS;
  if (broadcast) {
    store<f64>(sums + (<usize>SUM_PP << 3), load<f64>(sums + (<usize>SUM_PP << 3)) + profitS);
    bump(statsPtr, ASSIGNED);
    bump(statsPtr, HEADER + 3 * nPrices + indexS);
  } else {
    store<f64>(sums + (<usize>SUM_PP << 3), load<f64>(sums + (<usize>SUM_PP << 3)) + profitNS);
    bump(statsPtr, HEADER + 2 * nPrices + indexNS);
  }
  const cheap = acquisitionCost <= leadValue;
  if (cheap) bump(statsPtr, AT_MOST_LEAD);
  if (cheap != broadcast) {
    const nearTie = abs(profitS - profitNS) <= TIE_TOLERANCE * max(abs(profitS), abs(profitNS)) + 1e-300;
    bump(statsPtr, nearTie ? TIES : VIOLATIONS);
  }
  let log10: f64 = NaN;
  if (!(expectedLeads > 0) || acquisitionCost == Infinity) bump(statsPtr, INFINITE);
  else if (!(acquisitionCost > 0)) bump(statsPtr, NON_POSITIVE);
  else {
    log10 = Math.log(acquisitionCost) * Math.LOG10E;
    const bin = Math.floor(acquisitionCost * acInverseWidth);
    bump(statsPtr, HEADER + 4 * nPrices + (bin < <f64>AC_BINS ? <i32>bin : AC_BINS));
  }
  store<f64>(acLog10At, log10);
}

/** An index from the host (a price from the search, a market), kept inside [0, count) whatever it holds. */
// @ts-ignore: decorator
@inline
function indexIn(index: i32, count: i32): i32 {
  return <u32>index < <u32>count ? index : 0;
}

/**
 * Adds the shard's customers into statsPtr (a zeroed row of schemeStatsWidth(nPrices) values) and
 * writes each customer's log10 AC. D and S at p*S use the search kernels' arithmetic, two
 * customers per vector; sums run in customer order. atBestSPtr (if not 0): D, z and e^−|z| at p*S
 * per customer as the screened search kept them (three f64 each), so they are not computed again.
 */
export function schemeStats(
  vPtr: usize, alphaPtr: usize, shareCostPtr: usize, referralsPtr: usize, marginalCostPtr: usize, n: i32,
  pricesPtr: usize, nPrices: i32, sigma: f64, leadValue: f64,
  bestIndexNSPtr: usize, bestProfitNSPtr: usize, bestIndexSPtr: usize, bestProfitSPtr: usize,
  statsPtr: usize, acLog10Ptr: usize, atBestSPtr: usize,
): void {
  assert(nPrices > 0);
  const sigmaV = f64x2.splat(sigma);
  const acInverseWidth = leadValue > 0 ? 4.0 / leadValue : 1.0;
  for (let i = 0; i < n; i += 2) {
    const second = i + 1 < n ? 1 : 0; // the second lane repeats the first past the end
    const i1 = i + second;
    const o0 = <usize>i << 3, o1 = <usize>i1 << 3;
    const indexS0 = indexIn(load<i32>(bestIndexSPtr + (<usize>i << 2)), nPrices);
    const indexS1 = indexIn(load<i32>(bestIndexSPtr + (<usize>i1 << 2)), nPrices);
    const v = loadPair(vPtr, o0, o1), alpha = loadPair(alphaPtr, o0, o1), shareCost = loadPair(shareCostPtr, o0, o1);
    const r = loadPair(referralsPtr, o0, o1), mc = loadPair(marginalCostPtr, o0, o1);
    const price = loadPair(pricesPtr, <usize>indexS0 << 3, <usize>indexS1 << 3);
    let demand: v128, z: v128, e2: v128;
    if (atBestSPtr != 0) {
      demand = loadPair(atBestSPtr, o0 * 3, o1 * 3);
      z = loadPair(atBestSPtr + 8, o0 * 3, o1 * 3);
      e2 = loadPair(atBestSPtr + 16, o0 * 3, o1 * 3);
    } else {
      const u = f64x2.sub(v, f64x2.mul(alpha, price));
      const e = expVec(f64x2.neg(f64x2.abs(u)));
      demand = logisticVec(u, e);
      z = f64x2.mul(sigmaV, f64x2.sub(softplusVec(u, e), shareCost));
      e2 = expVec(f64x2.neg(f64x2.abs(z)));
    }
    const share = logisticVec(z, e2);
    const notShare = logisticVec(f64x2.neg(z), e2); // 1 − S without cancellation
    const profitNS = loadPair(bestProfitNSPtr, o0, o1);
    // Π(p*NS, 0) − S Π(p*S, 0) as (Π(p*NS, 0) − Π(p*S, 0)) + (1 − S) Π(p*S, 0), the first term 0
    // when p*S = p*NS: S near 1 loses nothing to cancellation
    const indexNS0 = indexIn(load<i32>(bestIndexNSPtr + (<usize>i << 2)), nPrices);
    const indexNS1 = indexIn(load<i32>(bestIndexNSPtr + (<usize>i1 << 2)), nPrices);
    const samePrice = i64x2(indexS0 == indexNS0 ? -1 : 0, indexS1 == indexNS1 ? -1 : 0);
    const profitAtS = f64x2.mul(demand, f64x2.sub(price, mc));
    const gap = v128.andnot(f64x2.sub(profitNS, profitAtS), samePrice);
    const givenUp = f64x2.add(gap, f64x2.mul(notShare, profitAtS));
    const leads = f64x2.mul(share, r);
    const acquisitionCost = f64x2.div(givenUp, leads);
    addCustomer(statsPtr, nPrices, indexNS0, indexS0,
      f64x2.extract_lane(profitNS, 0), load<f64>(bestProfitSPtr + o0), f64x2.extract_lane(acquisitionCost, 0),
      f64x2.extract_lane(leads, 0), leadValue, acInverseWidth, acLog10Ptr + o0);
    if (second) {
      addCustomer(statsPtr, nPrices, indexNS1, indexS1,
        f64x2.extract_lane(profitNS, 1), load<f64>(bestProfitSPtr + o1), f64x2.extract_lane(acquisitionCost, 1),
        f64x2.extract_lane(leads, 1), leadValue, acInverseWidth, acLog10Ptr + o1);
    }
  }
}

/**
 * The UP scheme's requirement split: every customer pays its market's uniform price, and
 * broadcastingPtr[m] (f64, added to) counts the customers of market m for whom the broadcasting
 * requirement earns at least as much there, Π(p, 1) ≥ Π(p, 0), with the search kernels'
 * arithmetic (evaluatePair, two customers at a time). marketPtr: i32 market per customer, each in
 * [0, nMarkets) (the host checks; anything else is counted for market 0).
 */
export function requirementSplit(
  vPtr: usize, alphaPtr: usize, shareCostPtr: usize, referralsPtr: usize, marginalCostPtr: usize, marketPtr: usize, n: i32,
  marketPricesPtr: usize, nMarkets: i32, sigma: f64, leadValue: f64, broadcastingPtr: usize,
): void {
  assert(nMarkets > 0);
  const sigmaV = f64x2.splat(sigma), leadV = f64x2.splat(leadValue);
  for (let i = 0; i < n; i += 2) {
    const second = i + 1 < n ? 1 : 0;
    const i1 = i + second;
    const o0 = <usize>i << 3, o1 = <usize>i1 << 3;
    const m0 = indexIn(load<i32>(marketPtr + (<usize>i << 2)), nMarkets), m1 = indexIn(load<i32>(marketPtr + (<usize>i1 << 2)), nMarkets);
    const price = loadPair(marketPricesPtr, <usize>m0 << 3, <usize>m1 << 3);
    // r L formed as the search kernels form it (r times the lead value)
    const leadProfit = f64x2.mul(loadPair(referralsPtr, o0, o1), leadV);
    evaluatePair(price, loadPair(vPtr, o0, o1), loadPair(alphaPtr, o0, o1), loadPair(shareCostPtr, o0, o1), leadProfit, loadPair(marginalCostPtr, o0, o1), sigmaV);
    if (f64x2.extract_lane(pairProfitS, 0) >= f64x2.extract_lane(pairProfitNS, 0)) bump(broadcastingPtr, m0);
    if (second && f64x2.extract_lane(pairProfitS, 1) >= f64x2.extract_lane(pairProfitNS, 1)) bump(broadcastingPtr, m1);
  }
}

// A shard's heterogeneity row: per primitive in logit units (σ SC, log r, v, p̄ α) the moments a
// FineHistogram keeps (src/sharing/heterogeneity.ts), MOMENTS values each.
// @ts-ignore: decorator
@inline const MOMENTS: i32 = 9; // count, min, max, shift, Σ(x − shift), Σ(x − shift)², non-finite, below, above
// @ts-ignore: decorator
@inline const NOT_BINNED: u16 = 0xffff;

/** Width of a heterogeneity row in f64 values. */
export function heterogeneityWidth(): i32 {
  return 4 * MOMENTS;
}

/**
 * The slides' heterogeneity comparison for a shard, as FineHistogram.add would see its customers
 * in order: each primitive's moments (deviations from the shard's first finite value) into
 * momentsPtr (a zeroed row of heterogeneityWidth() values) and its bin on the fine grid
 * [lo, lo + bins / inverseWidth) into binsPtr (4 u16 per customer; 0xFFFF where the value is not
 * finite or off the grid, which the moments count instead). The host adds the bins into the
 * histograms and merges the rows shard by shard, so the main thread does not take the
 * logarithms and the per-value bookkeeping.
 */
export function heterogeneityStats(
  vPtr: usize, alphaPtr: usize, shareCostPtr: usize, referralsPtr: usize, n: i32,
  sigma: f64, priceScale: f64, lo: f64, inverseWidth: f64, bins: i32, momentsPtr: usize, binsPtr: usize,
): void {
  assert(bins > 0 && bins < <i32>NOT_BINNED);
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 3;
    const at = binsPtr + off;
    addPrimitive(momentsPtr, sigma * load<f64>(shareCostPtr + off), lo, inverseWidth, bins, at);
    addPrimitive(momentsPtr + (<usize>MOMENTS << 3), Math.log(load<f64>(referralsPtr + off)), lo, inverseWidth, bins, at + 2);
    addPrimitive(momentsPtr + (<usize>(2 * MOMENTS) << 3), load<f64>(vPtr + off), lo, inverseWidth, bins, at + 4);
    addPrimitive(momentsPtr + (<usize>(3 * MOMENTS) << 3), priceScale * load<f64>(alphaPtr + off), lo, inverseWidth, bins, at + 6);
  }
}

// @ts-ignore: decorator
@inline
function addPrimitive(moments: usize, x: f64, lo: f64, inverseWidth: f64, bins: i32, binAt: usize): void {
  if (!(x - x == 0)) {
    store<f64>(moments + 48, load<f64>(moments + 48) + 1.0);
    store<u16>(binAt, NOT_BINNED);
    return;
  }
  const count = load<f64>(moments);
  if (count == 0) {
    store<f64>(moments + 8, x); // min
    store<f64>(moments + 16, x); // max
    store<f64>(moments + 24, x); // shift
  }
  store<f64>(moments, count + 1.0);
  if (x < load<f64>(moments + 8)) store<f64>(moments + 8, x);
  if (x > load<f64>(moments + 16)) store<f64>(moments + 16, x);
  const d = x - load<f64>(moments + 24);
  store<f64>(moments + 32, load<f64>(moments + 32) + d);
  store<f64>(moments + 40, load<f64>(moments + 40) + d * d);
  const b = Math.floor((x - lo) * inverseWidth);
  let bin = NOT_BINNED;
  if (b < 0) store<f64>(moments + 56, load<f64>(moments + 56) + 1.0);
  else if (b >= <f64>bins) store<f64>(moments + 64, load<f64>(moments + 64) + 1.0);
  else bin = <u16>(<i32>b);
  store<u16>(binAt, bin);
}
