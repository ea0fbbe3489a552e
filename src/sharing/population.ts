// A synthetic population for quick runs of the price-grid search: standardized covariates drawn
// i.i.d. normal, primitives from the slides' estimates, markets at the slides' design prices.
// (The calibrated experiment simulator lives in simulate.ts.)
import { CounterRng, streamId } from '../random.js';
import { PAPER_PARAMETERS, PAPER_SUMMARY } from './paper.js';
import { customerPrimitives, type CustomerPrimitives, type SharingParameters } from './model.js';

export interface SyntheticPopulation extends CustomerPrimitives {
  marginalCost: Float64Array;
  /** Index of the first customer of each market. */
  marketStarts: number[];
  marketNames: string[];
}

/** `customers` customers in one market per design price group, with that group's wholesale cost. */
export function syntheticPopulation(customers: number, seed: number, params: SharingParameters = PAPER_PARAMETERS): SyntheticPopulation {
  const k = params.covariates.length;
  const columns = Array.from({ length: k }, () => new Float64Array(customers));
  const market: string[] = new Array(customers);
  const marginalCost = new Float64Array(customers);
  const groups = PAPER_SUMMARY.length;
  const marketStarts = PAPER_SUMMARY.map((_, g) => Math.floor((g * customers) / groups));
  const marketNames = PAPER_SUMMARY.map((row) => `price-${row.price}`);
  const stream = streamId('population.covariates');
  let g = 0;
  for (let i = 0; i < customers; i++) {
    while (g + 1 < groups && i >= marketStarts[g + 1]) g++;
    const rng = new CounterRng(seed, stream, i);
    for (let j = 0; j < k; j++) columns[j][i] = rng.normal();
    market[i] = marketNames[g];
    marginalCost[i] = PAPER_SUMMARY[g].wholesaleCost;
  }
  return { ...customerPrimitives(params, { columns, market }), marginalCost, marketStarts, marketNames };
}
