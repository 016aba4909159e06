/**
 * The durable inbox of webhook deliveries: what the API accepted while Temporal did not answer,
 * kept until a relay hands it to its workflow. Nothing accepted is lost: a delivery is answered 202
 * only once Temporal or the inbox holds it. One Temporal will never take (it refuses what the
 * delivery holds) is set aside as a dead letter, kept with its error until someone puts it back
 * (`steward inbox retry`), so that it does not hold its workflow's later deliveries back forever.
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
  /**
   * Of those, the ones that failed for no known reason: what the dead-letter limit counts. A
   * Temporal outage's failures are not among them, so a delivery that waited out a long outage is
   * not set aside by the first odd error after it.
   */
  unclassifiedFailures: number;
  lastError: string | null;
}

export type RelayAttempt =
  /** Temporal holds it: `outcome` says how (started, joined, closed). */
  | { relayed: true; outcome: string }
  /**
   * Not relayed. `deadLetter: false`: the delivery stays pending with this error, ahead of its
   * workflow's later ones, and is tried again. `deadLetter: true`: it is set aside with this error,
   * and its workflow's next delivery is relayed in the next batch.
   */
  | { relayed: false; error: string; deadLetter: boolean; /** Failed for no known reason: counted in unclassifiedFailures. */ unclassified?: boolean };

export interface RelayBatchResult {
  claimed: number;
  relayed: number;
  /** Kept pending, to be tried again. */
  failed: number;
  /** Set aside as dead letters in this batch. */
  deadLettered: number;
}

export interface InboxDepth {
  /** Deliveries accepted and not yet relayed, dead letters apart. */
  pending: number;
  oldestReceivedAt: Date | null;
  /** Of the pending ones, those a relay already tried and failed. */
  failing: number;
  /** Dead letters: set aside, not relayed, waiting for `retryDeadLetter`. */
  dead: number;
}

/** A delivery still kept, pending or dead, as `steward inbox list` shows it. */
export interface KeptDelivery extends PendingDelivery {
  /** When it was set aside; null while it is pending. */
  deadAt: Date | null;
}

/** What putting a dead letter back found: `requeued`, or why not (no such delivery, or it is not dead). */
export type RetryDeadLetterResult = 'requeued' | 'unknown' | 'pending' | 'relayed';

export interface InboxPort {
  /** Keeps a delivery; `stored: false` when one of that id is already kept (a retried put). */
  put(delivery: InboxDelivery): Promise<{ stored: boolean }>;
  /**
   * Claims up to `limit` pending deliveries, in the order received, at most one per workflow id (the
   * oldest pending one, so a workflow's deliveries go in order), skipping those another relay holds;
   * hands each to `relay` and records what came of it. A delivery claimed here is claimed by no other
   * relay until this call returns. Dead letters are neither claimed nor hold their workflow's later
   * deliveries back.
   */
  relayBatch(limit: number, relay: (delivery: PendingDelivery) => Promise<RelayAttempt>): Promise<RelayBatchResult>;
  depth(): Promise<InboxDepth>;
  /** Up to `limit` kept deliveries in the order received: the pending ones, or with `dead` the dead letters. */
  list(state: 'pending' | 'dead', limit: number): Promise<KeptDelivery[]>;
  /**
   * Puts a dead letter back in the queue, its attempts (and unclassified failures) counted from zero again (its last error kept
   * until the next attempt). It keeps its place in the order received: it goes before its
   * workflow's deliveries still pending, after those relayed while it was set aside.
   */
  retryDeadLetter(deliveryId: string): Promise<RetryDeadLetterResult>;
}
