import { ERROR_TYPES } from '../contracts';
import { findStewardLinks, type StewardPrLink } from '../domain/monitor-annotation';
import { STEWARD_MONITOR_TAG, type Monitor, type MonitorDefinition } from '../ports/monitors.port';
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
      // A query alert is kept, but nothing here evaluates it.
      expect(await monitors.get('2001')).toEqual({ ...monitorDefinition('2001'), createdBySteward: false, evaluatedLocally: false });
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

  describe('validate, create and list', () => {
    const logAlert: MonitorDefinition = {
      name: 'Checkout card declines',
      type: 'log alert',
      query: 'logs("service:checkout status:error \\"card declined\\"").index("*").rollup("count").last("5m") > 2',
      message: 'Declines are up. @webhook-steward',
      tags: ['service:checkout'],
      criticalThreshold: 2,
    };

    it('accepts a log alert it can evaluate', async () => {
      expect(await monitors.validate(logAlert)).toEqual({ valid: true, evaluatedLocally: true });
    });

    it("returns a log alert's query errors as Datadog's 400 words them, with the position", async () => {
      const query = 'logs("service:checkout OR").index("*").rollup("count").last("5m") > 2';
      expect(await monitors.validate({ ...logAlert, query })).toEqual({
        valid: false,
        errors: [`The value provided for parameter 'query' is invalid: expected a term after OR at position ${query.indexOf('OR') + 2}`],
      });
      // The recorded Datadog answer to this definition (Validate-a-monitor-returns-Invalid-JSON-response) names the missing operator too.
      expect(await monitors.validate({ ...logAlert, query: 'query', criticalThreshold: null })).toEqual({ valid: false, errors: [expect.stringMatching(/^The value provided for parameter 'query' is invalid: /)] });
    });

    it('refuses a critical threshold that is not the one in the query, as Datadog does', async () => {
      expect(await monitors.validate({ ...logAlert, criticalThreshold: 5 })).toEqual({ valid: false, errors: ['Alert threshold (5) does not match that used in the query (2).'] });
    });

    it('accepts other types and rollups, marked not evaluated locally', async () => {
      expect(await monitors.validate({ ...monitorDefinition('x'), criticalThreshold: 5 })).toEqual({ valid: true, evaluatedLocally: false });
      const average = { ...logAlert, query: 'logs("service:checkout").index("*").rollup("avg", "@duration").last("5m") > 2' };
      expect(await monitors.validate(average)).toEqual({ valid: true, evaluatedLocally: false });
    });

    it('refuses a definition without a name or query', async () => {
      const result = await monitors.validate({ ...logAlert, name: ' ', query: '' });
      expect(result).toEqual({ valid: false, errors: [expect.stringContaining("parameter 'name'"), expect.stringContaining("parameter 'query'")] });
    });

    describe('create and list', () => {
      it('keeps a generated monitor\'s warning threshold and priority', async () => {
        const created = await monitors.create({ ...logAlert, warningThreshold: 1, priority: 2 });
        const { rows } = await database.pool.query('SELECT warning_threshold, priority FROM monitors WHERE id = $1', [created.id]);
        expect(rows[0]).toEqual({ warning_threshold: 1, priority: 2 });
      });

      it('creates a monitor with the created_by:steward tag and its window, readable by get', async () => {
        const created = await monitors.create({ ...logAlert, tags: ['service:checkout', 'suite:create'] });

        expect(created).toEqual({
          // Numeric, as Datadog ids are, and never one of the ids seeded by hand.
          id: expect.stringMatching(/^8\d{8,}$/),
          ...logAlert,
          tags: ['service:checkout', 'suite:create', STEWARD_MONITOR_TAG],
          evaluationWindow: 'last_5m',
          createdBySteward: true,
          evaluatedLocally: true,
        });
        expect(await monitors.get(created.id)).toEqual(created);
      });

      it('keeps a monitor of a type it cannot evaluate, labelled so', async () => {
        const metric = await monitors.create({ ...monitorDefinition('ignored'), tags: ['suite:metric'] });
        expect(metric).toMatchObject({ type: 'query alert', evaluationWindow: 'last_5m', createdBySteward: true, evaluatedLocally: false });
      });

      it('refuses, non-retryably and without storing it, a definition validate refuses', async () => {
        const before = await monitors.list();
        await expect(monitors.create({ ...logAlert, query: 'logs("a").rollup("count").last("5m")' })).rejects.toMatchObject({
          type: ERROR_TYPES.monitorDefinitionInvalid,
          nonRetryable: true,
          message: expect.stringContaining('invalid operator specified'),
        });
        expect(await monitors.list()).toEqual(before);
      });

      it('lists live monitors by tag and by ownership, oldest first', async () => {
        const tag = 'suite:list';
        const first = await monitors.create({ ...logAlert, name: 'first', tags: [tag] });
        const second = await monitors.create({ ...logAlert, name: 'second', tags: [tag] });
        const gone = await monitors.create({ ...logAlert, name: 'gone', tags: [tag] });
        await monitors.delete(gone.id);
        const personal = await upsertMonitor(database.pool, monitorDefinition('2040', { tags: [tag] }));

        expect((await monitors.list({ tag })).map((m) => m.name)).toEqual(['first', 'second', personal.name]);
        expect((await monitors.list({ tag, createdBySteward: true })).map((m) => m.id)).toEqual([first.id, second.id]);
        expect((await monitors.list({ tag, createdBySteward: false })).map((m) => m.id)).toEqual(['2040']);
        expect((await monitors.list({ createdBySteward: true })).every((m) => m.createdBySteward)).toBe(true);
        expect((await monitors.list()).map((m) => m.id)).toEqual(expect.arrayContaining([first.id, second.id, '2040']));
        expect((await monitors.list()).map((m) => m.id)).not.toContain(gone.id);
      });
    });
  });
});
