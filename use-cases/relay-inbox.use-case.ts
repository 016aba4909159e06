import { ApplicationFailure, isGrpcServiceError, type WorkflowClient } from '@temporalio/client';
import { ZodError } from 'zod';
import { NON_RETRYABLE_ERRORS, type DeployWatchPolicy, type IncidentPolicy } from '../contracts';
import { NormalizedAlert } from '../domain/alert';
import { DeployEvent } from '../domain/deploy';
import type { InboxPort, PendingDelivery, RelayAttempt, RelayBatchResult } from '../ports/inbox.port';
import type { DeliveryIntake } from './accept-delivery.use-case';
import { deliverAlert } from './deliver-alert.use-case';
import { deliverDeploy } from './deliver-deploy.use-case';
import { isTemporalUnavailable } from './temporal-unavailable';

/**
 * The relay: hands what the inbox kept to Temporal once it answers again, in the order received,
 * once per delivery id. Each delivery goes through the same signal-with-start as a direct one (same
 * workflow id, id policies, options), with its delivery id as the request id: a delivery relayed
 * twice (the relay died after Temporal took it, before the inbox recorded it) is de-duplicated by
 * Temporal. It runs in the API process, beside the edge that fills the inbox: every API replica
 * runs one, and the inbox's row locks (FOR UPDATE SKIP LOCKED) share the work among them.
 *
 * A failure is classified (classifyRelayFailure) before it is recorded. One about the delivery
 * itself (Temporal refuses what it holds, its payload is no alert) is permanent: the delivery is set
 * aside as a dead letter at once, and its workflow's next delivery goes in the next batch. One about
 * Temporal or this relay (unreachable, overloaded, not allowed, deploy intake not configured) is
 * transient: the delivery keeps its place and is tried again with backoff, however long it lasts, and
 * is never set aside. Anything else looks permanent but may not be: it is set aside after
 * `deadAfterAttempts` attempts.
 */

export interface RelaySettings {
  taskQueue: string;
  incidentPolicy: IncidentPolicy;
  /** Null when deploy intake is not configured; a kept deploy then waits, with the reason as its error. */
  deployPolicy: DeployWatchPolicy | null;
  timeoutMs: number;
  batchSize: number;
  /** Attempts after which a delivery failing for no known reason is set aside (config: STEWARD_INBOX_DEAD_AFTER_ATTEMPTS). */
  deadAfterAttempts: number;
}

export type RelayFailureClass = 'transient' | 'permanent' | 'unclassified';

// gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html) Temporal answers with.
const GRPC = { cancelled: 1, unknown: 2, invalidArgument: 3, resourceExhausted: 8, aborted: 10, internal: 13, unauthenticated: 16, permissionDenied: 7 } as const;
/** About Temporal or this relay's standing with it, not about the delivery: every delivery would fail alike until it passes. */
const TRANSIENT_GRPC_CODES: readonly number[] = [GRPC.cancelled, GRPC.unknown, GRPC.resourceExhausted, GRPC.aborted, GRPC.internal, GRPC.unauthenticated, GRPC.permissionDenied];

/** Whether retrying a failed relay can help: see the module's comment for what each class does. */
export function classifyRelayFailure(error: unknown): RelayFailureClass {
  if (isTemporalUnavailable(error)) return 'transient';
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof ApplicationFailure && cause.nonRetryable) return 'permanent';
    if (cause instanceof ZodError) return 'permanent';
    // Steward's own errors carry a stable `type`; those it never retries are no more worth relaying again.
    const type = (cause as { type?: unknown }).type;
    if (typeof type === 'string' && (NON_RETRYABLE_ERRORS as readonly string[]).includes(type)) return 'permanent';
    if (isGrpcServiceError(cause)) {
      // INVALID_ARGUMENT: Temporal refuses the request itself (a payload over its size limit, an id or search attribute it will not take).
      if (cause.code === GRPC.invalidArgument) return 'permanent';
      if (TRANSIENT_GRPC_CODES.includes(cause.code)) return 'transient';
    }
  }
  return 'unclassified';
}

/**
 * Whether a failed relay sets its delivery aside: a permanent failure at once, an unclassified one
 * once it is the `deadAfterAttempts`-th of its kind, a transient one never. Only failures for no
 * known reason count toward the limit: an outage's transient ones say nothing of the delivery.
 */
export function setsAside(failure: RelayFailureClass, unclassifiedBefore: number, deadAfterAttempts: number): boolean {
  return failure === 'permanent' || (failure === 'unclassified' && unclassifiedBefore + 1 >= deadAfterAttempts);
}

/** One batch: claims pending deliveries (the oldest of each workflow), relays them, records each outcome. */
export function relayInboxOnce(client: WorkflowClient, inbox: InboxPort, settings: RelaySettings): Promise<RelayBatchResult> {
  return inbox.relayBatch(settings.batchSize, (delivery) => relayOne(client, delivery, settings));
}

async function relayOne(client: WorkflowClient, delivery: PendingDelivery, settings: RelaySettings): Promise<RelayAttempt> {
  try {
    return await handOver(client, delivery, settings);
  } catch (error) {
    const failure = classifyRelayFailure(error);
    const attempts = delivery.attempts + 1;
    const unclassified = failure === 'unclassified';
    const deadLetter = setsAside(failure, delivery.unclassifiedFailures, settings.deadAfterAttempts);
    return { relayed: false, error: `${failure} failure after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${messagesOf(error)}`, deadLetter, unclassified };
  }
}

/** The SDK's message ("Failed to signalWithStart Workflow") says nothing of why: the causes', with their gRPC codes, do. */
function messagesOf(error: unknown): string {
  const messages: string[] = [];
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    messages.push(isGrpcServiceError(cause) ? `${cause.message} (gRPC ${cause.code})` : cause.message);
  }
  return messages.length > 0 ? messages.join(': ') : String(error);
}

async function handOver(client: WorkflowClient, delivery: PendingDelivery, settings: RelaySettings): Promise<RelayAttempt> {
  const options = { timeoutMs: settings.timeoutMs, deliveryId: delivery.deliveryId };
  if (delivery.kind === 'alert') {
    // What the inbox gives back is read as any boundary is: a row that is no alert is set aside, named, rather than being relayed half-read.
    const alert = NormalizedAlert.safeParse(delivery.payload);
    if (!alert.success) return { relayed: false, error: `permanent failure: kept payload is not an alert: ${alert.error.message}`, deadLetter: true };
    const outcome = await deliverAlert(client, { alert: alert.data, policy: settings.incidentPolicy, taskQueue: settings.taskQueue }, options);
    return { relayed: true, outcome: outcome.closed ? 'closed' : outcome.joined ? 'joined' : 'started' };
  }
  // This relay's configuration, not the delivery: it waits for a relay that has deploy intake.
  if (settings.deployPolicy === null) return { relayed: false, error: 'deploy intake is not configured on this relay', deadLetter: false };
  const deploy = DeployEvent.safeParse(delivery.payload);
  if (!deploy.success) return { relayed: false, error: `permanent failure: kept payload is not a deploy: ${deploy.error.message}`, deadLetter: true };
  const outcome = await deliverDeploy(client, { deploy: deploy.data, policy: settings.deployPolicy, taskQueue: settings.taskQueue }, options);
  return { relayed: true, outcome: outcome.closed ? 'closed' : outcome.joined ? 'joined' : 'started' };
}

export interface InboxRelayOptions extends RelaySettings {
  /** Between looks at an empty inbox. */
  idleMs: number;
  /** Longest wait after failed attempts; the wait doubles from idleMs up to it while they keep failing. */
  maxBackoffMs: number;
  log?: (line: string) => void;
}

export interface RunningRelay {
  /** Looks at the inbox now instead of at the next tick (a delivery was just kept). */
  wake(): void;
  /** Stops after the batch in flight, if any. */
  stop(): Promise<void>;
}

/** The relay loop: batch after batch while there is work, a look every idleMs otherwise, backing off while Temporal stays out. */
export function startInboxRelay(client: WorkflowClient, inbox: InboxPort, intake: DeliveryIntake | null, options: InboxRelayOptions): RunningRelay {
  let stopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | null = null;
  let wakeUp: (() => void) | null = null;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      wakeUp = resolve;
      timer = setTimeout(resolve, ms);
    }).finally(() => {
      if (timer) clearTimeout(timer);
      timer = null;
      wakeUp = null;
    });

  const loop = (async () => {
    while (!stopped) {
      const mark = intake?.queuedSince() ?? 0;
      let wait = options.idleMs;
      try {
        const batch = await relayInboxOnce(client, inbox, options);
        if (batch.relayed > 0) options.log?.(`inbox relay: relayed ${batch.relayed} of ${batch.claimed} kept deliveries`);
        if (batch.deadLettered > 0) options.log?.(`inbox relay: set aside ${batch.deadLettered} deliveries Temporal will not take as dead letters (steward inbox list --dead)`);
        if (batch.failed > 0) {
          failures += 1;
          wait = Math.min(options.maxBackoffMs, options.idleMs * 2 ** Math.min(failures, 20));
        } else {
          failures = 0;
          if (batch.claimed > 0) continue;
          // Nothing pending: the edge may hand deliveries to Temporal directly again.
          intake?.drained(mark);
        }
      } catch (error) {
        // Postgres is out: the kept deliveries are safe there, and are relayed once it is back.
        failures += 1;
        wait = Math.min(options.maxBackoffMs, options.idleMs * 2 ** Math.min(failures, 20));
        options.log?.(`inbox relay: could not read the inbox (${(error as Error).message}); next look in ${wait} ms`);
      }
      if (!stopped) await sleep(wait);
    }
  })();

  return {
    wake() {
      failures = 0;
      wakeUp?.();
    },
    async stop() {
      stopped = true;
      wakeUp?.();
      await loop;
    },
  };
}
