// The promopt kernel module: every kernel family re-exported from one wasm binary.
export { expArray, log1pUnitArray } from "./math";
export { linearPredictor, logitDemand } from "./logit";
export { priceGridSearch, priceGridSearchLeads, priceGridSearchScreened, priceTotalsAt, exp32RelativeError, log1p32RelativeError, screenErrorCheck } from "./grid";
export { heterogeneityStats, heterogeneityWidth, requirementSplit, schemeStats, schemeStatsWidth } from "./schemes";
export { exp32Array, expNegAbs32Array, log1pUnit32Array, expNegAbs32MaxError, log1pUnit32MaxError } from "./math32";
export * from "./gbm";
export * from "./glm";
export * from "./moments";
export { couponFeatureDay, zeroBytes } from "./features";
export { couponEnvelope, couponPolicyDirect } from "./allocation";
export { maxRatioCycleHoward, couponCyclesK5 } from "./mdp";

/** First byte that the module's own static data does not use; the host arena starts here. */
export function heapBase(): usize {
  return __heap_base;
}
