// promopt counterfactual: the six personalization schemes of the slides' appendix (SPEC §1.3, §4)
// for the customers of a sharing-experiment file, under given model parameters.
import type { Command } from 'commander';
import { action, parseInteger, parseNumber } from './context.js';
import { badInput } from '../errors.js';
import { REGULAR_PRICE } from '../kernels/grid.js';
import { startProgress } from '../report/progress.js';
import { tableRowCount } from '../io/table.js';
import { readParameters } from '../sharing/model.js';
import { readCovariance } from '../sharing/delta.js';
import { counterfactual, DEFAULT_GAMMA_GRID, fileSource, formatCounterfactual } from '../sharing/counterfactual.js';

/** "none", a list "0,0.5,1", or a range "from:to:step" (inclusive). */
export function parseGammaGrid(value: string): number[] {
  const text = value.trim();
  if (text === 'none' || text === '') return [];
  const bad = () => badInput(`--gamma-grid must be "none", a list like 0,0.5,1 or a range like 0:2:0.1 of non-negative numbers, got "${value}"`);
  if (text.includes(':')) {
    const parts = text.split(':').map(Number);
    if (parts.length !== 3 || parts.some((x) => !Number.isFinite(x))) throw bad();
    const [from, to, step] = parts;
    if (from < 0 || to < from || !(step > 0)) throw bad();
    const count = Math.floor((to - from) / step + 1e-9) + 1;
    if (count > 10_000) throw bad();
    // Rounded so that 0:2:0.1 gives 0.3, not 0.30000000000000004.
    return Array.from({ length: count }, (_, k) => Number((from + k * step).toPrecision(12)));
  }
  const list = text.split(',').map((s) => Number(s.trim()));
  if (list.some((x) => !Number.isFinite(x) || x < 0)) throw bad();
  return list;
}

export function registerCounterfactual(program: Command): void {
  program
    .command('counterfactual')
    .description('profits of uniform vs personalized prices and broadcasting requirements (UNS, US, UP, PNS, PS, PP), the slides\' profit table, acquisition costs, Propositions 1–3, heterogeneity and the lead-value sensitivity curve')
    .requiredOption('--data <file>', 'sharing-experiment data (SPEC §4 columns; covariates used as given)')
    .requiredOption('--params <file>', 'sharing-model parameters (JSON, SPEC §4)')
    .option('--covariance <file>', 'parameter covariance {"names": [...], "matrix": [[...]]} for delta-method SEs and the 90% band')
    .option('--regular-price <p>', 'highest feasible price', parseInteger('--regular-price', 1, 100_000), REGULAR_PRICE)
    .option('--lead-value <L>', 'value of one lead, L̂ (default: the parameters\' L)', parseNumber('--lead-value'))
    .option('--gamma-grid <list>', 'γ values for L = γ·L̂: "none", a list 0,0.5,1 or a range 0:2:0.1', parseGammaGrid, [...DEFAULT_GAMMA_GRID])
    .option('--chunk-rows <n>', 'customers read at a time (memory stays bounded)', parseInteger('--chunk-rows', 1, 1 << 26), 1 << 18)
    .option('--keep-mb <n>', 'memory (MiB) for keeping the data read in the first pass for the later ones, 44 bytes per customer (+8 per covariate with --covariance); past it, or with 0, the file is read again per pass', parseInteger('--keep-mb', 0, 1 << 24), 2048)
    .action(action(async (ctx, opts: { data: string; params: string; covariance?: string; regularPrice: number; leadValue?: number; gammaGrid: number[]; chunkRows: number; keepMb: number }) => {
      const params = await readParameters(opts.params);
      const covariance = opts.covariance ? await readCovariance(opts.covariance, params) : undefined;
      const rows = ctx.quiet ? undefined : await tableRowCount(opts.data);
      const passes = covariance ? 3 : 2; // pass 1, the exact uniform totals, the gradients (with a covariance)
      const progress = rows ? startProgress('counterfactual', rows * passes, { quiet: ctx.quiet }) : undefined;
      const results = await counterfactual(fileSource(opts.data, params, opts.chunkRows, rows), params, {
        regularPrice: opts.regularPrice,
        leadValue: opts.leadValue,
        gammaGrid: opts.gammaGrid,
        covariance,
        keepBytes: opts.keepMb * 2 ** 20,
        progress,
        seed: ctx.options.seed,
      }, ctx.engine);
      const pr = results.propositions;
      if (results.acquisitionCost.violations > 0 || pr.P1.violations + pr.P2.violations + pr.P3.violations > 0) {
        ctx.note('promopt: warning: a proposition or the acquisition-cost rule is violated beyond near-ties (see "propositions" / "acquisitionCost")');
      }
      return { json: results, text: formatCounterfactual(results) };
    }));
}
