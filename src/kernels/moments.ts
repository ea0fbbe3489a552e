// GMM moment kernels (assembly/moments.ts): a workspace that keeps the estimation data resident
// in the engine's arena for the whole solve, and the plain-TypeScript references of each kernel.
//
// Customers are sorted by market; shards never cross a market boundary, every kernel writes its
// own per-shard slot, and `perMarket` sums the slots in shard order, so the sums are
// bit-identical whatever the thread count.
import { PromoptError } from '../errors.js';
import { planShards, type Engine, type Shard } from '../parallel/engine.js';
import type { Arena, Block } from './runtime.js';
import { logistic, softplus } from './math.js';

/** Entries of a packed upper triangle of a (k+1)×(k+1) symmetric matrix. */
export function packedSize(k: number): number {
  return ((k + 1) * (k + 2)) / 2;
}

/** Position of (j, l) in the packed, row-major upper triangle of a (k+1)×(k+1) matrix. */
export function packedIndex(j: number, l: number, k: number): number {
  if (j > l) [j, l] = [l, j];
  return j * (k + 1) - (j * (j - 1)) / 2 + (l - j);
}

/** Where a group of weight columns lives: a block of columns and the first column used. */
export interface WeightColumns {
  block: Block;
  first: number;
  count: number;
}

/**
 * The estimation data resident in the arena: covariates column by column (customers sorted by
 * market) and scratch columns, all of length n. Create it inside `engine.exclusive`.
 */
export class MomentWorkspace {
  readonly shards: Shard[];
  /** Market of each shard. */
  readonly shardMarket: Int32Array;
  readonly x: Block;
  private readonly slots: Block;
  private readonly slotSize: number;
  private readonly betaBlock: Block;

  constructor(
    readonly engine: Engine,
    readonly arena: Arena,
    readonly n: number,
    readonly k: number,
    /** Index of each market's first customer (ascending, starting at 0). */
    readonly marketStarts: readonly number[],
    covariates: readonly ArrayLike<number>[],
    /** Widest per-shard output the caller will ask for, in f64 entries. */
    maxSlot: number,
    shardSize?: number,
  ) {
    if (covariates.length !== k) throw new PromoptError('INTERNAL', `expected ${k} covariate columns, got ${covariates.length}`);
    this.shards = planShards(n, shardSize, marketStarts);
    this.shardMarket = new Int32Array(this.shards.length);
    let m = 0;
    this.shards.forEach((shard, s) => {
      while (m + 1 < marketStarts.length && shard.start >= marketStarts[m + 1]) m++;
      this.shardMarket[s] = m;
    });
    this.x = arena.f64(Math.max(1, k * n));
    const view = arena.viewF64(this.x);
    covariates.forEach((col, j) => {
      if (col.length !== n) throw new PromoptError('INTERNAL', `covariate column ${j} has ${col.length} entries, expected ${n}`);
      view.set(col, j * n);
    });
    this.slotSize = Math.max(2, maxSlot);
    this.slots = arena.f64(this.shards.length * this.slotSize);
    this.betaBlock = arena.f64(marketStarts.length * Math.max(1, k));
  }

  get markets(): number {
    return this.marketStarts.length;
  }

  /** A block of `count` columns of n entries. */
  columns(count: number): Block {
    return this.arena.f64(count * this.n);
  }

  /** A fresh view (memory may have grown since the last one). */
  view(block: Block): Float64Array {
    return this.arena.viewF64(block);
  }

  /** One column of a multi-column block, as a view. */
  column(block: Block, index: number): Float64Array {
    return this.view(block).subarray(index * this.n, (index + 1) * this.n);
  }

  private slotView(): Float64Array {
    return this.arena.viewF64(this.slots);
  }

  /** Sums `width` entries of each shard's slot into its market, in shard order. */
  private perMarket(width: number): Float64Array[] {
    const out = this.marketStarts.map(() => new Float64Array(width));
    const slots = this.slotView();
    for (let s = 0; s < this.shards.length; s++) {
      const target = out[this.shardMarket[s]];
      const base = s * this.slotSize;
      for (let t = 0; t < width; t++) target[t] += slots[base + t];
    }
    return out;
  }

  /**
   * out_i = intercept + x_i'β_m, with a coefficient vector per market (e.g. β_v − p_m β_α) or
   * one for all markets.
   */
  async linearIndex(beta: ArrayLike<number> | readonly ArrayLike<number>[], out: Block, intercept = 0): Promise<void> {
    const { k, n } = this;
    const perMarket = typeof (beta as ArrayLike<number>[])[0] === 'object';
    const betas = this.view(this.betaBlock);
    for (let m = 0; m < this.markets; m++) {
      const b = perMarket ? (beta as ArrayLike<number>[])[m] : (beta as ArrayLike<number>);
      if (b.length !== k) throw new PromoptError('INTERNAL', `coefficient vector has ${b.length} entries, expected ${k}`);
      for (let j = 0; j < k; j++) betas[m * k + j] = b[j];
    }
    await this.engine.forShards('linearPredictor', this.shards, ({ start, end }, s) => [
      this.x.ptr + start * 8, n, end - start, k, this.betaBlock.ptr + this.shardMarket[s] * k * 8, intercept, out.ptr + start * 8,
    ], n * k);
  }

  /**
   * Per market: Σ ω(Λ(δ_m + o) − y) and its δ-slope Σ ω Λ'. `weight` null means ω = 1.
   */
  async inversionSums(offset: Block, weight: Block | null, outcome: Block, delta: ArrayLike<number>): Promise<{ value: Float64Array; slope: Float64Array }> {
    await this.engine.forShards('inversionSums', this.shards, ({ start, end }, s) => [
      offset.ptr + start * 8, weight ? weight.ptr + start * 8 : 0, outcome.ptr + start * 8, end - start,
      delta[this.shardMarket[s]], this.slots.ptr + s * this.slotSize * 8,
    ], this.n * 4);
    const sums = this.perMarket(2);
    return { value: Float64Array.from(sums, (v) => v[0]), slope: Float64Array.from(sums, (v) => v[1]) };
  }

  /** Purchase-stage weight columns (see assembly/moments.ts purchaseWeights) into a 6-column block. */
  async purchaseWeights(a: Block, xa: Block, e: Block, y: Block, delta: ArrayLike<number>, out: Block): Promise<void> {
    await this.engine.forShards('purchaseWeights', this.shards, ({ start, end }, s) => [
      a.ptr + start * 8, xa.ptr + start * 8, e.ptr + start * 8, y.ptr + start * 8, end - start,
      delta[this.shardMarket[s]], out.ptr + start * 8, this.n,
    ], this.n * 8);
  }

  /** Sharing-stage weight columns (see assembly/moments.ts sharingWeights) into a 7-column block. */
  async sharingWeights(o: Block, s: Block, w: Block, demand: Block, kappa: ArrayLike<number>, sigma: number, out: Block): Promise<void> {
    await this.engine.forShards('sharingWeights', this.shards, ({ start, end }, sh) => [
      o.ptr + start * 8, s.ptr + start * 8, w.ptr + start * 8, demand.ptr + start * 8, end - start,
      kappa[this.shardMarket[sh]], sigma, out.ptr + start * 8, this.n,
    ], this.n * 8);
  }

  /**
   * Per market: Σ w x̄x̄' (packed) for each full weight column, then Σ w x̄ for each vector
   * weight column, concatenated (see gramLayout).
   */
  async gram(full: WeightColumns | null, vec: WeightColumns | null): Promise<Float64Array[]> {
    const { k, n } = this;
    const nFull = full?.count ?? 0, nVec = vec?.count ?? 0;
    const width = nFull * packedSize(k) + nVec * (k + 1);
    if (width > this.slotSize) throw new PromoptError('INTERNAL', `gram output of ${width} entries exceeds the slot of ${this.slotSize}`);
    const fullPtr = full ? full.block.ptr + full.first * n * 8 : 0;
    const vecPtr = vec ? vec.block.ptr + vec.first * n * 8 : 0;
    await this.engine.forShards('gramSums', this.shards, ({ start, end }, s) => [
      this.x.ptr + start * 8, n, end - start, k, fullPtr + start * 8, nFull, vecPtr + start * 8, nVec, n,
      this.slots.ptr + s * this.slotSize * 8,
    ], n * (nFull * packedSize(k) + nVec * (k + 1)));
    return this.perMarket(width);
  }
}

// ---------------------------------------------------------------------------------------------
// Plain-TypeScript references (Math.exp / Math.log1p), customers of one market or shard.

export function inversionSumsReference(offset: ArrayLike<number>, weight: ArrayLike<number> | null, outcome: ArrayLike<number>, delta: number): { value: number; slope: number } {
  let value = 0, slope = 0;
  for (let i = 0; i < offset.length; i++) {
    const z = delta + offset[i];
    const p = logistic(z);
    const w = weight ? weight[i] : 1;
    value += w * (p - outcome[i]);
    slope += w * p * logistic(-z);
  }
  return { value, slope };
}

/** Columns w, wq, rq, r, D, EU as in the kernel. */
export function purchaseWeightsReference(a: ArrayLike<number>, xa: ArrayLike<number>, e: ArrayLike<number>, y: ArrayLike<number>, delta: number): Float64Array[] {
  const n = a.length;
  const cols = Array.from({ length: 6 }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const z = delta + a[i];
    const d = logistic(z);
    const w = e[i] * d * logistic(-z);
    const q = Math.exp(xa[i]);
    const r = e[i] * (d - y[i]);
    cols[0][i] = w; cols[1][i] = w * q; cols[2][i] = r * q; cols[3][i] = r; cols[4][i] = d; cols[5][i] = softplus(z);
  }
  return cols;
}

/** Columns vsD, v, vs, vt, vts, S − w, (S − w)s as in the kernel. */
export function sharingWeightsReference(o: ArrayLike<number>, s: ArrayLike<number>, w: ArrayLike<number>, demand: ArrayLike<number>, kappa: number, sigma: number): Float64Array[] {
  const n = o.length;
  const cols = Array.from({ length: 7 }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const z = kappa + o[i];
    const share = logistic(z);
    const v = share * logistic(-z);
    const t = z / sigma;
    cols[0][i] = v * s[i] * demand[i]; cols[1][i] = v; cols[2][i] = v * s[i]; cols[3][i] = v * t; cols[4][i] = v * t * s[i];
    cols[5][i] = share - w[i]; cols[6][i] = (share - w[i]) * s[i];
  }
  return cols;
}

/** Σ w x̄x̄' (packed) per full weight, then Σ w x̄ per vector weight, x given as k columns. */
export function gramSumsReference(x: readonly ArrayLike<number>[], full: readonly ArrayLike<number>[], vec: readonly ArrayLike<number>[]): Float64Array {
  const k = x.length;
  const p = packedSize(k);
  const out = new Float64Array(full.length * p + vec.length * (k + 1));
  const n = full[0]?.length ?? vec[0]?.length ?? 0;
  const xbar = new Float64Array(k + 1);
  for (let i = 0; i < n; i++) {
    xbar[0] = 1;
    for (let j = 0; j < k; j++) xbar[j + 1] = x[j][i];
    full.forEach((w, t) => {
      const wi = w[i];
      let o = t * p;
      for (let j = 0; j <= k; j++) for (let l = j; l <= k; l++) out[o++] += wi * xbar[j] * xbar[l];
    });
    vec.forEach((w, t) => {
      const wi = w[i];
      const o = full.length * p + t * (k + 1);
      for (let j = 0; j <= k; j++) out[o + j] += wi * xbar[j];
    });
  }
  return out;
}
