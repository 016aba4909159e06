import type { StewardPrLink } from '../../domain/monitor-annotation';
import type { MonitorTuning } from '../../domain/triage';
import type { IncidentLedgerPort } from '../../ports/incident-ledger.port';
import type { Monitor, MonitorsPort } from '../../ports/monitors.port';
import { ERROR_TYPES } from '../../contracts';

/** When triage gives no tuning, widen the evaluation window: slower to fire, still firing on a real trend. */
export function defaultTuning(monitor: Monitor): MonitorTuning {
  const match = /^last_(\d+)([mhd])$/.exec(monitor.evaluationWindow ?? '');
  const evaluationWindow = match ? `last_${Number(match[1]) * 2}${match[2]}` : 'last_15m';
  return { criticalThreshold: null, evaluationWindow, reason: `widened the evaluation window from ${monitor.evaluationWindow ?? 'its default'} to ${evaluationWindow}` };
}

export function createMonitorActivities(deps: { monitors: MonitorsPort; ledger: Pick<IncidentLedgerPort, 'recordMonitorChange' | 'findMonitorChange'> }) {
  return {
    /**
     * Quiets a noisy monitor: one Steward generated is deleted; a hand-written one is only ever
     * tuned, because its author chose to have it.
     */
    async quietNoisyMonitor(input: { incidentId: string; monitorId: string; tuning: MonitorTuning | null }): Promise<{ action: 'tuned' | 'deleted'; description: string }> {
      const earlier = await deps.ledger.findMonitorChange(input.incidentId, input.monitorId);
      if (earlier?.action === 'deleted') {
        // A retry after the change was recorded: finish the delete; a monitor already gone is the goal.
        await deps.monitors.delete(input.monitorId).catch((error: { type?: string }) => {
          if (error.type !== ERROR_TYPES.monitorNotFound) throw error;
        });
        return { action: 'deleted', description: `Deleted the Steward-generated monitor ${input.monitorId}: ${earlier.reason}` };
      }
      if (earlier?.action === 'tuned') {
        // Recorded before it was made: set the recorded values (again, if they hold already), never tune the tuned monitor anew.
        const target = earlier.after as Pick<Monitor, 'criticalThreshold' | 'evaluationWindow'> | null;
        if (target) {
          await deps.monitors.tune(input.monitorId, { criticalThreshold: target.criticalThreshold, evaluationWindow: target.evaluationWindow, reason: earlier.reason });
        }
        return { action: 'tuned', description: `Tuned monitor ${input.monitorId}: ${earlier.reason}` };
      }
      const before = await deps.monitors.get(input.monitorId);
      if (before.createdBySteward) {
        const reason = input.tuning?.reason ?? 'triage judged this generated monitor to be noise';
        await deps.ledger.recordMonitorChange({ incidentId: input.incidentId, monitorId: input.monitorId, action: 'deleted', before, after: null, reason });
        await deps.monitors.delete(input.monitorId);
        return { action: 'deleted', description: `Deleted the Steward-generated monitor ${before.name}: ${reason}` };
      }
      const tuning = input.tuning ?? defaultTuning(before);
      const intended: Monitor = {
        ...before,
        criticalThreshold: tuning.criticalThreshold ?? before.criticalThreshold,
        evaluationWindow: tuning.evaluationWindow ?? before.evaluationWindow,
      };
      // Recorded first, as a delete is: tuned first, a retry after a failed write would widen the widened window again.
      await deps.ledger.recordMonitorChange({ incidentId: input.incidentId, monitorId: input.monitorId, action: 'tuned', before, after: intended, reason: tuning.reason });
      const after = await deps.monitors.tune(input.monitorId, tuning);
      const changes = [
        tuning.criticalThreshold !== null ? `threshold ${before.criticalThreshold} → ${after.criticalThreshold}` : null,
        tuning.evaluationWindow !== null ? `window ${before.evaluationWindow} → ${after.evaluationWindow}` : null,
      ].filter(Boolean);
      return { action: 'tuned', description: `Tuned ${before.name} (${changes.join(', ') || 'no change'}): ${tuning.reason}` };
    },

    async annotateMonitorWithPr(input: { monitorId: string; link: StewardPrLink }): Promise<{ changed: boolean }> {
      const { changed } = await deps.monitors.appendPrLink(input.monitorId, input.link);
      return { changed };
    },
  };
}
