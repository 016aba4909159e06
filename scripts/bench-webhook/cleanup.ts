import { withTimeout } from '../../lib/with-timeout';

/** The bench's cleanup: every started thing registers how to stop it, and all of it runs once, on any exit. */

type Cleanup = { label: string; run: () => Promise<void> };
const cleanups: Cleanup[] = [];
let cleanedUp: Promise<void> | null = null;
/** Set once cleanup begins: loops stop starting work, and nothing more is reported from closed servers. */
let stopping = false;

export function isStopping(): boolean {
  return stopping;
}
/** Aborted when cleanup begins, so that long polls end before their connection is closed under them. */
export const stopRequests = new AbortController();

export function throwIfStopping(): void {
  if (stopping) throw new Error('stopped before the end of the run');
}

export function onCleanup(label: string, run: () => Promise<void>): void {
  cleanups.push({ label, run });
}

/**
 * Registers the stop before the start has finished: an interrupt during a start then still stops
 * what it was starting (a dev server half-way up would otherwise outlive this process), and the
 * run goes no further once cleanup has begun.
 */
export function startTracked<T>(label: string, starting: Promise<T>, stop: (started: T) => Promise<void>): Promise<T> {
  onCleanup(label, async () => {
    const started = await starting.then(
      (value) => ({ value }),
      () => null,
    );
    if (started) await stop(started.value);
  });
  return starting.then((value) => {
    throwIfStopping();
    return value;
  });
}

/** Stops every loop from starting more work, ends long polls, and runs the cleanups, last registered first. */
export function cleanUpEverything(): Promise<void> {
  stopping = true;
  stopRequests.abort();
  cleanedUp ??= (async () => {
    // Last registered first, and one at a time, so a stop registered during cleanup is still run.
    for (let step = cleanups.pop(); step; step = cleanups.pop()) {
      const { label, run } = step;
      try {
        // One stuck step (a worker waiting on a sandbox) must not keep the servers and files behind it alive.
        await withTimeout(run(), 60_000, label);
      } catch (error) {
        console.error(`bench | cleanup: ${label} failed: ${(error as Error).message}`);
      }
    }
  })();
  return cleanedUp;
}
