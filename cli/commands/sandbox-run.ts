import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { ConfigError } from '../../config/config';
import { shellWords } from '../../lib/shell-quote';
import type { SandboxPort, SandboxStart } from '../../sandbox/sandbox.port';
import { EXIT, usageError, validated, type CliCommand, type ParseDefaults } from '../command';
import type { CliContext } from '../context';
import { refuseGlobalDecisionOptions } from '../global-options';

/**
 * `steward sandbox run`: a command in a sandbox over a repository at a revision, with the same
 * backend, isolation and snapshots the workers use. For trying a reproduction by hand, checking a
 * setup command, and measuring start-up. Not a workflow operation: it runs here, on this machine.
 */

const RUN_HELP = `
Runs <command> with bash in a sandbox over the repository at that revision, prints its output and
exits with its exit code. What follows -- is the command's argument vector, run as typed:
  -- npm test -- --grep coupon
  -- sh -c 'echo "a  b"; echo second'
A single word after -- is a command line for bash, as in: -- 'npm ci && npm test'.
--setup runs once when the workspace is built (e.g. "npm ci"); with the bubblewrap backend it
builds a snapshot that later runs start from. --json prints one JSON object instead: exit code,
output tail, timings and whether a snapshot served.
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

/**
 * The words after `--` as one command line for bash that runs exactly that vector, every word
 * quoted: `-- npm test` runs npm, and a shell line is asked for as one, `-- sh -c 'npm ci && npm test'`.
 */
export function commandLineOf(vector: readonly string[]): string {
  return shellWords(vector);
}

/** What follows the first `--` of the command line; commander merges it into the operands. */
function commandVector(command: Command, operands: string[], defaults: ParseDefaults): string[] {
  const separator = defaults.argv.indexOf('--');
  const vector = separator < 0 ? [] : defaults.argv.slice(separator + 1);
  const beforeSeparator = operands.slice(0, Math.max(0, operands.length - vector.length));
  if (beforeSeparator.length > 0) usageError(command, `unexpected argument '${beforeSeparator[0]}': the command goes after --, e.g. -- npm test`);
  return vector;
}

export const sandboxCommand: CliCommand = {
  register(parent, accept, defaults) {
    const sandbox = parent
      .command('sandbox')
      .description('run a command in a sandbox over a repository, as the workers do: sandbox run')
      .addHelpText('after', '\nExample:\n  steward sandbox run --repo data/repos/checkout-service --ref main -- npm test');
    sandbox
      .command('run')
      .description('run a command in a sandbox over a repository at a revision')
      .usage('--repo <path or git URL> --ref <revision> [--setup "<command>"] [--json] [--timeout <seconds>] -- <command>')
      .option('--repo <path or git URL>', 'the repository: a local path or anything git clone takes')
      .option('--ref <revision>', 'the revision to check out: a branch, tag or commit')
      .option('--setup <command>', 'run once when the workspace is built, e.g. "npm ci"')
      .option('--json', 'one JSON object: exit code, output tail, timings, snapshot use')
      .option('--timeout <seconds>', 'kill the command after this long (default: 600)')
      .argument('[command...]', 'the command and its arguments, after --')
      .addHelpText('after', RUN_HELP)
      .action((operands: string[], options: Record<string, unknown>, command: Command) => {
        refuseGlobalDecisionOptions(command, 'sandbox run');
        const vector = commandVector(command, operands, defaults);
        const request = validated(command, SandboxRunArgs, { ...options, command: vector.length > 0 ? commandLineOf(vector) : '' });
        accept({ request, run: (context) => runSandboxCommand(request, context) });
      });
  },
};

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

/** Exits with the command's own exit code; 1 when the sandbox could not run it, 2 when it cannot be built here. */
async function runSandboxCommand(args: SandboxRunArgs, context: CliContext): Promise<number> {
  const { io } = context;
  let sandbox: SandboxPort;
  try {
    sandbox = context.openSandbox((line) => io.err(`steward sandbox: ${line}`));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(`steward sandbox: ${error.message}`);
    return EXIT.usage;
  }
  try {
    const report = await runInSandbox(sandbox, args, args.json ? undefined : io.write);
    if (args.json) io.out(JSON.stringify(report));
    else if (report.timedOut) io.err(`steward sandbox: killed after ${args.timeout} s`);
    // A command killed by a signal exits as shells report it: 128 + the signal's number.
    return report.exitCode ?? 128 + (report.signal ? signalNumber(report.signal) : 9);
  } catch (error) {
    io.err(`steward sandbox: ${(error as Error).message}`);
    return EXIT.failed;
  }
}

function signalNumber(signal: string): number {
  const numbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15, SIGXCPU: 24, SIGXFSZ: 25 };
  return numbers[signal] ?? 9;
}
