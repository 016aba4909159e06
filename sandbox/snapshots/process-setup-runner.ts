import * as fs from 'node:fs';
import * as path from 'node:path';
import { commandEnvironment, runInProcessGroup } from '../command-runner';
import type { SetupRunner } from './snapshot-store.port';

/**
 * Runs a snapshot's setup command as a child process of the worker, as the process sandbox runs its
 * commands: a scrubbed environment, its own process group (killed on timeout or abort, and after
 * the command exits so that no background job outlives it). HOME and TMPDIR are scratch folders
 * beside the checkout rather than in it, so package manager caches do not end up in every snapshot;
 * the store builds in a folder of its own, so a crash leaves them where the store sweeps.
 */
export function processSetupRunner(): SetupRunner {
  return async ({ directory, command, timeoutMs, signal }) => {
    signal?.throwIfAborted();
    const scratch = await fs.promises.mkdtemp(path.join(path.dirname(directory), '.setup-scratch-'));
    try {
      const home = path.join(scratch, 'home');
      const tmp = path.join(scratch, 'tmp');
      await fs.promises.mkdir(home);
      await fs.promises.mkdir(tmp);
      const result = await runInProcessGroup(directory, command, commandEnvironment({ home, tmp }), { timeoutMs, signal });
      // An abort fails the setup with its reason, as abortable calls do, rather than reporting a killed command.
      signal?.throwIfAborted();
      return result;
    } finally {
      await fs.promises.rm(scratch, { recursive: true, force: true });
    }
  };
}
