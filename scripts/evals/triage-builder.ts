import { createHash } from 'node:crypto';
import { errorSignature } from '../../domain/error-signature';
import { evaluationWindowOf } from '../../domain/monitor-window';
import type { Severity } from '../../domain/severity';
import type { Provenance, TriageCaseInput } from '../../evals/cases/case.schema';

/**
 * A triage case from its scenario: the webhook is built as README's payload template fills it
 * (every value a string, `[Triggered] ` before the title, the tags as one comma-separated string),
 * and the monitor as the monitors port returns it, with its window read from its query.
 */

export interface MonitorSpec {
  id: string;
  name: string;
  type: 'log alert' | 'query alert' | 'metric alert' | 'service check';
  query: string;
  threshold: number | null;
  message?: string;
  tags?: string[];
  createdBySteward?: boolean;
}

export interface LogSpec {
  at: string;
  message: string;
  stack?: string;
  requestId?: string;
  /** Null: a log without a service tag. Absent: the alert's service. */
  service?: string | null;
}

export interface IncidentSpec {
  id: string;
  title: string;
  /** The error the incident was opened for: its signature is computed as Steward computes an alert's. */
  error: string;
  status: string;
  prUrl?: string;
}

export interface TriageScenario {
  id: string;
  description: string;
  difficulty: 'easy' | 'medium' | 'hard';
  categories: string[];
  provenance: Provenance;
  service: string;
  team: string;
  /** The deployed revision the alert's tags carry, where the service tags it. */
  sha?: string;
  monitor: MonitorSpec;
  /** The monitor's title as the alert states it, without the transition prefix. */
  title: string;
  message: string;
  priority?: string;
  transition?: string;
  at: string;
  logs?: LogSpec[];
  incidents?: IncidentSpec[];
  verdict: 'real' | 'noise' | 'duplicate';
  severity: Severity;
  duplicateOf?: string;
  facts: string[];
}

export const HAND = { kind: 'hand_written', author: 'steward-evals' } as const;

export function logQuery(service: string, search: string, threshold: number, window = '5m'): string {
  return `logs("service:${service} ${search}").index("*").rollup("count").last("${window}") > ${threshold}`;
}

export function logMonitor(id: string, service: string, name: string, search: string, threshold: number, window = '5m', message = ''): MonitorSpec {
  return { id, name, type: 'log alert', query: logQuery(service, search, threshold, window), threshold, message, tags: [`service:${service}`] };
}

/** An APM error-rate monitor on the service's trace metrics. */
export function errorRateMonitor(id: string, service: string, name: string, operation: string, rate: number, window = '5m', message = ''): MonitorSpec {
  const scope = `env:production,service:${service}`;
  return {
    id,
    name,
    type: 'query alert',
    query: `sum(last_${window}):sum:trace.${operation}.errors{${scope}}.as_count() / sum:trace.${operation}.hits{${scope}}.as_count() > ${rate}`,
    threshold: rate,
    message,
    tags: [`service:${service}`, 'monitor:apm'],
  };
}

export function latencyMonitor(id: string, service: string, name: string, operation: string, seconds: number, window = '10m', message = ''): MonitorSpec {
  return {
    id,
    name,
    type: 'query alert',
    query: `percentile(last_${window}):p99:trace.${operation}{env:production,service:${service}} > ${seconds}`,
    threshold: seconds,
    message,
    tags: [`service:${service}`, 'monitor:apm'],
  };
}

export function metricMonitor(id: string, service: string, name: string, query: string, threshold: number, message = ''): MonitorSpec {
  return { id, name, type: 'metric alert', query: `${query} > ${threshold}`, threshold, message, tags: [`service:${service}`] };
}

/** A stable, numeric-looking id derived from the case id, for event ids. */
function digits(text: string, length: number): string {
  const hex = createHash('sha256').update(text).digest('hex');
  return BigInt(`0x${hex.slice(0, 15)}`).toString().padStart(length, '7').slice(0, length);
}

export function triageCaseOf(s: TriageScenario): TriageCaseInput {
  const at = Date.parse(s.at);
  if (Number.isNaN(at)) throw new Error(`${s.id}: unreadable time ${s.at}`);
  const transition = s.transition ?? 'Triggered';
  const tags = [`service:${s.service}`, 'env:production', `team:${s.team}`, ...(s.sha ? [`git.commit.sha:${s.sha}`] : [])];
  return {
    id: s.id,
    description: s.description,
    difficulty: s.difficulty,
    categories: s.categories,
    provenance: s.provenance,
    input: {
      webhook: {
        monitor_id: s.monitor.id,
        alert_cycle_key: `${s.monitor.id}-${Math.floor(at / 1000)}`,
        transition,
        priority: s.priority ?? '',
        title: `[${transition}] ${s.title}`,
        message: s.message,
        tags: tags.join(','),
        date: String(at),
        link: `https://app.datadoghq.com/monitors/${s.monitor.id}`,
        event_id: digits(s.id, 19),
      },
      monitor: {
        id: s.monitor.id,
        name: s.monitor.name,
        type: s.monitor.type,
        query: s.monitor.query,
        message: s.monitor.message ?? '',
        tags: s.monitor.tags ?? [`service:${s.service}`],
        criticalThreshold: s.monitor.threshold,
        evaluationWindow: evaluationWindowOf(s.monitor.query),
        createdBySteward: s.monitor.createdBySteward ?? false,
      },
      errorLogs: (s.logs ?? []).map((log) => ({
        timestamp: new Date(Date.parse(log.at)).toISOString(),
        message: log.message,
        service: log.service === undefined ? s.service : log.service,
        stackTrace: log.stack ?? null,
        requestId: log.requestId ?? null,
      })),
      recentIncidents: (s.incidents ?? []).map((incident) => ({
        incidentId: incident.id,
        title: incident.title,
        signature: errorSignature(incident.error),
        status: incident.status,
        prUrl: incident.prUrl ?? null,
      })),
    },
    labels: { verdict: s.verdict, severity: s.severity, duplicateOf: s.duplicateOf ?? null, facts: s.facts },
  };
}

/** Minutes after an ISO time, as ISO: for logs around an alert. */
export function minutesAfter(iso: string, minutes: number): string {
  return new Date(Date.parse(iso) + minutes * 60_000).toISOString();
}
