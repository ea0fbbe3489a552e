// Budgeted coupon allocation (SPEC §2): per-customer argmax of q(d)(1 − λd) and the λ breakpoints
// at which each customer's choice changes.
//
// Customer i's options are lines in λ: h_j(λ) = q_j − λ c_j with q_j = Λ(f + g(d_j − d0)) and
// c_j = q_j d_j. The policy is the upper envelope of these lines; walking it from λ = 1 upwards
// only ever moves to a line of smaller slope c, so each customer's expected discount s·c is
// weakly decreasing in λ (for any sign of g) and changes at most k − 1 times.
//
// A "vertex" is a λ where the envelope changes line: `left` is the option just below it, `right`
// the option just above it and `tie` the option AT it (ties go to the smaller discount, i.e. the
// smaller index among every line through the vertex). Lines through one point are merged into one
// vertex. The policy at λ is `left` of the first vertex ≥ λ, or its `tie` if the vertex is at λ.
// Every mode below walks the envelope with the same arithmetic, so histograms, collected vertices
// and the policy at a λ agree bit for bit.
import { expVec, logisticVec, vc, C_ONE } from "./math";

// @ts-ignore: decorator
@inline const ONE_BITS: i64 = 0x3FF0000000000000;

/** What `couponEnvelope` does with the vertices it walks. */
// @ts-ignore: decorator
@inline const ENVELOPE_HISTOGRAM: i32 = 0;
// @ts-ignore: decorator
@inline const ENVELOPE_COLLECT: i32 = 1;
// @ts-ignore: decorator
@inline const ENVELOPE_POLICY: i32 = 2;

/** Totals per block of customers (f64): expected discount, expected revenue, λ → ∞ expected discount, vertices seen, then k option counts. */
// @ts-ignore: decorator
@inline const T_DISCOUNT: usize = 0;
// @ts-ignore: decorator
@inline const T_REVENUE: usize = 8;
// @ts-ignore: decorator
@inline const T_LIMIT: usize = 16;
// @ts-ignore: decorator
@inline const T_VERTICES: usize = 24;
// @ts-ignore: decorator
@inline const T_COUNTS: usize = 32;

/** Bytes a collected vertex takes: λ, drop at λ, drop just above λ, customer index (all f64). */
// @ts-ignore: decorator
@inline const RECORD_BYTES: usize = 32;

/**
 * q_j and c_j = q_j d_j for a pair of customers (one per lane), stored in the scratch as
 * Q[j] at scratch + 16 j and C[j] at scratch + 16 (k + j); returns the index (as f64 lanes) of
 * the best option at λ = 1, ties to the smaller discount.
 */
// @ts-ignore: decorator
@inline
function responsePair(f: v128, g: v128, discountsPtr: usize, k: i32, nominal: f64, scratch: usize): v128 {
  const zero = f64x2.splat(0.0);
  let best = f64x2.splat(-Infinity);
  let bestIndex = zero;
  let index = zero;
  const cBase = scratch + (<usize>k << 4);
  for (let j = 0; j < k; j++) {
    const d = load<f64>(discountsPtr + (<usize>j << 3));
    const z = f64x2.add(f, f64x2.mul(g, f64x2.splat(d - nominal)));
    const q = logisticVec(z, expVec(f64x2.neg(f64x2.abs(z))));
    v128.store(scratch + (<usize>j << 4), q);
    v128.store(cBase + (<usize>j << 4), f64x2.mul(q, f64x2.splat(d)));
    // q (1 − λ d) at λ = 1, written exactly as the direct policy writes it.
    const h = f64x2.mul(q, f64x2.splat(1.0 - 1.0 * d));
    const better = f64x2.gt(h, best);
    best = v128.bitselect(h, best, better);
    bestIndex = v128.bitselect(index, bestIndex, better);
    index = f64x2.add(index, vc(C_ONE));
  }
  return bestIndex;
}

/**
 * Crossing λ of every pair of lines a < b ≤ upTo, (q_a − q_b) / (c_a − c_b), both lanes at once,
 * stored at scratch + 16 (2k + a k + b). Only pairs with c_a ≠ c_b are ever read.
 */
// @ts-ignore: decorator
@inline
function crossingsPair(k: i32, scratch: usize, upTo: i32): void {
  const cBase = scratch + (<usize>k << 4);
  const xBase = scratch + (<usize>(2 * k) << 4);
  for (let a = 0; a < upTo; a++) {
    const qa = v128.load(scratch + (<usize>a << 4));
    const ca = v128.load(cBase + (<usize>a << 4));
    for (let b = a + 1; b <= upTo; b++) {
      const qb = v128.load(scratch + (<usize>b << 4));
      const cb = v128.load(cBase + (<usize>b << 4));
      v128.store(xBase + (<usize>(a * k + b) << 4), f64x2.div(f64x2.sub(qa, qb), f64x2.sub(ca, cb)));
    }
  }
}

/**
 * Walks the envelope of customer `lane` of the pair in the scratch (see the file comment).
 *
 * mode ENVELOPE_HISTOGRAM: vertices with λ in [lambdaLo, lambdaHi) add their drop in expected
 *   discount s (c_left − c_right) to bin min((key − keyLo) >> shift, nBins − 1) of histWeight
 *   and 1 to histCount, where key = bits(λ) − bits(1) (monotone in λ ≥ 1).
 * mode ENVELOPE_COLLECT: those vertices are written as records (λ, s (c_left − c_tie),
 *   s (c_tie − c_right), customer) while fewer than `capacity` have been written.
 * mode ENVELOPE_POLICY: only the option at `lambda` (the walk stops past it).
 * A vertex at λ = 1 is part of the policy at 1: its drop at 1 is never emitted.
 * Returns the option at `lambda`. Histogram and collect passes also add the vertex count in range
 * and, when lambdaHi = ∞ (the walk then goes to the end), the λ → ∞ option's expected discount.
 * A histogram pass with slotLambda != 0 also records every vertex in the customer's slots (see
 * couponEnvelope).
 */
// @ts-ignore: decorator
@inline
function walkEnvelope(
  scratch: usize, lane: i32, k: i32, cur0: i32, monotone: bool, spend: f64, customer: f64,
  mode: i32, lambda: f64, lambdaHi: f64, keyLo: i64, keyHi: i64, shift: i64, nBins: i32,
  histWeightPtr: usize, histCountPtr: usize, recordsPtr: usize, capacity: i32, written: usize, totalsPtr: usize,
  slotLambda: usize, slotOption: usize,
): i32 {
  const laneOff = <usize>lane << 3;
  const qBase = scratch + laneOff;
  const cBase = scratch + (<usize>k << 4) + laneOff;
  const xBase = scratch + (<usize>(2 * k) << 4) + laneOff;
  const policy = mode == ENVELOPE_POLICY;
  // monotone: c increasing in the discount (always when g >= 0): the lines below the current one
  // are exactly those of smaller index, and the search for the next vertex needs no branches.
  let cur = cur0;
  let pos = 1.0;
  let open = false;
  let vLambda = 0.0;
  let vLeft = 0, vTie = 0, vRight = 0;
  let option = cur0; // the policy at `lambda`
  let vertices = 0.0;
  // Passes over a bracket with a finite upper end need no vertex beyond it (nor the λ → ∞ option).
  const stopAbove = !policy && lambdaHi < Infinity;
  const writeSlots = mode == ENVELOPE_HISTOGRAM && slotLambda != 0;
  let slotCount = 0;
  if (writeSlots) store<u8>(slotOption, <u8>cur0, 1);
  while (true) {
    if (policy && open && vLambda > lambda) break;
    const cc = load<f64>(cBase + (<usize>cur << 4));
    let best = Infinity;
    let next = -1;
    let tie = cur;
    if (monotone) {
      // same result as the general loop: candidates j < cur, ties keep the smaller j (which is
      // then both the tie and the next line)
      const xCol = xBase + (<usize>cur << 4);
      for (let j = 0; j < cur; j++) {
        const x = max(load<f64>(xCol + (<usize>(j * k) << 4)), pos);
        const better = x < best;
        best = select<f64>(x, best, better);
        next = select<i32>(j, next, better);
      }
      tie = next >= 0 ? next : cur;
    } else for (let j = 0; j < k; j++) {
      const cj = load<f64>(cBase + (<usize>j << 4));
      if (cj < cc) {
        const a = j < cur ? j : cur, b = j < cur ? cur : j;
        let x = load<f64>(xBase + (<usize>(a * k + b) << 4));
        if (!(x > pos)) x = pos; // a crossing can only lie behind us by rounding: it is here
        if (x < best) {
          best = x; next = j; tie = j < cur ? j : cur;
        } else if (x == best && next >= 0) {
          if (j < tie) tie = j;
          if (cj < load<f64>(cBase + (<usize>next << 4))) next = j;
        }
      }
    }
    const found = next >= 0 && best < Infinity;
    if (found && open && best == vLambda) {
      // another line through the same vertex
      if (tie < vTie) vTie = tie;
      vRight = next;
    } else {
      if (open) {
        // emit the finished vertex
        if (policy) {
          if (vLambda < lambda) option = vRight;
          else { if (vLambda == lambda) option = vTie; break; }
        } else {
          option = select<i32>(vRight, select<i32>(vTie, option, vLambda == lambda), vLambda < lambda);
          if (writeSlots) {
            store<f32>(slotLambda + (<usize>slotCount << 2), <f32>vLambda);
            store<u8>(slotOption + 2 + (<usize>slotCount << 1), <u8>vTie);
            store<u8>(slotOption + 3 + (<usize>slotCount << 1), <u8>vRight);
            slotCount++;
          }
          if (stopAbove && vLambda >= lambdaHi && vLambda > lambda) break;
          const key = reinterpret<i64>(vLambda) - ONE_BITS;
          if (key >= keyLo && key < keyHi) {
            vertices += 1.0;
            const cTie = load<f64>(cBase + (<usize>vTie << 4));
            const dropAt = vLambda == 1.0 ? 0.0 : spend * (load<f64>(cBase + (<usize>vLeft << 4)) - cTie);
            const dropAbove = spend * (cTie - load<f64>(cBase + (<usize>vRight << 4)));
            if (mode == ENVELOPE_HISTOGRAM) {
              let bin = (key - keyLo) >> shift;
              if (bin >= <i64>nBins) bin = <i64>(nBins - 1);
              const wPtr = histWeightPtr + (<usize>bin << 3);
              store<f64>(wPtr, load<f64>(wPtr) + dropAt + dropAbove);
              const cPtr = histCountPtr + (<usize>bin << 2);
              store<i32>(cPtr, load<i32>(cPtr) + 1);
            } else {
              const at = load<i32>(written);
              if (at < capacity) {
                const r = recordsPtr + <usize>at * RECORD_BYTES;
                store<f64>(r, vLambda);
                store<f64>(r, dropAt, 8);
                store<f64>(r, dropAbove, 16);
                store<f64>(r, customer, 24);
              }
              store<i32>(written, at + 1);
            }
          }
        }
      }
      if (!found) break;
      open = true;
      vLambda = best; vLeft = cur; vTie = tie; vRight = next;
    }
    cur = next;
    pos = best;
  }
  if (writeSlots) store<u8>(slotOption, <u8>slotCount);
  if (!policy) {
    store<f64>(totalsPtr + T_LIMIT, load<f64>(totalsPtr + T_LIMIT) + spend * load<f64>(cBase + (<usize>cur << 4)));
    store<f64>(totalsPtr + T_VERTICES, load<f64>(totalsPtr + T_VERTICES) + vertices);
  }
  return option;
}

// f32 rounding to nearest moves λ by at most 2^-24 relative: a vertex whose slot value, widened
// by 2^-22, lies wholly on one side of a λ lies on that side exactly.
// @ts-ignore: decorator
@inline const SLOT_WIDEN: f64 = 2.384185791015625e-7;

/**
 * The option at `lambda` from a customer's slots when no vertex can lie in [lambda, lambdaHi)
 * (collect passes have lambda = lambdaLo): every vertex is then below lambda or at or above
 * lambdaHi, and the option is the `right` of the last one below. Returns −1 when a vertex is too
 * close to call from its f32 value: the customer's envelope is then walked.
 */
// @ts-ignore: decorator
@inline
function optionFromSlots(slotLambda: usize, slotOption: usize, lambda: f64, lambdaHi: f64): i32 {
  const count = <i32>load<u8>(slotOption);
  let option = <i32>load<u8>(slotOption, 1);
  for (let v = 0; v < count; v++) {
    const l = <f64>load<f32>(slotLambda + (<usize>v << 2));
    if (l * (1.0 + SLOT_WIDEN) < lambda) {
      option = <i32>load<u8>(slotOption + 3 + (<usize>v << 1));
      continue;
    }
    // vertices ascend: once one is surely at or above lambdaHi, so are the rest
    if (l * (1.0 - SLOT_WIDEN) >= lambdaHi) break;
    return -1;
  }
  return option;
}

/** Adds customer `lane`'s option to the totals and writes its index. */
// @ts-ignore: decorator
@inline
function account(scratch: usize, lane: i32, k: i32, option: i32, spend: f64, discountsPtr: usize, indexPtr: usize, totalsPtr: usize): void {
  const laneOff = <usize>lane << 3;
  const q = load<f64>(scratch + (<usize>option << 4) + laneOff);
  const c = load<f64>(scratch + (<usize>k << 4) + (<usize>option << 4) + laneOff);
  const d = load<f64>(discountsPtr + (<usize>option << 3));
  store<f64>(totalsPtr + T_DISCOUNT, load<f64>(totalsPtr + T_DISCOUNT) + spend * c);
  store<f64>(totalsPtr + T_REVENUE, load<f64>(totalsPtr + T_REVENUE) + spend * (q * (1.0 - d)));
  const countPtr = totalsPtr + T_COUNTS + (<usize>option << 3);
  store<f64>(countPtr, load<f64>(countPtr) + 1.0);
  if (indexPtr != 0) store<i32>(indexPtr, option);
}

/**
 * The envelope walk over customers [0, n) of a shard (see walkEnvelope for the modes).
 *
 * Inputs: f, g, spend (spendPtr = 0: every spend is 1), k ascending discounts, nominal d0.
 * scratch: 16 (2k + k²) bytes owned by this call. The bracket [lambdaLo, lambdaHi) and shift,
 * nBins select the vertices histogrammed or collected; records go to recordsPtr (capacity
 * records), their count to the i32 at writtenPtr; `firstCustomer` is the shard's first index.
 * indexPtr (0: none) receives each customer's option at `lambda` (lambda >= 1, in every mode). Totals
 * (4 + k f64 per block of 2^blockShift customers, zeroed by the caller; the shard starts on a
 * block boundary) accumulate in customer order, so sums over blocks do not depend on sharding.
 *
 * Slots (slotLambdaPtr = 0: none): k − 1 f32 per customer at slotLambdaPtr and 2k bytes at
 * slotOptionPtr (vertex count, the option at λ = 1, then tie and right of each vertex). A
 * histogram pass writes them. A collect pass with a finite lambdaHi reads them: a customer with
 * no vertex near [lambda, lambdaHi) gets its option from the slots and only that option's q
 * computed (same arithmetic as a walk, so the same bits); the rest are walked. Its λ → ∞ total
 * is then not computed (meaningful only when lambdaHi = ∞ anyway).
 */
export function couponEnvelope(
  fPtr: usize, gPtr: usize, spendPtr: usize, n: i32, discountsPtr: usize, k: i32, nominal: f64, scratch: usize,
  mode: i32, lambda: f64, lambdaLo: f64, lambdaHi: f64, shift: i32, nBins: i32,
  histWeightPtr: usize, histCountPtr: usize, recordsPtr: usize, capacity: i32, writtenPtr: usize, firstCustomer: f64,
  indexPtr: usize, totalsPtr: usize, blockShift: i32, slotLambdaPtr: usize, slotOptionPtr: usize,
): void {
  assert(k >= 1 && n >= 0 && lambda >= 1.0 && shift >= 0 && shift < 63 && blockShift >= 1);
  const slotLambdaStride = <usize>(k - 1) << 2, slotOptionStride = <usize>(2 * k);
  const fromSlots = slotLambdaPtr != 0 && mode == ENVELOPE_COLLECT && lambdaHi < Infinity;
  const stride = <usize>(4 + k) << 3;
  const keyLo = reinterpret<i64>(lambdaLo) - ONE_BITS;
  const keyHi = reinterpret<i64>(lambdaHi) - ONE_BITS;
  const shiftBits = <i64>shift;
  for (let i = 0; i < n; i += 2) {
    const full = i + 1 < n;
    const off = <usize>i << 3;
    // the tail customer is duplicated into lane 1 and lane 1 ignored
    const f = full ? v128.load(fPtr + off) : f64x2.splat(load<f64>(fPtr + off));
    const g = full ? v128.load(gPtr + off) : f64x2.splat(load<f64>(gPtr + off));
    const blockTotals = totalsPtr + <usize>(i >> blockShift) * stride;
    if (fromSlots) {
      const o0 = optionFromSlots(slotLambdaPtr + <usize>i * slotLambdaStride, slotOptionPtr + <usize>i * slotOptionStride, lambda, lambdaHi);
      const o1 = full ? optionFromSlots(slotLambdaPtr + <usize>(i + 1) * slotLambdaStride, slotOptionPtr + <usize>(i + 1) * slotOptionStride, lambda, lambdaHi) : o0;
      if (o0 >= 0 && o1 >= 0) {
        // q and c of each lane's option only, as responsePair computes them
        const d0 = load<f64>(discountsPtr + (<usize>o0 << 3)), d1 = load<f64>(discountsPtr + (<usize>o1 << 3));
        const z = f64x2.add(f, f64x2.mul(g, f64x2.replace_lane(f64x2.splat(d0 - nominal), 1, d1 - nominal)));
        const q = logisticVec(z, expVec(f64x2.neg(f64x2.abs(z))));
        const c = f64x2.mul(q, f64x2.replace_lane(f64x2.splat(d0), 1, d1));
        const cBase = scratch + (<usize>k << 4);
        store<f64>(scratch + (<usize>o0 << 4), f64x2.extract_lane(q, 0));
        store<f64>(cBase + (<usize>o0 << 4), f64x2.extract_lane(c, 0));
        store<f64>(scratch + (<usize>o1 << 4) + 8, f64x2.extract_lane(q, 1));
        store<f64>(cBase + (<usize>o1 << 4) + 8, f64x2.extract_lane(c, 1));
        const lanes = full ? 2 : 1;
        for (let lane = 0; lane < lanes; lane++) {
          const customer = i + lane;
          const spend = spendPtr == 0 ? 1.0 : load<f64>(spendPtr + (<usize>customer << 3));
          account(scratch, lane, k, lane == 0 ? o0 : o1, spend, discountsPtr, indexPtr == 0 ? 0 : indexPtr + (<usize>customer << 2), blockTotals);
        }
        continue;
      }
    }
    const cur = responsePair(f, g, discountsPtr, k, nominal, scratch);
    // When c rises with the discount in both lanes (g >= 0), the walk only ever meets lines at or
    // below the best option at λ = 1: no other crossing is needed.
    let rising = i64x2.splat(-1);
    const cBase = scratch + (<usize>k << 4);
    for (let j = 1; j < k; j++) {
      rising = v128.and(rising, f64x2.gt(v128.load(cBase + (<usize>j << 4)), v128.load(cBase + (<usize>(j - 1) << 4))));
    }
    const cur0 = f64x2.extract_lane(cur, 0), cur1 = full ? f64x2.extract_lane(cur, 1) : 0.0;
    const upTo = i64x2.all_true(rising) ? <i32>max(cur0, cur1) : k - 1;
    crossingsPair(k, scratch, upTo);
    const lanes = full ? 2 : 1;
    for (let lane = 0; lane < lanes; lane++) {
      const customer = i + lane;
      const spend = spendPtr == 0 ? 1.0 : load<f64>(spendPtr + (<usize>customer << 3));
      const cur0 = <i32>(lane == 0 ? f64x2.extract_lane(cur, 0) : f64x2.extract_lane(cur, 1));
      const monotone = (lane == 0 ? i64x2.extract_lane(rising, 0) : i64x2.extract_lane(rising, 1)) != 0;
      const option = walkEnvelope(
        scratch, lane, k, cur0, monotone, spend, firstCustomer + <f64>customer,
        mode, lambda, lambdaHi, keyLo, keyHi, shiftBits, nBins,
        histWeightPtr, histCountPtr, recordsPtr, capacity, writtenPtr, blockTotals,
        slotLambdaPtr == 0 ? 0 : slotLambdaPtr + <usize>customer * slotLambdaStride,
        slotLambdaPtr == 0 ? 0 : slotOptionPtr + <usize>customer * slotOptionStride,
      );
      account(scratch, lane, k, option, spend, discountsPtr, indexPtr == 0 ? 0 : indexPtr + (<usize>customer << 2), blockTotals);
    }
  }
}

/**
 * The policy evaluated directly, as the paper's bisection does: every customer's argmax over
 * discounts of q (1 − λ d), ties to the smaller discount. With `limit` != 0, the λ → ∞ policy:
 * the smallest c = q d, ties to the larger q, then the smaller discount. Writes the option to
 * indexPtr (0: none) and expected discount, revenue and option counts to the totals of each
 * block of 2^blockShift customers (4 + k f64 each, zeroed by the caller), summed in customer order.
 */
export function couponPolicyDirect(
  fPtr: usize, gPtr: usize, spendPtr: usize, n: i32, discountsPtr: usize, k: i32, nominal: f64,
  lambda: f64, limit: i32, indexPtr: usize, totalsPtr: usize, blockShift: i32,
): void {
  assert(k >= 1 && n >= 0 && blockShift >= 1);
  const zero = f64x2.splat(0.0);
  const stride = <usize>(4 + k) << 3;
  const blockMask = (1 << blockShift) - 1;
  let discountSum = 0.0;
  let revenueSum = 0.0;
  for (let i = 0; i < n; i += 2) {
    const blockTotals = totalsPtr + <usize>(i >> blockShift) * stride;
    const full = i + 1 < n;
    const off = <usize>i << 3;
    const f = full ? v128.load(fPtr + off) : f64x2.splat(load<f64>(fPtr + off));
    const g = full ? v128.load(gPtr + off) : f64x2.splat(load<f64>(gPtr + off));
    let spend = vc(C_ONE);
    if (spendPtr != 0) spend = full ? v128.load(spendPtr + off) : f64x2.replace_lane(zero, 0, load<f64>(spendPtr + off));
    else if (!full) spend = f64x2.replace_lane(zero, 0, 1.0);
    let best = f64x2.splat(-Infinity);
    let bestQ = zero, bestC = f64x2.splat(Infinity), bestD = zero;
    let bestIndex = zero;
    let index = zero;
    for (let j = 0; j < k; j++) {
      const d = load<f64>(discountsPtr + (<usize>j << 3));
      const dv = f64x2.splat(d);
      const z = f64x2.add(f, f64x2.mul(g, f64x2.splat(d - nominal)));
      const q = logisticVec(z, expVec(f64x2.neg(f64x2.abs(z))));
      const c = f64x2.mul(q, dv);
      let better: v128;
      if (limit != 0) {
        better = v128.or(f64x2.lt(c, bestC), v128.and(f64x2.eq(c, bestC), f64x2.gt(q, bestQ)));
      } else {
        const h = f64x2.mul(q, f64x2.splat(1.0 - lambda * d));
        better = f64x2.gt(h, best);
        best = v128.bitselect(h, best, better);
      }
      bestQ = v128.bitselect(q, bestQ, better);
      bestC = v128.bitselect(c, bestC, better);
      bestD = v128.bitselect(dv, bestD, better);
      bestIndex = v128.bitselect(index, bestIndex, better);
      index = f64x2.add(index, vc(C_ONE));
    }
    // scalar sums in customer order, exactly as the envelope kernel adds them
    const i0 = <i32>f64x2.extract_lane(bestIndex, 0);
    discountSum += f64x2.extract_lane(spend, 0) * f64x2.extract_lane(bestC, 0);
    revenueSum += f64x2.extract_lane(spend, 0) * (f64x2.extract_lane(bestQ, 0) * (1.0 - f64x2.extract_lane(bestD, 0)));
    countOption(blockTotals, i0);
    if (indexPtr != 0) store<i32>(indexPtr + (<usize>i << 2), i0);
    if (full) {
      const i1 = <i32>f64x2.extract_lane(bestIndex, 1);
      discountSum += f64x2.extract_lane(spend, 1) * f64x2.extract_lane(bestC, 1);
      revenueSum += f64x2.extract_lane(spend, 1) * (f64x2.extract_lane(bestQ, 1) * (1.0 - f64x2.extract_lane(bestD, 1)));
      countOption(blockTotals, i1);
      if (indexPtr != 0) store<i32>(indexPtr + (<usize>(i + 1) << 2), i1);
    }
    if (i + 2 >= n || ((i + 2) & blockMask) == 0) {
      // end of a block (or of the shard)
      store<f64>(blockTotals + T_DISCOUNT, discountSum);
      store<f64>(blockTotals + T_REVENUE, revenueSum);
      discountSum = 0.0;
      revenueSum = 0.0;
    }
  }
}

// @ts-ignore: decorator
@inline
function countOption(totalsPtr: usize, option: i32): void {
  const p = totalsPtr + T_COUNTS + (<usize>option << 3);
  store<f64>(p, load<f64>(p) + 1.0);
}
