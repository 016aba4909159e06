import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadCliConfig } from '../../config/cli.config';
import { deployWatchWorkflowId } from '../../contracts';
import { BUILD_LOG_MAX_CHARS, type DeployEvent } from '../../domain/deploy';
import { startDeployWatchStandIn } from '../../test/support/deploy-watch-stand-in';
import { standInRecordQuery } from '../../test/support/deploy-watch-stand-in.workflow';
import { cliContextFor } from '../../test/support/cli-context';
import type { CliContext } from '../context';
import { runCli } from '../program';

/** `steward deploy` against the run's Temporal dev server, with the deploy watch's stand-in on a worker. */
describe('steward deploy', () => {
  const taskQueue = `cli-deploy-${randomBytes(4).toString('hex')}`;
  let connection: Connection;
  let client: Client;
  let standIn: { stop(): Promise<void> };
  let scratch: string;
  let connections = 0;

  beforeAll(async () => {
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    client = new Client({ connection, namespace: 'default' });
    standIn = await startDeployWatchStandIn(taskQueue);
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-cli-deploy-'));
  });

  afterAll(async () => {
    await standIn?.stop();
    await connection?.close();
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  function run(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const unused = (): never => {
      throw new Error('deploy must reach only Temporal');
    };
    const context: CliContext = cliContextFor({
      io: { out: (text) => out.push(text), err: (text) => err.push(text), write: unused },
      config: () => loadCliConfig({ TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS, STEWARD_TASK_QUEUE: taskQueue, ...env }),
      connectTemporal: async () => {
        connections += 1;
        // The test's connection is shared: closing the session leaves it open.
        return { client: client.workflow, close: async () => undefined };
      },
    });
    return runCli(argv, context).then((code) => ({ code, out, err }));
  }

  async function deliveriesOf(watchId: string, count: number): Promise<{ deliveries: DeployEvent[]; pollMs: number }> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const record = await client.workflow.getHandle(watchId).query(standInRecordQuery);
      if (record.deliveries.length >= count || Date.now() > deadline) return { deliveries: record.deliveries, pollMs: record.input.policy.pollMs };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('starts the watch of a deploy, then joins it, printing the watch id each time', async () => {
    const revision = randomBytes(20).toString('hex');
    const watchId = deployWatchWorkflowId('checkout-service', revision);
    const argv = ['deploy', 'checkout-service', revision, '--previous', 'v1.4.1', '--environment', 'production', '--deployed-at', '2026-11-21T10:02:44Z'];

    const first = await run(argv, { STEWARD_REGRESSION_POLL: '30s' });
    expect(first).toMatchObject({ code: 0, err: [] });
    expect(first.out).toEqual([expect.stringMatching(new RegExp(`^Started ${watchId} \\(run [0-9a-f-]+\\): checkout-service at ${revision}$`))]);

    const second = await run(argv);
    expect(second.code).toBe(0);
    expect(second.out[0]).toMatch(new RegExp(`^Joined ${watchId} `));

    const { deliveries, pollMs } = await deliveriesOf(watchId, 2);
    expect(pollMs).toBe(30_000);
    expect(deliveries[0]).toEqual({
      service: 'checkout-service',
      revision,
      previousRevision: 'v1.4.1',
      environment: 'production',
      deployedAt: '2026-11-21T10:02:44.000Z',
      build: null,
      source: 'cli',
    });
  });

  it('sends a failed build with its log, keeping the tail of one too long and saying so', async () => {
    const revision = 'v2.0.0-rc.1';
    const logFile = path.join(scratch, 'build.log');
    const log = `${'step ok\n'.repeat(BUILD_LOG_MAX_CHARS / 8)}Error: tests failed\n`;
    fs.writeFileSync(logFile, log);

    const result = await run(['deploy', 'checkout-service', revision, '--build-failed', '--log', logFile]);

    expect(result.code).toBe(0);
    expect(result.out[0]).toMatch(/, build failed$/);
    expect(result.err).toEqual([`steward: ${logFile} has ${log.length} characters; sending its last ${BUILD_LOG_MAX_CHARS}`]);
    const [delivered] = (await deliveriesOf(deployWatchWorkflowId('checkout-service', revision), 1)).deliveries;
    expect(delivered!.build!.status).toBe('failure');
    expect(delivered!.build!.log!.length).toBeLessThanOrEqual(BUILD_LOG_MAX_CHARS);
    expect(delivered!.build!.log!.endsWith('Error: tests failed\n')).toBe(true);
  });

  it.each([
    [['deploy', 'checkout-service', 'v1', '--log', 'build.log'], '--log needs --build-failed'],
    [['deploy', 'checkout-service', 'not a revision!'], '<revision>: a revision is a commit sha, tag or branch name'],
    [['deploy', 'checkout-service', 'v1', '--deployed-at', 'yesterday'], '--deployed-at: '],
    [['deploy', 'checkout-service'], "missing required argument 'revision'"],
  ])('refuses %j as bad usage (exit 2) without reaching Temporal', async (argv, message) => {
    const before = connections;
    const result = await run(argv);
    expect(result.code).toBe(2);
    expect(result.err.join('\n')).toContain(message);
    expect(connections).toBe(before);
  });

  it('fails (exit 1) on a log file it cannot read', async () => {
    const missing = path.join(scratch, 'no-such.log');
    const result = await run(['deploy', 'checkout-service', 'v1', '--build-failed', '--log', missing]);
    expect(result.code).toBe(1);
    expect(result.err[0]).toMatch(new RegExp(`^steward: cannot read --log ${missing}: ENOENT`));
  });
});
