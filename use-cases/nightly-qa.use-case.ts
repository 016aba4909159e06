import { nightlyQaScheduleId } from '../contracts';
import type { QaLedgerPort, QaNightRecord } from '../ports/qa-ledger.port';

/** What `steward qa run-now` needs of Temporal's schedules (workers/cli-context.ts builds it over the schedule client). */
export interface NightlyQaScheduleTrigger {
  /** Null when the namespace holds no such schedule. */
  describe(scheduleId: string): Promise<{ paused: boolean; recentWorkflowIds: string[] } | null>;
  trigger(scheduleId: string): Promise<void>;
}

export type RunNowOutcome =
  | { outcome: 'started'; scheduleId: string; workflowId: string; paused: boolean }
  /** Triggered, but no new night appeared: a night still running (overlap SKIP) is the usual reason. */
  | { outcome: 'not-started'; scheduleId: string; running: string | null }
  | { outcome: 'no-schedule'; scheduleId: string };

/**
 * Triggers the service's nightly schedule now, as if its time had come: the same workflow, the
 * same policy, the same SKIP overlap. Waits a little for the schedule to name the night it started.
 */
export async function runNightlyQaNow(schedules: NightlyQaScheduleTrigger, service: string, options: { waitMs?: number; pollMs?: number } = {}): Promise<RunNowOutcome> {
  const scheduleId = nightlyQaScheduleId(service);
  const before = await schedules.describe(scheduleId);
  if (!before) return { outcome: 'no-schedule', scheduleId };
  const known = new Set(before.recentWorkflowIds);
  await schedules.trigger(scheduleId);
  const deadline = Date.now() + (options.waitMs ?? 10_000);
  for (;;) {
    const now = await schedules.describe(scheduleId);
    const started = now?.recentWorkflowIds.find((id) => !known.has(id));
    if (started) return { outcome: 'started', scheduleId, workflowId: started, paused: before.paused };
    if (Date.now() >= deadline) return { outcome: 'not-started', scheduleId, running: before.recentWorkflowIds.at(-1) ?? null };
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 250));
  }
}

/** The last nights of one service, or of every service, newest first. */
export async function showQaNights(ledger: Pick<QaLedgerPort, 'recentNights' | 'recentNightsOfAll'>, service: string | null, limit: number): Promise<QaNightRecord[]> {
  return service ? ledger.recentNights(service, limit) : ledger.recentNightsOfAll(limit);
}

const usd = (value: number) => `$${value.toFixed(2)}`;

/** One block per night: its totals, then each mission with its status, reason and cost. */
export function formatQaNights(nights: QaNightRecord[], service: string | null): string {
  if (nights.length === 0) return `no nightly QA run recorded${service ? ` for ${service}` : ''}`;
  const blocks = nights.map((night) => {
    const ran = night.missions.filter((m) => m.status === 'done' || m.status === 'failed');
    const skipped = night.missions.filter((m) => m.status.startsWith('skipped'));
    const findings = night.missions.reduce((n, m) => n + m.findings.length, 0);
    const leads = night.missions.reduce((n, m) => n + m.leads.length, 0);
    const head = `${night.service}  night ${night.night}  ${night.status}  ${ran.length} mission(s) run, ${skipped.length} skipped  ${findings} finding(s), ${leads} lead(s)  ${usd(night.costUsd)} of ${usd(night.budgetUsd)}  (${night.nightId})`;
    const rows = night.missions.map((m) => {
      const found = m.findings.map((f) => ` finding: ${f.title}${f.pullRequestUrl ? ` → ${f.pullRequestUrl}` : f.duplicateOf ? ` (known: ${f.duplicateOf})` : ''}`).join(';');
      return `  ${m.status.padEnd(14)} ${m.missionId}  ${usd(m.costUsd)}, ${m.turns} turn(s): ${m.reason}${found}`;
    });
    return [head, ...rows].join('\n');
  });
  return blocks.join('\n\n');
}
