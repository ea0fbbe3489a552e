// Logistic regression with an offset and a per-row multiplier (IRLS / Newton pieces):
//   η_i = offset_i + m_i Σ_j x_ij β_j,  p_i = Λ(η_i),
//   log-lik  Σ y_i η_i − softplus(η_i),
//   score_j  Σ x_ij m_i (y_i − p_i),
//   Hessian  H_jk = Σ x_ij x_ik m_i² p_i (1 − p_i)      (the negative second derivative).
// With m_i = d_i − d0 and offset f this is the paper's fit of g = β'x̃ (§2.1); with m_i = 1 and
// offset 0 it is a plain logistic regression. Rows go in blocks so that the Hessian's inner
// products run over contiguous, vectorized slices of the column-major design.
import { expVec, log1pUnitVec, vc, C_ONE } from "./math";

// @ts-ignore: decorator
@inline const BLOCK: i32 = 128;

/** Scratch bytes one call needs for k columns (the host allocates it per shard). */
export function glmScratchBytes(k: i32): i32 {
  return (k + 3) * BLOCK * 8;
}

// @ts-ignore: decorator
@inline
function dot(a: usize, b: usize, m: i32): f64 {
  let acc0 = f64x2.splat(0.0);
  let acc1 = f64x2.splat(0.0);
  let i = 0;
  for (; i + 4 <= m; i += 4) {
    const o = <usize>i << 3;
    acc0 = f64x2.add(acc0, f64x2.mul(v128.load(a + o), v128.load(b + o)));
    acc1 = f64x2.add(acc1, f64x2.mul(v128.load(a + o + 16), v128.load(b + o + 16)));
  }
  const acc = f64x2.add(acc0, acc1);
  let s = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  for (; i < m; i++) s += load<f64>(a + (<usize>i << 3)) * load<f64>(b + (<usize>i << 3));
  return s;
}

/**
 * Adds this shard's log-likelihood, score and Hessian (upper triangle, row-major k × k) into
 * out = [logLik, score[k], hessian[k*k]] (the host zeroes it). x: k columns of `stride` f64;
 * shards pass x, offset, multiplier and label pointers advanced by 8 * start.
 */
export function glmLogisticAccumulate(
  xPtr: usize, stride: i32, n: i32, k: i32, offsetPtr: usize, multiplierPtr: usize, labelPtr: usize, betaPtr: usize,
  scratchPtr: usize, outPtr: usize,
): void {
  const colBytes = <usize>stride << 3;
  const etaPtr = scratchPtr;
  const residualPtr = etaPtr + (<usize>BLOCK << 3);
  const weightPtr = residualPtr + (<usize>BLOCK << 3);
  const weightedPtr = weightPtr + (<usize>BLOCK << 3); // k columns of BLOCK: w_i x_ij
  const scorePtr = outPtr + 8;
  const hessPtr = scorePtr + (<usize>k << 3);
  const zero = f64x2.splat(0.0);
  let logLik = 0.0;
  for (let start = 0; start < n; start += BLOCK) {
    const m = min(BLOCK, n - start);
    const rowOff = <usize>start << 3;
    // Linear index without the offset: Σ_j x_ij β_j.
    memory.fill(etaPtr, 0, <usize>BLOCK << 3);
    for (let j = 0; j < k; j++) {
      const b = f64x2.splat(load<f64>(betaPtr + (<usize>j << 3)));
      const col = xPtr + <usize>j * colBytes + rowOff;
      for (let i = 0; i < m; i += 2) {
        const o = <usize>i << 3;
        v128.store(etaPtr + o, f64x2.add(v128.load(etaPtr + o), f64x2.mul(v128.load(col + o), b)));
      }
    }
    // p, residual m (y − p), weight m² p (1 − p) and the log-likelihood; odd m reads one slot of
    // slack past the block (the host's arrays carry 16 bytes of it) and discards it.
    let acc = f64x2.splat(0.0);
    for (let i = 0; i < m; i += 2) {
      const o = <usize>i << 3;
      const mult = v128.load(multiplierPtr + rowOff + o);
      const eta = f64x2.add(v128.load(offsetPtr + rowOff + o), f64x2.mul(mult, v128.load(etaPtr + o)));
      const y = v128.load(labelPtr + rowOff + o);
      const e = expVec(f64x2.neg(f64x2.abs(eta)));
      const inv = f64x2.div(vc(C_ONE), f64x2.add(vc(C_ONE), e));
      const ge = f64x2.ge(eta, zero);
      const p = v128.bitselect(inv, f64x2.mul(e, inv), ge);
      const q = v128.bitselect(f64x2.mul(e, inv), inv, ge);
      v128.store(residualPtr + o, f64x2.mul(mult, f64x2.sub(y, p)));
      v128.store(weightPtr + o, f64x2.mul(f64x2.mul(mult, mult), f64x2.mul(p, q)));
      const ll = f64x2.sub(f64x2.mul(y, eta), f64x2.add(f64x2.pmax(eta, zero), log1pUnitVec(e)));
      if (i + 2 <= m) acc = f64x2.add(acc, ll);
      else logLik += f64x2.extract_lane(ll, 0);
    }
    logLik += f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
    for (let j = 0; j < k; j++) {
      const col = xPtr + <usize>j * colBytes + rowOff;
      const wcol = weightedPtr + (<usize>j * BLOCK << 3);
      for (let i = 0; i < m; i += 2) {
        const o = <usize>i << 3;
        v128.store(wcol + o, f64x2.mul(v128.load(col + o), v128.load(weightPtr + o)));
      }
      const s = scorePtr + (<usize>j << 3);
      store<f64>(s, load<f64>(s) + dot(col, residualPtr, m));
    }
    for (let j = 0; j < k; j++) {
      const wcol = weightedPtr + (<usize>j * BLOCK << 3);
      const rowH = hessPtr + (<usize>j * <usize>k << 3);
      for (let l = j; l < k; l++) {
        const h = rowH + (<usize>l << 3);
        store<f64>(h, load<f64>(h) + dot(wcol, xPtr + <usize>l * colBytes + rowOff, m));
      }
    }
  }
  store<f64>(outPtr, load<f64>(outPtr) + logLik);
}
