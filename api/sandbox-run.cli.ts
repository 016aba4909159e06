import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../config/config';
import type { SandboxPort, SandboxStart } from '../sandbox/sandbox.port';
import { buildSandboxBackend } from '../workers/sandbox-backend';
import type { CliIo } from './cli';

/**
 * `steward sandbox run`: a command in a sandbox over a repository at a revision, with the same
 * backend, isolation and snapshots the workers use. For trying a reproduction by hand, checking a
 * setup command, and measuring start-up.
 */

export const SANDBOX_USAGE = `Usage:
  steward sandbox run --repo <path or git URL> --ref <revision> [--setup "<command>"] [--json] [--timeout <seconds>] -- <command>

Runs <command> with bash in a sandbox over the repository at that revision, prints its output and
exits with its exit code. --setup runs once when the workspace is built (e.g. "npm ci"); with the
bubblewrap backend it builds a snapshot that later runs start from. --json prints one JSON object
instead: exit code, output tail, timings and whether a snapshot served.
Backend: STEWARD_SANDBOX_BACKEND (auto, bubblewrap, process or docker), data under STEWARD_DATA_DIR.`;

const SandboxRunArgs = z.object({
  repo: z.string({ error: '--repo <path or git URL> is required' }).min(1, '--repo must not be empty'),
  ref: z.string({ error: '--ref <revision> is required' }).min(1, '--ref must not be empty'),
  setup: z.string().min(1, '--setup must not be empty').optional(),
  json: z.boolean().default(false),
  timeout: z.coerce.number().int().min(1, '--timeout is in seconds, at least 1').default(600),
  command: z.string().min(1, 'the command goes after --, e.g. -- npm test'),
});
export type SandboxRunArgs = z.infer<typeof SandboxRunArgs>;

export function parseSandboxRunArgs(args: string[]): { ok: true; value: SandboxRunArgs } | { ok: false; error: string } {
  if (args[0] !== 'run') return { ok: false, error: `unknown sandbox command ${JSON.stringify(args[0] ?? '')}; the one command is run` };
  const separator = args.indexOf('--');
  const options = separator >= 0 ? args.slice(1, separator) : args.slice(1);
  const command = separator >= 0 ? args.slice(separator + 1).join(' ') : '';
  let values: Record<string, unknown>;
  try {
    ({ values } = parseArgs({
      args: options,
      options: { repo: { type: 'string' }, ref: { type: 'string' }, setup: { type: 'string' }, json: { type: 'boolean' }, timeout: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
  const parsed = SandboxRunArgs.safeParse({ ...values, command });
  if (!parsed.success) return { ok: false, error: parsed.error.issues.map((i) => i.message).join('; ') };
  return { ok: true, value: parsed.data };
}

export interface SandboxRunReport {
  backend: string;
  repository: string;
  revision: string;
  command: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  outputTail: string;
  start: SandboxStart | null;
  snapshotHit: boolean | null;
  timings: { snapshotBuildMs: number | null; sandboxReadyMs: number; commandMs: number; totalMs: number };
}

/** Opens a sandbox, runs the command, and always destroys the sandbox again. */
export async function runInSandbox(sandbox: SandboxPort, args: SandboxRunArgs, onOutput?: (chunk: string) => void): Promise<SandboxRunReport> {
  const sandboxId = `cli-${randomBytes(6).toString('hex')}`;
  const repository = /^[a-z][a-z0-9+.-]*:\/\//i.test(args.repo) || args.repo.includes('@') ? args.repo : path.resolve(args.repo);
  const startedAt = Date.now();
  try {
    const handle = await sandbox.open({ sandboxId, repositoryLocation: repository, revision: args.ref, setupCommand: args.setup ?? null });
    const readyAt = Date.now();
    const result = await sandbox.exec(sandboxId, args.command, { timeoutMs: args.timeout * 1_000, ...(onOutput ? { onOutput } : {}) });
    const start = handle.start ?? null;
    const snapshotBuildMs = start?.kind === 'snapshot' && start.snapshotHit === false ? (start.phasesMs?.snapshot ?? null) : null;
    return {
      backend: sandbox.name,
      repository,
      revision: handle.revision,
      command: args.command,
      exitCode: result.exitCode,
      signal: result.signal,
      timedOut: result.timedOut,
      outputTail: result.outputTail,
      start,
      snapshotHit: start?.snapshotHit ?? null,
      timings: { snapshotBuildMs, sandboxReadyMs: start?.readyMs ?? readyAt - startedAt, commandMs: result.durationMs, totalMs: Date.now() - startedAt },
    };
  } finally {
    await sandbox.destroy(sandboxId);
  }
}

export async function runSandboxCli(args: string[], io: CliIo & { write: (chunk: string) => void }): Promise<number> {
  if (args.length === 0 || args[0] === '--help' || args[0] === 'help') {
    io.out(SANDBOX_USAGE);
    return args.length === 0 ? 2 : 0;
  }
  const parsed = parseSandboxRunArgs(args);
  if (!parsed.ok) {
    io.err(`steward sandbox: ${parsed.error}\n\n${SANDBOX_USAGE}`);
    return 2;
  }
  let backend: ReturnType<typeof buildSandboxBackend>;
  try {
    backend = buildSandboxBackend(loadConfig(io.env), { log: (line) => io.err(`steward sandbox: ${line}`) });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(`steward sandbox: ${error.message}`);
    return 2;
  }
  try {
    const report = await runInSandbox(backend.sandbox, parsed.value, parsed.value.json ? undefined : io.write);
    if (parsed.value.json) io.out(JSON.stringify(report));
    else if (report.timedOut) io.err(`steward sandbox: killed after ${parsed.value.timeout} s`);
    // A command killed by a signal exits as shells report it: 128 + the signal's number.
    return report.exitCode ?? 128 + (report.signal ? signalNumber(report.signal) : 9);
  } catch (error) {
    io.err(`steward sandbox: ${(error as Error).message}`);
    return 1;
  }
}

function signalNumber(signal: string): number {
  const numbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15, SIGXCPU: 24, SIGXFSZ: 25 };
  return numbers[signal] ?? 9;
}
