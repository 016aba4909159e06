import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHarness, testPolicy, type Harness } from '../support/harness';
import {
  expectExactlyOnceEffects,
  outcomeOf,
  startIncidentOn,
  startSupervisedWorker,
  stewardBranches,
  waitUntilRunning,
  type WorkerSupervisor,
} from '../support/worker-process';

/**
 * Crash safety with a real process: the worker runs as `workers/worker.main.ts` in a child process,
 * is killed with SIGKILL mid-incident (no shutdown hooks, no flushed buffers), and is started again
 * by a supervisor, as systemd or Kubernetes would. However often it dies, the incident must end
 * with one PR, one monitor annotation and one notification.
 */

/**
 * Short timeouts: Temporal notices a dead worker through them, so they decide how fast retries come.
 * The sandbox heartbeat timeout stays above the 5 s interval at which a running command heartbeats.
 */
const CRASH_POLICY = testPolicy({
  activityTimeouts: { quickStartToCloseMs: 5_000, sandboxStartToCloseMs: 60_000, sandboxHeartbeatMs: 10_000, modelStartToCloseMs: 5_000, sandboxHostScheduleToStartMs: 120_000 },
});

describe('a worker killed with SIGKILL mid-incident', () => {
  let h: Harness;
  let supervisor: WorkerSupervisor | null = null;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterEach(async () => {
    await supervisor?.stop();
    supervisor = null;
  });
  afterAll(async () => {
    await h?.close();
  });

  const startSupervised = (name: string, crashAfter: string[]): { supervisor: WorkerSupervisor; markerDir: string } => {
    const folder = fs.mkdtempSync(path.join(h.dataDir, `${name}-markers-`));
    const markerDir = path.join(folder, 'markers');
    const started = startSupervisedWorker(h, name, { STEWARD_FAULT_CRASH_AFTER: crashAfter.join(','), STEWARD_FAULT_MARKER_DIR: markerDir }).supervisor;
    supervisor = started;
    return { supervisor: started, markerDir };
  };

  const startIncident = (alert: Parameters<typeof startIncidentOn>[1]) => startIncidentOn(h, alert, CRASH_POLICY);

  it('right after the side effects of each step, resumes on restart and still opens one PR, one annotation and one message', async () => {
    // notifier.send: the message is out, the outbox does not know yet; the retry must find it, not resend it.
    // fixAgentTurn: the model was paid and its answer stored; the retry must read it, not ask again.
    const crashAfter = ['reproduceIncident', 'fixAgentTurn', 'runFixAgentTools', 'verifyFixAttempt', 'openPullRequest', 'annotateMonitorWithPr', 'notifier.send', 'notify'];
    const branchesBefore = stewardBranches(h);
    const { supervisor: workers, markerDir } = startSupervised('crash-after-side-effects', crashAfter);

    const handle = await startIncident(h.alert({ cycle: 'crash-after-each-side-effect' }));
    const outcome = await outcomeOf(handle, workers, 200_000);

    // Each named step killed the worker once, at the moment its side effect was done but not yet reported.
    expect(fs.readdirSync(markerDir).sort()).toEqual(crashAfter.map((name) => `crashed-after-${name}`).sort());
    expect(workers.killsBySignal()).toBe(crashAfter.length);
    expect(workers.exits.every((e) => e.signal === 'SIGKILL')).toBe(true);
    await expectExactlyOnceEffects(h, outcome, '4401001', branchesBefore);
    // Every agent turn was paid for once, the one the crash interrupted included.
    const { rows: turns } = await h.pool.query<{ step: string; calls: number }>(
      "SELECT step, count(*)::int AS calls FROM model_usage WHERE incident_id = $1 AND step LIKE 'fix.attempt-%.turn-%' GROUP BY step ORDER BY step",
      [outcome.incidentId],
    );
    expect(turns).toHaveLength(7);
    expect(turns.filter((t) => t.calls !== 1)).toEqual([]);
  }, 240_000);

  it('killed from outside while reproducing and again while fixing, resumes and still opens one PR, one annotation and one message', async () => {
    const monitorId = '4401901';
    await h.seedMonitor(monitorId);
    const branchesBefore = stewardBranches(h);
    const { supervisor: workers } = startSupervised('external-kill', []);

    const handle = await startIncident(h.alert({ monitorId, cycle: 'killed-mid-activity' }));
    /** Kills the worker while it runs the activity: the server must show the activity started by exactly this process. */
    const killWhileRunning = async (activityType: string): Promise<void> => {
      const child = workers.current;
      await waitUntilRunning(handle, [activityType], child);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    };
    await killWhileRunning('reproduceIncident');
    await killWhileRunning('verifyFixAttempt');
    const outcome = await outcomeOf(handle, workers, 200_000);

    expect(workers.killsBySignal()).toBe(2);
    expect(workers.exits.every((e) => e.signal === 'SIGKILL')).toBe(true);
    // The killed attempts never reported back: Temporal timed them out and ran them again.
    const history = await handle.fetchHistory();
    const activityTypeByScheduledId = new Map(
      history.events!.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!.activityType!.name]),
    );
    const retried = history.events!
      .filter((e) => e.activityTaskStartedEventAttributes && (e.activityTaskStartedEventAttributes.attempt ?? 1) > 1)
      .map((e) => activityTypeByScheduledId.get(String(e.activityTaskStartedEventAttributes!.scheduledEventId)));
    expect(retried).toEqual(expect.arrayContaining(['reproduceIncident', 'verifyFixAttempt']));
    await expectExactlyOnceEffects(h, outcome, monitorId, branchesBefore);
  }, 240_000);
});
