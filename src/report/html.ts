// The HTML report: a generic renderer for a document of titled sections holding tables, text and
// Vega-Lite plots. The output is one self-contained file: CSS inline, plots as inline SVG drawn at
// build time, no script, and a content-security policy that forbids any network load.
import { renderVegaLiteSvg, type VegaLiteSpec } from './vega.js';

export interface ReportDocument {
  title: string;
  subtitle?: string;
  /** Label/value pairs shown under the title (run date, seed, data sizes…). */
  facts?: ReadonlyArray<readonly [string, string]>;
  sections: ReportSection[];
  /** Small print at the bottom. */
  footer?: string;
}

export interface ReportSection {
  /** Anchor id, unique in the document (letters, digits, dashes). */
  id: string;
  title: string;
  /** A paragraph under the title. */
  intro?: string;
  blocks: ReportBlock[];
}

export type ReportBlock = TableBlock | PlotBlock | TextBlock;

/** A cell: plain text, a number (right-aligned), or text with a smaller second line (e.g. an SE). */
export type TableCell = string | number | { text: string; detail?: string; emphasis?: boolean };

export interface TableBlock {
  kind: 'table';
  caption: string;
  header: string[];
  rows: TableCell[][];
  /** Small print under the table (significance legend, sources). */
  note?: string;
}

export interface PlotBlock {
  kind: 'plot';
  /** Unique id of the plot in the document; the figure's element id is `plot-<id>`. */
  id: string;
  caption: string;
  spec: VegaLiteSpec;
}

export interface TextBlock {
  kind: 'text';
  /** Paragraphs separated by blank lines. */
  text: string;
}

/** Ids of every plot in the document, in order (what a browser check expects to find). */
export function plotIds(doc: ReportDocument): string[] {
  return doc.sections.flatMap((s) => s.blocks.filter((b): b is PlotBlock => b.kind === 'plot').map((b) => b.id));
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const ID_PATTERN = /^[A-Za-z][A-Za-z0-9_-]*$/;

/** Renders the document to one HTML string; plots are drawn one after another. */
export async function renderReportHtml(doc: ReportDocument): Promise<string> {
  const seen = new Set<string>();
  const claim = (id: string, what: string) => {
    if (!ID_PATTERN.test(id)) throw new Error(`${what} id "${id}" must start with a letter and hold only letters, digits, - and _`);
    if (seen.has(id)) throw new Error(`${what} id "${id}" is used twice`);
    seen.add(id);
  };
  let figure = 0;
  let table = 0;
  const body: string[] = [];
  for (const section of doc.sections) {
    claim(section.id, 'section');
    const parts: string[] = [`<section id="${section.id}">`, `<h2>${escapeHtml(section.title)}</h2>`];
    if (section.intro) parts.push(`<p class="intro">${escapeHtml(section.intro)}</p>`);
    for (const block of section.blocks) {
      if (block.kind === 'text') {
        parts.push(...block.text.split(/\n\s*\n/).map((p) => `<p>${escapeHtml(p.trim())}</p>`));
      } else if (block.kind === 'table') {
        parts.push(renderTable(block, ++table));
      } else {
        claim(`plot-${block.id}`, 'plot');
        const description = { ...block.spec, description: block.caption } as VegaLiteSpec;
        const svg = await renderVegaLiteSvg(description, `p-${block.id}`);
        parts.push(
          `<figure class="plot" id="plot-${block.id}" data-plot="${block.id}">`,
          `<div class="canvas">${svg.replace('<svg ', `<svg role="img" aria-label="${escapeHtml(block.caption)}" `)}</div>`,
          `<figcaption><span class="label">Figure ${++figure}.</span> ${escapeHtml(block.caption)}</figcaption>`,
          '</figure>',
        );
      }
    }
    parts.push('</section>');
    body.push(parts.join('\n'));
  }
  const toc = doc.sections.map((s) => `<li><a href="#${s.id}">${escapeHtml(s.title)}</a></li>`).join('');
  const facts = (doc.facts ?? []).map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd></div>`).join('');
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Nothing may be fetched: the report must read the same offline as online.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(doc.title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<header>',
    `<h1>${escapeHtml(doc.title)}</h1>`,
    doc.subtitle ? `<p class="subtitle">${escapeHtml(doc.subtitle)}</p>` : '',
    facts ? `<dl class="facts">${facts}</dl>` : '',
    toc ? `<nav><ol>${toc}</ol></nav>` : '',
    '</header>',
    '<main>',
    ...body,
    '</main>',
    doc.footer ? `<footer>${escapeHtml(doc.footer)}</footer>` : '',
    '</body>',
    '</html>',
    '',
  ].filter((line) => line !== '').join('\n');
}

function renderTable(block: TableBlock, index: number): string {
  const cell = (c: TableCell, tag: 'td' | 'th') => {
    if (typeof c === 'number') return `<${tag} class="num">${escapeHtml(String(c))}</${tag}>`;
    if (typeof c === 'string') return `<${tag}${looksNumeric(c) ? ' class="num"' : ''}>${escapeHtml(c)}</${tag}>`;
    const inner = `${c.emphasis ? '<strong>' : ''}${escapeHtml(c.text)}${c.emphasis ? '</strong>' : ''}${c.detail ? `<span class="detail">${escapeHtml(c.detail)}</span>` : ''}`;
    return `<${tag}${looksNumeric(c.text) ? ' class="num"' : ''}>${inner}</${tag}>`;
  };
  const head = `<tr>${block.header.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('')}</tr>`;
  const rows = block.rows.map((r) => `<tr>${r.map((c, j) => cell(c, j === 0 ? 'th' : 'td')).join('')}</tr>`).join('\n');
  return [
    '<div class="table-wrap">',
    `<table><caption><span class="label">Table ${index}.</span> ${escapeHtml(block.caption)}</caption>`,
    `<thead>${head}</thead>`,
    `<tbody>${rows}</tbody></table>`,
    block.note ? `<p class="note">${escapeHtml(block.note)}</p>` : '',
    '</div>',
  ].join('\n');
}

/** Numbers (with stars, percent signs, signs, thousands separators) are right-aligned. */
function looksNumeric(text: string): boolean {
  return /^[-+−]?[\d,.]+(e[-+]?\d+)?\s*(%|\*{1,3}|pp)?$/i.test(text.trim());
}

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 Helvetica, Arial, "Liberation Sans", sans-serif; color: #222; background: #fafafa; }
header, main, footer { max-width: 1100px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 28px; padding-bottom: 8px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 0 0 8px; padding-top: 8px; border-top: 2px solid #4c78a8; }
.subtitle { margin: 0 0 12px; color: #555; }
.facts { display: flex; flex-wrap: wrap; gap: 4px 24px; margin: 0 0 12px; font-size: 13px; }
.facts div { display: flex; gap: 6px; }
.facts dt { color: #666; }
.facts dd { margin: 0; font-weight: bold; }
nav ol { columns: 2; margin: 8px 0 0; padding-left: 20px; font-size: 14px; }
nav a { color: #2a5d8f; }
section { background: white; border: 1px solid #e4e4e4; border-radius: 6px; padding: 12px 20px 16px; margin: 20px 0; }
.intro { color: #444; margin-top: 0; }
.table-wrap { overflow-x: auto; margin: 12px 0; }
table { border-collapse: collapse; font-size: 13px; min-width: 50%; }
caption { text-align: left; font-size: 13px; color: #333; padding-bottom: 6px; caption-side: top; }
th, td { padding: 4px 10px; border-bottom: 1px solid #eee; vertical-align: top; text-align: left; }
thead th { border-bottom: 2px solid #bbb; font-weight: bold; background: #f4f6f8; }
tbody th { font-weight: normal; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.detail { display: block; color: #777; font-size: 11px; }
.note { font-size: 12px; color: #666; margin: 4px 0 0; }
figure.plot { margin: 16px 0; }
figure.plot .canvas { overflow-x: auto; }
figure.plot svg { display: block; max-width: 100%; height: auto; }
figcaption { font-size: 13px; color: #333; margin-top: 4px; }
.label { font-weight: bold; }
footer { font-size: 12px; color: #777; padding-bottom: 32px; }
@media print { body { background: white; } section { border: none; page-break-inside: avoid; } }
`.trim();
