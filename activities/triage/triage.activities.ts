import { errorSignature } from '../../domain/error-signature';
import { findStewardLinks, type StewardPrLink } from '../../domain/monitor-annotation';
import { TriageResult } from '../../domain/triage';
import type { NormalizedAlert } from '../../domain/alert';
import type { IncidentLedgerPort } from '../../ports/incident-ledger.port';
import type { ModelPort } from '../../ports/model.port';
import type { MonitorsPort } from '../../ports/monitors.port';
import type { LogsPort } from '../../ports/logs.port';
import { errorLogContext } from '../shared/error-logs';
import { generateStructured } from '../shared/structured-output';
import { TRIAGE_SYSTEM_PROMPT, triagePrompt } from './triage.prompt';

export interface ExistingFixCheck {
  monitorName: string;
  signature: string;
  /** The Steward PR already linked on the monitor for this error signature, if any. */
  existingFix: StewardPrLink | null;
}

export function createTriageActivities(deps: {
  model: ModelPort;
  monitors: MonitorsPort;
  ledger: Pick<IncidentLedgerPort, 'listRecentIncidents'>;
  logs?: LogsPort | null;
}) {
  return {
    /** Dedup by the monitor's description: a PR link for the same signature means a fix is already in flight. */
    async findExistingFix(input: { monitorId: string; alert: NormalizedAlert }): Promise<ExistingFixCheck> {
      const monitor = await deps.monitors.get(input.monitorId);
      const signature = errorSignature(`${input.alert.message}\n${input.alert.title}`);
      const existingFix = findStewardLinks(monitor.message).find((link) => link.signature === signature) ?? null;
      return { monitorName: monitor.name, signature, existingFix };
    },

    async triageAlert(input: { incidentId: string; alert: NormalizedAlert; signature: string }): Promise<TriageResult> {
      const monitor = await deps.monitors.get(input.alert.monitorId);
      const recentIncidents = await deps.ledger.listRecentIncidents({
        monitorId: input.alert.monitorId,
        service: input.alert.service,
        excludeIncidentId: input.incidentId,
        limit: 20,
      });
      const errorLogs = await errorLogContext(deps.logs ?? null, input.alert);
      const { value } = await generateStructured({
        model: deps.model,
        incidentId: input.incidentId,
        step: 'triage',
        system: TRIAGE_SYSTEM_PROMPT,
        prompt: triagePrompt({ alert: input.alert, monitor, signature: input.signature, recentIncidents, errorLogs }),
        schemaName: 'TriageResult',
        schema: TriageResult,
      });
      return value;
    },
  };
}
