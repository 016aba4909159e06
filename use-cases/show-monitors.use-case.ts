import { ERROR_TYPES } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import { coverageOf, linesPerMonitor, queryNamesService, REFERENCE_LINES_PER_MONITOR, repositoryGroups, type Coverage, type RepositoryGroup } from '../domain/monitor-generation/density';
import type { ServicesConfig } from '../domain/service-config';
import type { CodeHostPort } from '../ports/code-host.port';
import type { CodeSearchPort } from '../ports/code-search.port';
import type { GeneratedMonitorRecord, GeneratedMonitorsPort } from '../ports/generated-monitors.port';
import type { MonitorAuthoringPort } from '../ports/monitors.port';

/**
 * What Steward's generated monitors amount to, for a person reading them: each generated monitor
 * with how it has fared (`steward monitors list`), and per repository how densely its code is
 * watched, set beside the reference's one monitor per 75 lines (`steward monitors density`).
 */

/** Days back the coverage share reads the merged changes of. */
export const COVERAGE_WINDOW_DAYS = 30;
const DAY_MS = 86_400_000;

/** Reads only: a reader of the figures gets no way to create, retire or count anything. */
export interface MonitorFigureReaders {
  generated: Pick<GeneratedMonitorsPort, 'listActive' | 'tallies' | 'listChanges'>;
  monitors: Pick<MonitorAuthoringPort, 'list'>;
  codeSearch: Pick<CodeSearchPort, 'countSourceLines'>;
  codeHost: Pick<CodeHostPort, 'resolveRevision'>;
  services: ServicesConfig;
}

export interface GeneratedMonitorEntry {
  monitorId: string;
  name: string;
  type: string;
  service: string;
  repository: string;
  /** 'pr-<n>' or 'commit-<sha>'. */
  changeRef: string;
  pullRequestNumber: number | null;
  /** The merge commit the monitor was generated at. */
  commit: string;
  file: string;
  createdAt: string;
  fires: number;
  noiseVerdicts: number;
  realIncidents: number;
  thresholdSource: GeneratedMonitorRecord['thresholdSource'];
}

export interface GeneratedMonitorList {
  /** Null: every service's. */
  service: string | null;
  /** Oldest first. */
  monitors: GeneratedMonitorEntry[];
}

export interface RepositoryDensity {
  repository: string;
  services: string[];
  defaultBranch: string;
  /** The default branch's head the source lines were counted at. */
  revision: string;
  monitors: {
    /** Active in the registry of generated monitors. */
    generated: number;
    /** On the monitor platform, not created by Steward, with a query that names one of the repository's services as service:<name>. */
    handWritten: number;
    total: number;
  };
  /** Non-blank lines of the source files at the revision. */
  source: { files: number; lines: number };
  /** Null when the repository has no monitor. */
  linesPerMonitor: number | null;
  referenceLinesPerMonitor: number;
  coverage: Coverage & {
    windowDays: number;
    since: string;
    /** Why there is no share, in words; null when there is one. */
    noData: string | null;
  };
}

export interface MonitorDensityView {
  /** When the figures were read: the coverage window ends here. */
  at: string;
  /** Null: every configured repository. */
  service: string | null;
  repositories: RepositoryDensity[];
}

function refuseUnknownService(services: ServicesConfig, service: string | null): void {
  if (service === null || services[service]) return;
  throw stewardFailure(ERROR_TYPES.serviceNotConfigured, `no service ${JSON.stringify(service)} in the services file; configured: ${Object.keys(services).join(', ') || 'none'}`, { service });
}

export async function listGeneratedMonitors(readers: Pick<MonitorFigureReaders, 'generated' | 'services'>, input: { service: string | null }): Promise<GeneratedMonitorList> {
  refuseUnknownService(readers.services, input.service);
  const records = await readers.generated.listActive(input.service === null ? {} : { service: input.service });
  const tallies = new Map((await readers.generated.tallies(records.map((r) => r.monitorId))).map((t) => [t.monitorId, t]));
  return {
    service: input.service,
    monitors: records.map((record) => {
      const tally = tallies.get(record.monitorId);
      return {
        monitorId: record.monitorId,
        name: record.name,
        type: record.type,
        service: record.service,
        repository: record.repository,
        changeRef: record.changeRef,
        pullRequestNumber: record.pullRequestNumber,
        commit: record.sourceSha,
        file: record.file,
        createdAt: record.createdAt,
        fires: tally?.fires ?? 0,
        noiseVerdicts: tally?.noiseVerdicts ?? 0,
        realIncidents: tally?.realIncidents ?? 0,
        thresholdSource: record.thresholdSource,
      };
    }),
  };
}

export async function monitorDensity(readers: MonitorFigureReaders, input: { service: string | null; now: Date }): Promise<MonitorDensityView> {
  refuseUnknownService(readers.services, input.service);
  const groups = repositoryGroups(readers.services).filter((group) => input.service === null || group.services.includes(input.service));
  const since = new Date(input.now.getTime() - COVERAGE_WINDOW_DAYS * DAY_MS).toISOString();
  const platformMonitors = await readers.monitors.list();
  const handWritten = platformMonitors.filter((monitor) => !monitor.createdBySteward);
  const repositories: RepositoryDensity[] = [];
  // One repository at a time: each count runs git over the whole tree.
  for (const group of groups) {
    const [source, generated, changes] = await Promise.all([
      sourceAtDefaultBranch(readers, group),
      readers.generated.listActive({ repository: group.repository }),
      readers.generated.listChanges({ repository: group.repository, since }),
    ]);
    const handWrittenHere = handWritten.filter((monitor) => group.services.some((service) => queryNamesService(monitor.query, service))).length;
    const total = generated.length + handWrittenHere;
    // Only monitors of the window's changes can cover the window's lines; coverageOf matches them by change.
    const coverage = coverageOf(changes, generated);
    repositories.push({
      repository: group.repository,
      services: group.services,
      defaultBranch: group.config.defaultBranch,
      revision: source.revision,
      monitors: { generated: generated.length, handWritten: handWrittenHere, total },
      source: { files: source.files, lines: source.lines },
      linesPerMonitor: linesPerMonitor(source.lines, total),
      referenceLinesPerMonitor: REFERENCE_LINES_PER_MONITOR,
      coverage: { ...coverage, windowDays: COVERAGE_WINDOW_DAYS, since, noData: noCoverageReason(coverage, since) },
    });
  }
  return { at: input.now.toISOString(), service: input.service, repositories };
}

async function sourceAtDefaultBranch(readers: MonitorFigureReaders, group: RepositoryGroup): Promise<{ revision: string; files: number; lines: number }> {
  const service = group.services[0]!;
  // Located as the activities locate a service's repository (activities/shared/sandbox-session.ts, repositoryRefFor).
  const repository = { service, location: group.config.githubRepository ?? group.config.repository, defaultBranch: group.config.defaultBranch };
  const revision = await readers.codeHost.resolveRevision(repository, group.config.defaultBranch);
  return { revision, ...(await readers.codeSearch.countSourceLines(service, revision)) };
}

function noCoverageReason(coverage: Coverage, since: string): string | null {
  if (coverage.changes === 0) return `no merged change processed since ${since}`;
  if (coverage.newRuntimeLines === 0) return `the ${coverage.changes} change${coverage.changes === 1 ? '' : 's'} processed since ${since} added no runtime line`;
  return null;
}
