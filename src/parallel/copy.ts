// What a worker task carries, and the copy of a shard's results out of wasm memory (shared by the
// workers and the calling thread, which runs small jobs inline).

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
