import type { WorkflowClient } from '@temporalio/client';
import type { DeployWatchPolicy, IncidentPolicy } from '../contracts';
import { NormalizedAlert } from '../domain/alert';
import { DeployEvent } from '../domain/deploy';
import type { InboxPort, PendingDelivery, RelayAttempt } from '../ports/inbox.port';
import type { DeliveryIntake } from './accept-delivery.use-case';
import { deliverAlert } from './deliver-alert.use-case';
import { deliverDeploy } from './deliver-deploy.use-case';

/**
 * The relay: hands what the inbox kept to Temporal once it answers again, in the order received,
 * once per delivery id. Each delivery goes through the same signal-with-start as a direct one (same
 * workflow id, id policies, options), with its delivery id as the request id: a delivery relayed
 * twice (the relay died after Temporal took it, before the inbox recorded it) is de-duplicated by
 * Temporal. It runs in the API process, beside the edge that fills the inbox: every API replica
 * runs one, and the inbox's row locks (FOR UPDATE SKIP LOCKED) share the work among them.
 */

export interface RelaySettings {
  taskQueue: string;
  incidentPolicy: IncidentPolicy;
  /** Null when deploy intake is not configured; a kept deploy then waits, with the reason as its error. */
  deployPolicy: DeployWatchPolicy | null;
  timeoutMs: number;
  batchSize: number;
}

/** One batch: claims pending deliveries (the oldest of each workflow), relays them, records each outcome. */
export function relayInboxOnce(client: WorkflowClient, inbox: InboxPort, settings: RelaySettings): Promise<{ claimed: number; relayed: number; failed: number }> {
  return inbox.relayBatch(settings.batchSize, (delivery) => relayOne(client, delivery, settings));
}

async function relayOne(client: WorkflowClient, delivery: PendingDelivery, settings: RelaySettings): Promise<RelayAttempt> {
  const options = { timeoutMs: settings.timeoutMs, deliveryId: delivery.deliveryId };
  if (delivery.kind === 'alert') {
    // What the inbox gives back is read as any boundary is: a row that is no alert stays, named, rather than being relayed half-read.
    const alert = NormalizedAlert.safeParse(delivery.payload);
    if (!alert.success) return { relayed: false, error: `kept payload is not an alert: ${alert.error.message}` };
    const outcome = await deliverAlert(client, { alert: alert.data, policy: settings.incidentPolicy, taskQueue: settings.taskQueue }, options);
    return { relayed: true, outcome: outcome.closed ? 'closed' : outcome.joined ? 'joined' : 'started' };
  }
  if (settings.deployPolicy === null) return { relayed: false, error: 'deploy intake is not configured on this relay' };
  const deploy = DeployEvent.safeParse(delivery.payload);
  if (!deploy.success) return { relayed: false, error: `kept payload is not a deploy: ${deploy.error.message}` };
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
