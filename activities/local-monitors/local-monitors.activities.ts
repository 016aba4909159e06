import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import { describeIssues } from '../../lib/describe-issues';
import { LogQuerySyntaxError, parseLogMonitorQuery, printLogField, printLogSearch } from '../../domain/log-query';
import { breaches, evaluationWindowMs, judgedCount, windowText, type LocalMonitorState, type LocalMonitorTransition } from '../../domain/local-monitor';
import type { AlertWebhookPort } from '../../ports/alert-webhook.port';
import type { LocalMonitorStatePort, LocalMonitorTransitionRecord } from '../../ports/local-monitor-state.port';
import type { LogCountPort } from '../../ports/log-records.port';
import type { Monitor, MonitorAuthoringPort } from '../../ports/monitors.port';

export interface LocalMonitorDeps {
  monitors: Pick<MonitorAuthoringPort, 'list'>;
  logs: LogCountPort;
  state: LocalMonitorStatePort;
  webhook: AlertWebhookPort;
  limits?: {
    /** Transitions delivered per run at most; the rest wait for the next. */
    deliveriesPerRun?: number;
    /** How long a delivery holds its transition; past it, a delivery that died leaves it to the next run. */
    deliveryLeaseMs?: number;
  };
}

export const EvaluateLocalMonitorsInput = z.object({
  /** The minute evaluated, ISO-8601: each monitor counts over [tick − window, tick). */
  tick: z.iso.datetime(),
});
export type EvaluateLocalMonitorsInput = z.infer<typeof EvaluateLocalMonitorsInput>;

export interface LocalMonitorEvaluationReport {
  tick: string;
  evaluated: {
    monitorId: string;
    name: string;
    count: number;
    group: string | null;
    breached: boolean;
    /** The state after this tick; 'already_evaluated' when an earlier run of the tick decided it. */
    outcome: LocalMonitorState | 'already_evaluated';
    transition: { transition: LocalMonitorTransition; alertCycleKey: string } | null;
  }[];
  /** Kept in the store, labelled so, and skipped: another type, or a rollup other than count. */
  notEvaluatedLocally: { monitorId: string; name: string; type: string }[];
  /** Monitors whose query the log store cannot count: the same query fails the same way next minute. */
  failed: { monitorId: string; name: string; error: string }[];
  deliveries: {
    delivered: { transitionId: string; monitorId: string; transition: LocalMonitorTransition; alertCycleKey: string; status: number }[];
    /** Left in the outbox for the next run. */
    undelivered: { transitionId: string; monitorId: string; transition: LocalMonitorTransition; alertCycleKey: string; error: string }[];
  };
}

const DEFAULT_DELIVERIES_PER_RUN = 200;
/** Longer than a post's timeout (adapters/http-alert-webhook.adapter.ts), so that a slow post is not taken over mid-flight. */
const DEFAULT_DELIVERY_LEASE_MS = 2 * 60_000;

function parseInput(input: unknown): EvaluateLocalMonitorsInput {
  const result = EvaluateLocalMonitorsInput.safeParse(input);
  if (!result.success) throw stewardFailure(ERROR_TYPES.invalidActivityInput, `evaluateLocalMonitors: invalid input: ${describeIssues(result.error)}`);
  return result.data;
}

/** A monitor's query the store cannot count: reported for that monitor, while the others are still evaluated. */
function isQueryFailure(error: unknown): boolean {
  return error instanceof LogQuerySyntaxError || (error instanceof ApplicationFailure && error.type === ERROR_TYPES.logQueryUnsupported);
}

/**
 * The local monitor evaluator of the embedded default, one run per minute: every log alert the
 * monitor store evaluates locally is counted over its window on the log store and compared with
 * its threshold; each transition goes to the outbox with the state change, then out to Steward's
 * own Datadog webhook, as Datadog would post it.
 */
export function createLocalMonitorActivities(deps: LocalMonitorDeps) {
  const deliveriesPerRun = deps.limits?.deliveriesPerRun ?? DEFAULT_DELIVERIES_PER_RUN;
  const leaseMs = deps.limits?.deliveryLeaseMs ?? DEFAULT_DELIVERY_LEASE_MS;

  async function evaluate(monitor: Monitor, tick: Date): Promise<LocalMonitorEvaluationReport['evaluated'][number]> {
    const parsed = parseLogMonitorQuery(monitor.query);
    // Noise triage tunes the stored threshold and window, not the query: the tuned values are the monitor's.
    const threshold = monitor.criticalThreshold ?? parsed.threshold;
    const windowMs = evaluationWindowMs(monitor.evaluationWindow) ?? parsed.windowMs;
    const search = printLogSearch(parsed.search);
    const groupBy = parsed.groupBy[0] ? printLogField(parsed.groupBy[0]) : undefined;
    const counts = await deps.logs.countMatching(search, new Date(tick.getTime() - windowMs), tick, groupBy);
    const { count, group } = judgedCount(counts, parsed.comparator);
    const breached = breaches(count, parsed.comparator, threshold);
    const recorded = await deps.state.recordEvaluation(monitor.id, {
      tick,
      breached,
      facts: {
        monitorId: monitor.id,
        monitorName: monitor.name,
        monitorMessage: monitor.message,
        tags: monitor.tags,
        search,
        window: windowText(windowMs),
        count,
        group: groupBy === undefined ? null : `${groupBy}:${group ?? 'N/A'}`,
        comparator: parsed.comparator,
        threshold,
      },
    });
    return {
      monitorId: monitor.id,
      name: monitor.name,
      count,
      group,
      breached,
      outcome: recorded.outcome === 'already_evaluated' ? 'already_evaluated' : recorded.state,
      transition: recorded.outcome === 'already_evaluated' ? null : recorded.transition,
    };
  }

  async function deliver(): Promise<LocalMonitorEvaluationReport['deliveries']> {
    const delivered: LocalMonitorEvaluationReport['deliveries']['delivered'] = [];
    const undelivered: LocalMonitorEvaluationReport['deliveries']['undelivered'] = [];
    const claimed = await deps.state.claimUndelivered(deliveriesPerRun, leaseMs);
    // A monitor's transitions go out in order: after one fails, its later ones wait with it.
    const blocked = new Set<string>();
    const keep = async (transition: LocalMonitorTransitionRecord, status: number | null, error: string): Promise<void> => {
      blocked.add(transition.monitorId);
      await deps.state.markDeliveryFailed(transition.id, { status, error });
      undelivered.push({ transitionId: transition.id, monitorId: transition.monitorId, transition: transition.transition, alertCycleKey: transition.alertCycleKey, error });
    };
    for (const transition of claimed) {
      if (blocked.has(transition.monitorId)) {
        await keep(transition, null, 'waits for an earlier transition of its monitor');
        continue;
      }
      let status: number;
      try {
        ({ status } = await deps.webhook.post(transition.payload));
      } catch (error) {
        if (!(error instanceof ApplicationFailure) || error.type !== ERROR_TYPES.alertWebhookUndelivered) throw error;
        const details = error.details?.[0] as { status?: number | null } | undefined;
        await keep(transition, details?.status ?? null, error.message);
        continue;
      }
      await deps.state.markDelivered(transition.id, status);
      delivered.push({ transitionId: transition.id, monitorId: transition.monitorId, transition: transition.transition, alertCycleKey: transition.alertCycleKey, status });
    }
    return { delivered, undelivered };
  }

  return {
    /**
     * Evaluates every locally evaluable monitor at the tick, then delivers every transition not yet
     * delivered (this tick's and any an earlier run could not). Run again for the same tick (a
     * retry, a restarted worker), it makes no second transition and posts nothing twice.
     */
    async evaluateLocalMonitors(rawInput: EvaluateLocalMonitorsInput): Promise<LocalMonitorEvaluationReport> {
      const input = parseInput(rawInput);
      const tick = new Date(input.tick);
      const report: LocalMonitorEvaluationReport = { tick: tick.toISOString(), evaluated: [], notEvaluatedLocally: [], failed: [], deliveries: { delivered: [], undelivered: [] } };
      for (const monitor of await deps.monitors.list()) {
        if (monitor.evaluatedLocally !== true) {
          report.notEvaluatedLocally.push({ monitorId: monitor.id, name: monitor.name, type: monitor.type });
          continue;
        }
        try {
          report.evaluated.push(await evaluate(monitor, tick));
        } catch (error) {
          if (!isQueryFailure(error)) throw error;
          report.failed.push({ monitorId: monitor.id, name: monitor.name, error: (error as Error).message });
        }
      }
      report.deliveries = await deliver();
      return report;
    },
  };
}
export type LocalMonitorActivities = ReturnType<typeof createLocalMonitorActivities>;
