import type { InboxDelivery, InboxPort, PendingDelivery, RelayAttempt } from '../ports/inbox.port';

/**
 * What every InboxPort must do: one suite, run against Postgres (postgres-inbox.adapter.test.ts)
 * and the in-memory fake the use-case tests use (test/fakes/in-memory-inbox.test.ts).
 * `reset` empties the store before each test, since depth counts every pending delivery.
 */
let sequence = 0;

export function describeInboxContract(name: string, setup: { store: () => InboxPort; reset: () => Promise<void> }): void {
  describe(`${name}: inbox contract`, () => {
    let prefix: string;
    const store = (): InboxPort => setup.store();
    const delivery = (id: string, workflowId: string, payload: unknown = { id }): InboxDelivery => ({
      deliveryId: `${prefix}-${id}`,
      kind: 'alert',
      source: 'datadog',
      workflowId: `${prefix}-${workflowId}`,
      payload,
      receivedAt: new Date(Date.UTC(2026, 11, 3, 10, 0, sequence % 60)),
    });
    const relayAll = (seen: PendingDelivery[]) => async (d: PendingDelivery): Promise<RelayAttempt> => {
      seen.push(d);
      return { relayed: true, outcome: 'started' };
    };
    const ids = (seen: PendingDelivery[]): string[] => seen.map((d) => d.deliveryId.slice(prefix.length + 1));

    beforeEach(async () => {
      sequence += 1;
      prefix = `inbox-${process.pid}-${sequence}`;
      await setup.reset();
    });

    it('hands back what was put, payload and all, and counts it until it is relayed', async () => {
      const payload = { alert: { monitorId: '42', tags: ['service:checkout'], nested: { n: 1 } } };
      expect(await store().put(delivery('a', 'wf-1', payload))).toEqual({ stored: true });
      expect(await store().depth()).toMatchObject({ pending: 1, failing: 0 });
      const seen: PendingDelivery[] = [];
      expect(await store().relayBatch(10, relayAll(seen))).toEqual({ claimed: 1, relayed: 1, failed: 0, deadLettered: 0 });
      expect(seen).toEqual([expect.objectContaining({ deliveryId: `${prefix}-a`, kind: 'alert', source: 'datadog', workflowId: `${prefix}-wf-1`, payload, attempts: 0, lastError: null })]);
      expect(await store().depth()).toEqual({ pending: 0, oldestReceivedAt: null, failing: 0, dead: 0 });
      expect(await store().relayBatch(10, relayAll(seen))).toEqual({ claimed: 0, relayed: 0, failed: 0, deadLettered: 0 });
    });

    it('keeps one delivery per id: a second put of it is not stored and not relayed again', async () => {
      expect(await store().put(delivery('a', 'wf-1'))).toEqual({ stored: true });
      expect(await store().put(delivery('a', 'wf-1', { other: true }))).toEqual({ stored: false });
      const seen: PendingDelivery[] = [];
      await store().relayBatch(10, relayAll(seen));
      expect(seen.map((d) => d.payload)).toEqual([{ id: 'a' }]);
    });

    it('relays in the order received, one delivery per workflow id per batch, so a workflow gets its deliveries in order', async () => {
      for (const [id, wf] of [['a1', 'a'], ['b1', 'b'], ['a2', 'a'], ['c1', 'c'], ['b2', 'b'], ['a3', 'a']] as const) await store().put(delivery(id, wf));
      const batches: string[][] = [];
      for (let i = 0; i < 4; i++) {
        const seen: PendingDelivery[] = [];
        await store().relayBatch(10, relayAll(seen));
        batches.push(ids(seen).sort());
      }
      expect(batches).toEqual([['a1', 'b1', 'c1'], ['a2', 'b2'], ['a3'], []]);
    });

    it('takes no more than the limit, oldest first', async () => {
      for (const id of ['x', 'y', 'z']) await store().put(delivery(id, `wf-${id}`));
      const seen: PendingDelivery[] = [];
      expect(await store().relayBatch(2, relayAll(seen))).toMatchObject({ claimed: 2 });
      expect(ids(seen).sort()).toEqual(['x', 'y']);
      expect(await store().depth()).toMatchObject({ pending: 1 });
    });

    it('keeps a delivery whose relay failed, with its error and attempts, ahead of its workflow\'s later ones', async () => {
      await store().put(delivery('a1', 'a'));
      await store().put(delivery('a2', 'a'));
      const failing = async (): Promise<RelayAttempt> => ({ relayed: false, error: 'Temporal is unavailable', deadLetter: false });
      expect(await store().relayBatch(10, failing)).toEqual({ claimed: 1, relayed: 0, failed: 1, deadLettered: 0 });
      expect(await store().depth()).toMatchObject({ pending: 2, failing: 1, dead: 0 });
      const seen: PendingDelivery[] = [];
      await store().relayBatch(10, relayAll(seen));
      expect(seen.map((d) => ({ id: d.deliveryId.slice(prefix.length + 1), attempts: d.attempts, lastError: d.lastError }))).toEqual([
        { id: 'a1', attempts: 1, lastError: 'Temporal is unavailable' },
      ]);
      await store().relayBatch(10, relayAll(seen));
      expect(ids(seen)).toEqual(['a1', 'a2']);
    });

    it('counts the failures for no known reason apart from the rest, and a retried dead letter starts both counts again', async () => {
      await store().put(delivery('a', 'wf'));
      const outage = async (): Promise<RelayAttempt> => ({ relayed: false, error: 'transient failure: Temporal is unavailable', deadLetter: false });
      const odd = async (): Promise<RelayAttempt> => ({ relayed: false, error: 'unclassified failure: socket hang up', deadLetter: false, unclassified: true });
      await store().relayBatch(10, outage);
      await store().relayBatch(10, outage);
      await store().relayBatch(10, odd);
      expect((await store().list('pending', 10)).map((d) => [d.attempts, d.unclassifiedFailures])).toEqual([[3, 1]]);
      await store().relayBatch(10, async () => ({ relayed: false, error: 'unclassified failure: socket hang up', deadLetter: true, unclassified: true }));
      expect((await store().list('dead', 10)).map((d) => [d.attempts, d.unclassifiedFailures])).toEqual([[4, 2]]);
      expect(await store().retryDeadLetter(`${prefix}-a`)).toBe('requeued');
      expect((await store().list('pending', 10)).map((d) => [d.attempts, d.unclassifiedFailures])).toEqual([[0, 0]]);
    });

    it('records a relay that throws as a failed attempt, and keeps the delivery', async () => {
      await store().put(delivery('a', 'wf'));
      const throwing = async (): Promise<RelayAttempt> => {
        throw new Error('connection reset');
      };
      expect(await store().relayBatch(10, throwing)).toEqual({ claimed: 1, relayed: 0, failed: 1, deadLettered: 0 });
      const seen: PendingDelivery[] = [];
      await store().relayBatch(10, relayAll(seen));
      expect(seen[0]).toMatchObject({ attempts: 1, lastError: 'connection reset' });
    });

    it('never hands a delivery to two relays at once, nor a workflow\'s later delivery while its earlier one is held', async () => {
      await store().put(delivery('a1', 'a'));
      await store().put(delivery('a2', 'a'));
      await store().put(delivery('b1', 'b'));
      let release: () => void = () => undefined;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const first: PendingDelivery[] = [];
      const firstBatch = store().relayBatch(1, async (d) => {
        first.push(d);
        await held;
        return { relayed: true, outcome: 'started' };
      });
      // Wait until the first relay holds its row.
      for (let i = 0; i < 200 && first.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      expect(ids(first)).toEqual(['a1']);
      const second: PendingDelivery[] = [];
      await store().relayBatch(10, relayAll(second));
      expect(ids(second)).toEqual(['b1']);
      release();
      await firstBatch;
      const third: PendingDelivery[] = [];
      await store().relayBatch(10, relayAll(third));
      expect(ids(third)).toEqual(['a2']);
    });

    it("sets a dead letter aside: its workflow's later deliveries are relayed, it is counted and listed with its error, not pending", async () => {
      await store().put(delivery('a1', 'a'));
      await store().put(delivery('a2', 'a'));
      await store().put(delivery('b1', 'b'));
      const refusingA1 = (seen: PendingDelivery[]) => async (d: PendingDelivery): Promise<RelayAttempt> => {
        seen.push(d);
        return d.deliveryId.endsWith('-a1') ? { relayed: false, error: 'permanent failure: payload too large', deadLetter: true } : { relayed: true, outcome: 'started' };
      };
      const first: PendingDelivery[] = [];
      expect(await store().relayBatch(10, refusingA1(first))).toEqual({ claimed: 2, relayed: 1, failed: 0, deadLettered: 1 });
      expect(ids(first).sort()).toEqual(['a1', 'b1']);
      expect(await store().depth()).toMatchObject({ pending: 1, failing: 0, dead: 1 });
      const dead = await store().list('dead', 10);
      expect(dead.map((d) => ({ id: d.deliveryId.slice(prefix.length + 1), attempts: d.attempts, lastError: d.lastError, dead: d.deadAt instanceof Date }))).toEqual([
        { id: 'a1', attempts: 1, lastError: 'permanent failure: payload too large', dead: true },
      ]);
      expect((await store().list('pending', 10)).map((d) => ({ id: d.deliveryId.slice(prefix.length + 1), deadAt: d.deadAt }))).toEqual([{ id: 'a2', deadAt: null }]);
      const second: PendingDelivery[] = [];
      expect(await store().relayBatch(10, refusingA1(second))).toEqual({ claimed: 1, relayed: 1, failed: 0, deadLettered: 0 });
      expect(ids(second)).toEqual(['a2']);
      expect(await store().depth()).toEqual({ pending: 0, oldestReceivedAt: null, failing: 0, dead: 1 });
    });

    it('puts a dead letter back in its place, attempts from zero, ahead of its workflow\'s deliveries still pending; and says why it cannot', async () => {
      await store().put(delivery('a1', 'a'));
      await store().put(delivery('a2', 'a'));
      await store().relayBatch(10, async () => ({ relayed: false, error: 'permanent failure', deadLetter: true }));
      await store().put(delivery('a3', 'a'));
      expect(await store().retryDeadLetter(`${prefix}-a2`)).toBe('pending');
      expect(await store().retryDeadLetter(`${prefix}-nope`)).toBe('unknown');
      expect(await store().retryDeadLetter(`${prefix}-a1`)).toBe('requeued');
      expect(await store().retryDeadLetter(`${prefix}-a1`)).toBe('pending');
      expect(await store().depth()).toMatchObject({ pending: 3, dead: 0, failing: 0 });
      const seen: PendingDelivery[] = [];
      for (let i = 0; i < 3; i++) await store().relayBatch(10, relayAll(seen));
      expect(seen.map((d) => ({ id: d.deliveryId.slice(prefix.length + 1), attempts: d.attempts }))).toEqual([
        { id: 'a1', attempts: 0 },
        { id: 'a2', attempts: 0 },
        { id: 'a3', attempts: 0 },
      ]);
      expect(seen[0]!.lastError).toBe('permanent failure');
      expect(await store().retryDeadLetter(`${prefix}-a1`)).toBe('relayed');
    });

    it('lists kept deliveries in the order received, no more than the limit', async () => {
      for (const id of ['x', 'y', 'z']) await store().put(delivery(id, `wf-${id}`));
      expect((await store().list('pending', 2)).map((d) => d.deliveryId.slice(prefix.length + 1))).toEqual(['x', 'y']);
      expect(await store().list('dead', 10)).toEqual([]);
      await expect(store().list('pending', 0)).rejects.toThrow(/positive integer/);
    });

    it('refuses a delivery without an id or a workflow, and a batch limit that is no positive integer', async () => {
      await expect(store().put({ ...delivery('a', 'wf'), deliveryId: '' })).rejects.toThrow(/deliveryId/);
      await expect(store().put({ ...delivery('a', 'wf'), workflowId: '' })).rejects.toThrow(/workflowId/);
      await expect(store().relayBatch(0, relayAll([]))).rejects.toThrow(/positive integer/);
    });
  });
}
