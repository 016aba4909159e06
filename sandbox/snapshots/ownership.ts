import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';

/**
 * Who holds a lock or a lease, recorded so that another process can tell whether the holder is
 * still alive: a crashed builder must not block a snapshot forever, and a view of a dead worker
 * must not keep its snapshot from garbage collection.
 */
export interface ProcessOwner {
  host: string;
  pid: number;
  /** The kernel's start time of the process (Linux); tells a live process from a later one that reuses the pid. */
  startTicks: string | null;
}

export function currentOwner(): ProcessOwner {
  return { host: os.hostname(), pid: process.pid, startTicks: startTicksOf(process.pid) };
}

/**
 * False only when the holder is certainly gone. A holder on another host cannot be checked from
 * here and counts as alive: a store root is meant for one host, and erring this way only delays.
 */
export function isOwnerAlive(owner: ProcessOwner): boolean {
  if (owner.host !== os.hostname()) return true;
  // Signal 0 to pid 0 or -1 would "succeed" for the whole process group or every process.
  if (!Number.isInteger(owner.pid) || owner.pid <= 0) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = readProcStat(owner.pid);
  if (stat === null) return true; // no procfs (macOS): the pid check is all there is
  // A zombie has exited already; it only waits for its parent to reap it.
  if (stat.state === 'Z') return false;
  return owner.startTicks === null || owner.startTicks === stat.startTicks;
}

function startTicksOf(pid: number): string | null {
  return readProcStat(pid)?.startTicks ?? null;
}

function readProcStat(pid: number): { state: string; startTicks: string } | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name in parentheses may itself hold spaces and parentheses: fields start after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // Field 3 of proc_pid_stat(5) is the state, field 22 the start time.
  return { state: fields[0] ?? '', startTicks: fields[19] ?? '' };
}

/** Runs tasks one at a time per name within this process. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  run<T>(name: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(name) ?? Promise.resolve();
    const result = previous.then(task);
    // The chain only orders tasks; each caller gets its own task's outcome through `result`.
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(name, settled);
    void settled.then(() => {
      if (this.tails.get(name) === settled) this.tails.delete(name);
    });
    return result;
  }
}

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
      if (!isOwnerAlive(parseOwner(held))) {
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

function parseOwner(text: string): ProcessOwner {
  try {
    const parsed = JSON.parse(text) as Partial<ProcessOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string') return { host: parsed.host, pid: parsed.pid, startTicks: parsed.startTicks ?? null };
  } catch {
    // fall through: nobody can hold a lock through an unreadable file
  }
  return { host: os.hostname(), pid: -1, startTicks: null };
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
