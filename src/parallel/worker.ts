// Worker entry: instantiates the kernel module once over the main thread's shared memory and
// runs the kernel each task names on the shard its arguments point at.
import { workerData } from 'node:worker_threads';
import { KernelRuntime, type KernelFlavor, type KernelName } from '../kernels/runtime.js';

interface WorkerSetup {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  flavor: KernelFlavor;
}

const setup = workerData as WorkerSetup;
const runtime = KernelRuntime.attach(setup.module, setup.memory, setup.flavor);
const kernels = runtime.exports;

export interface KernelTask {
  kernel: KernelName;
  args: number[];
}

export default function runKernel(task: KernelTask): number {
  const kernel = kernels[task.kernel];
  if (typeof kernel !== 'function') throw new Error(`no kernel named ${task.kernel}`);
  const result = kernel(...task.args);
  return typeof result === 'number' ? result : 0;
}
