import { parseArgs } from 'node:util';
import { Connection, WorkflowClient, WorkflowNotFoundError, isGrpcDeadlineError } from '@temporalio/client';
import { z } from 'zod';
import { approveSignal, incidentStateQuery, rejectSignal, type DecisionInput } from '../contracts';

/**
 * `steward`: decide on or inspect an incident from a terminal, by signalling or querying its
 * workflow. The same decisions can be made in Slack; the workflow treats both alike.
 */

export const USAGE = `Usage:
  steward approve <incidentId> [--by NAME] [--reason TEXT]
  steward reject <incidentId> --reason TEXT [--by NAME]
  steward status <incidentId>

--by defaults to cli:$USER.
Environment: TEMPORAL_ADDRESS (default 127.0.0.1:7233), TEMPORAL_NAMESPACE (default "default").`;

export type CliCommand =
  | { command: 'approve' | 'reject'; incidentId: string; decision: DecisionInput }
  | { command: 'status'; incidentId: string }
  | { command: 'help' };

export type ParsedCli = { ok: true; value: CliCommand } | { ok: false; error: string };

const CommandName = z.enum(['approve', 'reject', 'status'], { error: 'the command must be approve, reject or status' });
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
});

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
}

const defaultIo: CliIo = { out: (text) => console.log(text), err: (text) => console.error(text), env: process.env };
const TEMPORAL_CALL_TIMEOUT_MS = 10_000;

async function execute(client: WorkflowClient, command: Exclude<CliCommand, { command: 'help' }>, io: CliIo): Promise<void> {
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
  const env = CliEnv.safeParse(io.env);
  if (!env.success) {
    io.err(`steward: invalid environment: ${describeIssues(env.error)}`);
    return 2;
  }
  const { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace } = env.data;

  let connection: Connection;
  try {
    connection = await Connection.connect({ address, connectTimeout: 5_000 });
  } catch (error) {
    io.err(`steward: cannot reach Temporal at ${address} (TEMPORAL_ADDRESS): ${(error as Error).message}`);
    return 1;
  }
  try {
    await execute(new WorkflowClient({ connection, namespace }), command, io);
    return 0;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      const closedHint = command.command === 'status' ? '' : ' or is already closed';
      io.err(`steward: incident ${command.incidentId} was not found in namespace ${namespace}${closedHint}`);
    } else if (isGrpcDeadlineError(error) && command.command === 'status') {
      io.err(`steward: no answer to the state query within ${TEMPORAL_CALL_TIMEOUT_MS / 1000} s: is a Steward worker running?`);
    } else {
      io.err(`steward: ${command.command} failed: ${(error as Error).message}`);
    }
    return 1;
  } finally {
    await connection.close();
  }
}
