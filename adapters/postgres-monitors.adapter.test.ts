import { ERROR_TYPES } from '../contracts';
import { findStewardLinks, type StewardPrLink } from '../domain/monitor-annotation';
import { STEWARD_MONITOR_TAG, type Monitor } from '../ports/monitors.port';
import { createTestDatabase } from '../test/support/database';
import { PostgresMonitors, upsertMonitor } from './postgres-monitors.adapter';

function monitorDefinition(id: string, overrides: Partial<Monitor> = {}): Omit<Monitor, 'createdBySteward'> {
  return {
    id,
    name: 'Checkout error rate',
    type: 'query alert',
    query: 'sum(last_5m):sum:trace.http.request.errors{service:checkout}.as_count() > 5',
    message: 'Checkout is failing. Runbook: https://wiki/checkout',
    tags: ['service:checkout', 'team:payments'],
    criticalThreshold: 5,
    evaluationWindow: 'last_5m',
    ...overrides,
  };
}

function prLink(n: number): StewardPrLink {
  return { incidentId: `inc-${n}`, prUrl: `https://github.com/acme/shop/pull/${n}`, signature: `TypeError ${n}` };
}

describe('PostgresMonitors', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let monitors: PostgresMonitors;

  beforeAll(async () => {
    database = await createTestDatabase();
    monitors = new PostgresMonitors(database.pool);
  });

  afterAll(async () => {
    await database.drop();
  });

  describe('get', () => {
    it('returns a seeded monitor', async () => {
      await upsertMonitor(database.pool, monitorDefinition('2001'));
      expect(await monitors.get('2001')).toEqual({ ...monitorDefinition('2001'), createdBySteward: false });
    });

    it('fails with MonitorNotFound, non-retryable, for an unknown monitor', async () => {
      await expect(monitors.get('does-not-exist')).rejects.toMatchObject({ type: ERROR_TYPES.monitorNotFound, nonRetryable: true });
    });
  });

  describe('upsertMonitor', () => {
    it('refreshes the definition of an existing monitor but keeps its description, tuning and ownership', async () => {
      await upsertMonitor(database.pool, monitorDefinition('2002'));
      await monitors.appendPrLink('2002', prLink(1));
      await monitors.tune('2002', { criticalThreshold: 20, evaluationWindow: null, reason: 'noisy' });
      const described = await monitors.get('2002');

      const reseeded = await upsertMonitor(database.pool, {
        ...monitorDefinition('2002', { name: 'Checkout errors', query: 'new query', tags: ['service:checkout'], message: 'overwritten?' }),
        createdBySteward: true,
      });

      expect(reseeded).toEqual({
        ...described,
        name: 'Checkout errors',
        query: 'new query',
        tags: ['service:checkout'],
      });
      expect(findStewardLinks(reseeded.message)).toEqual([prLink(1)]);
      const { rows } = await database.pool.query('SELECT count(*)::int AS n FROM monitors WHERE id = $1', ['2002']);
      expect(rows[0].n).toBe(1);
    });

    it('treats a monitor tagged created_by:steward as Steward-created unless told otherwise', async () => {
      const generated = await upsertMonitor(database.pool, monitorDefinition('2003', { tags: [STEWARD_MONITOR_TAG] }));
      expect(generated.createdBySteward).toBe(true);
    });
  });

  describe('appendPrLink', () => {
    it('adds the link below the user text, and a second call changes nothing', async () => {
      await upsertMonitor(database.pool, monitorDefinition('2010'));

      const first = await monitors.appendPrLink('2010', prLink(1));
      const second = await monitors.appendPrLink('2010', prLink(1));

      expect(first.changed).toBe(true);
      expect(second.changed).toBe(false);
      const stored = await monitors.get('2010');
      expect(stored.message).toBe(first.monitor.message);
      expect(second.monitor).toEqual(stored);
      expect(stored.message.startsWith(monitorDefinition('2010').message)).toBe(true);
      expect(findStewardLinks(stored.message)).toEqual([prLink(1)]);
    });

    it('writes the same link exactly once when ten calls race', async () => {
      await upsertMonitor(database.pool, monitorDefinition('2011'));

      const results = await Promise.all(Array.from({ length: 10 }, () => monitors.appendPrLink('2011', prLink(7))));

      expect(results.filter((r) => r.changed)).toHaveLength(1);
      const { message } = await monitors.get('2011');
      expect(message.split('\n').filter((line) => line.includes(prLink(7).prUrl))).toHaveLength(1);
    });

    it('loses none of ten different links appended at once', async () => {
      await upsertMonitor(database.pool, monitorDefinition('2012'));
      const links = Array.from({ length: 10 }, (_, i) => prLink(100 + i));

      await Promise.all(links.map((link) => monitors.appendPrLink('2012', link)));

      const stored = findStewardLinks((await monitors.get('2012')).message);
      expect(stored).toHaveLength(10);
      expect(stored).toEqual(expect.arrayContaining(links));
    });

    it('fails with MonitorNotFound for an unknown monitor', async () => {
      await expect(monitors.appendPrLink('does-not-exist', prLink(1))).rejects.toMatchObject({ type: ERROR_TYPES.monitorNotFound });
    });
  });

  describe('tune', () => {
    it('changes the given settings, keeps the ones passed as null, and returns the monitor', async () => {
      await upsertMonitor(database.pool, monitorDefinition('2020'));

      const thresholdOnly = await monitors.tune('2020', { criticalThreshold: 12.5, evaluationWindow: null, reason: 'peaks' });
      expect(thresholdOnly).toMatchObject({ criticalThreshold: 12.5, evaluationWindow: 'last_5m' });

      const windowOnly = await monitors.tune('2020', { criticalThreshold: null, evaluationWindow: 'last_15m', reason: 'bursts' });
      expect(windowOnly).toMatchObject({ criticalThreshold: 12.5, evaluationWindow: 'last_15m' });
      expect(await monitors.get('2020')).toEqual(windowOnly);
    });

    it('fails with MonitorNotFound for an unknown monitor', async () => {
      await expect(monitors.tune('does-not-exist', { criticalThreshold: 1, evaluationWindow: null, reason: 'x' })).rejects.toMatchObject({
        type: ERROR_TYPES.monitorNotFound,
      });
    });
  });

  describe('delete', () => {
    it('soft-deletes a monitor Steward created, after which it is not found, and a retried delete succeeds', async () => {
      await upsertMonitor(database.pool, { ...monitorDefinition('2030'), createdBySteward: true });

      await monitors.delete('2030');
      await monitors.delete('2030');

      await expect(monitors.get('2030')).rejects.toMatchObject({ type: ERROR_TYPES.monitorNotFound });
      await expect(monitors.appendPrLink('2030', prLink(1))).rejects.toMatchObject({ type: ERROR_TYPES.monitorNotFound });
      const { rows } = await database.pool.query('SELECT deleted_at FROM monitors WHERE id = $1', ['2030']);
      expect(rows[0].deleted_at).toBeInstanceOf(Date);
    });

    it('refuses, non-retryably, to delete a monitor a person wrote, and leaves it in place', async () => {
      await upsertMonitor(database.pool, monitorDefinition('2031'));

      await expect(monitors.delete('2031')).rejects.toMatchObject({ type: ERROR_TYPES.monitorNotOwned, nonRetryable: true });
      expect((await monitors.get('2031')).id).toBe('2031');
    });

    it('fails with MonitorNotFound for an unknown monitor', async () => {
      await expect(monitors.delete('does-not-exist')).rejects.toMatchObject({ type: ERROR_TYPES.monitorNotFound });
    });
  });
});
