import { randomBytes } from 'node:crypto';
import { ScheduleNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createLocalMonitorActivities, type LocalMonitorEvaluationReport } from '../../activities/local-monitors/local-monitors.activities';
import { HttpAlertWebhook } from '../../adapters/http-alert-webhook.adapter';
import { PostgresLocalMonitorState } from '../../adapters/postgres-local-monitor-state.adapter';
import { PostgresLogs } from '../../adapters/postgres-logs.adapter';
import { incidentWorkflowId, LOCAL_MONITORS_WORKFLOW_TYPE, type LocalMonitorsWorkflowInput } from '../../contracts';
import { localAlertCycleKey, localMonitorTickOf } from '../../domain/local-monitor';
import { ensureLocalMonitorsSchedule } from '../../infra/local-monitors-schedule';
import type { LogRecord } from '../../ports/log-records.port';
import type { Monitor } from '../../ports/monitors.port';
import { createHarness, workflowBundle, type Harness } from '../../test/support/harness';

const TOKEN = 'local-monitors-workflow-test-token';

function errorLog(at: Date): LogRecord {
  return {
    service: 'checkout',
    timestamp: at,
    severityNumber: 17,
    severityText: 'ERROR',
    isError: true,
    message: 'TypeError: bulk price of undefined',
    attributes: {},
    resourceAttributes: { 'service.name': 'checkout', 'service.version': 'abc123' },
    traceId: null,
    spanId: null,
    exceptionType: 'TypeError',
    exceptionMessage: null,
    stackTrace: null,
  };
}

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * The evaluator on the run's Temporal dev server: a worker with its real activities over a fresh
 * database, posting to the real API (harness.startApi), whose webhook starts the incident.
 */
describe('local monitors workflow', () => {
  let harness: Harness;
  let apiUrl: string;
  let logs: PostgresLogs;
  let state: PostgresLocalMonitorState;
  const taskQueue = `test-local-monitors-${randomBytes(6).toString('hex')}`;
  let current: { worker: Worker; running: Promise<void>; connection: NativeConnection } | null = null;

  async function startEvaluator(): Promise<void> {
    const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    const worker = await Worker.create({
      connection,
      namespace: 'default',
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createLocalMonitorActivities({ monitors: harness.monitors, logs, state, webhook: new HttpAlertWebhook({ baseUrl: apiUrl, token: TOKEN }) }),
    });
    current = { worker, running: worker.run(), connection };
  }

  async function stopEvaluator(): Promise<void> {
    if (!current) return;
    if (current.worker.getState() === 'RUNNING') current.worker.shutdown();
    await current.running.catch(() => undefined);
    await current.connection.close();
    current = null;
  }

  beforeAll(async () => {
    harness = await createHarness();
    apiUrl = (await harness.startApi({ webhookToken: TOKEN, webUiUrl: null })).url;
    logs = new PostgresLogs(harness.pool);
    state = new PostgresLocalMonitorState(harness.pool);
    await startEvaluator();
  });

  afterAll(async () => {
    await stopEvaluator();
    await harness?.close();
  });

  const runTick = (input: LocalMonitorsWorkflowInput): Promise<LocalMonitorEvaluationReport> =>
    harness.client.workflow.execute(LOCAL_MONITORS_WORKFLOW_TYPE, { taskQueue, workflowId: `local-monitors-${randomBytes(4).toString('hex')}`, args: [input] });

  async function alertsDeliveredTo(workflowId: string): Promise<{ transition: string; alertCycleKey: string; monitorId: string }[]> {
    const history = await harness.client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? []).flatMap((event) => {
      const signaled = event.workflowExecutionSignaledEventAttributes;
      if (signaled?.signalName !== 'alertDelivered') return [];
      return (signaled.input?.payloads ?? []).map((payload) => defaultPayloadConverter.fromPayload(payload) as { transition: string; alertCycleKey: string; monitorId: string });
    });
  }

  it("triggers over seeded logs, and Steward's webhook starts the incident of the cycle; the recovery joins it; a restarted worker re-running the tick posts nothing again", async () => {
    const monitor: Monitor = await harness.monitors.create({
      name: 'checkout: bulk price TypeErrors',
      type: 'log alert',
      query: 'logs("service:checkout status:error \\"bulk price\\"").index("*").rollup("count").last("5m") > 2',
      message: 'Bulk pricing throws ({{value}} in 5 minutes).\n@webhook-steward',
      tags: ['service:checkout-service'],
      criticalThreshold: 2,
    });
    const tick = localMonitorTickOf(new Date());
    await logs.append([1, 2, 3].map((s) => errorLog(new Date(tick.getTime() - s * 10_000))));

    const triggered = await runTick({ tick: tick.toISOString() });
    const cycle = localAlertCycleKey(tick);
    expect(triggered.evaluated.find((e) => e.monitorId === monitor.id)).toMatchObject({ count: 3, outcome: 'Alert', transition: { transition: 'Triggered', alertCycleKey: cycle } });
    expect(triggered.deliveries.delivered).toEqual([expect.objectContaining({ monitorId: monitor.id, transition: 'Triggered', status: 202 })]);
    // The demo monitor, seeded by the harness, counts nothing here and stays OK.
    expect(triggered.evaluated.find((e) => e.monitorId === '4401001')).toMatchObject({ count: 0, outcome: 'OK', transition: null });

    const incidentId = incidentWorkflowId(monitor.id, cycle);
    const description = await harness.client.workflow.getHandle(incidentId).describe();
    expect(description.taskQueue).toBe(harness.taskQueue);
    expect(await alertsDeliveredTo(incidentId)).toEqual([expect.objectContaining({ monitorId: monitor.id, alertCycleKey: cycle, transition: 'triggered' })]);

    // The worker restarts, and the same tick runs again (a retried schedule action, say): nothing new.
    await stopEvaluator();
    await startEvaluator();
    const again = await runTick({ tick: tick.toISOString() });
    expect(again.evaluated.find((e) => e.monitorId === monitor.id)).toMatchObject({ outcome: 'already_evaluated', transition: null });
    expect(again.deliveries.delivered).toEqual([]);

    const later = new Date(tick.getTime() + 10 * 60_000);
    const recovered = await runTick({ tick: later.toISOString() });
    expect(recovered.evaluated.find((e) => e.monitorId === monitor.id)).toMatchObject({ count: 0, outcome: 'OK', transition: { transition: 'Recovered', alertCycleKey: cycle } });
    expect((await alertsDeliveredTo(incidentId)).map((a) => [a.transition, a.alertCycleKey])).toEqual([
      ['triggered', cycle],
      ['recovered', cycle],
    ]);
    expect((await state.transitions(monitor.id)).map((t) => [t.transition, t.attempts, t.deliveredAt !== null])).toEqual([
      ['Triggered', 1, true],
      ['Recovered', 1, true],
    ]);
  });

  it('evaluates the minute a scheduled run was due, and the schedule is created once and brought up to date', async () => {
    const scheduleId = `test-local-monitors-${randomBytes(4).toString('hex')}`;
    try {
      expect(await ensureLocalMonitorsSchedule(harness.client, { scheduleId, taskQueue })).toEqual({ scheduleId, taskQueue, created: true, updated: false });
      expect(await ensureLocalMonitorsSchedule(harness.client, { scheduleId, taskQueue })).toEqual({ scheduleId, taskQueue, created: false, updated: false });
      const handle = harness.client.schedule.getHandle(scheduleId);
      const described = await handle.describe();
      expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: LOCAL_MONITORS_WORKFLOW_TYPE, taskQueue });
      expect(described.spec.intervals?.[0]?.every).toBe(60_000);
      expect(described.policies.overlap).toBe('SKIP');

      await handle.trigger();
      const runs = await eventually(
        async () => (await handle.describe()).info.recentActions,
        (actions) => actions.length > 0,
      );
      const started = runs[0]!.action.workflow;
      const report = (await harness.client.workflow.getHandle(started.workflowId, started.firstExecutionRunId).result()) as LocalMonitorEvaluationReport;
      expect(report.tick).toBe(localMonitorTickOf(runs[0]!.scheduledAt).toISOString());

      expect(await ensureLocalMonitorsSchedule(harness.client, { scheduleId, taskQueue, everyMs: 120_000 })).toEqual({ scheduleId, taskQueue, created: false, updated: true });
      expect((await handle.describe()).spec.intervals?.[0]?.every).toBe(120_000);
    } finally {
      await harness.client.schedule
        .getHandle(scheduleId)
        .delete()
        .catch((error: unknown) => {
          if (!(error instanceof ScheduleNotFoundError)) throw error;
        });
    }
  });
});
