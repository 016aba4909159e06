import { Context } from '@temporalio/activity';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import type { ExecEvidence } from '../../domain/incident';
import type { ServiceConfig, ServicesConfig } from '../../domain/service-config';
import type { ExecResult, SandboxPort } from '../../sandbox/sandbox.port';
import type { RepositoryRef } from '../../ports/code-host.port';

export function serviceConfigFor(services: ServicesConfig, service: string | null): ServiceConfig & { name: string } {
  if (!service || !services[service]) {
    throw stewardFailure(
      ERROR_TYPES.serviceNotConfigured,
      `No repository is configured for service "${service ?? '(the alert has no service tag)'}"; configured: ${Object.keys(services).join(', ') || 'none'}`,
    );
  }
  return { name: service, ...services[service]! };
}

/** Where the code host keeps the service: GitHub's owner/name when configured, else the repository itself. */
export function repositoryRefFor(service: ServiceConfig & { name: string }): RepositoryRef {
  return { service: service.name, location: service.githubRepository ?? service.repository, defaultBranch: service.defaultBranch };
}

/** One sandbox per incident, named after it, so a retried or resumed activity opens the same one. */
export function sandboxIdFor(incidentId: string): string {
  return incidentId.replace(/[^A-Za-z0-9._-]/g, '_');
}

export function toEvidence(result: ExecResult): ExecEvidence {
  return {
    command: result.command,
    exitCode: result.exitCode,
    timedOut: result.timedOut,
    durationMs: result.durationMs,
    outputTail: result.outputTail,
  };
}

/** Well inside any heartbeat timeout the workflow sets, so a live activity is never taken for dead. */
const HEARTBEAT_INTERVAL_MS = 5_000;

/**
 * Heartbeats with the given progress for as long as the work runs. Opening a sandbox can take
 * minutes (a clone and a dependency install, or a snapshot build); without this, a long open
 * would outlast the heartbeat timeout, be retried, and outlast it again.
 */
export async function heartbeatWhile<T>(progress: unknown, work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  context.heartbeat(progress);
  const ticker = setInterval(() => context.heartbeat(progress), HEARTBEAT_INTERVAL_MS);
  try {
    return await work();
  } finally {
    clearInterval(ticker);
  }
}

/**
 * Runs a sandbox command from inside an activity: heartbeats with the given progress while it runs
 * (so a dead worker is noticed within the heartbeat timeout), and kills the command when the
 * activity is cancelled.
 */
export async function runInActivity(sandbox: SandboxPort, sandboxId: string, command: string, timeoutMs: number, progress: unknown): Promise<ExecResult> {
  const context = Context.current();
  return heartbeatWhile(progress, async () => {
    const result = await sandbox.exec(sandboxId, command, {
      timeoutMs,
      signal: context.cancellationSignal,
      onOutput: () => context.heartbeat(progress),
    });
    // The sandbox reports a killed command as a result; read as one, it would pass for a failing test.
    context.cancellationSignal.throwIfAborted();
    return result;
  });
}
