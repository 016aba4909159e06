import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { PROJECT_ROOT } from '../../config/config';
import { alertDeliveredSignal, incidentWorkflowId, INCIDENT_WORKFLOW_TYPE, type IncidentWorkflowInput } from '../../contracts';
import type { NormalizedAlert } from '../../domain/alert';
import { findStewardLinks } from '../../domain/monitor-annotation';
import type { IncidentOutcome } from '../../workflows/incident/incident.workflow';
import { createHarness, sandboxQueueFor, testPolicy, type Harness } from '../support/harness';

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
/** Every kill costs a restart, so a worker that keeps dying for another reason stops the test instead of looping. */
const MAX_WORKER_STARTS = 12;
/** temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED, named here as use-cases/check-temporal-health.use-case.ts names its enum values. */
const PENDING_ACTIVITY_STATE_STARTED = 2;

interface WorkerExit {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Keeps one worker process running: starts it again whenever it exits, until stopped. */
class WorkerSupervisor {
  readonly exits: WorkerExit[] = [];
  /** Rejects when the worker exited MAX_WORKER_STARTS times; raced against the incident's result. */
  readonly gaveUp: Promise<never>;
  private child: ChildProcess | null = null;
  private starts = 0;
  private stopping = false;
  private giveUp: (error: Error) => void = () => undefined;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly logFile: string,
  ) {
    this.gaveUp = new Promise<never>((_, fail) => {
      this.giveUp = fail;
    });
    // Only ever observed through a race; an unobserved rejection must not fail the run on its own.
    this.gaveUp.catch(() => undefined);
  }

  start(): ChildProcess {
    this.starts += 1;
    const log = fs.openSync(this.logFile, 'a');
    const child = spawn(process.execPath, ['--import', 'tsx', path.join('workers', 'worker.main.ts')], {
      cwd: PROJECT_ROOT,
      env: this.env,
      stdio: ['ignore', log, log],
    });
    fs.closeSync(log);
    this.child = child;
    child.once('exit', (code, signal) => {
      this.exits.push({ pid: child.pid!, code, signal });
      if (this.stopping) return;
      if (this.starts >= MAX_WORKER_STARTS) {
        this.giveUp(new Error(`the worker exited ${this.exits.length} times; its output:\n${this.outputTail()}`));
        return;
      }
      this.start();
    });
    return child;
  }

  get current(): ChildProcess {
    if (!this.child) throw new Error('no worker was started');
    return this.child;
  }

  killsBySignal(): number {
    return this.exits.filter((e) => e.signal === 'SIGKILL').length;
  }

  outputTail(): string {
    return fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8').slice(-6_000) : '(no output)';
  }

  /** Kills the worker it holds, by its pid, and does not restart it. */
  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }
}

async function waitFor<T>(what: string, read: () => Promise<T | null | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await read();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The incident's outcome; on a worker that gave up or an incident that stalls, fails with what the worker printed and what Temporal waits on. */
async function outcomeOf(handle: WorkflowHandle, workers: WorkerSupervisor, timeoutMs: number): Promise<IncidentOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, fail) => {
    timer = setTimeout(async () => {
      const pending = (await handle.describe().catch(() => null))?.raw.pendingActivities?.map((a) => ({
        activity: a.activityType?.name,
        state: a.state,
        attempt: a.attempt,
        worker: a.lastWorkerIdentity,
        lastFailure: a.lastFailure?.message,
      }));
      // Each worker start bundles workflows/ afresh: workflow code edited during the run fails replay and stalls the incident.
      fail(new Error(`the incident did not end within ${timeoutMs} ms; pending: ${JSON.stringify(pending)}; worker exits: ${JSON.stringify(workers.exits)}; worker output:\n${workers.outputTail()}`));
    }, timeoutMs);
  });
  try {
    return (await Promise.race([handle.result(), workers.gaveUp, stalled])) as IncidentOutcome;
  } finally {
    clearTimeout(timer);
  }
}

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

  /** The environment of a standalone worker on this harness: its database, task queue and data folder. */
  const workerEnv = (faults: { crashAfter: string[]; markerDir: string }): NodeJS.ProcessEnv => {
    // Steward's own settings from the outer environment must not leak into the worker under test.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(STEWARD_|SLACK_|TEMPORAL_|DATABASE_URL$)/.test(name)));
    return {
      ...inherited,
      TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
      DATABASE_URL: h.databaseUrl,
      STEWARD_TASK_QUEUE: h.taskQueue,
      STEWARD_SANDBOX_TASK_QUEUE: sandboxQueueFor(h.taskQueue),
      STEWARD_DATA_DIR: h.dataDir,
      STEWARD_FAULT_CRASH_AFTER: faults.crashAfter.join(','),
      STEWARD_FAULT_MARKER_DIR: faults.markerDir,
    };
  };

  const startSupervised = (name: string, crashAfter: string[]): { supervisor: WorkerSupervisor; markerDir: string } => {
    const folder = fs.mkdtempSync(path.join(h.dataDir, `${name}-`));
    const markerDir = path.join(folder, 'markers');
    const started = new WorkerSupervisor(workerEnv({ crashAfter, markerDir }), path.join(folder, 'worker.log'));
    supervisor = started;
    started.start();
    return { supervisor: started, markerDir };
  };

  const startIncident = (alert: NormalizedAlert) =>
    h.client.workflow.signalWithStart(INCIDENT_WORKFLOW_TYPE, {
      workflowId: incidentWorkflowId(alert.monitorId, alert.alertCycleKey),
      taskQueue: h.taskQueue,
      args: [{ alert, policy: { ...CRASH_POLICY, sandboxTaskQueue: sandboxQueueFor(h.taskQueue) } } satisfies IncidentWorkflowInput],
      signal: alertDeliveredSignal,
      signalArgs: [alert],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });

  const stewardBranches = (): string[] =>
    execFileSync('git', ['-C', h.repositoryPath, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/steward/'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean);

  /** What a crash could duplicate, each of which must exist exactly once. */
  const expectExactlyOnceEffects = async (outcome: IncidentOutcome, monitorId: string, branchesBefore: string[]): Promise<void> => {
    expect(outcome.status).toBe('pr_opened');
    const { rows: pullRequests } = await h.pool.query<{ branch: string; number: number }>(
      'SELECT branch, number FROM local_pull_requests WHERE incident_id = $1',
      [outcome.incidentId],
    );
    expect(pullRequests).toHaveLength(1);
    expect(outcome.prUrl).toMatch(new RegExp(`/pulls/${pullRequests[0]!.number}$`));
    expect(stewardBranches().filter((b) => !branchesBefore.includes(b))).toEqual([pullRequests[0]!.branch]);

    const description = (await h.monitors.get(monitorId)).message;
    expect(findStewardLinks(description).filter((l) => l.incidentId === outcome.incidentId)).toEqual([
      expect.objectContaining({ incidentId: outcome.incidentId, prUrl: outcome.prUrl }),
    ]);
    expect(description.split('\n').filter((line) => line.includes(`for incident ${outcome.incidentId} `))).toHaveLength(1);

    // The notifier of the killed processes wrote this file; a repeated send would show as a second line.
    expect(h.deliveredNotifications(outcome.incidentId).map((n) => n.kind)).toEqual(['pr_opened']);
    expect(await h.ledger.countDeliveredNotifications(outcome.incidentId)).toBe(1);
  };

  it('right after the side effects of each step, resumes on restart and still opens one PR, one annotation and one message', async () => {
    // notifier.send: the message is out, the outbox does not know yet; the retry must find it, not resend it.
    // fixAgentTurn: the model was paid and its answer stored; the retry must read it, not ask again.
    const crashAfter = ['reproduceIncident', 'fixAgentTurn', 'runFixAgentTools', 'verifyFixAttempt', 'openPullRequest', 'annotateMonitorWithPr', 'notifier.send', 'notify'];
    const branchesBefore = stewardBranches();
    const { supervisor: workers, markerDir } = startSupervised('crash-after-side-effects', crashAfter);

    const handle = await startIncident(h.alert({ cycle: 'crash-after-each-side-effect' }));
    const outcome = await outcomeOf(handle, workers, 200_000);

    // Each named step killed the worker once, at the moment its side effect was done but not yet reported.
    expect(fs.readdirSync(markerDir).sort()).toEqual(crashAfter.map((name) => `crashed-after-${name}`).sort());
    expect(workers.killsBySignal()).toBe(crashAfter.length);
    expect(workers.exits.every((e) => e.signal === 'SIGKILL')).toBe(true);
    await expectExactlyOnceEffects(outcome, '4401001', branchesBefore);
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
    const branchesBefore = stewardBranches();
    const { supervisor: workers } = startSupervised('external-kill', []);

    const handle = await startIncident(h.alert({ monitorId, cycle: 'killed-mid-activity' }));
    /** Kills the worker while it runs the activity: the server must show the activity started by exactly this process. */
    const killWhileRunning = async (activityType: string): Promise<void> => {
      const child = workers.current;
      await waitFor(
        `${activityType} to run on worker ${child.pid}`,
        async () => {
          const { raw } = await handle.describe();
          return raw.pendingActivities?.find(
            (a) =>
              a.activityType?.name === activityType &&
              a.state === PENDING_ACTIVITY_STATE_STARTED &&
              a.lastWorkerIdentity === `steward-worker-${child.pid}`,
          );
        },
        120_000,
      );
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
    await expectExactlyOnceEffects(outcome, monitorId, branchesBefore);
  }, 240_000);
});
