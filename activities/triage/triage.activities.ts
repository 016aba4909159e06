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
import { checkCodeReferences, symbolParts, type CodeReference, type RefusedReference } from '../../domain/deploy-triage/grounding';
import { normalizeRepoPath } from '../../domain/deploy-triage/changed-files';
import type { ServicesConfig } from '../../domain/service-config';
import type { CodeSearchPort } from '../../ports/code-search.port';
import { TRIAGE_SYSTEM_PROMPT, triageGroundingReAskPrompt, triagePrompt } from './triage.prompt';

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
  /** Where the suspected code area is checked at the deployed revision; without it (or the service's settings) the area is passed on unchecked. */
  codeSearch?: CodeSearchPort | null;
  services?: ServicesConfig;
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
      const prompt = triagePrompt({ alert: input.alert, monitor, signature: input.signature, recentIncidents, errorLogs });
      const ask = async (step: string, text: string) =>
        (await generateStructured({ model: deps.model, incidentId: input.incidentId, step, system: TRIAGE_SYSTEM_PROMPT, prompt: text, schemaName: 'TriageResult', schema: TriageResult })).value;
      const first = await ask('triage', prompt);

      const where = groundingTarget(first, input.alert);
      if (!where) return first;
      const refused = await refusedReferences(where, first);
      if (refused.length === 0) return first;
      // Asked once more, naming what does not exist; what still does not exist is not passed on.
      const second = await ask('triage.grounding-1', triageGroundingReAskPrompt(prompt, JSON.stringify(first), refused.map((r) => r.reason)));
      const stillRefused = groundingTarget(second, input.alert) ? await refusedReferences(where, second) : [];
      return withoutReferences(second, stillRefused, where.revision);
    },
  };

  /** The service and revision to check a real incident's suspected area at; null when there is nothing to check it against. */
  function groundingTarget(result: TriageResult, alert: NormalizedAlert): { service: string; revision: string } | null {
    if (!deps.codeSearch || result.verdict !== 'real' || !alert.service) return null;
    const service = deps.services?.[alert.service];
    if (!service) return null;
    const area = result.suspectedArea;
    if (area.files.length === 0 && (area.functions ?? []).length === 0) return null;
    return { service: alert.service, revision: alert.deployedRevision ?? service.defaultBranch };
  }

  async function refusedReferences(where: { service: string; revision: string }, result: TriageResult): Promise<RefusedReference[]> {
    const references = areaReferences(result);
    const files = references.flatMap((r) => (r.file ? [normalizeRepoPath(r.file)] : []));
    const symbols = symbolParts(references.flatMap((r) => (r.function ? [r.function] : [])));
    const lookup = {
      files: files.length > 0 ? await deps.codeSearch!.filesExist(where.service, where.revision, files) : {},
      symbols: symbols.length > 0 ? await deps.codeSearch!.findSymbols(where.service, where.revision, symbols) : {},
    };
    return checkCodeReferences(references, lookup, where.revision);
  }
}

function areaReferences(result: TriageResult): CodeReference[] {
  return [...result.suspectedArea.files.map((file) => ({ file })), ...(result.suspectedArea.functions ?? []).map((fn) => ({ function: fn }))];
}

/** The result with the refused references taken out of its suspected area, and the reasoning saying so. */
function withoutReferences(result: TriageResult, refused: RefusedReference[], revision: string): TriageResult {
  if (refused.length === 0) return result;
  const refusedFiles = new Set(refused.flatMap((r) => (r.reference.file ? [r.reference.file] : [])));
  const refusedFunctions = new Set(refused.flatMap((r) => (r.reference.function ? [r.reference.function] : [])));
  const functions = result.suspectedArea.functions?.filter((fn) => !refusedFunctions.has(fn));
  return {
    ...result,
    reasoning: `${result.reasoning} (Steward left out of the suspected area what does not exist at ${revision}: ${[...refusedFiles, ...refusedFunctions].join(', ')}.)`,
    suspectedArea: { ...result.suspectedArea, files: result.suspectedArea.files.filter((f) => !refusedFiles.has(f)), ...(functions ? { functions } : {}) },
  };
}
