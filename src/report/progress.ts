// Progress bars for long work: drawn on stderr only when it is a terminal and the command was not
// asked for --json; otherwise every call is a no-op.
import cliProgress from 'cli-progress';

export interface Progress {
  /** Sets the completed amount (same units as `total`). */
  update(done: number): void;
  increment(by?: number): void;
  stop(): void;
}

const silent: Progress = { update() {}, increment() {}, stop() {} };

export interface ProgressOptions {
  /** Force quiet (e.g. --json). */
  quiet?: boolean;
}

/** A bar labelled `label` out of `total` units, or a silent stand-in. */
export function startProgress(label: string, total: number, options: ProgressOptions = {}): Progress {
  if (options.quiet || !process.stderr.isTTY || total <= 0) return silent;
  const bar = new cliProgress.SingleBar(
    { format: `${label.padEnd(28)} [{bar}] {percentage}% | {value}/{total} | eta {eta_formatted}`, stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    update: (done) => bar.update(done),
    increment: (by = 1) => bar.increment(by),
    stop: () => bar.stop(),
  };
}
