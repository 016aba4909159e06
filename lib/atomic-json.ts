import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Files that other processes read while they are being replaced (metadata, leases, pointers): each
 * is written beside its target under a name no other writer uses, then renamed over it, so that a
 * reader sees the old content or the new, never half of one, and a crash leaves at most a scrap.
 */
export async function writeFileAtomically(file: string, content: string, options: { mode?: number } = {}): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  // pid and nonce: two writers of one file, in one process or in two, never share a scrap.
  const partial = `${file}.${process.pid}-${randomBytes(6).toString('hex')}.partial`;
  try {
    await fs.promises.writeFile(partial, content, options.mode === undefined ? {} : { mode: options.mode });
    await fs.promises.rename(partial, file);
  } catch (error) {
    await fs.promises.rm(partial, { force: true });
    throw error;
  }
}

export function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  return writeFileAtomically(file, JSON.stringify(value));
}

/** The parsed content of a JSON file, or null when there is no such file. */
export async function readJsonIfExists<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await fs.promises.readFile(file, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
