// promopt allocate: each customer's coupon under a daily promotional budget (SPEC §2, §4), from a
// table of id, f, g and optional spend.
import type { Command } from 'commander';
import { action, parseNumber } from './context.js';
import { allocate, DEFAULT_BISECTION_TOLERANCE, DEFAULT_DISCOUNTS, DEFAULT_NOMINAL } from '../coupons/allocate.js';
import { readTable, writeTable } from '../io/table.js';
import { badInput } from '../errors.js';
import { formatTable } from '../report/text.js';
import { ResponseModel } from '../coupons/response.js';
import type { Engine } from '../parallel/engine.js';

function parseDiscounts(value: string): number[] {
  const parts = value.split(',').map((p) => p.trim());
  return parts.map((p) => {
    const d = Number(p);
    if (p === '' || !Number.isFinite(d)) throw badInput(`--discounts must be a comma-separated list of numbers, got "${value}"`);
    return d;
  });
}

interface AllocateOptions {
  input?: string;
  model?: string;
  features?: string;
  budget: number;
  discounts: number[];
  nominal?: number;
  out?: string;
  method: string;
  tolerance: number;
}

export function registerAllocate(program: Command): void {
  program
    .command('allocate')
    .description('the coupon for each customer under a promotional budget: argmax of q(d)(1 − λd) with the smallest λ that meets the budget')
    .option('--input <file>', 'table with columns id, f, g and optional spend (default 1)')
    .option('--model <file>', 'a fitted response model (promopt fit) to compute f and g from --features')
    .option('--features <file>', 'with --model: id, optional spend and the model\'s features, one row per customer')
    .requiredOption('--budget <B>', 'largest expected discount redeemed, Σ q d spend', parseNumber('--budget', 0))
    .option('--discounts <list>', 'offered discounts, ascending fractions', parseDiscounts, [...DEFAULT_DISCOUNTS])
    .option('--nominal <d0>', `nominal discount at which f was fit (default ${DEFAULT_NOMINAL}, or the model's)`, parseNumber('--nominal', 0, 1))
    .option('--out <file>', 'write id,discount per customer (.csv, .parquet or .arrow)')
    .option('--method <name>', 'exact (breakpoints) or bisection (the paper\'s search on λ)', 'exact')
    .option('--tolerance <t>', 'relative tolerance on λ for --method bisection', parseNumber('--tolerance', 0, 1), DEFAULT_BISECTION_TOLERANCE)
    .action(action(async (ctx, opts: AllocateOptions) => {
      if (opts.method !== 'exact' && opts.method !== 'bisection') throw badInput(`--method must be "exact" or "bisection", got "${opts.method}"`);
      const customers = await readCustomers(opts, ctx.engine);
      const table = { rows: customers.id.length };
      const started = performance.now();
      const result = await allocate(
        { f: customers.f, g: customers.g, spend: customers.spend },
        { budget: opts.budget, discounts: opts.discounts, nominal: opts.nominal ?? customers.nominal ?? DEFAULT_NOMINAL, method: opts.method, tolerance: opts.tolerance },
        ctx.engine,
      );
      const seconds = (performance.now() - started) / 1000;
      if (opts.out) {
        const discount = new Float64Array(result.discountIndex.length);
        for (let i = 0; i < discount.length; i++) discount[i] = result.discounts[result.discountIndex[i]];
        await writeTable(opts.out, { id: customers.id, discount });
      }
      const json = {
        lambda: result.lambda,
        expectedRevenue: result.expectedRevenue,
        expectedDiscount: result.expectedDiscount,
        distribution: result.distribution,
        budget: opts.budget,
        budgetBinds: result.budgetBinds,
        customers: table.rows,
        method: result.method,
      };
      const text = [
        `Coupon allocation for ${table.rows.toLocaleString('en-US')} customers (${result.method} method, ${seconds.toFixed(3)} s)`,
        '',
        formatTable(['', 'value'], [
          ['shadow price λ', result.lambda.toPrecision(12)],
          ['budget', String(opts.budget)],
          ['expected discount Σ q d spend', result.expectedDiscount.toFixed(4)],
          ['expected revenue Σ q (1 − d) spend', result.expectedRevenue.toFixed(4)],
          ['budget binds', result.budgetBinds ? 'yes' : 'no (λ = 1 maximizes expected revenue)'],
        ]),
        '',
        formatTable(['discount', 'customers', 'share'], result.discounts.map((d) => {
          const count = result.distribution[String(d)];
          return [`${+(100 * d).toFixed(4)}%`, String(count), `${((100 * count) / table.rows).toFixed(1)}%`];
        })),
        opts.out ? `\nAssignments written to ${opts.out}` : '',
      ].join('\n');
      return { json, text };
    }));
}

interface Customers {
  id: string[];
  f: Float64Array;
  g: Float64Array;
  spend?: Float64Array;
  /** The model's d0, when f and g come from a model. */
  nominal?: number;
}

/** f, g and spend from --input, or from --model applied to --features; spend checked per row. */
async function readCustomers(opts: AllocateOptions, engine: Engine): Promise<Customers> {
  if (opts.input && (opts.model || opts.features)) throw badInput('give either --input (id, f, g) or --model with --features, not both');
  let customers: Customers;
  let source: string;
  if (opts.input) {
    source = opts.input;
    const table = await readTable(opts.input, { required: ['id', 'f', 'g'], text: ['id'] });
    customers = { id: table.text.get('id')!, f: table.numeric.get('f')!, g: table.numeric.get('g')!, spend: table.numeric.get('spend') };
  } else if (opts.model && opts.features) {
    source = opts.features;
    const model = await ResponseModel.load(opts.model);
    if (opts.nominal !== undefined && opts.nominal !== model.nominalDiscount) throw badInput(`--nominal ${opts.nominal} differs from the model's nominal discount ${model.nominalDiscount}`);
    const table = await readTable(opts.features, { required: ['id', ...model.featureNames], text: ['id'] });
    const { f, g } = await model.predict(model.featureNames.map((name) => table.numeric.get(name)!), engine);
    customers = { id: table.text.get('id')!, f, g, spend: table.numeric.get('spend'), nominal: model.nominalDiscount };
  } else {
    throw badInput('allocate needs --input FILE (columns id, f, g[, spend]) or --model FILE with --features FILE');
  }
  if (customers.id.length === 0) throw badInput(`${source}: no customer rows`);
  const { spend } = customers;
  if (spend) {
    for (let i = 0; i < spend.length; i++) {
      if (spend[i] < 0) throw badInput(`${source}: row ${i + 2}, column "spend": ${spend[i]} is negative`);
    }
  }
  return customers;
}
