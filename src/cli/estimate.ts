// promopt estimate: the sequential GMM of SPEC §1.2 on a sharing-experiment file; prints the
// slides' two estimate tables (or, with --json, {params, se, covariance, ...}).
import type { Command } from 'commander';
import { action, parseInteger } from './context.js';
import { readSharingData } from '../sharing/data.js';
import { estimate, formatEstimation } from '../sharing/estimate.js';
import { writeParameters } from '../sharing/model.js';
import { writeFileAtomic } from '../io/atomic.js';
import { startProgress } from '../report/progress.js';

export function registerEstimate(program: Command): void {
  program
    .command('estimate')
    .description('estimate the share-then-purchase model (sequential GMM, stacked-moment standard errors) from a sharing-experiment file')
    .requiredOption('--data <file>', 'sharing-experiment data (market, price, mc, s, w, y, referrals, covariates...)')
    .option('--bootstrap <B>', 'market-level bootstrap replications (0: none)', parseInteger('--bootstrap', 0, 1_000_000), 0)
    .option('--referral-bootstrap <B>', 'customer-level bootstrap of the referral step alone (0: none): SEs and basic 95% intervals of r0 and beta_r, whose sandwich SEs under-cover when the weights 1/r̂ are heavy-tailed', parseInteger('--referral-bootstrap', 0, 1_000_000), 0)
    .option('--out <file>', 'write the estimated parameter JSON (SPEC §4, covariates in the data\'s units) to this file')
    .option('--covariance-out <file>', 'write the parameter covariance {"names", "matrix"} (what `promopt counterfactual --covariance` reads)')
    .action(action(async (ctx, opts: { data: string; bootstrap: number; referralBootstrap: number; out?: string; covarianceOut?: string }) => {
      const data = await readSharingData(opts.data);
      // the referral bootstrap runs inside the estimate, the market bootstrap after it
      const progress = startProgress('bootstrap', opts.referralBootstrap + opts.bootstrap, { quiet: ctx.quiet });
      let results;
      try {
        results = await estimate(data, {
          bootstrap: opts.bootstrap,
          referralBootstrap: opts.referralBootstrap,
          seed: ctx.options.seed,
          onReferralBootstrapProgress: (done) => progress.update(done),
          onBootstrapProgress: (done) => progress.update(opts.referralBootstrap + done),
        }, ctx.engine);
      } finally {
        progress.stop();
      }
      for (const warning of results.diagnostics.warnings) process.stderr.write(`promopt: WARNING: ${warning}\n`);
      if (opts.out) await writeParameters(opts.out, results.params);
      if (opts.covarianceOut) await writeFileAtomic(opts.covarianceOut, `${JSON.stringify(results.covariance, null, 2)}\n`);
      const json = {
        params: results.params,
        se: results.se,
        covariance: results.covariance,
        standardized: results.standardized,
        diagnostics: results.diagnostics,
        ...(results.bootstrap ? { bootstrap: results.bootstrap } : {}),
        ...(results.referralBootstrap ? { referralBootstrap: results.referralBootstrap } : {}),
      };
      return { json, text: formatEstimation(results) };
    }));
}
