import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES, type CreatedMonitorView, type DroppedProposalView, type MergedChange, type RetiredMonitorView } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import { normalizeLogMonitorQuery } from '../../domain/log-query';
import { LogTemplateMiner, maskMessage } from '../../domain/log-template-miner';
import { queryIdentity } from '../../domain/monitor-generation/caps';
import { groundProposal } from '../../domain/monitor-generation/grounding';
import { monitorsToRetire } from '../../domain/monitor-generation/lifecycle';
import { readMergedDiff } from '../../domain/monitor-generation/merged-diff';
import { monitorDefinitionOf, windowMs, type MonitorOrigin } from '../../domain/monitor-generation/proposal';
import { pullRequestComment, slackMessage, type MonitorGenerationSummary } from '../../domain/monitor-generation/summary';
import { baselineFor, countThresholds } from '../../domain/monitor-generation/thresholds';
import type { BaselineSignature } from '../../domain/regression/sequential-test';
import type { ServicesConfig } from '../../domain/service-config';
import type { CodeHostPort } from '../../ports/code-host.port';
import type { CodeSearchPort } from '../../ports/code-search.port';
import type { GeneratedMonitorsPort } from '../../ports/generated-monitors.port';
import type { IncidentLedgerPort } from '../../ports/incident-ledger.port';
import type { ModelPort } from '../../ports/model.port';
import type { NotifierPort } from '../../ports/notifier.port';
import type { MonitorAuthoringPort, MonitorsPort } from '../../ports/monitors.port';
import type { SignatureStorePort } from '../../ports/signature-store.port';
import { createNotifyActivities } from '../notify/notify.activities';
import { repositoryRefFor, serviceConfigFor } from '../shared/sandbox-session';
import { generateStructured } from '../shared/structured-output';
import { ServiceProposal } from './generation-agent-tools.schema';
import { REVISE_PROPOSAL_SYSTEM_PROMPT, reviseProposalPrompt } from './generation-agent.prompt';
import type { ServiceMonitorProposal } from './proposal-types';

/** The diff is read whole up to this; the agent's view of it is cut to the policy's budget. */
const MAX_DIFF_READ_CHARS = 5_000_000;
const HOUR_MS = 3_600_000;
/** Added lines closer than this belong to one block of new code, which a monitor on any of them covers. */
const BLOCK_GAP_LINES = 3;

/** A proposal that passed grounding: with its key, the literals it matches and the new lines it covers. */
export interface GroundedCandidate {
  proposal: ServiceMonitorProposal;
  service: string;
  /** Stable across retries and re-deliveries: the registry keys created monitors by it. */
  proposalKey: string;
  literals: string[];
  coveredLines: string[];
  normalizedQuery: string;
}

export interface ThresholdedCandidate extends GroundedCandidate {
  thresholds: { critical: number | null; warning: number | null; source: CreatedMonitorView['thresholdSource']; explanation: string };
}

export interface OriginInput {
  repository: string;
  sha: string;
  pullRequest: number | null;
  changeRef: string;
}

export interface GenerationReport {
  generationId: string;
  repository: string;
  service: string;
  change: MergedChange;
  mergeCommit: string;
  created: CreatedMonitorView[];
  dropped: DroppedProposalView[];
  retired: RetiredMonitorView[];
}

export interface MonitorGenerationDeps {
  codeSearch: CodeSearchPort | null;
  monitors: MonitorsPort & MonitorAuthoringPort;
  /** Null where no registry is configured: generation refuses to run, and alerts are not counted. */
  generated: GeneratedMonitorsPort | null;
  signatures: SignatureStorePort | null;
  codeHost: CodeHostPort;
  model: ModelPort;
  notifier: NotifierPort;
  ledger: Pick<IncidentLedgerPort, 'claimNotification' | 'markNotificationDelivered'>;
  services: ServicesConfig;
  /** Days of error-signature counts thresholds are set from. */
  baselineDays: number;
  now?: () => Date;
}

/** The canonical text of a query, up to its threshold: how duplicates are told apart from new monitors. */
export function normalizedQueryOf(type: string, query: string): string {
  if (type === 'log alert') {
    try {
      return queryIdentity(normalizeLogMonitorQuery(query));
    } catch {
      // An unparseable log query is validated (and refused) later; as a duplicate key its plain text will do.
    }
  }
  return queryIdentity(query);
}

function keyOf(service: string, proposal: ServiceMonitorProposal, normalizedQuery: string): string {
  return createHash('sha256').update(JSON.stringify([service, proposal.type, normalizedQuery])).digest('hex').slice(0, 20);
}

/** The new lines of the monitor's file that it covers: the block of added lines at its line, or all of the file's when it names none. */
function coveredLinesOf(location: { file: string; line?: number }, addedByFile: Map<string, number[]>): string[] {
  // Named as the diff names the file (newRuntimeLines, the caps' coverage): `./src/a.js:3` and `src/a.js:3` are one line.
  const file = location.file.replace(/^\.\//, '');
  const added = addedByFile.get(file) ?? [];
  if (added.length === 0) return [];
  if (location.line === undefined) return added.map((line) => `${file}:${line}`);
  const blocks: number[][] = [];
  for (const line of added) {
    const block = blocks.at(-1);
    if (block && line - block.at(-1)! <= BLOCK_GAP_LINES) block.push(line);
    else blocks.push([line]);
  }
  const distance = (block: number[]) => (location.line! < block[0]! ? block[0]! - location.line! : location.line! > block.at(-1)! ? location.line! - block.at(-1)! : 0);
  const nearest = blocks.reduce((best, block) => (distance(block) < distance(best) ? block : best));
  return nearest.map((line) => `${file}:${line}`);
}

/** A step name from the proposal's name, stable across retries, so that a recorded transcript can answer it. */
function stepSlug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60) || 'proposal';
}

function originOf(input: OriginInput): MonitorOrigin {
  return { repository: input.repository, sha: input.sha, pullRequest: input.pullRequest };
}

export function createMonitorGenerationActivities(deps: MonitorGenerationDeps) {
  const now = deps.now ?? (() => new Date());
  const { notify } = createNotifyActivities({ notifier: deps.notifier, ledger: deps.ledger });
  const registry = (): GeneratedMonitorsPort => {
    if (!deps.generated) throw stewardFailure(ERROR_TYPES.deployWatchNotConfigured, 'this worker has no registry of generated monitors, which monitor generation records every monitor in');
    return deps.generated;
  };
  const codeSearch = (): CodeSearchPort => {
    if (!deps.codeSearch) throw stewardFailure(ERROR_TYPES.deployWatchNotConfigured, 'this worker has no code search, which monitor generation reads and grounds the merged code through');
    return deps.codeSearch;
  };
  const mergedDiff = async (service: string, mergeCommit: string, maxDiffChars: number) => {
    const diff = await codeSearch().diff(service, null, mergeCommit, MAX_DIFF_READ_CHARS);
    return { diff, view: readMergedDiff(diff.text, maxDiffChars) };
  };

  /** The error-signature baseline of a service: its hourly counts over the last days, as the deploy watch counted them. */
  const baselineOf = async (service: string): Promise<{ baseline: BaselineSignature[]; miner: LogTemplateMiner | null }> => {
    if (!deps.signatures) return { baseline: [], miner: null };
    const end = Math.floor(now().getTime() / HOUR_MS) * HOUR_MS;
    const start = end - deps.baselineDays * 24 * HOUR_MS;
    const hours = (end - start) / HOUR_MS;
    const [rows, templates, mining] = await Promise.all([
      deps.signatures.hourlyCounts(service, new Date(start).toISOString(), new Date(end).toISOString()),
      deps.signatures.templates(service),
      deps.signatures.loadMining(service),
    ]);
    const templateOf = new Map(templates.map((t) => [t.signature, t.template]));
    const bySignature = new Map<string, BaselineSignature>();
    for (const row of rows) {
      const entry = bySignature.get(row.signature) ?? { signature: row.signature, template: templateOf.get(row.signature) ?? '', hourlyCounts: new Array<number>(hours).fill(0) };
      const index = Math.round((Date.parse(row.hour) - start) / HOUR_MS);
      if (index >= 0 && index < hours) entry.hourlyCounts[index] = Math.round(row.count);
      bySignature.set(row.signature, entry);
    }
    return { baseline: [...bySignature.values()], miner: mining.miner ? LogTemplateMiner.fromState(mining.miner) : null };
  };

  return {
    /**
     * An alert of a monitor Steward generated is counted on it: one fire per incident, and its
     * triage's verdict when noise or real, so that a generator whose monitors are mostly noise shows.
     * A monitor Steward did not generate is not counted (recorded: false).
     */
    async countMonitorAlert(input: { monitorId: string; incidentId: string; verdict: 'real' | 'noise' | 'duplicate' }): Promise<{ recorded: boolean }> {
      if (!deps.generated) return { recorded: false };
      const recorded = await deps.generated.recordOutcome(input.monitorId, 'fired', input.incidentId);
      if (recorded && input.verdict !== 'duplicate') await deps.generated.recordOutcome(input.monitorId, input.verdict, input.incidentId);
      return { recorded };
    },

    /** The merge commit of a PR known by number (and its title, author and page), or the full sha of a commit. */
    async resolveMergedChange(input: { service: string; change: MergedChange }): Promise<MergedChange> {
      const service = serviceConfigFor(deps.services, input.service);
      const repository = repositoryRefFor(service);
      const { change } = input;
      if (change.kind === 'commit') return { kind: 'commit', sha: await deps.codeHost.resolveRevision(repository, change.sha) };
      if (change.mergeCommitSha !== null) return change;
      const merged = await deps.codeHost.mergedPullRequest(repository, change.number);
      return { kind: 'pull_request', number: merged.number, mergeCommitSha: merged.mergeCommitSha, title: merged.title, author: merged.author, url: merged.url };
    },

    /** What the change did, file by file: its classes, its new runtime lines, the binary files skipped and the files the agent's view summarizes. */
    async readMergedChange(input: { service: string; mergeCommit: string; maxDiffChars: number }) {
      const { diff, view } = await mergedDiff(input.service, input.mergeCommit, input.maxDiffChars);
      return {
        filesByClass: view.filesByClass,
        newRuntimeLines: view.newRuntimeLines.length,
        runtimeFiles: view.files.filter((f) => f.runtimeSource).map((f) => f.path),
        skippedBinary: view.skippedBinary,
        summarizedFiles: view.summarizedFiles.length,
        truncated: diff.truncated,
      };
    },

    /**
     * Deletes the generated monitors whose code this change removed (their file deleted, or every
     * literal they match gone from it), and records why. Only monitors Steward created: the
     * monitors port refuses any other. One already gone counts as retired.
     */
    async retireMonitorsOfDeletedCode(input: { repository: string; service: string; mergeCommit: string; changeRef: string }): Promise<RetiredMonitorView[]> {
      const active = await registry().listActive({ repository: input.repository });
      if (active.length === 0) return [];
      const { diff } = await mergedDiff(input.service, input.mergeCommit, MAX_DIFF_READ_CHARS);
      const files = [...new Set(active.map((m) => m.file))];
      const contents = new Map<string, string>();
      for (const file of files) {
        const text = await codeSearch().readFile(input.service, input.mergeCommit, file);
        if (text !== null) contents.set(file, text);
      }
      const retirements = monitorsToRetire(
        active.map((m) => ({ id: m.monitorId, name: m.name, tags: ['created_by:steward', `steward_file:${m.file}`], literals: m.literals })),
        diff.text,
        (path) => contents.get(path),
      );
      const retired: RetiredMonitorView[] = [];
      for (const retirement of retirements) {
        const reason = `${retirement.detail} (${input.changeRef}, ${input.mergeCommit.slice(0, 12)})`;
        try {
          await deps.monitors.delete(retirement.monitorId);
        } catch (error) {
          if (!(error instanceof ApplicationFailure && error.type === ERROR_TYPES.monitorNotFound)) throw error;
        }
        await registry().markRetired(retirement.monitorId, reason);
        retired.push({ monitorId: retirement.monitorId, name: retirement.name, reason });
      }
      return retired;
    },

    /** Every literal of every proposal looked up at the merge commit in one pass; a proposal on a string that is not there is dropped with the reason. */
    async groundMonitorProposals(input: { service: string; services: string[]; mergeCommit: string; proposals: ServiceMonitorProposal[] }): Promise<{ kept: GroundedCandidate[]; dropped: (DroppedProposalView & { proposal: unknown })[] }> {
      const literals = [...new Set(input.proposals.flatMap((p) => p.matches.map((m) => m.literal.trim())).filter((l) => l !== ''))];
      const found = literals.length > 0 ? await codeSearch().findLiterals(input.service, input.mergeCommit, literals) : {};
      const { view } = await mergedDiff(input.service, input.mergeCommit, MAX_DIFF_READ_CHARS);
      const addedByFile = new Map(view.files.filter((f) => f.runtimeSource).map((f) => [f.path, f.addedLines]));
      const kept: GroundedCandidate[] = [];
      const dropped: (DroppedProposalView & { proposal: unknown })[] = [];
      for (const proposal of input.proposals) {
        const decision = await groundProposal(proposal, async (literal) => {
          const where = found[literal] ?? null;
          return where ? { found: true, where } : { found: false };
        });
        if (!decision.keep) {
          dropped.push({ name: proposal.name, stage: 'grounding', reason: decision.reason, proposal });
          continue;
        }
        const normalizedQuery = normalizedQueryOf(proposal.type, proposal.query);
        kept.push({
          proposal,
          service: proposal.service,
          proposalKey: keyOf(proposal.service, proposal, normalizedQuery),
          literals: decision.checks.map((c) => c.literal),
          coveredLines: coveredLinesOf(proposal.location, addedByFile),
          normalizedQuery,
        });
      }
      return { kept, dropped };
    },

    /**
     * Thresholds first (from the service's error-signature baseline for a log alert, where it holds
     * the signature or a close template; else a stated default), then the platform's validator on
     * the definition Steward would create.
     */
    async validateMonitorProposal(input: { candidate: GroundedCandidate; origin: OriginInput; webhookHandle: string; targetFalseFiresPerQuarter: number }): Promise<
      { valid: true; candidate: ThresholdedCandidate; evaluatedLocally: boolean } | { valid: false; errors: string[] }
    > {
      const { candidate } = input;
      const { proposal } = candidate;
      let thresholds: ThresholdedCandidate['thresholds'];
      if (proposal.type === 'log alert') {
        const { baseline, miner } = await baselineOf(candidate.service);
        const message = proposal.matches.find((m) => m.kind === 'log_message')?.literal ?? null;
        const match = message && miner ? miner.match(message) : null;
        const basis = message ? baselineFor({ signature: match?.id ?? null, template: match?.template ?? maskMessage(message) }, baseline) : null;
        const counted = countThresholds(basis, { windowMs: windowMs(proposal.evaluationWindow), criticalFalseFiresPerQuarter: input.targetFalseFiresPerQuarter });
        thresholds = { critical: counted.critical, warning: counted.warning, source: counted.setFrom, explanation: counted.explanation };
      } else if (proposal.type === 'composite') {
        thresholds = { critical: null, warning: null, source: 'proposal', explanation: 'a composite alerts when its monitors do' };
      } else {
        thresholds = { critical: proposal.thresholds.critical, warning: proposal.thresholds.warning ?? null, source: 'proposal', explanation: 'not a count of log lines: the proposed threshold, until the first noise triage tunes it' };
      }
      const definition = monitorDefinitionOf(proposal, thresholds.critical === null ? null : { critical: thresholds.critical, warning: thresholds.warning }, originOf(input.origin), input.webhookHandle);
      const verdict = await deps.monitors.validate(definition);
      if (!verdict.valid) return { valid: false, errors: verdict.errors };
      return { valid: true, candidate: { ...candidate, thresholds }, evaluatedLocally: verdict.evaluatedLocally ?? true };
    },

    /** The model's correction of an invalid proposal, given the validator's errors. */
    async reviseMonitorProposal(input: { generationId: string; attempt: number; proposal: ServiceMonitorProposal; errors: string[] }): Promise<{ proposal: ServiceMonitorProposal }> {
      const { value } = await generateStructured({
        model: deps.model,
        incidentId: input.generationId,
        step: `monitors.revise.${stepSlug(input.proposal.name)}.${input.attempt}`,
        system: REVISE_PROPOSAL_SYSTEM_PROMPT,
        prompt: reviseProposalPrompt(input.proposal, input.errors),
        schemaName: 'monitor_proposal',
        schema: ServiceProposal,
      });
      return { proposal: { ...value, service: input.proposal.service } };
    },

    /** The normalized queries of every monitor already watching these services, and how many generated ones the repository holds (for its cap). */
    async existingMonitorQueries(input: { repository: string; services: string[]; excludeGenerationId: string }): Promise<{ normalizedQueries: string[]; generatedInRepository: number }> {
      const [monitors, generated] = await Promise.all([deps.monitors.list(), registry().listActive({ repository: input.repository })]);
      const ours = new Set(generated.filter((g) => g.generationId === input.excludeGenerationId).map((g) => g.monitorId));
      return {
        normalizedQueries: monitors.filter((m) => !ours.has(m.id)).map((m) => normalizedQueryOf(m.type, m.query)),
        generatedInRepository: generated.filter((g) => g.generationId !== input.excludeGenerationId).length,
      };
    },

    /** Creates the monitor and records it with the change that caused it; a retry finds the record and creates nothing. */
    async createGeneratedMonitor(input: { generationId: string; service: string; candidate: ThresholdedCandidate & { evaluatedLocally: boolean }; origin: OriginInput; webhookHandle: string }): Promise<CreatedMonitorView> {
      const { candidate } = input;
      const viewOf = (monitorId: string, query: string): CreatedMonitorView => ({
        monitorId,
        name: candidate.proposal.name,
        type: candidate.proposal.type,
        query,
        service: candidate.service,
        file: candidate.proposal.location.file,
        critical: candidate.thresholds.critical ?? 0,
        warning: candidate.thresholds.warning,
        thresholdSource: candidate.thresholds.source,
        thresholdExplanation: candidate.thresholds.explanation,
        evaluatedLocally: candidate.evaluatedLocally,
      });
      const existing = await registry().findCreated(input.generationId, candidate.proposalKey);
      if (existing) return viewOf(existing.monitorId, existing.query);
      const t = candidate.thresholds;
      const definition = monitorDefinitionOf(candidate.proposal, t.critical === null ? null : { critical: t.critical, warning: t.warning }, originOf(input.origin), input.webhookHandle);
      const monitor = await deps.monitors.create(definition);
      await registry().recordCreated({
        monitorId: monitor.id,
        generationId: input.generationId,
        proposalKey: candidate.proposalKey,
        repository: input.origin.repository,
        service: candidate.service,
        changeRef: input.origin.changeRef,
        pullRequestNumber: input.origin.pullRequest,
        sourceSha: input.origin.sha,
        name: candidate.proposal.name,
        type: candidate.proposal.type,
        query: monitor.query,
        normalizedQuery: candidate.normalizedQuery,
        file: candidate.proposal.location.file,
        literals: candidate.literals,
        coveredLines: candidate.coveredLines,
        critical: t.critical ?? 0,
        warning: t.warning,
        thresholdSource: t.source,
        evaluatedLocally: candidate.evaluatedLocally,
      });
      return viewOf(monitor.id, monitor.query);
    },

    async recordDroppedProposals(input: { generationId: string; repository: string; dropped: (DroppedProposalView & { proposal: unknown })[] }): Promise<void> {
      await registry().recordDropped(input.dropped.map((d) => ({ generationId: input.generationId, repository: input.repository, name: d.name, stage: d.stage, reason: d.reason, proposal: d.proposal })));
    },

    /** One comment on the PR (or the merge commit), written once per generation whatever the retries. */
    async commentOnMergedChange(report: GenerationReport): Promise<{ url: string }> {
      const service = serviceConfigFor(deps.services, report.service);
      const target = report.change.kind === 'pull_request' ? { kind: 'pull_request' as const, number: report.change.number } : { kind: 'commit' as const, sha: report.change.sha };
      const { url } = await deps.codeHost.comment(repositoryRefFor(service), target, `monitors:${report.generationId}`, pullRequestComment(summaryOf(report)));
      return { url };
    },

    /** The one message the team's channel gets per change, through the outbox: a retry sends nothing twice. */
    async notifyMonitorsGenerated(report: GenerationReport & { commentUrl: string | null }): Promise<{ sent: boolean }> {
      const link = report.change.kind === 'pull_request' ? report.change.url : report.commentUrl;
      const { sent } = await notify({
        key: `monitors-generated:${report.generationId}`,
        kind: 'monitors_generated',
        incidentId: report.generationId,
        service: report.service,
        title: `${report.created.length} monitor${report.created.length === 1 ? '' : 's'} for ${report.repository} ${report.change.kind === 'pull_request' ? `#${report.change.number}` : report.mergeCommit.slice(0, 12)}`,
        text: slackMessage(summaryOf(report), link),
        links: [...(link ? [{ label: report.change.kind === 'pull_request' ? 'Pull request' : 'Comment', url: link }] : [])],
      });
      return { sent };
    },
  };
}

export function summaryOf(report: GenerationReport): MonitorGenerationSummary {
  return {
    repository: report.repository,
    pullRequest: report.change.kind === 'pull_request' ? report.change.number : null,
    sha: report.mergeCommit,
    created: report.created.map((m) => ({
      name: m.name,
      type: m.type as MonitorGenerationSummary['created'][number]['type'],
      query: m.query,
      critical: m.type === 'composite' ? null : m.critical,
      warning: m.warning,
      setFrom: m.thresholdSource,
      thresholdExplanation: m.thresholdExplanation,
      location: { file: m.file },
      url: null,
    })),
    dropped: report.dropped,
  };
}
