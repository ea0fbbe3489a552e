// The engine: one kernel runtime and arena on the calling thread, plus (lazily) a piscina pool
// whose workers run kernels over the same shared memory. Work is cut into shards of a fixed size
// that does not depend on the thread count, and every reduction runs in shard order, so results
// are bit-identical for any number of threads.
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { Arena, KernelRuntime, type KernelFlavor, type KernelName } from '../kernels/runtime.js';
import { PromoptError } from '../errors.js';
import { runShard, type KernelTask, type ShardCopyTask, type ShardRun } from './copy.js';

export interface EngineOptions {
  /** Worker threads for kernels; 1 runs everything on the calling thread. Default: available cores. */
  threads?: number;
  /** 'debug' keeps the kernels' assertions (tests use it); default 'release'. */
  flavor?: KernelFlavor;
  /** Jobs with fewer work units than this run on the calling thread (a pool costs more than it saves). */
  inlineBelow?: number;
}

/** A contiguous range of items [start, end). */
export interface Shard {
  start: number;
  end: number;
}

/**
 * A per-item result array that each shard copies out of wasm memory into a caller-visible array
 * right after its kernel runs (in the worker that ran it), so the copy and its page faults are
 * shared by the threads instead of running on the caller after the job.
 */
export interface ShardCopy {
  /** Byte offset in wasm memory of item 0's value. */
  from: number;
  /** The destination (items [0, n)); over a SharedArrayBuffer when the job may run in workers. */
  to: Int32Array | Float64Array;
}

/** Default shard size in items (customers): small enough to balance 2–8 threads at 1M. */
export const DEFAULT_SHARD_SIZE = 16384;
/** Below this many work units (customer × price evaluations) a job runs inline; see bench/RESULTS.md. */
export const DEFAULT_INLINE_BELOW = 200_000;

/**
 * Cuts [0, n) into shards of at most `shardSize`, also cutting at every group boundary
 * (e.g. markets, so that a shard's per-price totals belong to one market).
 */
export function planShards(n: number, shardSize = DEFAULT_SHARD_SIZE, groupStarts: readonly number[] = [0]): Shard[] {
  if (!Number.isInteger(shardSize) || shardSize < 1) throw new PromoptError('INTERNAL', `bad shard size ${shardSize}`);
  const cuts = [...groupStarts.filter((s) => s > 0 && s < n), n].sort((a, b) => a - b);
  const shards: Shard[] = [];
  let start = 0;
  for (const cut of cuts) {
    for (let s = start; s < cut; s += shardSize) shards.push({ start: s, end: Math.min(cut, s + shardSize) });
    start = cut;
  }
  return shards;
}

/**
 * Groups consecutive shards into worker tasks of at least DEFAULT_SHARD_SIZE items (posting a
 * task costs ≈ 40–60 µs, as much as a small shard's kernel), keeping at least four tasks per
 * thread so that the threads stay balanced. Returns ranges of shard indices. Grouping only
 * changes which thread runs a shard, never the shard's result.
 */
export function groupShards(shards: readonly Shard[], threads: number): Shard[] {
  const items = shards.reduce((sum, s) => sum + (s.end - s.start), 0);
  const target = Math.min(DEFAULT_SHARD_SIZE, Math.ceil(items / (4 * threads)));
  const groups: Shard[] = [];
  let start = 0, size = 0;
  shards.forEach((s, k) => {
    size += s.end - s.start;
    if (size >= target || k === shards.length - 1) {
      groups.push({ start, end: k + 1 });
      start = k + 1;
      size = 0;
    }
  });
  return groups;
}

export class Engine {
  readonly runtime: KernelRuntime;
  readonly arena: Arena;
  readonly threads: number;
  readonly inlineBelow: number;
  private pool: Piscina | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(options: EngineOptions = {}) {
    const threads = options.threads ?? availableParallelism();
    if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
      throw new PromoptError('BAD_INPUT', `--threads must be an integer from 1 to 256, got ${threads}`);
    }
    this.threads = threads;
    this.inlineBelow = options.inlineBelow ?? DEFAULT_INLINE_BELOW;
    this.runtime = KernelRuntime.create(options.flavor ?? 'release');
    this.arena = new Arena(this.runtime);
  }

  /**
   * Runs jobs one at a time (they share the arena); whatever a job allocates is freed when it
   * ends, so a job must copy out the results it returns.
   */
  exclusive<T>(job: (arena: Arena) => Promise<T>): Promise<T> {
    const run = this.queue.then(() => this.arena.scoped(() => job(this.arena)));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Calls `kernel` once per shard with the arguments `argsFor(shard, index)` gives. Shards run
   * in the pool when there is more than one thread and the job is large enough; the returned
   * values are in shard order whatever ran where. `copies` are copied out of wasm memory by the
   * thread that ran the shard; `then` are further kernels run on each shard right after the first.
   */
  async forShards(
    kernel: KernelName, shards: readonly Shard[], argsFor: (shard: Shard, index: number) => number[], workUnits: number,
    copies: readonly ShardCopy[] = [], then: readonly { kernel: KernelName; argsFor: (shard: Shard, index: number) => number[] }[] = [],
  ): Promise<number[]> {
    const copiesFor = ({ start, end }: Shard): ShardCopyTask[] => copies.map(({ from, to }) => {
      if (end > to.length) throw new PromoptError('INTERNAL', `shard [${start}, ${end}) past the end of a ${to.length}-item result`);
      const size = to.BYTES_PER_ELEMENT;
      return { buffer: to.buffer, to: to.byteOffset + start * size, from: from + start * size, bytes: (end - start) * size };
    });
    const runs = shards.map((shard, index): ShardRun => {
      const run: ShardRun = { kernel, args: argsFor(shard, index), copies: copiesFor(shard) };
      if (then.length > 0) run.then = then.map((next) => ({ kernel: next.kernel, args: next.argsFor(shard, index) }));
      return run;
    });
    if (this.threads === 1 || workUnits < this.inlineBelow || shards.length < 2) {
      return runs.map((run) => runShard(this.runtime.exports, this.runtime.memory, run));
    }
    const pool = this.ensurePool();
    for (const { to } of copies) {
      if (!(to.buffer instanceof SharedArrayBuffer)) throw new PromoptError('INTERNAL', 'a result the workers copy into must be over a SharedArrayBuffer');
    }
    const tasks = groupShards(shards, this.threads).map((g): KernelTask => ({ runs: runs.slice(g.start, g.end) }));
    const results = await Promise.all(tasks.map((task) => pool.run(task) as Promise<number[]>));
    return results.flat();
  }

  private ensurePool(): Piscina {
    if (!this.pool) {
      this.pool = new Piscina({
        filename: new URL('./worker.js', import.meta.url).href,
        minThreads: this.threads,
        maxThreads: this.threads,
        idleTimeout: 30_000,
        // a second task waits in each worker's queue, so a worker does not idle for a round trip between shards
        concurrentTasksPerWorker: 2,
        workerData: { module: this.runtime.module, memory: this.runtime.memory, flavor: this.runtime.flavor },
      });
    }
    return this.pool;
  }

  /** Stops the worker threads (the engine stays usable; a later job starts them again). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await pool.destroy();
  }
}

let defaultEngine: Engine | undefined;

/** The engine API calls use when none is passed. */
export function getDefaultEngine(): Engine {
  defaultEngine ??= new Engine();
  return defaultEngine;
}

export async function closeDefaultEngine(): Promise<void> {
  const engine = defaultEngine;
  defaultEngine = undefined;
  if (engine) await engine.close();
}
