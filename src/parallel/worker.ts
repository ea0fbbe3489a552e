// Worker entry: instantiates the kernel module once over the main thread's shared memory, runs
// the kernel each task names on the shard its arguments point at, and copies the shard's results
// out when the task asks for it.
import { workerData } from 'node:worker_threads';
import { KernelRuntime, type KernelFlavor } from '../kernels/runtime.js';
import { copyShard, type KernelTask, type ShardRun } from './copy.js';

interface WorkerSetup {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  flavor: KernelFlavor;
}

const setup = workerData as WorkerSetup;
const runtime = KernelRuntime.attach(setup.module, setup.memory, setup.flavor);
const kernels = runtime.exports;

export type { KernelTask, ShardRun };

function runShard(run: ShardRun): number {
  const kernel = kernels[run.kernel];
  if (typeof kernel !== 'function') throw new Error(`no kernel named ${run.kernel}`);
  const result = kernel(...run.args);
  for (const next of run.then ?? []) {
    const fn = kernels[next.kernel];
    if (typeof fn !== 'function') throw new Error(`no kernel named ${next.kernel}`);
    fn(...next.args);
  }
  if (run.copies) copyShard(setup.memory, run.copies);
  return typeof result === 'number' ? result : 0;
}

/** Runs the task's shards in order; returns each kernel's result. */
export default function runKernel(task: KernelTask): number[] {
  return task.runs.map(runShard);
}
