// Reference-effect promotion cycles (SPEC §3, paper §4).
//
// maxRatioCycleHoward: Howard's policy iteration for the maximum cycle ratio Σw/Στ of a graph in
// which every node has `degree` out-edges. With τ ∈ {1, L} it solves the paper's reduced k-state
// semi-MDP (eq. 8); with τ ≡ 1 it is the maximum-mean-cycle problem of the full k^L-state MDP.
// couponCyclesK5: per customer, the exact best L-up-1-down cycle over 5 discounts by evaluating
// eq. 7 for all 89 generator cycles (generated code, see src/cycles/codegen.ts).
import { expVec, vc, C_ONE } from "./math";

/**
 * Howard's multichain policy iteration (Cochet-Terrasson et al. 1998, ratio form) for
 * max over cycles of Σw/Στ. Edge e = v·degree + a goes from v to succ[e] with weight w[e] and
 * duration tau[e] > 0. On return policy[v] is the chosen edge index a, eta[v] the ratio of the
 * cycle v's policy path reaches and bias[v] the relative value, so that (at convergence, within
 * eps) w[e] − eta·tau[e] + bias[succ[e]] ≤ bias[v] for every edge e out of v with eta[succ] = eta[v].
 * color and stack are n-entry i32 scratch. Returns the number of iterations, or −1 when maxIter
 * iterations did not converge. policy must hold a valid starting policy.
 */
export function maxRatioCycleHoward(
  n: i32, degree: i32, succPtr: usize, wPtr: usize, tauPtr: usize, eps: f64, maxIter: i32,
  policyPtr: usize, etaPtr: usize, biasPtr: usize, colorPtr: usize, stackPtr: usize,
): i32 {
  for (let iter = 1; iter <= maxIter; iter++) {
    // Value determination: every policy path ends in a cycle; nodes take that cycle's ratio.
    for (let v = 0; v < n; v++) store<i32>(colorPtr + (<usize>v << 2), -1);
    for (let v0 = 0; v0 < n; v0++) {
      if (load<i32>(colorPtr + (<usize>v0 << 2)) >= 0) continue;
      let top = 0;
      let v = v0;
      while (load<i32>(colorPtr + (<usize>v << 2)) < 0) {
        store<i32>(colorPtr + (<usize>v << 2), v0);
        store<i32>(stackPtr + (<usize>top << 2), v);
        top++;
        v = load<i32>(succPtr + ((<usize>v * degree + load<i32>(policyPtr + (<usize>v << 2))) << 2));
      }
      let root = -1;
      let ratio: f64 = 0;
      if (load<i32>(colorPtr + (<usize>v << 2)) == v0) {
        // A new cycle through v: its ratio, with v as the bias origin.
        let num: f64 = 0, den: f64 = 0;
        let u = v;
        do {
          const e = <usize>u * degree + load<i32>(policyPtr + (<usize>u << 2));
          num += load<f64>(wPtr + (e << 3));
          den += load<f64>(tauPtr + (e << 3));
          u = load<i32>(succPtr + (e << 2));
        } while (u != v);
        ratio = num / den;
        root = v;
        store<f64>(etaPtr + (<usize>v << 3), ratio);
        store<f64>(biasPtr + (<usize>v << 3), 0);
      } else {
        ratio = load<f64>(etaPtr + (<usize>v << 3));
      }
      for (let s = top - 1; s >= 0; s--) {
        const x = load<i32>(stackPtr + (<usize>s << 2));
        if (x == root) continue;
        const e = <usize>x * degree + load<i32>(policyPtr + (<usize>x << 2));
        const next = load<i32>(succPtr + (e << 2));
        store<f64>(etaPtr + (<usize>x << 3), ratio);
        store<f64>(biasPtr + (<usize>x << 3),
          load<f64>(wPtr + (e << 3)) - ratio * load<f64>(tauPtr + (e << 3)) + load<f64>(biasPtr + (<usize>next << 3)));
      }
    }
    // Improvement, first in the ratio reached, then (among equal ratios) in the bias.
    let changed = false;
    for (let v = 0; v < n; v++) {
      const own = load<f64>(etaPtr + (<usize>v << 3));
      let best = own + eps;
      let bestA = -1;
      for (let a = 0; a < degree; a++) {
        const u = load<i32>(succPtr + ((<usize>v * degree + a) << 2));
        const r = load<f64>(etaPtr + (<usize>u << 3));
        if (r > best) { best = r; bestA = a; }
      }
      if (bestA >= 0) { store<i32>(policyPtr + (<usize>v << 2), bestA); changed = true; }
    }
    if (changed) continue;
    for (let v = 0; v < n; v++) {
      const own = load<f64>(etaPtr + (<usize>v << 3));
      let best = load<f64>(biasPtr + (<usize>v << 3)) + eps;
      let bestA = -1;
      for (let a = 0; a < degree; a++) {
        const e = <usize>v * degree + a;
        const u = load<i32>(succPtr + (e << 2));
        if (abs<f64>(load<f64>(etaPtr + (<usize>u << 3)) - own) > eps) continue;
        const value = load<f64>(wPtr + (e << 3)) - own * load<f64>(tauPtr + (e << 3)) + load<f64>(biasPtr + (<usize>u << 3));
        if (value > best) { best = value; bestA = a; }
      }
      if (bestA >= 0) { store<i32>(policyPtr + (<usize>v << 2), bestA); changed = true; }
    }
    if (!changed) return iter;
  }
  return -1;
}

// Cycle ids 0..88 as f64 pairs, loaded rather than built with v128.const (cheaper inside V8 loops).
const CYCLE_IDS: usize = memory.data<f64>([
  0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15,
  16, 16, 17, 17, 18, 18, 19, 19, 20, 20, 21, 21, 22, 22, 23, 23, 24, 24, 25, 25, 26, 26, 27, 27, 28, 28, 29, 29,
  30, 30, 31, 31, 32, 32, 33, 33, 34, 34, 35, 35, 36, 36, 37, 37, 38, 38, 39, 39, 40, 40, 41, 41, 42, 42, 43, 43,
  44, 44, 45, 45, 46, 46, 47, 47, 48, 48, 49, 49, 50, 50, 51, 51, 52, 52, 53, 53, 54, 54, 55, 55, 56, 56, 57, 57,
  58, 58, 59, 59, 60, 60, 61, 61, 62, 62, 63, 63, 64, 64, 65, 65, 66, 66, 67, 67, 68, 68, 69, 69, 70, 70, 71, 71,
  72, 72, 73, 73, 74, 74, 75, 75, 76, 76, 77, 77, 78, 78, 79, 79, 80, 80, 81, 81, 82, 82, 83, 83, 84, 84, 85, 85,
  86, 86, 87, 87, 88, 88,
], 16);

/**
 * For customers [0, n): the coupon response gains G[d][r] = spend·(1 − d)·Λ(f + g(d − d0) − h(r − d0))
 * over the five discounts (ascending, at discountsPtr) with reference r = the highest discount of the
 * last L days, then the best of the 89 generator cycles by eq. 7 (exact enumeration; ties keep the
 * earlier cycle in the order of src/cycles/enumerate.ts). Writes the long-run average gain and the
 * cycle id. exp(−f − g(d−d0))·exp(h(r−d0)) = exp(−u) keeps it to ten exponentials per customer; the
 * caller keeps every partial exponent within ±700 so that no factor saturates.
 */
export function couponCyclesK5(
  fPtr: usize, gPtr: usize, hPtr: usize, spendPtr: usize, n: i32,
  discountsPtr: usize, nominal: f64, memoryLength: f64,
  gainOutPtr: usize, cycleOutPtr: usize,
): void {
  const one = vc(C_ONE);
  const Lv = f64x2.splat(memoryLength);
  const a0 = f64x2.splat(load<f64>(discountsPtr) - nominal);
  const a1 = f64x2.splat(load<f64>(discountsPtr, 8) - nominal);
  const a2 = f64x2.splat(load<f64>(discountsPtr, 16) - nominal);
  const a3 = f64x2.splat(load<f64>(discountsPtr, 24) - nominal);
  const a4 = f64x2.splat(load<f64>(discountsPtr, 32) - nominal);
  const k0 = f64x2.splat(1.0 - load<f64>(discountsPtr));
  const k1 = f64x2.splat(1.0 - load<f64>(discountsPtr, 8));
  const k2 = f64x2.splat(1.0 - load<f64>(discountsPtr, 16));
  const k3 = f64x2.splat(1.0 - load<f64>(discountsPtr, 24));
  const k4 = f64x2.splat(1.0 - load<f64>(discountsPtr, 32));
  // Periods u·L + (m − u) of the (m, u) groups (src/cycles/enumerate.ts, cycleGroups).
  const period0 = f64x2.splat(1.0);
  const period1 = f64x2.splat(memoryLength + 1.0);
  const period2 = f64x2.splat(memoryLength + 2.0);
  const period3 = f64x2.splat(2.0 * memoryLength + 1.0);
  const period4 = f64x2.splat(memoryLength + 3.0);
  const period5 = f64x2.splat(2.0 * memoryLength + 2.0);
  const period6 = f64x2.splat(3.0 * memoryLength + 1.0);
  const period7 = f64x2.splat(memoryLength + 4.0);
  const period8 = f64x2.splat(2.0 * memoryLength + 3.0);
  const period9 = f64x2.splat(3.0 * memoryLength + 2.0);
  const period10 = f64x2.splat(4.0 * memoryLength + 1.0);
  for (let i = 0; i < n; i += 2) {
    const pair = i + 1 < n;
    const o = <usize>i << 3;
    // The last odd customer is computed in both lanes and stored from lane 0.
    const f = pair ? v128.load(fPtr + o) : f64x2.splat(load<f64>(fPtr + o));
    const g = pair ? v128.load(gPtr + o) : f64x2.splat(load<f64>(gPtr + o));
    const h = pair ? v128.load(hPtr + o) : f64x2.splat(load<f64>(hPtr + o));
    const spend = pair ? v128.load(spendPtr + o) : f64x2.splat(load<f64>(spendPtr + o));
    const E0 = expVec(f64x2.neg(f64x2.add(f, f64x2.mul(g, a0))));
    const E1 = expVec(f64x2.neg(f64x2.add(f, f64x2.mul(g, a1))));
    const E2 = expVec(f64x2.neg(f64x2.add(f, f64x2.mul(g, a2))));
    const E3 = expVec(f64x2.neg(f64x2.add(f, f64x2.mul(g, a3))));
    const E4 = expVec(f64x2.neg(f64x2.add(f, f64x2.mul(g, a4))));
    const R0 = expVec(f64x2.mul(h, a0));
    const R1 = expVec(f64x2.mul(h, a1));
    const R2 = expVec(f64x2.mul(h, a2));
    const R3 = expVec(f64x2.mul(h, a3));
    const R4 = expVec(f64x2.mul(h, a4));
    const c0 = f64x2.mul(spend, k0);
    const c1 = f64x2.mul(spend, k1);
    const c2 = f64x2.mul(spend, k2);
    const c3 = f64x2.mul(spend, k3);
    const c4 = f64x2.mul(spend, k4);
    // BEGIN GENERATED (src/cycles/codegen.ts)
    const G00 = f64x2.div(c0, f64x2.add(one, f64x2.mul(E0, R0)));
    const G01 = f64x2.div(c0, f64x2.add(one, f64x2.mul(E0, R1)));
    const G02 = f64x2.div(c0, f64x2.add(one, f64x2.mul(E0, R2)));
    const G03 = f64x2.div(c0, f64x2.add(one, f64x2.mul(E0, R3)));
    const G04 = f64x2.div(c0, f64x2.add(one, f64x2.mul(E0, R4)));
    const G10 = f64x2.div(c1, f64x2.add(one, f64x2.mul(E1, R0)));
    const G11 = f64x2.div(c1, f64x2.add(one, f64x2.mul(E1, R1)));
    const G12 = f64x2.div(c1, f64x2.add(one, f64x2.mul(E1, R2)));
    const G13 = f64x2.div(c1, f64x2.add(one, f64x2.mul(E1, R3)));
    const G14 = f64x2.div(c1, f64x2.add(one, f64x2.mul(E1, R4)));
    const G20 = f64x2.div(c2, f64x2.add(one, f64x2.mul(E2, R0)));
    const G21 = f64x2.div(c2, f64x2.add(one, f64x2.mul(E2, R1)));
    const G22 = f64x2.div(c2, f64x2.add(one, f64x2.mul(E2, R2)));
    const G23 = f64x2.div(c2, f64x2.add(one, f64x2.mul(E2, R3)));
    const G24 = f64x2.div(c2, f64x2.add(one, f64x2.mul(E2, R4)));
    const G30 = f64x2.div(c3, f64x2.add(one, f64x2.mul(E3, R0)));
    const G31 = f64x2.div(c3, f64x2.add(one, f64x2.mul(E3, R1)));
    const G32 = f64x2.div(c3, f64x2.add(one, f64x2.mul(E3, R2)));
    const G33 = f64x2.div(c3, f64x2.add(one, f64x2.mul(E3, R3)));
    const G34 = f64x2.div(c3, f64x2.add(one, f64x2.mul(E3, R4)));
    const G40 = f64x2.div(c4, f64x2.add(one, f64x2.mul(E4, R0)));
    const G41 = f64x2.div(c4, f64x2.add(one, f64x2.mul(E4, R1)));
    const G42 = f64x2.div(c4, f64x2.add(one, f64x2.mul(E4, R2)));
    const G43 = f64x2.div(c4, f64x2.add(one, f64x2.mul(E4, R3)));
    const G44 = f64x2.div(c4, f64x2.add(one, f64x2.mul(E4, R4)));
    const w00 = G44;
    const w01 = f64x2.mul(Lv, G34);
    const w02 = f64x2.mul(Lv, G24);
    const w03 = f64x2.mul(Lv, G14);
    const w04 = f64x2.mul(Lv, G04);
    const w10 = G43;
    const w11 = G33;
    const w12 = f64x2.mul(Lv, G23);
    const w13 = f64x2.mul(Lv, G13);
    const w14 = f64x2.mul(Lv, G03);
    const w20 = G42;
    const w21 = G32;
    const w22 = G22;
    const w23 = f64x2.mul(Lv, G12);
    const w24 = f64x2.mul(Lv, G02);
    const w30 = G41;
    const w31 = G31;
    const w32 = G21;
    const w33 = G11;
    const w34 = f64x2.mul(Lv, G01);
    const w40 = G40;
    const w41 = G30;
    const w42 = G20;
    const w43 = G10;
    const w44 = G00;
    let best0 = w00;
    let id0 = v128.load(CYCLE_IDS + 0);
    const s01 = w01;
    let best1 = f64x2.add(s01, w10);
    let id1 = v128.load(CYCLE_IDS + 16);
    const s012 = f64x2.add(s01, w12);
    let best3 = f64x2.add(s012, w20);
    let id3 = v128.load(CYCLE_IDS + 32);
    const s0123 = f64x2.add(s012, w23);
    let best6 = f64x2.add(s0123, w30);
    let id6 = v128.load(CYCLE_IDS + 48);
    const s01234 = f64x2.add(s0123, w34);
    let best10 = f64x2.add(s01234, w40);
    let id10 = v128.load(CYCLE_IDS + 64);
    const s0124 = f64x2.add(s012, w24);
    const t5 = f64x2.add(s0124, w40);
    const m5 = f64x2.gt(t5, best6);
    best6 = f64x2.pmax(best6, t5);
    id6 = v128.bitselect(v128.load(CYCLE_IDS + 80), id6, m5);
    const s01243 = f64x2.add(s0124, w43);
    let best9 = f64x2.add(s01243, w30);
    let id9 = v128.load(CYCLE_IDS + 96);
    const s013 = f64x2.add(s01, w13);
    const t7 = f64x2.add(s013, w30);
    const m7 = f64x2.gt(t7, best3);
    best3 = f64x2.pmax(best3, t7);
    id3 = v128.bitselect(v128.load(CYCLE_IDS + 112), id3, m7);
    const s0132 = f64x2.add(s013, w32);
    let best5 = f64x2.add(s0132, w20);
    let id5 = v128.load(CYCLE_IDS + 128);
    const s01324 = f64x2.add(s0132, w24);
    const t9 = f64x2.add(s01324, w40);
    const m9 = f64x2.gt(t9, best9);
    best9 = f64x2.pmax(best9, t9);
    id9 = v128.bitselect(v128.load(CYCLE_IDS + 144), id9, m9);
    const s0134 = f64x2.add(s013, w34);
    const t10 = f64x2.add(s0134, w40);
    const m10 = f64x2.gt(t10, best6);
    best6 = f64x2.pmax(best6, t10);
    id6 = v128.bitselect(v128.load(CYCLE_IDS + 160), id6, m10);
    const s01342 = f64x2.add(s0134, w42);
    const t11 = f64x2.add(s01342, w20);
    const m11 = f64x2.gt(t11, best9);
    best9 = f64x2.pmax(best9, t11);
    id9 = v128.bitselect(v128.load(CYCLE_IDS + 176), id9, m11);
    const s014 = f64x2.add(s01, w14);
    const t12 = f64x2.add(s014, w40);
    const m12 = f64x2.gt(t12, best3);
    best3 = f64x2.pmax(best3, t12);
    id3 = v128.bitselect(v128.load(CYCLE_IDS + 192), id3, m12);
    const s0142 = f64x2.add(s014, w42);
    const t13 = f64x2.add(s0142, w20);
    const m13 = f64x2.gt(t13, best5);
    best5 = f64x2.pmax(best5, t13);
    id5 = v128.bitselect(v128.load(CYCLE_IDS + 208), id5, m13);
    const s01423 = f64x2.add(s0142, w23);
    const t14 = f64x2.add(s01423, w30);
    const m14 = f64x2.gt(t14, best9);
    best9 = f64x2.pmax(best9, t14);
    id9 = v128.bitselect(v128.load(CYCLE_IDS + 224), id9, m14);
    const s0143 = f64x2.add(s014, w43);
    const t15 = f64x2.add(s0143, w30);
    const m15 = f64x2.gt(t15, best5);
    best5 = f64x2.pmax(best5, t15);
    id5 = v128.bitselect(v128.load(CYCLE_IDS + 240), id5, m15);
    const s01432 = f64x2.add(s0143, w32);
    let best8 = f64x2.add(s01432, w20);
    let id8 = v128.load(CYCLE_IDS + 256);
    const s02 = w02;
    const t17 = f64x2.add(s02, w20);
    const m17 = f64x2.gt(t17, best1);
    best1 = f64x2.pmax(best1, t17);
    id1 = v128.bitselect(v128.load(CYCLE_IDS + 272), id1, m17);
    const s021 = f64x2.add(s02, w21);
    let best2 = f64x2.add(s021, w10);
    let id2 = v128.load(CYCLE_IDS + 288);
    const s0213 = f64x2.add(s021, w13);
    const t19 = f64x2.add(s0213, w30);
    const m19 = f64x2.gt(t19, best5);
    best5 = f64x2.pmax(best5, t19);
    id5 = v128.bitselect(v128.load(CYCLE_IDS + 304), id5, m19);
    const s02134 = f64x2.add(s0213, w34);
    const t20 = f64x2.add(s02134, w40);
    const m20 = f64x2.gt(t20, best9);
    best9 = f64x2.pmax(best9, t20);
    id9 = v128.bitselect(v128.load(CYCLE_IDS + 320), id9, m20);
    const s0214 = f64x2.add(s021, w14);
    const t21 = f64x2.add(s0214, w40);
    const m21 = f64x2.gt(t21, best5);
    best5 = f64x2.pmax(best5, t21);
    id5 = v128.bitselect(v128.load(CYCLE_IDS + 336), id5, m21);
    const s02143 = f64x2.add(s0214, w43);
    const t22 = f64x2.add(s02143, w30);
    const m22 = f64x2.gt(t22, best8);
    best8 = f64x2.pmax(best8, t22);
    id8 = v128.bitselect(v128.load(CYCLE_IDS + 352), id8, m22);
    const s023 = f64x2.add(s02, w23);
    const t23 = f64x2.add(s023, w30);
    const m23 = f64x2.gt(t23, best3);
    best3 = f64x2.pmax(best3, t23);
    id3 = v128.bitselect(v128.load(CYCLE_IDS + 368), id3, m23);
    const s0231 = f64x2.add(s023, w31);
    const t24 = f64x2.add(s0231, w10);
    const m24 = f64x2.gt(t24, best5);
    best5 = f64x2.pmax(best5, t24);
    id5 = v128.bitselect(v128.load(CYCLE_IDS + 384), id5, m24);
    const s02314 = f64x2.add(s0231, w14);
    const t25 = f64x2.add(s02314, w40);
    const m25 = f64x2.gt(t25, best9);
    best9 = f64x2.pmax(best9, t25);
    id9 = v128.bitselect(v128.load(CYCLE_IDS + 400), id9, m25);
    const s0234 = f64x2.add(s023, w34);
    const t26 = f64x2.add(s0234, w40);
    const m26 = f64x2.gt(t26, best6);
    best6 = f64x2.pmax(best6, t26);
    id6 = v128.bitselect(v128.load(CYCLE_IDS + 416), id6, m26);
    const s02341 = f64x2.add(s0234, w41);
    const t27 = f64x2.add(s02341, w10);
    const m27 = f64x2.gt(t27, best9);
    best9 = f64x2.pmax(best9, t27);
    id9 = v128.bitselect(v128.load(CYCLE_IDS + 432), id9, m27);
    const s024 = f64x2.add(s02, w24);
    const t28 = f64x2.add(s024, w40);
    const m28 = f64x2.gt(t28, best3);
    best3 = f64x2.pmax(best3, t28);
    id3 = v128.bitselect(v128.load(CYCLE_IDS + 448), id3, m28);
    const s0241 = f64x2.add(s024, w41);
    const t29 = f64x2.add(s0241, w10);
    const m29 = f64x2.gt(t29, best5);
    best5 = f64x2.pmax(best5, t29);
    id5 = v128.bitselect(v128.load(CYCLE_IDS + 464), id5, m29);
    const s02413 = f64x2.add(s0241, w13);
    const t30 = f64x2.add(s02413, w30);
    const m30 = f64x2.gt(t30, best9);
    best9 = f64x2.pmax(best9, t30);
    id9 = v128.bitselect(v128.load(CYCLE_IDS + 480), id9, m30);
    const s0243 = f64x2.add(s024, w43);
    const t31 = f64x2.add(s0243, w30);
    const m31 = f64x2.gt(t31, best5);
    best5 = f64x2.pmax(best5, t31);
    id5 = v128.bitselect(v128.load(CYCLE_IDS + 496), id5, m31);
    const s02431 = f64x2.add(s0243, w31);
    const t32 = f64x2.add(s02431, w10);
    const m32 = f64x2.gt(t32, best8);
    best8 = f64x2.pmax(best8, t32);
    id8 = v128.bitselect(v128.load(CYCLE_IDS + 512), id8, m32);
    const s03 = w03;
    const t33 = f64x2.add(s03, w30);
    const m33 = f64x2.gt(t33, best1);
    best1 = f64x2.pmax(best1, t33);
    id1 = v128.bitselect(v128.load(CYCLE_IDS + 528), id1, m33);
    const s031 = f64x2.add(s03, w31);
    const t34 = f64x2.add(s031, w10);
    const m34 = f64x2.gt(t34, best2);
    best2 = f64x2.pmax(best2, t34);
    id2 = v128.bitselect(v128.load(CYCLE_IDS + 544), id2, m34);
    const s0312 = f64x2.add(s031, w12);
    const t35 = f64x2.add(s0312, w20);
    const m35 = f64x2.gt(t35, best5);
    best5 = f64x2.pmax(best5, t35);
    id5 = v128.bitselect(v128.load(CYCLE_IDS + 560), id5, m35);
    const s03124 = f64x2.add(s0312, w24);
    const t36 = f64x2.add(s03124, w40);
    const m36 = f64x2.gt(t36, best9);
    best9 = f64x2.pmax(best9, t36);
    id9 = v128.bitselect(v128.load(CYCLE_IDS + 576), id9, m36);
    const s0314 = f64x2.add(s031, w14);
    const t37 = f64x2.add(s0314, w40);
    const m37 = f64x2.gt(t37, best5);
    best5 = f64x2.pmax(best5, t37);
    id5 = v128.bitselect(v128.load(CYCLE_IDS + 592), id5, m37);
    const s03142 = f64x2.add(s0314, w42);
    const t38 = f64x2.add(s03142, w20);
    const m38 = f64x2.gt(t38, best8);
    best8 = f64x2.pmax(best8, t38);
    id8 = v128.bitselect(v128.load(CYCLE_IDS + 608), id8, m38);
    const s032 = f64x2.add(s03, w32);
    const t39 = f64x2.add(s032, w20);
    const m39 = f64x2.gt(t39, best2);
    best2 = f64x2.pmax(best2, t39);
    id2 = v128.bitselect(v128.load(CYCLE_IDS + 624), id2, m39);
    const s0321 = f64x2.add(s032, w21);
    let best4 = f64x2.add(s0321, w10);
    let id4 = v128.load(CYCLE_IDS + 640);
    const s03214 = f64x2.add(s0321, w14);
    const t41 = f64x2.add(s03214, w40);
    const m41 = f64x2.gt(t41, best8);
    best8 = f64x2.pmax(best8, t41);
    id8 = v128.bitselect(v128.load(CYCLE_IDS + 656), id8, m41);
    const s0324 = f64x2.add(s032, w24);
    const t42 = f64x2.add(s0324, w40);
    const m42 = f64x2.gt(t42, best5);
    best5 = f64x2.pmax(best5, t42);
    id5 = v128.bitselect(v128.load(CYCLE_IDS + 672), id5, m42);
    const s03241 = f64x2.add(s0324, w41);
    const t43 = f64x2.add(s03241, w10);
    const m43 = f64x2.gt(t43, best8);
    best8 = f64x2.pmax(best8, t43);
    id8 = v128.bitselect(v128.load(CYCLE_IDS + 688), id8, m43);
    const s034 = f64x2.add(s03, w34);
    const t44 = f64x2.add(s034, w40);
    const m44 = f64x2.gt(t44, best3);
    best3 = f64x2.pmax(best3, t44);
    id3 = v128.bitselect(v128.load(CYCLE_IDS + 704), id3, m44);
    const s0341 = f64x2.add(s034, w41);
    const t45 = f64x2.add(s0341, w10);
    const m45 = f64x2.gt(t45, best5);
    best5 = f64x2.pmax(best5, t45);
    id5 = v128.bitselect(v128.load(CYCLE_IDS + 720), id5, m45);
    const s03412 = f64x2.add(s0341, w12);
    const t46 = f64x2.add(s03412, w20);
    const m46 = f64x2.gt(t46, best9);
    best9 = f64x2.pmax(best9, t46);
    id9 = v128.bitselect(v128.load(CYCLE_IDS + 736), id9, m46);
    const s0342 = f64x2.add(s034, w42);
    const t47 = f64x2.add(s0342, w20);
    const m47 = f64x2.gt(t47, best5);
    best5 = f64x2.pmax(best5, t47);
    id5 = v128.bitselect(v128.load(CYCLE_IDS + 752), id5, m47);
    const s03421 = f64x2.add(s0342, w21);
    const t48 = f64x2.add(s03421, w10);
    const m48 = f64x2.gt(t48, best8);
    best8 = f64x2.pmax(best8, t48);
    id8 = v128.bitselect(v128.load(CYCLE_IDS + 768), id8, m48);
    const s04 = w04;
    const t49 = f64x2.add(s04, w40);
    const m49 = f64x2.gt(t49, best1);
    best1 = f64x2.pmax(best1, t49);
    id1 = v128.bitselect(v128.load(CYCLE_IDS + 784), id1, m49);
    const s041 = f64x2.add(s04, w41);
    const t50 = f64x2.add(s041, w10);
    const m50 = f64x2.gt(t50, best2);
    best2 = f64x2.pmax(best2, t50);
    id2 = v128.bitselect(v128.load(CYCLE_IDS + 800), id2, m50);
    const s0412 = f64x2.add(s041, w12);
    const t51 = f64x2.add(s0412, w20);
    const m51 = f64x2.gt(t51, best5);
    best5 = f64x2.pmax(best5, t51);
    id5 = v128.bitselect(v128.load(CYCLE_IDS + 816), id5, m51);
    const s04123 = f64x2.add(s0412, w23);
    const t52 = f64x2.add(s04123, w30);
    const m52 = f64x2.gt(t52, best9);
    best9 = f64x2.pmax(best9, t52);
    id9 = v128.bitselect(v128.load(CYCLE_IDS + 832), id9, m52);
    const s0413 = f64x2.add(s041, w13);
    const t53 = f64x2.add(s0413, w30);
    const m53 = f64x2.gt(t53, best5);
    best5 = f64x2.pmax(best5, t53);
    id5 = v128.bitselect(v128.load(CYCLE_IDS + 848), id5, m53);
    const s04132 = f64x2.add(s0413, w32);
    const t54 = f64x2.add(s04132, w20);
    const m54 = f64x2.gt(t54, best8);
    best8 = f64x2.pmax(best8, t54);
    id8 = v128.bitselect(v128.load(CYCLE_IDS + 864), id8, m54);
    const s042 = f64x2.add(s04, w42);
    const t55 = f64x2.add(s042, w20);
    const m55 = f64x2.gt(t55, best2);
    best2 = f64x2.pmax(best2, t55);
    id2 = v128.bitselect(v128.load(CYCLE_IDS + 880), id2, m55);
    const s0421 = f64x2.add(s042, w21);
    const t56 = f64x2.add(s0421, w10);
    const m56 = f64x2.gt(t56, best4);
    best4 = f64x2.pmax(best4, t56);
    id4 = v128.bitselect(v128.load(CYCLE_IDS + 896), id4, m56);
    const s04213 = f64x2.add(s0421, w13);
    const t57 = f64x2.add(s04213, w30);
    const m57 = f64x2.gt(t57, best8);
    best8 = f64x2.pmax(best8, t57);
    id8 = v128.bitselect(v128.load(CYCLE_IDS + 912), id8, m57);
    const s0423 = f64x2.add(s042, w23);
    const t58 = f64x2.add(s0423, w30);
    const m58 = f64x2.gt(t58, best5);
    best5 = f64x2.pmax(best5, t58);
    id5 = v128.bitselect(v128.load(CYCLE_IDS + 928), id5, m58);
    const s04231 = f64x2.add(s0423, w31);
    const t59 = f64x2.add(s04231, w10);
    const m59 = f64x2.gt(t59, best8);
    best8 = f64x2.pmax(best8, t59);
    id8 = v128.bitselect(v128.load(CYCLE_IDS + 944), id8, m59);
    const s043 = f64x2.add(s04, w43);
    const t60 = f64x2.add(s043, w30);
    const m60 = f64x2.gt(t60, best2);
    best2 = f64x2.pmax(best2, t60);
    id2 = v128.bitselect(v128.load(CYCLE_IDS + 960), id2, m60);
    const s0431 = f64x2.add(s043, w31);
    const t61 = f64x2.add(s0431, w10);
    const m61 = f64x2.gt(t61, best4);
    best4 = f64x2.pmax(best4, t61);
    id4 = v128.bitselect(v128.load(CYCLE_IDS + 976), id4, m61);
    const s04312 = f64x2.add(s0431, w12);
    const t62 = f64x2.add(s04312, w20);
    const m62 = f64x2.gt(t62, best8);
    best8 = f64x2.pmax(best8, t62);
    id8 = v128.bitselect(v128.load(CYCLE_IDS + 992), id8, m62);
    const s0432 = f64x2.add(s043, w32);
    const t63 = f64x2.add(s0432, w20);
    const m63 = f64x2.gt(t63, best4);
    best4 = f64x2.pmax(best4, t63);
    id4 = v128.bitselect(v128.load(CYCLE_IDS + 1008), id4, m63);
    const s04321 = f64x2.add(s0432, w21);
    let best7 = f64x2.add(s04321, w10);
    let id7 = v128.load(CYCLE_IDS + 1024);
    const t65 = w11;
    const m65 = f64x2.gt(t65, best0);
    best0 = f64x2.pmax(best0, t65);
    id0 = v128.bitselect(v128.load(CYCLE_IDS + 1040), id0, m65);
    const s12 = w12;
    const t66 = f64x2.add(s12, w21);
    const m66 = f64x2.gt(t66, best1);
    best1 = f64x2.pmax(best1, t66);
    id1 = v128.bitselect(v128.load(CYCLE_IDS + 1056), id1, m66);
    const s123 = f64x2.add(s12, w23);
    const t67 = f64x2.add(s123, w31);
    const m67 = f64x2.gt(t67, best3);
    best3 = f64x2.pmax(best3, t67);
    id3 = v128.bitselect(v128.load(CYCLE_IDS + 1072), id3, m67);
    const s1234 = f64x2.add(s123, w34);
    const t68 = f64x2.add(s1234, w41);
    const m68 = f64x2.gt(t68, best6);
    best6 = f64x2.pmax(best6, t68);
    id6 = v128.bitselect(v128.load(CYCLE_IDS + 1088), id6, m68);
    const s124 = f64x2.add(s12, w24);
    const t69 = f64x2.add(s124, w41);
    const m69 = f64x2.gt(t69, best3);
    best3 = f64x2.pmax(best3, t69);
    id3 = v128.bitselect(v128.load(CYCLE_IDS + 1104), id3, m69);
    const s1243 = f64x2.add(s124, w43);
    const t70 = f64x2.add(s1243, w31);
    const m70 = f64x2.gt(t70, best5);
    best5 = f64x2.pmax(best5, t70);
    id5 = v128.bitselect(v128.load(CYCLE_IDS + 1120), id5, m70);
    const s13 = w13;
    const t71 = f64x2.add(s13, w31);
    const m71 = f64x2.gt(t71, best1);
    best1 = f64x2.pmax(best1, t71);
    id1 = v128.bitselect(v128.load(CYCLE_IDS + 1136), id1, m71);
    const s132 = f64x2.add(s13, w32);
    const t72 = f64x2.add(s132, w21);
    const m72 = f64x2.gt(t72, best2);
    best2 = f64x2.pmax(best2, t72);
    id2 = v128.bitselect(v128.load(CYCLE_IDS + 1152), id2, m72);
    const s1324 = f64x2.add(s132, w24);
    const t73 = f64x2.add(s1324, w41);
    const m73 = f64x2.gt(t73, best5);
    best5 = f64x2.pmax(best5, t73);
    id5 = v128.bitselect(v128.load(CYCLE_IDS + 1168), id5, m73);
    const s134 = f64x2.add(s13, w34);
    const t74 = f64x2.add(s134, w41);
    const m74 = f64x2.gt(t74, best3);
    best3 = f64x2.pmax(best3, t74);
    id3 = v128.bitselect(v128.load(CYCLE_IDS + 1184), id3, m74);
    const s1342 = f64x2.add(s134, w42);
    const t75 = f64x2.add(s1342, w21);
    const m75 = f64x2.gt(t75, best5);
    best5 = f64x2.pmax(best5, t75);
    id5 = v128.bitselect(v128.load(CYCLE_IDS + 1200), id5, m75);
    const s14 = w14;
    const t76 = f64x2.add(s14, w41);
    const m76 = f64x2.gt(t76, best1);
    best1 = f64x2.pmax(best1, t76);
    id1 = v128.bitselect(v128.load(CYCLE_IDS + 1216), id1, m76);
    const s142 = f64x2.add(s14, w42);
    const t77 = f64x2.add(s142, w21);
    const m77 = f64x2.gt(t77, best2);
    best2 = f64x2.pmax(best2, t77);
    id2 = v128.bitselect(v128.load(CYCLE_IDS + 1232), id2, m77);
    const s1423 = f64x2.add(s142, w23);
    const t78 = f64x2.add(s1423, w31);
    const m78 = f64x2.gt(t78, best5);
    best5 = f64x2.pmax(best5, t78);
    id5 = v128.bitselect(v128.load(CYCLE_IDS + 1248), id5, m78);
    const s143 = f64x2.add(s14, w43);
    const t79 = f64x2.add(s143, w31);
    const m79 = f64x2.gt(t79, best2);
    best2 = f64x2.pmax(best2, t79);
    id2 = v128.bitselect(v128.load(CYCLE_IDS + 1264), id2, m79);
    const s1432 = f64x2.add(s143, w32);
    const t80 = f64x2.add(s1432, w21);
    const m80 = f64x2.gt(t80, best4);
    best4 = f64x2.pmax(best4, t80);
    id4 = v128.bitselect(v128.load(CYCLE_IDS + 1280), id4, m80);
    const t81 = w22;
    const m81 = f64x2.gt(t81, best0);
    best0 = f64x2.pmax(best0, t81);
    id0 = v128.bitselect(v128.load(CYCLE_IDS + 1296), id0, m81);
    const s23 = w23;
    const t82 = f64x2.add(s23, w32);
    const m82 = f64x2.gt(t82, best1);
    best1 = f64x2.pmax(best1, t82);
    id1 = v128.bitselect(v128.load(CYCLE_IDS + 1312), id1, m82);
    const s234 = f64x2.add(s23, w34);
    const t83 = f64x2.add(s234, w42);
    const m83 = f64x2.gt(t83, best3);
    best3 = f64x2.pmax(best3, t83);
    id3 = v128.bitselect(v128.load(CYCLE_IDS + 1328), id3, m83);
    const s24 = w24;
    const t84 = f64x2.add(s24, w42);
    const m84 = f64x2.gt(t84, best1);
    best1 = f64x2.pmax(best1, t84);
    id1 = v128.bitselect(v128.load(CYCLE_IDS + 1344), id1, m84);
    const s243 = f64x2.add(s24, w43);
    const t85 = f64x2.add(s243, w32);
    const m85 = f64x2.gt(t85, best2);
    best2 = f64x2.pmax(best2, t85);
    id2 = v128.bitselect(v128.load(CYCLE_IDS + 1360), id2, m85);
    const t86 = w33;
    const m86 = f64x2.gt(t86, best0);
    best0 = f64x2.pmax(best0, t86);
    id0 = v128.bitselect(v128.load(CYCLE_IDS + 1376), id0, m86);
    const s34 = w34;
    const t87 = f64x2.add(s34, w43);
    const m87 = f64x2.gt(t87, best1);
    best1 = f64x2.pmax(best1, t87);
    id1 = v128.bitselect(v128.load(CYCLE_IDS + 1392), id1, m87);
    const t88 = w44;
    const m88 = f64x2.gt(t88, best0);
    best0 = f64x2.pmax(best0, t88);
    id0 = v128.bitselect(v128.load(CYCLE_IDS + 1408), id0, m88);
    let bestGain = f64x2.div(best0, period0);
    let bestId = id0;
    const r1 = f64x2.div(best1, period1);
    const q1 = f64x2.gt(r1, bestGain);
    bestGain = v128.bitselect(r1, bestGain, q1);
    bestId = v128.bitselect(id1, bestId, q1);
    const r2 = f64x2.div(best2, period2);
    const q2 = f64x2.gt(r2, bestGain);
    bestGain = v128.bitselect(r2, bestGain, q2);
    bestId = v128.bitselect(id2, bestId, q2);
    const r3 = f64x2.div(best3, period3);
    const q3 = f64x2.gt(r3, bestGain);
    bestGain = v128.bitselect(r3, bestGain, q3);
    bestId = v128.bitselect(id3, bestId, q3);
    const r4 = f64x2.div(best4, period4);
    const q4 = f64x2.gt(r4, bestGain);
    bestGain = v128.bitselect(r4, bestGain, q4);
    bestId = v128.bitselect(id4, bestId, q4);
    const r5 = f64x2.div(best5, period5);
    const q5 = f64x2.gt(r5, bestGain);
    bestGain = v128.bitselect(r5, bestGain, q5);
    bestId = v128.bitselect(id5, bestId, q5);
    const r6 = f64x2.div(best6, period6);
    const q6 = f64x2.gt(r6, bestGain);
    bestGain = v128.bitselect(r6, bestGain, q6);
    bestId = v128.bitselect(id6, bestId, q6);
    const r7 = f64x2.div(best7, period7);
    const q7 = f64x2.gt(r7, bestGain);
    bestGain = v128.bitselect(r7, bestGain, q7);
    bestId = v128.bitselect(id7, bestId, q7);
    const r8 = f64x2.div(best8, period8);
    const q8 = f64x2.gt(r8, bestGain);
    bestGain = v128.bitselect(r8, bestGain, q8);
    bestId = v128.bitselect(id8, bestId, q8);
    const r9 = f64x2.div(best9, period9);
    const q9 = f64x2.gt(r9, bestGain);
    bestGain = v128.bitselect(r9, bestGain, q9);
    bestId = v128.bitselect(id9, bestId, q9);
    const r10 = f64x2.div(best10, period10);
    const q10 = f64x2.gt(r10, bestGain);
    bestGain = v128.bitselect(r10, bestGain, q10);
    bestId = v128.bitselect(id10, bestId, q10);
    // END GENERATED
    const ids = i32x4.trunc_sat_f64x2_s_zero(bestId);
    if (pair) {
      v128.store(gainOutPtr + o, bestGain);
      v128.store_lane<i64>(cycleOutPtr + (<usize>i << 2), ids, 0);
    } else {
      store<f64>(gainOutPtr + o, f64x2.extract_lane(bestGain, 0));
      store<i32>(cycleOutPtr + (<usize>i << 2), i32x4.extract_lane(ids, 0));
    }
  }
}
