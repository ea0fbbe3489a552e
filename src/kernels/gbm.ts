// Histogram gradient boosting for binary log-loss: the kernel-backed trainer and scorer, and the
// plain-TypeScript reference they are tested against. Both trainers share the growth policy
// (growTree) and differ only in the primitives (histogram, split search, partition, gradients),
// which is what the kernel-vs-reference test pins down.
import { getDefaultEngine, planShards, type Engine, type Shard } from '../parallel/engine.js';
import type { Arena, Block } from './runtime.js';
import { logistic, softplus } from './math.js';
import { badInput } from '../errors.js';

/** Growth and regularization settings (defaults: XGBoost's `hist`, except the base margin). */
export interface GbmParams {
  /** Boosting rounds (trees) at most. */
  rounds: number;
  /** Shrinkage η applied to every leaf value. */
  learningRate: number;
  /** Depth limit (edges from the root); 0 = none (then maxLeaves must be set). */
  maxDepth: number;
  /** Leaf limit per tree (best-first growth); 0 = none. */
  maxLeaves: number;
  /** Minimum hessian sum in each child. */
  minChildWeight: number;
  /** L2 penalty λ on leaf values. */
  lambda: number;
  /** Minimum gain γ to split (on top of a 1e-6 floor that ignores rounding noise). */
  minSplitGain: number;
  /** Histogram bins per feature, at most 255 (so a bin fits a byte). */
  bins: number;
  /** Stop when the validation log-loss has not improved for this many rounds (0 = never). */
  earlyStoppingRounds: number;
}

export const DEFAULT_GBM_PARAMS: GbmParams = {
  rounds: 100,
  learningRate: 0.3,
  maxDepth: 6,
  maxLeaves: 0,
  minChildWeight: 1,
  lambda: 1,
  minSplitGain: 0,
  bins: 256 - 1,
  earlyStoppingRounds: 10,
};

/**
 * A tree ensemble as flat node arrays (all trees concatenated). Leaves have left = right = -1
 * and carry `value`; an internal node sends a row left when x[feature] <= threshold (promopt's
 * trees) or float32(x) < threshold (imported XGBoost trees, `float32`), and NaN by defaultLeft.
 */
export interface Forest {
  featureCount: number;
  /** Margin (logit) before any tree. */
  baseMargin: number;
  /** XGBoost's comparison: float32(x) < threshold. */
  float32: boolean;
  feature: Int32Array;
  threshold: Float64Array;
  left: Int32Array;
  right: Int32Array;
  defaultLeft: Uint8Array;
  value: Float64Array;
  /** Root node of each tree. */
  roots: Int32Array;
}

export interface GbmData {
  /** One column per feature. */
  features: readonly Float64Array[];
  /** 0/1 labels. */
  label: ArrayLike<number>;
}

export interface GbmTrainingResult {
  forest: Forest;
  /** Validation log-loss (mean) after each round, when validation data was given. */
  validLogLoss: number[];
  /** Trees kept (the best round by validation log-loss, or all). */
  bestRounds: number;
  /** Cut points per feature (bin b holds cuts[b−1] < x <= cuts[b]). */
  cuts: Float64Array[];
}

const MIN_GAIN_FLOOR = 1e-6;
const HIST_SLOTS = 256;
/** Rows a batch of small-node tasks gathers before it is one dispatch to a thread. */
const BATCH_ROWS = 16384;

/** Consecutive runs of entries with at least `minRows` rows each (the last may have fewer). */
function batchRanges(entries: readonly Shard[], minRows: number): Shard[] {
  const batches: Shard[] = [];
  let first = 0, rowsSoFar = 0;
  entries.forEach((entry, e) => {
    rowsSoFar += entry.end - entry.start;
    if (rowsSoFar >= minRows) {
      batches.push({ start: first, end: e + 1 });
      first = e + 1;
      rowsSoFar = 0;
    }
  });
  if (first < entries.length) batches.push({ start: first, end: entries.length });
  return batches;
}

/** Rows per partition shard (fixed, like every shard size). */
const PARTITION_SHARD_ROWS = 65536;

function rowsOf(tasks: readonly { count: number }[]): number {
  return tasks.reduce((s, t) => s + t.count, 0);
}

/** Rows per histogram shard: fixed, so that sums do not depend on the thread count. */
export const HIST_SHARD_ROWS = 32768;
/** Values per feature used to place the quantile cuts (a deterministic strided sample). */
const CUT_SAMPLE = 1 << 18;

export function resolveGbmParams(options: Partial<GbmParams> = {}): GbmParams {
  const p = { ...DEFAULT_GBM_PARAMS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as GbmParams;
  const int = (name: keyof GbmParams, min: number, max: number) => {
    const v = p[name];
    if (!Number.isInteger(v) || v < min || v > max) throw badInput(`GBM ${name} must be an integer from ${min} to ${max}, got ${v}`);
  };
  const num = (name: keyof GbmParams, min: number, openMin = false) => {
    const v = p[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || (openMin && v === min)) throw badInput(`GBM ${name} must be a finite number ${openMin ? '>' : '>='} ${min}, got ${v}`);
  };
  int('rounds', 1, 100_000);
  int('maxDepth', 0, 30);
  int('maxLeaves', 0, 1 << 16);
  int('bins', 2, 255);
  int('earlyStoppingRounds', 0, 100_000);
  num('learningRate', 0, true);
  num('minChildWeight', 0);
  num('lambda', 0);
  num('minSplitGain', 0);
  if (p.maxDepth === 0 && p.maxLeaves === 0) throw badInput('GBM needs maxDepth or maxLeaves (both are 0: trees would be unbounded)');
  return p;
}

/**
 * Cut points of one feature at its quantiles: at most bins − 1 strictly increasing values, each
 * below the sample's maximum; with few distinct values, midpoints between consecutive ones.
 */
export function quantileCuts(column: ArrayLike<number>, bins: number): Float64Array {
  return cutsFromSorted(cutSample(column).sort(), bins);
}

/** The values the cuts are placed on: every row, or an even stride of CUT_SAMPLE of them. */
export function cutSample(column: ArrayLike<number>): Float64Array {
  const n = column.length;
  const step = Math.max(1, Math.ceil(n / CUT_SAMPLE));
  const sample = new Float64Array(Math.ceil(n / step));
  for (let i = 0, k = 0; i < n; i += step, k++) sample[k] = column[i];
  return sample;
}

/** Cuts from an ascending sample (see quantileCuts). */
export function cutsFromSorted(sample: Float64Array, bins: number): Float64Array {
  const m = sample.length;
  if (m === 0) return new Float64Array(0);
  const distinct: number[] = [];
  for (let i = 0; i < m && distinct.length <= bins; i++) if (i === 0 || sample[i] !== sample[i - 1]) distinct.push(sample[i]);
  const cuts: number[] = [];
  if (distinct.length <= bins) {
    for (let j = 1; j < distinct.length; j++) cuts.push(midpoint(distinct[j - 1], distinct[j]));
  } else {
    const max = sample[m - 1];
    for (let j = 1; j < bins; j++) {
      const r = Math.floor((j * m) / bins);
      const a = sample[r - 1], b = sample[r];
      const cut = a < b ? midpoint(a, b) : a;
      if (cut < max && (cuts.length === 0 || cut > cuts[cuts.length - 1])) cuts.push(cut);
    }
  }
  return Float64Array.from(cuts);
}

function midpoint(a: number, b: number): number {
  const c = a + (b - a) / 2;
  return c < b ? c : a; // a cut equal to b would send b left
}

/** Bin of x: the number of cuts below it. */
export function binOf(cuts: Float64Array, x: number): number {
  let lo = 0, hi = cuts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cuts[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function validateData(data: GbmData, what: string): { n: number; p: number } {
  const p = data.features.length;
  if (p === 0) throw badInput(`${what}: no feature columns`);
  if (p > 65535) throw badInput(`${what}: ${p} features, more than 65535`);
  const n = data.label.length;
  data.features.forEach((col, j) => {
    if (col.length !== n) throw badInput(`${what}: feature column ${j} has ${col.length} rows but the label has ${n}`);
    for (let i = 0; i < n; i++) if (!Number.isFinite(col[i])) throw badInput(`${what}: feature ${j}, row ${i} is ${col[i]}, not a finite number`);
  });
  for (let i = 0; i < n; i++) if (data.label[i] !== 0 && data.label[i] !== 1) throw badInput(`${what}: label row ${i} is ${data.label[i]}, not 0 or 1`);
  return { n, p };
}

// ---------------------------------------------------------------------------------------------
// Shared growth policy.

interface Split {
  gain: number;
  feature: number;
  bin: number;
  leftG: number;
  leftH: number;
}

type Hist = number; // a backend's handle on a histogram buffer

interface PartitionTask {
  start: number;
  count: number;
  feature: number;
  bin: number;
}

interface HistTask {
  start: number;
  count: number;
  hist: Hist;
}

/** The primitives a trainer supplies; rows live in one permuted list, nodes own ranges of it. */
interface GrowthBackend {
  resetRows(): void;
  computeGradients(): Promise<void>;
  gradientSum(start: number, count: number): [number, number];
  newHist(): Hist;
  freeHist(h: Hist): void;
  /** Histograms of several nodes' row ranges, in one batch (one round of thread dispatch). */
  histograms(tasks: readonly HistTask[]): Promise<void>;
  /** dst = parent − small (dst may be parent). */
  subtract(parent: Hist, small: Hist, dst: Hist): void;
  bestSplit(h: Hist, sumG: number, sumH: number): Split;
  /** Stable partitions of several nodes' row ranges (rows with bin <= split bin first); left counts. */
  partitions(tasks: readonly PartitionTask[]): Promise<number[]>;
  addLeafValue(start: number, count: number, value: number): void;
}

interface TreeNode {
  feature: number;
  bin: number;
  threshold: number;
  left: number;
  right: number;
  value: number;
}

interface OpenLeaf {
  id: number;
  start: number;
  count: number;
  sumG: number;
  sumH: number;
  depth: number;
  hist: Hist | undefined;
  split: Split | undefined;
}

/**
 * Turns an open leaf into a split node with two new leaf nodes (appended to `nodes`) and returns
 * the two children as open leaves; `leftCount` rows went left.
 */
function splitNode(nodes: TreeNode[], cuts: Float64Array[], parent: OpenLeaf, leftCount: number): [OpenLeaf, OpenLeaf] {
  const split = parent.split!;
  const leftId = nodes.length;
  const node = nodes[parent.id];
  node.feature = split.feature;
  node.bin = split.bin;
  node.threshold = cuts[split.feature][split.bin];
  node.left = leftId;
  node.right = leftId + 1;
  nodes.push({ feature: -1, bin: -1, threshold: 0, left: -1, right: -1, value: 0 }, { feature: -1, bin: -1, threshold: 0, left: -1, right: -1, value: 0 });
  const left: OpenLeaf = { id: leftId, start: parent.start, count: leftCount, sumG: split.leftG, sumH: split.leftH, depth: parent.depth + 1, hist: undefined, split: undefined };
  const right: OpenLeaf = {
    id: leftId + 1, start: parent.start + leftCount, count: parent.count - leftCount,
    sumG: parent.sumG - split.leftG, sumH: parent.sumH - split.leftH, depth: parent.depth + 1, hist: undefined, split: undefined,
  };
  return [left, right];
}

async function growTree(backend: GrowthBackend, params: GbmParams, cuts: Float64Array[], n: number): Promise<TreeNode[]> {
  const maxLeaves = params.maxLeaves > 0 ? params.maxLeaves : Infinity;
  const maxDepth = params.maxDepth > 0 ? params.maxDepth : Infinity;
  const minGain = Math.max(params.minSplitGain, MIN_GAIN_FLOOR);
  backend.resetRows();
  const nodes: TreeNode[] = [{ feature: -1, bin: -1, threshold: 0, left: -1, right: -1, value: 0 }];
  const [g0, h0] = backend.gradientSum(0, n);
  const root: OpenLeaf = { id: 0, start: 0, count: n, sumG: g0, sumH: h0, depth: 0, hist: undefined, split: undefined };
  const open: OpenLeaf[] = [root];
  const canGrow = (leaf: OpenLeaf) => leaf.depth < maxDepth && leaf.sumH >= 2 * params.minChildWeight && leaf.count >= 2;
  if (canGrow(root) && maxLeaves > 1) {
    root.hist = backend.newHist();
    await backend.histograms([{ start: 0, count: n, hist: root.hist }]);
    root.split = backend.bestSplit(root.hist, g0, h0);
  }
  if (maxLeaves === Infinity) {
    await growLevels(backend, cuts, nodes, open, canGrow, minGain);
  }
  let leaves = 1;
  while (leaves < maxLeaves) {
    // Best-first: the open leaf with the largest gain (ties: the lowest node id). With no leaf
    // limit this grows the same tree as depth-wise growth.
    let best = -1;
    for (let k = 0; k < open.length; k++) {
      const s = open[k].split;
      if (s && s.gain > minGain && (best < 0 || s.gain > open[best].split!.gain)) best = k;
    }
    if (best < 0) break;
    const parent = open[best];
    open.splice(best, 1);
    const split = parent.split!;
    const [leftCount] = await backend.partitions([{ start: parent.start, count: parent.count, feature: split.feature, bin: split.bin }]);
    const [left, right] = splitNode(nodes, cuts, parent, leftCount);
    leaves++;
    const growLeft = canGrow(left) && leaves < maxLeaves;
    const growRight = canGrow(right) && leaves < maxLeaves;
    if (growLeft || growRight) {
      // Histogram of the smaller child from its rows; the larger one's by subtraction, in place.
      const [small, large] = left.count <= right.count ? [left, right] : [right, left];
      small.hist = backend.newHist();
      await backend.histograms([{ start: small.start, count: small.count, hist: small.hist }]);
      backend.subtract(parent.hist!, small.hist, parent.hist!);
      large.hist = parent.hist!;
      for (const child of [left, right]) {
        if (child === left ? growLeft : growRight) child.split = backend.bestSplit(child.hist!, child.sumG, child.sumH);
        if (!child.split || !(child.split.gain > minGain)) {
          backend.freeHist(child.hist!);
          child.hist = undefined;
        }
      }
    } else {
      backend.freeHist(parent.hist!);
    }
    open.push(left, right);
    open.sort((a, b) => a.id - b.id);
  }
  for (const leaf of open) {
    if (leaf.hist !== undefined) backend.freeHist(leaf.hist);
    const value = (-leaf.sumG / (leaf.sumH + params.lambda)) * params.learningRate;
    nodes[leaf.id].value = value;
    backend.addLeafValue(leaf.start, leaf.count, value);
  }
  return nodes;
}

/**
 * Depth-wise growth without a leaf limit: every admissible leaf of a level splits, and the
 * level's histograms are built in one batch. Grows the same tree as best-first growth (each
 * split decision is local to its node); only the node numbering follows the levels. On return
 * `open` holds the final leaves.
 */
async function growLevels(
  backend: GrowthBackend, cuts: Float64Array[], nodes: TreeNode[], open: OpenLeaf[],
  canGrow: (leaf: OpenLeaf) => boolean, minGain: number,
): Promise<void> {
  let level = open.splice(0, open.length);
  const done: OpenLeaf[] = [];
  while (level.length) {
    const next: OpenLeaf[] = [];
    const tasks: HistTask[] = [];
    const pairs: [Hist, OpenLeaf, OpenLeaf, OpenLeaf][] = []; // parent's histogram, left, right, small
    const splitting: OpenLeaf[] = [];
    for (const parent of level) {
      const split = parent.split;
      if (!split || !(split.gain > minGain)) {
        if (parent.hist !== undefined) backend.freeHist(parent.hist);
        parent.hist = undefined;
        done.push(parent);
      } else {
        splitting.push(parent);
      }
    }
    const leftCounts = await backend.partitions(splitting.map((leaf) => ({ start: leaf.start, count: leaf.count, feature: leaf.split!.feature, bin: leaf.split!.bin })));
    for (let q = 0; q < splitting.length; q++) {
      const parent = splitting[q];
      const [left, right] = splitNode(nodes, cuts, parent, leftCounts[q]);
      next.push(left, right);
      if (canGrow(left) || canGrow(right)) {
        const small = left.count <= right.count ? left : right;
        small.hist = backend.newHist();
        tasks.push({ start: small.start, count: small.count, hist: small.hist });
        pairs.push([parent.hist!, left, right, small]);
      } else {
        backend.freeHist(parent.hist!);
      }
      parent.hist = undefined;
    }
    await backend.histograms(tasks);
    for (const [parentHist, left, right, small] of pairs) {
      // The larger child's histogram by subtraction, in the parent's buffer.
      backend.subtract(parentHist, small.hist!, parentHist);
      (small === left ? right : left).hist = parentHist;
      for (const child of [left, right]) {
        if (canGrow(child)) child.split = backend.bestSplit(child.hist!, child.sumG, child.sumH);
        if (!child.split || !(child.split.gain > minGain)) {
          backend.freeHist(child.hist!);
          child.hist = undefined;
        }
      }
    }
    level = next;
  }
  open.push(...done.sort((a, b) => a.id - b.id));
}

/** Builds the forest from trees, dropping the bins (kept only for tests). */
function assembleForest(trees: TreeNode[][], featureCount: number, baseMargin: number): Forest {
  const total = trees.reduce((s, t) => s + t.length, 0);
  const forest: Forest = {
    featureCount, baseMargin, float32: false,
    feature: new Int32Array(total), threshold: new Float64Array(total), left: new Int32Array(total), right: new Int32Array(total),
    defaultLeft: new Uint8Array(total), value: new Float64Array(total), roots: new Int32Array(trees.length),
  };
  let at = 0;
  trees.forEach((tree, t) => {
    forest.roots[t] = at;
    tree.forEach((node, k) => {
      const leaf = node.left < 0;
      forest.feature[at + k] = leaf ? -1 : node.feature;
      forest.threshold[at + k] = leaf ? 0 : node.threshold;
      forest.left[at + k] = leaf ? -1 : at + node.left;
      forest.right[at + k] = leaf ? -1 : at + node.right;
      forest.value[at + k] = leaf ? node.value : 0;
    });
    at += tree.length;
  });
  return forest;
}

function baseMarginOf(label: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < label.length; i++) s += label[i];
  const mean = Math.min(Math.max(s / Math.max(label.length, 1), 1e-6), 1 - 1e-6);
  return Math.log(mean / (1 - mean));
}

/** The boosting loop shared by both trainers; `scoreValid` adds a tree to the validation margins and returns the mean log-loss. */
async function boost(
  backend: GrowthBackend, params: GbmParams, cuts: Float64Array[], n: number, p: number, baseMargin: number,
  scoreValid: ((tree: TreeNode[]) => Promise<number>) | undefined,
  progress?: (round: number) => void,
): Promise<GbmTrainingResult> {
  const trees: TreeNode[][] = [];
  const validLogLoss: number[] = [];
  let bestRounds = 0;
  let bestLoss = Infinity;
  for (let round = 0; round < params.rounds; round++) {
    await backend.computeGradients();
    const tree = await growTree(backend, params, cuts, n);
    trees.push(tree);
    progress?.(round + 1);
    if (scoreValid) {
      const loss = await scoreValid(tree);
      validLogLoss.push(loss);
      if (loss < bestLoss) {
        bestLoss = loss;
        bestRounds = round + 1;
      } else if (params.earlyStoppingRounds > 0 && round + 1 - bestRounds >= params.earlyStoppingRounds) {
        break;
      }
    } else {
      bestRounds = round + 1;
    }
  }
  // Without early stopping every tree is kept (XGBoost's behaviour); with it, the best round's.
  if (params.earlyStoppingRounds === 0) bestRounds = trees.length;
  return { forest: assembleForest(trees.slice(0, bestRounds), p, baseMargin), validLogLoss, bestRounds, cuts };
}

export interface TrainOptions {
  /** Called after each tree (for a progress bar). */
  progress?: (round: number) => void;
}

// ---------------------------------------------------------------------------------------------
// Kernel trainer.

interface GbmKernels {
  gbmBinRows(xPtr: number, stride: number, n: number, features: number, cutsPtr: number, cutStartsPtr: number, binsPtr: number, binColumnsPtr: number, columnStride: number): void;
  gbmHistogram(binsPtr: number, features: number, rowsPtr: number, count: number, gradPtr: number, histPtr: number): void;
  gbmHistogramAdd(dstPtr: number, srcPtr: number, pairs: number): void;
  gbmHistogramBatch(binsPtr: number, features: number, rowsPtr: number, gradPtr: number, tasksPtr: number, nTasks: number): void;
  gbmPartitionBatch(binColumnsPtr: number, columnStride: number, rowsPtr: number, scratchPtr: number, tasksPtr: number, nTasks: number, leftCountsPtr: number): void;
  gbmHistogramColumnsIndexed(binColumnsPtr: number, columnStride: number, rowsPtr: number, count: number, features: number, gradPtr: number, orderedPtr: number, histPtr: number): void;
  gbmHistogramColumns(binColumnsPtr: number, columnStride: number, count: number, features: number, gradPtr: number, histPtr: number): void;
  gbmHistogramSubtract(parentPtr: number, smallPtr: number, dstPtr: number, pairs: number): void;
  gbmBestSplit(histPtr: number, features: number, nCutsPtr: number, sumG: number, sumH: number, lambda: number, minChildWeight: number, outPtr: number): void;
  gbmPartition(binColumnPtr: number, rowsPtr: number, count: number, splitBin: number, scratchPtr: number): number;
  gbmGradientSum(rowsPtr: number, count: number, gradPtr: number, outPtr: number): void;
  gbmLogLossGradients(marginPtr: number, labelPtr: number, n: number, gradPtr: number): void;
  gbmAddLeafValue(rowsPtr: number, count: number, value: number, marginPtr: number): void;
  gbmLogLossSum(marginPtr: number, labelPtr: number, n: number): number;
  gbmSortF64(valuesPtr: number, n: number, scratchPtr: number): void;
  gbmScore(xPtr: number, stride: number, n: number, nodesPtr: number, valuesPtr: number, rootsPtr: number, depthsPtr: number, trees: number, outPtr: number): void;
  gbmScoreFloat32(xPtr: number, stride: number, n: number, nodesPtr: number, valuesPtr: number, rootsPtr: number, depthsPtr: number, trees: number, outPtr: number): void;
}

function kernels(engine: Engine): GbmKernels {
  return engine.runtime.exports as unknown as GbmKernels;
}

/** A byte block (the arena hands out 4-byte elements; bins are one byte each). */
function bytes(arena: Arena, count: number): Block {
  return arena.i32(Math.ceil(count / 4));
}

/** Copies columns into one column-major block of `stride` rows (rows [start, start + rows)). */
function copyColumns(arena: Arena, columns: readonly ArrayLike<number>[], start: number, rows: number, block?: Block): Block {
  const out = block ?? arena.f64(columns.length * rows);
  const view = arena.viewF64(out);
  columns.forEach((col, j) => {
    const src = col as Float64Array;
    if (src instanceof Float64Array) view.set(src.subarray(start, start + rows), j * rows);
    else for (let i = 0; i < rows; i++) view[j * rows + i] = col[start + i];
  });
  return out;
}

/** Packs a forest's nodes into the kernel's 16-byte records and per-tree roots and depths. */
function packForest(arena: Arena, forest: Forest, treeStart = 0, treeEnd = forest.roots.length): { nodes: Block; values: Block; roots: Block; depths: Block; trees: number } {
  const total = forest.feature.length;
  const nodes = arena.f64(2 * total);
  const words = arena.viewI32({ ptr: nodes.ptr, length: 4 * total, bytesPerElement: 4 });
  const thresholds = arena.viewF64(nodes);
  const values = arena.copyF64(forest.value);
  const trees = treeEnd - treeStart;
  const roots = arena.i32(trees);
  const depths = arena.i32(trees);
  const rootView = arena.viewI32(roots), depthView = arena.viewI32(depths);
  for (let i = 0; i < total; i++) {
    const leaf = forest.left[i] < 0;
    words[4 * i] = leaf ? 1 << 17 : forest.feature[i] | (forest.defaultLeft[i] ? 1 << 16 : 0);
    words[4 * i + 1] = leaf ? i : forest.left[i];
    thresholds[2 * i + 1] = leaf ? 0 : forest.threshold[i];
  }
  for (let t = treeStart; t < treeEnd; t++) {
    rootView[t - treeStart] = forest.roots[t];
    depthView[t - treeStart] = treeDepth(forest, forest.roots[t]);
  }
  return { nodes, values, roots, depths, trees };
}

/** Edges on the longest root-to-leaf path. */
export function treeDepth(forest: Forest, root: number): number {
  let depth = 0;
  const stack: [number, number][] = [[root, 0]];
  while (stack.length) {
    const [node, d] = stack.pop()!;
    if (forest.left[node] < 0) depth = Math.max(depth, d);
    else stack.push([forest.left[node], d + 1], [forest.right[node], d + 1]);
  }
  return depth;
}

/** quantileCuts of every column, the samples sorted in the kernels (one feature per task). */
async function kernelQuantileCuts(columns: readonly Float64Array[], bins: number, engine: Engine): Promise<Float64Array[]> {
  const samples = columns.map((col) => cutSample(col));
  return engine.exclusive(async (arena) => {
    const blocks = samples.map((sample) => arena.copyF64(sample));
    const scratch = samples.map((sample) => arena.f64(sample.length + 2048));
    const tasks = samples.map((_, j) => ({ start: j, end: j + 1 }));
    await engine.forShards('gbmSortF64', tasks, (_, j) => [blocks[j].ptr, samples[j].length, scratch[j].ptr], samples.reduce((s, x) => s + 8 * x.length, 0));
    return blocks.map((block) => cutsFromSorted(arena.viewF64(block), bins));
  });
}

/** Trains a forest in the kernels (histograms sharded over the engine's threads). */
export async function trainGbm(
  train: GbmData, valid: GbmData | undefined, options: Partial<GbmParams> = {}, engine: Engine = getDefaultEngine(), hooks: TrainOptions = {},
): Promise<GbmTrainingResult> {
  const params = resolveGbmParams(options);
  const { n, p } = validateData(train, 'GBM training data');
  if (n < 2) throw badInput(`GBM training data: ${n} row(s), need at least 2`);
  if (valid) {
    const v = validateData(valid, 'GBM validation data');
    if (valid.features.length !== p) throw badInput(`GBM validation data has ${valid.features.length} features, training data ${p}`);
    if (v.n === 0) valid = undefined;
  }
  const baseMargin = baseMarginOf(train.label);
  const cuts = await kernelQuantileCuts(train.features, params.bins, engine);
  return engine.exclusive(async (arena) => {
    const k = kernels(engine);
    const histPairs = p * HIST_SLOTS;
    const bins = bytes(arena, n * p);
    const binColumns = bytes(arena, n * p);
    const label = arena.copyF64(train.label);
    const margin = arena.f64(n);
    arena.viewF64(margin).fill(baseMargin);
    const grad = arena.f64(2 * n);
    const rows = arena.i32(n);
    const scratch = arena.i32(n);
    const nCuts = arena.i32(p);
    arena.viewI32(nCuts).set(cuts.map((c) => c.length));
    const out = arena.f64(8);
    // Binning: all columns through one temporary block, freed before the histograms are allocated.
    {
      const mark = arena.mark();
      const x = copyColumns(arena, train.features, 0, n);
      const cutStarts = new Int32Array(p + 1);
      for (let j = 0; j < p; j++) cutStarts[j + 1] = cutStarts[j] + cuts[j].length;
      const starts = arena.i32(p + 1);
      const allCuts = arena.f64(Math.max(1, cutStarts[p]));
      // Views only after the last allocation: growing the memory detaches earlier views.
      arena.viewI32(starts).set(cutStarts);
      cuts.forEach((c, j) => arena.viewF64(allCuts).set(c, cutStarts[j]));
      await engine.forShards('gbmBinRows', planShards(n), ({ start, end }) => [x.ptr + 8 * start, n, end - start, p, allCuts.ptr, starts.ptr, bins.ptr + start * p, binColumns.ptr + start, n], n * p);
      arena.release(mark);
    }
    const shardHists: Block[] = [];
    const orderedScratch: Block[] = [];
    // Task lists handed to the batch kernels (grown when a level needs more entries).
    let taskEntries = 0;
    let taskList: Block = arena.i32(0);
    let leftBlock: Block = arena.i32(0);
    const taskBlock = (entries: number): Block => {
      if (entries > taskEntries) {
        taskEntries = Math.max(entries, 2 * taskEntries, 1024);
        taskList = arena.i32(taskEntries);
        leftBlock = arena.i32(taskEntries);
      }
      return taskList;
    };
    const hists: Block[] = [];
    const free: number[] = [];
    const backend: GrowthBackend = {
      resetRows() {
        const view = arena.viewI32(rows);
        for (let i = 0; i < n; i++) view[i] = i;
      },
      async computeGradients() {
        await engine.forShards('gbmLogLossGradients', planShards(n), ({ start, end }) => [margin.ptr + 8 * start, label.ptr + 8 * start, end - start, grad.ptr + 16 * start], n * 8);
      },
      gradientSum(start, count) {
        k.gbmGradientSum(rows.ptr + 4 * start, count, grad.ptr, out.ptr);
        const v = arena.viewF64(out);
        return [v[0], v[1]];
      },
      newHist() {
        if (free.length) return free.pop()!;
        hists.push(arena.f64(2 * histPairs));
        return hists.length - 1;
      },
      freeHist(h) {
        free.push(h);
      },
      async histograms(tasks) {
        // Every task's rows cut into fixed-size shards; a task's first shard writes its own
        // histogram, the others write scratch ones that are then added in shard order. Large
        // nodes (at least 1/16 of the rows) read the column-major bins one feature at a time
        // (that feature's histogram stays in L1); small ones read each row's bins at once.
        const rowShards: Shard[] = [], rowTargets: number[] = [];
        const columnShards: Shard[] = [], columnTargets: number[] = [], columnOrdered: number[] = [];
        const extra: [number, number][] = []; // (task histogram, scratch) to add, in shard order
        let rowWork = 0, columnWork = 0;
        for (const task of tasks) {
          const columnMode = task.count * 16 >= n;
          planShards(task.count, HIST_SHARD_ROWS).forEach((shard, s) => {
            let target = hists[task.hist].ptr;
            if (s > 0) {
              if (extra.length >= shardHists.length) shardHists.push(arena.f64(2 * histPairs));
              target = shardHists[extra.length].ptr;
              extra.push([hists[task.hist].ptr, target]);
            }
            const range = { start: task.start + shard.start, end: task.start + shard.end };
            if (columnMode) {
              if (columnShards.length >= orderedScratch.length) orderedScratch.push(arena.f64(2 * HIST_SHARD_ROWS));
              columnOrdered.push(orderedScratch[columnShards.length].ptr);
              columnShards.push(range);
              columnTargets.push(target);
              columnWork += shard.end - shard.start;
            } else {
              rowShards.push(range);
              rowTargets.push(target);
              rowWork += shard.end - shard.start;
            }
          });
        }
        const root = tasks.length === 1 && tasks[0].count === n; // rows in order: no gather needed
        // Small row-mode shards go in batches of at least BATCH_ROWS rows: one dispatch each.
        const batches = batchRanges(rowShards, BATCH_ROWS);
        const triples = taskBlock(3 * rowShards.length);
        const tripleView = arena.viewI32(triples);
        rowShards.forEach((shard, e) => tripleView.set([shard.start, shard.end - shard.start, rowTargets[e]], 3 * e));
        await Promise.all([
          batches.length === 0 ? undefined
            : engine.forShards('gbmHistogramBatch', batches, (batch) => [bins.ptr, p, rows.ptr, grad.ptr, triples.ptr + 12 * batch.start, batch.end - batch.start], rowWork * p),
          columnShards.length === 0 ? undefined : root
            ? engine.forShards('gbmHistogramColumns', columnShards, (shard, s) => [binColumns.ptr + shard.start, n, shard.end - shard.start, p, grad.ptr + 16 * shard.start, columnTargets[s]], columnWork * p)
            : engine.forShards('gbmHistogramColumnsIndexed', columnShards, (shard, s) =>
              [binColumns.ptr, n, rows.ptr + 4 * shard.start, shard.end - shard.start, p, grad.ptr, columnOrdered[s], columnTargets[s]], columnWork * p),
        ]);
        for (const [dst, src] of extra) k.gbmHistogramAdd(dst, src, histPairs);
      },
      subtract(parent, small, dst) {
        k.gbmHistogramSubtract(hists[parent].ptr, hists[small].ptr, hists[dst].ptr, histPairs);
      },
      bestSplit(h, sumG, sumH) {
        k.gbmBestSplit(hists[h].ptr, p, nCuts.ptr, sumG, sumH, params.lambda, params.minChildWeight, out.ptr);
        const v = arena.viewF64(out);
        return { gain: v[0], feature: v[1], bin: v[2], leftG: v[3], leftH: v[4] };
      },
      async partitions(tasks) {
        // Each task's rows in fixed-size shards, partitioned in place in parallel; a task with
        // several shards is then compacted: every shard's left rows, then every shard's right rows.
        const shards: Shard[] = [];
        const owner: number[] = [];
        tasks.forEach((task, t) => planShards(task.count, PARTITION_SHARD_ROWS).forEach((shard) => {
          shards.push({ start: task.start + shard.start, end: task.start + shard.end });
          owner.push(t);
        }));
        const quads = taskBlock(4 * shards.length);
        const quadView = arena.viewI32(quads);
        shards.forEach((shard, e) => quadView.set([shard.start, shard.end - shard.start, tasks[owner[e]].feature, tasks[owner[e]].bin], 4 * e));
        const batches = batchRanges(shards, BATCH_ROWS);
        await engine.forShards('gbmPartitionBatch', batches, (batch) =>
          [binColumns.ptr, n, rows.ptr, scratch.ptr, quads.ptr + 16 * batch.start, batch.end - batch.start, leftBlock.ptr + 4 * batch.start], rowsOf(tasks));
        const lefts = Array.from(arena.viewI32(leftBlock).subarray(0, shards.length));
        const leftCounts = tasks.map(() => 0);
        const rowView = arena.viewI32(rows), scratchView = arena.viewI32(scratch);
        let s = 0;
        tasks.forEach((task, t) => {
          const first = s;
          while (s < shards.length && owner[s] === t) leftCounts[t] += lefts[s++];
          if (s - first === 1) return;
          let at = task.start;
          for (let q = first; q < s; q++) {
            scratchView.set(rowView.subarray(shards[q].start, shards[q].start + lefts[q]), at);
            at += lefts[q];
          }
          for (let q = first; q < s; q++) {
            scratchView.set(rowView.subarray(shards[q].start + lefts[q], shards[q].end), at);
            at += shards[q].end - shards[q].start - lefts[q];
          }
          rowView.set(scratchView.subarray(task.start, task.start + task.count), task.start);
        });
        return leftCounts;
      },
      addLeafValue(start, count, value) {
        k.gbmAddLeafValue(rows.ptr + 4 * start, count, value, margin.ptr);
      },
    };
    let scoreValid: ((tree: TreeNode[]) => Promise<number>) | undefined;
    if (valid) {
      const nv = valid.label.length;
      const vx = copyColumns(arena, valid.features, 0, nv);
      const vLabel = arena.copyF64(valid.label);
      const vMargin = arena.f64(nv);
      arena.viewF64(vMargin).fill(baseMargin);
      scoreValid = async (tree) => {
        const mark = arena.mark();
        const packed = packForest(arena, assembleForest([tree], p, 0));
        await engine.forShards('gbmScore', planShards(nv), ({ start, end }) =>
          [vx.ptr + 8 * start, nv, end - start, packed.nodes.ptr, packed.values.ptr, packed.roots.ptr, packed.depths.ptr, 1, vMargin.ptr + 8 * start], nv * 8);
        const loss = k.gbmLogLossSum(vMargin.ptr, vLabel.ptr, nv) / nv;
        arena.release(mark);
        return loss;
      };
    }
    return boost(backend, params, cuts, n, p, baseMargin, scoreValid, hooks.progress);
  });
}

// ---------------------------------------------------------------------------------------------
// Plain-TypeScript reference trainer (same policy, straightforward primitives).

export async function trainGbmReference(train: GbmData, valid: GbmData | undefined, options: Partial<GbmParams> = {}): Promise<GbmTrainingResult> {
  const params = resolveGbmParams(options);
  const { n, p } = validateData(train, 'GBM training data');
  const cuts = train.features.map((col) => quantileCuts(col, params.bins));
  const baseMargin = baseMarginOf(train.label);
  const bins = train.features.map((col, j) => Uint8Array.from(col, (x) => binOf(cuts[j], x)));
  const margin = new Float64Array(n).fill(baseMargin);
  const g = new Float64Array(n), h = new Float64Array(n);
  let rows = new Int32Array(n);
  const hists: { g: Float64Array; h: Float64Array }[] = [];
  const free: number[] = [];
  const backend: GrowthBackend = {
    resetRows() {
      rows = Int32Array.from({ length: n }, (_, i) => i);
    },
    async computeGradients() {
      for (let i = 0; i < n; i++) {
        const prob = logistic(margin[i]);
        g[i] = prob - train.label[i];
        h[i] = Math.max(prob * logistic(-margin[i]), 1e-16);
      }
    },
    gradientSum(start, count) {
      let sg = 0, sh = 0;
      for (let r = start; r < start + count; r++) {
        sg += g[rows[r]];
        sh += h[rows[r]];
      }
      return [sg, sh];
    },
    newHist() {
      if (free.length) return free.pop()!;
      hists.push({ g: new Float64Array(p * HIST_SLOTS), h: new Float64Array(p * HIST_SLOTS) });
      return hists.length - 1;
    },
    freeHist(k) {
      free.push(k);
    },
    async histograms(tasks) {
      for (const { start, count, hist: k } of tasks) {
        const hist = hists[k];
        hist.g.fill(0);
        hist.h.fill(0);
        for (let r = start; r < start + count; r++) {
          const i = rows[r];
          for (let j = 0; j < p; j++) {
            hist.g[j * HIST_SLOTS + bins[j][i]] += g[i];
            hist.h[j * HIST_SLOTS + bins[j][i]] += h[i];
          }
        }
      }
    },
    subtract(parent, small, dst) {
      for (let s = 0; s < p * HIST_SLOTS; s++) {
        hists[dst].g[s] = hists[parent].g[s] - hists[small].g[s];
        hists[dst].h[s] = hists[parent].h[s] - hists[small].h[s];
      }
    },
    bestSplit(k, sumG, sumH) {
      const hist = hists[k];
      const best: Split = { gain: -Infinity, feature: -1, bin: -1, leftG: 0, leftH: 0 };
      const parentScore = (sumG * sumG) / (sumH + params.lambda);
      for (let j = 0; j < p; j++) {
        let gl = 0, hl = 0;
        for (let b = 0; b < cuts[j].length; b++) {
          gl += hist.g[j * HIST_SLOTS + b];
          hl += hist.h[j * HIST_SLOTS + b];
          const hr = sumH - hl;
          if (hl < params.minChildWeight || hr < params.minChildWeight) continue;
          const gr = sumG - gl;
          const gain = (gl * gl) / (hl + params.lambda) + (gr * gr) / (hr + params.lambda) - parentScore;
          if (gain > best.gain) Object.assign(best, { gain, feature: j, bin: b, leftG: gl, leftH: hl });
        }
      }
      return best;
    },
    async partitions(tasks) {
      return tasks.map(({ start, count, feature, bin }) => {
        const slice = Array.from(rows.subarray(start, start + count));
        const left = slice.filter((i) => bins[feature][i] <= bin);
        const right = slice.filter((i) => bins[feature][i] > bin);
        rows.set(left, start);
        rows.set(right, start + left.length);
        return left.length;
      });
    },
    addLeafValue(start, count, value) {
      for (let r = start; r < start + count; r++) margin[rows[r]] += value;
    },
  };
  let scoreValid: ((tree: TreeNode[]) => Promise<number>) | undefined;
  if (valid && valid.label.length > 0) {
    const nv = valid.label.length;
    const vMargin = new Float64Array(nv).fill(baseMargin);
    scoreValid = async (tree) => {
      const forest = assembleForest([tree], p, 0);
      let loss = 0;
      for (let i = 0; i < nv; i++) {
        vMargin[i] += scoreRowReference(forest, valid!.features, i);
        loss += softplus(vMargin[i]) - valid!.label[i] * vMargin[i];
      }
      return loss / nv;
    };
  }
  return boost(backend, params, cuts, n, p, baseMargin, scoreValid);
}

// ---------------------------------------------------------------------------------------------
// Scoring.

/** Rows per chunk copied into kernel memory at a time (bounded memory for any row count). */
const SCORE_CHUNK_ROWS = 1 << 18;

function validateForest(forest: Forest): void {
  const total = forest.feature.length;
  for (const [name, arr] of [['threshold', forest.threshold], ['left', forest.left], ['right', forest.right], ['defaultLeft', forest.defaultLeft], ['value', forest.value]] as const) {
    if (arr.length !== total) throw badInput(`forest: ${name} has ${arr.length} entries, feature has ${total}`);
  }
  for (let i = 0; i < total; i++) {
    if (forest.left[i] < 0) {
      if (!Number.isFinite(forest.value[i])) throw badInput(`forest: leaf ${i} has value ${forest.value[i]}`);
      continue;
    }
    if (forest.left[i] >= total || forest.right[i] !== forest.left[i] + 1) throw badInput(`forest: node ${i} has children ${forest.left[i]}, ${forest.right[i]} (the right child must follow the left one)`);
    if (forest.feature[i] < 0 || forest.feature[i] >= forest.featureCount) throw badInput(`forest: node ${i} splits on feature ${forest.feature[i]}, outside 0..${forest.featureCount - 1}`);
    if (Number.isNaN(forest.threshold[i])) throw badInput(`forest: node ${i} has a NaN threshold`);
  }
  for (const r of forest.roots) if (r < 0 || r >= total) throw badInput(`forest: root ${r} outside 0..${total - 1}`);
}

function validateColumns(forest: Forest, features: readonly ArrayLike<number>[], allowMissing: boolean): number {
  if (features.length < forest.featureCount) throw badInput(`the model uses ${forest.featureCount} features, got ${features.length} columns`);
  const n = features.length ? features[0].length : 0;
  features.forEach((col, j) => {
    if (col.length !== n) throw badInput(`feature column ${j} has ${col.length} rows, column 0 has ${n}`);
    if (!allowMissing) for (let i = 0; i < n; i++) if (!Number.isFinite(col[i])) throw badInput(`feature ${j}, row ${i} is ${col[i]}, not a finite number`);
  });
  return n;
}

/**
 * Margins (logits) baseMargin + Σ trees for every row, in the kernels: rows in chunks, each chunk
 * sharded over the engine's threads. NaN is a missing value (defaultLeft) when `allowMissing`.
 */
export async function scoreForest(forest: Forest, features: readonly ArrayLike<number>[], engine: Engine = getDefaultEngine(), allowMissing = forest.float32): Promise<Float64Array> {
  validateForest(forest);
  const n = validateColumns(forest, features, true);
  const p = forest.featureCount;
  const result = new Float64Array(n);
  if (n === 0) return result;
  const kernel = forest.float32 ? 'gbmScoreFloat32' : 'gbmScore';
  const used = features.slice(0, p);
  return engine.exclusive(async (arena) => {
    const packed = packForest(arena, forest);
    const chunkRows = Math.min(n, SCORE_CHUNK_ROWS);
    // Two buffers: the next chunk is copied (and checked) while the threads score this one.
    const xs = [arena.f64(p * chunkRows), arena.f64(p * chunkRows)];
    const outs = [arena.f64(chunkRows), arena.f64(chunkRows)];
    const prepare = (start: number, buffer: number) => {
      const rows = Math.min(chunkRows, n - start);
      copyColumns(arena, used, start, rows, xs[buffer]);
      if (!allowMissing) {
        const view = arena.viewF64(xs[buffer]);
        for (let j = 0; j < p; j++) {
          for (let i = j * rows, end = i + rows; i < end; i++) {
            if (view[i] - view[i] !== 0) throw badInput(`feature ${j}, row ${start + i - j * rows} is ${view[i]}, not a finite number`);
          }
        }
      }
      arena.viewF64(outs[buffer]).fill(forest.baseMargin, 0, rows);
    };
    prepare(0, 0);
    for (let start = 0, buffer = 0; start < n; start += chunkRows, buffer ^= 1) {
      const rows = Math.min(chunkRows, n - start);
      const x = xs[buffer], out = outs[buffer];
      const pending = engine.forShards(kernel, planShards(rows), ({ start: s, end }) =>
        [x.ptr + 8 * s, rows, end - s, packed.nodes.ptr, packed.values.ptr, packed.roots.ptr, packed.depths.ptr, packed.trees, out.ptr + 8 * s], rows * packed.trees);
      try {
        if (start + chunkRows < n) prepare(start + chunkRows, buffer ^ 1);
      } finally {
        await pending; // never release memory the threads still read
      }
      result.set(arena.viewF64(out).subarray(0, rows), start);
    }
    return result;
  });
}

/** The leaf value row i reaches in the tree rooted at `root` (plain TypeScript). */
export function leafValueReference(forest: Forest, features: readonly ArrayLike<number>[], i: number, root: number): number {
  let node = root;
  while (forest.left[node] >= 0) {
    const x = features[forest.feature[node]][i];
    let goLeft: boolean;
    if (Number.isNaN(x)) goLeft = forest.defaultLeft[node] === 1;
    else goLeft = forest.float32 ? Math.fround(x) < forest.threshold[node] : x <= forest.threshold[node];
    node = goLeft ? forest.left[node] : forest.right[node];
  }
  return forest.value[node];
}

function scoreRowReference(forest: Forest, features: readonly ArrayLike<number>[], i: number): number {
  let s = 0;
  for (const root of forest.roots) s += leafValueReference(forest, features, i, root);
  return s;
}

export function scoreForestReference(forest: Forest, features: readonly ArrayLike<number>[]): Float64Array {
  validateForest(forest);
  const n = validateColumns(forest, features, true);
  return Float64Array.from({ length: n }, (_, i) => forest.baseMargin + scoreRowReference(forest, features, i));
}

/** Mean log-loss of margins against 0/1 labels. */
export function meanLogLoss(margin: ArrayLike<number>, label: ArrayLike<number>): number {
  if (margin.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < margin.length; i++) s += softplus(margin[i]) - label[i] * margin[i];
  return s / margin.length;
}

/** Area under the ROC curve (ties count one half), by ranking the scores. */
export function rocAuc(score: ArrayLike<number>, label: ArrayLike<number>): number {
  const n = score.length;
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a] - score[b]);
  let rankSumPositive = 0, positives = 0;
  for (let r = 0; r < n; ) {
    let e = r;
    while (e + 1 < n && score[order[e + 1]] === score[order[r]]) e++;
    const midRank = (r + e) / 2 + 1;
    for (let k = r; k <= e; k++) if (label[order[k]] === 1) {
      rankSumPositive += midRank;
      positives++;
    }
    r = e + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return NaN;
  return (rankSumPositive - (positives * (positives + 1)) / 2) / (positives * negatives);
}

