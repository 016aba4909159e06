import { randomBytes } from 'node:crypto';
import { Client, Connection, defaultPayloadConverter } from '@temporalio/client';
import { DEPLOY_WATCH_WORKFLOW_TYPE, deployWatchWorkflowId } from '../../contracts';
import { buildCliContext } from '../../workers/cli-context';
import { parseCommandLine, runCli } from '../program';

function capture() {
  const lines = { out: [] as string[], err: [] as string[] };
  const environment = { USER: 'dana', TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE: 'default' };
  const context = buildCliContext({ out: (text) => lines.out.push(text), err: (text) => lines.err.push(text), write: (chunk) => lines.out.push(chunk) }, environment);
  return { lines, context };
}

async function parse(argv: string[]) {
  const err: string[] = [];
  const parsed = await parseCommandLine(argv, { out: () => undefined, err: (text) => err.push(text) }, () => 'cli:dana');
  return parsed.ok && !parsed.help ? { ok: true, request: parsed.planned.request } : { ok: false, error: err.join('\n') };
}

describe('steward decide-deploy', () => {
  it.each([
    [['decide-deploy', 'deploy-checkout-abc', 'roll-back'], { action: 'rollBack', decision: { by: 'cli:dana', reason: 'roll-back from the CLI' } }],
    [['decide-deploy', 'deploy-checkout-abc', 'fix-forward', '--reason', 'the cause is clear'], { action: 'fixForward', decision: { by: 'cli:dana', reason: 'the cause is clear' } }],
    [['--by', 'oncall:sam', 'decide-deploy', 'deploy-checkout-abc', 'dismiss'], { action: 'reject', decision: { by: 'oncall:sam', reason: 'dismiss from the CLI' } }],
  ])('reads %j', async (argv, expected) => {
    expect(await parse(argv)).toEqual({ ok: true, request: { command: 'decide-deploy', watchId: 'deploy-checkout-abc', ...expected } });
  });

  it.each([
    [['decide-deploy', 'deploy-checkout-abc'], /missing required argument 'decision'/],
    [['decide-deploy', 'deploy-checkout-abc', 'revert'], /the decision is roll-back, fix-forward or dismiss/],
    [['decide-deploy', 'deploy checkout', 'dismiss'], /the watch id must not contain spaces/],
    [['decide-deploy', 'deploy-checkout-abc', 'dismiss', '--reason', '  '], /--reason must not be empty/],
  ])('refuses %j', async (argv, message) => {
    const parsed = await parse(argv);
    expect(parsed.ok).toBe(false);
    expect(parsed.error).toMatch(message);
  });

  it('signals the decision to a running watch, and says so', async () => {
    const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    try {
      const client = new Client({ connection });
      const watchId = deployWatchWorkflowId('checkout-service', randomBytes(6).toString('hex'));
      // No worker runs the watch: it only has to exist to receive the signal.
      await client.workflow.start(DEPLOY_WATCH_WORKFLOW_TYPE, { workflowId: watchId, taskQueue: `cli-test-${watchId}`, args: [] });
      const io = capture();

      expect(await runCli(['decide-deploy', watchId, 'roll-back', '--reason', 'errors on every checkout'], io.context)).toBe(0);

      expect(io.lines.out).toEqual([`Rolling back: ${watchId} as cli:dana: errors on every checkout`]);
      const history = await client.workflow.getHandle(watchId).fetchHistory();
      const signals = (history.events ?? []).flatMap((event) => {
        const signaled = event.workflowExecutionSignaledEventAttributes;
        return signaled ? [{ name: signaled.signalName, args: (signaled.input?.payloads ?? []).map((p) => defaultPayloadConverter.fromPayload(p)) }] : [];
      });
      expect(signals).toEqual([{ name: 'deployDecision', args: [{ action: 'rollBack', by: 'cli:dana', reason: 'errors on every checkout' }] }]);
    } finally {
      await connection.close();
    }
  });

  it('exits 1 saying the watch is not running', async () => {
    const io = capture();
    expect(await runCli(['decide-deploy', 'deploy-checkout-service-nope', 'dismiss'], io.context)).toBe(1);
    expect(io.lines.err.join('\n')).toContain('deploy-checkout-service-nope');
    expect(io.lines.err.join('\n')).toMatch(/not found|does not exist/);
  });
});
