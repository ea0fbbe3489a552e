// Histogram gradient boosting (LightGBM / XGBoost `hist` style) for binary log-loss:
// quantile bins (u8, row-major), per-node gradient/hessian histograms, histogram subtraction,
// best-split search, stable row partition, and a pointer-free scorer over flat node arrays.
//
// Layouts (the host validates every size before a call):
//   features   column-major f64: x[f * stride + i]; shards pass xPtr + 8 * start.
//   bins       row-major u8: bins[i * features + f]; bin b holds cuts[b - 1] < x <= cuts[b].
//   gradients  interleaved f64 pairs (g_i, h_i) at gradPtr + 16 i.
//   histogram  f64 pairs (G, H) at histPtr + 16 (f * 256 + b): 256 slots per feature.
//   nodes      16-byte records {i32 word, i32 left, f64 threshold}; right child = left + 1.
//              word = feature | defaultLeft << 16 | leaf << 17. A leaf points to itself
//              (left = own index) and always "goes left", so a walk of a tree's depth in lock
//              step ends on the row's leaf without a per-row branch on the tree shape.
import { expVec, log1pUnitVec, vc, C_ONE } from "./math";

// @ts-ignore: decorator
@inline const HIST_SLOTS: i32 = 256;
// @ts-ignore: decorator
@inline const LEAF_BIT: i32 = 1 << 17;
// @ts-ignore: decorator
@inline const DEFAULT_LEFT_BIT: i32 = 1 << 16;

/**
 * bins[i * features + f] = number of cuts of feature f below x[f][i] for rows [0, n): x is
 * column-major with `stride`; cuts of feature f are cuts[cutStarts[f] .. cutStarts[f + 1]).
 * Rows go in blocks of 64 so that reads are contiguous per column and the row-major writes stay
 * in one small block of cache. The same bins are also written column-major (binColumns[f *
 * columnStride + i]) for the partition, which reads one feature of rows in ascending order.
 */
export function gbmBinRows(xPtr: usize, stride: i32, n: i32, features: i32, cutsPtr: usize, cutStartsPtr: usize, binsPtr: usize, binColumnsPtr: usize, columnStride: i32): void {
  const colBytes = <usize>stride << 3;
  for (let start = 0; start < n; start += 64) {
    const end = min(start + 64, n);
    for (let f = 0; f < features; f++) {
      const first = load<i32>(cutStartsPtr + (<usize>f << 2));
      const nCuts = load<i32>(cutStartsPtr + (<usize>(f + 1) << 2)) - first;
      const cuts = cutsPtr + (<usize>first << 3);
      const col = xPtr + <usize>f * colBytes;
      for (let i = start; i < end; i++) {
        const x = load<f64>(col + (<usize>i << 3));
        // Branch-free lower bound (first cut >= x): the loop trip count depends only on nCuts.
        let base: i32 = 0;
        let len: i32 = nCuts;
        while (len > 1) {
          const half = len >> 1;
          base = select<i32>(base + half, base, load<f64>(cuts + (<usize>(base + half) << 3)) < x);
          len -= half;
        }
        const bin = nCuts == 0 ? 0 : base + <i32>(load<f64>(cuts + (<usize>base << 3)) < x);
        store<u8>(binsPtr + <usize>i * <usize>features + <usize>f, <u8>bin);
        store<u8>(binColumnsPtr + <usize>f * <usize>columnStride + <usize>i, <u8>bin);
      }
    }
  }
}

/**
 * gbmHistogram for several small nodes in one call (one dispatch to a thread): tasks holds
 * (start, count, histPtr) i32 triples; start indexes the row list.
 */
export function gbmHistogramBatch(binsPtr: usize, features: i32, rowsPtr: usize, gradPtr: usize, tasksPtr: usize, nTasks: i32): void {
  for (let t = 0; t < nTasks; t++) {
    const task = tasksPtr + <usize>t * 12;
    gbmHistogram(binsPtr, features, rowsPtr + (<usize>load<i32>(task) << 2), load<i32>(task + 4), gradPtr, <usize>load<u32>(task + 8));
  }
}

/**
 * gbmPartition for several small nodes in one call: tasks holds (start, count, feature, splitBin)
 * i32 quadruples; each node's left count goes to leftCounts[t].
 */
export function gbmPartitionBatch(binColumnsPtr: usize, columnStride: i32, rowsPtr: usize, scratchPtr: usize, tasksPtr: usize, nTasks: i32, leftCountsPtr: usize): void {
  for (let t = 0; t < nTasks; t++) {
    const task = tasksPtr + (<usize>t << 4);
    const start = <usize>load<i32>(task);
    store<i32>(leftCountsPtr + (<usize>t << 2), gbmPartition(
      binColumnsPtr + <usize>load<i32>(task + 8) * <usize>columnStride, rowsPtr + (start << 2), load<i32>(task + 4), load<i32>(task + 12), scratchPtr + (start << 2),
    ));
  }
}

/** Zeroes `hist` and adds (g, h) of each listed row to its bin in every feature. */
export function gbmHistogram(binsPtr: usize, features: i32, rowsPtr: usize, count: i32, gradPtr: usize, histPtr: usize): void {
  memory.fill(histPtr, 0, <usize>features * HIST_SLOTS * 16);
  const stride = <usize>features;
  for (let r = 0; r < count; r++) {
    const row = <usize>load<i32>(rowsPtr + (<usize>r << 2));
    const gh = v128.load(gradPtr + (row << 4));
    const rowBins = binsPtr + row * stride;
    let f = 0;
    let slotBase = histPtr;
    // Four features a step: independent read-modify-writes overlap in the pipeline.
    for (; f + 4 <= features; f += 4) {
      const b = load<u32>(rowBins + <usize>f);
      const a0 = slotBase + (<usize>(b & 255) << 4);
      const a1 = slotBase + 4096 + (<usize>((b >>> 8) & 255) << 4);
      const a2 = slotBase + 8192 + (<usize>((b >>> 16) & 255) << 4);
      const a3 = slotBase + 12288 + (<usize>(b >>> 24) << 4);
      v128.store(a0, f64x2.add(v128.load(a0), gh));
      v128.store(a1, f64x2.add(v128.load(a1), gh));
      v128.store(a2, f64x2.add(v128.load(a2), gh));
      v128.store(a3, f64x2.add(v128.load(a3), gh));
      slotBase += 16384;
    }
    for (; f < features; f++) {
      const a = slotBase + (<usize>load<u8>(rowBins + <usize>f) << 4);
      v128.store(a, f64x2.add(v128.load(a), gh));
      slotBase += 4096;
    }
  }
}

/**
 * The root's histogram (every row, in order) from the column-major bins: one feature at a time,
 * so that feature's 4 KiB of histogram stays in L1 while the rows stream past. Zeroes `hist`
 * first; sums each bin in row order, like gbmHistogram.
 */
export function gbmHistogramColumns(binColumnsPtr: usize, columnStride: i32, count: i32, features: i32, gradPtr: usize, histPtr: usize): void {
  memory.fill(histPtr, 0, <usize>features * HIST_SLOTS * 16);
  for (let f = 0; f < features; f++) {
    const col = binColumnsPtr + <usize>f * <usize>columnStride;
    const hist = histPtr + (<usize>f << 12);
    let i = 0;
    for (; i + 4 <= count; i += 4) {
      const b = load<u32>(col + <usize>i);
      const g = gradPtr + (<usize>i << 4);
      const a0 = hist + (<usize>(b & 255) << 4);
      v128.store(a0, f64x2.add(v128.load(a0), v128.load(g)));
      const a1 = hist + (<usize>((b >>> 8) & 255) << 4);
      v128.store(a1, f64x2.add(v128.load(a1), v128.load(g + 16)));
      const a2 = hist + (<usize>((b >>> 16) & 255) << 4);
      v128.store(a2, f64x2.add(v128.load(a2), v128.load(g + 32)));
      const a3 = hist + (<usize>(b >>> 24) << 4);
      v128.store(a3, f64x2.add(v128.load(a3), v128.load(g + 48)));
    }
    for (; i < count; i++) {
      const a = hist + (<usize>load<u8>(col + <usize>i) << 4);
      v128.store(a, f64x2.add(v128.load(a), v128.load(gradPtr + (<usize>i << 4))));
    }
  }
}

/**
 * A large node's histogram from the column-major bins: its rows' gradient pairs are first
 * gathered in row-list order into `ordered` (16 bytes a row), then each feature's 4 KiB of
 * histogram is filled while the node's rows stream past. Rows ascend within a node, so each
 * column is read forward. Sums each bin in row-list order, like gbmHistogram.
 */
export function gbmHistogramColumnsIndexed(binColumnsPtr: usize, columnStride: i32, rowsPtr: usize, count: i32, features: i32, gradPtr: usize, orderedPtr: usize, histPtr: usize): void {
  for (let r = 0; r < count; r++) {
    const row = <usize>load<i32>(rowsPtr + (<usize>r << 2));
    v128.store(orderedPtr + (<usize>r << 4), v128.load(gradPtr + (row << 4)));
  }
  memory.fill(histPtr, 0, <usize>features * HIST_SLOTS * 16);
  for (let f = 0; f < features; f++) {
    const col = binColumnsPtr + <usize>f * <usize>columnStride;
    const hist = histPtr + (<usize>f << 12);
    for (let r = 0; r < count; r++) {
      const row = <usize>load<i32>(rowsPtr + (<usize>r << 2));
      const a = hist + (<usize>load<u8>(col + row) << 4);
      v128.store(a, f64x2.add(v128.load(a), v128.load(orderedPtr + (<usize>r << 4))));
    }
  }
}

/** dst[k] += src[k] over `pairs` (G, H) pairs (reducing shard histograms in shard order). */
export function gbmHistogramAdd(dstPtr: usize, srcPtr: usize, pairs: i32): void {
  for (let k = 0; k < pairs; k++) {
    const o = <usize>k << 4;
    v128.store(dstPtr + o, f64x2.add(v128.load(dstPtr + o), v128.load(srcPtr + o)));
  }
}

/** dst[k] = parent[k] − small[k]: the larger child's histogram without a pass over its rows. */
export function gbmHistogramSubtract(parentPtr: usize, smallPtr: usize, dstPtr: usize, pairs: i32): void {
  for (let k = 0; k < pairs; k++) {
    const o = <usize>k << 4;
    v128.store(dstPtr + o, f64x2.sub(v128.load(parentPtr + o), v128.load(smallPtr + o)));
  }
}

/**
 * Best split of a node from its histogram: for every feature f and bin b < nCuts[f], left =
 * bins <= b. gain = GL²/(HL+λ) + GR²/(HR+λ) − G²/(H+λ), both children with H >= minChildWeight.
 * Features then bins ascending; a later candidate must be strictly better. out = [gain,
 * feature, bin, GL, HL]; gain = -Infinity when no split is admissible.
 */
export function gbmBestSplit(histPtr: usize, features: i32, nCutsPtr: usize, sumG: f64, sumH: f64, lambda: f64, minChildWeight: f64, outPtr: usize): void {
  const parentScore = sumG * sumG / (sumH + lambda);
  let bestGain = -Infinity;
  let bestFeature = -1;
  let bestBin = -1;
  let bestGL = 0.0;
  let bestHL = 0.0;
  for (let f = 0; f < features; f++) {
    const nCuts = load<i32>(nCutsPtr + (<usize>f << 2));
    const base = histPtr + (<usize>f << 12);
    let gl = 0.0;
    let hl = 0.0;
    for (let b = 0; b < nCuts; b++) {
      const o = base + (<usize>b << 4);
      gl += load<f64>(o);
      hl += load<f64>(o + 8);
      const hr = sumH - hl;
      if (hl < minChildWeight || hr < minChildWeight) continue;
      const gr = sumG - gl;
      const gain = gl * gl / (hl + lambda) + gr * gr / (hr + lambda) - parentScore;
      if (gain > bestGain) {
        bestGain = gain;
        bestFeature = f;
        bestBin = b;
        bestGL = gl;
        bestHL = hl;
      }
    }
  }
  store<f64>(outPtr, bestGain);
  store<f64>(outPtr + 8, <f64>bestFeature);
  store<f64>(outPtr + 16, <f64>bestBin);
  store<f64>(outPtr + 24, bestGL);
  store<f64>(outPtr + 32, bestHL);
}

/**
 * Stable partition of a node's row list by one feature's column of bins (column-major, so rows in
 * ascending order read nearby bytes): rows with bin <= splitBin first (in place), the rest after
 * them (through `scratch`). Returns the left count.
 */
export function gbmPartition(binColumnPtr: usize, rowsPtr: usize, count: i32, splitBin: i32, scratchPtr: usize): i32 {
  let left = 0;
  let right = 0;
  for (let r = 0; r < count; r++) {
    const row = load<i32>(rowsPtr + (<usize>r << 2));
    // Branch-free: write the row to both sides and advance one (left <= r, so nothing unread is overwritten).
    const goLeft = <i32>(<i32>load<u8>(binColumnPtr + <usize>row) <= splitBin);
    store<i32>(rowsPtr + (<usize>left << 2), row);
    store<i32>(scratchPtr + (<usize>right << 2), row);
    left += goLeft;
    right += goLeft ^ 1;
  }
  memory.copy(rowsPtr + (<usize>left << 2), scratchPtr, <usize>right << 2);
  return left;
}

/** Σ (g, h) over listed rows, in row order: out = [G, H]. */
export function gbmGradientSum(rowsPtr: usize, count: i32, gradPtr: usize, outPtr: usize): void {
  let g = 0.0;
  let h = 0.0;
  for (let r = 0; r < count; r++) {
    const row = <usize>load<i32>(rowsPtr + (<usize>r << 2));
    g += load<f64>(gradPtr + (row << 4));
    h += load<f64>(gradPtr + (row << 4) + 8);
  }
  store<f64>(outPtr, g);
  store<f64>(outPtr + 8, h);
}

/**
 * Binary log-loss gradient pairs at margin m: p = Λ(m), g = p − y, h = max(p (1 − p), 1e-16)
 * (XGBoost's floor keeps Newton steps finite where the model is certain).
 */
export function gbmLogLossGradients(marginPtr: usize, labelPtr: usize, n: i32, gradPtr: usize): void {
  const zero = f64x2.splat(0.0);
  const floor = f64x2.splat(1e-16);
  let i = 0;
  for (; i < n; i += 2) {
    // An odd tail reads one element past n: the arena keeps 16 bytes of slack after each block.
    const off = <usize>i << 3;
    const m = v128.load(marginPtr + off);
    const e = expVec(f64x2.neg(f64x2.abs(m)));
    const inv = f64x2.div(vc(C_ONE), f64x2.add(vc(C_ONE), e));
    const ge = f64x2.ge(m, zero);
    const p = v128.bitselect(inv, f64x2.mul(e, inv), ge);
    const q = v128.bitselect(f64x2.mul(e, inv), inv, ge);
    const g = f64x2.sub(p, v128.load(labelPtr + off));
    const h = f64x2.pmax(f64x2.mul(p, q), floor);
    const dst = gradPtr + (<usize>i << 4);
    v128.store(dst, i64x2.shuffle(g, h, 0, 2));
    if (i + 1 < n) v128.store(dst + 16, i64x2.shuffle(g, h, 1, 3));
  }
}

/** margin[row] += value for each listed row (a leaf's rows after a tree is grown). */
export function gbmAddLeafValue(rowsPtr: usize, count: i32, value: f64, marginPtr: usize): void {
  for (let r = 0; r < count; r++) {
    const a = marginPtr + (<usize>load<i32>(rowsPtr + (<usize>r << 2)) << 3);
    store<f64>(a, load<f64>(a) + value);
  }
}

/** Σ_i softplus(m_i) − y_i m_i: the log-loss total at margins m (stable for any finite m). */
export function gbmLogLossSum(marginPtr: usize, labelPtr: usize, n: i32): f64 {
  const zero = f64x2.splat(0.0);
  let acc = f64x2.splat(0.0);
  let i = 0;
  for (; i + 2 <= n; i += 2) {
    const off = <usize>i << 3;
    const m = v128.load(marginPtr + off);
    const sp = f64x2.add(f64x2.pmax(m, zero), log1pUnitVec(expVec(f64x2.neg(f64x2.abs(m)))));
    acc = f64x2.add(acc, f64x2.sub(sp, f64x2.mul(v128.load(labelPtr + off), m)));
  }
  let total = f64x2.extract_lane(acc, 0) + f64x2.extract_lane(acc, 1);
  if (i < n) {
    const off = <usize>i << 3;
    const m = f64x2.splat(load<f64>(marginPtr + off));
    const sp = f64x2.add(f64x2.pmax(m, zero), log1pUnitVec(expVec(f64x2.neg(f64x2.abs(m)))));
    total += f64x2.extract_lane(f64x2.sub(sp, f64x2.mul(f64x2.splat(load<f64>(labelPtr + off)), m)), 0);
  }
  return total;
}

// One step down the tree for row i from node `node`.
// @ts-ignore: decorator
@inline
function step(nodesPtr: usize, node: i32, xPtr: usize, colBytes: usize, i: i32, float32: bool): i32 {
  const rec = nodesPtr + (<usize>node << 4);
  const word = load<i32>(rec);
  const x = load<f64>(xPtr + <usize>(word & 0xffff) * colBytes + (<usize>i << 3));
  const threshold = load<f64>(rec + 8);
  // XGBoost compares the float32 value with `<`; promopt's own trees compare f64 with `<=`.
  const less: bool = float32 ? <f64><f32>x < threshold : x <= threshold;
  const goLeft = <i32>less | ((<i32>(x != x)) & (word >>> 16)) | (word >>> 17);
  return load<i32>(rec + 4) + ((goLeft & 1) ^ 1);
}

// @ts-ignore: decorator
@inline
function scoreTrees(
  xPtr: usize, stride: i32, n: i32, nodesPtr: usize, valuesPtr: usize, rootsPtr: usize, depthsPtr: usize, trees: i32, outPtr: usize, float32: bool,
): void {
  const colBytes = <usize>stride << 3;
  // Blocks of rows keep their slice of every column in cache across the trees.
  for (let start = 0; start < n; start += 256) {
    const end = min(start + 256, n);
    for (let t = 0; t < trees; t++) {
      const root = load<i32>(rootsPtr + (<usize>t << 2));
      const depth = load<i32>(depthsPtr + (<usize>t << 2));
      let i = start;
      // Eight rows in lock step: eight independent dependency chains per step.
      for (; i + 8 <= end; i += 8) {
        let n0 = root, n1 = root, n2 = root, n3 = root, n4 = root, n5 = root, n6 = root, n7 = root;
        for (let d = 0; d < depth; d++) {
          n0 = step(nodesPtr, n0, xPtr, colBytes, i, float32);
          n1 = step(nodesPtr, n1, xPtr, colBytes, i + 1, float32);
          n2 = step(nodesPtr, n2, xPtr, colBytes, i + 2, float32);
          n3 = step(nodesPtr, n3, xPtr, colBytes, i + 3, float32);
          n4 = step(nodesPtr, n4, xPtr, colBytes, i + 4, float32);
          n5 = step(nodesPtr, n5, xPtr, colBytes, i + 5, float32);
          n6 = step(nodesPtr, n6, xPtr, colBytes, i + 6, float32);
          n7 = step(nodesPtr, n7, xPtr, colBytes, i + 7, float32);
        }
        const o = outPtr + (<usize>i << 3);
        store<f64>(o, load<f64>(o) + load<f64>(valuesPtr + (<usize>n0 << 3)));
        store<f64>(o + 8, load<f64>(o + 8) + load<f64>(valuesPtr + (<usize>n1 << 3)));
        store<f64>(o + 16, load<f64>(o + 16) + load<f64>(valuesPtr + (<usize>n2 << 3)));
        store<f64>(o + 24, load<f64>(o + 24) + load<f64>(valuesPtr + (<usize>n3 << 3)));
        store<f64>(o + 32, load<f64>(o + 32) + load<f64>(valuesPtr + (<usize>n4 << 3)));
        store<f64>(o + 40, load<f64>(o + 40) + load<f64>(valuesPtr + (<usize>n5 << 3)));
        store<f64>(o + 48, load<f64>(o + 48) + load<f64>(valuesPtr + (<usize>n6 << 3)));
        store<f64>(o + 56, load<f64>(o + 56) + load<f64>(valuesPtr + (<usize>n7 << 3)));
      }
      for (; i < end; i++) {
        let node = root;
        for (let d = 0; d < depth; d++) node = step(nodesPtr, node, xPtr, colBytes, i, float32);
        const o = outPtr + (<usize>i << 3);
        store<f64>(o, load<f64>(o) + load<f64>(valuesPtr + (<usize>node << 3)));
      }
    }
  }
}

/**
 * out[i] += Σ_t value(leaf of row i in tree t) for trees [0, trees): roots[t] is the tree's
 * root node, depths[t] its depth (edges on the longest path). Left when x <= threshold (f64).
 */
export function gbmScore(xPtr: usize, stride: i32, n: i32, nodesPtr: usize, valuesPtr: usize, rootsPtr: usize, depthsPtr: usize, trees: i32, outPtr: usize): void {
  scoreTrees(xPtr, stride, n, nodesPtr, valuesPtr, rootsPtr, depthsPtr, trees, outPtr, false);
}

/** As gbmScore with XGBoost's rule: left when float32(x) < threshold (a float32 value). */
export function gbmScoreFloat32(xPtr: usize, stride: i32, n: i32, nodesPtr: usize, valuesPtr: usize, rootsPtr: usize, depthsPtr: usize, trees: i32, outPtr: usize): void {
  scoreTrees(xPtr, stride, n, nodesPtr, valuesPtr, rootsPtr, depthsPtr, trees, outPtr, true);
}

/**
 * Sorts n finite doubles ascending in place (LSD radix sort on order-preserving 64-bit keys; a
 * byte every key shares is skipped). scratch: 8 n + 16384 bytes. Used on the samples that place
 * the quantile cuts.
 */
export function gbmSortF64(valuesPtr: usize, n: i32, scratchPtr: usize): void {
  if (n < 2) return;
  const countsPtr = scratchPtr; // 8 histograms of 256 u64 counts
  const bufferPtr = scratchPtr + 16384;
  memory.fill(countsPtr, 0, 16384);
  const bytes = <usize>n << 3;
  for (let i: usize = 0; i < bytes; i += 8) {
    const b = load<u64>(valuesPtr + i);
    const key = (b >> 63) != 0 ? ~b : b | (<u64>1 << 63);
    store<u64>(valuesPtr + i, key);
    for (let d: u64 = 0; d < 8; d++) {
      const c = countsPtr + (<usize>d << 11) + (<usize>((key >> (d << 3)) & 255) << 3);
      store<u64>(c, load<u64>(c) + 1);
    }
  }
  let src = valuesPtr;
  let dst = bufferPtr;
  for (let d: u64 = 0; d < 8; d++) {
    const hist = countsPtr + (<usize>d << 11);
    const first = load<u64>(hist + (<usize>((load<u64>(src) >> (d << 3)) & 255) << 3));
    if (first == <u64>n) continue; // every key has this byte
    // Counts to starting offsets.
    let sum: u64 = 0;
    for (let b = 0; b < 256; b++) {
      const c = hist + (<usize>b << 3);
      const count = load<u64>(c);
      store<u64>(c, sum);
      sum += count;
    }
    for (let i: usize = 0; i < bytes; i += 8) {
      const key = load<u64>(src + i);
      const c = hist + (<usize>((key >> (d << 3)) & 255) << 3);
      const at = load<u64>(c);
      store<u64>(c, at + 1);
      store<u64>(dst + (<usize>at << 3), key);
    }
    const t = src;
    src = dst;
    dst = t;
  }
  for (let i: usize = 0; i < bytes; i += 8) {
    const key = load<u64>(src + i);
    store<u64>(valuesPtr + i, (key >> 63) != 0 ? key & ~(<u64>1 << 63) : ~key);
  }
}
