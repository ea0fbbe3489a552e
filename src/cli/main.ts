#!/usr/bin/env node
// promopt command line: a thin layer over the API in src/index.ts.
import { Command, CommanderError, Option } from 'commander';
import { commands } from './commands.js';
import { parseInteger, reportFailure } from './context.js';
import { PromoptError } from '../errors.js';

export function buildProgram(): Command {
  const program = new Command('promopt')
    .description('Personalized promotions: price × broadcasting personalization, budgeted daily coupons, reference-effect promotion cycles.')
    .version('0.1.0')
    .addOption(new Option('--json', 'print one JSON document on stdout and nothing else'))
    .addOption(new Option('--threads <n>', 'worker threads for kernels (default: available cores)').argParser(parseInteger('--threads', 1, 256)))
    .addOption(new Option('--seed <n>', 'seed of every random draw').argParser(parseInteger('--seed', 0)).default(1))
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of commands) register(program);
  program.commands.forEach((c) => c.exitOverride());
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors are bad input.
      if (error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return;
      process.exitCode = 2;
      return;
    }
    reportFailure(error instanceof Error && !(error instanceof PromoptError) ? error : error);
  }
}

await main(process.argv);
