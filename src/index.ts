// promopt's public API. The CLI is a thin layer over these functions.
export { PromoptError, type ErrorCode } from './errors.js';
export { Engine, getDefaultEngine, closeDefaultEngine, planShards, type EngineOptions, type Shard } from './parallel/engine.js';
export { logistic, softplus, logLogistic } from './kernels/math.js';
export { logitDemand, logitDemandReference, expectedReferrals, expectedReferralsReference, type LogitBatchInput, type LogitBatchOutput } from './kernels/logit.js';
export {
  priceGridSearch, priceGridSearchReference, feasiblePrices, REGULAR_PRICE,
  type GridCustomers, type GridOptions, type GridResult, type PriceTotals,
} from './kernels/grid.js';
