// The baseline purchase classifier f (paper §2.1) as a domain object: a histogram GBM trained in
// the kernels (src/kernels/gbm.ts) or an imported XGBoost model, its JSON form and a summary.
import type { Engine } from '../parallel/engine.js';
import { scoreForest, trainGbm, type Forest, type GbmData, type GbmParams, type GbmTrainingResult, type TrainOptions } from '../kernels/gbm.js';
import { badInput } from '../errors.js';

export { DEFAULT_GBM_PARAMS, type GbmParams, type Forest } from '../kernels/gbm.js';

/** Where f came from. */
export type BaselineSource = 'promopt-gbm' | 'xgboost';

/** JSON form of a forest: plain arrays, exact (doubles print and parse losslessly). */
export interface ForestJSON {
  featureCount: number;
  baseMargin: number;
  float32: boolean;
  trees: number;
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  defaultLeft: number[];
  value: number[];
  roots: number[];
}

export function forestToJSON(forest: Forest): ForestJSON {
  return {
    featureCount: forest.featureCount, baseMargin: forest.baseMargin, float32: forest.float32, trees: forest.roots.length,
    feature: Array.from(forest.feature), threshold: Array.from(forest.threshold), left: Array.from(forest.left), right: Array.from(forest.right),
    defaultLeft: Array.from(forest.defaultLeft), value: Array.from(forest.value), roots: Array.from(forest.roots),
  };
}

export function forestFromJSON(obj: unknown, source = 'model'): Forest {
  const o = obj as Partial<ForestJSON> | null;
  if (!o || typeof o !== 'object') throw badInput(`${source}: forest is not an object`);
  const arr = (name: keyof ForestJSON): number[] => {
    const v = o[name];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) throw badInput(`${source}: forest.${name} is not an array of numbers`);
    return v as number[];
  };
  if (typeof o.featureCount !== 'number' || !Number.isInteger(o.featureCount) || o.featureCount < 1) throw badInput(`${source}: forest.featureCount is not a positive integer`);
  if (typeof o.baseMargin !== 'number' || !Number.isFinite(o.baseMargin)) throw badInput(`${source}: forest.baseMargin is not a finite number`);
  return {
    featureCount: o.featureCount, baseMargin: o.baseMargin, float32: Boolean(o.float32),
    feature: Int32Array.from(arr('feature')), threshold: Float64Array.from(arr('threshold')), left: Int32Array.from(arr('left')),
    right: Int32Array.from(arr('right')), defaultLeft: Uint8Array.from(arr('defaultLeft')), value: Float64Array.from(arr('value')),
    roots: Int32Array.from(arr('roots')),
  };
}

/** How often each feature is split on (a rough importance). */
export function splitCounts(forest: Forest): Int32Array {
  const counts = new Int32Array(forest.featureCount);
  for (let i = 0; i < forest.feature.length; i++) if (forest.left[i] >= 0) counts[forest.feature[i]]++;
  return counts;
}

/** Trains f on the nominal-discount rows, with early stopping on the validation rows. */
export function fitBaselineClassifier(train: GbmData, valid: GbmData | undefined, params: Partial<GbmParams>, engine?: Engine, hooks?: TrainOptions): Promise<GbmTrainingResult> {
  return trainGbm(train, valid, params, engine, hooks);
}

/** f(x) for every row: the logit of the baseline purchase probability. */
export function baselineLogit(forest: Forest, features: readonly Float64Array[], engine?: Engine): Promise<Float64Array> {
  return scoreForest(forest, features, engine);
}
