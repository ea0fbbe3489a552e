// How far monotone bounds could prune the uniform-price schemes' share stage (planning data for
// issue 3's 5 s goal, not a timing; the kernel's windowed totals, built from it, add a window of
// exact prices around a pilot's optimum to such anchors). The uniform schemes maximize a market's total Π(p, 1) over
// the grid, so today every customer's share S_i(p) is evaluated at every price. S falls with the
// price (α, σ ≥ 0), so evaluating it only at "anchor" prices (every k-th) bounds every other
// price's total: T(p) ≤ Σ_i S_i(a⁻) max(w_i, 0) + S_i(a⁺) min(w_i, 0), w_i = Π_i(p, 0) + r_i L,
// with a⁻ < p < a⁺ the neighbouring anchors. A price whose bound is below the best anchor's
// total cannot be the argmax; the others ("survivors") need S for every customer. Share-stage
// evaluations per customer = anchors + survivors (instead of the grid's size), in exact
// arithmetic (f64, no screening error). Run: node dist/bench/uniform-bounds.js [customers=100000]
import { feasiblePrices } from '../src/kernels/grid.js';
import { logistic, softplus } from '../src/kernels/math.js';
import { PAPER_PARAMETERS } from '../src/sharing/paper.js';
import { syntheticPopulation } from '../src/sharing/population.js';
import { customerProfit } from '../src/sharing/propositions.js';

const customers = Number(process.argv[2] ?? 100_000);
const population = syntheticPopulation(customers, 1);
const prices = feasiblePrices();
const { sigma, L } = PAPER_PARAMETERS;
const { baselineUtility: v, priceSensitivity: alpha, shareCost, expectedReferrals: r, marginalCost, marketStarts } = population;
const strides = [2, 3, 4, 6, 8];
const P = prices.length;

console.log(`### Share-stage evaluations the uniform schemes need under monotone bounds (${customers.toLocaleString('en-US')} customers, ${P} prices)\n`);
console.log(`| market (mc) | best US price | ${strides.map((k) => `every ${k}: anchors + survivors`).join(' | ')} |`);
console.log(`|---|---:|${strides.map(() => '---:').join('|')}|`);
for (let m = 0; m < marketStarts.length; m++) {
  const start = marketStarts[m], end = marketStarts[m + 1] ?? customers;
  const n = end - start;
  const share = new Float64Array(n * P), weight = new Float64Array(n * P);
  const total = new Float64Array(P);
  for (let i = 0; i < n; i++) {
    const c = start + i;
    for (let j = 0; j < P; j++) {
      const own = customerProfit(v[c], alpha[c], shareCost[c], r[c], marginalCost[c], prices[j], 0, sigma, L);
      const s = logistic(sigma * (softplus(v[c] - alpha[c] * prices[j]) - shareCost[c]));
      weight[i * P + j] = own + r[c] * L;
      share[i * P + j] = s;
      total[j] += s * (own + r[c] * L);
    }
  }
  const best = total.reduce((b, x, j) => (x > total[b] ? j : b), 0);
  const cells = strides.map((k) => {
    const anchors: number[] = [];
    for (let j = 0; j < P; j += k) anchors.push(j);
    if (anchors.at(-1) !== P - 1) anchors.push(P - 1);
    const bestAnchor = Math.max(...anchors.map((j) => total[j]));
    let survivors = anchors.filter((j) => total[j] >= bestAnchor).length;
    for (let j = 0; j < P; j++) {
      if (anchors.includes(j)) continue;
      const below = anchors.filter((a) => a < j).at(-1)!, above = anchors.find((a) => a > j)!;
      let bound = 0;
      for (let i = 0; i < n; i++) {
        const w = weight[i * P + j];
        bound += w >= 0 ? share[i * P + below] * w : share[i * P + above] * w;
      }
      if (bound >= bestAnchor) survivors++;
    }
    return `${anchors.length} + ${survivors} = ${anchors.length + survivors}`;
  });
  console.log(`| ${population.marketNames[m]} (${marginalCost[start]}) | ${prices[best]} | ${cells.join(' | ')} |`);
}
