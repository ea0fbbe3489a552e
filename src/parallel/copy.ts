// What a worker task carries, and how one shard of it runs: the kernel, its follow-up kernels and
// the copy of the shard's results out of wasm memory (shared by the workers and the calling
// thread, which runs small jobs inline).
import { PromoptError } from '../errors.js';
import type { KernelExports } from '../kernels/runtime.js';

/** Bytes [from, from + bytes) of wasm memory go to [to, to + bytes) of buffer. */
export interface ShardCopyTask {
  buffer: ArrayBufferLike;
  to: number;
  from: number;
  bytes: number;
}

/** One shard's work: a kernel call, follow-up kernels on the same shard, the copies out. */
export interface ShardRun {
  kernel: string;
  args: number[];
  /** Further kernels on the same shard, run in order right after the first (its data still in cache). */
  then?: { kernel: string; args: number[] }[];
  copies?: ShardCopyTask[];
}

/** What a worker task carries: consecutive shards, run in order (one task per shard cost ≈ 40–60 µs of posting when shards are small). */
export interface KernelTask {
  runs: ShardRun[];
}

export function copyShard(memory: WebAssembly.Memory, copies: readonly ShardCopyTask[]): void {
  for (const { buffer, to, from, bytes } of copies) {
    new Uint8Array(buffer, to, bytes).set(new Uint8Array(memory.buffer, from, bytes));
  }
}

/** Runs one shard: its kernel, then its follow-up kernels, then its copies out; returns the kernel's result. */
export function runShard(kernels: KernelExports, memory: WebAssembly.Memory, run: ShardRun): number {
  const kernel = kernels[run.kernel];
  if (typeof kernel !== 'function') throw new PromoptError('INTERNAL', `no kernel named ${run.kernel}`);
  const result = kernel(...run.args);
  for (const next of run.then ?? []) {
    const fn = kernels[next.kernel];
    if (typeof fn !== 'function') throw new PromoptError('INTERNAL', `no kernel named ${next.kernel}`);
    fn(...next.args);
  }
  if (run.copies) copyShard(memory, run.copies);
  return typeof result === 'number' ? result : 0;
}
