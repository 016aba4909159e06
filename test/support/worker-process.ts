import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { PROJECT_ROOT } from '../../config/config';
import { alertDeliveredSignal, incidentWorkflowId, INCIDENT_WORKFLOW_TYPE, type IncidentPolicy, type IncidentWorkflowInput } from '../../contracts';
import type { NormalizedAlert } from '../../domain/alert';
import { findStewardLinks } from '../../domain/monitor-annotation';
import type { IncidentOutcome } from '../../workflows/incident/incident.workflow';
import { sandboxQueueFor, type Harness } from './harness';

/**
 * The fault tests' worker: `workers/worker.main.ts` as a real child process over a harness's
 * Temporal, database, queues and data folder, kept running by a supervisor as systemd or Kubernetes
 * would; and the checks that a fault left every side effect of the incident exactly once.
 */

/** Every restart costs time, so a worker that keeps dying for another reason stops the test instead of looping. */
export const MAX_WORKER_STARTS = 12;
/** temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED, named here as use-cases/check-temporal-health.use-case.ts names its enum values. */
export const PENDING_ACTIVITY_STATE_STARTED = 2;

export interface WorkerExit {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Keeps one worker process running: starts it again whenever it exits, until stopped. */
export class WorkerSupervisor {
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

export async function waitFor<T>(what: string, read: () => Promise<T | null | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await read();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The incident's outcome; on a worker that gave up or an incident that stalls, fails with what the worker printed and what Temporal waits on. */
export async function outcomeOf(handle: WorkflowHandle, workers: WorkerSupervisor, timeoutMs: number): Promise<IncidentOutcome> {
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

/**
 * Waits until the server shows the activity started by exactly this worker process, so that a
 * fault injected next lands while it runs.
 */
export async function waitUntilRunning(handle: WorkflowHandle, activityTypes: string[], worker: ChildProcess, timeoutMs = 120_000): Promise<string> {
  const running = await waitFor(
    `${activityTypes.join(' or ')} to run on worker ${worker.pid}`,
    async () => {
      const { raw } = await handle.describe();
      return raw.pendingActivities?.find(
        (a) => activityTypes.includes(a.activityType?.name ?? '') && a.state === PENDING_ACTIVITY_STATE_STARTED && a.lastWorkerIdentity === `steward-worker-${worker.pid}`,
      );
    },
    timeoutMs,
  );
  return running.activityType!.name!;
}

/** The environment of a standalone worker on this harness: its Temporal, database, task queue and data folder. */
export function workerEnvFor(h: Harness, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  // Steward's own settings from the outer environment must not leak into the worker under test.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(STEWARD_|SLACK_|TEMPORAL_|DATABASE_URL$)/.test(name)));
  return {
    ...inherited,
    TEMPORAL_ADDRESS: h.temporalAddress,
    DATABASE_URL: h.databaseUrl,
    STEWARD_TASK_QUEUE: h.taskQueue,
    STEWARD_SANDBOX_TASK_QUEUE: sandboxQueueFor(h.taskQueue),
    STEWARD_DATA_DIR: h.dataDir,
    ...extra,
  };
}

/** A supervised worker on the harness, its log in a folder of its own under the harness's data folder. */
export function startSupervisedWorker(h: Harness, name: string, extra: NodeJS.ProcessEnv = {}): { supervisor: WorkerSupervisor; folder: string } {
  const folder = fs.mkdtempSync(path.join(h.dataDir, `${name}-`));
  const supervisor = new WorkerSupervisor(workerEnvFor(h, extra), path.join(folder, 'worker.log'));
  supervisor.start();
  return { supervisor, folder };
}

/** Starts (or joins) the alert's incident on the harness's queue, as the webhook does. */
export function startIncidentOn(h: Harness, alert: NormalizedAlert, policy: IncidentPolicy): Promise<WorkflowHandle> {
  return h.client.workflow.signalWithStart(INCIDENT_WORKFLOW_TYPE, {
    workflowId: incidentWorkflowId(alert.monitorId, alert.alertCycleKey),
    taskQueue: h.taskQueue,
    args: [{ alert, policy: { ...policy, sandboxTaskQueue: sandboxQueueFor(h.taskQueue) } } satisfies IncidentWorkflowInput],
    signal: alertDeliveredSignal,
    signalArgs: [alert],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
}

export function stewardBranches(h: Harness): string[] {
  return execFileSync('git', ['-C', h.repositoryPath, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/steward/'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

/** What a fault could duplicate or lose, each of which must exist exactly once: the PR and its branch, the monitor link, the message. */
export async function expectExactlyOnceEffects(h: Harness, outcome: IncidentOutcome, monitorId: string, branchesBefore: string[]): Promise<void> {
  expect(outcome.status).toBe('pr_opened');
  const { rows: pullRequests } = await h.pool.query<{ branch: string; number: number }>('SELECT branch, number FROM local_pull_requests WHERE incident_id = $1', [outcome.incidentId]);
  expect(pullRequests).toHaveLength(1);
  expect(outcome.prUrl).toMatch(new RegExp(`/pulls/${pullRequests[0]!.number}$`));
  expect(stewardBranches(h).filter((b) => !branchesBefore.includes(b))).toEqual([pullRequests[0]!.branch]);

  const description = (await h.monitors.get(monitorId)).message;
  expect(findStewardLinks(description).filter((l) => l.incidentId === outcome.incidentId)).toEqual([
    expect.objectContaining({ incidentId: outcome.incidentId, prUrl: outcome.prUrl }),
  ]);
  expect(description.split('\n').filter((line) => line.includes(`for incident ${outcome.incidentId} `))).toHaveLength(1);

  // The notifier of the worker processes wrote this file; a repeated send would show as a second line.
  expect(h.deliveredNotifications(outcome.incidentId).map((n) => n.kind)).toEqual(['pr_opened']);
  expect(await h.ledger.countDeliveredNotifications(outcome.incidentId)).toBe(1);
}
