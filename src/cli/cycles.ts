// promopt cycles: the best long-run cycle of offers under reference effects (SPEC §3–§4), for one
// gain matrix (--input JSON) or for every customer of a coupon response table (--batch).
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { action, parseInteger, parseNumber, type CommandContext, type CommandOutput } from './context.js';
import { badInput, PromoptError } from '../errors.js';
import { readTable, writeTable, type TableColumn } from '../io/table.js';
import { formatTable } from '../report/text.js';
import {
  DEFAULT_DISCOUNTS, DEFAULT_NOMINAL, batchCouponCycles, compareCycleWithMyopic, decodeCouponCycle, generatorLabel,
  solveCycles, solveDiscountCycles, validateCycleProblem, validateDiscountCycleProblem, type CycleMethod,
} from '../cycles/index.js';

interface CyclesOptions {
  input?: string;
  method: string;
  batch?: string;
  memory?: number;
  discounts: number[];
  nominal: number;
  out?: string;
  compareMyopic?: boolean;
  dayEffects?: number[];
}

function numberList(name: string) {
  return (value: string): number[] => {
    const list = value.split(',').map((x) => x.trim());
    return list.map((x) => {
      const n = Number(x);
      if (x === '' || !Number.isFinite(n)) throw badInput(`${name} must be a comma-separated list of numbers, got "${value}"`);
      return n;
    });
  };
}

export function registerCycles(program: Command): void {
  program
    .command('cycles')
    .description('optimal promotion cycles under reference effects: one gain matrix (--input) or per customer (--batch)')
    .option('--input <file>', 'JSON {"prices": [...ascending], "memory": L, "gain": k×k} (or "discounts" instead of "prices")')
    .option('--method <m>', 'auto (reduced when reference-monotone, else exact), reduced or exact', 'auto')
    .option('--batch <file>', 'customer table with columns id, f, g, h and optional spend')
    .option('--memory <L>', 'memory length L for --batch', parseInteger('--memory', 1, 10_000))
    .option('--discounts <list>', 'the five discounts for --batch, ascending', numberList('--discounts'), [...DEFAULT_DISCOUNTS])
    .option('--nominal <d0>', 'nominal discount d0 of the response model', parseNumber('--nominal', 0, 1), DEFAULT_NOMINAL)
    .option('--out <file>', 'per-customer cycles for --batch (id, averageGain, generator, period[, cycleRevenue, myopicRevenue])')
    .option('--compare-myopic', 'also compare each cycle with the myopic daily policy (long-run revenue)')
    .option('--day-effects <list>', 'true-model logit effect of each day of a repeating week, for --compare-myopic', numberList('--day-effects'))
    .action(action(async (ctx, opts: CyclesOptions) => {
      if (Boolean(opts.input) === Boolean(opts.batch)) throw badInput('give exactly one of --input FILE or --batch FILE');
      return opts.input ? single(ctx, opts.input, opts.method) : batch(ctx, opts);
    }));
}

async function single(ctx: CommandContext, path: string, method: string): Promise<CommandOutput> {
  if (!['auto', 'reduced', 'exact'].includes(method)) throw badInput(`--method must be auto, reduced or exact, got "${method}"`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw badInput(`${path}: cannot read the file`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw badInput(`${path}: not valid JSON (${(error as Error).message.split('\n')[0]})`);
  }
  const discounts = typeof raw === 'object' && raw !== null && 'discounts' in raw && !('prices' in raw);
  const result = discounts
    ? await solveDiscountCycles(validateDiscountCycleProblem(raw, path), method as CycleMethod, ctx.engine)
    : await solveCycles(validateCycleProblem(raw, path), method as CycleMethod, ctx.engine);
  const unit = discounts ? 'discount' : 'price';
  const lines = [
    `Optimal ${unit} cycle (${result.method} solver; gain ${result.monotone ? 'is' : 'is not'} reference-monotone)`,
    '',
    formatTable(['', 'value'], [
      ['long-run average gain', String(result.averageGain)],
      ['generator cycle', result.generator ? result.generator.join(' → ') : '(not L-up-1-down)'],
      [`one period of ${unit}s`, result.cycle.join(' ')],
      ['period length', String(result.cycle.length)],
    ]),
  ];
  return { json: result, text: lines.join('\n') };
}

async function batch(ctx: CommandContext, opts: CyclesOptions): Promise<CommandOutput> {
  const path = opts.batch!;
  if (opts.memory === undefined) throw badInput('--batch needs --memory L');
  if (opts.dayEffects && !opts.compareMyopic) throw badInput('--day-effects only applies with --compare-myopic');
  const table = await readTable(path, { required: ['id', 'f', 'g', 'h'], text: ['id'] });
  if (table.rows === 0) throw new PromoptError('BAD_INPUT', `${path}: no customers`);
  const customers = {
    f: table.numeric.get('f')!, g: table.numeric.get('g')!, h: table.numeric.get('h')!,
    spend: table.numeric.get('spend'),
  };
  const options = {
    memory: opts.memory, discounts: opts.discounts, nominal: opts.nominal,
    rowLabel: (i: number) => `${path}: row ${i + 2}`,
  };
  const started = performance.now();
  const cycles = await batchCouponCycles(customers, options, ctx.engine);
  const seconds = (performance.now() - started) / 1000;
  const comparison = opts.compareMyopic
    ? await compareCycleWithMyopic(customers, { ...options, truth: { dayEffects: opts.dayEffects } }, ctx.engine)
    : undefined;
  const n = table.rows;
  const labels = new Map<number, string>();
  const counts = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += cycles.averageGain[i];
    counts.set(cycles.cycleId[i], (counts.get(cycles.cycleId[i]) ?? 0) + 1);
  }
  for (const id of counts.keys()) labels.set(id, generatorLabel(id, opts.discounts, opts.memory));
  if (opts.out) {
    const generator = Array.from(cycles.cycleId, (id) => labels.get(id)!);
    const period = Int32Array.from(cycles.cycleId, (id) => decodeCouponCycle(id, opts.memory!).period);
    const columns: Array<[string, TableColumn]> = [
      ['id', table.text.get('id')!], ['averageGain', cycles.averageGain], ['generator', generator], ['period', period],
    ];
    if (comparison) columns.push(['cycleRevenue', comparison.cycleRevenue], ['myopicRevenue', comparison.myopicRevenue]);
    await writeTable(opts.out, columns);
  }
  const generators = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([id, count]) => ({ generator: labels.get(id)!, customers: count }));
  const json = {
    customers: n, memory: opts.memory, discounts: opts.discounts, nominal: opts.nominal,
    threads: ctx.engine.threads, seconds,
    meanAverageGain: n > 0 ? total / n : null,
    generators,
    ...(comparison ? { myopic: { meanCycleRevenue: comparison.meanCycleRevenue, meanMyopicRevenue: comparison.meanMyopicRevenue, lift: comparison.lift } } : {}),
    ...(opts.out ? { out: opts.out } : {}),
  };
  const lines = [
    `Promotion cycles for ${n.toLocaleString('en-US')} customers (L = ${opts.memory}) in ${seconds.toFixed(3)} s on ${json.threads} thread(s)`,
    `Mean long-run expected revenue per customer-day: ${json.meanAverageGain}`,
    '',
    'Generator cycles (discounts in order, the biggest first; each smaller one held L days):',
    formatTable(['generator', 'customers'], generators.slice(0, 15).map((g) => [g.generator, String(g.customers)])),
  ];
  if (comparison) {
    lines.push('', formatTable(['policy', 'mean revenue per customer-day'], [
      ['optimal cycle', comparison.meanCycleRevenue.toFixed(6)],
      ['myopic daily', comparison.meanMyopicRevenue.toFixed(6)],
    ]), `Lift of the cycle over myopic: ${(100 * comparison.lift).toFixed(3)}%`);
  }
  return { json, text: lines.join('\n') };
}
