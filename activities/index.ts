import type { ServicesConfig } from '../domain/service-config';
import type { SignatureStorePort } from '../ports/signature-store.port';
import { ERROR_TYPES, type IncidentPolicy } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import { createDeployChangesActivities } from './deploy-changes/deploy-changes.activities';
import { createDeployTriageActivities } from './deploy-triage/deploy-triage.activities';
import { createDeployWatchActivities } from './deploy-watch/deploy-watch.activities';
import type { AgentConversationPort } from '../ports/agent-conversation.port';
import type { CodeHostPort } from '../ports/code-host.port';
import type { CodeSearchPort } from '../ports/code-search.port';
import type { IncidentClaimsPort, IncidentRunsPort } from '../ports/incident-claims.port';
import type { IncidentLedgerPort } from '../ports/incident-ledger.port';
import type { LogsPort } from '../ports/logs.port';
import type { ModelPort } from '../ports/model.port';
import type { GeneratedMonitorsPort } from '../ports/generated-monitors.port';
import type { MonitorAuthoringPort, MonitorsPort } from '../ports/monitors.port';
import type { NotifierPort } from '../ports/notifier.port';
import type { RollbackHookPort } from '../ports/rollback-hook.port';
import type { QaLedgerPort } from '../ports/qa-ledger.port';
import type { SandboxPort } from '../sandbox/sandbox.port';
import { createFixAgentActivities } from './fix/fix-agent.activities';
import { createGenerationAgentActivities } from './monitor-generation/generation-agent.activities';
import { createMonitorGenerationActivities } from './monitor-generation/monitor-generation.activities';
import { createProcessedChangeActivities } from './monitor-generation/processed-change.activities';
import { createQaMissionActivities } from './qa-mission/qa-mission.activities';
import { createFixActivities } from './fix/fix.activities';
import { createNightlyQaActivities } from './nightly-qa/nightly-qa.activities';
import { createQaCandidateActivities } from './nightly-qa/qa-candidates.activities';
import { createIncidentClaimActivities } from './incident-claims/incident-claims.activities';
import { createLedgerActivities } from './ledger/ledger.activities';
import { createMonitorActivities } from './monitor/monitor.activities';
import { createNotifyActivities } from './notify/notify.activities';
import { createPullRequestActivities } from './pull-request/pull-request.activities';
import { createReproduceActivities } from './reproduce/reproduce.activities';
import { createRollbackActivities } from './rollback/rollback.activities';
import { createTriageActivities } from './triage/triage.activities';

export interface IncidentPorts {
  model: ModelPort;
  /** The monitor platform: what alerts fire from, and where generated monitors are created. */
  monitors: MonitorsPort & MonitorAuthoringPort;
  codeHost: CodeHostPort;
  sandbox: SandboxPort;
  notifier: NotifierPort;
  ledger: IncidentLedgerPort;
  /** Which running incident owns each error, so that a second road to one error stands down. */
  claims: IncidentClaimsPort;
  /** Whether an incident's workflow still runs: a claim of one that does not is stale. */
  incidentRuns: IncidentRunsPort;
  /** The fix agent's conversations, kept out of the workflow history. */
  conversations: AgentConversationPort;
  /** Error-log search for context; null where none is configured (the embedded defaults). */
  logs: LogsPort | null;
  /** The services' code at a revision, for checking what models say of it; absent, triage passes its suspected area on unchecked. */
  codeSearch?: CodeSearchPort | null;
  /** The deploy watch's error-signature counts; absent where no watch runs (the incident-only test harness). */
  signatures?: SignatureStorePort | null;
  services: ServicesConfig;
  /** The services' own roll-back endpoints (the deploy watch's roll-back path). */
  rollbackHook: RollbackHookPort;
  sandboxCommandTimeoutMs?: number;
  /** Input plus output tokens an incident may spend before the fix agent stops; null or absent for no limit. */
  fixAgentTokenBudget?: number | null;
  /** The policy the deploy watch's child incidents start under; absent where no watch runs. */
  incidentPolicy?: IncidentPolicy | null;
  /** The registry of generated monitors; absent where monitor generation does not run (the incident-only test harness). */
  generatedMonitors?: GeneratedMonitorsPort | null;
  /** Days of error-signature counts that generated log alerts take their thresholds from (the deploy watch's baseline days). */
  thresholdBaselineDays?: number;
  /** Nightly QA's ledger; absent where no night runs (the incident-only test harness). */
  qaLedger?: QaLedgerPort | null;
}

/** Every activity the incident workflow calls, built over the ports the composition root chose. */
export function createIncidentActivities(ports: IncidentPorts) {
  return {
    ...createDeployWatchActivities({ logs: ports.logs, signatures: ports.signatures ?? null }),
    ...createDeployChangesActivities({ codeSearch: ports.codeSearch ?? null, codeHost: ports.codeHost, services: ports.services, incidentPolicy: ports.incidentPolicy ?? null }),
    ...deployTriageOver(ports),
    ...createTriageActivities({ model: ports.model, monitors: ports.monitors, ledger: ports.ledger, logs: ports.logs, codeSearch: ports.codeSearch ?? null, services: ports.services }),
    ...createReproduceActivities({
      model: ports.model,
      sandbox: ports.sandbox,
      codeHost: ports.codeHost,
      services: ports.services,
      logs: ports.logs,
      limits: ports.sandboxCommandTimeoutMs ? { commandTimeoutMs: ports.sandboxCommandTimeoutMs } : {},
    }),
    ...createFixActivities({ model: ports.model }),
    ...createFixAgentActivities({
      model: ports.model,
      sandbox: ports.sandbox,
      conversations: ports.conversations,
      ledger: ports.ledger,
      services: ports.services,
      limits: { commandTimeoutMs: ports.sandboxCommandTimeoutMs ?? 5 * 60_000, tokenBudgetPerIncident: ports.fixAgentTokenBudget ?? null },
    }),
    ...createPullRequestActivities({ codeHost: ports.codeHost, services: ports.services }),
    ...createMonitorActivities({ monitors: ports.monitors, ledger: ports.ledger }),
    ...createNotifyActivities({ notifier: ports.notifier, ledger: ports.ledger }),
    ...createLedgerActivities({ ledger: ports.ledger }),
    ...createIncidentClaimActivities({ claims: ports.claims, runs: ports.incidentRuns, monitors: ports.monitors, logs: ports.logs }),
    ...createMonitorGenerationActivities({
      codeSearch: ports.codeSearch ?? null,
      monitors: ports.monitors,
      generated: ports.generatedMonitors ?? null,
      signatures: ports.signatures ?? null,
      codeHost: ports.codeHost,
      model: ports.model,
      notifier: ports.notifier,
      ledger: ports.ledger,
      services: ports.services,
      baselineDays: ports.thresholdBaselineDays ?? 7,
    }),
    ...createProcessedChangeActivities({
      codeSearch: ports.codeSearch ?? null,
      generated: ports.generatedMonitors ?? {
        recordChange: async () => {
          throw stewardFailure(ERROR_TYPES.deployWatchNotConfigured, 'this worker has no registry of generated monitors, which records every processed change');
        },
      },
    }),
    ...createGenerationAgentActivities({ model: ports.model, sandbox: ports.sandbox, conversations: ports.conversations, codeSearch: ports.codeSearch ?? null, monitors: ports.monitors, services: ports.services }),
    ...nightlyQaOver(ports),
    ...createQaMissionActivities({
      model: ports.model,
      sandbox: ports.sandbox,
      conversations: ports.conversations,
      ledger: ports.ledger,
      services: ports.services,
      limits: ports.sandboxCommandTimeoutMs ? { commandTimeoutMs: ports.sandboxCommandTimeoutMs } : {},
    }),
    ...createRollbackActivities({
      sandbox: ports.sandbox,
      codeHost: ports.codeHost,
      services: ports.services,
      rollbackHook: ports.rollbackHook,
      limits: ports.sandboxCommandTimeoutMs ? { commandTimeoutMs: ports.sandboxCommandTimeoutMs } : {},
    }),
  };
}
export type IncidentActivities = ReturnType<typeof createIncidentActivities>;

/** The deploy triage checks every link against the code: without code search it refuses to run, naming what is missing. */
function deployTriageOver(ports: IncidentPorts): ReturnType<typeof createDeployTriageActivities> {
  if (ports.codeSearch) return createDeployTriageActivities({ model: ports.model, codeSearch: ports.codeSearch });
  return {
    triageDeploy: async () => {
      throw stewardFailure(ERROR_TYPES.deployWatchNotConfigured, 'this worker has no code search, which the deploy triage grounds its links in');
    },
  };
}

/** A night reads the ledger and plans over code search: without either its activities refuse, naming what is missing. */
function nightlyQaOver(ports: IncidentPorts): ReturnType<typeof createNightlyQaActivities> & ReturnType<typeof createQaCandidateActivities> {
  const { qaLedger, codeSearch } = ports;
  if (qaLedger && codeSearch) {
    return {
      ...createNightlyQaActivities({ ledger: qaLedger, codeHost: ports.codeHost, codeSearch, services: ports.services }),
      ...createQaCandidateActivities({ codeSearch, codeHost: ports.codeHost, ledger: ports.ledger, monitors: ports.monitors, services: ports.services }),
    };
  }
  const missing = [qaLedger ? null : 'a QA ledger', codeSearch ? null : 'code search'].filter(Boolean).join(' and ');
  const refuse = async (): Promise<never> => {
    throw stewardFailure(ERROR_TYPES.nightlyQaNotConfigured, `this worker has no ${missing}, which nightly QA plans and records its nights with`);
  };
  return { nightRevision: refuse, planningHistory: refuse, mergedSince: refuse, areaFacts: refuse, startNight: refuse, recordMission: refuse, finishNight: refuse, qaCandidates: refuse, knownQaFindings: refuse };
}

/** The activities that use the sandbox: sandbox hosts register these, on their own queues. */
export const SANDBOX_ACTIVITY_NAMES = ['reproduceIncident', 'releaseSandbox', 'beginFixAttempt', 'runFixAgentTools', 'verifyFixAttempt', 'verifyRevert', 'proposeMonitors', 'runQaMission'] as const;
export type SandboxActivityName = (typeof SANDBOX_ACTIVITY_NAMES)[number];

export function sandboxActivitiesOf(activities: IncidentActivities): Pick<IncidentActivities, SandboxActivityName> {
  return Object.fromEntries(SANDBOX_ACTIVITY_NAMES.map((name) => [name, activities[name]])) as Pick<IncidentActivities, SandboxActivityName>;
}

export { createSandboxHostActivities } from './sandbox-host/sandbox-host.activities';
export { createDeployTriageActivities, type DeployTriageInput, type DeployTriageVerdict } from './deploy-triage/deploy-triage.activities';
export type SandboxHostActivities = ReturnType<typeof import('./sandbox-host/sandbox-host.activities').createSandboxHostActivities>;
