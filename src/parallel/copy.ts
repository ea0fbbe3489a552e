// What a worker task carries, and the copy of a shard's results out of wasm memory (shared by the
// workers and the calling thread, which runs small jobs inline).

/** Bytes [from, from + bytes) of wasm memory go to [to, to + bytes) of buffer. */
export interface ShardCopyTask {
  buffer: ArrayBufferLike;
  to: number;
  from: number;
  bytes: number;
}

export interface KernelTask {
  kernel: string;
  args: number[];
  /** Further kernels on the same shard, run in order right after the first (its data still in cache). */
  then?: { kernel: string; args: number[] }[];
  copies?: ShardCopyTask[];
}

export function copyShard(memory: WebAssembly.Memory, copies: readonly ShardCopyTask[]): void {
  for (const { buffer, to, from, bytes } of copies) {
    new Uint8Array(buffer, to, bytes).set(new Uint8Array(memory.buffer, from, bytes));
  }
}
