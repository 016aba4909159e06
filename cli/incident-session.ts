import { isGrpcDeadlineError, WorkflowNotFoundError, type WorkflowClient } from '@temporalio/client';
import { ExternalStorageNotConfiguredError } from '@temporalio/common';
import { LOCAL_STACK_DATABASE_URL } from '../config/cli.config';
import { IncidentNotRunningError } from '../use-cases/decide-on-fix.use-case';
import { EXIT } from './command';
import type { CliContext } from './context';

/**
 * The part approve, reject and status share: reach Temporal, address one incident's workflow, and
 * turn what can go wrong into a message that says what to do about it.
 */

/** How long a signal or a query may take; a state query waits for a worker to answer it. */
export const TEMPORAL_CALL_TIMEOUT_MS = 10_000;

export interface IncidentOperation {
  /** The command's name, for messages: approve, reject, status. */
  command: string;
  incidentId: string;
  /** A query needs a running worker; a signal only needs the workflow to be open. */
  kind: 'signal' | 'query';
}

/** Connects, runs `operate`, and always closes; resolves to the exit code. */
export async function withIncident(context: CliContext, operation: IncidentOperation, operate: (client: WorkflowClient) => Promise<void>): Promise<number> {
  const { address, namespace } = context.config().temporal;
  let session: Awaited<ReturnType<CliContext['connectTemporal']>>;
  try {
    session = await context.connectTemporal();
  } catch (error) {
    context.io.err(`steward: cannot reach Temporal at ${address} (TEMPORAL_ADDRESS): ${(error as Error).message}`);
    return EXIT.failed;
  }
  try {
    await operate(session.client);
    return EXIT.done;
  } catch (error) {
    context.io.err(`steward: ${describeFailure(error, operation, namespace)}`);
    return EXIT.failed;
  } finally {
    await session.close();
  }
}

function describeFailure(error: unknown, operation: IncidentOperation, namespace: string): string {
  if (error instanceof WorkflowNotFoundError || error instanceof IncidentNotRunningError) {
    const closedHint = operation.kind === 'query' ? '' : ' or is already closed';
    return `incident ${operation.incidentId} was not found in namespace ${namespace}${closedHint}`;
  }
  if (error instanceof ExternalStorageNotConfiguredError) {
    return `the answer holds payloads kept in Steward's database; set DATABASE_URL to read them (for the local stack: ${LOCAL_STACK_DATABASE_URL})`;
  }
  if (isGrpcDeadlineError(error) && operation.kind === 'query') {
    return `no answer to the state query within ${TEMPORAL_CALL_TIMEOUT_MS / 1000} s: is a Steward worker running?`;
  }
  return `${operation.command} failed: ${(error as Error).message}`;
}
