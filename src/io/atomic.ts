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
  private constructor(readonly path: string, private readonly temp: string, readonly stream: WriteStream) {}

  static async open(path: string): Promise<AtomicWriter> {
    await requireDirectory(path);
    const temp = tempPathFor(path);
    return new AtomicWriter(path, temp, createWriteStream(temp));
  }

  /** Writes a chunk, waiting for the stream to drain when its buffer is full. */
  async write(chunk: string | Uint8Array): Promise<void> {
    if (!this.stream.write(chunk)) await new Promise<void>((resolve) => this.stream.once('drain', resolve));
  }

  async commit(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
    await fs.rename(this.temp, this.path);
  }

  async abort(): Promise<void> {
    this.stream.destroy();
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
