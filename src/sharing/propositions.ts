// Propositions 1–3 of the slides, checked on the discrete price grid (weakly; ties in profit go
// to the lower price, and to the broadcasting requirement between conditions):
//   P1  p*S ≤ p*NS for every customer;
//   P2  p*S is decreasing in SC and in r (same v, α, market);
//   P3  s* is decreasing in SC and increasing in r (same v, α, market).
// A reversal counts as a violation only when it is not a near-tie, i.e. when the customer would
// lose more than a relative `TIE_TOLERANCE` of profit by taking the other choice.
import { priceGridSearchReference, type GridCustomers } from '../kernels/grid.js';
import { CounterRng, streamId } from '../random.js';
import { logistic, softplus } from '../kernels/math.js';

export const TIE_TOLERANCE = 1e-10;

/** Π_i(p, s) in plain TypeScript (SPEC §1.3). */
export function customerProfit(
  v: number, alpha: number, shareCost: number, referrals: number, mc: number,
  price: number, broadcast: 0 | 1, sigma: number, leadValue: number,
): number {
  const u = v - alpha * price;
  const own = logistic(u) * (price - mc);
  if (broadcast === 0) return own;
  return logistic(sigma * (softplus(u) - shareCost)) * (own + referrals * leadValue);
}

/** a is within tolerance of b (a near-tie), relative to the larger magnitude. */
export function nearTie(a: number, b: number, tolerance = TIE_TOLERANCE): boolean {
  return Math.abs(a - b) <= tolerance * Math.max(Math.abs(a), Math.abs(b)) + 1e-300;
}

export interface PropositionCount {
  /** Comparisons made. */
  checked: number;
  /** Reversals that are not near-ties. */
  violations: number;
  /** Reversals explained by a near-tie in profit. */
  ties: number;
  /** First few violations, for a person to inspect. */
  examples: unknown[];
}

export interface PropositionReport {
  /** P1 on every customer. */
  P1: PropositionCount;
  /** P2 and P3 on perturbed twins of a sample of customers (higher SC and/or different r). */
  P2: PropositionCount;
  P3: PropositionCount;
  /** Why P2/P3 in r were not checked (negative lead value), if so. */
  note?: string;
}

export function emptyCount(): PropositionCount {
  return { checked: 0, violations: 0, ties: 0, examples: [] };
}

function record(count: PropositionCount, reversed: boolean, tie: boolean, example: () => unknown): void {
  count.checked++;
  if (!reversed) return;
  if (tie) count.ties++;
  else {
    count.violations++;
    if (count.examples.length < 5) count.examples.push(example());
  }
}

export interface GridContext {
  prices: readonly number[];
  sigma: number;
  leadValue: number;
}

/**
 * P1 for one customer given the grid search's answer: a reversal is a near-tie when the
 * broadcasting profit at p*NS is within tolerance of the profit at p*S.
 */
export function checkProposition1(
  count: PropositionCount, ctx: GridContext,
  v: number, alpha: number, shareCost: number, referrals: number, mc: number,
  indexNS: number, indexS: number, profitS: number,
): void {
  const reversed = indexS > indexNS;
  const tie = reversed && nearTie(customerProfit(v, alpha, shareCost, referrals, mc, ctx.prices[indexNS], 1, ctx.sigma, ctx.leadValue), profitS);
  record(count, reversed, tie, () => ({ v, alpha, shareCost, referrals, mc, priceS: ctx.prices[indexS], priceNS: ctx.prices[indexNS] }));
}

/** One customer's grid optimum: best price index and profit under each condition. */
interface Optimum {
  indexNS: number;
  profitNS: number;
  indexS: number;
  profitS: number;
}

function optimaOf(customers: GridCustomers, ctx: GridContext): Optimum[] {
  const r = priceGridSearchReference(customers, { prices: ctx.prices, sigma: ctx.sigma, leadValue: ctx.leadValue });
  return Array.from(r.bestIndexNS, (_, i) => ({ indexNS: r.bestIndexNS[i], profitNS: r.bestProfitNS[i], indexS: r.bestIndexS[i], profitS: r.bestProfitS[i] }));
}

/** s* with the tie rule of the counterfactual: broadcasting when Π(p*S,1) ≥ Π(p*NS,0). */
export function optimalRequirement(profitNS: number, profitS: number): 0 | 1 {
  return profitS >= profitNS ? 1 : 0;
}

/**
 * P2 and P3 for a "high" and a "low" customer with the same v, α and MC, where `high` has the
 * higher-or-equal sharing cost. For P2 `high` must also have r ≥ r_low; for P3, r ≤ r_low.
 */
export function checkPair(
  report: Pick<PropositionReport, 'P2' | 'P3'>, ctx: GridContext,
  base: { v: number; alpha: number; mc: number },
  low: { shareCost: number; referrals: number }, high: { shareCost: number; referrals: number },
  optLow: Optimum, optHigh: Optimum,
): void {
  const profit = (who: { shareCost: number; referrals: number }, j: number) =>
    customerProfit(base.v, base.alpha, who.shareCost, who.referrals, base.mc, ctx.prices[j], 1, ctx.sigma, ctx.leadValue);
  const example = () => ({ ...base, low, high, priceSLow: ctx.prices[optLow.indexS], priceSHigh: ctx.prices[optHigh.indexS] });
  if (high.referrals >= low.referrals) {
    // P2: p*S(high) ≤ p*S(low). A reversal is a near-tie if either customer is indifferent between the two prices.
    const reversed = optHigh.indexS > optLow.indexS;
    const tie = reversed && (nearTie(profit(high, optLow.indexS), optHigh.profitS) || nearTie(profit(low, optHigh.indexS), optLow.profitS));
    record(report.P2, reversed, tie, example);
  }
  if (high.referrals <= low.referrals) {
    // P3: s*(high) ≤ s*(low).
    const sHigh = optimalRequirement(optHigh.profitNS, optHigh.profitS), sLow = optimalRequirement(optLow.profitNS, optLow.profitS);
    const reversed = sHigh > sLow;
    const tie = reversed && (nearTie(optHigh.profitNS, optHigh.profitS) || nearTie(optLow.profitNS, optLow.profitS));
    record(report.P3, reversed, tie, example);
  }
}

/** Twins per sampled customer: (ΔSC, log-ratio of r) pairs; the twin has SC + ΔSC, r·e^Δr. */
const TWIN_STREAM = streamId('propositions.twins');

/**
 * P2/P3 for sampled customers against perturbed twins: one with a higher sharing cost, one with a
 * higher r, one with both higher (P2), and one with higher cost and lower r (P3). Perturbations
 * are random, of the size of the model's heterogeneity (about one logit unit of sharing cost).
 */
export function checkTwins(
  report: PropositionReport, ctx: GridContext, seed: number,
  sample: { v: number; alpha: number; shareCost: number; referrals: number; mc: number; row: number }[],
): void {
  if (sample.length === 0) return;
  if (ctx.leadValue < 0) {
    report.note = 'P2/P3 in r assume a non-negative lead value; only the sharing-cost direction was checked';
  }
  const twins: { base: number; shareCost: number; referrals: number }[] = [];
  for (let i = 0; i < sample.length; i++) {
    const c = sample[i];
    const rng = new CounterRng(seed, TWIN_STREAM, c.row);
    const dSC = Math.abs(rng.normal()) / Math.max(ctx.sigma, 1e-9);
    const dR = Math.abs(rng.normal());
    twins.push({ base: i, shareCost: c.shareCost + dSC, referrals: c.referrals });
    if (ctx.leadValue >= 0) {
      twins.push({ base: i, shareCost: c.shareCost, referrals: c.referrals * Math.exp(dR) });
      twins.push({ base: i, shareCost: c.shareCost + dSC, referrals: c.referrals * Math.exp(dR) });
      twins.push({ base: i, shareCost: c.shareCost + dSC, referrals: c.referrals * Math.exp(-dR) });
    }
  }
  const all = [...sample.map((c) => ({ ...c })), ...twins.map((t) => ({ ...sample[t.base], shareCost: t.shareCost, referrals: t.referrals }))];
  const optima = optimaOf({
    baselineUtility: all.map((c) => c.v), priceSensitivity: all.map((c) => c.alpha), shareCost: all.map((c) => c.shareCost),
    expectedReferrals: all.map((c) => c.referrals), marginalCost: all.map((c) => c.mc),
  }, ctx);
  twins.forEach((t, k) => {
    const c = sample[t.base];
    const twinOpt = optima[sample.length + k];
    const baseOpt = optima[t.base];
    const twin = { shareCost: t.shareCost, referrals: t.referrals }, orig = { shareCost: c.shareCost, referrals: c.referrals };
    // The twin has the higher (or equal) sharing cost.
    checkPair(report, ctx, c, orig, twin, baseOpt, twinOpt);
  });
}

/** P1–P3 on the given customers (P1 on all of them, P2/P3 on twins of each): for tests and spot checks. */
export function checkPropositions(customers: GridCustomers, ctx: GridContext, seed = 1): PropositionReport {
  const report: PropositionReport = { P1: emptyCount(), P2: emptyCount(), P3: emptyCount() };
  const n = customers.baselineUtility.length;
  const optima = optimaOf(customers, ctx);
  const sample = [];
  for (let i = 0; i < n; i++) {
    const c = {
      v: customers.baselineUtility[i], alpha: customers.priceSensitivity[i], shareCost: customers.shareCost[i],
      referrals: customers.expectedReferrals[i], mc: customers.marginalCost[i], row: i,
    };
    checkProposition1(report.P1, ctx, c.v, c.alpha, c.shareCost, c.referrals, c.mc, optima[i].indexNS, optima[i].indexS, optima[i].profitS);
    sample.push(c);
  }
  checkTwins(report, ctx, seed, sample);
  return report;
}
