// Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe: commands
// on fd 3, replies on fd 4, each a JSON message ended by NUL), so no WebSocket client is needed.
// Used by the report tests to load the HTML from file://, measure every plot and collect console
// errors and network requests.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM = process.env.PROMOPT_CHROMIUM ?? '/usr/bin/chromium';

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM);
}

interface CdpMessage {
  id?: number;
  method?: string;
  sessionId?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
}

export interface PageProblems {
  /** console.error / console.assert calls, uncaught exceptions, and browser log entries of level error. */
  errors: string[];
  /** Every URL the page requested other than the page itself. */
  requests: string[];
}

export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (m: CdpMessage) => void; reject: (e: Error) => void }>();
  private readonly listeners: Array<(m: CdpMessage) => void> = [];
  private buffer = '';
  private readonly profile: string;

  private constructor(private readonly child: ChildProcess, profile: string) {
    this.profile = profile;
    const out = child.stdio[4] as Readable;
    out.setEncoding('utf8');
    out.on('data', (chunk: string) => {
      this.buffer += chunk;
      let end: number;
      while ((end = this.buffer.indexOf('\0')) >= 0) {
        const message = JSON.parse(this.buffer.slice(0, end)) as CdpMessage;
        this.buffer = this.buffer.slice(end + 1);
        if (message.id !== undefined && this.pending.has(message.id)) {
          const waiter = this.pending.get(message.id)!;
          this.pending.delete(message.id);
          if (message.error) waiter.reject(new Error(message.error.message));
          else waiter.resolve(message);
        } else {
          for (const listener of this.listeners) listener(message);
        }
      }
    });
    child.on('exit', () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error('chromium exited'));
      this.pending.clear();
    });
  }

  static launch(): Browser {
    const profile = mkdtempSync(join(tmpdir(), 'promopt-chromium-'));
    const child = spawn(CHROMIUM, [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--hide-scrollbars', '--mute-audio',
      `--user-data-dir=${profile}`, '--remote-debugging-pipe', 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] });
    return new Browser(child, profile);
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string, timeoutMs = 30_000): Promise<CdpMessage> {
    const id = this.nextId++;
    const message = JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) });
    return new Promise<CdpMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no reply from chromium in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (m) => { clearTimeout(timer); resolve(m); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      });
      (this.child.stdio[3] as Writable).write(`${message}\0`);
    });
  }

  on(listener: (m: CdpMessage) => void): () => void {
    this.listeners.push(listener);
    return () => this.listeners.splice(this.listeners.indexOf(listener), 1);
  }

  /**
   * Opens `url` in a new tab, waits for the load event, runs `expression` in the page and returns
   * its value with the problems seen meanwhile; optionally takes a full-page PNG screenshot.
   */
  async inspect<T>(url: string, expression: string, options: { width?: number; screenshot?: boolean } = {}): Promise<{ value: T; problems: PageProblems; screenshot?: Buffer }> {
    const { result: target } = await this.send('Target.createTarget', { url: 'about:blank' });
    const { result: attached } = await this.send('Target.attachToTarget', { targetId: target!.targetId, flatten: true });
    const session = attached!.sessionId as string;
    const problems: PageProblems = { errors: [], requests: [] };
    let loaded!: () => void;
    const load = new Promise<void>((resolve) => (loaded = resolve));
    const off = this.on((m) => {
      if (m.sessionId !== session) return;
      const p = m.params ?? {};
      if (m.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert')) {
        problems.errors.push(`console.${p.type}: ${JSON.stringify((p.args as unknown[]) ?? []).slice(0, 300)}`);
      } else if (m.method === 'Runtime.exceptionThrown') {
        problems.errors.push(`exception: ${JSON.stringify(p.exceptionDetails).slice(0, 300)}`);
      } else if (m.method === 'Log.entryAdded') {
        const entry = p.entry as { level: string; text: string; url?: string };
        if (entry.level === 'error') problems.errors.push(`log: ${entry.text} ${entry.url ?? ''}`.trim());
      } else if (m.method === 'Network.requestWillBeSent') {
        const requested = (p.request as { url: string }).url;
        if (requested !== url) problems.requests.push(requested);
      } else if (m.method === 'Page.loadEventFired') {
        loaded();
      }
    });
    try {
      for (const domain of ['Page', 'Runtime', 'Log', 'Network']) await this.send(`${domain}.enable`, {}, session);
      await this.send('Emulation.setDeviceMetricsOverride', { width: options.width ?? 1200, height: 900, deviceScaleFactor: 1, mobile: false }, session);
      await this.send('Page.navigate', { url }, session);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([load, new Promise((_r, reject) => (timer = setTimeout(() => reject(new Error(`${url}: no load event in 30 s`)), 30_000)))])
        .finally(() => clearTimeout(timer));
      const evaluated = await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }, session);
      const r = evaluated.result as { result: { value: T }; exceptionDetails?: unknown };
      if (r.exceptionDetails) throw new Error(`evaluation failed: ${JSON.stringify(r.exceptionDetails).slice(0, 300)}`);
      let screenshot: Buffer | undefined;
      if (options.screenshot) {
        const { result: metrics } = await this.send('Page.getLayoutMetrics', {}, session);
        const size = metrics!.cssContentSize as { width: number; height: number };
        const shot = await this.send('Page.captureScreenshot', {
          format: 'png', captureBeyondViewport: true,
          clip: { x: 0, y: 0, width: Math.ceil(size.width), height: Math.ceil(size.height), scale: 1 },
        }, session, 60_000);
        screenshot = Buffer.from(shot.result!.data as string, 'base64');
      }
      // Let late console messages arrive before reporting.
      await new Promise((resolve) => setTimeout(resolve, 100));
      return { value: r.result.value, problems, screenshot };
    } finally {
      off();
      await this.send('Target.closeTarget', { targetId: target!.targetId }).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const exited = new Promise<void>((resolve) => (this.child.exitCode !== null ? resolve() : this.child.once('exit', () => resolve())));
    await this.send('Browser.close', {}, undefined, 5_000).catch(() => undefined);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
    rmSync(this.profile, { recursive: true, force: true });
  }
}

/** In-page script: every figure's id with its SVG's bounding box and the number of drawn marks. */
export const MEASURE_PLOTS = `(() => [...document.querySelectorAll('figure.plot')].map((f) => {
  const svg = f.querySelector('svg');
  const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
  const marks = svg ? svg.querySelectorAll('path, rect, line, circle, text').length : 0;
  // Data marks are the children of Vega's role-mark groups; a horizontal rule has zero height.
  const drawn = svg ? [...svg.querySelectorAll('g.role-mark > *')]
    .filter((e) => { const b = e.getBoundingClientRect(); return b.width > 0 || b.height > 0; }).length : 0;
  return { id: f.dataset.plot, width: box.width, height: box.height, marks, drawn, caption: (f.querySelector('figcaption') || {}).textContent || '' };
}))()`;
