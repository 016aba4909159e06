import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Connection, WorkflowClient } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { Pool } from 'pg';
import { createIncidentActivities } from '../activities';
import { MeteredModel } from '../activities/shared/metered-model';
import { ConsoleNotifier } from '../adapters/console-notifier.adapter';
import { LocalGitCodeHost } from '../adapters/local-git-code-host.adapter';
import { PostgresIncidentLedger } from '../adapters/postgres-incident-ledger.adapter';
import { RecordedCaseMonitors } from '../adapters/recorded-case-monitors.adapter';
import { ReplayModel } from '../adapters/replay-model.adapter';
import type { StewardConfig } from '../config/config';
import { incidentPolicyFromConfig } from '../config/policy';
import { temporalConnectionOptions } from '../config/temporal-connection';
import { incidentWorkflowId } from '../contracts';
import { alertFromDatadogPayload } from '../domain/alert';
import { FAILED_STEP_OF_STATUS, type BacktestCaseResult, type BacktestDriver } from '../evals/backtest/run-backtest';
import type { RecordedIncident } from '../evals/backtest/recorded-incident';
import { startLocalStack } from '../infra/local-stack';
import { ensureSearchAttributes } from '../infra/temporal-dev-server';
import type { ConversationRequest, ModelPort, ModelRequest } from '../ports/model.port';
import { migrate } from '../store/migrate';
import { runBacktestIncident } from '../use-cases/run-backtest-incident.use-case';
import { buildIncidentPorts } from './dependencies';
import { stewardDataConverter } from './temporal-data-converter';
import { createStewardWorkers } from './workers-by-role';

/**
 * The back-test's own Steward: an incident worker and a sandbox host in this process, on a task
 * queue of the --out folder's own (so a resumed back-test's worker picks up what a killed one left
 * in flight), over the configured Temporal server and database (the local stack by default). What
 * reaches the world is kept in the back-test: the model answers from each case's transcript, the
 * monitors are the cases' own copies, PRs are local git branches, notifications go to a file.
 */

const APPROVER = 'steward-backtest';

/** Each incident's answers from its own recorded transcript, by the incident id its model calls carry. */
class PerIncidentReplayModel implements ModelPort {
  private readonly models = new Map<string, ModelPort>();

  register(incidentId: string, transcriptPath: string): void {
    this.models.set(incidentId, new ReplayModel(transcriptPath));
  }

  complete(request: ModelRequest) {
    return this.modelOf(request.incidentId).complete(request);
  }

  converse(request: ConversationRequest) {
    return this.modelOf(request.incidentId).converse(request);
  }

  private modelOf(incidentId: string): ModelPort {
    const model = this.models.get(incidentId);
    if (!model) throw new Error(`the back-test has no recorded transcript for incident ${incidentId}`);
    return model;
  }
}

export interface RunningBacktest {
  driver: BacktestDriver;
  labels: string[];
  close(): Promise<void>;
}

export async function startBacktestSteward(config: StewardConfig, options: { outDir: string; log: (line: string) => void }): Promise<RunningBacktest> {
  const outDir = path.resolve(options.outDir);
  // The same folder, the same queue and incident ids: that is what lets a rerun resume.
  const key = createHash('sha256').update(outDir).digest('hex').slice(0, 12);
  const taskQueue = `steward-backtest-${key}`;
  const stack = await startLocalStack(config, options.log);
  const resolved: StewardConfig = {
    ...config,
    databaseUrl: stack.databaseUrl,
    temporal: { ...config.temporal, address: stack.temporalAddress, webUiUrl: stack.webUiUrl, taskQueue, sandboxTaskQueue: `${taskQueue}-sandboxes`, workerRoles: ['incident', 'sandbox'] },
  };
  const pool = new Pool({ connectionString: stack.databaseUrl, max: 10 });
  pool.on('error', () => undefined);
  await migrate(pool);
  const connectionOptions = temporalConnectionOptions(stack.temporalAddress, config.temporal.security);
  const clientConnection = await Connection.connect(connectionOptions);
  await ensureSearchAttributes(clientConnection, resolved.temporal.namespace);
  const dataConverter = stewardDataConverter(pool, resolved.temporal.payloadOffloadBytes);
  const client = new WorkflowClient({ connection: clientConnection, namespace: resolved.temporal.namespace, dataConverter });

  const transcriptsDir = path.join(outDir, 'transcripts');
  const replay = new PerIncidentReplayModel();
  const monitors = new RecordedCaseMonitors(path.join(outDir, 'monitor-changes.jsonl'));
  const ledger = new PostgresIncidentLedger(pool);
  const built = buildIncidentPorts(resolved, pool, { print: () => undefined });
  const ports = {
    ...built.ports,
    model: new MeteredModel(replay, ledger, resolved.modelPrices, null),
    monitors,
    codeHost: new LocalGitCodeHost({ pool }),
    notifier: new ConsoleNotifier({ deliveryLogPath: path.join(outDir, 'notifications.jsonl') }),
  };
  const workerConnection = await NativeConnection.connect(connectionOptions);
  const { workers } = await createStewardWorkers({ config: resolved, connection: workerConnection, clientConnection, activities: createIncidentActivities(ports), sandboxBackend: built.sandboxBackend, dataConverter, nightlyQaSchedules: false });
  const running = Promise.all(workers.map((w) => w.run()));
  // Back-tests answer the gate themselves and do not follow PRs: a PR ends the case.
  const policy = { ...incidentPolicyFromConfig(resolved, stack.webUiUrl), prFollowUpMs: 0 };

  const driver: BacktestDriver = {
    async runCase(incident: RecordedIncident): Promise<BacktestCaseResult> {
      const startedAt = new Date().toISOString();
      const alert = { ...alertFromDatadogPayload({ ...incident.alert, alert_cycle_key: `backtest-${key}-${incident.id}` }) };
      const incidentId = incidentWorkflowId(alert.monitorId, alert.alertCycleKey);
      const transcriptPath = path.join(transcriptsDir, `${incident.id}.json`);
      fs.mkdirSync(transcriptsDir, { recursive: true });
      fs.writeFileSync(transcriptPath, `${JSON.stringify({ kind: 'steward-model-transcript', ...incident.transcript }, null, 2)}\n`);
      replay.register(incidentId, transcriptPath);
      monitors.register({ ...incident.monitor });
      const run = await runBacktestIncident(client, { alert, incidentId, policy, taskQueue, approveAs: APPROVER, pollMs: 1_000, timeoutMs: 30_000 });
      const spend = await ledger.incidentSpend(incidentId);
      const status = run.outcome?.status ?? 'failed';
      return {
        kind: 'steward-backtest-case',
        id: incident.id,
        incidentId,
        runId: run.runId,
        status,
        outcome: run.outcome?.outcome ?? run.failure ?? 'the workflow failed',
        prUrl: run.outcome?.prUrl ?? null,
        failedStep: run.outcome ? (FAILED_STEP_OF_STATUS[status] ?? null) : (run.lastStatus ?? 'received'),
        signature: run.signature,
        timeToPrMs: run.timeToPrMs,
        costUsd: spend.costUsd,
        startedAt,
        finishedAt: new Date().toISOString(),
      };
    },
  };
  return {
    driver,
    labels: [
      `temporal: ${stack.temporalAddress}, task queue ${taskQueue} (this back-test's own)`,
      'model: each recorded incident\'s transcript, replayed (recorded responses, not a live model)',
      `monitors: the recorded incidents' own copies; changes written to ${path.join(outDir, 'monitor-changes.jsonl')}`,
      'code host: local git branches (never GitHub)',
      `notifications: ${path.join(outDir, 'notifications.jsonl')}`,
    ],
    async close() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running.catch(() => undefined);
      await workerConnection.close();
      await clientConnection.close();
      await pool.end();
      await stack.stop();
    },
  };
}
