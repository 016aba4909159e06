import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { loadCliConfig } from '../../config/cli.config';
import { monitorGenerationWorkflowId } from '../../contracts';
import { startDeployWatchStandIn } from '../../test/support/deploy-watch-stand-in';
import { generationStandInInputQuery, standInFinishSignal } from '../../test/support/deploy-watch-stand-in.workflow';
import { cliContextFor } from '../../test/support/cli-context';
import type { CliContext } from '../context';
import { runCli } from '../program';

/** `steward monitors generate` against the run's Temporal dev server, with monitor generation's stand-in on a worker. */
describe('steward monitors generate', () => {
  const taskQueue = `cli-monitors-${randomBytes(4).toString('hex')}`;
  let connection: Connection;
  let client: Client;
  let standIn: { stop(): Promise<void> };
  let scratch: string;
  let servicesFile: string;
  let connections = 0;

  beforeAll(async () => {
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
    client = new Client({ connection, namespace: 'default' });
    standIn = await startDeployWatchStandIn(taskQueue);
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-cli-monitors-'));
    const service = { repository: '/srv/checkout', testCommand: 'npm test', singleTestCommand: 'node --test {file}', githubRepository: 'acme/shop' };
    servicesFile = path.join(scratch, 'services.json');
    fs.writeFileSync(servicesFile, JSON.stringify({ 'checkout-service': service, 'checkout-worker': service, 'billing': { ...service, githubRepository: 'acme/billing' } }));
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
      throw new Error('monitors generate must reach only Temporal');
    };
    const context: CliContext = cliContextFor({
      io: { out: (text) => out.push(text), err: (text) => err.push(text), write: unused },
      config: () => loadCliConfig({ TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS, STEWARD_TASK_QUEUE: taskQueue, STEWARD_SERVICES_FILE: servicesFile, ...env }),
      connectTemporal: async () => {
        connections += 1;
        return { client: client.workflow, close: async () => undefined };
      },
    });
    return runCli(argv, context).then((code) => ({ code, out, err }));
  }

  it('starts the generation of a merged PR for every service of its repository, joins it, and stands down once it ran', async () => {
    const number = 1_000 + Math.floor(Math.random() * 1_000_000);
    const generationId = monitorGenerationWorkflowId('acme/shop', { kind: 'pull_request', number, mergeCommitSha: null, title: null, author: null, url: null });
    const first = await run(['monitors', 'generate', 'checkout-service', '--pr', String(number)], { STEWARD_MONITORS_PER_CHANGE_CAP: '3' });
    expect(first).toMatchObject({ code: 0, err: [] });
    expect(first.out).toEqual([expect.stringMatching(new RegExp(`^Started ${generationId} \\(run [0-9a-f-]+\\)$`))]);
    const input = await client.workflow.getHandle(generationId).query(generationStandInInputQuery);
    expect(input).toMatchObject({ repository: 'acme/shop', services: ['checkout-service', 'checkout-worker'], trigger: 'cli', change: { kind: 'pull_request', number, mergeCommitSha: null }, policy: { perChangeCap: 3 } });

    expect((await run(['monitors', 'generate', 'checkout-worker', '--pr', String(number)])).out[0]).toMatch(new RegExp(`^Joined ${generationId} `));
    await client.workflow.getHandle(generationId).signal(standInFinishSignal);
    await client.workflow.getHandle(generationId).result();
    expect((await run(['monitors', 'generate', 'checkout-service', '--pr', String(number)])).out[0]).toBe(`${generationId} already ran: its monitors stand, and nothing was generated again`);
  });

  it('starts a commit\'s generation by its full sha', async () => {
    const sha = randomBytes(20).toString('hex');
    const result = await run(['monitors', 'generate', 'billing', '--commit', sha.toUpperCase()]);
    expect(result.code).toBe(0);
    const input = await client.workflow.getHandle(monitorGenerationWorkflowId('acme/billing', { kind: 'commit', sha })).query(generationStandInInputQuery);
    expect(input).toMatchObject({ repository: 'acme/billing', services: ['billing'], change: { kind: 'commit', sha } });
  });

  it.each([
    [['monitors', 'generate', 'checkout-service'], 'give exactly one of --pr <number> and --commit <sha>'],
    [['monitors', 'generate', 'checkout-service', '--pr', '3', '--commit', 'a'.repeat(40)], 'give exactly one of'],
    [['monitors', 'generate', 'checkout-service', '--pr', 'three'], '--pr: the pull request number'],
    [['monitors', 'generate', 'checkout-service', '--commit', 'abc123'], '--commit: the merge commit, as its full 40-character sha'],
  ])('refuses %j as bad usage (exit 2) without reaching Temporal', async (argv, message) => {
    const before = connections;
    const result = await run(argv);
    expect(result.code).toBe(2);
    expect(result.err.join('\n')).toContain(message);
    expect(connections).toBe(before);
  });

  it('fails (exit 1) for a service the services file does not name, without reaching Temporal', async () => {
    const before = connections;
    const result = await run(['monitors', 'generate', 'payments', '--pr', '4']);
    expect(result.code).toBe(1);
    expect(result.err[0]).toBe('steward: no service "payments" in the services file; configured: checkout-service, checkout-worker, billing');
    expect(connections).toBe(before);
  });
});
