import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpAlertWebhook } from '../../adapters/http-alert-webhook.adapter';
import { PostgresLocalMonitorState } from '../../adapters/postgres-local-monitor-state.adapter';
import { PostgresLogs } from '../../adapters/postgres-logs.adapter';
import { PostgresMonitors } from '../../adapters/postgres-monitors.adapter';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import { normalizeDatadogPayload, type NormalizedAlert } from '../../domain/alert';
import { localAlertCycleKey } from '../../domain/local-monitor';
import type { LogRecord } from '../../ports/log-records.port';
import type { MonitorDefinition } from '../../ports/monitors.port';
import { createTestDatabase } from '../../test/support/database';
import { createLocalMonitorActivities } from './local-monitors.activities';

const T0 = Date.parse('2026-12-02T16:00:00.000Z');
const minute = (n: number) => new Date(T0 + n * 60_000);
const TOKEN = 'local-evaluator-test-token';

function record(at: Date, overrides: Partial<LogRecord> = {}): LogRecord {
  return {
    service: 'checkout',
    timestamp: at,
    severityNumber: 17,
    severityText: 'ERROR',
    isError: true,
    message: 'TypeError: Cannot read properties of undefined (reading "price")',
    attributes: { 'http.route': '/checkout' },
    resourceAttributes: { 'service.name': 'checkout' },
    traceId: null,
    spanId: null,
    exceptionType: 'TypeError',
    exceptionMessage: null,
    stackTrace: null,
    ...overrides,
  };
}

function logAlert(name: string, query: string, threshold: number): MonitorDefinition {
  return { name, type: 'log alert', query, message: `${name}: {{value}} errors.\n@webhook-steward`, tags: ['service:checkout', 'team:payments'], criticalThreshold: threshold };
}

/** Steward's webhook as a loopback server: it reads each body as the real route does, and answers the scripted statuses first, then 202. */
async function endpoint(): Promise<{ url: string; accepted: NormalizedAlert[]; answers: number[]; requests: number; close(): Promise<void> }> {
  const state = { accepted: [] as NormalizedAlert[], answers: [] as number[], requests: 0 };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      state.requests++;
      if (request.headers.authorization !== `Bearer ${TOKEN}`) return void response.writeHead(401).end();
      const status = state.answers.shift() ?? 202;
      if (status === 202) state.accepted.push(normalizeDatadogPayload(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      response.writeHead(status).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

describe('createLocalMonitorActivities', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let monitors: PostgresMonitors;
  let logs: PostgresLogs;
  let state: PostgresLocalMonitorState;
  let webhook: Awaited<ReturnType<typeof endpoint>>;
  let activities: ReturnType<typeof createLocalMonitorActivities>;

  beforeAll(async () => {
    database = await createTestDatabase();
    monitors = new PostgresMonitors(database.pool);
    logs = new PostgresLogs(database.pool);
    state = new PostgresLocalMonitorState(database.pool);
    webhook = await endpoint();
    activities = createLocalMonitorActivities({ monitors, logs, state, webhook: new HttpAlertWebhook({ baseUrl: webhook.url, token: TOKEN, timeoutMs: 2_000 }) });
  });

  afterAll(async () => {
    await webhook.close();
    await database.drop();
  });

  beforeEach(async () => {
    await database.pool.query('TRUNCATE log_records, monitors, local_monitor_states, local_monitor_transitions');
    webhook.accepted.length = 0;
    webhook.answers.length = 0;
    webhook.requests = 0;
  });

  const evaluateAt = (n: number) => activities.evaluateLocalMonitors({ tick: minute(n).toISOString() });

  it('triggers when the window count passes the threshold, recovers in the same cycle, and posts each transition once', async () => {
    const monitor = await monitors.create(logAlert('checkout TypeErrors', 'logs("service:checkout status:error TypeError").index("*").rollup("count").last("5m") > 3', 3));
    // Four errors in the minute before minute 10: the window [5, 10) holds them, [11, 16) does not.
    await logs.append([9.1, 9.2, 9.3, 9.4].map((m) => record(new Date(T0 + m * 60_000))));

    const quiet = await evaluateAt(8);
    expect(quiet.evaluated).toEqual([{ monitorId: monitor.id, name: monitor.name, count: 0, group: null, breached: false, outcome: 'OK', transition: null }]);

    const cycle = localAlertCycleKey(minute(10));
    const triggered = await evaluateAt(10);
    expect(triggered.evaluated[0]).toMatchObject({ count: 4, breached: true, outcome: 'Alert', transition: { transition: 'Triggered', alertCycleKey: cycle } });
    expect(triggered.deliveries.delivered).toEqual([expect.objectContaining({ monitorId: monitor.id, transition: 'Triggered', alertCycleKey: cycle, status: 202 })]);

    expect((await evaluateAt(14)).evaluated[0]).toMatchObject({ count: 4, outcome: 'Alert', transition: null });
    const recovered = await evaluateAt(15);
    expect(recovered.evaluated[0]).toMatchObject({ count: 0, outcome: 'OK', transition: { transition: 'Recovered', alertCycleKey: cycle } });

    expect(webhook.accepted.map((a) => [a.monitorId, a.transition, a.alertCycleKey, a.occurredAt])).toEqual([
      [monitor.id, 'triggered', cycle, minute(10).toISOString()],
      [monitor.id, 'recovered', cycle, minute(15).toISOString()],
    ]);
    expect(webhook.accepted[0]).toMatchObject({ title: '[Triggered] checkout TypeErrors', service: 'checkout', tags: ['service:checkout', 'team:payments', 'created_by:steward'] });
    expect(webhook.accepted[0]!.message).toContain('checkout TypeErrors: 4 errors.');

    // A new breach is a new cycle.
    await logs.append([record(new Date(T0 + 19.5 * 60_000)), record(new Date(T0 + 19.6 * 60_000)), record(new Date(T0 + 19.7 * 60_000)), record(new Date(T0 + 19.8 * 60_000))]);
    expect((await evaluateAt(20)).evaluated[0]!.transition).toEqual({ transition: 'Triggered', alertCycleKey: localAlertCycleKey(minute(20)) });
    expect(webhook.accepted.map((a) => a.alertCycleKey)).toEqual([cycle, cycle, localAlertCycleKey(minute(20))]);
  });

  it('compares with each comparator at its boundary, and counts only what the search and the window hold', async () => {
    const search = 'service:checkout @http.route:/checkout "reading \\"price\\""';
    const at = (comparator: string, threshold: number) =>
      monitors.create(logAlert(`${comparator} ${threshold}`, `logs(${JSON.stringify(search)}).index("*").rollup("count").last("10m") ${comparator} ${threshold}`, threshold));
    const [above, atLeast, below, atMost, notAbove] = [await at('>', 3), await at('>=', 3), await at('<', 3), await at('<=', 3), await at('>', 4)];
    await logs.append([
      // In the window [20, 30): three that match.
      record(minute(21)),
      record(minute(25)),
      record(minute(29.99)),
      // Outside it, or not matching: not counted.
      record(minute(19.99)),
      record(minute(30)),
      record(minute(22), { service: 'cart', resourceAttributes: { 'service.name': 'cart' } }),
      record(minute(23), { attributes: { 'http.route': '/cart' } }),
      record(minute(24), { message: 'TypeError elsewhere' }),
    ]);
    const report = await evaluateAt(30);
    const byId = new Map(report.evaluated.map((e) => [e.monitorId, e]));
    expect(report.evaluated.every((e) => e.count === 3)).toBe(true);
    expect([above, atLeast, below, atMost, notAbove].map((m) => byId.get(m.id)!.breached)).toEqual([false, true, false, true, false]);
    expect(webhook.accepted.map((a) => a.monitorId).sort()).toEqual([atLeast.id, atMost.id].sort());
  });

  it('uses the threshold and window noise triage tuned onto the monitor, not the ones its query was written with', async () => {
    const monitor = await monitors.create(logAlert('tuned', 'logs("service:checkout").index("*").rollup("count").last("5m") > 1', 1));
    await logs.append([minute(1), minute(2), minute(3)].map((at) => record(at)));
    await monitors.tune(monitor.id, { criticalThreshold: 2, evaluationWindow: 'last_10m', reason: 'noise' });
    // [0, 10) holds all three under the tuned 10-minute window (the written 5m would see none); 3 > 2.
    expect((await evaluateAt(10)).evaluated[0]).toMatchObject({ count: 3, breached: true, outcome: 'Alert' });
    expect(webhook.accepted[0]!.message).toContain('over the last 10m: > 2');
  });

  it('judges a grouped monitor as one, by its worst group', async () => {
    const monitor = await monitors.create(logAlert('by route', 'logs("service:checkout").index("*").rollup("count").by("@http.route").last("5m") > 2', 2));
    await logs.append([
      ...[1, 2, 3].map((m) => record(minute(m), { attributes: { 'http.route': '/checkout' } })),
      ...[1, 2].map((m) => record(minute(m), { attributes: { 'http.route': '/cart' } })),
    ]);
    const report = await evaluateAt(5);
    expect(report.evaluated).toEqual([expect.objectContaining({ monitorId: monitor.id, count: 3, group: '/checkout', breached: true, outcome: 'Alert' })]);
    expect(webhook.accepted).toHaveLength(1);
    expect(webhook.accepted[0]!.message).toContain('in the group @http.route:/checkout');
  });

  it('skips monitors it cannot evaluate, which stay labelled so and get no state', async () => {
    const metric = await monitors.create({ name: 'latency', type: 'metric alert', query: 'avg(last_5m):avg:trace.http.request.duration{service:checkout} > 2', message: '', tags: [], criticalThreshold: 2 });
    const average = await monitors.create(logAlert('average', 'logs("service:checkout").index("*").rollup("avg", "@duration").last("5m") > 2', 2));
    const counted = await monitors.create(logAlert('counted', 'logs("service:checkout").index("*").rollup("count").last("5m") > 0', 0));
    await logs.append([record(minute(1))]);

    const report = await evaluateAt(5);
    expect(report.notEvaluatedLocally).toEqual([
      { monitorId: metric.id, name: 'latency', type: 'metric alert' },
      { monitorId: average.id, name: 'average', type: 'log alert' },
    ]);
    expect(report.evaluated.map((e) => e.monitorId)).toEqual([counted.id]);
    expect(await state.status(metric.id)).toBeNull();
    expect(await state.status(average.id)).toBeNull();
    expect((await monitors.list()).map((m) => [m.name, m.evaluatedLocally])).toEqual([
      ['latency', false],
      ['average', false],
      ['counted', true],
    ]);
    expect(webhook.accepted.map((a) => a.monitorId)).toEqual([counted.id]);
  });

  it('reports a query the log store refuses, still evaluates the others, and lets any other failure fail the run', async () => {
    const refused = await monitors.create(logAlert('refused', 'logs("service:refused").index("*").rollup("count").last("5m") > 0', 0));
    const counted = await monitors.create(logAlert('counted', 'logs("service:checkout").index("*").rollup("count").last("5m") > 0', 0));
    await logs.append([record(minute(1))]);
    const failing = (failure: Error): typeof logs => ({
      countMatching: async (search: string, from: Date, to: Date, groupBy?: string) => {
        if (search === 'service:refused') throw failure;
        return logs.countMatching(search, from, to, groupBy);
      },
    }) as typeof logs;
    const over = (failure: Error) => createLocalMonitorActivities({ monitors, logs: failing(failure), state, webhook: new HttpAlertWebhook({ baseUrl: webhook.url, token: TOKEN }) });

    const report = await over(stewardFailure(ERROR_TYPES.logQueryUnsupported, 'not in the subset')).evaluateLocalMonitors({ tick: minute(5).toISOString() });
    expect(report.evaluated.map((e) => e.monitorId)).toEqual([counted.id]);
    expect(report.failed).toEqual([{ monitorId: refused.id, name: 'refused', error: 'not in the subset' }]);
    expect(await state.status(refused.id)).toBeNull();

    // The store being down is not the monitor's fault: the activity fails, and Temporal retries it.
    await expect(over(new Error('connection terminated')).evaluateLocalMonitors({ tick: minute(6).toISOString() })).rejects.toThrow('connection terminated');
  });

  it('posts one webhook per transition when the same tick is evaluated again, as a retried activity or a restarted worker would', async () => {
    const monitor = await monitors.create(logAlert('once', 'logs("service:checkout").index("*").rollup("count").last("5m") > 0', 0));
    await logs.append([record(minute(1))]);
    const first = await evaluateAt(5);
    // Another evaluator over the same store, as a worker started again would build.
    const restarted = createLocalMonitorActivities({ monitors, logs, state, webhook: new HttpAlertWebhook({ baseUrl: webhook.url, token: TOKEN }) });
    const [again, concurrently] = await Promise.all([restarted.evaluateLocalMonitors({ tick: minute(5).toISOString() }), evaluateAt(5)]);
    expect(first.evaluated[0]).toMatchObject({ outcome: 'Alert', transition: { transition: 'Triggered' } });
    expect([again.evaluated[0]!.outcome, concurrently.evaluated[0]!.outcome]).toEqual(['already_evaluated', 'already_evaluated']);
    expect([...again.deliveries.delivered, ...concurrently.deliveries.delivered]).toEqual([]);
    expect(webhook.requests).toBe(1);
    expect(webhook.accepted.map((a) => [a.monitorId, a.transition])).toEqual([[monitor.id, 'triggered']]);
    expect(await state.transitions(monitor.id)).toHaveLength(1);
  });

  it('keeps a transition whose delivery failed and delivers it once, in order, on a later run', async () => {
    const monitor = await monitors.create(logAlert('retried', 'logs("service:checkout").index("*").rollup("count").last("5m") > 0', 0));
    await logs.append([record(minute(1))]);
    webhook.answers.push(503);
    const failed = await evaluateAt(5);
    expect(failed.evaluated[0]!.transition).toMatchObject({ transition: 'Triggered' });
    expect(failed.deliveries.delivered).toEqual([]);
    expect(failed.deliveries.undelivered).toEqual([expect.objectContaining({ monitorId: monitor.id, transition: 'Triggered', error: expect.stringContaining('answered 503') })]);
    expect((await state.transitions(monitor.id))[0]).toMatchObject({ deliveredAt: null, lastStatus: 503, attempts: 1 });

    // Recovered meanwhile, and the endpoint fails once more: the Recovered must not overtake its Triggered.
    webhook.answers.push(500);
    const blocked = await evaluateAt(7);
    expect(blocked.evaluated[0]!.transition).toMatchObject({ transition: 'Recovered' });
    expect(blocked.deliveries.undelivered.map((u) => [u.transition, u.error])).toEqual([
      ['Triggered', expect.stringContaining('answered 500')],
      ['Recovered', 'waits for an earlier transition of its monitor'],
    ]);

    const delivered = await evaluateAt(8);
    expect(delivered.deliveries.delivered.map((d) => d.transition)).toEqual(['Triggered', 'Recovered']);
    expect((await evaluateAt(9)).deliveries).toEqual({ delivered: [], undelivered: [] });
    expect(webhook.accepted.map((a) => a.transition)).toEqual(['triggered', 'recovered']);
    expect(webhook.requests).toBe(4);
  });

  it('refuses a tick that is not a date, permanently', async () => {
    await expect(activities.evaluateLocalMonitors({ tick: 'soon' })).rejects.toMatchObject({ type: ERROR_TYPES.invalidActivityInput, nonRetryable: true });
  });
});
