import { randomBytes } from 'node:crypto';
import { Client, Connection, defaultPayloadConverter, WorkflowFailedError } from '@temporalio/client';
import { loadCliConfig } from '../config/cli.config';
import { incidentWorkflowId, INCIDENT_WORKFLOW_TYPE } from '../contracts';
import type { IncidentState } from '../domain/incident';
import { createHarness, testPolicy, type Harness } from '../test/support/harness';
import { buildCliContext } from '../workers/cli-context';
import { parseCommandLine, runCli } from './program';

const env = { USER: 'dana' };

/** The command line as the program reads it: the request a command would run, or what it said was wrong. */
async function parseCliArgs(argv: string[], environment: NodeJS.ProcessEnv): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  const err: string[] = [];
  const parsed = await parseCommandLine(argv, { out: () => undefined, err: (text) => err.push(text) }, () => loadCliConfig(environment).defaultActor);
  if (!parsed.ok) return { ok: false, error: err.join('\n') };
  return { ok: true, value: parsed.help ? { command: 'help' } : parsed.planned.request };
}

describe('parseCliArgs', () => {
  it('reads approve with the defaults: by cli:$USER and a stock reason', async () => {
    expect(await parseCliArgs(['approve', 'incident-42-c1'], env)).toEqual({
      ok: true,
      value: { command: 'approve', incidentId: 'incident-42-c1', decision: { by: 'cli:dana', reason: 'approved from the CLI' } },
    });
  });

  it('reads approve with --by and --reason in any position', async () => {
    expect(await parseCliArgs(['--by', 'oncall:sam', 'approve', 'incident-42-c1', '--reason', 'diff reviewed'], env)).toEqual({
      ok: true,
      value: { command: 'approve', incidentId: 'incident-42-c1', decision: { by: 'oncall:sam', reason: 'diff reviewed' } },
    });
  });

  it('reads reject with its reason', async () => {
    expect(await parseCliArgs(['reject', 'incident-42-c1', '--reason=wrong root cause'], env)).toEqual({
      ok: true,
      value: { command: 'reject', incidentId: 'incident-42-c1', decision: { by: 'cli:dana', reason: 'wrong root cause' } },
    });
  });

  it('reads status', async () => {
    expect(await parseCliArgs(['status', 'incident-42-c1'], env)).toEqual({ ok: true, value: { command: 'status', incidentId: 'incident-42-c1', json: false } });
    expect(await parseCliArgs(['status', 'incident-42-c1', '--json'], env)).toEqual({ ok: true, value: { command: 'status', incidentId: 'incident-42-c1', json: true } });
  });

  it('reads pr show with its number', async () => {
    expect(await parseCliArgs(['pr', 'show', '7'], env)).toEqual({ ok: true, value: { command: 'pr show', pullRequestNumber: 7, json: false } });
    expect(await parseCliArgs(['pr', 'show', '7', '--json'], env)).toEqual({ ok: true, value: { command: 'pr show', pullRequestNumber: 7, json: true } });
  });

  it('reads --help', async () => {
    expect(await parseCliArgs(['--help'], env)).toEqual({ ok: true, value: { command: 'help' } });
    expect(await parseCliArgs(['approve', '--help'], env)).toEqual({ ok: true, value: { command: 'help' } });
    expect(await parseCliArgs(['help', 'approve'], env)).toEqual({ ok: true, value: { command: 'help' } });
    expect(await parseCliArgs(['sandbox', 'help'], env)).toEqual({ ok: true, value: { command: 'help' } });
  });

  // Usage errors are commander's wording (the missing command shows the help listing the commands); Steward's own checks keep theirs.
  it.each([
    [[], /Commands:\n\s+approve/],
    [['merge', 'incident-1-c'], /unknown command 'merge'/],
    [['approve'], /missing required argument 'incidentId'/],
    [['reject', 'incident-1-c'], /reject requires --reason/],
    [['reject', 'incident-1-c', '--reason', '   '], /--reason must not be empty/],
    [['approve', 'incident-1-c', '--by', ''], /--by must not be empty/],
    [['approve', 'incident-1-c', 'incident-2-c'], /too many arguments/],
    [['approve', 'incident-1-c', '--force'], /unknown option '--force'/],
    [['approve', 'incident-1-c', '--reason'], /argument missing/],
    [['approve', 'incident 1'], /the incident id must not contain spaces/],
    [['status', 'incident-1-c', '--reason', 'why'], /unknown option '--reason'/],
    [['status', 'incident-1-c', '--by', 'me'], /unknown option '--by'/],
    [['--reason', 'why', 'status', 'incident-1-c'], /status takes no --reason/],
    [['--by', 'me', 'status', 'incident-1-c'], /status takes no --by/],
    [['pr'], /Usage: steward pr [\s\S]*pr show \[options\] <number>/],
    [['pr', 'list', '7'], /unknown command 'list'/],
    [['pr', 'show'], /missing required argument 'number'/],
    [['pr', 'show', '0'], /positive integer/],
    [['pr', 'show', '7x'], /positive integer/],
    [['pr', 'show', '7', '8'], /too many arguments/],
    [['pr', 'show', '7', '--by', 'me'], /unknown option '--by'/],
    [['--by', 'me', 'pr', 'show', '7'], /pr show takes no --by/],
  ])('refuses %j', async (argv, message) => {
    const parsed = await parseCliArgs(argv, env);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toMatch(message);
  });
});

function capture(extraEnv: NodeJS.ProcessEnv = {}) {
  const lines = { out: [] as string[], err: [] as string[] };
  const environment = { USER: 'dana', TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE: 'default', ...extraEnv };
  const context = buildCliContext({ out: (text) => lines.out.push(text), err: (text) => lines.err.push(text), write: (chunk) => lines.out.push(chunk) }, environment);
  return { lines, context };
}

describe('runCli', () => {
  it('prints the usage and exits 2 on bad input', async () => {
    const io = capture();
    expect(await runCli(['reject', 'incident-1-c'], io.context)).toBe(2);
    expect(io.lines.err.join('\n')).toContain('reject requires --reason');
    expect(io.lines.err.join('\n')).toContain('Usage: steward reject [options] <incidentId>');
  });

  it('--help lists all five commands and exits 0', async () => {
    const io = capture();
    expect(await runCli(['--help'], io.context)).toBe(0);
    const help = io.lines.out.join('\n');
    expect(help).toMatch(/^Usage: steward /);
    for (const command of ['approve [options] <incidentId>', 'reject [options] <incidentId>', 'status [options] <incidentId>', 'deploy [options] <service> <revision>', 'pr show [options] <number>', 'sandbox run [options]']) {
      expect(help).toMatch(new RegExp(`^  ${command.replace(/[[\]]/g, '\\$&')}`, 'm'));
    }
    expect(io.lines.err).toEqual([]);
  });

  it.each([['approve', ['--by <name>', '--reason <text>']], ['reject', ['--by <name>', '--reason <text>']], ['status', ['--json']], ['deploy', ['--previous <rev>', '--environment <name>', '--deployed-at <iso>', '--build-failed', '--log <file>']], ['pr show', ['--json']], ['sandbox run', ['--repo', '--ref', '--setup', '--json', '--timeout']]])(
    '%s --help describes its options and exits 0',
    async (command, options) => {
      const io = capture();
      expect(await runCli([...command.split(' '), '--help'], io.context)).toBe(0);
      const help = io.lines.out.join('\n');
      expect(help).toContain(`Usage: steward ${command} `);
      for (const option of options) expect(help).toContain(option);
    },
  );

  it.each([
    [['bogus'], "steward: unknown command 'bogus'"],
    [[], 'Usage: steward [options] [command]'],
    [['approve'], "steward: missing required argument 'incidentId'"],
    [['status'], "steward: missing required argument 'incidentId'"],
    [['approve', 'incident-1-c', '--force'], "steward: unknown option '--force'"],
    [['sandbox'], 'Usage: steward sandbox [options] [command]'],
  ])('exits 2 on bad usage: %j', async (argv, message) => {
    const io = capture();
    expect(await runCli(argv, io.context)).toBe(2);
    expect(io.lines.err.join('\n')).toContain(message);
    expect(io.lines.out).toEqual([]);
  });

  it('exits 2 naming the variable when the environment is invalid', async () => {
    const io = capture({ STEWARD_PAYLOAD_OFFLOAD_BYTES: 'lots' });
    expect(await runCli(['status', 'incident-1-c'], io.context)).toBe(2);
    expect(io.lines.err.join('\n')).toMatch(/^steward: invalid environment: STEWARD_PAYLOAD_OFFLOAD_BYTES: /);
  });

  it('exits 1 naming TEMPORAL_ADDRESS when Temporal cannot be reached', async () => {
    const io = capture({ TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(await runCli(['approve', 'incident-1-c'], io.context)).toBe(1);
    expect(io.lines.err.join('\n')).toMatch(/^steward: cannot reach Temporal at 127\.0\.0\.1:1 \(TEMPORAL_ADDRESS\)/);
  });

  it('exits 1 with a clear message when the incident does not exist', async () => {
    const io = capture();
    expect(await runCli(['approve', 'incident-0-no-such-cycle'], io.context)).toBe(1);
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

      expect(await runCli(['reject', workflowId, '--reason', 'not our bug'], io.context)).toBe(0);

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

    expect(await runCli(['status', workflowId], io.context)).toBe(0);

    expect(io.lines.err).toEqual([]);
    const state = JSON.parse(io.lines.out.join('\n')) as IncidentState;
    expect(state).toMatchObject({ incidentId: workflowId, monitorId: '990001', status: 'checking_duplicates', title: alert.title });
  });

  it('status --json prints the same state as one line of JSON', async () => {
    const alert = h.alert({ monitorId: '990002' });
    const workflowId = incidentWorkflowId(alert.monitorId, alert.alertCycleKey);
    const handle = await h.client.workflow.start(INCIDENT_WORKFLOW_TYPE, { workflowId, taskQueue: h.taskQueue, args: [{ alert, policy: testPolicy() }] });
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    const pretty = capture();
    const json = capture();

    expect(await runCli(['status', workflowId], pretty.context)).toBe(0);
    expect(await runCli(['status', workflowId, '--json'], json.context)).toBe(0);

    expect(json.lines.err).toEqual([]);
    expect(json.lines.out).toHaveLength(1);
    expect(json.lines.out[0]).not.toContain('\n');
    const state = JSON.parse(json.lines.out[0]!) as IncidentState;
    expect(state).toMatchObject({ incidentId: workflowId, monitorId: '990002', status: 'checking_duplicates', title: alert.title });
    expect(state).toEqual(JSON.parse(pretty.lines.out.join('\n')));
  });

  it('status exits 1 when the incident does not exist, without the closed hint of a decision', async () => {
    const io = capture();
    expect(await runCli(['status', 'incident-0-no-such-cycle', '--json'], io.context)).toBe(1);
    expect(io.lines.err).toEqual(['steward: incident incident-0-no-such-cycle was not found in namespace default']);
    expect(io.lines.out).toEqual([]);
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

    expect(await runCli(['pr', 'show', String(number)], io.context)).toBe(0);

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

  it('pr show --json prints the record as one JSON object', async () => {
    const { rows } = await h.pool.query<{ number: number }>(
      `INSERT INTO local_pull_requests (repository, branch, base_revision, head_revision, title, body, diff, draft, incident_id)
       VALUES ($1, 'steward/incident-cli-json', $2, 'c'||repeat('0', 39), 'Fix: as JSON', 'Body.', 'diff', false, 'incident-cli-json')
       RETURNING number`,
      [h.repositoryPath, h.revision],
    );
    const { number } = rows[0]!;
    const io = capture({ DATABASE_URL: h.databaseUrl });

    expect(await runCli(['pr', 'show', String(number), '--json'], io.context)).toBe(0);

    expect(io.lines.out).toHaveLength(1);
    expect(JSON.parse(io.lines.out[0]!)).toMatchObject({ number, title: 'Fix: as JSON', branch: 'steward/incident-cli-json', draft: false, incidentId: 'incident-cli-json', url: `local-git://${h.repositoryPath}/pulls/${number}` });
  });

  it('pr show exits 1 naming the number when there is no such pull request', async () => {
    const io = capture({ DATABASE_URL: h.databaseUrl });
    expect(await runCli(['pr', 'show', '987654'], io.context)).toBe(1);
    expect(io.lines.err.join('\n')).toMatch(/the local code host has no pull request #987654/);
  });

  it('pr show without DATABASE_URL exits 2 naming the variable and the local stack default', async () => {
    const io = capture();
    expect(await runCli(['pr', 'show', '1'], io.context)).toBe(2);
    expect(io.lines.err.join('\n')).toMatch(/DATABASE_URL is not set: .*DATABASE_URL=postgres:\/\/steward@127\.0\.0\.1:54329\/steward/);
  });
});
