import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { currentOwner, ownerState, parseOwner } from '../process-owner';

export type ReleaseLock = () => Promise<void>;

const LOCK_POLL_MS = 50;

/**
 * A lock between processes: a file that holds its owner, created atomically by hard-linking a
 * fully written temporary file (so nobody ever reads a half-written owner). A lock whose owner
 * died is broken by the next process that wants it.
 */
export async function lockFile(file: string, options: { wait: boolean; signal?: AbortSignal }): Promise<ReleaseLock | null> {
  const token = JSON.stringify({ ...currentOwner(), nonce: randomBytes(8).toString('hex') });
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await fs.promises.writeFile(temporary, token);
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      try {
        await fs.promises.link(temporary, file);
        return () => releaseLockFile(file, token);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const held = await readIfExists(file);
      if (held === null) continue;
      if (ownerState(parseHeldLock(held)) === 'dead') {
        await breakStaleLock(file, held);
        continue;
      }
      if (!options.wait) return null;
      await sleep(LOCK_POLL_MS, options.signal);
    }
  } finally {
    await fs.promises.rm(temporary, { force: true });
  }
}

async function releaseLockFile(file: string, token: string): Promise<void> {
  // Only our own lock: a lock broken as stale and taken by someone else is theirs now.
  if ((await readIfExists(file)) === token) await fs.promises.rm(file, { force: true });
}

/**
 * Moves the dead owner's lock aside before deleting it, and checks that what was moved is still that
 * lock: two processes breaking the same stale lock must not delete the lock one of them just took.
 */
async function breakStaleLock(file: string, staleContent: string): Promise<void> {
  const aside = `${file}.stale-${randomBytes(6).toString('hex')}`;
  try {
    await fs.promises.rename(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await readIfExists(aside);
  if (moved !== staleContent && moved !== null) {
    // A live lock taken between our read and the rename: put it back where its owner expects it.
    await fs.promises.link(aside, file).catch(() => undefined);
  }
  await fs.promises.rm(aside, { force: true });
}

/** Nobody can hold a lock through an unreadable file: it reads as a dead owner. */
function parseHeldLock(text: string): ReturnType<typeof parseOwner> {
  try {
    return parseOwner(JSON.parse(text));
  } catch {
    return null;
  }
}

export async function readIfExists(file: string): Promise<string | null> {
  try {
    return await fs.promises.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
