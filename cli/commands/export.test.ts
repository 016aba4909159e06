import * as fs from 'node:fs';
import * as path from 'node:path';
import { PostgresSignatureStore } from '../../adapters/postgres-signature-store.adapter';
import { getLocalPullRequest } from '../../adapters/local-git-code-host.adapter';
import { TRIAGE_SYSTEM_PROMPT } from '../../activities/triage/triage.prompt';
import {
  alertDeliveredSignal,
  DEPLOY_WATCH_WORKFLOW_TYPE,
  deployWatchStateQuery,
  deployWatchWorkflowId,
  incidentStateQuery,
  incidentWorkflowId,
  INCIDENT_WORKFLOW_TYPE,
  type DeployWatchPolicy,
  type DeployWatchWorkflowInput,
  type IncidentWorkflowInput,
} from '../../contracts';
import { PostgresAgentConversations } from '../../adapters/postgres-agent-conversation.adapter';
import { InMemoryLogs } from '../../test/fakes/in-memory-logs';
import { createHarness, sandboxQueueFor, testPolicy, type Harness } from '../../test/support/harness';
import { buildCliContext } from '../../workers/cli-context';
import { runCli } from '../program';

/**
 * `steward export` on runs the workflow tests' way: a real worker on the run's dev server takes the
 * demo alert to its PR (with a small offload threshold, so that the history keeps references that
 * the export must read back from the payload store), and a deploy watch polls a clean deploy; the
 * CLI then exports each from Temporal and Postgres, and the files are checked against the run.
 */
describe('steward export', () => {
  let h: Harness;
  let scratch: string;
  const logs = new InMemoryLogs();
  const OFFLOAD_BYTES = 2_048;

  beforeAll(async () => {
    h = await createHarness();
    await h.startWorker({ payloadOffloadBytes: OFFLOAD_BYTES, ports: { logs, signatures: new PostgresSignatureStore(h.pool) } });
    scratch = fs.mkdtempSync(path.join(h.dataDir, 'exports-'));
  });
  afterAll(async () => {
    await h?.close();
  });

  async function steward(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const env = { TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS, DATABASE_URL: h.databaseUrl, STEWARD_PAYLOAD_OFFLOAD_BYTES: String(OFFLOAD_BYTES), STEWARD_DATA_DIR: h.dataDir };
    const code = await runCli(argv, buildCliContext({ out: (t) => out.push(t), err: (t) => err.push(t), write: (t) => out.push(t) }, env));
    return { code, out, err };
  }
  const read = (dir: string, file: string): string => fs.readFileSync(path.join(dir, file), 'utf8');

  it('exports an incident taken to its PR: triage, reproduction, the agent turns of each attempt, the PR body and the cost, payloads read back from the store', async () => {
    const alert = h.alert();
    const incidentId = incidentWorkflowId(alert.monitorId, alert.alertCycleKey);
    const handle = await h.client.workflow.signalWithStart(INCIDENT_WORKFLOW_TYPE, {
      workflowId: incidentId,
      taskQueue: h.taskQueue,
      args: [{ alert, policy: testPolicy({ sandboxTaskQueue: sandboxQueueFor(h.taskQueue) }) } satisfies IncidentWorkflowInput],
      signal: alertDeliveredSignal,
      signalArgs: [alert],
    });
    expect(await handle.result()).toMatchObject({ status: 'pr_opened' });
    const state = await handle.query(incidentStateQuery);

    const dir = path.join(scratch, 'incident');
    const exported = await steward(['export', incidentId, dir]);
    expect(exported.err).toEqual([]);
    expect(exported.code).toBe(0);
    const files = fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
    expect(exported.out).toEqual([dir, expect.stringMatching(new RegExp(`^${files.length} files: the incident ${incidentId}`))]);

    // The triage answer is the run's triage; its prompt is the one the ledger kept.
    expect(JSON.parse(read(dir, 'triage/answer.json'))).toEqual(state.triage);
    const prompt = read(dir, 'triage/prompt.md');
    expect(prompt).toContain(TRIAGE_SYSTEM_PROMPT.split('\n')[0]);
    expect(prompt).toContain(`Monitor ${alert.monitorId}`);
    expect(JSON.parse(read(dir, 'alert.json'))).toEqual(alert);
    expect(JSON.parse(read(dir, 'monitor.json')).monitor).toMatchObject({ id: alert.monitorId });
    // The reproduction test as written, and its runs.
    expect(read(dir, `reproduction/test/${state.reproduction!.testPath}`)).toBe(state.reproduction!.testContent!.replace(/\n?$/, '\n'));
    expect(read(dir, 'reproduction/runs/01-reproduction.md')).toContain(`exit code: ${state.reproduction!.before.exitCode}`);

    // Attempt 1 has the agent's turns, one file per stored message, tool calls and results included.
    const conversation = await new PostgresAgentConversations(h.pool).load({ incidentId, attempt: 1 });
    const turns = fs.readdirSync(path.join(dir, 'attempts/1/turns')).sort();
    expect(turns).toHaveLength(conversation.length);
    const firstAnswer = conversation.find((m) => m.message.role === 'assistant')!.message as { toolCalls: { name: string; id: string }[] };
    expect(read(dir, `attempts/1/turns/${turns[1]}`)).toContain(`## Tool call ${firstAnswer.toolCalls[0]!.name} (\`${firstAnswer.toolCalls[0]!.id}\`)`);
    expect(read(dir, 'attempts/1/README.md')).toContain('# Fix attempt 1: rejected');
    expect(read(dir, 'attempts/2/README.md')).toContain('# Fix attempt 2: verified');
    expect(read(dir, 'attempts/2/diff.patch')).toContain('+  if (coupon === undefined || coupon === null) return 0;');
    expect(fs.readdirSync(path.join(dir, 'attempts/2/verification')).length).toBeGreaterThan(0);
    expect(read(dir, 'attempts/2/self-review.md')).toContain('Approved: yes');

    // The PR body is the local code host's.
    const pr = await getLocalPullRequest(h.pool, state.pullRequest!.number);
    const prFile = read(dir, 'pull-request.md');
    expect(prFile).toContain("the local code host's record");
    expect(prFile.endsWith(`${pr!.body.replace(/\n?$/, '\n')}`)).toBe(true);

    // Cost per step, from the ledger; the README says how many payloads came back from the store.
    expect(read(dir, 'cost.md')).toMatch(/\| triage \| 1 \|/);
    const readme = read(dir, 'README.md');
    const offloaded = Number(/(\d+) payloads held as references were read back/.exec(readme)?.[1]);
    expect(offloaded).toBeGreaterThan(0);
    expect(readme).toContain('ended **pr_opened**');
    expect(readme).not.toContain('conversation store holds no messages');
    const timeline = read(dir, 'timeline.md');
    expect(timeline).toContain('ledger closed:');
    expect(timeline).toContain('activity openPullRequest completed');

    // The directory now holds a tree: a second export refuses it, unless told to replace it.
    const again = await steward(['export', incidentId, dir]);
    expect(again.code).toBe(1);
    expect(again.err.join('\n')).toContain('is not empty');
    fs.writeFileSync(path.join(dir, 'stray.txt'), 'left by hand');
    expect((await steward(['export', incidentId, dir, '--force'])).code).toBe(0);
    expect(fs.existsSync(path.join(dir, 'stray.txt'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'README.md'))).toBe(true);
  });

  it('exports a deploy watch with the live test at each poll', async () => {
    const MINUTE = 60_000;
    const deployedAt = Date.now() - 30 * MINUTE;
    const service = 'export-quiet-svc';
    for (let at = deployedAt - 2 * 24 * 60 * MINUTE; at < deployedAt + 60 * MINUTE; at += 90_000) {
      logs.add({ service, timestamp: new Date(at).toISOString(), message: `upstream timeout after ${Math.floor(at) % 997} ms` });
    }
    const policy: DeployWatchPolicy = {
      baselineDays: 2,
      baselineMaxLogs: 100_000,
      pollMs: 5 * MINUTE,
      horizonMs: 20 * MINUTE,
      ingestionLagMs: 0,
      lookbackDeploys: 3,
      falseAlarmRate: 0.01,
      response: { rollbackMinSeverity: 'P1', fixForwardMinConfidence: 0.7 },
    };
    const deploy = { service, revision: 'rev-export-1', previousRevision: 'rev-export-0', environment: 'production', deployedAt: new Date(deployedAt).toISOString(), build: { status: 'success' as const, log: null, logUrl: null }, source: 'webhook' as const };
    const watchId = deployWatchWorkflowId(service, deploy.revision);
    const handle = await h.client.workflow.start<(input: DeployWatchWorkflowInput) => Promise<unknown>>(DEPLOY_WATCH_WORKFLOW_TYPE, { taskQueue: h.taskQueue, workflowId: watchId, args: [{ deploy, policy }] });
    expect(await handle.result()).toMatchObject({ verdict: 'clean' });
    const state = await handle.query(deployWatchStateQuery);

    const dir = path.join(scratch, 'watch');
    const exported = await steward(['export', watchId, dir]);
    expect(exported.err).toEqual([]);
    expect(exported.code).toBe(0);
    expect(exported.out[1]).toContain(`the deploy watch ${watchId}`);
    const polls = fs.readdirSync(path.join(dir, 'polls')).filter((f) => /^\d{3}\.md$/.test(f));
    expect(polls).toHaveLength(state.pollsDone);
    // The last poll's evidence is the one the watch shows.
    const last = read(dir, `polls/${String(state.pollsDone).padStart(3, '0')}.md`);
    for (const top of state.top) expect(last).toContain(`| \`${top.signature}\` |`);
    expect(JSON.parse(read(dir, 'deploy.json'))).toEqual(deploy);
    expect(read(dir, 'README.md')).toContain('verdict **clean**');
  });

  it('fails plainly for a workflow that does not exist, and for a --backtest folder that is no back-test', async () => {
    const missing = await steward(['export', 'incident-nobody-ever', path.join(scratch, 'none')]);
    expect(missing.code).toBe(1);
    expect(missing.err.join('\n')).toContain('no workflow incident-nobody-ever');
    expect(fs.existsSync(path.join(scratch, 'none'))).toBe(false);
    const twoArguments = await steward(['export', '--backtest', path.join(scratch, 'bt'), 'incident-x', path.join(scratch, 'out')]);
    expect(twoArguments.code).toBe(2);
    expect(twoArguments.err.join('\n')).toContain('--backtest takes the directory to write as the only argument');
    const notABacktest = await steward(['export', '--backtest', path.join(scratch, 'bt'), path.join(scratch, 'bt-out')]);
    expect(notABacktest.code).toBe(1);
    expect(notABacktest.err.join('\n')).toContain('there is no cases/ folder there');
  });
});
