// Budgeted coupon allocation (SPEC §2): wrappers over assembly/allocation.ts and their
// plain-TypeScript references. The search for λ lives in src/coupons/allocate.ts; this file only
// knows memory layouts, shards and how to run one pass of a kernel.
//
// Each customer's options are lines in λ, h_j(λ) = q_j − λ c_j with c_j = q_j d_j; the policy is
// their upper envelope (ties to the smaller discount). See assembly/allocation.ts for the walk.
import { PromoptError } from '../errors.js';
import { planShards, type Engine, type Shard } from '../parallel/engine.js';
import type { Arena, Block } from './runtime.js';
import { logistic } from './math.js';

/** Customers per shard: large, so that per-shard histograms stay few (77 shards at 20M). */
export const ALLOCATION_SHARD_SIZE = 1 << 18;
/** Customers per block of totals: the unit of re-evaluation. */
export const ALLOCATION_BLOCK_SIZE = 1 << 8;
/** Totals per block: expected discount, expected revenue, λ → ∞ expected discount, vertices in range, then one count per option. */
export const TOTALS_HEAD = 4;
export const T_DISCOUNT = 0;
export const T_REVENUE = 1;
export const T_LIMIT = 2;
export const T_VERTICES = 3;
/** A collected vertex: λ, drop in expected discount at λ, drop just above λ, customer index. */
export const RECORD_FIELDS = 4;

const MODE_HISTOGRAM = 0;
const MODE_COLLECT = 1;
const MODE_POLICY = 2;

// ---- the integer line of λ ≥ 1 that histograms bin ------------------------------------------

const bitsView = new DataView(new ArrayBuffer(8));
const ONE_BITS = 0x3ff0000000000000n;

/** bits(λ) − bits(1): an integer that increases with λ ≥ 1 (IEEE order), one step per double. */
export function lambdaKey(lambda: number): bigint {
  bitsView.setFloat64(0, lambda);
  return bitsView.getBigUint64(0) - ONE_BITS;
}

export function lambdaOfKey(key: bigint): number {
  bitsView.setBigUint64(0, key + ONE_BITS);
  return bitsView.getFloat64(0);
}

/** The key of +∞: every finite λ ≥ 1 lies below it. */
export const KEY_INFINITY = lambdaKey(Infinity);

/** The smallest double above λ (λ ≥ 1, finite). */
export function nextLambda(lambda: number): number {
  return lambdaOfKey(lambdaKey(lambda) + 1n);
}

/** The largest double below λ (λ > 1). */
export function previousLambda(lambda: number): number {
  return lambdaOfKey(lambdaKey(lambda) - 1n);
}

/** Keys [lo, hi) cut into bins of 2^shift keys; the last bin also takes everything up to hi. */
export interface Bracket {
  lo: bigint;
  hi: bigint;
  shift: number;
}

/** Bin b of a bracket as a bracket of its own. */
export function binBracket(bracket: Bracket, bin: number, nBins: number): { lo: bigint; hi: bigint } {
  const lo = bracket.lo + (BigInt(bin) << BigInt(bracket.shift));
  const hi = bin === nBins - 1 ? bracket.hi : lo + (1n << BigInt(bracket.shift));
  return { lo, hi: hi < bracket.hi ? hi : bracket.hi };
}

/** The smallest shift whose nBins bins cover [lo, hi). */
export function coveringShift(lo: bigint, hi: bigint, nBins: number): number {
  const width = hi - lo;
  let shift = 0;
  while ((BigInt(nBins) << BigInt(shift)) < width) shift++;
  return shift;
}

// ---- wasm passes ------------------------------------------------------------------------------

interface AllocationExports {
  couponEnvelope(
    fPtr: number, gPtr: number, spendPtr: number, n: number, discountsPtr: number, k: number, nominal: number, scratch: number,
    mode: number, lambda: number, lambdaLo: number, lambdaHi: number, shift: number, nBins: number,
    histWeightPtr: number, histCountPtr: number, recordsPtr: number, capacity: number, writtenPtr: number, firstCustomer: number,
    indexPtr: number, totalsPtr: number, blockShift: number, slotLambdaPtr: number, slotOptionPtr: number,
  ): void;
  couponPolicyDirect(
    fPtr: number, gPtr: number, spendPtr: number, n: number, discountsPtr: number, k: number, nominal: number,
    lambda: number, limit: number, indexPtr: number, totalsPtr: number, blockShift: number,
  ): void;
}

/** Customers' response parameters as struct-of-arrays; spend defaults to 1. */
export interface CouponResponseArrays {
  f: ArrayLike<number>;
  g: ArrayLike<number>;
  spend?: ArrayLike<number>;
}

/** Histogram of vertices per shard: weights (drops in expected discount) and counts, nBins each. */
export interface VertexHistogram {
  nBins: number;
  weights: Float64Array;
  counts: Int32Array;
}

/**
 * One allocation job's memory: inputs copied into the arena once, per-shard scratch, per-block
 * totals and the assignment. Create it inside `engine.exclusive`; it is gone when the job ends.
 *
 * Totals are kept per block of `blockSize` customers (summed in customer order inside the
 * kernel) and added up over blocks in order: the same numbers for any shard size or thread
 * count, and a few customers' choices can be re-evaluated by recomputing only their blocks.
 */
export class AllocationPasses {
  readonly n: number;
  readonly k: number;
  readonly shards: Shard[];
  readonly blocks: number;
  private readonly blockShift: number;
  private readonly f: Block;
  private readonly g: Block;
  private readonly spend: Block | undefined;
  private readonly discounts: Block;
  private readonly scratch: Block;
  private readonly scratchStride: number;
  private readonly totals: Block;
  private readonly written: Block;
  /** Each customer's option (index into the discounts) from the last pass that wrote it. */
  readonly index: Block;
  /** Every customer's vertices (f32 λ, options), written by the first full histogram pass; see enableSlots. */
  private slots: { lambda: Block; option: Block; written: boolean } | undefined;

  constructor(
    private readonly engine: Engine, private readonly arena: Arena, input: CouponResponseArrays,
    readonly discountList: readonly number[], readonly nominal: number,
    readonly shardSize = ALLOCATION_SHARD_SIZE, readonly blockSize = ALLOCATION_BLOCK_SIZE,
  ) {
    if (!Number.isInteger(Math.log2(blockSize)) || blockSize < 2) throw new PromoptError('BAD_INPUT', `block size must be a power of two ≥ 2, got ${blockSize}`);
    if (!Number.isInteger(shardSize) || shardSize < blockSize || shardSize % blockSize !== 0) {
      throw new PromoptError('BAD_INPUT', `shard size must be a positive multiple of the block size ${blockSize}, got ${shardSize}`);
    }
    this.n = input.f.length;
    this.k = discountList.length;
    this.shards = planShards(this.n, shardSize);
    this.blockShift = Math.log2(blockSize);
    this.blocks = Math.ceil(this.n / blockSize);
    this.f = arena.copyF64(input.f);
    this.g = arena.copyF64(input.g);
    this.spend = input.spend ? arena.copyF64(input.spend) : undefined;
    this.discounts = arena.copyF64(discountList);
    this.scratchStride = 2 * (2 * this.k + this.k * this.k); // f64 per shard: Q, C, crossings, two lanes each
    this.scratch = arena.f64(Math.max(1, this.shards.length) * this.scratchStride);
    this.totals = arena.f64(Math.max(1, this.blocks) * this.totalsStride);
    this.written = arena.i32(Math.max(1, this.shards.length));
    this.index = arena.i32(this.n);
  }

  get totalsStride(): number {
    return TOTALS_HEAD + this.k;
  }

  private get exports(): AllocationExports {
    return this.engine.runtime.exports as unknown as AllocationExports;
  }

  /** Every block's totals (blocks × totalsStride), copied out. */
  private readTotals(): Float64Array {
    return this.arena.viewF64(this.totals).slice();
  }

  private totalsPtr(start: number): number {
    return this.totals.ptr + (start >> this.blockShift) * this.totalsStride * 8;
  }

  /**
   * Keeps every customer's vertices (4 (k − 1) + 2k bytes each) from the next full-range
   * histogram pass, so that later collect passes walk only the customers with a vertex near their
   * range and take everybody else's option from the slots (one q instead of k, no crossings).
   * Returns false, keeping nothing, when that memory would push the arena past `limitBytes`.
   */
  enableSlots(limitBytes = 3 * 2 ** 30): boolean {
    if (this.slots) return true;
    const lambdaBytes = this.n * (this.k - 1) * 4, optionBytes = this.n * 2 * this.k;
    if (this.k < 2 || this.k > 255 || this.arena.used + lambdaBytes + optionBytes + 64 > limitBytes) return false;
    this.slots = { lambda: this.arena.i32(this.n * (this.k - 1)), option: this.arena.i32(Math.ceil(optionBytes / 4)), written: false };
    return true;
  }

  private envelopeArgs(shard: Shard, s: number, mode: number, lambda: number, range: { lo: bigint; hi: bigint }, shift: number,
    nBins: number, hist: { weights: Block; counts: Block } | undefined, records: { block: Block; offset: number; capacity: number } | undefined,
    writeIndex: boolean, useSlots = false): number[] {
    const o8 = shard.start * 8;
    const slots = useSlots ? this.slots : undefined;
    return [
      this.f.ptr + o8, this.g.ptr + o8, this.spend ? this.spend.ptr + o8 : 0, shard.end - shard.start,
      this.discounts.ptr, this.k, this.nominal, this.scratch.ptr + s * this.scratchStride * 8,
      mode, lambda, lambdaOfKey(range.lo), lambdaOfKey(range.hi), shift, nBins,
      hist ? hist.weights.ptr + s * nBins * 8 : 0, hist ? hist.counts.ptr + s * nBins * 4 : 0,
      records ? records.block.ptr + records.offset * RECORD_FIELDS * 8 : 0, records ? records.capacity : 0,
      this.written.ptr + s * 4, shard.start,
      writeIndex ? this.index.ptr + shard.start * 4 : 0, this.totalsPtr(shard.start), this.blockShift,
      slots ? slots.lambda.ptr + shard.start * (this.k - 1) * 4 : 0, slots ? slots.option.ptr + shard.start * 2 * this.k : 0,
    ];
  }

  /**
   * Histogram of the vertices with key in [bracket.lo, bracket.hi) over nBins bins, per shard;
   * also the block totals at λ = 1 and as λ → ∞, and (writeIndex) the options at λ = 1. A
   * full-range pass (bracket.hi = ∞) fills the slots when they are enabled.
   */
  async histogram(bracket: Bracket, nBins: number, writeIndex: boolean): Promise<{ totals: Float64Array; histogram: VertexHistogram }> {
    const S = this.shards.length;
    const writeSlots = this.slots !== undefined && !this.slots.written && bracket.lo === 0n && bracket.hi === KEY_INFINITY;
    return this.arena.scoped(async () => {
      const weights = this.arena.f64(S * nBins), counts = this.arena.i32(S * nBins);
      this.arena.viewF64(weights).fill(0);
      this.arena.viewI32(counts).fill(0);
      this.arena.viewF64(this.totals).fill(0);
      await this.engine.forShards('couponEnvelope', this.shards,
        (shard, s) => this.envelopeArgs(shard, s, MODE_HISTOGRAM, 1, bracket, bracket.shift, nBins, { weights, counts }, undefined, writeIndex, writeSlots),
        this.n * this.k);
      if (writeSlots) this.slots!.written = true;
      return {
        totals: this.readTotals(),
        histogram: { nBins, weights: this.arena.viewF64(weights).slice(), counts: this.arena.viewI32(counts).slice() },
      };
    });
  }

  /**
   * The vertices with key in [range.lo, range.hi), as records in shard then customer order;
   * `capacities[s]` bounds shard s's count (known from a histogram, or (k − 1) per customer).
   * Also the block totals at `lambda` (≤ the range) and as λ → ∞ (when range.hi is ∞), and
   * (writeIndex) the options at `lambda`. With slots filled and `lambda` at the range's start,
   * only customers with a vertex near the range are walked (the λ → ∞ totals are then not kept).
   */
  async collect(range: { lo: bigint; hi: bigint }, capacities: readonly number[], writeIndex: boolean, lambda = 1): Promise<{ totals: Float64Array; records: Float64Array }> {
    const offsets: number[] = [];
    let total = 0;
    for (const c of capacities) { offsets.push(total); total += c; }
    return this.arena.scoped(async () => {
      const block = this.arena.f64(total * RECORD_FIELDS);
      this.arena.viewI32(this.written).fill(0);
      this.arena.viewF64(this.totals).fill(0);
      await this.engine.forShards('couponEnvelope', this.shards,
        (shard, s) => this.envelopeArgs(shard, s, MODE_COLLECT, lambda, range, 0, 1, undefined, { block, offset: offsets[s], capacity: capacities[s] }, writeIndex,
          this.slots?.written === true && lambda === lambdaOfKey(range.lo)),
        this.n * this.k);
      const written = this.arena.viewI32(this.written);
      const all = this.arena.viewF64(block);
      let kept = 0;
      for (let s = 0; s < this.shards.length; s++) kept += written[s];
      const records = new Float64Array(kept * RECORD_FIELDS);
      let at = 0;
      for (let s = 0; s < this.shards.length; s++) {
        if (written[s] > capacities[s]) throw new PromoptError('INTERNAL', `allocation: shard ${s} found ${written[s]} vertices where the histogram counted ${capacities[s]}`);
        records.set(all.subarray(offsets[s] * RECORD_FIELDS, (offsets[s] + written[s]) * RECORD_FIELDS), at);
        at += written[s] * RECORD_FIELDS;
      }
      return { totals: this.readTotals(), records };
    });
  }

  /**
   * The envelope policy at λ over all customers, or only over the given blocks (ascending, run
   * on the calling thread: a partial pass is too small for the pool): writes their options and
   * returns every block's totals (the others as they were).
   */
  async policy(lambda: number, blocks?: readonly number[]): Promise<Float64Array> {
    const view = this.arena.viewF64(this.totals);
    const none = { lo: 0n, hi: 0n };
    if (!blocks) {
      view.fill(0);
      await this.engine.forShards('couponEnvelope', this.shards,
        (shard, s) => this.envelopeArgs(shard, s, MODE_POLICY, lambda, none, 0, 1, undefined, undefined, true), this.n * this.k);
      return this.readTotals();
    }
    const kernel = this.exports.couponEnvelope;
    let run: Shard | undefined;
    const flush = () => {
      if (!run) return;
      const args = this.envelopeArgs(run, 0, MODE_POLICY, lambda, none, 0, 1, undefined, undefined, true);
      (kernel as (...a: number[]) => void)(...args);
      run = undefined;
    };
    for (const b of blocks) {
      const start = b * this.blockSize, end = Math.min(this.n, start + this.blockSize);
      view.fill(0, b * this.totalsStride, (b + 1) * this.totalsStride);
      if (run && run.end === start) run.end = end; // adjacent blocks in one call
      else { flush(); run = { start, end }; }
    }
    flush();
    return this.readTotals();
  }

  /** The direct argmax policy at λ (limit: λ → ∞) over all customers; writes the options if asked. */
  async direct(lambda: number, limit: boolean, writeIndex: boolean): Promise<Float64Array> {
    this.arena.viewF64(this.totals).fill(0);
    await this.engine.forShards('couponPolicyDirect', this.shards, (shard) => {
      const o8 = shard.start * 8;
      return [
        this.f.ptr + o8, this.g.ptr + o8, this.spend ? this.spend.ptr + o8 : 0, shard.end - shard.start,
        this.discounts.ptr, this.k, this.nominal, lambda, limit ? 1 : 0,
        writeIndex ? this.index.ptr + shard.start * 4 : 0, this.totalsPtr(shard.start), this.blockShift,
      ];
    }, this.n * this.k);
    return this.readTotals();
  }

  /** Copies the assignment out of the arena. */
  assignment(): Int32Array {
    return this.arena.viewI32(this.index).slice();
  }

  /** Which block holds customer i. */
  blockOf(customer: number): number {
    return customer >> this.blockShift;
  }
}

/** Sums one field of the block totals in block order (the same for any shard size or thread count). */
export function sumField(totals: Float64Array, field: number, stride: number): number {
  let sum = 0;
  for (let at = field; at < totals.length; at += stride) sum += totals[at];
  return sum;
}

// ---- plain-TypeScript references --------------------------------------------------------------

/** q_j = Λ(f + g (d_j − d0)) and c_j = q_j d_j for one customer, with Math.exp. */
export function couponResponseReference(f: number, g: number, discounts: readonly number[], nominal: number): { q: Float64Array; c: Float64Array } {
  const k = discounts.length;
  const q = new Float64Array(k), c = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    q[j] = logistic(f + g * (discounts[j] - nominal));
    c[j] = q[j] * discounts[j];
  }
  return { q, c };
}

/** argmax_j q_j (1 − λ d_j), ties to the smaller discount; λ = ∞: smallest c, then larger q. */
export function directOptionReference(q: ArrayLike<number>, discounts: readonly number[], lambda: number): number {
  let best = 0;
  if (lambda === Infinity) {
    for (let j = 1; j < discounts.length; j++) {
      const cj = q[j] * discounts[j], cb = q[best] * discounts[best];
      if (cj < cb || (cj === cb && q[j] > q[best])) best = j;
    }
    return best;
  }
  let bestValue = q[0] * (1 - lambda * discounts[0]);
  for (let j = 1; j < discounts.length; j++) {
    const h = q[j] * (1 - lambda * discounts[j]);
    if (h > bestValue) { bestValue = h; best = j; }
  }
  return best;
}

/** A λ where a customer's choice changes: `left` below it, `tie` at it, `right` above it. */
export interface EnvelopeVertex {
  lambda: number;
  left: number;
  tie: number;
  right: number;
}

/** A customer's policy over λ ≥ 1: the option at λ = 1 before any vertex, the vertices, the λ → ∞ option. */
export interface CustomerEnvelope {
  start: number;
  vertices: EnvelopeVertex[];
  limit: number;
}

/** The upper envelope of the lines q_j − λ c_j over λ ≥ 1, walked as the kernel walks it. */
export function envelopeReference(q: ArrayLike<number>, c: ArrayLike<number>, discounts: readonly number[]): CustomerEnvelope {
  const k = q.length;
  const start = directOptionReference(q, discounts, 1);
  const crossing = (a: number, b: number) => (a < b ? (q[a] - q[b]) / (c[a] - c[b]) : (q[b] - q[a]) / (c[b] - c[a]));
  const vertices: EnvelopeVertex[] = [];
  let cur = start;
  let pos = 1;
  for (;;) {
    let best = Infinity, next = -1, tie = cur;
    for (let j = 0; j < k; j++) {
      if (!(c[j] < c[cur])) continue;
      let x = crossing(j, cur);
      if (!(x > pos)) x = pos;
      if (x < best) { best = x; next = j; tie = Math.min(j, cur); }
      else if (x === best && next >= 0) { tie = Math.min(tie, j); if (c[j] < c[next]) next = j; }
    }
    if (next < 0 || best === Infinity) break;
    const last = vertices[vertices.length - 1];
    if (last && last.lambda === best) { last.tie = Math.min(last.tie, tie); last.right = next; }
    else vertices.push({ lambda: best, left: cur, tie, right: next });
    cur = next;
    pos = best;
  }
  return { start, vertices, limit: cur };
}

/** The envelope policy at λ ≥ 1. */
export function optionAtReference(envelope: CustomerEnvelope, lambda: number): number {
  let option = envelope.start;
  for (const v of envelope.vertices) {
    if (v.lambda < lambda) option = v.right;
    else { if (v.lambda === lambda) option = v.tie; break; }
  }
  return option;
}
