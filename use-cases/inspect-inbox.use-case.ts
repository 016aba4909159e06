import type { InboxDepth, InboxPort, KeptDelivery, RetryDeadLetterResult } from '../ports/inbox.port';

/**
 * The durable inbox for a person (`steward inbox list`, `steward inbox retry`): how deep it is,
 * what waits in it or was set aside as a dead letter and why, and putting a dead letter back once
 * what Temporal refused in it is understood (a limit raised, a fix deployed).
 */

/** The inbox's reads and the one write a person may make; no put, no relay. */
export type InboxInspector = Pick<InboxPort, 'depth' | 'list' | 'retryDeadLetter'>;

export interface InboxView {
  depth: InboxDepth;
  state: 'pending' | 'dead';
  /** In the order received, up to the limit asked for. */
  deliveries: KeptDelivery[];
}

export async function showInbox(inbox: Pick<InboxInspector, 'depth' | 'list'>, input: { state: 'pending' | 'dead'; limit: number }): Promise<InboxView> {
  const [depth, deliveries] = await Promise.all([inbox.depth(), inbox.list(input.state, input.limit)]);
  return { depth, state: input.state, deliveries };
}

/** Puts the dead letter back; what came of it says whether it was one (see RetryDeadLetterResult). */
export function retryDeadLetter(inbox: Pick<InboxInspector, 'retryDeadLetter'>, deliveryId: string): Promise<RetryDeadLetterResult> {
  return inbox.retryDeadLetter(deliveryId);
}

/** The view as `inbox list` prints it: the depth first, then one line per delivery (a dead letter's error under it). */
export function formatInbox(view: InboxView): string[] {
  const { depth } = view;
  const lines = [
    `inbox: ${depth.pending} pending (${depth.failing} failing), oldest received ${depth.oldestReceivedAt?.toISOString() ?? 'none'}; ${depth.dead} dead letter${depth.dead === 1 ? '' : 's'}`,
  ];
  if (view.deliveries.length === 0) {
    lines.push(view.state === 'dead' ? 'no dead letters' : 'no pending deliveries');
    return lines;
  }
  for (const d of view.deliveries) {
    const when = view.state === 'dead' ? `dead since ${d.deadAt?.toISOString() ?? '?'}` : `received ${d.receivedAt.toISOString()}`;
    lines.push(`${d.deliveryId}  ${d.kind} from ${d.source} for ${d.workflowId}  ${when}  ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`);
    if (d.lastError !== null) lines.push(`  ${d.lastError}`);
  }
  const shown = view.state === 'dead' ? depth.dead : depth.pending;
  if (shown > view.deliveries.length) lines.push(`… ${shown - view.deliveries.length} more (--limit)`);
  return lines;
}
