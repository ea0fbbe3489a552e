// promopt abtest: the simulated A/B test of the promopt coupon policy against the incumbent
// (paper §3): revenue uplift with a robust one-sided test, contribution margin, and coupons and
// revenue by coupon rate (Figure 2; --figure-out writes them as a table for plots).
import type { Command } from 'commander';
import { action, parseInteger, parseNumber, type CommandContext } from './context.js';
import { addSimulationOptions, simulationOptions, type SimulationFlags } from './coupons.js';
import { badInput } from '../errors.js';
import { writeTable } from '../io/table.js';
import { startProgress } from '../report/progress.js';
import { abTestReportData, formatAbTest, runAbTest } from '../coupons/abtest.js';
import { ResponseModel } from '../coupons/response.js';

/** The simulation's flags (shared with `coupons simulate`) plus the test's own. */
interface AbTestFlags extends Omit<SimulationFlags, 'days' | 'paperSize'> {
  trainingDays: number;
  warmupDays: number;
  testDays: number;
  treatmentShare: number;
  cogs: number;
  model?: string;
  rounds: number;
  method: string;
  figureOut?: string;
}

export function registerAbTest(program: Command): void {
  addSimulationOptions(program
    .command('abtest')
    .description('simulated A/B test: the promopt policy (features → response model → budgeted allocation) against the incumbent\'s clustered coupon distributions, at the same daily budget'),
  { customers: 20_000 })
    .option('--training-days <n>', 'days of incumbent history the response model is fit on', parseInteger('--training-days', 2, 10_000), 28)
    .option('--warmup-days <n>', 'first history days that only fill the feature windows', parseInteger('--warmup-days', 0, 10_000), 7)
    .option('--test-days <D>', 'days of the test', parseInteger('--test-days', 1, 10_000), 11)
    .option('--treatment-share <s>', 'share of the test customers in treatment', parseNumber('--treatment-share', 0.001, 0.999), 0.5)
    .option('--cogs <share>', 'cost of goods sold as a share of pre-discount spend (contribution margin)', parseNumber('--cogs', 0, 0.999), 0.55)
    .option('--model <file>', 'use this fitted response model (from `promopt fit` on simulator features) instead of fitting one on the history')
    .option('--rounds <n>', 'boosting rounds of the baseline f when the model is fit here', parseInteger('--rounds', 1, 100_000), 100)
    .option('--method <m>', 'allocation method: exact or bisection', 'exact')
    .option('--figure-out <file>', 'write coupons sent and revenue by coupon rate per arm (Figure 2 data) to this table')
    .action(action(async (ctx, flags: AbTestFlags) => abTestCommand(ctx, flags)));
}

async function abTestCommand(ctx: CommandContext, flags: AbTestFlags) {
  if (flags.method !== 'exact' && flags.method !== 'bisection') throw badInput(`--method must be exact or bisection, got "${flags.method}"`);
  if (flags.warmupDays >= flags.trainingDays) throw badInput(`--warmup-days (${flags.warmupDays}) must be less than --training-days (${flags.trainingDays})`);
  const { days: _days, ...simulation } = simulationOptions(ctx, { ...flags, days: undefined, paperSize: false }, { customers: 20_000 });
  void _days;
  const model = flags.model ? await ResponseModel.load(flags.model) : undefined;
  const progress = startProgress('A/B test (days)', flags.trainingDays + flags.testDays, { quiet: ctx.quiet });
  const result = await runAbTest({
    simulation,
    trainingDays: flags.trainingDays, warmupDays: flags.warmupDays, testDays: flags.testDays,
    treatmentShare: flags.treatmentShare, costOfGoodsShare: flags.cogs,
    response: { rounds: flags.rounds, seed: ctx.options.seed }, allocationMethod: flags.method, model,
    progress: (stage) => { if (stage !== 'fit') progress.increment(); },
  }, ctx.engine).finally(() => progress.stop());
  if (flags.figureOut) {
    await writeTable(flags.figureOut, [
      ['discount', Float64Array.from(result.couponsByRate, (r) => r.discount)],
      ['couponsTreatment', Float64Array.from(result.couponsByRate, (r) => r.treatment)],
      ['couponsControl', Float64Array.from(result.couponsByRate, (r) => r.control)],
      ['couponsPercentChange', Float64Array.from(result.couponsByRate, (r) => r.percentChange)],
      ['revenueTreatment', Float64Array.from(result.revenueByRate, (r) => r.treatment)],
      ['revenueControl', Float64Array.from(result.revenueByRate, (r) => r.control)],
      ['revenuePercentChange', Float64Array.from(result.revenueByRate, (r) => (Number.isFinite(r.percentChange) ? r.percentChange : 0))],
    ]);
  }
  const { fittedModel, ...json } = result;
  void fittedModel;
  const text = formatAbTest(result) + (flags.figureOut ? `\n\nwrote Figure 2 data: ${flags.figureOut}` : '');
  return { json: { ...json, figureOut: flags.figureOut ?? null, reportData: abTestReportData(result) }, text };
}
