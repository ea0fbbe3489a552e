// Vega-Lite plots rendered to SVG at build time (vega-lite compiles, vega's headless View draws),
// so the report needs no script and no network to show them.
import { compile, type TopLevelSpec } from 'vega-lite';
import { View, parse } from 'vega';
import { PromoptError } from '../errors.js';

export type VegaLiteSpec = TopLevelSpec;

/** The report's look, shared by every plot: one font, light grid, a colour-blind-safe palette. */
export const PLOT_CONFIG = {
  font: 'Helvetica, Arial, "Liberation Sans", sans-serif',
  background: 'white',
  padding: 8,
  view: { stroke: '#ddd', continuousWidth: 520, continuousHeight: 260 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', gridColor: '#eee', domainColor: '#888', tickColor: '#888' },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', labelLimit: 320 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 13, fontWeight: 'normal', anchor: 'start' },
  range: { category: ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#eeca3b', '#9d755d'] },
} as const;

/**
 * Renders a Vega-Lite spec to a standalone SVG string. `idPrefix` is prepended to every id the
 * SVG defines (clip paths, gradients) and every reference to them, so several plots can share
 * one HTML page without their ids colliding.
 */
export async function renderVegaLiteSvg(spec: VegaLiteSpec, idPrefix: string): Promise<string> {
  let view: View | undefined;
  try {
    const withConfig = { ...spec, config: { ...PLOT_CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec;
    const { spec: vegaSpec } = compile(withConfig);
    view = new View(parse(vegaSpec), { renderer: 'none' });
    const svg = await view.toSVG();
    return prefixSvgIds(svg, idPrefix);
  } catch (error) {
    throw new PromoptError('INTERNAL', `plot ${idPrefix}: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}`);
  } finally {
    view?.finalize();
  }
}

/** Prefixes the ids an SVG defines and the url(#…)/href="#…" references to them. */
export function prefixSvgIds(svg: string, prefix: string): string {
  const safe = prefix.replace(/[^A-Za-z0-9_-]/g, '-');
  return svg
    .replace(/\sid="([^"]+)"/g, (_m, id: string) => ` id="${safe}-${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${safe}-${id})`)
    .replace(/href="#([^"]+)"/g, (_m, id: string) => `href="#${safe}-${id}"`);
}
