// Reading an XGBoost binary-classifier model as a promopt Forest, keeping XGBoost's semantics:
// a row goes left when float32(x) < split_condition (a float32), a missing value (NaN) follows
// default_left, leaf values are float32, and base_score enters through the objective's link
// (logit for binary:logistic / reg:logistic; as is for binary:logitraw).
//
// Two JSON formats are accepted:
// - `booster.save_model("m.json")`: {"learner": {"gradient_booster": {"model": {"trees": [...]}},
//   "learner_model_param": {"base_score": ...}, "objective": {"name": ...}, "feature_names": [...]}}
// - `booster.dump_model("d.json", dump_format="json")`: an array of nested trees
//   ({"nodeid", "split", "split_condition", "yes", "no", "missing", "children"} / {"nodeid", "leaf"});
//   a dump carries no base_score, so pass it (default 0.5, XGBoost's default).
// One difference remains: XGBoost adds leaf values in float32, promopt in float64 (margins agree
// to ~1e-6 relative; every leaf reached is the same).
import { promises as fs } from 'node:fs';
import type { Forest } from '../kernels/gbm.js';
import { PromoptError, badInput } from '../errors.js';

export interface XGBoostImportOptions {
  /** Feature names in the order of the columns promopt will pass (maps names in the model). */
  featureNames?: readonly string[];
  /** base_score for a dump (probability scale); ignored for save_model JSON. Default 0.5. */
  baseScore?: number;
}

export interface ImportedXGBoostModel {
  forest: Forest;
  /** Names of the model's features when it recorded them. */
  featureNames: string[] | undefined;
  objective: string;
  baseScore: number;
  format: 'model' | 'dump';
}

/** A tree before re-layout: children by index, -1 for leaves. */
interface RawTree {
  left: number[];
  right: number[];
  feature: number[];
  threshold: number[];
  defaultLeft: boolean[];
  leafValue: number[];
}

function fail(source: string, message: string): PromoptError {
  return badInput(`${source}: ${message}`);
}

function toNumber(value: unknown, source: string, what: string): number {
  const x = typeof value === 'string' ? Number(value.replace(/^\[|\]$/g, '')) : Array.isArray(value) && value.length === 1 ? Number(value[0]) : Number(value);
  if (typeof value === 'boolean' || value === null || value === undefined || !Number.isFinite(x)) throw fail(source, `${what} is ${JSON.stringify(value)}, not a number`);
  return x;
}

function numberArray(value: unknown, source: string, what: string, length?: number): number[] {
  if (!Array.isArray(value)) throw fail(source, `${what} is missing or not an array`);
  if (length !== undefined && value.length !== length) throw fail(source, `${what} has ${value.length} entries, expected ${length}`);
  return value.map((v, i) => (typeof v === 'boolean' ? (v ? 1 : 0) : toNumber(v, source, `${what}[${i}]`)));
}

function marginOf(objective: string, baseScore: number, source: string): number {
  if (objective === 'binary:logistic' || objective === 'reg:logistic') {
    if (!(baseScore > 0 && baseScore < 1)) throw fail(source, `base_score ${baseScore} must be in (0, 1) for ${objective}`);
    return Math.log(baseScore / (1 - baseScore));
  }
  if (objective === 'binary:logitraw') return baseScore;
  throw new PromoptError('UNSUPPORTED', `${source}: objective "${objective}" is not a binary logistic classifier (binary:logistic, reg:logistic or binary:logitraw)`);
}

function resolveFeature(name: string | number, modelNames: readonly string[] | undefined, options: XGBoostImportOptions, source: string): number {
  let index: number;
  if (typeof name === 'number') index = name;
  else if (modelNames?.includes(name)) index = modelNames.indexOf(name);
  else if (options.featureNames?.includes(name)) return options.featureNames.indexOf(name);
  else if (/^f\d+$/.test(name)) index = Number(name.slice(1));
  else throw fail(source, `split on unknown feature "${name}"`);
  // Map the model's own feature order onto the caller's columns by name when both are known.
  if (modelNames && options.featureNames) {
    const named = modelNames[index];
    const at = options.featureNames.indexOf(named);
    if (at < 0) throw fail(source, `the model's feature "${named}" is not among the given features`);
    return at;
  }
  return index;
}

function parseModelJson(doc: Record<string, unknown>, options: XGBoostImportOptions, source: string): ImportedXGBoostModel {
  const learner = doc.learner as Record<string, any> | undefined;
  if (!learner || typeof learner !== 'object') throw fail(source, 'no "learner" object (not an XGBoost save_model JSON)');
  const booster = learner.gradient_booster;
  if (!booster || booster.name !== 'gbtree') throw new PromoptError('UNSUPPORTED', `${source}: booster "${booster?.name}" is not supported (gbtree only)`);
  const objective = String(learner.objective?.name ?? '');
  const param = learner.learner_model_param ?? {};
  const numClass = param.num_class === undefined ? 0 : toNumber(param.num_class, source, 'num_class');
  if (numClass > 1) throw new PromoptError('UNSUPPORTED', `${source}: a ${numClass}-class model is not a binary classifier`);
  const baseScore = toNumber(param.base_score ?? 0.5, source, 'base_score');
  const modelNames = Array.isArray(learner.feature_names) && learner.feature_names.length ? (learner.feature_names as string[]) : undefined;
  const trees = booster.model?.trees;
  if (!Array.isArray(trees)) throw fail(source, 'gradient_booster.model.trees is missing');
  const raw: RawTree[] = trees.map((tree: Record<string, unknown>, t: number) => {
    const where = `${source}: tree ${t}`;
    const left = numberArray(tree.left_children, where, 'left_children');
    const count = left.length;
    const right = numberArray(tree.right_children, where, 'right_children', count);
    const indices = numberArray(tree.split_indices, where, 'split_indices', count);
    const conditions = numberArray(tree.split_conditions, where, 'split_conditions', count);
    const defaults = numberArray(tree.default_left, where, 'default_left', count);
    if (Array.isArray(tree.split_type) && tree.split_type.some((s: unknown) => Number(s) !== 0)) {
      throw new PromoptError('UNSUPPORTED', `${where}: categorical splits are not supported`);
    }
    return {
      left, right,
      feature: indices.map((f, i) => (left[i] < 0 ? -1 : resolveFeature(f, modelNames, options, where))),
      threshold: conditions,
      defaultLeft: defaults.map((d) => d !== 0),
      leafValue: conditions, // XGBoost keeps a leaf's value in split_conditions
    };
  });
  const featureCount = Math.max(
    options.featureNames?.length ?? 0,
    param.num_feature !== undefined ? toNumber(param.num_feature, source, 'num_feature') : 0,
    ...raw.flatMap((t) => t.feature.map((f) => f + 1)),
  );
  return { forest: layout(raw, featureCount, marginOf(objective, baseScore, source), source), featureNames: modelNames, objective, baseScore, format: 'model' };
}

interface DumpNode {
  nodeid: number;
  leaf?: number;
  split?: string | number;
  split_condition?: number;
  yes?: number;
  no?: number;
  missing?: number;
  children?: DumpNode[];
}

function parseDump(doc: unknown[], options: XGBoostImportOptions, source: string): ImportedXGBoostModel {
  const raw = doc.map((root, t) => {
    const where = `${source}: tree ${t}`;
    const byId = new Map<number, DumpNode>();
    const visit = (node: DumpNode) => {
      if (!node || typeof node !== 'object' || !Number.isInteger(node.nodeid)) throw fail(where, 'a node without an integer "nodeid"');
      if (byId.has(node.nodeid)) throw fail(where, `node id ${node.nodeid} appears twice`);
      byId.set(node.nodeid, node);
      for (const child of node.children ?? []) visit(child);
    };
    visit(root as DumpNode);
    const count = Math.max(...byId.keys()) + 1;
    const tree: RawTree = { left: [], right: [], feature: [], threshold: [], defaultLeft: [], leafValue: [] };
    for (let id = 0; id < count; id++) {
      const node = byId.get(id);
      if (!node || node.leaf !== undefined) {
        tree.left.push(-1);
        tree.right.push(-1);
        tree.feature.push(-1);
        tree.threshold.push(0);
        tree.defaultLeft.push(false);
        tree.leafValue.push(node ? toNumber(node.leaf, where, `leaf of node ${id}`) : 0);
        continue;
      }
      const yes = toNumber(node.yes, where, `"yes" of node ${id}`), no = toNumber(node.no, where, `"no" of node ${id}`);
      if (!byId.has(yes) || !byId.has(no)) throw fail(where, `node ${id} points to a missing child`);
      tree.left.push(yes);
      tree.right.push(no);
      tree.feature.push(resolveFeature(node.split ?? '', undefined, options, where));
      tree.threshold.push(toNumber(node.split_condition, where, `split_condition of node ${id}`));
      tree.defaultLeft.push((node.missing ?? yes) === yes);
      tree.leafValue.push(0);
    }
    return tree;
  });
  const baseScore = options.baseScore ?? 0.5;
  const featureCount = Math.max(options.featureNames?.length ?? 0, ...raw.flatMap((t) => t.feature.map((f) => f + 1)));
  return { forest: layout(raw, featureCount, marginOf('binary:logistic', baseScore, source), source), featureNames: undefined, objective: 'binary:logistic', baseScore, format: 'dump' };
}

/** Renumbers each tree breadth-first so that a right child follows its left sibling. */
function layout(trees: RawTree[], featureCount: number, baseMargin: number, source: string): Forest {
  const feature: number[] = [], threshold: number[] = [], left: number[] = [], right: number[] = [], defaultLeft: number[] = [], value: number[] = [];
  const roots: number[] = [];
  trees.forEach((tree, t) => {
    const base = feature.length;
    roots.push(base);
    const order = [0];
    const seen = new Set([0]);
    for (let q = 0; q < order.length; q++) {
      const id = order[q];
      if (id < 0 || id >= tree.left.length) throw fail(source, `tree ${t}: child ${id} outside 0..${tree.left.length - 1}`);
      if (tree.left[id] >= 0) {
        for (const c of [tree.left[id], tree.right[id]]) {
          if (seen.has(c)) throw fail(source, `tree ${t}: node ${c} has two parents (not a tree)`);
          seen.add(c);
          order.push(c);
        }
      }
    }
    const position = new Map(order.map((id, k) => [id, base + k]));
    for (const id of order) {
      const leaf = tree.left[id] < 0;
      feature.push(leaf ? -1 : tree.feature[id]);
      threshold.push(leaf ? 0 : Math.fround(tree.threshold[id]));
      left.push(leaf ? -1 : position.get(tree.left[id])!);
      right.push(leaf ? -1 : position.get(tree.right[id])!);
      defaultLeft.push(tree.defaultLeft[id] ? 1 : 0);
      value.push(leaf ? Math.fround(tree.leafValue[id]) : 0);
    }
  });
  return {
    featureCount, baseMargin, float32: true,
    feature: Int32Array.from(feature), threshold: Float64Array.from(threshold), left: Int32Array.from(left), right: Int32Array.from(right),
    defaultLeft: Uint8Array.from(defaultLeft), value: Float64Array.from(value), roots: Int32Array.from(roots),
  };
}

/** Parses an XGBoost JSON model (save_model or dump_model format) already read as a value. */
export function parseXGBoostModel(doc: unknown, options: XGBoostImportOptions = {}, source = 'XGBoost model'): ImportedXGBoostModel {
  if (Array.isArray(doc)) return parseDump(doc, options, source);
  if (doc && typeof doc === 'object') return parseModelJson(doc as Record<string, unknown>, options, source);
  throw fail(source, 'not an XGBoost JSON model (expected an object or an array of trees)');
}

/** Reads an XGBoost JSON model file. */
export async function loadXGBoostModel(path: string, options: XGBoostImportOptions = {}): Promise<ImportedXGBoostModel> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (error) {
    throw badInput(`${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (error) {
    throw badInput(`${path}: not valid JSON (${(error as Error).message})`);
  }
  return parseXGBoostModel(doc, options, path);
}
