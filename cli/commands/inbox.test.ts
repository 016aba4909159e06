import type { CliConfig } from '../../config/cli.config';
import type { InboxDelivery } from '../../ports/inbox.port';
import { InMemoryInbox } from '../../test/fakes/in-memory-inbox';
import { cliContextFor } from '../../test/support/cli-context';
import type { CliContext } from '../context';
import { runCli } from '../program';

/** The commands over the inbox fake (held to the Postgres inbox's contract), through the CLI's one door to it. */
function contextWith(inbox: InMemoryInbox, databaseUrl: string | null = 'postgres://steward@localhost/steward'): CliContext & { out: string[]; err: string[]; opened: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const opened: string[] = [];
  const unused = (): never => {
    throw new Error('not written to');
  };
  const context = cliContextFor({
    io: { out: (t) => out.push(t), err: (t) => err.push(t), write: unused },
    config: () => ({ databaseUrl }) as CliConfig,
    openInbox: (url) => {
      opened.push(url);
      return { inbox, close: async () => undefined };
    },
  });
  return Object.assign(context, { out, err, opened });
}

const delivery = (id: string, workflowId: string, second: number): InboxDelivery => ({
  deliveryId: id,
  kind: 'deploy',
  source: 'deploy:webhook',
  workflowId,
  payload: { id },
  receivedAt: new Date(Date.UTC(2026, 11, 6, 21, 0, second)),
});

/** Two workflows' deliveries; the relay set the first aside as Temporal refused it, and failed the other once. */
async function inboxWithADeadLetter(): Promise<InMemoryInbox> {
  const inbox = new InMemoryInbox();
  await inbox.put(delivery('d-refused', 'deploy-checkout-v1', 1));
  await inbox.put(delivery('d-next', 'deploy-checkout-v1', 2));
  await inbox.put(delivery('d-other', 'deploy-cart-v2', 3));
  await inbox.relayBatch(10, async (d) =>
    d.deliveryId === 'd-refused'
      ? { relayed: false, error: 'permanent failure after 1 attempt: Search attribute value exceeds size limit (gRPC 3)', deadLetter: true }
      : { relayed: false, error: 'transient failure after 1 attempt: unavailable (gRPC 14)', deadLetter: false },
  );
  return inbox;
}

describe('steward inbox list', () => {
  it('shows the depth and the pending deliveries, oldest first, with their last errors', async () => {
    const context = contextWith(await inboxWithADeadLetter());
    expect(await runCli(['inbox', 'list'], context)).toBe(0);
    expect(context.opened).toEqual(['postgres://steward@localhost/steward']);
    expect(context.out).toEqual([
      'inbox: 2 pending (1 failing), oldest received 2026-12-06T21:00:02.000Z; 1 dead letter',
      'd-next  deploy from deploy:webhook for deploy-checkout-v1  received 2026-12-06T21:00:02.000Z  0 attempts',
      'd-other  deploy from deploy:webhook for deploy-cart-v2  received 2026-12-06T21:00:03.000Z  1 attempt',
      '  transient failure after 1 attempt: unavailable (gRPC 14)',
    ]);
  });

  it('shows the dead letters with the errors they were set aside for, with --dead', async () => {
    const context = contextWith(await inboxWithADeadLetter());
    expect(await runCli(['inbox', 'list', '--dead'], context)).toBe(0);
    expect(context.out[0]).toBe('inbox: 2 pending (1 failing), oldest received 2026-12-06T21:00:02.000Z; 1 dead letter');
    expect(context.out[1]).toMatch(/^d-refused {2}deploy from deploy:webhook for deploy-checkout-v1 {2}dead since \d{4}-\d\d-\d\dT[\d:.]+Z {2}1 attempt$/);
    expect(context.out.slice(2)).toEqual(['  permanent failure after 1 attempt: Search attribute value exceeds size limit (gRPC 3)']);
  });

  it('prints one JSON object with --json, and says how many more there are past --limit', async () => {
    const json = contextWith(await inboxWithADeadLetter());
    expect(await runCli(['inbox', 'list', '--dead', '--json'], json)).toBe(0);
    const parsed = JSON.parse(json.out[0]!) as { depth: { dead: number }; deliveries: { deliveryId: string; lastError: string; payload?: unknown }[] };
    expect(parsed.depth).toMatchObject({ pending: 2, failing: 1, dead: 1 });
    expect(parsed.deliveries.map((d) => ({ id: d.deliveryId, error: d.lastError, payload: d.payload }))).toEqual([{ id: 'd-refused', error: expect.stringMatching(/^permanent failure/), payload: undefined }]);

    const limited = contextWith(await inboxWithADeadLetter());
    expect(await runCli(['inbox', 'list', '--limit', '1'], limited)).toBe(0);
    expect(limited.out.at(-1)).toBe('… 1 more (--limit)');
    expect(await runCli(['inbox', 'list', '--limit', '0'], contextWith(new InMemoryInbox()))).toBe(2);
  });

  it('fails naming DATABASE_URL when it is not set (a configuration error, exit 2), and the inbox failing when it cannot be read', async () => {
    const unset = contextWith(new InMemoryInbox(), null);
    expect(await runCli(['inbox', 'list'], unset)).toBe(2);
    expect(unset.opened).toEqual([]);
    expect(unset.err.join('\n')).toMatch(/DATABASE_URL/);
    const down = new InMemoryInbox();
    down.failWith = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    const failing = contextWith(down);
    expect(await runCli(['inbox', 'list'], failing)).toBe(1);
    expect(failing.err).toEqual(['steward: inbox list failed: connect ECONNREFUSED 127.0.0.1:5432']);
  });
});

describe('steward inbox retry', () => {
  it('puts a dead letter back in the queue, ahead of its workflow\'s pending delivery, so that the relay hands it over first', async () => {
    const inbox = await inboxWithADeadLetter();
    const context = contextWith(inbox);
    expect(await runCli(['inbox', 'retry', 'd-refused'], context)).toBe(0);
    expect(context.out).toEqual(["put d-refused back in the inbox's queue: the relay tries it again, ahead of its workflow's deliveries still pending"]);
    expect(await inbox.depth()).toMatchObject({ pending: 3, dead: 0 });
    const relayed: string[] = [];
    await inbox.relayBatch(10, async (d) => {
      relayed.push(d.deliveryId);
      return { relayed: true, outcome: 'started' };
    });
    expect(relayed.sort()).toEqual(['d-other', 'd-refused']);
  });

  it('refuses, exit 1, a delivery that is no dead letter: unknown, pending or relayed', async () => {
    const inbox = await inboxWithADeadLetter();
    for (const [id, reason] of [
      ['d-nope', 'the inbox keeps no delivery d-nope'],
      ['d-next', 'd-next is no dead letter: it is pending'],
    ] as const) {
      const context = contextWith(inbox);
      expect(await runCli(['inbox', 'retry', id], context)).toBe(1);
      expect(context.err.join('\n')).toContain(reason);
    }
    await inbox.relayBatch(10, async () => ({ relayed: true, outcome: 'started' }));
    const relayed = contextWith(inbox);
    expect(await runCli(['inbox', 'retry', 'd-other'], relayed)).toBe(1);
    expect(relayed.err.join('\n')).toContain('d-other is no dead letter: it was relayed');
    expect(await inbox.depth()).toMatchObject({ dead: 1 });
  });
});
