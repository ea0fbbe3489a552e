// promopt fit: the coupon response model q(x, d) = Λ(f(x) + g(x)(d − d0)) from customer-day
// observations (paper §2.1), saved as a JSON model file, with the §2.2 diagnostics.
//
// Input (CSV with a header, or any table format src/io/table.ts reads): one row per customer-day;
// `purchased` (0/1) and `discount` (the coupon value offered) are required; `id`, `customer`,
// `day` and `spend` are bookkeeping and ignored; every other column is a feature, in file order
// (or name them with --features).
import type { Command } from 'commander';
import { action, parseInteger, parseNumber } from './context.js';
import { readTable } from '../io/table.js';
import { fitResponseModel, type ResponseModelOptions } from '../coupons/response.js';
import type { GbmParams } from '../kernels/gbm.js';
import { loadXGBoostModel } from '../coupons/xgboost.js';
import { startProgress } from '../report/progress.js';
import { badInput } from '../errors.js';

/** Columns of the input that are never features. */
export const FIT_RESERVED_COLUMNS = ['purchased', 'discount', 'id', 'customer', 'day', 'spend'] as const;

/** The GBM's own settings come straight from GbmParams' names. */
interface FitOptions extends Pick<GbmParams, 'rounds' | 'learningRate' | 'maxDepth' | 'maxLeaves' | 'minChildWeight' | 'lambda' | 'bins'> {
  input: string;
  model: string;
  features?: string;
  nominal: number;
  validationFraction: number;
  earlyStopping: number;
  ridge: number;
  xgboost?: string;
  xgboostBaseScore?: number;
}

export function registerFit(program: Command): void {
  program
    .command('fit')
    .description('fit the coupon response model (GBM baseline f, linear coupon sensitivity g) to customer-day observations and save it')
    .requiredOption('--input <file>', 'customer-day table: purchased, discount and feature columns (id, customer, day, spend are ignored)')
    .requiredOption('--model <file>', 'where to write the fitted model (JSON)')
    .option('--features <list>', 'comma-separated feature columns (default: every non-reserved column)')
    .option('--nominal <d0>', 'nominal discount d0: f is trained on the rows with d = d0', parseNumber('--nominal', 0, 0.999), 0.1)
    .option('--rounds <n>', 'boosting rounds at most', parseInteger('--rounds', 1, 100_000), 100)
    .option('--learning-rate <eta>', 'shrinkage of each tree', parseNumber('--learning-rate', 1e-6, 1), 0.3)
    .option('--max-depth <n>', 'tree depth limit (0 = none; then set --max-leaves)', parseInteger('--max-depth', 0, 30), 6)
    .option('--max-leaves <n>', 'leaves per tree (best-first growth; 0 = no limit)', parseInteger('--max-leaves', 0, 65536), 0)
    .option('--min-child-weight <h>', 'minimum hessian in a child', parseNumber('--min-child-weight', 0), 1)
    .option('--lambda <l>', 'L2 penalty on leaf values', parseNumber('--lambda', 0), 1)
    .option('--bins <n>', 'histogram bins per feature (2..255)', parseInteger('--bins', 2, 255), 255)
    .option('--validation-fraction <v>', 'share of rows held out (early stopping, held-out figures)', parseNumber('--validation-fraction', 0, 0.99), 0.2)
    .option('--early-stopping <n>', 'stop after n rounds without a better validation log-loss (0 = never)', parseInteger('--early-stopping', 0, 100_000), 10)
    .option('--ridge <r>', 'ridge on the g coefficients', parseNumber('--ridge', 0), 1e-6)
    .option('--xgboost <file>', 'take f from this XGBoost JSON model (save_model or dump_model format) instead of training the GBM')
    .option('--xgboost-base-score <p>', 'base_score of an XGBoost dump (dumps do not record it)', parseNumber('--xgboost-base-score', 1e-9, 1 - 1e-9))
    .action(action(async (ctx, opts: FitOptions) => {
      const table = await readTable(opts.input, { required: ['purchased', 'discount'], text: ['id', 'customer'] });
      const names = opts.features
        ? opts.features.split(',').map((s) => s.trim()).filter(Boolean)
        : table.header.filter((h) => !(FIT_RESERVED_COLUMNS as readonly string[]).includes(h));
      if (names.length === 0) throw badInput(`${opts.input}: no feature columns (every column is one of ${FIT_RESERVED_COLUMNS.join(', ')})`);
      for (const name of names) {
        if (!table.numeric.has(name)) throw badInput(`${opts.input}: missing feature column "${name}"`);
        if ((FIT_RESERVED_COLUMNS as readonly string[]).includes(name)) throw badInput(`--features: "${name}" is a reserved column, not a feature`);
      }
      const purchasedColumn = table.numeric.get('purchased')!;
      const purchased = new Uint8Array(table.rows);
      for (let i = 0; i < table.rows; i++) {
        const y = purchasedColumn[i];
        if (y !== 0 && y !== 1) throw badInput(`${opts.input}: row ${i + 2}, column "purchased": ${y} is not 0 or 1`);
        purchased[i] = y;
      }
      const options: ResponseModelOptions = {
        nominalDiscount: opts.nominal, rounds: opts.rounds, learningRate: opts.learningRate, maxDepth: opts.maxDepth, maxLeaves: opts.maxLeaves,
        minChildWeight: opts.minChildWeight, lambda: opts.lambda, bins: opts.bins, validationFraction: opts.validationFraction,
        earlyStoppingRounds: opts.earlyStopping, ridge: opts.ridge, seed: ctx.options.seed,
      };
      if (opts.xgboost) {
        const imported = await loadXGBoostModel(opts.xgboost, { featureNames: names, baseScore: opts.xgboostBaseScore });
        options.baseline = { forest: imported.forest, source: 'xgboost' };
      }
      const progress = startProgress('boosting', opts.xgboost ? 0 : opts.rounds, { quiet: ctx.quiet });
      options.progress = (round) => progress.update(round);
      let model;
      try {
        model = await fitResponseModel({ featureNames: names, features: names.map((n) => table.numeric.get(n)!), discount: table.numeric.get('discount')!, purchased }, options, ctx.engine);
      } finally {
        progress.stop();
      }
      await model.save(opts.model);
      const d = model.diagnostics;
      const json = {
        model: opts.model,
        nominalDiscount: model.nominalDiscount,
        features: names.length,
        rows: d.rows,
        shareGPositive: d.shareGPositive,
        heldOut: d.heldOut,
        baselineHeldOut: d.baselineHeldOut,
        baseline: { source: d.baseline.source, trees: d.baseline.trees, nodes: d.baseline.nodes, bestRound: d.baseline.bestRound },
        topPredictors: d.auxiliary.predictors,
        coefficients: d.coefficients,
        seconds: d.seconds,
      };
      return { json, text: `${model.summary()}\n\nModel written to ${opts.model}` };
    }));
}
