import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startTemporalDevServer, type TemporalDevServer } from '../../infra/temporal-dev-server';
import { createHarness, testPolicy, type Harness } from '../support/harness';
import { freePort } from '../support/ports';
import { expectExactlyOnceEffects, outcomeOf, startIncidentOn, startSupervisedWorker, stewardBranches, waitUntilRunning, type WorkerSupervisor } from '../support/worker-process';

/**
 * The Temporal server itself dies mid-incident: its process is killed with SIGKILL while the fix
 * agent runs, and started again on the same SQLite file and port, as a supervisor would restart
 * it. The worker (a real `workers/worker.main.ts` process) is left alone: it must ride out the
 * outage, and the incident must still end with one PR, one link on the monitor and one message.
 * The server is this test's own, so that the test files running beside it keep theirs.
 */

/** Short timeouts, as in worker-crash.test.ts: a completion lost with the server is retried when they expire. */
const POLICY = testPolicy({
  activityTimeouts: { quickStartToCloseMs: 5_000, sandboxStartToCloseMs: 60_000, sandboxHeartbeatMs: 10_000, modelStartToCloseMs: 5_000, sandboxHostScheduleToStartMs: 120_000 },
});
/** Long enough for the worker's polls and the running activity's heartbeats and completion to hit a dead server. */
const OUTAGE_MS = 8_000;
const FIX_AGENT_ACTIVITIES = ['fixAgentTurn', 'runFixAgentTools'];

describe('the Temporal server killed with SIGKILL mid-incident and restarted on its database file', () => {
  let folder: string;
  let serverOptions: Parameters<typeof startTemporalDevServer>[0];
  let server: TemporalDevServer;
  let h: Harness;
  let supervisor: WorkerSupervisor | null = null;

  beforeAll(async () => {
    folder = fs.mkdtempSync(path.join(process.env.STEWARD_TEST_ROOT ?? os.tmpdir(), 'temporal-restart-'));
    // A fixed port and file: the restarted server must be the same server to its clients.
    serverOptions = { port: await freePort(), uiPort: null, dbFile: path.join(folder, 'temporal.db') };
    server = await startTemporalDevServer(serverOptions);
    if (!server.started) throw new Error(`a server was already listening on ${server.address}; this test kills the server it starts, not another`);
    h = await createHarness({ temporalAddress: server.address });
  }, 120_000);

  afterAll(async () => {
    await supervisor?.stop();
    await h?.close();
    await server?.stop();
    if (folder) fs.rmSync(folder, { recursive: true, force: true });
  });

  it('resumes the incident once the server is back: one PR, one monitor link, one message, every model step paid once', async () => {
    const monitorId = '4402001';
    await h.seedMonitor(monitorId);
    const branchesBefore = stewardBranches(h);
    supervisor = startSupervisedWorker(h, 'temporal-restart').supervisor;
    const workerPid = supervisor.current.pid;

    const handle = await startIncidentOn(h, h.alert({ monitorId, cycle: 'temporal-killed-mid-fix' }), POLICY);
    const interrupted = await waitUntilRunning(handle, FIX_AGENT_ACTIVITIES, supervisor.current);

    await server.kill();
    const killedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    server = await startTemporalDevServer(serverOptions);
    expect(server.started).toBe(true);
    const restartedAt = Date.now();

    const outcome = await outcomeOf(handle, supervisor, 200_000);
    await expectExactlyOnceEffects(h, outcome, monitorId, branchesBefore);

    // The kill landed mid-incident: the history the restarted server kept runs on past it to the end.
    const history = await handle.fetchHistory();
    const closed = history.events!.find((e) => e.workflowExecutionCompletedEventAttributes);
    expect(closed).toBeDefined();
    const closedAt = Number(closed!.eventTime!.seconds) * 1_000 + Math.floor((closed!.eventTime!.nanos ?? 0) / 1e6);
    expect(closedAt).toBeGreaterThan(restartedAt);
    expect(FIX_AGENT_ACTIVITIES).toContain(interrupted);
    expect(restartedAt - killedAt).toBeGreaterThanOrEqual(OUTAGE_MS);

    // Every model step was asked and paid for once, the one in flight at the kill included.
    const { rows: steps } = await h.pool.query<{ step: string; calls: number }>(
      'SELECT step, count(*)::int AS calls FROM model_usage WHERE incident_id = $1 GROUP BY step ORDER BY step',
      [outcome.incidentId],
    );
    expect(steps.filter((s) => s.step.startsWith('fix.attempt-'))).not.toHaveLength(0);
    expect(steps.filter((s) => s.calls !== 1)).toEqual([]);

    // The worker rode the outage out: the server's absence is not a reason for it to exit.
    expect({ exits: supervisor.exits, stillRunning: supervisor.current.pid }).toEqual({ exits: [], stillRunning: workerPid });
  }, 300_000);
});
