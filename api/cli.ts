import { parseArgs } from 'node:util';
import { Connection, WorkflowClient, WorkflowNotFoundError, isGrpcDeadlineError } from '@temporalio/client';
import { ExternalStorageNotConfiguredError } from '@temporalio/common';
import { Pool } from 'pg';
import { z } from 'zod';
import { getLocalPullRequest, type LocalPullRequestRecord } from '../adapters/local-git-code-host.adapter';
import { ConfigError, loadConfig, required } from '../config/config';
import { approveSignal, incidentStateQuery, rejectSignal, type DecisionInput } from '../contracts';
import { LOCAL_PORTS } from '../infra/local-stack';
import { stewardDataConverter } from '../workers/temporal-data-converter';
import { runSandboxCli } from './sandbox-run.cli';

/**
 * `steward`: decide on or inspect an incident from a terminal, by signalling or querying its
 * workflow. The same decisions can be made in Slack; the workflow treats both alike.
 * `steward pr show` is the one exception: a convenience that reads the local code host's record.
 */

/** Where `npm start` and `npm run demo` run their embedded Postgres when DATABASE_URL is not set. */
const LOCAL_STACK_DATABASE_URL = `postgres://steward@127.0.0.1:${LOCAL_PORTS.postgres}/steward`;

export const USAGE = `Usage:
  steward approve <incidentId> [--by NAME] [--reason TEXT]
  steward reject <incidentId> --reason TEXT [--by NAME]
  steward status <incidentId>
  steward pr show <number>
  steward sandbox run --repo <path or git URL> --ref <revision> [--setup "<command>"] [--json] -- <command>

--by defaults to cli:$USER.
Environment: TEMPORAL_ADDRESS (default 127.0.0.1:7233), TEMPORAL_NAMESPACE (default "default").
pr show reads the local code host's pull request from Postgres, so it needs DATABASE_URL; for the
local stack of npm start / npm run demo that is DATABASE_URL=${LOCAL_STACK_DATABASE_URL}`;

export type CliCommand =
  | { command: 'approve' | 'reject'; incidentId: string; decision: DecisionInput }
  | { command: 'status'; incidentId: string }
  | { command: 'pr show'; pullRequestNumber: number }
  | { command: 'help' };

export type ParsedCli = { ok: true; value: CliCommand } | { ok: false; error: string };

const CommandName = z.enum(['approve', 'reject', 'status', 'pr'], { error: 'the command must be approve, reject, status or pr' });
const IncidentId = z
  .string({ error: 'an incident id is required (the workflow id, e.g. incident-123-...)' })
  .regex(/^\S+$/, 'the incident id must not contain spaces');
const Actor = z.string().trim().min(1, '--by must not be empty');
const Reason = z.string().trim().min(1, '--reason must not be empty');
const NoExtraArguments = z.array(z.string()).max(0, 'too many arguments');

const ArgsByCommand = {
  approve: z.object({ incidentId: IncidentId, extra: NoExtraArguments, by: Actor, reason: Reason.default('approved from the CLI') }),
  reject: z.object({
    incidentId: IncidentId,
    extra: NoExtraArguments,
    by: Actor,
    reason: z.string({ error: 'reject requires --reason TEXT' }).trim().min(1, '--reason must not be empty'),
  }),
  status: z.object({
    incidentId: IncidentId,
    extra: NoExtraArguments,
    by: z.undefined({ error: 'status takes no --by' }),
    reason: z.undefined({ error: 'status takes no --reason' }),
  }),
  prShow: z.object({
    subcommand: z.literal('show', { error: 'pr takes one subcommand: pr show <number>' }),
    pullRequestNumber: z
      .string({ error: 'a pull request number is required: pr show <number>' })
      .regex(/^[1-9]\d{0,9}$/, 'the pull request number must be a positive integer')
      .transform(Number)
      // local_pull_requests.number is a Postgres serial (int4).
      .refine((number) => number <= 2_147_483_647, 'the pull request number is too large'),
    extra: NoExtraArguments,
    by: z.undefined({ error: 'pr show takes no --by' }),
    reason: z.undefined({ error: 'pr show takes no --reason' }),
  }),
};

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => issue.message).join('; ');
}

const CLI_OPTIONS = { by: { type: 'string' }, reason: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

function splitArgv(argv: string[]) {
  return parseArgs({ args: argv, options: CLI_OPTIONS, allowPositionals: true, strict: true });
}

/** Pure: argv (without node and the script) to a command, or the reason it is not one. */
export function parseCliArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ParsedCli {
  let parsed: ReturnType<typeof splitArgv>;
  try {
    parsed = splitArgv(argv);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code?.startsWith('ERR_PARSE_ARGS_')) return { ok: false, error: (error as Error).message };
    throw error;
  }
  const { values, positionals } = parsed;
  if (values.help) return { ok: true, value: { command: 'help' } };

  const [commandName, incidentId, ...extra] = positionals;
  const command = CommandName.safeParse(commandName);
  if (!command.success) return { ok: false, error: describeIssues(command.error) };

  if (command.data === 'pr') {
    const [subcommand, pullRequestNumber, ...prExtra] = positionals.slice(1);
    const args = ArgsByCommand.prShow.safeParse({ subcommand, pullRequestNumber, extra: prExtra, by: values.by, reason: values.reason });
    return args.success
      ? { ok: true, value: { command: 'pr show', pullRequestNumber: args.data.pullRequestNumber } }
      : { ok: false, error: describeIssues(args.error) };
  }

  if (command.data === 'status') {
    const args = ArgsByCommand.status.safeParse({ incidentId, extra, by: values.by, reason: values.reason });
    return args.success ? { ok: true, value: { command: 'status', incidentId: args.data.incidentId } } : { ok: false, error: describeIssues(args.error) };
  }
  const args = ArgsByCommand[command.data].safeParse({ incidentId, extra, by: values.by ?? `cli:${env.USER ?? 'unknown'}`, reason: values.reason });
  if (!args.success) return { ok: false, error: describeIssues(args.error) };
  return { ok: true, value: { command: command.data, incidentId: args.data.incidentId, decision: { by: args.data.by, reason: args.data.reason } } };
}

const CliEnv = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /** Where offloaded payloads are read from: without it, a state too large for the history cannot be shown. */
  DATABASE_URL: z.string().min(1).optional(),
  STEWARD_PAYLOAD_OFFLOAD_BYTES: z.coerce.number().int().min(0).default(32 * 1024),
});

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Raw output as it comes, e.g. a sandboxed command's; standard output when absent. */
  write?: (chunk: string) => void;
}

const defaultIo: CliIo = { out: (text) => console.log(text), err: (text) => console.error(text), env: process.env };
const TEMPORAL_CALL_TIMEOUT_MS = 10_000;

type WorkflowCommand = Exclude<CliCommand, { command: 'help' | 'pr show' }>;

async function execute(client: WorkflowClient, command: WorkflowCommand, io: CliIo): Promise<void> {
  const handle = client.getHandle(command.incidentId);
  const deadline = Date.now() + TEMPORAL_CALL_TIMEOUT_MS;
  if (command.command === 'status') {
    const state = await client.withDeadline(deadline, () => handle.query(incidentStateQuery));
    io.out(JSON.stringify(state, null, 2));
    return;
  }
  await client.withDeadline(deadline, () => handle.signal(command.command === 'approve' ? approveSignal : rejectSignal, command.decision));
  io.out(`${command.command === 'approve' ? 'Approved' : 'Rejected'} ${command.incidentId} as ${command.decision.by}: ${command.decision.reason}`);
}

/** Runs one command and returns the process exit code: 0 done, 1 failed, 2 bad usage. */
export async function runCli(argv: string[], io: CliIo = defaultIo): Promise<number> {
  // Not a workflow operation: it runs here, in a sandbox of this machine.
  if (argv[0] === 'sandbox') {
    return runSandboxCli(argv.slice(1), { ...io, write: io.write ?? ((chunk) => process.stdout.write(chunk)) });
  }
  const parsed = parseCliArgs(argv, io.env);
  if (!parsed.ok) {
    io.err(`steward: ${parsed.error}\n\n${USAGE}`);
    return 2;
  }
  const command = parsed.value;
  if (command.command === 'help') {
    io.out(USAGE);
    return 0;
  }
  if (command.command === 'pr show') return showLocalPullRequest(command.pullRequestNumber, io);
  const env = CliEnv.safeParse(io.env);
  if (!env.success) {
    io.err(`steward: invalid environment: ${describeIssues(env.error)}`);
    return 2;
  }
  const { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, DATABASE_URL: databaseUrl } = env.data;
  const payloadPool = databaseUrl ? new Pool({ connectionString: databaseUrl, connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS }) : null;
  payloadPool?.on('error', () => undefined);

  let connection: Connection;
  try {
    connection = await Connection.connect({ address, connectTimeout: 5_000 });
  } catch (error) {
    io.err(`steward: cannot reach Temporal at ${address} (TEMPORAL_ADDRESS): ${(error as Error).message}`);
    return 1;
  }
  try {
    const dataConverter = payloadPool ? stewardDataConverter(payloadPool, env.data.STEWARD_PAYLOAD_OFFLOAD_BYTES) : undefined;
    await execute(new WorkflowClient({ connection, namespace, ...(dataConverter ? { dataConverter } : {}) }), command, io);
    return 0;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      const closedHint = command.command === 'status' ? '' : ' or is already closed';
      io.err(`steward: incident ${command.incidentId} was not found in namespace ${namespace}${closedHint}`);
    } else if (error instanceof ExternalStorageNotConfiguredError) {
      io.err(`steward: the answer holds payloads kept in Steward's database; set DATABASE_URL to read them (for the local stack: ${LOCAL_STACK_DATABASE_URL})`);
    } else if (isGrpcDeadlineError(error) && command.command === 'status') {
      io.err(`steward: no answer to the state query within ${TEMPORAL_CALL_TIMEOUT_MS / 1000} s: is a Steward worker running?`);
    } else {
      io.err(`steward: ${command.command} failed: ${(error as Error).message}`);
    }
    return 1;
  } finally {
    await connection.close();
    await payloadPool?.end();
  }
}

// ---------------------------------------------------------------------------------------------
// `steward pr show`: not a workflow operation. The local code host keeps its PRs in Postgres, and
// there is no web page to open them in, so the CLI reads the record directly.

const DATABASE_CONNECT_TIMEOUT_MS = 5_000;

/** The URL without its password, for messages. */
function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

function formatLocalPullRequest(record: LocalPullRequestRecord): string {
  const field = (label: string, value: string): string => `${`${label}:`.padEnd(11)}${value}`;
  return [
    `#${record.number} ${record.title}${record.draft ? ' (draft)' : ''}`,
    field('state', record.state),
    field('url', record.url),
    field('repository', record.repository),
    field('branch', record.branch),
    field('base', record.baseRevision),
    field('head', record.headRevision),
    field('incident', record.incidentId),
    field('created', record.createdAt.toISOString()),
    '',
    '--- body ---',
    record.body.trimEnd(),
    '',
    '--- diff ---',
    record.diff.trimEnd(),
  ].join('\n');
}

async function showLocalPullRequest(pullRequestNumber: number, io: CliIo): Promise<number> {
  let databaseUrl: string;
  try {
    databaseUrl = required(
      loadConfig(io.env).databaseUrl,
      'DATABASE_URL',
      `pr show reads the local code host's pull requests from Postgres; for the local stack of npm start / npm run demo, set DATABASE_URL=${LOCAL_STACK_DATABASE_URL}`,
    );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.err(`steward: ${error.message}`);
    return 2;
  }
  const pool = new Pool({ connectionString: databaseUrl, max: 1, connectionTimeoutMillis: DATABASE_CONNECT_TIMEOUT_MS });
  try {
    const record = await getLocalPullRequest(pool, pullRequestNumber);
    if (!record) {
      io.err(`steward: the local code host has no pull request #${pullRequestNumber} (DATABASE_URL ${redactedUrl(databaseUrl)})`);
      return 1;
    }
    io.out(formatLocalPullRequest(record));
    return 0;
  } catch (error) {
    io.err(`steward: cannot read pull request #${pullRequestNumber} from Postgres at ${redactedUrl(databaseUrl)} (DATABASE_URL): ${(error as Error).message}`);
    return 1;
  } finally {
    await pool.end();
  }
}
