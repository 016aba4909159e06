import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Connection, WorkflowClient } from '@temporalio/client';
import { demoServicesConfig } from '../../config/config';
import { DEMO_TRANSCRIPT_PATH } from '../../config/paths';
import { BacktestCaseResult, resultPath, type BacktestSummary } from '../../evals/backtest/run-backtest';
import { demoAlertPayload, demoMonitor, ensureDemoRepository } from '../../infra/demo-fixtures';
import { createTestDatabase } from '../support/database';

/**
 * `steward backtest` on recorded incidents, through the real workflows on the dev server: the demo
 * incident reaches its PR, a noise alert tunes its monitor's copy, an incident with no recorded
 * reproduction fails at it. Killed after its first case and run again on the same --out, it runs
 * only what was not done, and no case's incident runs twice.
 */

const STEWARD_CLI = path.join(__dirname, '..', '..', 'bin', 'steward.cjs');

function runCli(args: string[], env: NodeJS.ProcessEnv, onLine: (line: string) => void = () => undefined): { done: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>; kill(): void } {
  const child = spawn(process.execPath, [STEWARD_CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const take = (chunk: Buffer): void => {
    output += chunk.toString();
    for (const line of chunk.toString().split('\n')) if (line) onLine(line);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  return {
    done: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, output }))),
    kill: () => child.kill('SIGKILL'),
  };
}

describe('steward backtest', () => {
  let root: string;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let connection: Connection;

  beforeAll(async () => {
    root = fs.mkdtempSync(path.join(process.env.STEWARD_TEST_ROOT ?? os.tmpdir(), 'backtest-'));
    // Sandboxes may run as an unprivileged uid that must reach their workspaces.
    fs.chmodSync(root, 0o711);
    database = await createTestDatabase();
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  });
  afterAll(async () => {
    await connection?.close();
    await database?.drop();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('runs recorded incidents through the workflows, resumes after a kill, and runs no case twice', async () => {
    const dataDir = path.join(root, 'data');
    const revision = ensureDemoRepository(demoServicesConfig(dataDir)['checkout-service']!.repository);
    const demoSteps = JSON.parse(fs.readFileSync(DEMO_TRANSCRIPT_PATH, 'utf8')).steps as Record<string, unknown>;
    const monitor = { ...demoMonitor(), createdBySteward: false };
    const incidents = path.join(root, 'incidents');
    fs.mkdirSync(incidents);
    const write = (id: string, alert: Record<string, string>, steps: Record<string, unknown>, monitorId = monitor.id): void =>
      fs.writeFileSync(
        path.join(incidents, `${id}.json`),
        JSON.stringify({
          id,
          provenance: { kind: 'hand_written', author: 'backtest.e2e.test' },
          alert: { ...alert, monitor_id: monitorId },
          monitor: { ...monitor, id: monitorId },
          transcript: { label: 'demo transcript', provenance: 'demo/transcript.json', steps },
        }),
      );
    write('coupon-bug', demoAlertPayload({ alertCycleKey: 'x', deployedRevision: revision }), demoSteps);
    const noiseTriage = { verdict: 'noise', severity: 'P3', confidence: 0.9, reasoning: 'A known spike.', suspectedArea: { files: [], summary: 'none' }, duplicateOf: null, monitorTuning: { criticalThreshold: 50, evaluationWindow: 'last_15m', reason: 'spikes of 10 are normal' } };
    write('quiet-spike', { ...demoAlertPayload({ alertCycleKey: 'x', deployedRevision: revision }), message: 'Error rate spike: Timeout waiting for upstream inventory' }, { triage: { response: noiseTriage } }, '4401002');
    const { reproduce: _dropped, ...triageOnly } = Object.fromEntries(Object.entries(demoSteps).filter(([step]) => step === 'triage')) as Record<string, unknown>;
    void _dropped;
    write('no-reproduction-recorded', { ...demoAlertPayload({ alertCycleKey: 'x', deployedRevision: revision }), message: 'RangeError: Invalid array length in shippingCents' }, triageOnly, '4401003');

    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(STEWARD_|SLACK_|TEMPORAL_|DATABASE_URL$|GITHUB_|DATADOG_|DD_)/.test(name)));
    const env = { ...inherited, TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS, DATABASE_URL: database.url, STEWARD_DATA_DIR: dataDir, STEWARD_SANDBOX_BACKEND: 'process' };
    const out = path.join(root, 'out');

    // The first run is killed as soon as its first case's result is on disk.
    let killed = false;
    const first = runCli(['backtest', incidents, '--out', out, '--concurrency', '1'], env, (line) => {
      if (!killed && /^(coupon-bug|quiet-spike|no-reproduction-recorded): /.test(line)) {
        killed = true;
        first.kill();
      }
    });
    const firstExit = await first.done;
    expect({ signal: firstExit.signal, output: killed ? 'killed after a case' : firstExit.output }).toEqual({ signal: 'SIGKILL', output: 'killed after a case' });
    const doneBefore = ['coupon-bug', 'quiet-spike', 'no-reproduction-recorded'].filter((id) => fs.existsSync(resultPath(out, id)));
    expect(doneBefore).toHaveLength(1);
    const firstResult = fs.readFileSync(resultPath(out, doneBefore[0]!), 'utf8');

    const second = await runCli(['backtest', incidents, '--out', out, '--concurrency', '2', '--json'], env).done;
    expect({ code: second.code, tail: second.code === 0 ? '' : second.output.slice(-3000) }).toEqual({ code: 0, tail: '' });
    const summary = JSON.parse(second.output.split('\n').filter((l) => l.startsWith('{')).at(-1)!) as BacktestSummary;
    expect(summary).toMatchObject({ cases: 3, skipped: 1, ran: 2 });
    // The case done before the kill was not run again: its result is as the first run wrote it.
    expect(fs.readFileSync(resultPath(out, doneBefore[0]!), 'utf8')).toBe(firstResult);

    const results = Object.fromEntries(['coupon-bug', 'quiet-spike', 'no-reproduction-recorded'].map((id) => [id, BacktestCaseResult.parse(JSON.parse(fs.readFileSync(resultPath(out, id), 'utf8')))]));
    expect(results['coupon-bug']).toMatchObject({ status: 'pr_opened', failedStep: null });
    expect(results['coupon-bug']!.timeToPrMs).toBeGreaterThan(0);
    expect(results['quiet-spike']).toMatchObject({ status: 'noise', failedStep: null });
    expect(results['no-reproduction-recorded']!.failedStep).toMatch(/reproduc/);
    expect(summary.failedByStep[results['no-reproduction-recorded']!.failedStep!]).toEqual(['no-reproduction-recorded']);
    expect(summary.byStatus).toMatchObject({ pr_opened: 1, noise: 1 });
    expect(summary.timeToPrMs.n).toBe(1);
    // The noise incident tuned the back-test's copy of its monitor, never a real one.
    const changes = fs.readFileSync(path.join(out, 'monitor-changes.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(changes).toEqual(expect.arrayContaining([expect.objectContaining({ monitorId: '4401002', change: 'tuning' })]));

    // One workflow run per case, across both processes.
    const client = new WorkflowClient({ connection });
    for (const result of Object.values(results)) {
      const runs: string[] = [];
      for await (const run of client.list({ query: `WorkflowId = '${result.incidentId}'` })) runs.push(run.runId);
      expect({ incident: result.incidentId, runs }).toEqual({ incident: result.incidentId, runs: [result.runId] });
    }
    expect(fs.readFileSync(path.join(out, 'summary.md'), 'utf8')).toContain('## Failed, by the step that failed');
  }, 600_000);
});
