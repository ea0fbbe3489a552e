// Atomic file output: write to a temporary file beside the target, then rename, so a failed or
// interrupted command never leaves a partial file and never clobbers a good one.
import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { badInput } from '../errors.js';

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
}

async function requireDirectory(path: string): Promise<void> {
  const dir = dirname(path);
  try {
    const stat = await fs.stat(dir);
    if (!stat.isDirectory()) throw badInput(`cannot write ${path}: ${dir} is not a directory`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw badInput(`cannot write ${path}: directory ${dir} does not exist`);
    throw error;
  }
}

/** Writes `data` to `path` atomically. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  await requireDirectory(path);
  const temp = tempPathFor(path);
  try {
    await fs.writeFile(temp, data);
    await fs.rename(temp, path);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}

/**
 * Streams into a temporary file; `commit()` renames it onto `path`, `abort()` deletes it.
 * Use for outputs too large to hold as one string.
 */
export class AtomicWriter {
  private failure: Error | undefined;
  private constructor(readonly path: string, private readonly temp: string, readonly stream: WriteStream) {
    // Keep the first stream error for write()/commit(); without a listener it would crash the process.
    stream.on('error', (error) => {
      this.failure ??= error;
    });
  }

  static async open(path: string): Promise<AtomicWriter> {
    await requireDirectory(path);
    const temp = tempPathFor(path);
    const stream = createWriteStream(temp);
    // Wait for the file to exist, so that abort() never races the pending open.
    await new Promise<void>((resolve, reject) => {
      stream.once('ready', () => resolve());
      stream.once('error', reject);
    });
    return new AtomicWriter(path, temp, stream);
  }

  /** Writes a chunk, waiting for the stream to drain when its buffer is full. */
  async write(chunk: string | Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.stream.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.stream.off('drain', done);
          this.stream.off('close', done);
          resolve();
        };
        this.stream.on('drain', done);
        this.stream.on('close', done);
      });
      if (this.failure) throw this.failure;
    }
  }

  async commit(): Promise<void> {
    if (this.failure) throw this.failure;
    await new Promise<void>((resolve, reject) => this.stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
    if (this.failure) throw this.failure;
    await fs.rename(this.temp, this.path);
  }

  /** Discards the output: waits for the stream to close, then removes the temporary file. */
  async abort(): Promise<void> {
    if (!this.stream.closed) {
      await new Promise<void>((resolve) => {
        this.stream.once('close', () => resolve());
        this.stream.destroy();
      });
    }
    await fs.rm(this.temp, { force: true });
  }
}

/** Runs `produce` with an atomic writer: committed on success, removed on any failure. */
export async function withAtomicWriter<T>(path: string, produce: (writer: AtomicWriter) => Promise<T>): Promise<T> {
  const writer = await AtomicWriter.open(path);
  try {
    const result = await produce(writer);
    await writer.commit();
    return result;
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
