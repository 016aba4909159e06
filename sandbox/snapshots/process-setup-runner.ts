import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExecResult } from '../sandbox.port';
import type { SetupRunner } from './snapshot.types';

const OUTPUT_TAIL_BYTES = 8 * 1024;
/** How long output may keep arriving after the command exited, from a process that escaped its group. */
const OUTPUT_DRAIN_MS = 2_000;

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
      await fs.promises.mkdir(path.join(scratch, 'home'));
      await fs.promises.mkdir(path.join(scratch, 'tmp'));
      return await runInProcessGroup(directory, command, timeoutMs, signal, {
        // An allowlist: a token added to the worker's environment tomorrow must not reach the setup.
        PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
        HOME: path.join(scratch, 'home'),
        TMPDIR: path.join(scratch, 'tmp'),
        LANG: process.env.LANG ?? 'C.UTF-8',
        CI: 'true',
      });
    } finally {
      await fs.promises.rm(scratch, { recursive: true, force: true });
    }
  };
}

function runInProcessGroup(cwd: string, command: string, timeoutMs: number, signal: AbortSignal | undefined, env: NodeJS.ProcessEnv): Promise<ExecResult> {
  const startedAt = Date.now();
  return new Promise<ExecResult>((resolve, reject) => {
    // stderr joins stdout inside the shell: one pipe keeps the two in the order they were written.
    const child = spawn('bash', ['-c', `exec 2>&1\n${command}`], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let timedOut = false;
    let drainTimer: NodeJS.Timeout | undefined;
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch (error) {
        // ESRCH: every process of the group has exited already, which is the goal.
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    };
    const timeoutTimer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, timeoutMs);
    signal?.addEventListener('abort', killGroup, { once: true });
    const onChunk = (chunk: string): void => {
      output += chunk;
      if (output.length > 4 * OUTPUT_TAIL_BYTES) output = output.slice(-2 * OUTPUT_TAIL_BYTES);
    };
    child.stdout.setEncoding('utf8').on('data', onChunk);
    child.stderr.setEncoding('utf8').on('data', onChunk);
    child.on('exit', () => {
      killGroup();
      drainTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, OUTPUT_DRAIN_MS);
    });
    const cleanUp = (): void => {
      clearTimeout(timeoutTimer);
      clearTimeout(drainTimer);
      signal?.removeEventListener('abort', killGroup);
    };
    child.on('error', (error) => {
      cleanUp();
      reject(error);
    });
    child.on('close', (exitCode, exitSignal) => {
      cleanUp();
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      resolve({ command, exitCode, signal: exitSignal, timedOut, durationMs: Date.now() - startedAt, outputTail: lastBytes(output, OUTPUT_TAIL_BYTES) });
    });
  });
}

function lastBytes(text: string, limit: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= limit) return text;
  let start = bytes.length - limit;
  // Start on a character boundary, not inside a multi-byte UTF-8 sequence.
  while (start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
  return bytes.subarray(start).toString('utf8');
}
