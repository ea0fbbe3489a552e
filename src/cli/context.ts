// What every command shares: the global options, the engine, output in text or --json, and the
// error policy (one line on stderr; exit 2 for bad input, 1 for anything else).
import type { Command } from 'commander';
import { Engine } from '../parallel/engine.js';
import { PromoptError, badInput } from '../errors.js';

export interface GlobalOptions {
  /** One JSON document on stdout and nothing else. */
  json: boolean;
  /** Worker threads (default: available cores). */
  threads?: number;
  /** Seed of every random draw. */
  seed: number;
}

export interface CommandOutput {
  /** What --json prints. */
  json: unknown;
  /** What a person reads otherwise. */
  text: string;
}

export class CommandContext {
  private engineInstance: Engine | undefined;
  constructor(readonly options: GlobalOptions) {}

  /** No progress bars or chatter: --json, or stderr is not a terminal. */
  get quiet(): boolean {
    return this.options.json || !process.stderr.isTTY;
  }

  get engine(): Engine {
    this.engineInstance ??= new Engine({ threads: this.options.threads });
    return this.engineInstance;
  }

  /** A note for a person on stderr (never in --json mode, never on stdout). */
  note(message: string): void {
    if (!this.options.json) process.stderr.write(`${message}\n`);
  }

  async close(): Promise<void> {
    await this.engineInstance?.close();
  }
}

export function parseInteger(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw badInput(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };
}

export function parseNumber(name: string, min = -Infinity, max = Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) throw badInput(`${name} must be a number from ${min} to ${max}, got "${value}"`);
    return n;
  };
}

export function globalOptions(command: Command): GlobalOptions {
  const all = command.optsWithGlobals() as { json?: boolean; threads?: number; seed?: number };
  return { json: Boolean(all.json), threads: all.threads, seed: all.seed ?? 1 };
}

/**
 * Wraps a command's work: builds the context, prints the result, maps errors to exit codes and
 * stops the worker threads.
 */
export function action<A extends unknown[]>(work: (ctx: CommandContext, ...args: A) => Promise<CommandOutput>) {
  return async function (this: Command, ...args: A): Promise<void> {
    const command = args[args.length - 1] as Command;
    const ctx = new CommandContext(globalOptions(command));
    try {
      const output = await work(ctx, ...(args.slice(0, -1) as A));
      process.stdout.write(ctx.options.json ? `${JSON.stringify(output.json, jsonNumbers, 2)}\n` : `${output.text.replace(/\n*$/, '')}\n`);
    } catch (error) {
      reportFailure(error);
    } finally {
      await ctx.close();
    }
  };
}

/** JSON cannot hold NaN or Infinity; write them as null rather than produce invalid output. */
function jsonNumbers(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}

export function reportFailure(error: unknown): void {
  if (error instanceof PromoptError) {
    process.stderr.write(`promopt: ${error.message.split('\n')[0]}\n`);
    process.exitCode = error.code === 'BAD_INPUT' ? 2 : 1;
  } else {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`promopt: internal error: ${message.split('\n')[0]}\n`);
    if (process.env.PROMOPT_DEBUG) console.error(error);
    process.exitCode = 1;
  }
}
