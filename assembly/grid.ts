// Per-customer price-grid search (SPEC §1.3): for every customer the best feasible price and
// profit without (s = 0) and with (s = 1) the broadcasting requirement, and optionally the
// per-price profit totals that the uniform-price schemes maximize.
//
// Two kernels give the same answers bit for bit:
// - priceGridSearch evaluates every price in double precision (f64x2, two prices a step; one
//   exp(-|u|) serves D and EU, one exp(-|z|) serves S), and can accumulate per-price totals;
// - priceGridSearchScreened first evaluates every price in single precision (f32x4, four prices
//   a step), keeps each price whose single-precision profit is within a proven error bound of
//   the best one, and re-evaluates only those in double precision with the same code as the
//   exhaustive kernel. The true (double-precision) argmax is always kept, so the result is the
//   exhaustive search's.
import { expVec, loadPair, logisticVec, softplusVec, vc, C_TWO } from "./math";
import { expNegAbs32, logistic32, softplus32 } from "./math32";

// Results of evaluatePair (wasm globals are per instance, so per thread).
export let pairProfitNS: v128 = f64x2.splat(0);
export let pairProfitS: v128 = f64x2.splat(0);
// With `keep`: D, z = σ (softplus(u) − SC) and e^−|z| of the last call (S = logistic(z) from them).
export let pairDemand: v128 = f64x2.splat(0);
export let pairZ: v128 = f64x2.splat(0);
export let pairExpZ: v128 = f64x2.splat(0);

/** Profits Π(p, 0) = D (p − mc) and Π(p, 1) = S (D (p − mc) + r L) at two prices. */
// @ts-ignore: decorator
@inline
export function evaluatePair(price: v128, v: v128, alpha: v128, shareCost: v128, leadProfit: v128, mc: v128, sigma: v128, keep: bool = false): void {
  const u = f64x2.sub(v, f64x2.mul(alpha, price));
  const e = expVec(f64x2.neg(f64x2.abs(u)));
  const demand = logisticVec(u, e);
  const z = f64x2.mul(sigma, f64x2.sub(softplusVec(u, e), shareCost));
  const expZ = expVec(f64x2.neg(f64x2.abs(z)));
  const share = logisticVec(z, expZ);
  const profitNS = f64x2.mul(demand, f64x2.sub(price, mc));
  pairProfitNS = profitNS;
  pairProfitS = f64x2.mul(share, f64x2.add(profitNS, leadProfit));
  if (keep) {
    pairDemand = demand;
    pairZ = z;
    pairExpZ = expZ;
  }
}

/**
 * Stores lane `lane` of the kept D, z and e^−|z| as customer i's values at its s = 1 optimum
 * (three f64 per customer), for schemeStats; nothing when atBestSPtr is 0.
 */
// @ts-ignore: decorator
@inline
function storeAtBestS(atBestSPtr: usize, i: i32, lane: i32): void {
  if (atBestSPtr == 0) return;
  const at = atBestSPtr + <usize>i * 24;
  store<f64>(at, lane == 0 ? f64x2.extract_lane(pairDemand, 0) : f64x2.extract_lane(pairDemand, 1));
  store<f64>(at + 8, lane == 0 ? f64x2.extract_lane(pairZ, 0) : f64x2.extract_lane(pairZ, 1));
  store<f64>(at + 16, lane == 0 ? f64x2.extract_lane(pairExpZ, 0) : f64x2.extract_lane(pairExpZ, 1));
}

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
): i32 {
  assert(nPrices > 0 && (nPrices & 1) == 0);
  const sigmaV = f64x2.splat(sigma);
  const minusInf = f64x2.splat(-Infinity);
  let finiteProbe: f64 = 0;
  const withTotals = totalsPtr != 0;
  const totalsS = totalsPtr + (<usize>nPrices << 3);
  const totalsP = totalsS + (<usize>nPrices << 3);
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 3;
    const vS = load<f64>(vPtr + off), alphaS = load<f64>(alphaPtr + off), shareCostS = load<f64>(shareCostPtr + off);
    const rS = load<f64>(referralsPtr + off), mcS = load<f64>(marginalCostPtr + off);
    finiteProbe += inputProbe(vS, alphaS, shareCostS, rS, mcS);
    const v = f64x2.splat(vS);
    const alpha = f64x2.splat(alphaS);
    const shareCost = f64x2.splat(shareCostS);
    const leadProfit = f64x2.splat(rS * leadValue);
    const mc = f64x2.splat(mcS);
    let bestNS = minusInf, bestS = minusInf;
    let bestNSIdx = f64x2(0, 1), bestSIdx = f64x2(0, 1);
    let idx = f64x2(0, 1);
    for (let j = 0; j < nPrices; j += 2) {
      const pOff = <usize>j << 3;
      evaluatePair(v128.load(pricesPtr + pOff), v, alpha, shareCost, leadProfit, mc, sigmaV);
      const profitNS = pairProfitNS, profitS = pairProfitS;
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
  return finiteProbe == 0 ? 0 : 1;
}

/**
 * 0 when a customer's five inputs are finite, NaN otherwise (x · 0 is NaN exactly for NaN and
 * ±∞). Kernels sum it over their shard and return non-zero when the sum is not 0, so that the
 * host checks the values on the workers' time instead of in a serial pass before the job.
 */
// @ts-ignore: decorator
@inline
function inputProbe(v: f64, alpha: f64, shareCost: f64, referrals: f64, mc: f64): f64 {
  return v * 0 + alpha * 0 + shareCost * 0 + referrals * 0 + mc * 0;
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

// @ts-ignore: decorator
@inline const ULP32: f64 = 5.960464477539063e-8; // 2^-24, the unit roundoff of f32
// Relative errors of the f32 functions over their whole domains, from scans of every f32 input
// (expNegAbs32MaxError 4.43 u on [−87, 0], log1pUnit32MaxError 2.07 u on [e^−87, 1]; the math
// tests rerun both), rounded up.
// @ts-ignore: decorator
@inline const EXP32_ERROR: f64 = 4.5 * ULP32;
// @ts-ignore: decorator
@inline const LOG1P32_ERROR: f64 = 2.1 * ULP32;
// e^−|x| is floored at e^−87 instead of going lower: an absolute error below this.
// @ts-ignore: decorator
@inline const EXP32_FLOOR: f64 = 1.8e-38;
// Slack for the double-precision side: the exhaustive kernel's own values differ from the exact
// ones by the same analysis with 2^-53 in place of 2^-24 (and the bounds are computed in f64).
// @ts-ignore: decorator
@inline const F64_SLACK: f64 = 1.0 + 1e-6;

/** Exported so that the math tests check them against the exhaustive scans. */
export function exp32RelativeError(): f64 { return EXP32_ERROR; }
export function log1p32RelativeError(): f64 { return LOG1P32_ERROR; }

// Results of screenErrors (per instance, so per thread).
let errReach: f64 = 0, errRhoNS: f64 = 0, errRhoS: f64 = 0, errMarginAbs: f64 = 0, errUsable: bool = false;

/**
 * Error bounds of one customer's f32 profits, from the computed values (every rounding itemized;
 * u = 2^-24; x32 denotes the f32 value, x the exact one):
 * - u = v − αp: v, α, p rounded, the product and the difference rounded:
 *   |δu| ≤ u (2|v| + 4|α| pmax)(1 + 8u).
 * - log D and log S are 1-Lipschitz in their arguments, so D(u32)/D(u) lies in [e^−|δu|, e^|δu|];
 *   logistic32 adds (1 + E)(1 + u)² / ((1 − E/2)(1 − u)) − 1 (E: exp32's error; e/(1+e) ≤ 1/2).
 * - EU = softplus(u): 1-Lipschitz, plus log1p32(e32)'s error ρL ln 2 (log1p(e) ≤ ln 2) and the sum's
 *   rounding; z = σ (EU − SC) adds the roundings of SC, σ, the difference and the product.
 * - Π(p, 0) = D (p − mc): relative ρNS of the computed value plus the margin's absolute error
 *   2u (pmax + |mc|); errRhoNS = ρ/(1 − ρ) ≤ ρ (1 + 2ρ) turns it into a bound relative to the
 *   computed value, so that the scale is the computed values' largest magnitude.
 * - Π(p, 1) = S (Π(p, 0) + rL): errRhoS likewise for S and the product (see leadSumError).
 * e^−|x| floored at e^−87 adds absolute errors below EXP32_FLOOR. errUsable is false when the
 * first-order terms are too large for these bounds (then every price is kept).
 */
// @ts-ignore: decorator
@inline
function screenErrors(vS: f64, alphaS: f64, shareCostS: f64, mcS: f64, maxAbsPrice: f64, sigma: f64): void {
  const U = ULP32;
  const uMax = abs(vS) + abs(alphaS) * maxAbsPrice; // |u| at any price
  const du = U * (2.0 * abs(vS) + 4.0 * abs(alphaS) * maxAbsPrice) * (1.0 + 8.0 * U) + 1e-44;
  const rhoLogistic = (1.0 + EXP32_ERROR) * (1.0 + U) * (1.0 + U) / ((1.0 - 0.5 * EXP32_ERROR) * (1.0 - U)) - 1.0;
  // e^x − 1 ≤ x + x² for 0 ≤ x ≤ 1
  const rhoD = (du + du * du) * (1.0 + rhoLogistic) + rhoLogistic;
  const rhoNS = (1.0 + rhoD) * (1.0 + U) - 1.0;
  const rhoL = (1.0 + EXP32_ERROR / (1.0 - EXP32_ERROR)) * (1.0 + LOG1P32_ERROR) - 1.0;
  const ln2 = 0.6931471805599454;
  const dEU = du + rhoL * ln2 + U * (uMax + du + ln2 * (1.0 + rhoL)) * (1.0 + U) + EXP32_FLOOR;
  const euMax = uMax + ln2 + dEU;
  const dw = dEU + U * abs(shareCostS) + U * (euMax + abs(shareCostS)) * (1.0 + U);
  const dz = abs(sigma) * (dw * (1.0 + 2.0001 * U) + 2.0001 * U * (euMax + abs(shareCostS)));
  const rhoS = (dz + dz * dz) * (1.0 + rhoLogistic) + rhoLogistic;
  const rhoS1 = (1.0 + rhoS) * (1.0 + U) - 1.0;
  errReach = uMax + 1.0;
  errRhoNS = rhoNS * (1.0 + 2.0 * rhoNS);
  errRhoS = rhoS1 * (1.0 + 2.0 * rhoS1);
  errMarginAbs = U * (maxAbsPrice + abs(mcS)) * (2.0 + 2.0 * U) * (1.0 + rhoD) * (1.0 + U) + EXP32_FLOOR * (maxAbsPrice + abs(mcS)) * 1.001 + 1e-44;
  errUsable = du <= 0.01 && dz <= 0.25;
}

/** Bound on |Π32(p, 0) − Π(p, 0)| at every price, given the largest computed |Π32(p, 0)|. */
// @ts-ignore: decorator
@inline
function profitNSError(scaleNS: f64): f64 {
  return (errRhoNS * scaleNS + errMarginAbs) * F64_SLACK;
}

/**
 * Bound on |w32 − w| for w = Π(p, 0) + rL (the f32 sum of Π32(p, 0), within errNS, and rL rounded
 * to f32), given the largest computed |Π32(p, 0)|: the sum's rounding is u |w32|.
 */
// @ts-ignore: decorator
@inline
function leadSumError(errNS: f64, scaleNS: f64, leadProfit: f64): f64 {
  const U = ULP32;
  return (errNS + U * abs(leadProfit) + U * (1.0 + U) * (scaleNS + abs(leadProfit) * (1.0 + U) + errNS)) * F64_SLACK;
}

/** Bound on |w32| for w = Π(p, 0) + rL, given the largest computed |Π32(p, 0)| (the scale of Π(p, 1) and its bounds). */
// @ts-ignore: decorator
@inline
function leadSumScale(scaleNS: f64, leadProfit: f64): f64 {
  return (scaleNS + abs(leadProfit)) * (1.0 + 4.0 * ULP32);
}

/** Whether a customer's inputs are inside the range the bounds of screenErrors (called before) assume. */
// @ts-ignore: decorator
@inline
function screenInRange(shareCostS: f64, leadProfitS: f64, mcS: f64): bool {
  return errUsable && errReach < 1e4 && abs(shareCostS) < 1e30 && abs(leadProfitS) < 1e30 && abs(mcS) < 1e30;
}

/**
 * Bound on |Π32(p, 1) − Π(p, 1)| (or of an f32 bound S32(q) w32 against S(q) w), given the largest
 * computed magnitude of those values and scaleW ≥ |w32|: S's and the product's relative error, S ≤ 1
 * times w's error, and e^−87's floor.
 */
// @ts-ignore: decorator
@inline
function profitSError(scaleS: f64, errW: f64, scaleW: f64): f64 {
  return (errRhoS * scaleS + errW + EXP32_FLOOR * scaleW) * F64_SLACK;
}

/** An f32 keep threshold at most x (the cast rounds to nearest, so step down first). */
// @ts-ignore: decorator
@inline
function thresholdBelow(x: f64): v128 {
  return f32x4.splat(<f32>(x - 2.0 * ULP32 * abs(x)));
}

// @ts-ignore: decorator
@inline function maxLane32(x: v128): f32 {
  const m = f32x4.pmax(x, v128.shuffle<f32>(x, x, 2, 3, 0, 1));
  return max(f32x4.extract_lane(m, 0), f32x4.extract_lane(m, 1));
}

/**
 * Same outputs as priceGridSearch without totals. prices32Ptr holds the grid in f32 padded to
 * nPrices4 (a multiple of 4) by repeating the last price; pricesPtr holds it in f64 padded to
 * nPrices4 as well. scratchPtr: 40 * nPrices4 + 64 bytes private to this call (f32 rows: profits
 * for s = 0 and s = 1, u and e^−|u|; the anchors' prices and S; partial sums of the totals; S).
 * maxAbsPrice = max |price|.
 *
 * Without totals the screen evaluates the share stage (the dearer half) only where Π(p, 1) could
 * be the best: every price gets Π(p, 0) first; then S at the four prices around the best Π(p, 0)
 * and at every other block of four prices whose bound is not below the best Π(p, 1) so far
 * minus a proven margin. Bounds: Π(p, 1) = S (Π(p, 0) + rL) ≤ max(Π(p, 0) + rL, 0) (S ≤ 1), and
 * above a price q whose S is known, ≤ max(S(q) (Π(p, 0) + rL), 0) (S falls with p when α, σ ≥ 0).
 * A skipped price's exact Π(p, 1) is below the best one's, so it is never the argmax.
 *
 * When screenTotalsPtr != 0 the screen also adds, for the uniform-price schemes, the f32 profits
 * into f64 totals: rows Σ Π(p, 0), Σ Π(p, 1), Σ max_s Π(p, s) (nPrices4 each), followed by three
 * f64 sums of the customers' error bounds for those rows (+∞ when a customer fell outside the
 * bounds' range), the sum of the customers' largest |profit|, and nPrices4 flags (1: the S rows
 * are screened totals at that price; 0: upper bounds). Windowed totals: the first PILOT_CUSTOMERS
 * customers of the call are screened at every price; their totals place a window of blocks covering
 * the best US and UP prices ± WINDOW_MARGIN. Every later customer (when S falls with the price)
 * gets S exactly in the window and at three anchor prices, one below it and two above (anchorIndex), and elsewhere
 * only where the per-customer search needs it; where S is not known the rows add the bound S(a⁻) w
 * (w = Π(p, 0) + rL ≥ 0; S(a⁻) = 1 below the first anchor) or S(a⁺) w (w < 0; 0 above the last)
 * between the neighbouring anchors. The uniform optimum lies near the window for all but unusual
 * markets, so this evaluates S at about 16 prices instead of all. A host
 * takes the best flagged total, keeps every price whose total (or bound) is within twice the error
 * of it, and computes exact totals there with priceTotalsAt.
 *
 * When rowsOutPtr != 0 every price is screened in full and customer i's f32 rows S and Π(p, 0)
 * (nPrices4 each) are left at rowsOutPtr + 8 nPrices4 i, for priceGridSearchLeads to reuse.
 */
export function priceGridSearchScreened(
  vPtr: usize, alphaPtr: usize, shareCostPtr: usize, referralsPtr: usize, marginalCostPtr: usize, n: i32,
  pricesPtr: usize, prices32Ptr: usize, nPrices4: i32, maxAbsPrice: f64, sigma: f64, leadValue: f64,
  bestIndexNSPtr: usize, bestProfitNSPtr: usize, bestIndexSPtr: usize, bestProfitSPtr: usize, scratchPtr: usize,
  screenTotalsPtr: usize, rowsOutPtr: usize, atBestSPtr: usize,
): i32 {
  assert(nPrices4 > 0 && (nPrices4 & 3) == 0);
  let finiteProbe: f64 = 0;
  const sigmaV = f64x2.splat(sigma);
  const sigma32 = f32x4.splat(<f32>sigma);
  const zero32 = f32x4.splat(0);
  const one32 = f32x4.splat(1);
  const screenNS = scratchPtr;
  const screenS = scratchPtr + (<usize>nPrices4 << 2);
  const rowU = scratchPtr + (<usize>nPrices4 << 3);
  const rowE = rowU + (<usize>nPrices4 << 2);
  const minusInf32 = f32x4.splat(-Infinity);
  // Windowed totals (see above): the window of blocks; three anchor prices around it (lanes 1–3 of
  // anchorPrices; lane 0 unused) and per block each lane's anchor below and above (see setAnchors).
  const nBlocks = nPrices4 >> 2;
  const anchorPrices = scratchPtr + (<usize>nPrices4 << 4);
  const anchorLanes = anchorPrices + 16;
  const windowing = screenTotalsPtr != 0 && rowsOutPtr == 0;
  let windowLo = 0, windowHi = nBlocks, windowed = 0;
  if (windowing) setAnchors(windowLo, windowHi, nBlocks, prices32Ptr, anchorPrices, anchorLanes);
  // per customer: lane 0 = 1 (the bound where no anchor is below), lanes 1–3 = S at the anchors
  let anchorTable = f32x4.splat(1);
  // f32 partial sums of the screened totals (see addScreenTotals)
  const partialSums = anchorPrices + (<usize>(nPrices4 + 8) << 3);
  // S where the share stage evaluated it (windowed totals bound S above an evaluated price by it)
  const rowShare = partialSums + (<usize>(3 * nPrices4) << 2);
  let partialCount = 0;
  if (screenTotalsPtr != 0) memory.fill(partialSums, 0, <usize>(3 * nPrices4) << 2);
  // a customer whose optima are single survivors, waiting for a partner (see pass 2)
  let pending: i32 = -1, pendingNS: i32 = 0, pendingS: i32 = 0;
  let pendingV: f64 = 0, pendingAlpha: f64 = 0, pendingShareCost: f64 = 0, pendingLead: f64 = 0, pendingMc: f64 = 0;
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 3;
    const vS = load<f64>(vPtr + off), alphaS = load<f64>(alphaPtr + off), shareCostS = load<f64>(shareCostPtr + off);
    const rS = load<f64>(referralsPtr + off), mcS = load<f64>(marginalCostPtr + off);
    const leadProfitS = rS * leadValue;
    finiteProbe += inputProbe(vS, alphaS, shareCostS, rS, mcS);
    if (windowing && i == PILOT_CUSTOMERS) {
      if (partialCount > 0) flushScreenTotals(screenTotalsPtr, partialSums, nPrices4);
      partialCount = 0;
      // the pilot's totals place the window: the blocks around the best US and UP prices so far
      const bestS = argmaxRow(screenTotalsPtr + (<usize>nPrices4 << 3), nPrices4);
      const bestP = argmaxRow(screenTotalsPtr + (<usize>nPrices4 << 4), nPrices4);
      if (bestS >= 0 && bestP >= 0) {
        windowLo = max(min(bestS, bestP) - WINDOW_MARGIN, 0) >> 2;
        windowHi = min(((max(bestS, bestP) + WINDOW_MARGIN) >> 2) + 1, nBlocks);
        setAnchors(windowLo, windowHi, nBlocks, prices32Ptr, anchorPrices, anchorLanes);
      }
    }
    // Pass 1: every price in f32.
    const v = f32x4.splat(<f32>vS), alpha = f32x4.splat(<f32>alphaS), shareCost = f32x4.splat(<f32>shareCostS);
    const leadProfit = f32x4.splat(<f32>leadProfitS), mc = f32x4.splat(<f32>mcS);
    screenErrors(vS, alphaS, shareCostS, mcS, maxAbsPrice, sigma);
    const inRange = screenInRange(shareCostS, leadProfitS, mcS);
    let maxNS = minusInf32, maxS = minusInf32;
    let scaleNS: f64, scaleS: f64;
    const customerRows = rowsOutPtr + <usize>i * (<usize>nPrices4 << 3);
    // S falls with the price, so the anchors bound it between them
    const windowedCustomer = windowing && i >= PILOT_CUSTOMERS && inRange && alphaS >= 0.0 && sigma >= 0.0;
    if ((screenTotalsPtr == 0 || windowedCustomer) && rowsOutPtr == 0 && inRange) {
      // Π(p, 0) at every price; u and e^−|u| kept for the share stage.
      let maxAbsNS = zero32;
      for (let j = 0; j < nPrices4; j += 4) {
        const pOff = <usize>j << 2;
        const price = v128.load(prices32Ptr + pOff);
        const u = f32x4.sub(v, f32x4.mul(alpha, price));
        const e = expNegAbs32(u);
        const profitNS = f32x4.mul(logistic32(u, e), f32x4.sub(price, mc));
        v128.store(screenNS + pOff, profitNS);
        v128.store(screenS + pOff, minusInf32);
        v128.store(rowU + pOff, u);
        v128.store(rowE + pOff, e);
        maxNS = f32x4.pmax(maxNS, profitNS);
        maxAbsNS = f32x4.pmax(maxAbsNS, f32x4.abs(profitNS));
      }
      scaleNS = <f64>maxLane32(maxAbsNS) * 1.001 + 1e-30;
      // Margin for skipping a block: the bound's own f32 error plus the best Π(p, 1)'s, both with
      // |S w32| ≤ |w32| ≤ max |Π32(p, 0)| + |rL| as the scale, and the threshold's f32 rounding.
      const scaleW = leadSumScale(scaleNS, leadProfitS);
      const errW = leadSumError(profitNSError(scaleNS), scaleNS, leadProfitS);
      const prune = f32x4.splat(<f32>(2.0 * (profitSError(scaleW, errW, scaleW) + ULP32 * scaleW) * F64_SLACK));
      if (windowedCustomer) {
        windowed++;
        // S at the anchors, exactly in the window, and elsewhere where the anchor below does not
        // rule Π(p, 1) out (S(p) ≤ S(anchor ≤ p)); any order is valid, as the threshold only rises
        {
          const u = f32x4.sub(v, f32x4.mul(alpha, v128.load(anchorPrices)));
          const z = f32x4.mul(sigma32, f32x4.sub(softplus32(u, expNegAbs32(u)), shareCost));
          anchorTable = f32x4.replace_lane(logistic32(z, expNegAbs32(z)), 0, 1.0);
        }
        let maxAbsS = zero32;
        let share = one32;
        for (let b = windowLo; b < windowHi; b++) {
          share = screenShare(b << 2, screenNS, screenS, rowU, rowE, rowShare, shareCost, leadProfit, sigma32);
          maxS = f32x4.pmax(maxS, lastProfitS);
          maxAbsS = f32x4.pmax(maxAbsS, f32x4.abs(lastProfitS));
        }
        // above the window, S at the highest price evaluated so far bounds S too (often tighter)
        let shareBelow = f32x4.splat(f32x4.extract_lane(share, 3));
        for (let b = 0; b < nBlocks; b++) {
          if (b == windowLo) { b = windowHi - 1; continue; }
          let below = i8x16.swizzle(anchorTable, v128.load(anchorLanes + (<usize>b << 5)));
          if (b >= windowHi) below = f32x4.pmin(below, shareBelow);
          const bound = f32x4.mul(below, f32x4.add(v128.load(screenNS + (<usize>b << 4)), leadProfit));
          const threshold = f32x4.sub(f32x4.splat(maxLane32(maxS)), prune);
          if (!v128.any_true(f32x4.ge(f32x4.pmax(bound, zero32), threshold))) continue;
          share = screenShare(b << 2, screenNS, screenS, rowU, rowE, rowShare, shareCost, leadProfit, sigma32);
          maxS = f32x4.pmax(maxS, lastProfitS);
          maxAbsS = f32x4.pmax(maxAbsS, f32x4.abs(lastProfitS));
          if (b >= windowHi) shareBelow = f32x4.splat(f32x4.extract_lane(share, 3));
        }
        scaleS = <f64>maxLane32(maxAbsS) * 1.001 + 1e-30;
      } else {
      const bestNS32 = f32x4.splat(maxLane32(maxNS));
      let top = 0;
      while (top + 4 < nPrices4 && i32x4.bitmask(f32x4.eq(v128.load(screenNS + (<usize>top << 2)), bestNS32)) == 0) top += 4;
      let maxAbsS = zero32;
      // the block holding the best Π(p, 0) first, then downwards (bound S ≤ 1)
      let share = screenShare(top, screenNS, screenS, rowU, rowE, rowShare, shareCost, leadProfit, sigma32);
      maxS = f32x4.pmax(maxS, lastProfitS);
      maxAbsS = f32x4.pmax(maxAbsS, f32x4.abs(lastProfitS));
      const shareAtTop = share;
      for (let j = top - 4; j >= 0; j -= 4) {
        const bound = f32x4.add(v128.load(screenNS + (<usize>j << 2)), leadProfit);
        const threshold = f32x4.sub(f32x4.splat(maxLane32(maxS)), prune);
        if (!v128.any_true(f32x4.ge(f32x4.pmax(bound, zero32), threshold))) continue;
        screenShare(j, screenNS, screenS, rowU, rowE, rowShare, shareCost, leadProfit, sigma32);
        maxS = f32x4.pmax(maxS, lastProfitS);
        maxAbsS = f32x4.pmax(maxAbsS, f32x4.abs(lastProfitS));
      }
      // upwards: S(p) ≤ S(q) at the highest price q below p whose S is known
      const falling = alphaS >= 0.0 && sigma >= 0.0;
      let shareBelow = falling ? f32x4.splat(f32x4.extract_lane(shareAtTop, 3)) : one32;
      for (let j = top + 4; j < nPrices4; j += 4) {
        const bound = f32x4.mul(shareBelow, f32x4.add(v128.load(screenNS + (<usize>j << 2)), leadProfit));
        const threshold = f32x4.sub(f32x4.splat(maxLane32(maxS)), prune);
        if (!v128.any_true(f32x4.ge(f32x4.pmax(bound, zero32), threshold))) continue;
        share = screenShare(j, screenNS, screenS, rowU, rowE, rowShare, shareCost, leadProfit, sigma32);
        maxS = f32x4.pmax(maxS, lastProfitS);
        maxAbsS = f32x4.pmax(maxAbsS, f32x4.abs(lastProfitS));
        if (falling) shareBelow = f32x4.splat(f32x4.extract_lane(share, 3));
      }
      scaleS = <f64>maxLane32(maxAbsS) * 1.001 + 1e-30;
      }
    } else {
      let maxAbs = zero32;
      for (let j = 0; j < nPrices4; j += 4) {
        const pOff = <usize>j << 2;
        const share = screenPrices(v128.load(prices32Ptr + pOff), v, alpha, shareCost, leadProfit, mc, sigma32);
        const profitNS = blockProfitNS, profitS = blockProfitS;
        v128.store(screenNS + pOff, profitNS);
        v128.store(screenS + pOff, profitS);
        if (rowsOutPtr != 0) {
          v128.store(customerRows + pOff, share);
          v128.store(customerRows + (<usize>nPrices4 << 2) + pOff, profitNS);
        }
        maxNS = f32x4.pmax(maxNS, profitNS);
        maxS = f32x4.pmax(maxS, profitS);
        maxAbs = f32x4.pmax(maxAbs, f32x4.pmax(f32x4.abs(profitNS), f32x4.abs(profitS)));
      }
      scaleNS = <f64>maxLane32(maxAbs) * 1.001 + 1e-30;
      scaleS = scaleNS;
    }
    const errNS = profitNSError(scaleNS);
    const scaleW = leadSumScale(scaleNS, leadProfitS);
    const errW = leadSumError(errNS, scaleNS, leadProfitS);
    const errS = profitSError(scaleS, errW, scaleW);
    const keepNS = thresholdBelow(<f64>maxLane32(maxNS) - 2.0 * errNS);
    const keepS = thresholdBelow(<f64>maxLane32(maxS) - 2.0 * errS);
    // Outside the ranges the bounds assume (or if anything overflowed f32), keep every price.
    const keepAll = !(inRange && scaleNS < 1e30 && scaleS < 1e30);
    if (windowedCustomer) {
      // A bound's error is the product's as for an exact value, with |S(anchor) w32| ≤ |w32| as the
      // scale, plus |w| ≤ errW where the sign of w = Π(p, 0) + rL that chose the anchor was wrong.
      const errBound = profitSError(scaleW, errW, scaleW) + errW;
      addScreenTotals(screenTotalsPtr, partialSums, screenNS, screenS, nPrices4, keepAll ? Infinity : errNS, keepAll || !(scaleW < 1e30) ? Infinity : errBound, scaleW, true, anchorTable, anchorLanes, rowShare, leadProfit);
    } else if (screenTotalsPtr != 0) {
      addScreenTotals(screenTotalsPtr, partialSums, screenNS, screenS, nPrices4, keepAll ? Infinity : errNS, keepAll ? Infinity : errS, scaleNS, false, anchorTable, 0, 0, leadProfit);
    }
    if (screenTotalsPtr != 0 && ++partialCount == PARTIAL_SUM_CUSTOMERS) {
      flushScreenTotals(screenTotalsPtr, partialSums, nPrices4);
      partialCount = 0;
    }
    // Pass 2: re-evaluate the kept prices in f64 (two at a time) in ascending order.
    const vD = f64x2.splat(vS), alphaD = f64x2.splat(alphaS), shareCostD = f64x2.splat(shareCostS);
    const leadProfitD = f64x2.splat(leadProfitS), mcD = f64x2.splat(mcS);
    let bestNS: f64 = -Infinity, bestS: f64 = -Infinity;
    let bestNSIdx: i32 = 0, bestSIdx: i32 = 0;
    // Usually a single price survives under each condition: it is then the argmax, and one f64x2
    // evaluation gives both profits (Π(p, 0) at the s = 0 survivor in lane 0, Π(p, 1) at the
    // s = 1 survivor in lane 1; lanes are computed independently, so the bits are the same).
    let countNS = 0, countS = 0, firstNS = 0, firstS = 0;
    if (!keepAll) {
      for (let j = 0; j < nPrices4; j += 4) {
        const pOff = <usize>j << 2;
        const maskNS = i32x4.bitmask(f32x4.ge(v128.load(screenNS + pOff), keepNS));
        const maskS = i32x4.bitmask(f32x4.ge(v128.load(screenS + pOff), keepS));
        if (countNS == 0) firstNS = j + ctz(maskNS);
        if (countS == 0) firstS = j + ctz(maskS);
        countNS += popcnt(maskNS);
        countS += popcnt(maskS);
      }
    }
    if (countNS == 1 && countS == 1) {
      if (pending < 0) {
        // wait for the next such customer: then one evaluation per condition serves both
        pending = i; pendingNS = firstNS; pendingS = firstS;
        pendingV = vS; pendingAlpha = alphaS; pendingShareCost = shareCostS; pendingLead = leadProfitS; pendingMc = mcS;
        continue;
      }
      // lane 0: the waiting customer, lane 1: this one (lanes are computed independently: same bits)
      const v2 = f64x2.replace_lane(f64x2.splat(pendingV), 1, vS), alpha2 = f64x2.replace_lane(f64x2.splat(pendingAlpha), 1, alphaS);
      const mc2 = f64x2.replace_lane(f64x2.splat(pendingMc), 1, mcS);
      const profitNS = profitNSPair(loadPair(pricesPtr, <usize>pendingNS << 3, <usize>firstNS << 3), v2, alpha2, mc2);
      evaluatePair(loadPair(pricesPtr, <usize>pendingS << 3, <usize>firstS << 3), v2, alpha2,
        f64x2.replace_lane(f64x2.splat(pendingShareCost), 1, shareCostS), f64x2.replace_lane(f64x2.splat(pendingLead), 1, leadProfitS), mc2, sigmaV, true);
      storeAtBestS(atBestSPtr, pending, 0);
      storeAtBestS(atBestSPtr, i, 1);
      storeOptima(pending, pendingNS, f64x2.extract_lane(profitNS, 0), pendingS, f64x2.extract_lane(pairProfitS, 0), bestIndexNSPtr, bestProfitNSPtr, bestIndexSPtr, bestProfitSPtr);
      storeOptima(i, firstNS, f64x2.extract_lane(profitNS, 1), firstS, f64x2.extract_lane(pairProfitS, 1), bestIndexNSPtr, bestProfitNSPtr, bestIndexSPtr, bestProfitSPtr);
      pending = -1;
      continue;
    }
    let pendingPrice: i32 = -1;
    // D, z and e^−|z| stored whenever bestS rises (the last store is the optimum's)
    let keptS = false;
    for (let j = 0; j < nPrices4; j += 4) {
      const pOff = <usize>j << 2;
      let mask = keepAll ? 15 : i32x4.bitmask(v128.or(f32x4.ge(v128.load(screenNS + pOff), keepNS), f32x4.ge(v128.load(screenS + pOff), keepS)));
      while (mask != 0) {
        const lane = ctz(mask);
        mask &= mask - 1;
        const jj = j + lane;
        if (pendingPrice < 0) {
          pendingPrice = jj;
          continue;
        }
        const price = loadPair(pricesPtr, <usize>pendingPrice << 3, <usize>jj << 3);
        evaluatePair(price, vD, alphaD, shareCostD, leadProfitD, mcD, sigmaV, true);
        const a0 = f64x2.extract_lane(pairProfitNS, 0), a1 = f64x2.extract_lane(pairProfitNS, 1);
        const b0 = f64x2.extract_lane(pairProfitS, 0), b1 = f64x2.extract_lane(pairProfitS, 1);
        if (a0 > bestNS) { bestNS = a0; bestNSIdx = pendingPrice; }
        if (a1 > bestNS) { bestNS = a1; bestNSIdx = jj; }
        if (b0 > bestS) { bestS = b0; bestSIdx = pendingPrice; storeAtBestS(atBestSPtr, i, 0); keptS = true; }
        if (b1 > bestS) { bestS = b1; bestSIdx = jj; storeAtBestS(atBestSPtr, i, 1); keptS = true; }
        pendingPrice = -1;
      }
    }
    if (pendingPrice >= 0) {
      evaluatePair(f64x2.splat(load<f64>(pricesPtr + (<usize>pendingPrice << 3))), vD, alphaD, shareCostD, leadProfitD, mcD, sigmaV, true);
      const a0 = f64x2.extract_lane(pairProfitNS, 0), b0 = f64x2.extract_lane(pairProfitS, 0);
      if (a0 > bestNS) { bestNS = a0; bestNSIdx = pendingPrice; }
      if (b0 > bestS) { bestS = b0; bestSIdx = pendingPrice; storeAtBestS(atBestSPtr, i, 0); keptS = true; }
    }
    if (!keptS && atBestSPtr != 0) {
      // no profit beat −∞ (NaN everywhere): the values at the price reported, index 0
      evaluatePair(f64x2.splat(load<f64>(pricesPtr + (<usize>bestSIdx << 3))), vD, alphaD, shareCostD, leadProfitD, mcD, sigmaV, true);
      storeAtBestS(atBestSPtr, i, 0);
    }
    storeOptima(i, bestNSIdx, bestNS, bestSIdx, bestS, bestIndexNSPtr, bestProfitNSPtr, bestIndexSPtr, bestProfitSPtr);
  }
  if (pending >= 0) {
    // the last single-survivor customer had no partner
    evaluatePair(loadPair(pricesPtr, <usize>pendingNS << 3, <usize>pendingS << 3), f64x2.splat(pendingV), f64x2.splat(pendingAlpha),
      f64x2.splat(pendingShareCost), f64x2.splat(pendingLead), f64x2.splat(pendingMc), sigmaV, true);
    storeAtBestS(atBestSPtr, pending, 1);
    storeOptima(pending, pendingNS, f64x2.extract_lane(pairProfitNS, 0), pendingS, f64x2.extract_lane(pairProfitS, 1), bestIndexNSPtr, bestProfitNSPtr, bestIndexSPtr, bestProfitSPtr);
  }
  if (screenTotalsPtr != 0) {
    if (partialCount > 0) flushScreenTotals(screenTotalsPtr, partialSums, nPrices4);
    // 1 where every customer's S row value was exact (not an anchor bound): the window and the anchors
    const exact = screenTotalsPtr + (<usize>(3 * nPrices4 + 4) << 3);
    for (let j = 0; j < nPrices4; j++) {
      const b = j >> 2;
      const isExact = windowed == 0 || (b >= windowLo && b < windowHi) || isAnchorPrice(anchorLanes, j);
      store<f64>(exact + (<usize>j << 3), isExact ? 1.0 : 0.0);
    }
  }
  return finiteProbe == 0 ? 0 : 1;
}

// Customers at the start of each call evaluated at every price to place the window of the windowed totals.
// @ts-ignore: decorator
@inline const PILOT_CUSTOMERS: i32 = 64;
// Prices on either side of the pilot's best US and UP prices that the window covers (then whole blocks).
// @ts-ignore: decorator
@inline const WINDOW_MARGIN: i32 = 4;

/**
 * Price index of anchor lane k (1–3): 4 prices below the window, and 1 and 6 prices above it (its
 * blocks cover [4 windowLo, 4 windowHi)), clamped to the grid. Far below the window S is near 1,
 * where the bound S ≤ 1 costs little; above it S falls fast, so anchors there rule out most prices
 * the window does not cover. (Three anchors fill one f32x4 evaluation with lane 0 = 1; every
 * eighth price, two evaluations, gave the paper population the same candidates at 9% more time.)
 */
// @ts-ignore: decorator
@inline
function anchorIndex(k: i32, windowLo: i32, windowHi: i32, nPrices4: i32): i32 {
  return k == 1 ? max((windowLo << 2) - 4, 0) : min((windowHi << 2) + (k == 2 ? 1 : 6), nPrices4 - 1);
}

/**
 * The anchors' f32 prices (lanes 1–3 of anchorPrices) and, per block of four prices, swizzle
 * indices into the per-customer anchor table (lane 0: 1, lanes 1–3: S at the anchors): at
 * anchorLanes + 32 b each price's largest anchor at or below it (lane 0, i.e. S ≤ 1, if none),
 * then at + 16 its smallest anchor at or above it (out of range, i.e. 0, if none).
 */
function setAnchors(windowLo: i32, windowHi: i32, nBlocks: i32, prices32Ptr: usize, anchorPrices: usize, anchorLanes: usize): void {
  const nPrices4 = nBlocks << 2;
  store<f32>(anchorPrices, load<f32>(prices32Ptr));
  for (let k = 1; k < 4; k++) store<f32>(anchorPrices + (<usize>k << 2), load<f32>(prices32Ptr + (<usize>anchorIndex(k, windowLo, windowHi, nPrices4) << 2)));
  for (let j = 0; j < nPrices4; j++) {
    // the first lane of equal anchors on both sides, so that an anchor's own price has below == above
    let below = 0, above = 16; // lane 16: past the table, so the swizzle gives 0
    for (let k = 1; k < 4; k++) {
      const a = anchorIndex(k, windowLo, windowHi, nPrices4);
      if (a <= j && (below == 0 || a > anchorIndex(below, windowLo, windowHi, nPrices4))) below = k;
      if (a >= j && above == 16) above = k;
    }
    const at = anchorLanes + (<usize>(j >> 2) << 5) + (<usize>(j & 3) << 2);
    for (let byte = 0; byte < 4; byte++) {
      store<u8>(at + byte, <u8>((below << 2) + byte));
      store<u8>(at + 16 + byte, <u8>(above == 16 ? 0x80 : (above << 2) + byte));
    }
  }
}

/** Whether price j is an anchor: setAnchors gave it the same anchor below and above (as addScreenTotals tests it). */
// @ts-ignore: decorator
@inline
function isAnchorPrice(anchorLanes: usize, j: i32): bool {
  const at = anchorLanes + (<usize>(j >> 2) << 5) + (<usize>(j & 3) << 2);
  return load<u32>(at) == load<u32>(at + 16);
}

/** First index of the largest value of an f64 row (−1 if none compares, e.g. all NaN). */
function argmaxRow(rowPtr: usize, n: i32): i32 {
  let best: f64 = -Infinity, at = -1;
  for (let j = 0; j < n; j++) {
    const x = load<f64>(rowPtr + (<usize>j << 3));
    if (x > best) { best = x; at = j; }
  }
  return at;
}

// Results of screenPrices besides the share (per instance, so per thread).
let blockProfitNS: v128 = f32x4.splat(0), blockProfitS: v128 = f32x4.splat(0);

/** The screen's f32 Π(p, 0) and Π(p, 1) at four prices (into blockProfitNS, blockProfitS); returns S. */
// @ts-ignore: decorator
@inline
function screenPrices(price: v128, v: v128, alpha: v128, shareCost: v128, leadProfit: v128, mc: v128, sigma32: v128): v128 {
  const u = f32x4.sub(v, f32x4.mul(alpha, price));
  const e = expNegAbs32(u);
  const demand = logistic32(u, e);
  const z = f32x4.mul(sigma32, f32x4.sub(softplus32(u, e), shareCost));
  const share = logistic32(z, expNegAbs32(z));
  const profitNS = f32x4.mul(demand, f32x4.sub(price, mc));
  blockProfitNS = profitNS;
  blockProfitS = f32x4.mul(share, f32x4.add(profitNS, leadProfit));
  return share;
}

/**
 * For the tests of the screen's error analysis: each customer's f32 Π(p, 0) and Π(p, 1) at every
 * price (the screen's arithmetic, into rowsPtr: 2 nPrices4 f32 per customer) and the bounds on
 * their errors that the screen's keep rule uses when it screens every price (boundsPtr: errNS and
 * errS, f64 per customer; +∞ where the screen keeps every price instead).
 */
export function screenErrorCheck(
  vPtr: usize, alphaPtr: usize, shareCostPtr: usize, referralsPtr: usize, marginalCostPtr: usize, n: i32,
  prices32Ptr: usize, nPrices4: i32, maxAbsPrice: f64, sigma: f64, leadValue: f64, rowsPtr: usize, boundsPtr: usize,
): void {
  const sigma32 = f32x4.splat(<f32>sigma);
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 3;
    const vS = load<f64>(vPtr + off), alphaS = load<f64>(alphaPtr + off), shareCostS = load<f64>(shareCostPtr + off);
    const leadProfitS = load<f64>(referralsPtr + off) * leadValue, mcS = load<f64>(marginalCostPtr + off);
    const v = f32x4.splat(<f32>vS), alpha = f32x4.splat(<f32>alphaS), shareCost = f32x4.splat(<f32>shareCostS);
    const leadProfit = f32x4.splat(<f32>leadProfitS), mc = f32x4.splat(<f32>mcS);
    const rowNS = rowsPtr + <usize>i * (<usize>nPrices4 << 3), rowS = rowNS + (<usize>nPrices4 << 2);
    let maxAbs = f32x4.splat(0);
    for (let j = 0; j < nPrices4; j += 4) {
      const pOff = <usize>j << 2;
      screenPrices(v128.load(prices32Ptr + pOff), v, alpha, shareCost, leadProfit, mc, sigma32);
      v128.store(rowNS + pOff, blockProfitNS);
      v128.store(rowS + pOff, blockProfitS);
      maxAbs = f32x4.pmax(maxAbs, f32x4.pmax(f32x4.abs(blockProfitNS), f32x4.abs(blockProfitS)));
    }
    screenErrors(vS, alphaS, shareCostS, mcS, maxAbsPrice, sigma);
    const inRange = screenInRange(shareCostS, leadProfitS, mcS);
    // as the screen's full branch: one scale for both conditions
    const scale = <f64>maxLane32(maxAbs) * 1.001 + 1e-30;
    const errNS = profitNSError(scale);
    const errS = profitSError(scale, leadSumError(errNS, scale, leadProfitS), leadSumScale(scale, leadProfitS));
    const keepAll = !(inRange && scale < 1e30);
    store<f64>(boundsPtr + (<usize>i << 4), keepAll ? Infinity : errNS);
    store<f64>(boundsPtr + (<usize>i << 4) + 8, keepAll ? Infinity : errS);
  }
}

/** Customer i's best price indices and profits under s = 0 and s = 1. */
// @ts-ignore: decorator
@inline
function storeOptima(i: i32, indexNS: i32, profitNS: f64, indexS: i32, profitS: f64, bestIndexNSPtr: usize, bestProfitNSPtr: usize, bestIndexSPtr: usize, bestProfitSPtr: usize): void {
  store<i32>(bestIndexNSPtr + (<usize>i << 2), indexNS);
  store<f64>(bestProfitNSPtr + (<usize>i << 3), profitNS);
  store<i32>(bestIndexSPtr + (<usize>i << 2), indexS);
  store<f64>(bestProfitSPtr + (<usize>i << 3), profitS);
}

/** evaluatePair's Π(p, 0) alone (the same arithmetic, so the same bits). */
// @ts-ignore: decorator
@inline
function profitNSPair(price: v128, v: v128, alpha: v128, mc: v128): v128 {
  const u = f64x2.sub(v, f64x2.mul(alpha, price));
  const demand = logisticVec(u, expVec(f64x2.neg(f64x2.abs(u))));
  return f64x2.mul(demand, f64x2.sub(price, mc));
}

// Result of screenShare besides the share (wasm globals are per instance, so per thread).
let lastProfitS: v128 = f32x4.splat(0);

/** The share stage of the screen at prices [j, j + 4): stores Π(p, 1) and S (rowShare), returns S. */
// @ts-ignore: decorator
@inline
function screenShare(j: i32, screenNS: usize, screenS: usize, rowU: usize, rowE: usize, rowShare: usize, shareCost: v128, leadProfit: v128, sigma32: v128): v128 {
  const pOff = <usize>j << 2;
  const u = v128.load(rowU + pOff), e = v128.load(rowE + pOff);
  const z = f32x4.mul(sigma32, f32x4.sub(softplus32(u, e), shareCost));
  const share = logistic32(z, expNegAbs32(z));
  const profitS = f32x4.mul(share, f32x4.add(v128.load(screenNS + pOff), leadProfit));
  v128.store(screenS + pOff, profitS);
  v128.store(rowShare + pOff, share);
  lastProfitS = profitS;
  return share;
}

/**
 * Adds one customer's screened profits into the f32 partial sums (3 rows of nPrices4 at accPtr,
 * flushed into the shard's f64 totals every PARTIAL_SUM_CUSTOMERS customers by flushScreenTotals)
 * and its error bounds into the totals'. A partial sum of k ≤ PARTIAL_SUM_CUSTOMERS f32 values is
 * off by at most (k − 1) u Σ|x|, so each customer's bounds grow by PARTIAL_SUM_CUSTOMERS u scale.
 *
 * bounded (a windowed customer): where its S was not evaluated (screenS −∞), the S row holds the
 * upper bound S(a⁻) w for w = Π(p, 0) + rL ≥ 0 and S(a⁺) w for w < 0, a⁻ ≤ p ≤ a⁺ the
 * neighbouring anchors (S falls with p; anchorTable and anchorLanes, see setAnchors), with S at the highest price
 * below p whose S was evaluated (rowShare) in place of S(a⁻) when smaller; at an anchor that is
 * S(anchor) w itself.
 */
// @ts-ignore: decorator
@inline
function addScreenTotals(
  totalsPtr: usize, accPtr: usize, screenNS: usize, screenS: usize, nPrices4: i32, errNS: f64, errS: f64, scale: f64,
  bounded: bool, anchorTable: v128, anchorLanes: usize, rowShare: usize, leadProfit: v128,
): void {
  const rowBytes = <usize>nPrices4 << 2;
  // S at the highest evaluated price so far (S ≤ 1 before any): S(p) is at most that above it
  let evaluatedBelow = f32x4.splat(1);
  for (let j = 0; j < nPrices4; j += 4) {
    const off32 = <usize>j << 2;
    const ns = v128.load(screenNS + off32);
    let sh = v128.load(screenS + off32);
    if (bounded && f32x4.extract_lane(sh, 0) != -Infinity) {
      evaluatedBelow = f32x4.splat(load<f32>(rowShare + off32 + 12));
    } else if (bounded) {
      const lanesBelow = v128.load(anchorLanes + (<usize>j << 3)), lanesAbove = v128.load(anchorLanes + (<usize>j << 3) + 16);
      // an anchor's own lane (same anchor below and above) keeps its exact S(anchor) w; elsewhere
      // the tighter of the two bounds below
      const isAnchor = i32x4.eq(lanesBelow, lanesAbove);
      const anchorBelow = i8x16.swizzle(anchorTable, lanesBelow);
      const below = v128.bitselect(anchorBelow, f32x4.pmin(anchorBelow, evaluatedBelow), isAnchor);
      const above = i8x16.swizzle(anchorTable, lanesAbove);
      const w = f32x4.add(ns, leadProfit);
      const atBelow = v128.or(f32x4.ge(w, f32x4.splat(0)), isAnchor);
      sh = f32x4.mul(v128.bitselect(below, above, atBelow), w);
    }
    accumulate32(accPtr + off32, ns);
    accumulate32(accPtr + rowBytes + off32, sh);
    accumulate32(accPtr + 2 * rowBytes + off32, f32x4.pmax(ns, sh));
  }
  addScreenErrors(totalsPtr + (<usize>(3 * nPrices4) << 3), errNS, errS, scale);
}

/** Customers whose f32 profits are summed in f32 before the sums are added to the f64 totals. */
// @ts-ignore: decorator
@inline const PARTIAL_SUM_CUSTOMERS: i32 = 16;

/** row[0..4) += x in f32. */
// @ts-ignore: decorator
@inline
function accumulate32(rowPtr: usize, x: v128): void {
  v128.store(rowPtr, f32x4.add(v128.load(rowPtr), x));
}

/** The error sums of the screened totals (see addScreenTotals). */
// @ts-ignore: decorator
@inline
function addScreenErrors(errors: usize, errNS: f64, errS: f64, scale: f64): void {
  const partial = <f64>PARTIAL_SUM_CUSTOMERS * ULP32 * scale;
  store<f64>(errors, load<f64>(errors) + errNS + partial);
  store<f64>(errors + 8, load<f64>(errors + 8) + errS + partial);
  store<f64>(errors + 16, load<f64>(errors + 16) + max(errNS, errS) + partial);
  store<f64>(errors + 24, load<f64>(errors + 24) + scale); // bounds Σ|Π|, for the f64 summation error
}

/** Adds the f32 partial sums (3 rows of nPrices4) into the f64 totals and clears them. */
function flushScreenTotals(totalsPtr: usize, accPtr: usize, nPrices4: i32): void {
  for (let j = 0; j < 3 * nPrices4; j += 4) {
    const off32 = <usize>j << 2;
    accumulate4(totalsPtr + (<usize>j << 3), v128.load(accPtr + off32));
    v128.store(accPtr + off32, f32x4.splat(0));
  }
}

/** row[0..4) += four f32 lanes, in f64. */
// @ts-ignore: decorator
@inline
function accumulate4(rowPtr: usize, x: v128): void {
  v128.store(rowPtr, f64x2.add(v128.load(rowPtr), f64x2.promote_low_f32x4(x)));
  v128.store(rowPtr + 16, f64x2.add(v128.load(rowPtr + 16), f64x2.promote_low_f32x4(v128.shuffle<f32>(x, x, 2, 3, 2, 3))));
}

/**
 * Exact per-price totals at a few (price, lead value) entries (candidates of the uniform-price
 * schemes, for one or several lead values): adds Σ_i Π_i(p, 0), Σ_i Π_i(p, 1),
 * Σ_i max_s Π_i(p, s) and the number of customers with Π_i(p, 1) ≥ Π_i(p, 0) (the UP scheme's
 * requirement split, as requirementSplit decides it) over the shard's customers into totals (4 rows
 * of nEntries). Entry e is at
 * price prices[entryPrice[e]] (prices: the nPrices distinct ones) and lead value leadValues[e].
 * S and Π(p, 0) do not depend on L, so each customer's are evaluated once per distinct price and
 * every entry at that price uses them. Each entry's total accumulates customer by customer with
 * the exhaustive kernel's arithmetic (S (Π(p, 0) + r L), r L formed as it forms it), so it equals
 * that kernel's total at that lead value bit for bit. Only the first nShare distinct prices get S;
 * entries at the others need only Π(p, 0) (S is NaN there), which costs one exponential instead
 * of two and a logarithm.
 */
export function priceTotalsAt(
  vPtr: usize, alphaPtr: usize, shareCostPtr: usize, referralsPtr: usize, marginalCostPtr: usize, n: i32,
  pricesPtr: usize, nPrices: i32, entryPricePtr: usize, leadValuesPtr: usize, nEntries: i32, sigma: f64, totalsPtr: usize,
  nShare: i32,
): void {
  if (n <= 0) return; // a group without entries
  assert(nPrices > 0 && nEntries > 0 && nShare >= 0 && nShare <= nPrices);
  const sigmaV = f64x2.splat(sigma);
  const totalsS = totalsPtr + (<usize>nEntries << 3);
  const totalsP = totalsS + (<usize>nEntries << 3);
  const countsS = totalsP + (<usize>nEntries << 3);
  for (let j = 0; j < nEntries; j++) {
    const d = load<i32>(entryPricePtr + (<usize>j << 2));
    assert(d >= 0 && d < nPrices);
  }
  // Price by price (an entry's total is still summed over customers in order), two customers per
  // vector (adjacent, so plain vector loads; past the last customer the second lane reads the
  // block's slack and is not added). A price without entries is skipped.
  for (let d = 0; d < nPrices; d++) {
    let first = -1, count = 0;
    for (let j = 0; j < nEntries; j++) {
      if (load<i32>(entryPricePtr + (<usize>j << 2)) == d) {
        if (first < 0) first = j;
        count++;
      }
    }
    if (count == 0) continue;
    const priceV = f64x2.splat(load<f64>(pricesPtr + (<usize>d << 3)));
    const withShare = d < nShare;
    // one entry (the usual case): its four totals stay in registers
    const single = count == 1;
    const leadV = f64x2.splat(load<f64>(leadValuesPtr + (<usize>first << 3)));
    let sumNS = load<f64>(totalsPtr + (<usize>first << 3));
    let sumS = load<f64>(totalsS + (<usize>first << 3));
    let sumP = load<f64>(totalsP + (<usize>first << 3));
    let countS = load<f64>(countsS + (<usize>first << 3));
    for (let i = 0; i < n; i += 2) {
      const second = i + 1 < n;
      const o = <usize>i << 3;
      const v = v128.load(vPtr + o), alpha = v128.load(alphaPtr + o), mc = v128.load(marginalCostPtr + o);
      let share: v128, profitNS: v128;
      if (withShare) {
        evaluatePairShare(priceV, v, alpha, v128.load(shareCostPtr + o), mc, sigmaV);
        share = pairShare;
        profitNS = pairProfitNS;
      } else {
        share = f64x2.splat(NaN);
        profitNS = profitNSPair(priceV, v, alpha, mc);
      }
      const r = v128.load(referralsPtr + o);
      if (single) {
        // as the exhaustive kernel: Π(p, 1) = S (Π(p, 0) + r L), the requirement's max by pmax
        const profitS = f64x2.mul(share, f64x2.add(profitNS, f64x2.mul(r, leadV)));
        const best = f64x2.pmax(profitNS, profitS);
        sumNS += f64x2.extract_lane(profitNS, 0);
        sumS += f64x2.extract_lane(profitS, 0);
        sumP += f64x2.extract_lane(best, 0);
        if (f64x2.extract_lane(profitS, 0) >= f64x2.extract_lane(profitNS, 0)) countS += 1;
        if (second) {
          sumNS += f64x2.extract_lane(profitNS, 1);
          sumS += f64x2.extract_lane(profitS, 1);
          sumP += f64x2.extract_lane(best, 1);
          if (f64x2.extract_lane(profitS, 1) >= f64x2.extract_lane(profitNS, 1)) countS += 1;
        }
        continue;
      }
      for (let j = first; j < nEntries; j++) {
        if (load<i32>(entryPricePtr + (<usize>j << 2)) != d) continue;
        const eOff = <usize>j << 3;
        const profitS = f64x2.mul(share, f64x2.add(profitNS, f64x2.mul(r, f64x2.splat(load<f64>(leadValuesPtr + eOff)))));
        const best = f64x2.pmax(profitNS, profitS);
        addLanes(totalsPtr + eOff, profitNS, second);
        addLanes(totalsS + eOff, profitS, second);
        addLanes(totalsP + eOff, best, second);
        const broadcast = f64x2.ge(profitS, profitNS); // all ones where Π(p, 1) ≥ Π(p, 0)
        addLanes(countsS + eOff, v128.and(broadcast, f64x2.splat(1)), second);
      }
    }
    if (single) {
      store<f64>(totalsPtr + (<usize>first << 3), sumNS);
      store<f64>(totalsS + (<usize>first << 3), sumS);
      store<f64>(totalsP + (<usize>first << 3), sumP);
      store<f64>(countsS + (<usize>first << 3), countS);
    }
  }
}

/** Adds lane 0, then (if `second`) lane 1 of x into the f64 at `at`: customer order. */
// @ts-ignore: decorator
@inline
function addLanes(at: usize, x: v128, second: bool): void {
  let sum = load<f64>(at) + f64x2.extract_lane(x, 0);
  if (second) sum += f64x2.extract_lane(x, 1);
  store<f64>(at, sum);
}

// Result of evaluatePairShare besides pairProfitNS (per instance, so per thread).
let pairShare: v128 = f64x2.splat(0);

/** evaluatePair's share and Π(p, 0) at two prices (the same arithmetic, so the same bits). */
// @ts-ignore: decorator
@inline
function evaluatePairShare(price: v128, v: v128, alpha: v128, shareCost: v128, mc: v128, sigma: v128): void {
  const u = f64x2.sub(v, f64x2.mul(alpha, price));
  const e = expVec(f64x2.neg(f64x2.abs(u)));
  const demand = logisticVec(u, e);
  const z = f64x2.mul(sigma, f64x2.sub(softplusVec(u, e), shareCost));
  pairShare = logisticVec(z, expVec(f64x2.neg(f64x2.abs(z))));
  pairProfitNS = f64x2.mul(demand, f64x2.sub(price, mc));
}

/**
 * The s = 1 optimum for several lead values at once (the γ sensitivity of the counterfactual):
 * for every customer i and lead value L_g, the first price maximizing Π(p, 1) = S (Π(p, 0) + r L_g),
 * bit for bit what priceGridSearch gives with leadValue L_g. S and Π(p, 0) do not depend on L, so
 * one single-precision pass over the grid serves every L_g: per L_g the screen is
 * S Π(p, 0) + S (r L_g), two operations per price, and the prices within the proven error bound of
 * the best are re-evaluated in double precision from S and Π(p, 0) computed once per price.
 * Along ascending lead values the screen stops below the prices that can no longer win (see the
 * lead loop): on the paper population it screens 40% of the grid per lead value on average.
 *
 * Outputs: bestIndex / bestProfit, lead-major: customer i's result for L_g at element
 * g * leadStride + i (leadStride ≥ n: the caller's whole population when this is one shard of it). scratchPtr: 44 nPrices4 bytes
 * private to this call. When totalsPtr != 0, adds per price Σ S Π(p, 0) and Σ S r (f32 values
 * summed in f64; rows of nPrices4), then Σ of their per-customer error bounds (2 numbers) and
 * Σ max|Π(p, 0)|, Σ |r| (for the summation error): screened totals of Π(p, 1) at any L are
 * row A + L row B, with error bound errA + L errB. When rowsPtr != 0 the f32 rows S and Π(p, 0)
 * come from priceGridSearchScreened's rowsOutPtr (computed with the same arithmetic) instead of
 * being computed again. When sumsPPPtr != 0, sums[g] += max(best Π(p, 1) at L_g, bestProfitNS[i])
 * over the customers in order (PP's total at each lead value; ties to broadcasting).
 */
export function priceGridSearchLeads(
  vPtr: usize, alphaPtr: usize, shareCostPtr: usize, referralsPtr: usize, marginalCostPtr: usize, n: i32,
  pricesPtr: usize, prices32Ptr: usize, nPrices4: i32, maxAbsPrice: f64, sigma: f64,
  leadValuesPtr: usize, nLeads: i32, bestIndexPtr: usize, bestProfitPtr: usize, leadStride: i32, scratchPtr: usize, totalsPtr: usize,
  rowsPtr: usize, bestProfitNSPtr: usize, sumsPPPtr: usize,
): void {
  assert(nPrices4 > 0 && (nPrices4 & 3) == 0 && nLeads >= 0 && leadStride >= n);
  const sigmaV = f64x2.splat(sigma), sigma32 = f32x4.splat(<f32>sigma), zero32 = f32x4.splat(0);
  const scratchShare = scratchPtr;
  const rowShareProfit = scratchShare + (<usize>nPrices4 << 2);
  const cacheShare = rowShareProfit + (<usize>nPrices4 << 2);
  const cacheProfitNS = cacheShare + (<usize>nPrices4 << 3);
  const cacheStamp = cacheProfitNS + (<usize>nPrices4 << 3);
  const rowValue = cacheStamp + (<usize>nPrices4 << 2);
  for (let j = 0; j < nPrices4; j++) store<i32>(cacheStamp + (<usize>j << 2), 0);
  const rowBytes = <usize>nPrices4 << 3;
  for (let i = 0; i < n; i++) {
    const off = <usize>i << 3;
    const vS = load<f64>(vPtr + off), alphaS = load<f64>(alphaPtr + off), shareCostS = load<f64>(shareCostPtr + off);
    const rS = load<f64>(referralsPtr + off), mcS = load<f64>(marginalCostPtr + off);
    const v = f32x4.splat(<f32>vS), alpha = f32x4.splat(<f32>alphaS), shareCost = f32x4.splat(<f32>shareCostS);
    const r32 = f32x4.splat(<f32>rS), mc = f32x4.splat(<f32>mcS);
    let maxAbsNS = zero32;
    let rowShare = scratchShare;
    if (rowsPtr != 0) {
      // S and Π(p, 0) as priceGridSearchScreened left them for this customer (the same arithmetic)
      rowShare = rowsPtr + <usize>i * (<usize>nPrices4 << 3);
      const rowProfitNS = rowShare + (<usize>nPrices4 << 2);
      for (let j = 0; j < nPrices4; j += 4) {
        const pOff = <usize>j << 2;
        const profitNS = v128.load(rowProfitNS + pOff);
        v128.store(rowShareProfit + pOff, f32x4.mul(v128.load(rowShare + pOff), profitNS));
        maxAbsNS = f32x4.pmax(maxAbsNS, f32x4.abs(profitNS));
      }
    } else {
      for (let j = 0; j < nPrices4; j += 4) {
        const pOff = <usize>j << 2;
        // the search's screen arithmetic (its Π(p, 1) at a zero lead is not used)
        const share = screenPrices(v128.load(prices32Ptr + pOff), v, alpha, shareCost, zero32, mc, sigma32);
        const profitNS = blockProfitNS;
        v128.store(rowShare + pOff, share);
        v128.store(rowShareProfit + pOff, f32x4.mul(share, profitNS));
        maxAbsNS = f32x4.pmax(maxAbsNS, f32x4.abs(profitNS));
      }
    }
    // screenErrors, with |S Π(p, 0)| ≤ max |Π(p, 0)| and the lead term S r L_g bounded relative to |r L_g|
    screenErrors(vS, alphaS, shareCostS, mcS, maxAbsPrice, sigma);

    const scaleNS = <f64>maxLane32(maxAbsNS) * 1.001 + 1e-30;
    // A32 = S32 Π32(p, 0) (|A32| ≤ |Π32(p, 0)|, S ≤ 1) and B32 = S32 r32 (r rounded to f32)
    const errNS = profitNSError(scaleNS);
    const errA = profitSError(scaleNS, errNS, scaleNS);
    const errB = (errRhoS * abs(rS) * (1.0 + 2.0 * ULP32) + ULP32 * abs(rS) + EXP32_FLOOR * abs(rS)) * F64_SLACK;
    const inRange = errUsable && errReach < 1e4 && abs(shareCostS) < 1e30 && abs(rS) < 1e30 && abs(mcS) < 1e30 && scaleNS < 1e30;
    if (totalsPtr != 0) {
      for (let j = 0; j < nPrices4; j += 4) {
        const off32 = <usize>j << 2, off64 = <usize>j << 3;
        accumulate4(totalsPtr + off64, v128.load(rowShareProfit + off32));
        accumulate4(totalsPtr + rowBytes + off64, f32x4.mul(v128.load(rowShare + off32), r32));
      }
      const sums = totalsPtr + 2 * rowBytes;
      store<f64>(sums, load<f64>(sums) + (inRange ? errA : Infinity));
      store<f64>(sums + 8, load<f64>(sums + 8) + (inRange ? errB : Infinity));
      store<f64>(sums + 16, load<f64>(sums + 16) + scaleNS);
      store<f64>(sums + 24, load<f64>(sums + 24) + abs(rS));
    }
    const stamp = i + 1;
    const vD = f64x2.splat(vS), alphaD = f64x2.splat(alphaS), shareCostD = f64x2.splat(shareCostS), mcD = f64x2.splat(mcS);
    // Blocks [0, limit) are screened. Where S falls with the price (α, σ ≥ 0) and r ≥ 0, the
    // profit gap Π(q, 1) − Π(p, 1) = (A(q) − A(p)) + L (B(q) − B(p)) of a price p above the best
    // price q (B = S r, so B(p) ≤ B(q)) can only grow with L: a block above the best price whose
    // every screened value is below the keep threshold by a further margin stays out of the running
    // for every larger lead value, and the screen of later (larger) lead values stops below it.
    const monotone = alphaS >= 0.0 && sigma >= 0.0 && rS >= 0.0;
    let limit = nPrices4;
    let previousLead: f64 = -Infinity;
    for (let g = 0; g < nLeads; g++) {
      const lead = load<f64>(leadValuesPtr + (<usize>g << 3));
      if (!(lead >= previousLead)) limit = nPrices4; // lead values not ascending here: start over
      previousLead = lead;
      const leadProfitS = rS * lead;
      const lead32 = f32x4.splat(<f32>leadProfitS);
      let best32 = f32x4.splat(-Infinity), maxAbs = zero32;
      for (let j = 0; j < limit; j += 4) {
        const pOff = <usize>j << 2;
        const value = f32x4.add(v128.load(rowShareProfit + pOff), f32x4.mul(v128.load(rowShare + pOff), lead32));
        v128.store(rowValue + pOff, value);
        best32 = f32x4.pmax(best32, value);
        maxAbs = f32x4.pmax(maxAbs, f32x4.abs(value));
      }
      const scaleS = <f64>maxLane32(maxAbs) * 1.001 + 1e-30;
      // value = A32 + S32 (rL)32: A's error, the lead term's as B's, and the sum's rounding u |value|
      const errS = (errA + (errRhoS * (1.0 + ULP32) + ULP32 + EXP32_FLOOR) * abs(leadProfitS) + ULP32 * scaleS) * F64_SLACK;
      const keepAll = !(inRange && scaleS < 1e30 && abs(leadProfitS) < 1e30);
      const keep = thresholdBelow(<f64>maxLane32(best32) - 2.0 * errS);
      let best: f64 = -Infinity;
      let bestIdx: i32 = 0;
      for (let j = 0; j < limit; j += 4) {
        const pOff = <usize>j << 2;
        let mask = keepAll ? 15 : i32x4.bitmask(f32x4.ge(v128.load(rowValue + pOff), keep));
        while (mask != 0) {
          const jj = j + ctz(mask);
          mask &= mask - 1;
          const cOff = <usize>jj << 3;
          if (load<i32>(cacheStamp + (<usize>jj << 2)) != stamp) {
            // the even/odd pair holding jj: both lanes of one evaluation (the neighbour is often kept too)
            const even = <usize>(jj & ~1) << 3;
            evaluatePairShare(v128.load(pricesPtr + even), vD, alphaD, shareCostD, mcD, sigmaV);
            v128.store(cacheShare + even, pairShare);
            v128.store(cacheProfitNS + even, pairProfitNS);
            store<i32>(cacheStamp + (<usize>(jj & ~1) << 2), stamp);
            store<i32>(cacheStamp + (<usize>(jj | 1) << 2), stamp);
          }
          // as evaluatePair: S (Π(p, 0) + r L)
          const value = load<f64>(cacheShare + cOff) * (load<f64>(cacheProfitNS + cOff) + leadProfitS);
          if (value > best) { best = value; bestIdx = jj; }
        }
      }
      const out = <usize>g * <usize>leadStride + <usize>i;
      store<i32>(bestIndexPtr + (out << 2), bestIdx);
      store<f64>(bestProfitPtr + (out << 3), best);
      if (sumsPPPtr != 0) {
        // PP at this lead value: the better of the two conditions (ties to broadcasting), summed in customer order
        const profitNS = load<f64>(bestProfitNSPtr + off);
        const at = sumsPPPtr + (<usize>g << 3);
        store<f64>(at, load<f64>(at) + (best >= profitNS ? best : profitNS));
      }
      if (monotone && !keepAll) {
        // The further margin covers the double-precision evaluation's error (far below it) and
        // the rounding of the threshold to single precision: a price dropped here is below the
        // best one by more than the f64 error at this lead value and, by the argument above, at
        // every larger one, so it is never the f64 argmax (nor tied with it).
        const excluded = f32x4.splat(<f32>(<f64>maxLane32(best32) - 2.0 * errS - 8.0 * ULP32 * (scaleNS + abs(leadProfitS) + scaleS)));
        while (limit - 4 > bestIdx && !v128.any_true(f32x4.ge(v128.load(rowValue + (<usize>(limit - 4) << 2)), excluded))) limit -= 4;
      }
    }
  }
}
