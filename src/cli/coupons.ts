// promopt coupons simulate | evidence: the daily-coupon simulator (paper §2–3) and the
// reference-effect evidence of paper §3.1.
//
// `coupons simulate` writes, each streamed day by day (so the paper's 360,000 × 90 fits in
// memory): the customer-day logs (--out), the static customer table with the true parameters
// (--customers-out), the training panel of processed features for `promopt fit` (--features-out:
// customer, day, discount, purchased, spend and the Appendix A features), and the features of the
// day after the last one for `promopt allocate` with a fitted model (--next-day-out: id, spend
// and the features). Each file is a deterministic pass over the same simulation.
import type { Command } from 'commander';
import { action, parseInteger, parseNumber, type CommandContext } from './context.js';
import { badInput } from '../errors.js';
import { readTable, writeTable, writeTableChunks, type TableColumns } from '../io/table.js';
import { formatTable } from '../report/text.js';
import { startProgress } from '../report/progress.js';
import { CouponWorld, historicalDays, PAPER_CUSTOMERS, PAPER_DAYS, type CouponDayLog, type CouponSimulationOptions } from '../coupons/simulate.js';
import { COUPON_FEATURE_NAMES, CouponFeatureStream } from '../coupons/features.js';
import { formatReferenceEvidence, randomizedRows, referenceEffectsReportData, referenceEvidence, type EvidenceRows } from '../coupons/evidence.js';

export interface SimulationFlags {
  customers?: number;
  days?: number;
  paperSize?: boolean;
  memory: number;
  randomizedShare: number;
  couponSensitivity: number;
  referenceSensitivity: number;
  heterogeneity: number;
  discounts?: number[];
  nominal: number;
}

interface SimulateFlags extends SimulationFlags {
  out?: string;
  customersOut?: string;
  featuresOut?: string;
  nextDayOut?: string;
  warmupDays: number;
}

interface EvidenceFlags extends SimulationFlags {
  logs?: string;
}

export function parseDiscountList(name: string) {
  return (value: string): number[] => {
    const parts = value.split(',').map((x) => x.trim());
    if (parts.some((x) => x === '')) throw badInput(`${name} must be a comma-separated list of discounts, got "${value}"`);
    return parts.map((x) => parseNumber(name, 0, 0.999)(x));
  };
}

/** The simulation flags `coupons simulate`, `coupons evidence` and `abtest` share. */
export function addSimulationOptions(command: Command, defaults: { customers: number; days?: number }): Command {
  command
    .option('--customers <n>', `customers to simulate (default ${defaults.customers.toLocaleString('en-US')})`, parseInteger('--customers', 1, 100_000_000));
  if (defaults.days !== undefined) {
    command
      .option('--days <n>', `days to simulate (default ${defaults.days})`, parseInteger('--days', 1, 65_535))
      .option('--paper-size', `the paper's data size: ${PAPER_CUSTOMERS.toLocaleString('en-US')} customers × ${PAPER_DAYS} days`);
  }
  return command
    .option('--memory <L>', 'memory L of the true reference value, in days', parseInteger('--memory', 1, 365), 7)
    .option('--randomized-share <s>', 'share of customers who get independent uniform random coupons (paper §3.1)', parseNumber('--randomized-share', 0, 1), 0.1)
    .option('--coupon-sensitivity <b>', 'typical coupon sensitivity b of the sensitive customers', parseNumber('--coupon-sensitivity', 0, 1000), 8)
    .option('--reference-sensitivity <c>', 'typical reference sensitivity c', parseNumber('--reference-sensitivity', 0, 1000), 10)
    .option('--heterogeneity <h>', 'scale of customer heterogeneity in b and c (0 = everyone alike)', parseNumber('--heterogeneity', 0, 10), 1)
    .option('--discounts <list>', 'coupon values, ascending (default 0.10,0.12,0.15,0.17,0.20)', parseDiscountList('--discounts'))
    .option('--nominal <d0>', 'nominal discount d0', parseNumber('--nominal', 0, 0.999), 0.1);
}

export function simulationOptions(ctx: CommandContext, flags: SimulationFlags, defaults: { customers: number; days?: number }): CouponSimulationOptions {
  if (flags.paperSize && (flags.customers !== undefined || flags.days !== undefined)) throw badInput('--paper-size sets --customers and --days; give one or the other');
  return {
    customers: flags.paperSize ? PAPER_CUSTOMERS : flags.customers ?? defaults.customers,
    days: flags.paperSize ? PAPER_DAYS : flags.days ?? defaults.days,
    seed: ctx.options.seed,
    memory: flags.memory,
    randomizedShare: flags.randomizedShare,
    couponSensitivity: flags.couponSensitivity,
    referenceSensitivity: flags.referenceSensitivity,
    heterogeneity: flags.heterogeneity,
    discounts: flags.discounts,
    nominal: flags.nominal,
  };
}

const SIMULATE_DEFAULTS = { customers: 20_000, days: 60 };

export function registerCoupons(program: Command): void {
  const coupons = program
    .command('coupons')
    .description('daily personalized coupons: simulate customer-day logs, reference-effect evidence (paper §2–3)');
  defineSimulateCoupons(coupons.command('simulate'));
  // The issue names it `promopt simulate coupons`: add it beside `simulate sharing` when that
  // command group is registered (it is, earlier in src/cli/commands.ts).
  const simulateGroup = program.commands.find((c) => c.name() === 'simulate');
  if (simulateGroup && !simulateGroup.commands.some((c) => c.name() === 'coupons')) defineSimulateCoupons(simulateGroup.command('coupons'));
  addSimulationOptions(coupons
    .command('evidence')
    .description('reference-effect evidence on the randomized group (paper §3.1): correlations for L = 1..14 and Table 2')
    .option('--logs <file>', 'customer-day logs (customer, day, coupon, purchased, optional randomized) instead of a fresh simulation'), SIMULATE_DEFAULTS)
    .action(action(async (ctx, flags: EvidenceFlags) => evidenceCommand(ctx, flags)));
}

function defineSimulateCoupons(command: Command): void {
  addSimulationOptions(command
    .description('simulate customer-day coupon logs from a true purchase model with heterogeneous coupon sensitivity, engagement and a reference effect'), SIMULATE_DEFAULTS)
    .option('--out <file>', 'customer-day logs to write (.csv, .parquet or .arrow)')
    .option('--customers-out <file>', 'customers to write: static attributes and the true parameters')
    .option('--features-out <file>', 'training panel for `promopt fit`: customer, day, discount, purchased, spend and the processed features')
    .option('--next-day-out <file>', 'features of the day after the last, per customer (id, spend, features), for `promopt allocate` with a model')
    .option('--warmup-days <n>', 'first days left out of --features-out (they only fill the feature windows)', parseInteger('--warmup-days', 0, 65_535), 7)
    .action(action(async (ctx, flags: SimulateFlags) => simulateCommand(ctx, flags)));
}

function logColumns(log: CouponDayLog, randomized: Uint8Array): TableColumns {
  const n = log.couponLevel.length;
  return [
    ['customer', Int32Array.from({ length: n }, (_, i) => i)],
    ['day', new Int32Array(n).fill(log.day)],
    ['dayOfWeek', new Int32Array(n).fill(log.dayOfWeek)],
    ['randomized', randomized],
    ['coupon', log.coupon],
    ['emailOpened', log.emailOpened],
    ['emailClicked', log.emailClicked],
    ['siteViews', Int32Array.from(log.siteViews)],
    ['productViews', Int32Array.from(log.productViews)],
    ['cartViews', Int32Array.from(log.cartViews)],
    ['checkoutViews', Int32Array.from(log.checkoutViews)],
    ['purchased', log.purchased],
    ['spend', log.spend],
    ['revenue', log.revenue],
    ['cartItems', Int32Array.from(log.cartItems)],
    ['cartValue', log.cartValue],
  ];
}

async function simulateCommand(ctx: CommandContext, flags: SimulateFlags) {
  const options = simulationOptions(ctx, flags, SIMULATE_DEFAULTS);
  const started = performance.now();
  const probe = new CouponWorld({ ...options, customers: 1 });
  const { days } = probe.config;
  if (flags.warmupDays >= days && flags.featuresOut) throw badInput(`--warmup-days (${flags.warmupDays}) must be less than --days (${days})`);
  const outputs = [flags.out, flags.customersOut, flags.featuresOut, flags.nextDayOut].filter((x): x is string => Boolean(x));
  if (new Set(outputs).size !== outputs.length) throw badInput('each output file must be different');

  // Pass 1: the logs (and the summary).
  const world = new CouponWorld(options);
  const n = world.size;
  const levels = world.config.discounts.length;
  const summary = { rows: 0, purchases: 0, revenue: 0, spend: 0, coupons: [0, 1].map(() => new Array<number>(levels).fill(0)), opened: 0, clicked: 0 };
  const progress = startProgress('simulating coupons', days * outputs.length || days, { quiet: ctx.quiet });
  function* logsWithSummary(): Generator<CouponDayLog> {
    for (const log of historicalDays(world)) {
      for (let i = 0; i < n; i++) {
        summary.rows++;
        summary.purchases += log.purchased[i];
        summary.revenue += log.revenue[i];
        summary.spend += log.spend[i];
        summary.opened += log.emailOpened[i];
        summary.clicked += log.emailClicked[i];
        summary.coupons[world.customers.randomized[i]][log.couponLevel[i]]++;
      }
      progress.increment();
      yield log;
    }
  }
  if (flags.out) {
    await writeTableChunks(flags.out, (function* () { for (const log of logsWithSummary()) yield logColumns(log, world.customers.randomized); })());
  } else {
    for (const _ of logsWithSummary()) void _;
  }
  if (flags.customersOut) {
    const c = world.customers, t = world.truth;
    await writeTable(flags.customersOut, [
      ['customer', Int32Array.from({ length: n }, (_, i) => i)],
      ['tenureDays', c.tenureDays], ['historicalOrders', c.historicalOrders], ['historicalCouponOrders', c.historicalCouponOrders],
      ['historicalCouponDiscountSum', c.historicalCouponDiscountSum], ['historicalAverageSpend', c.historicalAverageSpend], ['randomized', c.randomized],
      ['trueBaseline', t.baseline], ['trueCouponSensitivity', t.couponSensitivity], ['trueReferenceSensitivity', t.referenceSensitivity],
      ['trueEngagementWeight', t.engagementWeight], ['trueSpendMean', t.spendMean],
    ]);
  }
  // Pass 2 (and 3): features, streamed from a fresh, identical simulation.
  const featurePass = async (each: (features: Float64Array[], log: CouponDayLog | null, day: number) => TableColumns | undefined) => {
    const again = new CouponWorld(options);
    const stream = new CouponFeatureStream(again.customers, again.config.discounts, again.config.firstDayOfWeek, { horizonDays: days + 1, reuseOutput: true });
    return (async function* () {
      let previous: CouponDayLog | null = null;
      for (const log of historicalDays(again)) {
        const features = await stream.next(previous, ctx.engine);
        const chunk = each(features, log, log.day);
        if (chunk) yield chunk;
        previous = log;
        progress.increment();
      }
      const last = each(await stream.next(previous, ctx.engine), null, days);
      if (last) yield last;
    })();
  };
  const ids = Int32Array.from({ length: n }, (_, i) => i);
  if (flags.featuresOut) {
    await writeTableChunks(flags.featuresOut, await featurePass((features, log, day) => (log && day >= flags.warmupDays ? [
      ['customer', ids], ['day', new Int32Array(n).fill(day)], ['discount', log.coupon], ['purchased', log.purchased], ['spend', log.spend],
      ...COUPON_FEATURE_NAMES.map((name, f) => [name, features[f]] as const),
    ] : undefined)));
  }
  if (flags.nextDayOut) {
    const c = world.customers;
    let total = 0, count = 0;
    for (let i = 0; i < n; i++) if (c.historicalAverageSpend[i] > 0) { total += c.historicalAverageSpend[i]; count++; }
    const spend = Float64Array.from(c.historicalAverageSpend, (s) => (s > 0 ? s : count ? total / count : 1));
    await writeTableChunks(flags.nextDayOut, await featurePass((features, log) => (log ? undefined : [
      ['id', Array.from(ids, String)], ['spend', spend], ...COUPON_FEATURE_NAMES.map((name, f) => [name, features[f]] as const),
    ])));
  }
  progress.stop();
  const seconds = (performance.now() - started) / 1000;
  const distribution = (group: number) => Object.fromEntries(world.config.discounts.map((d, k) => [String(d), summary.coupons[group][k]]));
  let randomizedCustomers = 0;
  for (let i = 0; i < n; i++) randomizedCustomers += world.customers.randomized[i];
  const json = {
    customers: n, days, rows: summary.rows, seed: world.config.seed, memory: world.config.memory,
    randomizedCustomers, purchaseRate: summary.purchases / summary.rows, revenue: summary.revenue,
    averageSpend: summary.purchases ? summary.spend / summary.purchases : 0,
    emailOpenRate: summary.opened / summary.rows, emailClickRate: summary.clicked / summary.rows,
    couponDistribution: { incumbent: distribution(0), randomized: distribution(1) },
    features: COUPON_FEATURE_NAMES.length,
    files: { logs: flags.out ?? null, customers: flags.customersOut ?? null, features: flags.featuresOut ?? null, nextDay: flags.nextDayOut ?? null },
    seconds,
  };
  const text = [
    `Simulated ${n.toLocaleString('en-US')} customers × ${days} days (${summary.rows.toLocaleString('en-US')} customer-days) in ${seconds.toFixed(1)} s; true reference memory L = ${json.memory}`,
    `Purchase rate ${(100 * json.purchaseRate).toFixed(2)}% per customer-day, average spend ${json.averageSpend.toFixed(2)}, revenue ${Math.round(json.revenue).toLocaleString('en-US')}; e-mails opened ${(100 * json.emailOpenRate).toFixed(1)}%, clicked ${(100 * json.emailClickRate).toFixed(1)}%`,
    `Randomized group: ${randomizedCustomers.toLocaleString('en-US')} customers with independent uniform coupons`,
    '',
    formatTable(['coupon', 'incumbent', 'randomized'], world.config.discounts.map((d, k) => [d.toFixed(2), String(summary.coupons[0][k]), String(summary.coupons[1][k])])),
    '',
    ...Object.entries(json.files).filter(([, f]) => f).map(([what, f]) => `wrote ${what}: ${f}`),
  ].join('\n');
  return { json, text };
}

async function evidenceCommand(ctx: CommandContext, flags: EvidenceFlags) {
  let rows: EvidenceRows;
  let source: string;
  if (flags.logs) {
    const table = await readTable(flags.logs, { required: ['customer', 'day', 'coupon', 'purchased'] });
    const customer = table.numeric.get('customer')!, day = table.numeric.get('day')!, coupon = table.numeric.get('coupon')!, purchased = table.numeric.get('purchased')!;
    const randomized = table.numeric.get('randomized');
    const keep: number[] = [];
    for (let r = 0; r < table.rows; r++) {
      if (purchased[r] !== 0 && purchased[r] !== 1) throw badInput(`${flags.logs}: row ${r + 2}, column "purchased": ${purchased[r]} is not 0 or 1`);
      if (!randomized || randomized[r] === 1) keep.push(r);
    }
    rows = { customer: keep.map((r) => customer[r]), day: keep.map((r) => day[r]), coupon: keep.map((r) => coupon[r]), purchased: keep.map((r) => purchased[r]) };
    source = randomized ? `${flags.logs} (rows with randomized = 1)` : flags.logs;
  } else {
    const options = simulationOptions(ctx, flags, SIMULATE_DEFAULTS);
    const world = new CouponWorld(options);
    const logs: { day: number; coupon: Float64Array; purchased: Uint8Array }[] = [];
    const progress = startProgress('simulating coupons', world.config.days, { quiet: ctx.quiet });
    for (const log of historicalDays(world)) {
      logs.push({ day: log.day, coupon: log.coupon, purchased: log.purchased });
      progress.increment();
    }
    progress.stop();
    rows = randomizedRows(world.customers.randomized, logs);
    source = `simulation (seed ${world.config.seed}, true memory L = ${world.config.memory})`;
  }
  const evidence = referenceEvidence(rows);
  return { json: { source, ...evidence, reportData: referenceEffectsReportData(evidence) }, text: `Source: ${source}\n${formatReferenceEvidence(evidence)}` };
}
