import { randomBytes } from 'node:crypto';
import { Client, Connection, defaultPayloadConverter } from '@temporalio/client';
import { INCIDENT_WORKFLOW_TYPE } from '../contracts';
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

  it('reads --help', () => {
    expect(parseCliArgs(['--help'], env)).toEqual({ ok: true, value: { command: 'help' } });
  });

  it.each([
    [[], /command must be approve, reject or status/],
    [['merge', 'incident-1-c'], /command must be approve, reject or status/],
    [['approve'], /incident id is required/],
    [['reject', 'incident-1-c'], /reject requires --reason/],
    [['reject', 'incident-1-c', '--reason', '   '], /--reason must not be empty/],
    [['approve', 'incident-1-c', '--by', ''], /--by must not be empty/],
    [['approve', 'incident-1-c', 'incident-2-c'], /too many arguments/],
    [['approve', 'incident-1-c', '--force'], /Unknown option '--force'/],
    [['approve', 'incident-1-c', '--reason'], /argument missing/],
    [['status', 'incident-1-c', '--reason', 'why'], /status takes no --reason/],
    [['status', 'incident-1-c', '--by', 'me'], /status takes no --by/],
  ])('refuses %j', (argv, message) => {
    const parsed = parseCliArgs(argv, env);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toMatch(message);
  });
});

describe('runCli', () => {
  function capture(): CliIo & { lines: { out: string[]; err: string[] } } {
    const lines = { out: [] as string[], err: [] as string[] };
    return {
      lines,
      out: (text) => lines.out.push(text),
      err: (text) => lines.err.push(text),
      env: { USER: 'dana', TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE: 'default' },
    };
  }

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
