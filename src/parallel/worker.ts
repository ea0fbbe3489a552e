// Worker entry: instantiates the kernel module once over the main thread's shared memory, runs
// the kernel each task names on the shard its arguments point at, and copies the shard's results
// out when the task asks for it.
import { workerData } from 'node:worker_threads';
import { KernelRuntime, type KernelFlavor } from '../kernels/runtime.js';
import { runShard, type KernelTask } from './copy.js';

interface WorkerSetup {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  flavor: KernelFlavor;
}

const setup = workerData as WorkerSetup;
const runtime = KernelRuntime.attach(setup.module, setup.memory, setup.flavor);
const kernels = runtime.exports;

/** Runs the task's shards in order; returns each kernel's result. */
export default function runKernel(task: KernelTask): number[] {
  return task.runs.map((run) => runShard(kernels, setup.memory, run));
}
