import { randomUUID } from 'node:crypto';
import type { WorkflowClient } from '@temporalio/client';
import { deployWatchWorkflowId, incidentWorkflowId } from '../contracts';
import type { InboxDelivery, InboxDepth, InboxPort, InboxKind } from '../ports/inbox.port';
import { deliverAlert, type AlertDeliveryOutcome, type DeliverAlertInput } from './deliver-alert.use-case';
import { deliverDeploy, type DeliverDeployInput, type DeployDeliveryOutcome } from './deliver-deploy.use-case';
import { isTemporalUnavailable } from './temporal-unavailable';

/**
 * What the webhooks do with a delivery: hand it to Temporal, or, when Temporal does not answer, keep
 * it in the durable inbox (ports/inbox.port.ts) for the relay (relay-inbox.use-case.ts), and answer
 * 202 either way. Only when the inbox cannot take it either is the delivery refused, so that the
 * sender retries it (DeliveryNotAcceptedError, answered 503 with Retry-After).
 *
 * Temporal first, the inbox on failure, rather than always the inbox then a relay: a delivery that
 * Temporal takes at once costs one call, as before, and its answer still says whether it started
 * or joined the run (the webhook's latency stays that of a bare signal-with-start, see npm run bench);
 * Postgres is written only while Temporal is out. Order is kept by what follows an outage: once a
 * delivery went to the inbox, every later one goes there too, behind it, until the relay has emptied
 * it (`queuedSince`), so that a workflow never gets a newer delivery before an older one held back.
 * Across several API processes this holds per process; the relay's per-workflow order holds for all.
 */

export type Queued = { queued: true; deliveryId: string };
export type AlertAcceptance = AlertDeliveryOutcome | ({ incidentId: string; closed: false } & Queued);
export type DeployAcceptance = DeployDeliveryOutcome | ({ watchId: string; closed: false } & Queued);

/** Neither Temporal nor the inbox took the delivery. */
export class DeliveryNotAcceptedError extends Error {
  constructor(temporalError: unknown, inboxError: unknown) {
    super(`Temporal is unavailable (${(temporalError as Error).message}) and the inbox could not keep the delivery (${(inboxError as Error).message})`, {
      cause: temporalError,
    });
    this.name = 'DeliveryNotAcceptedError';
  }
}

export interface DeliveryIntakeDeps {
  client: WorkflowClient;
  /** Null: no inbox, so a delivery Temporal does not take is refused (503), as before the inbox. */
  inbox: InboxPort | null;
  log?: (line: string) => void;
  now?: () => Date;
}

export class DeliveryIntake {
  /** Counts deliveries put in the inbox; the relay empties the backlog only if none came since it looked. */
  private queued = 0;
  private backlog = false;

  constructor(private readonly deps: DeliveryIntakeDeps) {}

  get hasInbox(): boolean {
    return this.deps.inbox !== null;
  }

  async acceptAlert(input: DeliverAlertInput, options: { timeoutMs: number }): Promise<AlertAcceptance> {
    const deliveryId = randomUUID();
    const workflowId = incidentWorkflowId(input.alert.monitorId, input.alert.alertCycleKey);
    return this.accept('alert', 'datadog', workflowId, deliveryId, input.alert, () => deliverAlert(this.deps.client, input, { ...options, deliveryId }), (queued) => ({
      incidentId: workflowId,
      closed: false,
      ...queued,
    }));
  }

  async acceptDeploy(input: DeliverDeployInput, options: { timeoutMs: number }): Promise<DeployAcceptance> {
    const deliveryId = randomUUID();
    const workflowId = deployWatchWorkflowId(input.deploy.service, input.deploy.revision);
    return this.accept('deploy', `deploy:${input.deploy.source}`, workflowId, deliveryId, input.deploy, () => deliverDeploy(this.deps.client, input, { ...options, deliveryId }), (queued) => ({
      watchId: workflowId,
      closed: false,
      ...queued,
    }));
  }

  /**
   * How many accepted deliveries wait in the inbox for Temporal, for /healthz and the metrics
   * (a gauge reads `pending`). Null without an inbox.
   */
  async inboxDepth(): Promise<InboxDepth | null> {
    return this.deps.inbox ? inboxDepth(this.deps.inbox) : null;
  }

  /** For the relay: a mark to hand back to `drained` once it found the inbox empty. */
  queuedSince(): number {
    return this.queued;
  }

  /** The relay found the inbox empty after `mark`: deliveries go straight to Temporal again, unless one was queued meanwhile. */
  drained(mark: number): void {
    if (mark === this.queued) this.backlog = false;
  }

  /** Whether deliveries currently go to the inbox first, behind those already there. */
  get queueing(): boolean {
    return this.backlog;
  }

  private async accept<Direct, Kept>(
    kind: InboxKind,
    source: string,
    workflowId: string,
    deliveryId: string,
    payload: unknown,
    deliver: () => Promise<Direct>,
    queuedOutcome: (queued: Queued) => Kept,
  ): Promise<Direct | Kept> {
    const inbox = this.deps.inbox;
    const delivery = (): InboxDelivery => ({ deliveryId, kind, source, workflowId, payload, receivedAt: this.deps.now?.() ?? new Date() });
    if (inbox && this.backlog) {
      try {
        await inbox.put(delivery());
        this.queued += 1;
        return queuedOutcome({ queued: true, deliveryId });
      } catch (error) {
        // Postgres is out too: Temporal may be back, and a delivery out of order beats one refused.
        this.deps.log?.(`inbox: could not keep delivery ${deliveryId} for ${workflowId} (${(error as Error).message}); handing it to Temporal directly`);
      }
    }
    try {
      return await deliver();
    } catch (error) {
      if (!inbox || !isTemporalUnavailable(error)) throw error;
      try {
        await inbox.put(delivery());
      } catch (inboxError) {
        throw new DeliveryNotAcceptedError(error, inboxError);
      }
      this.queued += 1;
      this.backlog = true;
      this.deps.log?.(`inbox: Temporal unavailable (${(error as Error).message}); kept delivery ${deliveryId} for ${workflowId}, to be relayed`);
      return queuedOutcome({ queued: true, deliveryId });
    }
  }
}

/** The inbox's depth: what the metrics' gauge and /healthz read. */
export function inboxDepth(inbox: InboxPort): Promise<InboxDepth> {
  return inbox.depth();
}
