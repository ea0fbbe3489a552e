// Plain-text tables for the terminal.

/** Columns padded to their widest cell; the first column left-aligned, the others right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => (r[j] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, j) => (j === 0 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** Significance stars as in the slides: * p < 0.1, ** p < 0.05, *** p < 0.01. */
export function stars(pValue: number): string {
  return pValue < 0.01 ? '***' : pValue < 0.05 ? '**' : pValue < 0.1 ? '*' : '';
}
