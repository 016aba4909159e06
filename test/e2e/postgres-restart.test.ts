import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../infra/embedded-postgres';
import type { IncidentOutcome } from '../../workflows/incident/incident.workflow';
import { createHarness, testPolicy, type Harness } from '../support/harness';
import { freePort } from '../support/ports';
import { expectExactlyOnceEffects, outcomeOf, startIncidentOn, startSupervisedWorker, stewardBranches, waitUntilRunning, type WorkerSupervisor } from '../support/worker-process';

/**
 * Postgres dies mid-incident: while the fix agent runs, the server is stopped in `immediate` mode
 * (it aborts as a crash would, with no checkpoint, and recovers from its WAL at the next start),
 * kept down for a while and started again on the same folder and port. Every activity that reached
 * for the ledger, the monitor store, the code host's records or the model's usage table in between
 * failed and was retried. Nothing may be lost or doubled: the incident's ledger must be the same
 * as that of the same incident run with no fault, and its PR, monitor link and message exist once.
 * The Postgres is this test's own, so that the test files running beside it keep the shared one.
 */

const POLICY = testPolicy({
  activityTimeouts: { quickStartToCloseMs: 5_000, sandboxStartToCloseMs: 60_000, sandboxHeartbeatMs: 10_000, modelStartToCloseMs: 5_000, sandboxHostScheduleToStartMs: 120_000 },
});
/**
 * Long enough that several activities fail on it, and short of what the model and sandbox
 * activities' five attempts (1 + 2 + 4 + 8 s of backoff) can wait out.
 */
const OUTAGE_MS = 6_000;
const FIX_AGENT_ACTIVITIES = ['fixAgentTurn', 'runFixAgentTools'];

/** What the ledger holds of an incident, without what differs from run to run (ids, times, paths). */
interface LedgerProfile {
  status: string;
  prUrlMatchesOutcome: boolean;
  eventSeqs: number[];
  eventKinds: string[];
  fixAttempts: { attempt: number; verified: boolean }[];
  modelSteps: { step: string; calls: number }[];
  notifications: { kind: string; status: string }[];
}

async function ledgerProfile(h: Harness, outcome: IncidentOutcome): Promise<LedgerProfile> {
  const id = outcome.incidentId;
  const incident = (await h.pool.query<{ status: string; pr_url: string | null }>('SELECT status, pr_url FROM incidents WHERE incident_id = $1', [id])).rows;
  const events = (await h.pool.query<{ seq: number; kind: string }>('SELECT seq, kind FROM incident_events WHERE incident_id = $1 ORDER BY seq', [id])).rows;
  const attempts = (await h.pool.query<{ attempt: number; verified: boolean }>('SELECT attempt, verified FROM fix_attempts WHERE incident_id = $1 ORDER BY attempt', [id])).rows;
  const steps = (
    await h.pool.query<{ step: string; calls: number }>('SELECT step, count(*)::int AS calls FROM model_usage WHERE incident_id = $1 GROUP BY step ORDER BY step', [id])
  ).rows;
  const notifications = (await h.pool.query<{ kind: string; status: string }>('SELECT kind, status FROM notification_outbox WHERE incident_id = $1 ORDER BY kind', [id])).rows;
  expect(incident).toHaveLength(1);
  return {
    status: incident[0]!.status,
    prUrlMatchesOutcome: incident[0]!.pr_url === outcome.prUrl,
    eventSeqs: events.map((e) => e.seq),
    eventKinds: events.map((e) => e.kind),
    fixAttempts: attempts,
    modelSteps: steps,
    notifications,
  };
}

describe('Postgres restarted mid-incident', () => {
  let folder: string;
  let port: number;
  let postgres: EmbeddedPostgres;
  let h: Harness;
  let supervisor: WorkerSupervisor | null = null;

  const startPostgres = (): Promise<EmbeddedPostgres> =>
    startEmbeddedPostgres({ dataDir: path.join(folder, 'postgres'), port, fsync: false, log: () => undefined });

  beforeAll(async () => {
    // Under the run's root, which global setup opens to the postgres user; a private tmp folder would keep it out.
    folder = path.join(process.env.STEWARD_TEST_ROOT ?? os.tmpdir(), `postgres-restart-${randomBytes(4).toString('hex')}`);
    fs.mkdirSync(folder, { recursive: true, mode: 0o755 });
    port = await freePort();
    postgres = await startPostgres();
    h = await createHarness({ databaseServerUrl: postgres.url });
    supervisor = startSupervisedWorker(h, 'postgres-restart').supervisor;
  }, 120_000);

  afterAll(async () => {
    await supervisor?.stop();
    await h?.close();
    await postgres?.stop();
    if (folder) fs.rmSync(folder, { recursive: true, force: true });
  });

  it('retries what failed, loses nothing and doubles nothing: the ledger matches an undisturbed run of the same incident', async () => {
    const workers = supervisor!;
    // The same incident, undisturbed, on another monitor: what a complete ledger holds.
    const controlMonitor = '4403001';
    await h.seedMonitor(controlMonitor);
    const control = await outcomeOf(await startIncidentOn(h, h.alert({ monitorId: controlMonitor, cycle: 'postgres-control' }), POLICY), workers, 200_000);
    expect(control.status).toBe('pr_opened');
    const expected = await ledgerProfile(h, control);

    const monitorId = '4403002';
    await h.seedMonitor(monitorId);
    const branchesBefore = stewardBranches(h);
    const handle = await startIncidentOn(h, h.alert({ monitorId, cycle: 'postgres-restarted-mid-fix' }), POLICY);
    const interrupted = await waitUntilRunning(handle, FIX_AGENT_ACTIVITIES, workers.current);
    await postgres.stop({ mode: 'immediate' });
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    postgres = await startPostgres();
    const outcome = await outcomeOf(handle, workers, 200_000);
    expect(FIX_AGENT_ACTIVITIES).toContain(interrupted);

    await expectExactlyOnceEffects(h, outcome, monitorId, branchesBefore);
    const actual = await ledgerProfile(h, outcome);
    expect(actual).toEqual(expected);
    // Complete as well as equal: the control itself numbered its events without a gap, one model row per step.
    expect(expected.eventSeqs).toEqual(expected.eventSeqs.map((_, i) => i));
    expect(expected.modelSteps.filter((s) => s.calls !== 1)).toEqual([]);
    expect(expected.fixAttempts.map((a) => a.verified)).toContain(true);

    // The outage was survived by retries, not by restarting the worker: its Postgres pool replaced the connections it lost.
    expect(workers.exits).toEqual([]);
    // And it was felt: some activity of the incident failed at least once and ran again.
    const history = await handle.fetchHistory();
    const retried = history.events!.filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
    expect(retried.length).toBeGreaterThan(0);
  }, 480_000);
});
