import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../../config/config';
import type { RunningSteward } from '../../workers/start-steward';
import type { BenchOptions } from './options';
import type { Delivery } from './deliveries';

/** Statistics and the printed report of `npm run bench`. */

export const LATENCY_PHASE_BUDGET_MS = 10 * 60_000;
export const MAX_RECORDED_ERRORS = 5;
/** How the edge's own time is measured: the Temporal time the API reports is taken off each request's time. */
const EDGE_TIME_METHOD = 'client time minus the Server-Timing temporal;dur of the same request';

export interface StartPathResult {
  name: string;
  durationsMs: number[];
  /** Webhook path only: per request, the time not spent in the API's Temporal calls. */
  edgeMs?: number[];
  failures: number;
  errors: string[];
}

export interface StormCycle {
  monitorId: string;
  cycleKey: string;
  incidentId: string;
}

export interface StormResult {
  deliveries: Delivery[];
  postingErrors: string[];
  sent: number;
  postingMs: number;
  cycles: StormCycle[];
  /** Per incident, ms from the first delivery to its workflow's end, and how it ended. */
  endings: { incidentId: string; elapsedMs: number; status: string }[];
  unfinished: string[];
  workflowsInVisibility: number | null;
}

interface LatencySummary {
  samples: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles: every reported value is one that was actually measured. */
export function summarize(durationsMs: number[]): LatencySummary | null {
  if (durationsMs.length === 0) return null;
  const sorted = [...durationsMs].sort((a, b) => a - b);
  const at = (percentile: number): number => sorted[Math.min(sorted.length, Math.ceil((percentile / 100) * sorted.length)) - 1]!;
  return {
    samples: sorted.length,
    p50: at(50),
    p95: at(95),
    p99: at(99),
    max: sorted[sorted.length - 1]!,
    mean: sorted.reduce((sum, value) => sum + value, 0) / sorted.length,
  };
}

const ms = (value: number): string => value.toFixed(1);
const signedMs = (value: number): string => `${value >= 0 ? '+' : '-'}${Math.abs(value).toFixed(1)} ms`;
export const loadAverage = (): string => os.loadavg().map((load) => load.toFixed(2)).join(' / ');

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]): string =>
    cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

export function countBy<T>(items: T[], key: (item: T) => string): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return [...counts].map(([name, count]) => `${name} x${count}`).join(', ') || 'none';
}

export async function machineFacts(pool: RunningSteward['pool'], loadAtStart: string): Promise<string[]> {
  const cpus = os.cpus();
  const postgresVersion = (await pool.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version ?? 'unknown';
  const readVersion = (file: string): string => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : 'unknown');
  const temporalSdk = JSON.parse(readVersion(path.join(PROJECT_ROOT, 'node_modules', '@temporalio', 'client', 'package.json'))) as { version: string };
  return [
    `cpu         ${cpus.length} cores, ${cpus[0]?.model.trim() ?? 'unknown model'}`,
    `memory      ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `os          ${os.platform()} ${os.release()} ${os.arch()}`,
    `node        ${process.version}`,
    // Other processes on the machine skew every number below; the load average shows whether there were any.
    `load avg    ${loadAtStart} at start, ${loadAverage()} at end (1 / 5 / 15 min)`,
    `temporal    dev server from CLI ${readVersion(path.join(PROJECT_ROOT, '.tools', 'temporal.version'))} (SQLite file), TypeScript SDK ${temporalSdk.version}`,
    `postgres    ${postgresVersion} (embedded, fsync off)`,
  ];
}

export function latencyReport(results: StartPathResult[], options: BenchOptions, noWorkerQueue: string, stoppedEarly: boolean): string {
  const row = (name: string, durationsMs: number[], failures: string): string[] => {
    const summary = summarize(durationsMs);
    return summary
      ? [name, String(summary.samples), ms(summary.p50), ms(summary.p95), ms(summary.p99), ms(summary.max), ms(summary.mean), failures]
      : [name, '0', '-', '-', '-', '-', '-', failures];
  };
  const rows = results.flatMap((result) => [
    row(result.name, result.durationsMs, String(result.failures)),
    ...(result.edgeMs ? [row(`  of which HTTP and the API's own work (${EDGE_TIME_METHOD})`, result.edgeMs, '')] : []),
  ]);
  const edge = summarize(results[0]!.edgeMs ?? []);
  const byName = new Map(results.map((r) => [r.name, summarize(r.durationsMs)]));
  const webhook = byName.get(results[0]!.name);
  const temporalCalls = byName.get(results[1]!.name);
  const bareSignalWithStart = byName.get(results[2]!.name);
  const ratio = (api: number, bare: number): string => `${(api / bare).toFixed(2)}x`;
  const overhead =
    webhook && temporalCalls && bareSignalWithStart
      ? [
          `API vs a bare signalWithStart: p50 ${ms(webhook.p50)} vs ${ms(bareSignalWithStart.p50)} ms (${ratio(webhook.p50, bareSignalWithStart.p50)}),`,
          `  p99 ${ms(webhook.p99)} vs ${ms(bareSignalWithStart.p99)} ms (${ratio(webhook.p99, bareSignalWithStart.p99)}); the target is 1.2x or less at both.`,
          `API overhead at p50: ${signedMs(webhook.p50 - bareSignalWithStart.p50)} over a bare signalWithStart. The API no longer calls describe():`,
          `  signal-with-start's own answer says whether it started the run (use-cases/signal-with-start.ts); what the`,
          `  describe() cost, for comparison: ${signedMs(temporalCalls.p50 - bareSignalWithStart.p50)} at p50 (the "+ describe" row). The rest is HTTP, bearer check,`,
          `  JSON parse and payload validation (client and server in this process), as a difference of two p50s of separate`,
          `  runs, so it carries their noise; measured per request instead (${EDGE_TIME_METHOD}):`,
          edge ? `  p50 ${ms(edge.p50)}, p95 ${ms(edge.p95)}, p99 ${ms(edge.p99)} ms.` : '  not measured (no Server-Timing in the answers).',
        ]
      : [];
  const errors = results.flatMap((r) => r.errors.map((e) => `  ${r.name}: ${e}`));
  return [
    `Webhook-to-workflow-started latency, ms (${options.latencyDeliveries} new alert cycles per path, sequential, after ${options.warmupDeliveries} uncounted warm-up each)`,
    `Method: every path starts its workflows on task queue "${noWorkerQueue}", which no worker polls, so the`,
    `numbers are the start path alone. Chosen over unseeded monitor ids: those runs would each get a workflow`,
    `task and two activities on the running worker while later deliveries are timed, loading the same cores and`,
    `the same Temporal server. Paths alternate within each round, in rotating order.`,
    stoppedEarly ? `NOTE: stopped early after ${LATENCY_PHASE_BUDGET_MS / 60_000} min; fewer samples than asked.` : '',
    '',
    table(['start path', 'n', 'p50', 'p95', 'p99', 'max', 'mean', 'failed'], rows),
    '',
    ...overhead,
    ...(errors.length > 0 ? ['', 'First errors:', ...errors] : []),
  ]
    .filter((line, index, all) => line !== '' || all[index - 1] !== '')
    .join('\n');
}

export function stormReport(storm: StormResult, options: BenchOptions): string {
  const total = options.stormCycles * options.deliveriesPerCycle;
  const accepted = storm.deliveries.filter((d) => d.status === 202);
  const started = accepted.filter((d) => d.answer.joined === false);
  const runIds = new Set(accepted.map((d) => `${d.answer.incidentId}/${d.answer.runId ?? 'closed'}`));
  const underStorm = summarize(storm.deliveries.map((d) => d.elapsedMs));
  const prOpened = storm.endings.filter((e) => e.status === 'pr_opened').sort((a, b) => a.elapsedMs - b.elapsedMs);
  const lastPr = prOpened[prOpened.length - 1];
  const seconds = (value: number): string => `${(value / 1000).toFixed(1)} s`;
  const rows: string[][] = [
    ['deliveries sent', `${storm.sent} of ${total} (${options.stormCycles} cycles x ${options.deliveriesPerCycle}), ${options.stormConcurrency} in flight`],
    ['accepted by the webhook (202)', `${accepted.length} in ${seconds(storm.postingMs)} = ${(accepted.length / (storm.postingMs / 1000)).toFixed(1)} deliveries/s`],
    ['answers', `${countBy(storm.deliveries, (d) => String(d.status))}${storm.postingErrors.length > 0 ? `; ${storm.postingErrors.length} requests failed` : ''}`],
    [
      'webhook latency under the storm',
      underStorm ? `p50 ${ms(underStorm.p50)}, p95 ${ms(underStorm.p95)}, p99 ${ms(underStorm.p99)}, max ${ms(underStorm.max)} ms` : '-',
    ],
    [
      'workflows created',
      `${started.length} by the answers (joined=false), ${runIds.size} distinct runs answered, ${storm.workflowsInVisibility ?? '?'} in Temporal visibility; expected ${options.stormCycles}`,
    ],
    ['incident outcomes', countBy(storm.endings, (e) => e.status) + (storm.unfinished.length > 0 ? `; ${storm.unfinished.length} unfinished` : '')],
    [
      'time to PR from the first delivery',
      prOpened.length > 0 ? `first ${seconds(prOpened[0]!.elapsedMs)}, median ${seconds(prOpened[Math.floor((prOpened.length - 1) / 2)]!.elapsedMs)}, last ${seconds(lastPr!.elapsedMs)}` : '-',
    ],
    [
      'end to end',
      lastPr ? `${prOpened.length} of ${options.stormCycles} incidents reached their PR = ${(prOpened.length / (lastPr.elapsedMs / 60_000)).toFixed(2)} incidents/min` : 'no PR opened',
    ],
  ];
  const width = Math.max(...rows.map(([label]) => label!.length));
  return [
    `Alert storm through POST /webhooks/datadog with the worker running (replay model, process sandbox, local git code host)`,
    '',
    ...rows.map(([label, value]) => `${label!.padEnd(width)}  ${value}`),
    ...(storm.postingErrors.length > 0 ? ['', 'First request errors:', ...storm.postingErrors.slice(0, MAX_RECORDED_ERRORS).map((e) => `  ${e}`)] : []),
    ...(storm.unfinished.length > 0 ? ['', 'Unfinished incidents:', ...storm.unfinished.slice(0, MAX_RECORDED_ERRORS).map((e) => `  ${e}`)] : []),
  ].join('\n');
}
