// Loads the AssemblyScript kernel module once per thread over one shared linear memory, and
// owns the arena in which struct-of-arrays inputs and outputs live. Domain code never touches
// wasm memory directly: it goes through the wrappers in this folder.
import { readFileSync } from 'node:fs';
import { instantiateSync } from '@assemblyscript/loader';
import { PromoptError } from '../errors.js';

export type KernelFlavor = 'release' | 'debug';

/**
 * The raw kernel exports (pointers are byte offsets into the shared memory). Each kernel family's
 * wrapper in this folder declares the signatures it uses and reads them with `kernelsOf`.
 */
export interface KernelExports {
  heapBase(): number;
  [kernel: string]: (...args: number[]) => number | void;
}

/** A kernel family's typed view of the exports, e.g. `kernelsOf<GridKernels>(runtime)`. */
export function kernelsOf<T>(runtime: KernelRuntime): T {
  return runtime.exports as unknown as T;
}
/** The name of an exported kernel (see assembly/index.ts). */
export type KernelName = string;

const PAGE = 65536;
/** Pages the module declares (asconfig.json: initialMemory / maximumMemory). */
const INITIAL_PAGES = 32;
const MAXIMUM_PAGES = 65536;

const compiled = new Map<KernelFlavor, WebAssembly.Module>();

/** The compiled module of a flavor, compiled at most once per thread. */
export function kernelModule(flavor: KernelFlavor): WebAssembly.Module {
  let module = compiled.get(flavor);
  if (!module) {
    const file = flavor === 'release' ? 'promopt.wasm' : 'promopt.debug.wasm';
    const url = new URL(`../../../build/${file}`, import.meta.url);
    let bytes: Buffer;
    try {
      bytes = readFileSync(url);
    } catch {
      throw new PromoptError('INTERNAL', `kernel module ${url.pathname} is missing: run "npm run build"`);
    }
    module = new WebAssembly.Module(new Uint8Array(bytes));
    compiled.set(flavor, module);
  }
  return module;
}

function abort(messagePtr: number, filePtr: number, line: number, column: number): never {
  throw new PromoptError('INTERNAL', `kernel assertion failed at line ${line}:${column}`);
}

/** One instance of the kernel module bound to a (shared) memory. */
export class KernelRuntime {
  readonly exports: KernelExports;
  private constructor(readonly module: WebAssembly.Module, readonly memory: WebAssembly.Memory, readonly flavor: KernelFlavor) {
    const { exports } = instantiateSync<Record<string, unknown>>(module, { env: { memory, abort } });
    this.exports = exports as unknown as KernelExports;
  }

  /** A fresh runtime with its own shared memory (the main thread's). */
  static create(flavor: KernelFlavor = 'release'): KernelRuntime {
    const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES, shared: true });
    return new KernelRuntime(kernelModule(flavor), memory, flavor);
  }

  /** Another instance over an existing memory (a worker's). */
  static attach(module: WebAssembly.Module, memory: WebAssembly.Memory, flavor: KernelFlavor): KernelRuntime {
    return new KernelRuntime(module, memory, flavor);
  }

  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Grows the memory so that [0, bytes) is addressable. */
  ensure(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    const pages = Math.ceil((bytes - have) / PAGE);
    if (have / PAGE + pages > MAXIMUM_PAGES) {
      throw new PromoptError('BAD_INPUT', `the working set needs ${(bytes / 2 ** 30).toFixed(1)} GiB, more than the 4 GiB a wasm32 memory holds: process the data in chunks`);
    }
    this.memory.grow(pages);
  }

  f64(ptr: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, ptr, length);
  }

  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }
}

/** A typed block in the arena. */
export interface Block {
  readonly ptr: number;
  readonly length: number;
  readonly bytesPerElement: 4 | 8;
}

/**
 * Bump allocator in the module's memory, starting past its static data. Jobs take a mark and
 * release to it when done; nothing inside the kernels allocates.
 */
export class Arena {
  private top: number;
  private readonly base: number;
  constructor(readonly runtime: KernelRuntime) {
    this.base = align16(runtime.exports.heapBase());
    this.top = this.base;
  }

  get used(): number {
    return this.top - this.base;
  }

  private take(length: number, bytesPerElement: 4 | 8): Block {
    if (!Number.isInteger(length) || length < 0) throw new PromoptError('INTERNAL', `bad arena length ${length}`);
    const ptr = this.top;
    // 16 bytes of slack so that a vector load of an odd-length array's last pair stays inside the block.
    const end = align16(ptr + length * bytesPerElement + 16);
    this.runtime.ensure(end);
    this.top = end;
    return { ptr, length, bytesPerElement };
  }

  f64(length: number): Block {
    return this.take(length, 8);
  }

  i32(length: number): Block {
    return this.take(length, 4);
  }

  /** Copies an array into a new block (the one copy an input makes). */
  copyF64(values: ArrayLike<number>): Block {
    const block = this.f64(values.length);
    this.viewF64(block).set(values);
    return block;
  }

  viewF64(block: Block): Float64Array {
    return this.runtime.f64(block.ptr, block.length);
  }

  viewI32(block: Block): Int32Array {
    return this.runtime.i32(block.ptr, block.length);
  }

  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    if (mark < this.base || mark > this.top) throw new PromoptError('INTERNAL', 'arena released past its base');
    this.top = mark;
  }

  /** Runs `job` and frees whatever it allocated. */
  async scoped<T>(job: () => Promise<T> | T): Promise<T> {
    const mark = this.mark();
    try {
      return await job();
    } finally {
      this.release(mark);
    }
  }
}

function align16(x: number): number {
  return Math.ceil(x / 16) * 16; // not bitwise: offsets may pass 2^31
}
