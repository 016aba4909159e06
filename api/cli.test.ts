import { randomBytes } from 'node:crypto';
import { Client, Connection, defaultPayloadConverter, WorkflowFailedError } from '@temporalio/client';
import { incidentWorkflowId, INCIDENT_WORKFLOW_TYPE } from '../contracts';
import type { IncidentState } from '../domain/incident';
import { createHarness, testPolicy, type Harness } from '../test/support/harness';
import { parseCliArgs, runCli, USAGE, type CliIo } from './cli';

const env = { USER: 'dana' };

describe('parseCliArgs', () => {
  it('reads approve with the defaults: by cli:$USER and a stock reason', () => {
    expect(parseCliArgs(['approve', 'incident-42-c1'], env)).toEqual({
      ok: true,
      value: { command: 'approve', incidentId: 'incident-42-c1', decision: { by: 'cli:dana', reason: 'approved from the CLI' } },
    });
  });

  it('reads approve with --by and --reason in any position', () => {
    expect(parseCliArgs(['--by', 'oncall:sam', 'approve', 'incident-42-c1', '--reason', 'diff reviewed'], env)).toEqual({
      ok: true,
      value: { command: 'approve', incidentId: 'incident-42-c1', decision: { by: 'oncall:sam', reason: 'diff reviewed' } },
    });
  });

  it('reads reject with its reason', () => {
    expect(parseCliArgs(['reject', 'incident-42-c1', '--reason=wrong root cause'], env)).toEqual({
      ok: true,
      value: { command: 'reject', incidentId: 'incident-42-c1', decision: { by: 'cli:dana', reason: 'wrong root cause' } },
    });
  });

  it('reads status', () => {
    expect(parseCliArgs(['status', 'incident-42-c1'], env)).toEqual({ ok: true, value: { command: 'status', incidentId: 'incident-42-c1' } });
  });

  it('reads pr show with its number', () => {
    expect(parseCliArgs(['pr', 'show', '7'], env)).toEqual({ ok: true, value: { command: 'pr show', pullRequestNumber: 7 } });
  });

  it('reads --help', () => {
    expect(parseCliArgs(['--help'], env)).toEqual({ ok: true, value: { command: 'help' } });
  });

  it.each([
    [[], /command must be approve, reject, status or pr/],
    [['merge', 'incident-1-c'], /command must be approve, reject, status or pr/],
    [['approve'], /incident id is required/],
    [['reject', 'incident-1-c'], /reject requires --reason/],
    [['reject', 'incident-1-c', '--reason', '   '], /--reason must not be empty/],
    [['approve', 'incident-1-c', '--by', ''], /--by must not be empty/],
    [['approve', 'incident-1-c', 'incident-2-c'], /too many arguments/],
    [['approve', 'incident-1-c', '--force'], /Unknown option '--force'/],
    [['approve', 'incident-1-c', '--reason'], /argument missing/],
    [['status', 'incident-1-c', '--reason', 'why'], /status takes no --reason/],
    [['status', 'incident-1-c', '--by', 'me'], /status takes no --by/],
    [['pr'], /pr takes one subcommand: pr show <number>/],
    [['pr', 'list', '7'], /pr takes one subcommand/],
    [['pr', 'show'], /pull request number is required/],
    [['pr', 'show', '0'], /positive integer/],
    [['pr', 'show', '7x'], /positive integer/],
    [['pr', 'show', '7', '8'], /too many arguments/],
    [['pr', 'show', '7', '--by', 'me'], /pr show takes no --by/],
  ])('refuses %j', (argv, message) => {
    const parsed = parseCliArgs(argv, env);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toMatch(message);
  });
});

function capture(extraEnv: NodeJS.ProcessEnv = {}): CliIo & { lines: { out: string[]; err: string[] } } {
  const lines = { out: [] as string[], err: [] as string[] };
  return {
    lines,
    out: (text) => lines.out.push(text),
    err: (text) => lines.err.push(text),
    env: { USER: 'dana', TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE: 'default', ...extraEnv },
  };
}

describe('runCli', () => {
  it('prints the usage and exits 2 on bad input', async () => {
    const io = capture();
    expect(await runCli(['reject', 'incident-1-c'], io)).toBe(2);
    expect(io.lines.err.join('\n')).toContain('reject requires --reason');
    expect(io.lines.err.join('\n')).toContain(USAGE);
  });

  it('exits 1 with a clear message when the incident does not exist', async () => {
    const io = capture();
    expect(await runCli(['approve', 'incident-0-no-such-cycle'], io)).toBe(1);
    expect(io.lines.err).toEqual(['steward: incident incident-0-no-such-cycle was not found in namespace default or is already closed']);
  });

  it('signals the decision to a running incident', async () => {
    const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    try {
      const client = new Client({ connection });
      const workflowId = `incident-cli-${randomBytes(4).toString('hex')}`;
      // No worker runs in this test: the workflow only has to exist to receive the signal.
      await client.workflow.start(INCIDENT_WORKFLOW_TYPE, { workflowId, taskQueue: `cli-test-${workflowId}`, args: [] });
      const io = capture();

      expect(await runCli(['reject', workflowId, '--reason', 'not our bug'], io)).toBe(0);

      expect(io.lines.out).toEqual([`Rejected ${workflowId} as cli:dana: not our bug`]);
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      const signals = (history.events ?? []).flatMap((event) => {
        const signaled = event.workflowExecutionSignaledEventAttributes;
        return signaled ? [{ name: signaled.signalName, args: (signaled.input?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload(p)) }] : [];
      });
      expect(signals).toEqual([{ name: 'reject', args: [{ by: 'cli:dana', reason: 'not our bug' }] }]);
    } finally {
      await connection.close();
    }
  });
});

describe('runCli with a Steward worker and database', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await createHarness();
    await h.startWorker();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('status prints the incident state the workflow answers with', async () => {
    // A monitor that was never seeded: the run stops at its first read, so no sandbox work is started.
    const alert = h.alert({ monitorId: '990001' });
    const workflowId = incidentWorkflowId(alert.monitorId, alert.alertCycleKey);
    const handle = await h.client.workflow.start(INCIDENT_WORKFLOW_TYPE, { workflowId, taskQueue: h.taskQueue, args: [{ alert, policy: testPolicy() }] });
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    const io = capture();

    expect(await runCli(['status', workflowId], io)).toBe(0);

    expect(io.lines.err).toEqual([]);
    const state = JSON.parse(io.lines.out.join('\n')) as IncidentState;
    expect(state).toMatchObject({ incidentId: workflowId, monitorId: '990001', status: 'checking_duplicates', title: alert.title });
  });

  it('pr show prints the local code host record: title, branch, base, head, created, body and diff', async () => {
    const diff = 'diff --git a/src/pricing.js b/src/pricing.js\n--- a/src/pricing.js\n+++ b/src/pricing.js\n@@ -1 +1 @@\n-old\n+new\n';
    const { rows } = await h.pool.query<{ number: number; created_at: Date }>(
      `INSERT INTO local_pull_requests (repository, branch, base_revision, head_revision, title, body, diff, draft, incident_id)
       VALUES ($1, 'steward/incident-cli', $2, 'b'||repeat('0', 39), 'Fix: guard the missing coupon', 'Why: the coupon may be absent.', $3, true, 'incident-cli')
       RETURNING number, created_at`,
      [h.repositoryPath, h.revision, diff],
    );
    const { number, created_at: createdAt } = rows[0]!;
    const io = capture({ DATABASE_URL: h.databaseUrl });

    expect(await runCli(['pr', 'show', String(number)], io)).toBe(0);

    expect(io.lines.err).toEqual([]);
    const printed = io.lines.out.join('\n');
    expect(printed).toContain(`#${number} Fix: guard the missing coupon (draft)`);
    expect(printed).toContain('branch:    steward/incident-cli');
    expect(printed).toContain(`base:      ${h.revision}`);
    expect(printed).toContain(`head:      b${'0'.repeat(39)}`);
    expect(printed).toContain(`created:   ${createdAt.toISOString()}`);
    expect(printed).toContain('incident:  incident-cli');
    expect(printed).toContain(`local-git://${h.repositoryPath}/pulls/${number}`);
    expect(printed).toContain('--- body ---\nWhy: the coupon may be absent.');
    expect(printed).toContain(`--- diff ---\n${diff.trimEnd()}`);
  });

  it('pr show exits 1 naming the number when there is no such pull request', async () => {
    const io = capture({ DATABASE_URL: h.databaseUrl });
    expect(await runCli(['pr', 'show', '987654'], io)).toBe(1);
    expect(io.lines.err.join('\n')).toMatch(/the local code host has no pull request #987654/);
  });

  it('pr show without DATABASE_URL exits 2 naming the variable and the local stack default', async () => {
    const io = capture();
    expect(await runCli(['pr', 'show', '1'], io)).toBe(2);
    expect(io.lines.err.join('\n')).toMatch(/DATABASE_URL is not set: .*DATABASE_URL=postgres:\/\/steward@127\.0\.0\.1:54329\/steward/);
  });
});
