// The slides' two estimate tables ("Parameter Estimates: Market Constants" and "Interaction
// Terms") and the diagnostics, as text. Values are per standard deviation of each covariate.
import { formatTable, stars } from '../report/text.js';
import { PAPER_COVARIATES } from './paper.js';
import { twoSidedP } from './estimate-linalg.js';
import type { EstimationResults } from './estimate.js';

function cell(estimate: number, se: number, digits = 3): string {
  const est = estimate.toFixed(digits);
  if (!Number.isFinite(se)) return est;
  return `${est}${stars(twoSidedP(estimate, se))} (${se.toFixed(digits)})`;
}

/** Digits enough to show a small coefficient (the price sensitivities are ~0.001). */
function digitsFor(values: number[]): number {
  const big = Math.max(...values.map((v) => Math.abs(v)).filter(Number.isFinite), 0);
  return big >= 0.1 ? 3 : big >= 0.01 ? 4 : 5;
}

export function formatEstimation(results: EstimationResults): string {
  const { params, se } = results.standardized;
  const boot = results.bootstrap?.se;
  const constants: Array<[string, keyof typeof params & ('vbar' | 'abar' | 'scbar' | 'sigma' | 'r0' | 'L')]> = [
    ['Average Baseline Utility (vbar)', 'vbar'],
    ['Average Price Sensitivity (abar)', 'abar'],
    ['Average Sharing Cost (scbar)', 'scbar'],
    ['Ratio of Standard Deviation (sigma)', 'sigma'],
    ['Average Log Number of Referrals (r0)', 'r0'],
    ['Implied Referral Value (L)', 'L'],
  ];
  const header = ['Parameter', 'Estimate'];
  if (boot) header.push('Bootstrap SE');
  const constantRows = constants.map(([label, key]) => {
    const digits = Math.abs(params[key]) < 0.1 ? 4 : 3;
    const row = [label, cell(params[key], se[key], digits)];
    if (boot) row.push(Number.isFinite(boot[key]) ? boot[key].toFixed(digits) : '');
    return row;
  });
  const labels = new Map(PAPER_COVARIATES.map((c) => [c.name, c.label]));
  const blocks = ['beta_v', 'beta_alpha', 'beta_sc', 'beta_r'] as const;
  const digits = blocks.map((b) => digitsFor(params[b]));
  const interactionRows = params.covariates.map((name, j) => [
    labels.get(name) ?? name,
    ...blocks.map((b, c) => cell(params[b][j], se[b][j], digits[c])),
  ]);
  const d = results.diagnostics;
  const stepRows = d.steps.map((s) => [
    s.step, `${s.moments}/${s.parameters}`, s.objective.toExponential(3), s.gradientNorm.toExponential(2), String(s.iterations),
    String(s.inversionFailures), s.converged ? 'yes' : 'NO',
  ]);
  const lines = [
    `Sequential GMM: ${d.customers.toLocaleString('en-US')} customers, ${d.markets} markets, ${d.covariates} covariates (${d.seconds.toFixed(2)} s)`,
    '',
    'Parameter Estimates: Market Constants',
    formatTable(header, constantRows),
    '',
    'Parameter Estimates: Interaction Terms (per standard deviation of each covariate)',
    formatTable(['Parameter', '(1) Baseline Utility', '(2) Price Sensitivity', '(3) Sharing Cost', '(4) Log Number of Referrals'], interactionRows),
    '',
    '* p < 0.1; ** p < 0.05; *** p < 0.01 (standard errors from the stacked moments of all four steps; market-level moments clustered by market)',
    '',
    'Diagnostics',
    formatTable(['step', 'moments/params', 'objective', '|gradient|', 'iterations', 'inversion failures', 'converged'], stepRows),
    d.overidentification.df > 0
      ? `Over-identification (purchase block): J = ${d.overidentification.J.toFixed(3)} with ${d.overidentification.df} degree(s) of freedom`
      : 'Purchase block exactly identified: the constant component of E[(D−y) e e^(x\'β_α) MC (1, x)] is redundant given the market constants (weight 0)',
  ];
  if (results.bootstrap) lines.push(`Market bootstrap: ${results.bootstrap.replications} replications (${results.bootstrap.failures} failed)`);
  const rb = results.referralBootstrap;
  if (rb) {
    // per standard deviation of each covariate, as the tables
    const { se: bse, interval95 } = rb.standardized;
    const fmt = (x: number) => (Math.abs(x) < 0.1 ? x.toFixed(4) : x.toFixed(3));
    const rows = [
      ['Average Log Number of Referrals (r0)', fmt(params.r0), fmt(se.r0), fmt(bse.r0), `[${fmt(interval95.r0[0])}, ${fmt(interval95.r0[1])}]`],
      ...params.covariates.map((name, j) => [
        labels.get(name) ?? name, fmt(params.beta_r[j]), fmt(se.beta_r[j]), fmt(bse.beta_r[j]), `[${fmt(interval95.beta_r[j][0])}, ${fmt(interval95.beta_r[j][1])}]`,
      ]),
    ];
    lines.push('', `Referral step, customer-level bootstrap: ${rb.replications} replications (${rb.failures} failed)`,
      formatTable(['Parameter', 'Estimate', 'Sandwich SE', 'Bootstrap SE', 'Basic 95% interval'], rows));
  }
  for (const w of d.warnings) lines.push(`WARNING: ${w}`);
  return lines.join('\n');
}
