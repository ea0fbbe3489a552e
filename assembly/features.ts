// Rolling-window customer features for the coupon response model (paper Appendix A).
//
// One call advances every customer of a shard by one day: the day that just ended enters each
// window and the day that falls out of it leaves, so a window sum costs O(1) per day whatever
// its length. Then the features for the coming day are written from the updated sums.
//
// Two customers per f64x2 step; the host pads the customer count to an even stride and cuts
// shards at even indices, so there is no scalar tail. Layout:
// - daily blocks (f32, pair-major: for each pair of customers, every field's two values in turn,
//   so one day's record of a pair is one contiguous read): SHORT_FIELDS fields of one day's log;
//   the host passes one block per age (days before the day that just ended) and a block of
//   zeros when that day does not exist. The coupon is stored as level + 1 (0 = no coupon) so
//   that a zero block counts as "no day".
// - long blocks (f32, pair-major): LONG_FIELDS fields, for the 360-day windows.
// - state (f64, pair-major): STATE_SIZE running sums per customer, updated in place; keeping a
//   pair's sums together makes the update one contiguous stream instead of 59.
// - static (f64): STATIC_FIELDS columns of `stride` pre-period customer attributes.
// - out (f64): FEATURE_COUNT columns of `stride` values.

// Short daily fields.
// @ts-ignore: decorator
@inline const F_COUPON: i32 = 0; // level + 1
// @ts-ignore: decorator
@inline const F_OPENED: i32 = 1;
// @ts-ignore: decorator
@inline const F_CLICKED: i32 = 2;
// @ts-ignore: decorator
@inline const F_SITE: i32 = 3;
// @ts-ignore: decorator
@inline const F_PRODUCT: i32 = 4;
// @ts-ignore: decorator
@inline const F_CART: i32 = 5;
// @ts-ignore: decorator
@inline const F_CHECKOUT: i32 = 6;
// @ts-ignore: decorator
@inline const F_PURCHASED: i32 = 7;
// @ts-ignore: decorator
@inline const F_SPEND: i32 = 8;
// @ts-ignore: decorator
@inline const F_CART_ITEMS: i32 = 9;
// @ts-ignore: decorator
@inline const F_CART_VALUE: i32 = 10;
// @ts-ignore: decorator
@inline const SHORT_FIELDS: i32 = 11;
// Long daily fields.
// @ts-ignore: decorator
@inline const L_PURCHASED: i32 = 0;
// @ts-ignore: decorator
@inline const L_SPEND: i32 = 1;
// @ts-ignore: decorator
@inline const L_PURCHASE_COUPON: i32 = 2; // level + 1 of the coupon on a purchase day, else 0
// @ts-ignore: decorator
@inline const LONG_FIELDS: i32 = 3;
// Age table entries (pointers to daily blocks).
// @ts-ignore: decorator
@inline const A0: i32 = 0; // the day that just ended (t - 1)
// @ts-ignore: decorator
@inline const A1: i32 = 1; // t - 2
// @ts-ignore: decorator
@inline const A3: i32 = 2; // t - 1 - 3, leaving the 3-day windows
// @ts-ignore: decorator
@inline const A7: i32 = 3;
// @ts-ignore: decorator
@inline const A28: i32 = 4;
// @ts-ignore: decorator
@inline const A30: i32 = 5;
// @ts-ignore: decorator
@inline const A360: i32 = 6; // a long block
export const AGE_ENTRIES: i32 = 7;
/** Most discount levels the kernel counts per window. */
export const MAX_LEVELS: i32 = 8;

// State columns.
// @ts-ignore: decorator
@inline const S_AMOUNT30: i32 = 0;
// @ts-ignore: decorator
@inline const S_AMOUNT360: i32 = 1;
// @ts-ignore: decorator
@inline const S_TX3: i32 = 2;
// @ts-ignore: decorator
@inline const S_TX7: i32 = 3;
// @ts-ignore: decorator
@inline const S_TX30: i32 = 4;
// @ts-ignore: decorator
@inline const S_TX360: i32 = 5;
// @ts-ignore: decorator
@inline const S_COUPON_SUM30: i32 = 6;
// @ts-ignore: decorator
@inline const S_COUPON_DAYS30: i32 = 7;
// @ts-ignore: decorator
@inline const S_LEVELS3: i32 = 8; // MAX_LEVELS columns each
// @ts-ignore: decorator
@inline const S_LEVELS7: i32 = 16;
// @ts-ignore: decorator
@inline const S_LEVELS28: i32 = 24;
// @ts-ignore: decorator
@inline const S_OPENS3: i32 = 32;
// @ts-ignore: decorator
@inline const S_OPENS7: i32 = 33;
// @ts-ignore: decorator
@inline const S_OPENS28: i32 = 34;
// @ts-ignore: decorator
@inline const S_OPENS30: i32 = 35;
// @ts-ignore: decorator
@inline const S_OPENED_COUPON7: i32 = 36;
// @ts-ignore: decorator
@inline const S_OPENED_COUPON30: i32 = 37;
// @ts-ignore: decorator
@inline const S_CLICKS3: i32 = 38;
// @ts-ignore: decorator
@inline const S_CLICKS7: i32 = 39;
// @ts-ignore: decorator
@inline const S_CLICKS28: i32 = 40;
// @ts-ignore: decorator
@inline const S_CLICKS30: i32 = 41;
// @ts-ignore: decorator
@inline const S_CLICKED_COUPON7: i32 = 42;
// @ts-ignore: decorator
@inline const S_CLICKED_COUPON30: i32 = 43;
// @ts-ignore: decorator
@inline const S_PURCHASE_COUPON30: i32 = 44;
// @ts-ignore: decorator
@inline const S_PURCHASE_COUPON360: i32 = 45;
// @ts-ignore: decorator
@inline const S_SITE3: i32 = 46;
// @ts-ignore: decorator
@inline const S_SITE7: i32 = 47;
// @ts-ignore: decorator
@inline const S_SITE30: i32 = 48;
// @ts-ignore: decorator
@inline const S_CART3: i32 = 49;
// @ts-ignore: decorator
@inline const S_CART7: i32 = 50;
// @ts-ignore: decorator
@inline const S_CART30: i32 = 51;
// @ts-ignore: decorator
@inline const S_CART_DAYS3: i32 = 52;
// @ts-ignore: decorator
@inline const S_CART_DAYS7: i32 = 53;
// @ts-ignore: decorator
@inline const S_CART_DAYS30: i32 = 54;
// @ts-ignore: decorator
@inline const S_PRODUCT7: i32 = 55;
// @ts-ignore: decorator
@inline const S_CHECKOUT7: i32 = 56;
// @ts-ignore: decorator
@inline const S_ALL_PURCHASES: i32 = 57;
// @ts-ignore: decorator
@inline const S_ALL_PURCHASE_COUPON: i32 = 58;
// @ts-ignore: decorator
@inline const STATE_SIZE: i32 = 59;

// Static columns.
// @ts-ignore: decorator
@inline const P_TENURE: i32 = 0;
// @ts-ignore: decorator
@inline const P_AVERAGE_SPEND: i32 = 1;
// @ts-ignore: decorator
@inline const P_ORDERS: i32 = 2;
// @ts-ignore: decorator
@inline const P_COUPON_ORDERS: i32 = 3;
// @ts-ignore: decorator
@inline const P_COUPON_DISCOUNT_SUM: i32 = 4;
export const STATIC_FIELDS: i32 = 5;

export const FEATURE_COUNT: i32 = 56;

// Per-call context, set once per call (wasm globals are per instance, i.e. per thread).
let gStride: usize = 0;
let gState: usize = 0;

/** Two customers' value of a field in a pair-major f32 block of `fields` fields. */
// @ts-ignore: decorator
@inline
function field32(block: usize, fields: i32, field: i32, i: i32): v128 {
  return f64x2.promote_low_f32x4(v128.load64_zero(block + ((<usize>(i >> 1) * <usize>fields + <usize>field) << 3)));
}

// @ts-ignore: decorator
@inline
function col32(block: usize, field: i32, i: i32): v128 {
  return field32(block, SHORT_FIELDS, field, i);
}

// @ts-ignore: decorator
@inline
function long32(block: usize, field: i32, i: i32): v128 {
  return field32(block, LONG_FIELDS, field, i);
}

/** Address of running sum s of the pair holding customer i. */
// @ts-ignore: decorator
@inline
function stateAt(s: i32, i: i32): usize {
  return gState + ((<usize>(i >> 1) * <usize>STATE_SIZE + <usize>s) << 4);
}

// @ts-ignore: decorator
@inline
function col64(block: usize, field: i32, i: i32): v128 {
  return v128.load(block + ((<usize>field * gStride + <usize>i) << 3));
}

// @ts-ignore: decorator
@inline
function put(block: usize, field: i32, i: i32, value: v128): void {
  v128.store(block + ((<usize>field * gStride + <usize>i) << 3), value);
}

/** state[s] += enter − leave; returns the new sum. */
// @ts-ignore: decorator
@inline
function slide(s: i32, i: i32, enter: v128, leave: v128): v128 {
  const ptr = stateAt(s, i);
  const next = f64x2.sub(f64x2.add(v128.load(ptr), enter), leave);
  v128.store(ptr, next);
  return next;
}

/** 1.0 where x > 0, else 0.0. */
// @ts-ignore: decorator
@inline
function positive(x: v128): v128 {
  return v128.and(f64x2.gt(x, f64x2.splat(0)), f64x2.splat(1.0));
}

/** The coupon value of a level + 1 code (0 for code 0), from the discounts table. */
// @ts-ignore: decorator
@inline
function couponValue(code: v128, discountsPtr: usize, levels: i32): v128 {
  let value = f64x2.splat(0);
  for (let k = 1; k <= levels; k++) {
    const v = f64x2.splat(load<f64>(discountsPtr + (<usize>(k - 1) << 3)));
    value = v128.bitselect(v, value, f64x2.eq(code, f64x2.splat(<f64>k)));
  }
  return value;
}

/** Slides the per-level counts of window `base` and returns its largest coupon. */
// @ts-ignore: decorator
@inline
function slideLevels(base: i32, i: i32, enter: v128, leave: v128, discountsPtr: usize, levels: i32): v128 {
  let largest = f64x2.splat(0);
  const one = f64x2.splat(1.0);
  for (let k = 1; k <= levels; k++) {
    const kv = f64x2.splat(<f64>k);
    const count = slide(base + k - 1, i, v128.and(f64x2.eq(enter, kv), one), v128.and(f64x2.eq(leave, kv), one));
    const v = f64x2.splat(load<f64>(discountsPtr + (<usize>(k - 1) << 3)));
    largest = v128.bitselect(v, largest, f64x2.gt(count, f64x2.splat(0)));
  }
  return largest;
}

// Results of windowMoments (per instance, i.e. per thread).
let gMean: v128 = f64x2.splat(0);
let gVariance: v128 = f64x2.splat(0);
let gMedian: v128 = f64x2.splat(0);
let gDays: v128 = f64x2.splat(0);

/** Mean, population variance, lower median and day count of the coupons in window `base`. */
// @ts-ignore: decorator
@inline
function windowMoments(base: i32, i: i32, discountsPtr: usize, levels: i32): void {
  let days = f64x2.splat(0), sum = f64x2.splat(0), squares = f64x2.splat(0);
  for (let k = 0; k < levels; k++) {
    const c = v128.load(stateAt(base + k, i));
    const v = f64x2.splat(load<f64>(discountsPtr + (<usize>k << 3)));
    days = f64x2.add(days, c);
    sum = f64x2.add(sum, f64x2.mul(c, v));
    squares = f64x2.add(squares, f64x2.mul(c, f64x2.mul(v, v)));
  }
  const safe = f64x2.pmax(days, f64x2.splat(1.0));
  const mean = f64x2.div(sum, safe);
  gMean = mean;
  gVariance = f64x2.pmax(f64x2.sub(f64x2.div(squares, safe), f64x2.mul(mean, mean)), f64x2.splat(0));
  gDays = days;
  // Lower median: the first level whose cumulative count exceeds floor((days − 1) / 2).
  const position = f64x2.floor(f64x2.mul(f64x2.sub(days, f64x2.splat(1.0)), f64x2.splat(0.5)));
  let cumulative = f64x2.splat(0), median = f64x2.splat(0), found = f64x2.splat(0);
  for (let k = 0; k < levels; k++) {
    cumulative = f64x2.add(cumulative, v128.load(stateAt(base + k, i)));
    const hit = v128.andnot(f64x2.gt(cumulative, position), found);
    median = v128.bitselect(f64x2.splat(load<f64>(discountsPtr + (<usize>k << 3))), median, hit);
    found = v128.or(found, hit);
  }
  gMedian = v128.and(median, f64x2.gt(days, f64x2.splat(0)));
}

/**
 * Advances customers [start, end) (both even) by one day and writes the features of the coming
 * day. agesPtr: AGE_ENTRIES u32 pointers (see A0..A360). daysSeen: days logged so far, including
 * the one that just ended. dayOfWeek: of the coming day.
 */
export function couponFeatureDay(
  start: i32, end: i32, stride: i32, agesPtr: usize, statePtr: usize, staticPtr: usize,
  discountsPtr: usize, levels: i32, daysSeen: i32, dayOfWeek: i32, outPtr: usize,
): void {
  assert((start & 1) == 0 && (end & 1) == 0 && end <= stride && levels >= 1 && levels <= MAX_LEVELS);
  gStride = <usize>stride;
  gState = statePtr;
  const a0 = <usize>load<u32>(agesPtr), a1 = <usize>load<u32>(agesPtr + 4), a3 = <usize>load<u32>(agesPtr + 8);
  const a7 = <usize>load<u32>(agesPtr + 12), a28 = <usize>load<u32>(agesPtr + 16), a30 = <usize>load<u32>(agesPtr + 20);
  const a360 = <usize>load<u32>(agesPtr + 24);
  const zero = f64x2.splat(0);
  const one = f64x2.splat(1.0);
  const dow = f64x2.splat(<f64>dayOfWeek);
  const elapsed = f64x2.splat(<f64>daysSeen);
  for (let i = start; i < end; i += 2) {
    // ---- the day that just ended enters, the days that fall out leave ----
    const purchased = col32(a0, F_PURCHASED, i);
    const spend = col32(a0, F_SPEND, i);
    const code = col32(a0, F_COUPON, i);
    const coupon = couponValue(code, discountsPtr, levels);
    const purchaseCoupon = f64x2.mul(coupon, purchased);
    const amount30 = slide(S_AMOUNT30, i, spend, col32(a30, F_SPEND, i));
    const amount360 = slide(S_AMOUNT360, i, spend, long32(a360, L_SPEND, i));
    const tx3 = slide(S_TX3, i, purchased, col32(a3, F_PURCHASED, i));
    const tx7 = slide(S_TX7, i, purchased, col32(a7, F_PURCHASED, i));
    const tx30 = slide(S_TX30, i, purchased, col32(a30, F_PURCHASED, i));
    const tx360 = slide(S_TX360, i, purchased, long32(a360, L_PURCHASED, i));
    const code30 = col32(a30, F_COUPON, i);
    const couponSum30 = slide(S_COUPON_SUM30, i, coupon, couponValue(code30, discountsPtr, levels));
    const couponDays30 = slide(S_COUPON_DAYS30, i, positive(code), positive(code30));
    const largest3 = slideLevels(S_LEVELS3, i, code, col32(a3, F_COUPON, i), discountsPtr, levels);
    const largest7 = slideLevels(S_LEVELS7, i, code, col32(a7, F_COUPON, i), discountsPtr, levels);
    const largest28 = slideLevels(S_LEVELS28, i, code, col32(a28, F_COUPON, i), discountsPtr, levels);

    const opened = col32(a0, F_OPENED, i);
    const opened7 = col32(a7, F_OPENED, i), opened30 = col32(a30, F_OPENED, i);
    const opens3 = slide(S_OPENS3, i, opened, col32(a3, F_OPENED, i));
    const opens7 = slide(S_OPENS7, i, opened, opened7);
    const opens28 = slide(S_OPENS28, i, opened, col32(a28, F_OPENED, i));
    const opens30 = slide(S_OPENS30, i, opened, opened30);
    const openedCoupon = f64x2.mul(coupon, opened);
    const openedCoupon7 = slide(S_OPENED_COUPON7, i, openedCoupon, f64x2.mul(couponValue(col32(a7, F_COUPON, i), discountsPtr, levels), opened7));
    const openedCoupon30 = slide(S_OPENED_COUPON30, i, openedCoupon, f64x2.mul(couponValue(code30, discountsPtr, levels), opened30));

    const clicked = col32(a0, F_CLICKED, i);
    const clicked7 = col32(a7, F_CLICKED, i), clicked30 = col32(a30, F_CLICKED, i);
    const clicks3 = slide(S_CLICKS3, i, clicked, col32(a3, F_CLICKED, i));
    const clicks7 = slide(S_CLICKS7, i, clicked, clicked7);
    const clicks28 = slide(S_CLICKS28, i, clicked, col32(a28, F_CLICKED, i));
    const clicks30 = slide(S_CLICKS30, i, clicked, clicked30);
    const clickedCoupon = f64x2.mul(coupon, clicked);
    const clickedCoupon7 = slide(S_CLICKED_COUPON7, i, clickedCoupon, f64x2.mul(couponValue(col32(a7, F_COUPON, i), discountsPtr, levels), clicked7));
    const clickedCoupon30 = slide(S_CLICKED_COUPON30, i, clickedCoupon, f64x2.mul(couponValue(code30, discountsPtr, levels), clicked30));

    const purchaseCoupon30 = slide(S_PURCHASE_COUPON30, i, purchaseCoupon,
      f64x2.mul(couponValue(code30, discountsPtr, levels), col32(a30, F_PURCHASED, i)));
    const purchaseCoupon360 = slide(S_PURCHASE_COUPON360, i, purchaseCoupon, couponValue(long32(a360, L_PURCHASE_COUPON, i), discountsPtr, levels));

    const site = col32(a0, F_SITE, i);
    const site3 = slide(S_SITE3, i, site, col32(a3, F_SITE, i));
    const site7 = slide(S_SITE7, i, site, col32(a7, F_SITE, i));
    const site30 = slide(S_SITE30, i, site, col32(a30, F_SITE, i));
    const cart = col32(a0, F_CART, i);
    const cartOut3 = col32(a3, F_CART, i), cartOut7 = col32(a7, F_CART, i), cartOut30 = col32(a30, F_CART, i);
    const cart3 = slide(S_CART3, i, cart, cartOut3);
    const cart7 = slide(S_CART7, i, cart, cartOut7);
    const cart30 = slide(S_CART30, i, cart, cartOut30);
    const cartDay = positive(cart);
    const cartDays3 = slide(S_CART_DAYS3, i, cartDay, positive(cartOut3));
    const cartDays7 = slide(S_CART_DAYS7, i, cartDay, positive(cartOut7));
    const cartDays30 = slide(S_CART_DAYS30, i, cartDay, positive(cartOut30));
    const product7 = slide(S_PRODUCT7, i, col32(a0, F_PRODUCT, i), col32(a7, F_PRODUCT, i));
    const checkout7 = slide(S_CHECKOUT7, i, col32(a0, F_CHECKOUT, i), col32(a7, F_CHECKOUT, i));
    const allPurchases = slide(S_ALL_PURCHASES, i, purchased, zero);
    const allPurchaseCoupon = slide(S_ALL_PURCHASE_COUPON, i, purchaseCoupon, zero);

    // ---- features of the coming day ----
    let f = 0;
    // Purchasing
    put(outPtr, f++, i, amount30);
    put(outPtr, f++, i, amount360);
    put(outPtr, f++, i, tx3);
    put(outPtr, f++, i, tx7);
    put(outPtr, f++, i, tx30);
    put(outPtr, f++, i, tx360);
    put(outPtr, f++, i, col32(a0, F_CART_ITEMS, i));
    put(outPtr, f++, i, col32(a0, F_CART_VALUE, i));
    // Coupon
    put(outPtr, f++, i, coupon);
    put(outPtr, f++, i, couponValue(col32(a1, F_COUPON, i), discountsPtr, levels));
    put(outPtr, f++, i, largest3);
    put(outPtr, f++, i, largest7);
    put(outPtr, f++, i, largest28);
    windowMoments(S_LEVELS3, i, discountsPtr, levels);
    put(outPtr, f++, i, gMean);
    windowMoments(S_LEVELS7, i, discountsPtr, levels);
    put(outPtr, f++, i, gMean);
    const variance7 = gVariance;
    windowMoments(S_LEVELS28, i, discountsPtr, levels);
    put(outPtr, f++, i, gMean);
    const variance28 = gVariance, median28 = gMedian, emails28 = gDays;
    put(outPtr, f++, i, f64x2.div(couponSum30, f64x2.pmax(couponDays30, one)));
    put(outPtr, f++, i, median28);
    put(outPtr, f++, i, variance7);
    put(outPtr, f++, i, variance28);
    put(outPtr, f++, i, f64x2.div(clickedCoupon7, f64x2.pmax(clicks7, one)));
    put(outPtr, f++, i, f64x2.div(clickedCoupon30, f64x2.pmax(clicks30, one)));
    put(outPtr, f++, i, f64x2.div(openedCoupon7, f64x2.pmax(opens7, one)));
    put(outPtr, f++, i, f64x2.div(openedCoupon30, f64x2.pmax(opens30, one)));
    put(outPtr, f++, i, f64x2.div(purchaseCoupon30, f64x2.pmax(tx30, one)));
    put(outPtr, f++, i, f64x2.div(purchaseCoupon360, f64x2.pmax(tx360, one)));
    const historicalOrders = col64(staticPtr, P_ORDERS, i);
    const historicalCouponOrders = col64(staticPtr, P_COUPON_ORDERS, i);
    const couponOrders = f64x2.add(historicalCouponOrders, allPurchases);
    put(outPtr, f++, i, f64x2.div(f64x2.add(col64(staticPtr, P_COUPON_DISCOUNT_SUM, i), allPurchaseCoupon), f64x2.pmax(couponOrders, one)));
    put(outPtr, f++, i, f64x2.div(couponOrders, f64x2.pmax(f64x2.add(historicalOrders, allPurchases), one)));
    // Email
    put(outPtr, f++, i, opened);
    put(outPtr, f++, i, col32(a1, F_OPENED, i));
    put(outPtr, f++, i, opens3);
    put(outPtr, f++, i, opens7);
    put(outPtr, f++, i, opens28);
    put(outPtr, f++, i, v128.and(v128.and(f64x2.eq(opens28, emails28), f64x2.gt(emails28, zero)), one));
    put(outPtr, f++, i, clicked);
    put(outPtr, f++, i, col32(a1, F_CLICKED, i));
    put(outPtr, f++, i, clicks3);
    put(outPtr, f++, i, clicks7);
    put(outPtr, f++, i, clicks28);
    // Website
    put(outPtr, f++, i, site);
    put(outPtr, f++, i, site3);
    put(outPtr, f++, i, site7);
    put(outPtr, f++, i, site30);
    put(outPtr, f++, i, cart);
    put(outPtr, f++, i, cart3);
    put(outPtr, f++, i, cart7);
    put(outPtr, f++, i, cart30);
    put(outPtr, f++, i, cartDay);
    put(outPtr, f++, i, cartDays3);
    put(outPtr, f++, i, cartDays7);
    put(outPtr, f++, i, cartDays30);
    put(outPtr, f++, i, product7);
    put(outPtr, f++, i, checkout7);
    // Time and customer
    put(outPtr, f++, i, dow);
    put(outPtr, f++, i, f64x2.add(col64(staticPtr, P_TENURE, i), elapsed));
    put(outPtr, f++, i, col64(staticPtr, P_AVERAGE_SPEND, i));
  }
}

/**
 * Sets bytes [ptr, ptr + bytes) to zero with memory.fill: on shared memory this is a plain
 * memset, far faster than a typed-array fill from JavaScript.
 */
export function zeroBytes(ptr: usize, bytes: usize): void {
  memory.fill(ptr, 0, bytes);
}
