// promopt report: turns a results JSON (see src/report/results.ts and the README) into one
// self-contained HTML file with tables and plots.
import type { Command } from 'commander';
import { action } from './context.js';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write the HTML report (tables and plots, one self-contained file) from a results JSON')
    .requiredOption('--input <file>', 'results JSON: {meta, summary, estimates, schemes, priceDistributions, gammaSensitivity, heterogeneity, acquisitionCosts, abTest, referenceEffects, cycles}, every key optional')
    .option('--out <file>', 'HTML file to write', 'report.html')
    .option('--title <text>', 'report title (overrides meta.title)')
    .action(action(async (ctx, opts: { input: string; out: string; title?: string }) => {
      const started = performance.now();
      // vega and vega-lite load only when a report is made (they slow every other command's start).
      const { readReportResults, writeReport } = await import('../report/results.js');
      const results = await readReportResults(opts.input);
      if (opts.title !== undefined) results.meta = { ...results.meta, title: opts.title };
      const written = await writeReport(opts.out, results);
      const json = { out: opts.out, bytes: written.bytes, sections: written.sections, plots: written.plots, seconds: (performance.now() - started) / 1000 };
      const text = `Wrote ${opts.out} (${(json.bytes / 1024).toFixed(0)} KiB): ${json.sections.length} sections, ${json.plots.length} plots, in ${json.seconds.toFixed(2)} s.`;
      return { json, text };
    }));
}
