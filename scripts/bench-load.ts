import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { Pool } from 'pg';
import { demoServicesConfig, loadConfig, PROJECT_ROOT } from '../config/config';
import { incidentPolicyFromConfig } from '../config/policy';
import { INCIDENT_WORKFLOW_TYPE, type IncidentPolicy } from '../contracts';
import { normalizeDatadogPayload } from '../domain/alert';
import { demoAlertPayload, ensureDemoRepository } from '../infra/demo-fixtures';
import { startEmbeddedPostgres } from '../infra/embedded-postgres';
import { startTemporalDevServer } from '../infra/temporal-dev-server';
import { percentile } from '../evals/reports/time-to-first-pr';
import { freePort } from '../lib/free-port';
import { migrate } from '../store/migrate';
import { alertSignalWithStartOptions } from '../use-cases/deliver-alert.use-case';
import { seedDemoMonitor } from '../workers/demo-monitor';
import { stewardDataConverter } from '../workers/temporal-data-converter';
import type { IncidentOutcome } from '../workflows/incident/incident.workflow';
import { cleanUpEverything, onCleanup, startTracked } from './bench-webhook/cleanup';
import { machineFacts, table } from './bench-webhook/report';
import { OVERHEAD_DEFINITION, overheadOf, type OverheadSplit } from './bench-load/overhead';

/**
 * `npm run bench:load`: many incidents in flight at once on one incident worker, each taken from
 * the demo alert to its PR. The model is the replay of demo/transcript.json (recorded answers, not
 * a live model); the sandbox is the real one the worker picks (bubblewrap where it can run, else
 * the process-level fallback, which the report names). The worker is `workers/worker.main.ts` as a
 * child process, incident worker and sandbox host in one, as `npm run worker` runs it, so that
 * its peak RSS is its own. Everything runs on a private Postgres and Temporal dev server in a
 * temporary folder. It prints the orchestration overhead per incident (its definition first), the
 * worker's peak RSS, and the incidents completed per minute, against the goals.
 */

const USAGE = `usage: npm run bench:load [-- --incidents <n>] [--timeout-minutes <m>] [--sandbox <auto|bubblewrap|process>] [--keep]
  --incidents        incidents started at once (default 50)
  --timeout-minutes  give up on the run after this long (default 60)
  --sandbox          STEWARD_SANDBOX_BACKEND for the worker (default auto: bubblewrap where it can run)
  --keep             leave the temporary folder (worker log, servers' files) for inspection`;

const GOAL_OVERHEAD_MS = 300;
const GOAL_RSS_BYTES = 2 ** 30;
const FIRST_MONITOR_ID = 9_300_001;
const RSS_SAMPLE_EVERY_MS = 250;

interface Options {
  incidents: number;
  timeoutMs: number;
  sandbox: string;
  keep: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      incidents: { type: 'string', default: '50' },
      'timeout-minutes': { type: 'string', default: '60' },
      sandbox: { type: 'string', default: 'auto' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const incidents = Number(values.incidents);
  const minutes = Number(values['timeout-minutes']);
  if (!Number.isInteger(incidents) || incidents < 1 || incidents > 500) throw new UsageError(`--incidents must be a whole number from 1 to 500, not "${values.incidents}"`);
  if (!(minutes > 0)) throw new UsageError(`--timeout-minutes must be a positive number, not "${values['timeout-minutes']}"`);
  if (!['auto', 'bubblewrap', 'process'].includes(values.sandbox)) throw new UsageError(`--sandbox must be auto, bubblewrap or process, not "${values.sandbox}"`);
  return { incidents, timeoutMs: minutes * 60_000, sandbox: values.sandbox, keep: values.keep };
}

class UsageError extends Error {}

/** The worker's memory as the kernel counts it: VmHWM is the peak resident set since it started. */
function readMemory(pid: number): { rssBytes: number; peakBytes: number } | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rssBytes: kib('VmRSS'), peakBytes: kib('VmHWM') };
  } catch {
    return null; // the process is gone
  }
}

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const ms = (value: number | null): string => (value === null ? '-' : `${value.toFixed(0)} ms`);
const seconds = (value: number | null): string => (value === null ? '-' : `${(value / 1000).toFixed(1)} s`);

async function waitForLine(file: string, child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : [];
    if (lines.some((line) => pattern.test(line))) return lines;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the worker exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${lines.slice(-30).join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the worker printed no line matching ${pattern} within ${timeoutMs} ms (log: ${file})`);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const loadAtStart = os.loadavg().map((l) => l.toFixed(2)).join(' / ');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bench-load-'));
  // The postgres user and the sandbox uid pass through it, so nothing is relocated to /var/lib/steward
  // (where removing root would leave it behind); its entries keep their own modes.
  fs.chmodSync(root, 0o711);
  if (!options.keep) onCleanup(`remove ${root}`, async () => fs.rmSync(root, { recursive: true, force: true }));
  const quiet = (): void => undefined;
  const postgres = await startTracked(
    'stop the embedded Postgres',
    startEmbeddedPostgres({ dataDir: path.join(root, 'postgres'), port: await freePort(), fsync: false, log: quiet }),
    (started) => started.stop(),
  );
  const temporal = await startTracked(
    'stop the Temporal dev server',
    startTemporalDevServer({ port: await freePort(), uiPort: null, dbFile: path.join(root, 'temporal.db') }),
    (started) => started.stop(),
  );
  if (!temporal.started) throw new Error(`a Temporal server was already listening on ${temporal.address}; refusing to benchmark against it`);

  // One service per incident, all built from the demo's repository: one error in one service is
  // one incident (the error claim), so N services make N incidents that each run the whole loop.
  const dataDir = path.join(root, 'data');
  const demoService = demoServicesConfig(dataDir)['checkout-service']!;
  const revision = ensureDemoRepository(demoService.repository);
  const services = Object.fromEntries(Array.from({ length: options.incidents }, (_, i) => [`checkout-service-${i}`, demoService]));
  const servicesFile = path.join(root, 'services.json');
  fs.writeFileSync(servicesFile, JSON.stringify(services, null, 2));

  const pool = new Pool({ connectionString: postgres.url, max: 4 });
  onCleanup('close the bench pool', () => pool.end());
  await migrate(pool);
  const monitorIds = Array.from({ length: options.incidents }, (_, i) => String(FIRST_MONITOR_ID + i));
  for (const id of monitorIds) await seedDemoMonitor(pool, { id });

  // The worker's environment: Steward's variables from the outer shell must not leak into the run.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(STEWARD_|SLACK_|TEMPORAL_|DATABASE_URL$|GITHUB_|DATADOG_|DD_|ANTHROPIC_|OPENAI_)/.test(name)));
  const taskQueue = `bench-load-${randomBytes(4).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    ...inherited,
    TEMPORAL_ADDRESS: temporal.address,
    DATABASE_URL: postgres.url,
    STEWARD_DATA_DIR: dataDir,
    STEWARD_SERVICES_FILE: servicesFile,
    STEWARD_SANDBOX_BACKEND: options.sandbox,
    STEWARD_TASK_QUEUE: taskQueue,
    STEWARD_SANDBOX_TASK_QUEUE: `${taskQueue}-sandboxes`,
    // The incident ends at its PR: merge follow-ups would hold it open for hours.
    STEWARD_PR_FOLLOW_UP: '0s',
  };
  const config = loadConfig(env);
  const basePolicy = incidentPolicyFromConfig(config);
  const policy: IncidentPolicy = {
    ...basePolicy,
    activityTimeouts: {
      ...basePolicy.activityTimeouts,
      // A sandbox host with N incidents queued on its slots is busy, not gone: at the default two
      // minutes the workflows would take the one host's queueing for its death and claim it again.
      sandboxHostScheduleToStartMs: options.timeoutMs,
    },
  };

  const workerLog = path.join(root, 'worker.log');
  const log = fs.openSync(workerLog, 'a');
  const worker = spawn(process.execPath, ['--import', 'tsx', path.join('workers', 'worker.main.ts')], { cwd: PROJECT_ROOT, env, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  onCleanup('stop the worker', async () => {
    if (worker.exitCode !== null || worker.signalCode !== null) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.kill('SIGTERM');
    const killer = setTimeout(() => worker.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(killer);
  });
  const samples: { atMs: number; rssBytes: number; peakBytes: number }[] = [];
  const sampler = setInterval(() => {
    const memory = readMemory(worker.pid!);
    if (memory) samples.push({ atMs: Date.now(), ...memory });
  }, RSS_SAMPLE_EVERY_MS);
  onCleanup('stop sampling', async () => clearInterval(sampler));
  const startupLines = await waitForLine(workerLog, worker, /sandbox host .* polling/, 180_000);
  const labels = startupLines.filter((line) => /steward-worker \d+: (model|sandbox):/.test(line)).map((line) => line.replace(/^steward-worker \d+: /, ''));
  const idleMemory = readMemory(worker.pid!);

  const connection = await Connection.connect({ address: temporal.address });
  onCleanup('close the client connection', () => connection.close());
  const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: stewardDataConverter(pool, config.temporal.payloadOffloadBytes) });

  console.log(`bench:load | ${options.incidents} incidents at once on one incident worker (pid ${worker.pid}); ${labels.join('; ')}`);
  const startedAt = Date.now();
  const handles = await Promise.all(
    monitorIds.map((monitorId, i) => {
      const alert = normalizeDatadogPayload(demoAlertPayload({ alertCycleKey: `bench-load-${i}`, deployedRevision: revision, monitorId, service: `checkout-service-${i}` }));
      return client.workflow.signalWithStart(INCIDENT_WORKFLOW_TYPE, alertSignalWithStartOptions({ alert, policy, taskQueue }, `bench-load-delivery-${i}`));
    }),
  );
  const completions: { id: string; outcome: IncidentOutcome | null; error: string | null; atMs: number }[] = [];
  const progress = setInterval(() => {
    const memory = samples[samples.length - 1];
    console.log(`bench:load | ${((Date.now() - startedAt) / 1000).toFixed(0)} s: ${completions.length}/${options.incidents} done; worker RSS ${memory ? mib(memory.rssBytes) : '-'}, load ${os.loadavg()[0]!.toFixed(1)}`);
  }, 30_000);
  onCleanup('stop the progress line', async () => clearInterval(progress));
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), options.timeoutMs)));
  const allDone = Promise.all(
    handles.map((handle) =>
      handle.result().then(
        (outcome) => completions.push({ id: handle.workflowId, outcome: outcome as IncidentOutcome, error: null, atMs: Date.now() }),
        (error: Error) => completions.push({ id: handle.workflowId, outcome: null, error: error.message, atMs: Date.now() }),
      ),
    ),
  );
  const ended = await Promise.race([allDone.then(() => 'done' as const), timedOut]);
  clearTimeout(timer);
  clearInterval(progress);
  const finalMemory = readMemory(worker.pid!);
  clearInterval(sampler);
  if (worker.exitCode !== null || worker.signalCode !== null) console.log(`bench:load | the worker exited during the run (${worker.exitCode ?? worker.signalCode}); see ${workerLog}`);

  const splits: OverheadSplit[] = [];
  for (const handle of handles) {
    const done = completions.find((c) => c.id === handle.workflowId);
    if (!done?.outcome) continue;
    splits.push(overheadOf(await handle.fetchHistory()));
  }
  const statuses = new Map<string, number>();
  for (const c of completions) statuses.set(c.outcome?.status ?? `failed: ${c.error}`, (statuses.get(c.outcome?.status ?? `failed: ${c.error}`) ?? 0) + 1);

  const column = (pick: (s: OverheadSplit) => number): string[] => {
    const values = splits.map(pick);
    const mean = values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
    return [ms(percentile(values, 50)), ms(percentile(values, 90)), ms(values.length ? Math.max(...values) : null), ms(mean)];
  };
  const peakBytes = Math.max(finalMemory?.peakBytes ?? 0, ...samples.map((s) => s.peakBytes));
  const lastCompletion = completions.length ? Math.max(...completions.map((c) => c.atMs)) : null;
  const elapsedMs = (lastCompletion ?? Date.now()) - startedAt;
  const completed = completions.filter((c) => c.outcome).length;
  const perMinute = elapsedMs > 0 ? (completed / elapsedMs) * 60_000 : 0;
  const overheadP50 = percentile(splits.map((s) => s.overheadMs), 50);
  const overheadMean = splits.length ? splits.reduce((a, s) => a + s.overheadMs, 0) / splits.length : null;

  console.log('');
  console.log('## bench:load');
  console.log('');
  for (const line of await machineFacts(pool, loadAtStart)) console.log(line);
  for (const label of labels) console.log(`port        ${label}`);
  console.log(`worker      workers/worker.main.ts, incident worker and sandbox host in one process (STEWARD_WORKER_ROLES default)`);
  console.log('');
  console.log(`incidents   ${options.incidents} started at once; ${completions.length} ended (${[...statuses].map(([s, n]) => `${s} x${n}`).join(', ') || 'none'})${ended === 'timeout' ? `; stopped at the ${options.timeoutMs / 60_000}-minute timeout` : ''}`);
  console.log(`elapsed     ${seconds(elapsedMs)} from the first start to the last completion`);
  console.log('');
  console.log('Orchestration overhead per incident, from its history:');
  console.log(OVERHEAD_DEFINITION);
  console.log('');
  console.log(
    table(
      ['per incident', 'p50', 'p90', 'max', 'mean'],
      [
        ['wall', ...column((s) => s.wallMs)],
        ['work (model + sandbox)', ...column((s) => s.workMs)],
        ['  of which sandbox queueing', ...column((s) => s.workQueuedMs)],
        ['overhead', ...column((s) => s.overheadMs)],
        ['  other activities', ...column((s) => s.otherActivitiesMs)],
        ['  workflow tasks', ...column((s) => s.workflowTasksMs)],
        ['  unaccounted', ...column((s) => s.unaccountedMs)],
      ],
    ),
  );
  console.log('');
  console.log(`worker RSS  peak ${mib(peakBytes)} (VmHWM of pid ${worker.pid}, sandboxes are other processes); ${idleMemory ? mib(idleMemory.rssBytes) : '-'} when ready, before any incident`);
  console.log(`throughput  ${perMinute.toFixed(2)} incidents completed per minute (${completed} in ${seconds(elapsedMs)})`);
  console.log('');
  const verdict = (met: boolean): string => (met ? 'met' : 'MISSED');
  console.log(`goal        overhead <= ${GOAL_OVERHEAD_MS} ms per incident: p50 ${ms(overheadP50)}, mean ${ms(overheadMean)}: ${verdict(overheadP50 !== null && overheadP50 <= GOAL_OVERHEAD_MS)}`);
  console.log(`goal        worker RSS <= ${mib(GOAL_RSS_BYTES)} for ${options.incidents}: ${mib(peakBytes)}: ${verdict(peakBytes <= GOAL_RSS_BYTES)}`);
  if (options.keep) console.log(`kept        ${root} (worker log: ${workerLog})`);
  if (completed < options.incidents) process.exitCode = 1;
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`bench:load | ${signal}: cleaning up`);
    void cleanUpEverything().then(() => process.exit(130));
  });
}

main()
  .catch((error: unknown) => {
    console.error(error instanceof UsageError ? `bench:load: ${error.message}\n${USAGE}` : error);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  })
  .finally(() => cleanUpEverything());
