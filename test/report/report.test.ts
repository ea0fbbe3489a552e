// The HTML report: results JSON checked field by field, every section built from plain data,
// one self-contained file (no script, no network), the CLI command, and a real browser that
// finds every plot drawn and no console error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, promises as fs, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PromoptError } from '../../src/errors.js';
import { buildReport, parseReportResults, readReportResults, renderReport, type ReportResults } from '../../src/report/results.js';
import { plotIds, renderReportHtml, escapeHtml } from '../../src/report/html.js';
import { estimateCell, histogram, twoSidedPValue, cyclesSection } from '../../src/report/sections.js';
import { prefixSvgIds } from '../../src/report/vega.js';
import { Browser, CHROMIUM, MEASURE_PLOTS, chromiumAvailable } from './browser.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURE = join(root, 'test/report/fixture-results.json');
const CLI = join(root, 'dist/src/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'promopt-report-'));
const fixtureJson = () => JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;

/** The plots a full report must hold, one or more per item of the list. */
const EXPECTED_PLOTS = ['summary-rates', 'estimate-recovery', 'scheme-profits', 'price-distributions', 'gamma-sensitivity',
  'heterogeneity', 'acquisition-costs', 'coupon-mix', 'revenue-by-rate', 'reference-correlations', 'cycles'];

let fixtureHtml: string | undefined;
async function fixtureReport(): Promise<string> {
  fixtureHtml ??= await renderReport(await readReportResults(FIXTURE));
  return fixtureHtml;
}

function badInputMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.instance(error, PromoptError);
    assert.is((error as PromoptError).code, 'BAD_INPUT');
    assert.not.ok((error as Error).message.includes('\n'));
    return (error as Error).message;
  }
  return assert.unreachable('expected a bad-input error') as never;
}

test('the fixture parses and yields every section and plot', async () => {
  const results = await readReportResults(FIXTURE);
  const doc = buildReport(results);
  assert.equal(doc.sections.map((s) => s.id), ['about', 'summary', 'estimates', 'schemes', 'prices', 'sensitivity', 'heterogeneity', 'acquisition', 'abtest', 'reference', 'cycles']);
  assert.equal(plotIds(doc), EXPECTED_PLOTS);
  // Estimate table: the slides' layout, 6 constants and 14 × 4 interactions.
  const tables = doc.sections.find((s) => s.id === 'estimates')!.blocks.filter((b) => b.kind === 'table');
  assert.is(tables.length, 3);
});

test('bad results are one-line errors naming the field', () => {
  const cases: Array<[(j: any) => void, string]> = [
    [(j) => { j.schemes.schemes[1].profit = 'x'; }, 'schemes.schemes[1].profit: expected a finite number'],
    [(j) => { j.summary.rows[0].shareRate = 1.5; }, 'summary.rows[0].shareRate: expected a number from 0 to 1'],
    [(j) => { j.estimates.tables[1].rows[2].cells.pop(); }, 'estimates.tables[1].rows[2].cells: expected 4 cells'],
    [(j) => { j.abTest.byRate[0].arm = 'nobody'; }, 'abTest.byRate[0].arm: expected one of the arms listed'],
    [(j) => { j.heterogeneity.histograms[0].bins[3].end = -5; }, 'heterogeneity.histograms[0].bins[3].end: expected end > start'],
    [(j) => { j.cycles.results[0].monotone = 'yes'; }, 'cycles.results[0].monotone: expected true or false'],
    [(j) => { j.schemse = {}; }, 'schemse: unknown section'],
    [(j) => { j.gammaSensitivity.points = [j.gammaSensitivity.points[0]]; }, 'gammaSensitivity.points: expected at least 2 entries'],
    [(j) => { j.version = 2; }, 'version: expected 1'],
  ];
  for (const [mutate, expected] of cases) {
    const json = fixtureJson();
    mutate(json);
    const message = badInputMessage(() => parseReportResults(json, 'r.json'));
    assert.ok(message.startsWith('r.json: '), message);
    assert.ok(message.includes(expected), `"${message}" should include "${expected}"`);
  }
  assert.ok(badInputMessage(() => parseReportResults([], 'r.json')).includes('expected an object'));
});

test('the HTML is self-contained: no script, no external reference, unique ids, every plot an inline SVG', async () => {
  const html = await fixtureReport();
  assert.not.match(html, /<script/i);
  assert.not.match(html, /<link\b/i);
  assert.not.match(html, /<img\b/i);
  assert.not.match(html, /\b(src|href)="(https?:)?\/\//i);
  assert.not.match(html, /url\((['"])?https?:/i);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  for (const id of EXPECTED_PLOTS) {
    const figure = html.match(new RegExp(`<figure class="plot" id="plot-${id}" data-plot="${id}">([\\s\\S]*?)</figure>`));
    assert.ok(figure, `figure ${id}`);
    assert.match(figure![1], /<svg [^>]*role="img"/);
    assert.match(figure![1], /<figcaption><span class="label">Figure \d+\.<\/span> \S/);
  }
  const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  assert.is(new Set(ids).size, ids.length, 'ids are unique');
  // Every url(#…) reference points at an id defined in the page.
  for (const [, ref] of html.matchAll(/url\(#([^)]+)\)/g)) assert.ok(ids.includes(ref), `reference #${ref} resolves`);
  assert.is((html.match(/<table>/g) ?? []).length, 10);
  assert.match(html, /0\.790|0\.7\d\d/);
});

test('text is escaped, ids are checked', async () => {
  const html = await renderReport({ meta: { title: '<script>alert(1)</script> & co' }, cycles: { results: [{ label: 'a<b', prices: [1, 2], memory: 1, averageGain: 1, generator: [2, 1], cycle: [2, 1], method: 'reduced', monotone: true }] } });
  assert.not.match(html, /<script>/);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt; &amp; co/);
  assert.is(escapeHtml(`"'<>&`), '&quot;&#39;&lt;&gt;&amp;');
  const section = cyclesSection({ results: [] });
  await renderReportHtml({ title: 't', sections: [section, { ...section }] }).then(() => assert.unreachable('duplicate ids accepted'), (e: Error) => assert.match(e.message, 'used twice'));
});

test('a report with only some results has only those sections', async () => {
  const json = fixtureJson();
  const partial = parseReportResults({ cycles: json.cycles, schemes: json.schemes });
  const doc = buildReport(partial);
  assert.equal(doc.sections.map((s) => s.id), ['schemes', 'cycles']);
  const html = await renderReportHtml(doc);
  assert.equal([...html.matchAll(/data-plot="([^"]+)"/g)].map((m) => m[1]), ['scheme-profits', 'cycles']);
  const empty = await renderReport({});
  assert.match(empty, /<h1>promopt report<\/h1>/);
});

test('section helpers: histogram, p-values, estimate cells, SVG id prefixes', () => {
  const h = histogram([0, 0.5, 1, 1.5, 2, 10, -3], 4, [0, 2]);
  assert.equal(h.bins.map((b) => b.count), [1, 1, 1, 2]);
  assert.equal([h.below, h.above], [1, 1]);
  assert.equal(h.bins.map((b) => [b.start, b.end]), [[0, 0.5], [0.5, 1], [1, 1.5], [1.5, 2]]);
  assert.ok(Math.abs(twoSidedPValue(1.959964) - 0.05) < 1e-6);
  assert.ok(Math.abs(twoSidedPValue(-2.575829) - 0.01) < 1e-6);
  assert.ok(Math.abs(twoSidedPValue(0) - 1) < 1e-6);
  assert.equal(estimateCell({ estimate: 0.79, se: 0.062 }), { text: '0.790***', detail: '(0.062)' });
  assert.equal(estimateCell({ estimate: 18.858, se: 7.773 }), { text: '18.858**', detail: '(7.773)' });
  assert.equal(estimateCell({ estimate: -0.173, se: 0.104, truth: -0.17 }), { text: '−0.173*', detail: '(0.104) true −0.170' });
  assert.equal(estimateCell({ estimate: 0.13, se: 0.101 }), { text: '0.130', detail: '(0.101)' });
  assert.is(prefixSvgIds('<clipPath id="clip1"><g clip-path="url(#clip1)"><use href="#clip1"/>', 'p-a'), '<clipPath id="p-a-clip1"><g clip-path="url(#p-a-clip1)"><use href="#p-a-clip1"/>');
});

test('promopt report writes the file; bad input exits 2 and writes nothing', () => {
  const out = join(dir, 'cli.html');
  const ok = spawnSync(process.execPath, [CLI, '--json', 'report', '--input', FIXTURE, '--out', out], { encoding: 'utf8' });
  assert.is(ok.status, 0, ok.stderr);
  const json = JSON.parse(ok.stdout) as { out: string; plots: string[]; sections: string[]; bytes: number };
  assert.equal(json.plots, EXPECTED_PLOTS);
  assert.is(json.out, out);
  assert.is(readFileSync(out).length, json.bytes);
  const badPath = join(dir, 'bad.json');
  const bad = fixtureJson() as any;
  bad.schemes.schemes[0].profit = null;
  writeFileSync(badPath, JSON.stringify(bad));
  const badOut = join(dir, 'bad.html');
  const failed = spawnSync(process.execPath, [CLI, 'report', '--input', badPath, '--out', badOut], { encoding: 'utf8' });
  assert.is(failed.status, 2);
  assert.is(failed.stdout, '');
  assert.is(failed.stderr.trim().split('\n').length, 1);
  assert.match(failed.stderr, 'schemes.schemes[0].profit: expected a finite number, got null');
  assert.throws(() => readFileSync(badOut));
  const missing = spawnSync(process.execPath, [CLI, 'report', '--input', join(dir, 'nope.json'), '--out', badOut], { encoding: 'utf8' });
  assert.is(missing.status, 2);
  assert.match(missing.stderr, 'no such file');
});

const browserTest = chromiumAvailable() ? test : test.skip;
if (!chromiumAvailable()) {
  console.log(`SKIP browser test: ${CHROMIUM} not found (install the Debian package: apt-get install -y chromium)`);
}

browserTest('headless Chromium draws every plot, with no console error and no network request', async () => {
  const path = join(dir, 'browser.html');
  await fs.writeFile(path, await fixtureReport());
  const browser = Browser.launch();
  try {
    type Plot = { id: string; width: number; height: number; marks: number; drawn: number; caption: string };
    const { value: plots, problems, screenshot } = await browser.inspect<Plot[]>(pathToFileURL(path).href, MEASURE_PLOTS, { screenshot: true });
    assert.equal(plots.map((p) => p.id), EXPECTED_PLOTS);
    for (const p of plots) {
      assert.ok(p.width > 100 && p.height > 80, `${p.id}: svg box ${p.width}×${p.height}`);
      assert.ok(p.drawn > 0, `${p.id}: no drawn data marks`);
      assert.ok(p.caption.startsWith('Figure '), `${p.id}: caption`);
    }
    assert.equal(problems.errors, [], 'console errors');
    assert.equal(problems.requests, [], 'network requests');
    assert.ok(screenshot && screenshot.subarray(1, 4).toString() === 'PNG' && screenshot.length > 50_000, 'screenshot');
    if (process.env.PROMOPT_SCREENSHOT) await fs.writeFile(process.env.PROMOPT_SCREENSHOT, screenshot!);
    // The check itself sees problems: a page with a console error and a remote image reports both.
    const broken = join(dir, 'broken.html');
    await fs.writeFile(broken, '<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png"><script>console.error("boom")</script></body></html>');
    const { problems: seen } = await browser.inspect<number>(pathToFileURL(broken).href, '1');
    assert.ok(seen.errors.some((e) => e.includes('boom')), `console error seen: ${JSON.stringify(seen.errors)}`);
    assert.ok(seen.requests.some((r) => r.startsWith('http://127.0.0.1:9/')), 'request seen');
  } finally {
    await browser.close();
  }
});

test.after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

test.run();
