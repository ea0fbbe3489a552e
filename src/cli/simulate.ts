// promopt simulate sharing: the experiment simulator (SPEC §1.1, §1.4). Writes the experiment
// data (SPEC §4 columns) and the true parameters, and prints the simulated summary table beside
// the slides' figures.
import type { Command } from 'commander';
import { action, parseInteger, parseNumber, type CommandContext } from './context.js';
import { badInput } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { formatTable } from '../report/text.js';
import { startProgress } from '../report/progress.js';
import { readParameters } from '../sharing/model.js';
import { PAPER_SUMMARY, PAPER_SUMMARY_TOTAL } from '../sharing/paper.js';
import { SharingSummaryAccumulator, writeSharingDataChunks, type PriceGroupOutcome } from '../sharing/data.js';
import { planSimulation, simulatedChunks, type CustomDesign, type PriceRule, type ShockSource, type SimulationOptions } from '../sharing/simulate.js';
import { promises as fs } from 'node:fs';
import { dirname, resolve } from 'node:path';

interface SimulateSharingOptions {
  design: string;
  customers?: number;
  markets?: number;
  prices?: number[];
  costs?: number[];
  out: string;
  paramsOut?: string;
  params?: string;
  priceRule: string;
  shocks?: string;
  calibration: string;
  costNoise: number;
  chunkRows: number;
}

function parseList(name: string, min = 0) {
  return (value: string): number[] => {
    const parts = value.split(',').map((x) => x.trim());
    if (parts.length === 0 || parts.some((x) => x === '')) throw badInput(`${name} must be a comma-separated list of numbers, got "${value}"`);
    return parts.map((x) => parseNumber(name, min)(x));
  };
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw badInput(`${name} must be one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

async function requireDirectory(path: string): Promise<void> {
  const dir = dirname(resolve(path));
  const stat = await fs.stat(dir).catch(() => undefined);
  if (!stat?.isDirectory()) throw badInput(`cannot write ${path}: directory ${dir} does not exist`);
}

const fixed = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : '—');

export function registerSimulate(program: Command): void {
  const simulate = program
    .command('simulate')
    .description('simulate experiment data (subcommand: sharing)');
  simulate
    .command('sharing')
    .description('simulate the share-then-purchase field experiment: the slides\' paper design or a custom one (SPEC §1.1, §1.4)')
    .option('--design <kind>', 'paper (the slides\' 21 markets, shocks calibrated to the summary table) or custom', 'paper')
    .option('--customers <n>', 'total customers (paper: group sizes scaled to this total; custom: split evenly over the markets)', parseInteger('--customers', 1, 1_000_000_000))
    .option('--markets <m>', 'custom design: number of markets (default: one per price; market m gets price m mod P)', parseInteger('--markets', 1, 1_000_000))
    .option('--prices <list>', 'custom design: post-discount prices, e.g. 59,79,88,98,118', parseList('--prices'))
    .option('--costs <list>', 'custom design: wholesale costs, one per price or one for all', parseList('--costs'))
    .requiredOption('--out <file>', 'experiment data to write (CSV, SPEC §4 columns)')
    .option('--params-out <file>', 'true parameters to write (JSON, SPEC §4, with the market shocks)')
    .option('--params <file>', 'true parameters to simulate with (default: the slides\' estimates); their shocks are used unless --shocks says otherwise')
    .option('--price-rule <rule>', 'design (the design\'s prices) or optimal (each market\'s price maximizes the firm\'s expected profit given a noisy cost)', 'design')
    .option('--shocks <source>', 'market shocks: calibrated (to the slides\' rates; paper design), random, or given (from --params)')
    .option('--calibration <mode>', 'sample (the simulated rates hit the targets) or expected (the model\'s expected rates do)', 'sample')
    .option('--cost-noise <sd>', 'standard deviation of the noise in the cost the firm prices with (optimal rule)', parseNumber('--cost-noise', 0), 1)
    .option('--chunk-rows <n>', 'customers generated and written per chunk (memory bound; results do not depend on it)', parseInteger('--chunk-rows', 1, 1 << 24), 1 << 18)
    .action(action(async (ctx, opts: SimulateSharingOptions) => simulateSharingCommand(ctx, opts)));
}

async function simulateSharingCommand(ctx: CommandContext, opts: SimulateSharingOptions) {
  const design = oneOf('--design', opts.design, ['paper', 'custom'] as const);
  const priceRule = oneOf<PriceRule>('--price-rule', opts.priceRule, ['design', 'optimal']);
  const shocks = opts.shocks === undefined ? undefined : oneOf<ShockSource>('--shocks', opts.shocks, ['calibrated', 'random', 'given']);
  const calibration = oneOf('--calibration', opts.calibration, ['sample', 'expected'] as const);
  if (design === 'paper' && (opts.markets !== undefined || opts.prices !== undefined || opts.costs !== undefined)) {
    throw badInput('--markets, --prices and --costs describe a custom design (use --design custom)');
  }
  if (opts.paramsOut !== undefined && resolve(opts.paramsOut) === resolve(opts.out)) throw badInput('--out and --params-out name the same file');
  await requireDirectory(opts.out);
  if (opts.paramsOut !== undefined) await requireDirectory(opts.paramsOut);
  const params = opts.params === undefined ? undefined : await readParameters(opts.params);
  let customDesign: CustomDesign | undefined;
  if (design === 'custom') {
    customDesign = { prices: opts.prices, marginalCosts: opts.costs, marketCount: opts.markets, customers: opts.customers };
  }
  const options: SimulationOptions = {
    design: customDesign ?? 'paper',
    seed: ctx.options.seed,
    params,
    priceRule,
    shocks,
    calibration,
    marginalCostNoise: opts.costNoise,
    ...(design === 'paper' && opts.customers !== undefined ? { customers: opts.customers } : {}),
  };
  const started = performance.now();
  let standardizing = startProgress('standardizing covariates', 0, { quiet: true });
  let progressTotal = -1;
  const plan = planSimulation({
    ...options,
    onProgress: (done, total) => {
      if (progressTotal < 0) {
        progressTotal = total;
        standardizing = startProgress('standardizing covariates', total, { quiet: ctx.quiet });
      }
      standardizing.update(done);
    },
  });
  standardizing.update(plan.customers);
  standardizing.stop();
  const simulating = startProgress('simulating customers', plan.customers, { quiet: ctx.quiet });
  const designPrice = plan.markets.map((m) => m.designPrice);
  // Under the optimal rule every market has its own price: group by the design's price instead.
  const summaryOf = new SharingSummaryAccumulator((m, p) => (priceRule === 'optimal' ? designPrice[m] : p));
  // Sharers and buyers per market: a market without either cannot be estimated (its constant is not identified).
  const sharers = new Float64Array(plan.markets.length), buyers = new Float64Array(plan.markets.length);
  const chunks = (function* () {
    for (const chunk of simulatedChunks(plan, opts.chunkRows, (done) => simulating.update(done))) {
      summaryOf.add(chunk);
      for (let i = 0; i < chunk.market.length; i++) {
        sharers[chunk.market[i]] += chunk.shared[i];
        buyers[chunk.market[i]] += chunk.purchased[i];
      }
      yield chunk;
    }
  })();
  try {
    await writeSharingDataChunks(opts.out, chunks);
  } finally {
    simulating.stop();
  }
  if (opts.paramsOut !== undefined) {
    const truth = {
      ...plan.params,
      simulation: {
        design, seed: ctx.options.seed, priceRule: plan.priceRule, shocks: plan.shocks, calibration,
        marginalCostNoise: priceRule === 'optimal' ? opts.costNoise : 0,
        markets: plan.markets.map((m) => ({ name: m.name, region: m.region, customers: m.customers, designPrice: m.designPrice, price: m.price, marginalCost: m.marginalCost, perceivedCost: m.perceivedCost })),
        standardization: plan.standardization,
      },
    };
    await writeFileAtomic(opts.paramsOut, `${JSON.stringify(truth, null, 2)}\n`);
  }
  const seconds = (performance.now() - started) / 1000;
  const warnings: string[] = [];
  const unidentified = plan.markets.filter((_, m) => sharers[m] === 0 || buyers[m] === 0).map((m) => m.name);
  if (unidentified.length > 0) {
    // the firm's profit can peak at a high price where almost nobody shares (σ is large)
    const hint = priceRule === 'optimal' ? ' (a lower average sharing cost in --params, e.g. scbar 0.3, keeps sharers at every optimal price)' : '';
    warnings.push(`${unidentified.length} market(s) without sharers or without buyers (${unidentified.slice(0, 5).join(', ')}${unidentified.length > 5 ? ', …' : ''}): \`promopt estimate\` cannot identify their constants${hint}`);
  }
  for (const warning of warnings) ctx.note(`promopt: warning: ${warning}`);
  const summary = summaryOf.summary();
  const slidesFor = (price: number) => {
    const row = design === 'paper' && priceRule === 'design' ? PAPER_SUMMARY.find((g) => g.price === price) : undefined;
    return row ? { shareRate: row.shareRate, purchaseRate: row.purchaseRate, referralsPerCustomer: row.referralsPerCustomer } : null;
  };
  const slidesTotal = design === 'paper' && priceRule === 'design'
    ? { shareRate: PAPER_SUMMARY_TOTAL.shareRate, purchaseRate: PAPER_SUMMARY_TOTAL.purchaseRate, referralsPerCustomer: PAPER_SUMMARY_TOTAL.referralsPerCustomer }
    : null;
  const groups = summary.groups.map((g) => ({ ...g, slides: slidesFor(g.price) }));
  const json = {
    design,
    seed: ctx.options.seed,
    customers: plan.customers,
    markets: plan.markets.length,
    priceRule: plan.priceRule,
    shocks: plan.shocks,
    calibration: plan.shocks === 'calibrated' ? calibration : null,
    out: opts.out,
    paramsOut: opts.paramsOut ?? null,
    seconds,
    groups,
    total: { ...summary.total, slides: slidesTotal },
    warnings,
    marketDetails: plan.markets.map((m) => ({
      name: m.name, customers: m.customers, designPrice: m.designPrice, price: m.price, marginalCost: m.marginalCost,
      perceivedCost: m.perceivedCost, xi_y: m.xi_y, xi_w: m.xi_w, expected: m.expected,
    })),
  };
  // The slides' figures sit beside the simulated ones only where they describe the same design.
  const withSlides = slidesTotal !== null;
  const pair = (sim: number, slides: number | undefined, digits = 3) => (withSlides ? [fixed(sim, digits), slides === undefined ? '—' : fixed(slides, digits)] : [fixed(sim, digits)]);
  const row = (label: string, g: Omit<PriceGroupOutcome, 'price'>, slides: ReturnType<typeof slidesFor>) => [
    label,
    ...(priceRule === 'optimal' ? [fixed(g.averagePrice, 2)] : []),
    String(g.markets),
    g.customers.toLocaleString('en-US'),
    fixed(g.wholesaleCost, 1),
    ...pair(g.shareRate, slides?.shareRate),
    ...pair(g.purchaseRate, slides?.purchaseRate),
    ...pair(g.referralsPerCustomer, slides?.referralsPerCustomer),
  ];
  const outcomes = withSlides
    ? ['share (sim)', 'share (slides)', 'purchase (sim)', 'purchase (slides)', 'referrals (sim)', 'referrals (slides)']
    : ['share', 'purchase', 'referrals'];
  const header = [
    priceRule === 'optimal' ? 'design price' : 'price',
    ...(priceRule === 'optimal' ? ['avg price'] : []),
    'markets', 'customers', 'wholesale cost', ...outcomes,
  ];
  const rows = [...groups.map((g) => row(String(g.price), g, g.slides)), row('Total', summary.total, slidesTotal)];
  const shockNote = plan.shocks === 'calibrated'
    ? `market shocks calibrated (${calibration}) so each market's propensities to share and to purchase match its price group's`
    : plan.shocks === 'random' ? 'market shocks drawn at random' : 'market shocks as given';
  const text = [
    `Simulated ${plan.customers.toLocaleString('en-US')} focal customers in ${plan.markets.length} markets (${design} design, ${priceRule} prices, seed ${ctx.options.seed}) in ${seconds.toFixed(2)} s; ${shockNote}.`,
    '',
    'Propensity to share / purchase and referred customers per focal customer, by post-discount price:',
    formatTable(header, rows),
    '',
    `Wrote ${opts.out}${opts.paramsOut ? ` and the true parameters to ${opts.paramsOut}` : ''}.`,
  ].join('\n');
  return { json, text };
}
