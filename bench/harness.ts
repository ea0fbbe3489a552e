// Shared benchmark plumbing: benchmark.js suites over async jobs, reported per work unit, and the
// native C references compiled with gcc when the bench runs.
import Benchmark from 'benchmark';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchCase {
  name: string;
  /** Work units one call performs (e.g. customers × prices), to report time per unit. */
  units: number;
  run: () => Promise<unknown> | unknown;
}

export interface BenchResult {
  name: string;
  /** Mean time per work unit in nanoseconds. */
  nsPerUnit: number;
  /** Relative margin of error of the mean, percent. */
  rme: number;
  samples: number;
}

/**
 * Runs each case as a deferred benchmark.js test; returns mean time per unit. `warmup`: untimed
 * calls of every case first (long cases take too few samples for a cold first one to wash out).
 */
export async function runSuite(title: string, cases: readonly BenchCase[], options: { minSamples?: number; maxTime?: number; warmup?: number } = {}): Promise<BenchResult[]> {
  for (let k = 0; k < (options.warmup ?? 0); k++) for (const c of cases) await c.run();
  const results: BenchResult[] = [];
  const suite = new Benchmark.Suite(title);
  for (const c of cases) {
    suite.add(c.name, {
      defer: true,
      minSamples: options.minSamples ?? 5,
      maxTime: options.maxTime ?? 8,
      fn: (deferred: { resolve(): void }) => {
        Promise.resolve(c.run()).then(() => deferred.resolve(), (error) => {
          console.error(error);
          process.exit(1);
        });
      },
    });
  }
  await new Promise<void>((resolve) => {
    suite
      .on('cycle', (event: { target: Benchmark }) => {
        const target = event.target;
        const c = cases.find((x) => x.name === target.name)!;
        const result = { name: c.name, nsPerUnit: (target.stats.mean * 1e9) / c.units, rme: target.stats.rme, samples: target.stats.sample.length };
        results.push(result);
        process.stderr.write(`  ${c.name}: ${result.nsPerUnit.toFixed(2)} ns/unit ±${result.rme.toFixed(1)}% (${result.samples} samples)\n`);
      })
      .on('complete', () => resolve())
      .run({ async: true });
  });
  return results;
}

/**
 * Compiles bench/native/<name>.c with gcc -O3 -march=native and runs it with `args`; returns its
 * JSON output, or undefined (with a message) when gcc is absent.
 */
export function runNative(name: string, args: string[]): Record<string, number> | undefined {
  const gcc = spawnSync('gcc', ['--version']);
  if (gcc.status !== 0) {
    process.stderr.write(`  native C reference skipped: gcc is not installed\n`);
    return undefined;
  }
  const source = fileURLToPath(new URL(`../../bench/native/${name}.c`, import.meta.url));
  const binary = join(mkdtempSync(join(tmpdir(), 'promopt-bench-')), name);
  execFileSync('gcc', ['-O3', '-march=native', '-o', binary, source, '-lm']);
  return JSON.parse(execFileSync(binary, args, { encoding: 'utf8' })) as Record<string, number>;
}

/** Markdown table of results with ratios to a baseline row. */
export function markdownTable(rows: ReadonlyArray<{ name: string; nsPerUnit: number }>, unit: string, baseline: string): string {
  const base = rows.find((r) => r.name === baseline)?.nsPerUnit;
  const lines = [`| case | ${unit} | vs ${baseline} |`, '|---|---:|---:|'];
  for (const r of rows) lines.push(`| ${r.name} | ${r.nsPerUnit.toFixed(2)} | ${base ? (base / r.nsPerUnit).toFixed(2) + '×' : ''} |`);
  return lines.join('\n');
}
