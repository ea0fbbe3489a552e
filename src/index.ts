// promopt's public API. The CLI is a thin layer over these functions.
export { PromoptError, type ErrorCode } from './errors.js';
export { Engine, getDefaultEngine, closeDefaultEngine, planShards, type EngineOptions, type Shard } from './parallel/engine.js';
export { logistic, softplus, logLogistic } from './kernels/math.js';
export { logitDemand, logitDemandReference, expectedReferrals, expectedReferralsReference, type LogitBatchInput, type LogitBatchOutput } from './kernels/logit.js';
export {
  priceGridSearch, priceGridSearchReference, priceGridSearchLeads, exactTotalsAtLeads, leadCandidatePrices, feasiblePrices, REGULAR_PRICE,
  requirementSplit, requirementSplitReference, schemeStatsReference,
  type GridCustomers, type GridOptions, type GridResult, type PriceTotals, type LeadGridOptions, type LeadGridResult, type ScreenedLeadTotals, type SchemeStats,
} from './kernels/grid.js';
// Sharing model: parameters, experiment data and the simulator (SPEC §1.1, §1.4, §4).
export {
  validateParameters, readParameters, writeParameters, customerPrimitives,
  type SharingParameters, type CustomerPrimitives, type CustomerCovariates,
} from './sharing/model.js';
export { PAPER_PARAMETERS, PAPER_STANDARD_ERRORS, PAPER_SUMMARY, PAPER_SUMMARY_TOTAL, PAPER_COVARIATES } from './sharing/paper.js';
export {
  readSharingData, readSharingDataChunks, writeSharingData, writeSharingDataChunks, concatSharingData, sortByMarket, marketStarts,
  covariatesFor, customerMarketNames, summarizeSharing, SharingSummaryAccumulator, SHARING_COLUMNS,
  type SharingData, type SharingDataChunk, type SharingSummary, type PriceGroupOutcome,
} from './sharing/data.js';
export {
  simulateSharing, planSimulation, simulatedChunks, paperDesign, customDesign, marketProfit, optimalMarketPrice, PAPER_CUSTOMERS as PAPER_SHARING_CUSTOMERS,
  type SimulationOptions, type SimulationResult, type SimulationPlan, type SimulatedMarket, type DesignMarket, type CustomDesign,
  type PriceRule, type ShockSource, type MarketProfitCustomers,
} from './sharing/simulate.js';
export { COVARIATE_NAMES, drawRawCovariates } from './sharing/covariates.js';
// Counterfactual personalization policies, Propositions 1–3, heterogeneity, delta method (SPEC §1.3).
export {
  counterfactual, tableSource, fileSource, primitiveSource, covariateColumns, profitTables, formatCounterfactual, formatProfitTable,
  SCHEMES, BLOCK_SIZE, DEFAULT_GAMMA_GRID,
  type CounterfactualOptions, type CounterfactualResults, type CustomerSource, type CustomerChunk, type CustomerTable, type PrimitivePopulation, type SchemeName,
  type SchemeResult, type ProfitTableRow, type AcquisitionCostReport, type SensitivityCurve, type PriceCounts,
} from './sharing/counterfactual.js';
export {
  checkPropositions, checkProposition1, checkPair, customerProfit, optimalRequirement, TIE_TOLERANCE,
  type PropositionReport, type PropositionCount, type GridContext,
} from './sharing/propositions.js';
export {
  heterogeneityComparison, HeterogeneityAccumulator, FineHistogram,
  type HeterogeneityReport, type HeterogeneityOptions, type PrimitiveDistribution, type HeterogeneityKey,
} from './sharing/heterogeneity.js';
export {
  readCovariance, validateCovariance, parameterNames, deltaStandardError, profitDerivatives, withParameter, parameterValue,
  type ParameterCovariance,
} from './sharing/delta.js';
// Tables in and out: CSV, Parquet and Arrow IPC chosen by extension; atomic writes.
export {
  readTable, tableChunks, concatChunks, writeTable, writeTableChunks, chunkColumns, tableFormatOf, detectTableFormat, TABLE_EXTENSIONS,
  type TableChunk, type TableSchema, type TableColumn, type TableColumns, type TableFormat, type WriteTableOptions,
} from './io/table.js';
// The HTML report: results JSON → sections (tables + Vega-Lite plots rendered to inline SVG) → one file.
export { renderReport, writeReport, buildReport, readReportResults, parseReportResults, RESULT_SECTIONS, type ReportResults, type ReportMeta } from './report/results.js';
export {
  renderReportHtml, plotIds, type ReportDocument, type ReportSection, type ReportBlock, type TableBlock, type PlotBlock, type TextBlock, type TableCell,
} from './report/html.js';
export { renderVegaLiteSvg, PLOT_CONFIG, type VegaLiteSpec } from './report/vega.js';
export {
  summarySection, estimatesSection, schemeSection, priceDistributionSection, gammaSensitivitySection, heterogeneitySection,
  acquisitionCostSection, abTestSection, referenceEffectsSection, cyclesSection,
  summaryPlotSpec, estimateRecoverySpec, schemeProfitSpec, priceDistributionSpec, gammaSensitivitySpec, heterogeneitySpec,
  acquisitionCostSpec, couponMixSpec, revenueByRateSpec, referenceCorrelationSpec, cyclesSpec, histogram, estimateCell, SCHEME_ORDER,
  type SummaryComparison, type SummaryRow, type SummaryRates, type EstimatesData, type EstimateTable, type EstimateCell,
  type SchemeProfitsData, type SchemeProfit, type PriceDistribution, type GammaSensitivityData, type GammaSensitivityPoint,
  type HeterogeneityData, type HistogramData, type HistogramBin, type AcquisitionCostData, type AbTestData, type AbArm, type AbRateRow,
  type ReferenceEffectsData, type ReferenceCorrelation, type ReferenceMonotonicityRow, type CyclesData, type CycleResult,
} from './report/sections.js';
export {
  summaryFromSharing, estimatesFromResults, schemesFromCounterfactual, priceDistributionsFromCounterfactual, sensitivityFromCounterfactual,
  acquisitionCostsFromCounterfactual, heterogeneityFromCounterfactual, abTestFromResult, referenceEffectsFromEvidence, cyclesFromSolutions,
} from './report/adapters.js';
export {
  fitResponseModel, ResponseModel, type ResponseData, type ResponseModelOptions, type ResponseDiagnostics, type ResponseModelJSON, type Predictor,
} from './coupons/response.js';
export { parseXGBoostModel, loadXGBoostModel, type ImportedXGBoostModel, type XGBoostImportOptions } from './coupons/xgboost.js';
export { forestToJSON, forestFromJSON, splitCounts, type BaselineSource, type ForestJSON } from './coupons/gbm.js';
export {
  trainGbm, trainGbmReference, scoreForest, scoreForestReference, quantileCuts, meanLogLoss, rocAuc, DEFAULT_GBM_PARAMS,
  type GbmParams, type Forest, type GbmData, type GbmTrainingResult,
} from './kernels/gbm.js';
export {
  fitLogistic, accumulateLogistic, accumulateLogisticReference, withLogisticProblem, newtonLogistic, lassoLogistic, lassoPath,
  type LogisticDesign, type LogisticAccumulation, type LogisticFit, type LassoFit, type NewtonOptions,
} from './kernels/glm.js';
export {
  estimate, formatEstimation, flatten as flattenParameters,
  type EstimationOptions, type EstimationResults, type StepDiagnostics, type ParameterErrors,
} from './sharing/estimate.js';
export {
  MomentWorkspace, inversionSumsReference, purchaseWeightsReference, sharingWeightsReference, gramSumsReference, packedIndex, packedSize,
} from './kernels/moments.js';
// Daily coupons: simulator, Appendix A features, incumbent, A/B test, reference-effect evidence (paper §2–3).
export {
  CouponWorld, simulateCoupons, historicalDays, couponTruth, customerGainMatrix, couponSimulationConfig, drawCouponCustomers,
  COUPON_DISCOUNTS, NOMINAL_DISCOUNT, PAPER_CUSTOMERS as PAPER_COUPON_CUSTOMERS, PAPER_DAYS as PAPER_COUPON_DAYS, DAY_OF_WEEK_EFFECT,
  type CouponSimulationOptions, type CouponSimulationConfig, type CouponCustomers, type CouponTruth, type CouponDayLog, type HistoricalSimulation,
} from './coupons/simulate.js';
export { IncumbentPolicy, INCUMBENT_TENURE_CUTS, INCUMBENT_SPEND_CUTS, type IncumbentCustomers, type IncumbentOptions } from './coupons/incumbent.js';
export { COUPON_FEATURE_NAMES, CouponFeatureStream, couponPanel, dailyBlock, staticColumns as couponStaticColumns, type CouponPanel } from './coupons/features.js';
export { RollingFeatures, rollingFeaturesReference, ROLLING_FEATURE_NAMES, DAILY_FIELDS, STATIC_FIELDS as COUPON_STATIC_FIELDS } from './kernels/features.js';
export {
  runAbTest, formatAbTest, abTestReportData, treatmentRegression, normalUpperTail,
  type AbTestOptions, type AbTestResult, type ArmSummary, type RateRow, type AbTestDay,
} from './coupons/abtest.js';
export {
  referenceEvidence, formatReferenceEvidence, randomizedRows, referenceEffectsReportData,
  type EvidenceRows, type EvidenceOptions, type ReferenceEvidence, type RateComparison,
  type ReferenceCorrelation as ReferenceEvidenceCorrelation, type ReferenceMonotonicityRow as ReferenceEvidenceRow,
} from './coupons/evidence.js';
export {
  solveCycles, solveDiscountCycles, solveReduced, solveReducedReference, solveExact, solveExactReference,
  bestGeneratorByEnumeration, maxMeanCycleKarp, reducedGraph, fullMdpGraph, fullMdpEdges, cycleEdges, EXACT_EDGE_LIMIT,
  validateCycleProblem, validateDiscountCycleProblem, isReferenceMonotone, lUpOneDownCycle, generatorAverageGain,
  cycleAverageGain, cycleReferences, discountCycleAverageGain, discountToPriceProblem, generatorOf, canonicalRotation,
  tightInstance, enumerateGeneratorCycles, batchCouponCycles, compareCycleWithMyopic, decodeCouponCycle, generatorLabel,
  type CycleProblem, type DiscountCycleProblem, type CycleResult as CycleSolveResult, type CycleMethod, type CycleSolution,
  type BatchCycles, type CycleComparison, type CycleComparisonOptions, type TrueCouponModel, type GeneratorCycle,
} from './cycles/index.js';
export {
  maxRatioCycle, maxRatioCycleReference, certifiedCycle, couponCycles, couponCyclesReference, couponGainMatrix,
  type CycleGraph, type HowardSolution, type CycleCustomers, type CouponCycleOptions, type CouponCycleResult,
} from './kernels/mdp.js';
export {
  allocate, allocateReference, policyAt, validateAllocation,
  DEFAULT_DISCOUNTS as ALLOCATION_DISCOUNTS, DEFAULT_NOMINAL as ALLOCATION_NOMINAL, DEFAULT_BISECTION_TOLERANCE,
  type AllocationInput, type AllocationOptions, type AllocationResult, type AllocationTuning, type PolicyOptions,
} from './coupons/allocate.js';
