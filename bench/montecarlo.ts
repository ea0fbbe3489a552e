// Monte Carlo of the sequential GMM estimator at the paper design (a script, not a unit test):
// R replications of simulate → estimate, reporting per parameter the bias, RMSE, mean standard
// error against the standard deviation of the estimates, and the coverage of the 95% interval
// estimate ± 1.96 SE. Results go to bench/montecarlo-results.md.
//
// Design: the slides' 21 markets (prices, group sizes, wholesale costs) and their estimates as
// the truth, except S̄C = 0.3 instead of 0.401 (at σ = 18.9 the slides' S̄C leaves the 118-price
// markets with almost no sharers, so a market's sharing constant is often unidentified), with
// random market shocks ξy ~ N(0, 0.25²), ξw ~ N(0, 0.02²) independent of cost (the simulator's
// calibrated shocks are chosen to hit the slides' rates per price group, so they co-vary with
// price and violate E[ξ(1, MC)] = 0), and the optimal price rule (so L is identified, SPEC §1.4).
//
// Run: npm run build && node dist/bench/montecarlo.js [replications=100] [threads=1] [customers=23266] [out=bench/montecarlo-results.md]
import { writeFileAtomic } from '../src/io/atomic.js';
import { Engine } from '../src/parallel/engine.js';
import { estimate, flatten } from '../src/sharing/estimate.js';
import { simulateSharing } from '../src/sharing/simulate.js';
import { PAPER_PARAMETERS } from '../src/sharing/paper.js';
import { parameterNames } from '../src/sharing/delta.js';

const replications = Number(process.argv[2] ?? 100);
const threads = Number(process.argv[3] ?? 1);
const customers = Number(process.argv[4] ?? 23_266);
const out = process.argv[5] ?? new URL('../../bench/montecarlo-results.md', import.meta.url).pathname;
const truth = { ...PAPER_PARAMETERS, scbar: 0.3 };
const names = parameterNames(truth);
const engine = new Engine({ threads });

interface Draw { est: number[]; se: number[] }
const draws: Draw[] = [];
const failures: string[] = [];
const started = performance.now();
let estimateSeconds = 0;
for (let r = 1; r <= replications; r++) {
  const sim = simulateSharing({ design: 'paper', seed: 1000 + r, priceRule: 'optimal', shocks: 'random', shockSd: { y: 0.25, w: 0.02 }, params: truth, customers });
  try {
    const t = performance.now();
    const res = await estimate(sim.data, {}, engine);
    estimateSeconds += (performance.now() - t) / 1000;
    const est = flatten(res.params), se = flatten(res.se);
    draws.push({ est: names.map((k) => est[k]), se: names.map((k) => se[k]) });
  } catch (error) {
    failures.push(`replication ${r}: ${(error as Error).message}`);
  }
  if (r % 10 === 0 || r === replications) process.stderr.write(`${r}/${replications} replications (${failures.length} failed), ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}
await engine.close();

const trueValues = flatten(truth);
const rows = names.map((name, j) => {
  const t = trueValues[name];
  const est = draws.map((d) => d.est[j]), se = draws.map((d) => d.se[j]);
  const R = est.length;
  const mean = est.reduce((a, b) => a + b, 0) / R;
  const bias = mean - t;
  const rmse = Math.sqrt(est.reduce((a, b) => a + (b - t) ** 2, 0) / R);
  const sd = Math.sqrt(est.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, R - 1));
  const meanSe = se.reduce((a, b) => a + b, 0) / R;
  const coverage = est.filter((e, i) => Math.abs(e - t) <= 1.96 * se[i]).length / R;
  return { name, t, bias, rmse, sd, meanSe, coverage };
});
const fmt = (x: number) => (Math.abs(x) >= 0.1 || x === 0 ? x.toFixed(3) : x.toExponential(2));
const lines = [
  '# Monte Carlo of the sequential GMM estimator (paper design)',
  '',
  `${draws.length} successful replications of ${replications} (${failures.length} failed); ${customers.toLocaleString('en-US')} customers, 21 markets, 14 covariates each;`,
  `optimal price rule, random shocks ξy ~ N(0, 0.25²), ξw ~ N(0, 0.02²), S̄C = 0.3, the slides' other estimates as the truth.`,
  `Standard errors: the stacked-moment sandwich (customer moments heteroskedasticity-robust, market moments clustered by market).`,
  `Mean estimation time ${(estimateSeconds / Math.max(1, draws.length)).toFixed(2)} s on ${threads} thread(s); produced by \`node dist/bench/montecarlo.js ${replications} ${threads} ${customers}\`.`,
  '',
  '| parameter | true | bias | RMSE | SD of estimates | mean SE | 95% coverage |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.name} | ${fmt(r.t)} | ${fmt(r.bias)} | ${fmt(r.rmse)} | ${fmt(r.sd)} | ${fmt(r.meanSe)} | ${(100 * r.coverage).toFixed(0)}% |`),
  '',
  'Notes:',
  '',
  '- The referral parameters (r0, beta_r) use the SPEC moment E[(R/r − 1) w (1, x)] = 0, which weights each referral by 1/r:',
  '  with the simulator\'s skewed covariates a few sharers with tiny r and R ≥ 1 dominate, the sampling distribution has heavy',
  '  tails and the sandwich SE understates the spread (compare "SD of estimates" with "mean SE"); the Poisson score',
  '  E[(R − r) w (1, x)] = 0 would not have this problem but is not what the slides estimate.',
  '- Failures are reported, never silent: a market without sharers stops estimation (its constant is not identified), and a',
  '  purchase block whose moment equations have no root (the objective stops at a singular Jacobian: the price-sensitivity',
  '  interactions rest on 21 markets\' price variation) is a NOT_CONVERGED error.',
  '',
  ...(failures.length ? ['Failures:', '', ...failures.map((f) => `- ${f}`), ''] : []),
];
await writeFileAtomic(out, `${lines.join('\n')}\n`);
process.stderr.write(`wrote ${out}\n`);
