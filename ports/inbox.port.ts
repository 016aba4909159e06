/**
 * The durable inbox of webhook deliveries: what the API accepted while Temporal did not answer,
 * kept until a relay hands it to its workflow. Nothing accepted is lost: a delivery is answered 202
 * only once Temporal or the inbox holds it.
 */

export type InboxKind = 'alert' | 'deploy';

export interface InboxDelivery {
  /** Unique: a second put of one id keeps the first. Also the request id of the delivery's signal-with-start. */
  deliveryId: string;
  kind: InboxKind;
  /** Where it came from: `datadog`, `deploy-webhook`, `github:deployment_status`… */
  source: string;
  /** The workflow it goes to; deliveries of one workflow are relayed in the order received. */
  workflowId: string;
  /** The normalized alert or deploy event, as the relay hands it to signal-with-start. */
  payload: unknown;
  receivedAt: Date;
}

export interface PendingDelivery extends InboxDelivery {
  /** Position in the order received. */
  seq: number;
  /** Relays tried before this one. */
  attempts: number;
  lastError: string | null;
}

export type RelayAttempt =
  /** Temporal holds it: `outcome` says how (started, joined, closed). */
  | { relayed: true; outcome: string }
  /** Not relayed; the delivery stays pending with this error, and is tried again. */
  | { relayed: false; error: string };

export interface InboxDepth {
  /** Deliveries accepted and not yet relayed. */
  pending: number;
  oldestReceivedAt: Date | null;
  /** Of the pending ones, those a relay already tried and failed. */
  failing: number;
}

export interface InboxPort {
  /** Keeps a delivery; `stored: false` when one of that id is already kept (a retried put). */
  put(delivery: InboxDelivery): Promise<{ stored: boolean }>;
  /**
   * Claims up to `limit` pending deliveries, in the order received, at most one per workflow id (the
   * oldest pending one, so a workflow's deliveries go in order), skipping those another relay holds;
   * hands each to `relay` and records what came of it. A delivery claimed here is claimed by no other
   * relay until this call returns.
   */
  relayBatch(limit: number, relay: (delivery: PendingDelivery) => Promise<RelayAttempt>): Promise<{ claimed: number; relayed: number; failed: number }>;
  depth(): Promise<InboxDepth>;
}
