import type { ServiceConfig, ServicesConfig } from '../service-config';

/**
 * The arithmetic of `steward monitors density`: which services make one repository, whether a
 * monitor's query watches a service, and the two figures set beside the reference.
 */

/** The reference the density is read against: one monitor per this many source lines. */
export const REFERENCE_LINES_PER_MONITOR = 75;

export interface RepositoryGroup {
  /** 'owner/name' on GitHub, else the one service's name: as monitor generation names the repository. */
  repository: string;
  /** In the services file's order; the first one's settings locate the repository. */
  services: string[];
  config: ServiceConfig;
}

/** Services built from one GitHub repository are one repository; a service without one stands alone. */
export function repositoryGroups(services: ServicesConfig): RepositoryGroup[] {
  const groups = new Map<string, RepositoryGroup>();
  for (const [name, config] of Object.entries(services)) {
    const repository = config.githubRepository ?? name;
    const group = groups.get(repository);
    if (group) group.services.push(name);
    else groups.set(repository, { repository, services: [name], config });
  }
  return [...groups.values()];
}

const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** What may continue a tag value: a query naming `service:checkout-api` does not name `checkout`. */
const TAG_VALUE_CHAR = '[A-Za-z0-9_.:/\\-]';

/**
 * Whether the query filters on the service as `service:<name>`, the way Datadog's log and metric
 * queries do: bare, or quoted (the quotes escaped when the search sits inside logs("…")).
 */
export function queryNamesService(query: string, service: string): boolean {
  const name = escaped(service);
  return new RegExp(`(?<!${TAG_VALUE_CHAR})service:(?:\\\\?"${name}\\\\?"|${name}(?!${TAG_VALUE_CHAR}))`, 'i').test(query);
}

/** Source lines per monitor; null when there is no monitor to divide by. */
export function linesPerMonitor(sourceLines: number, monitors: number): number | null {
  return monitors === 0 ? null : sourceLines / monitors;
}

export interface CoverageChange {
  changeRef: string;
  newRuntimeLines: string[];
}

export interface CoverageMonitor {
  changeRef: string;
  coveredLines: string[];
}

export interface Coverage {
  changes: number;
  newRuntimeLines: number;
  coveredLines: number;
  /** covered / new; null when the changes added no runtime line. */
  share: number | null;
}

/**
 * The share of the changes' new runtime lines that a monitor covers. A line is its change's: the
 * same 'path:line' in two changes is two lines, and a monitor covers only lines of the change it
 * was generated for, so two monitors on one line count it once and the share never passes 1.
 */
export function coverageOf(changes: CoverageChange[], monitors: CoverageMonitor[]): Coverage {
  const key = (changeRef: string, line: string) => `${changeRef}\u0000${line}`;
  const added = new Set(changes.flatMap((change) => change.newRuntimeLines.map((line) => key(change.changeRef, line))));
  const covered = new Set(monitors.flatMap((monitor) => monitor.coveredLines.map((line) => key(monitor.changeRef, line))).filter((line) => added.has(line)));
  return { changes: changes.length, newRuntimeLines: added.size, coveredLines: covered.size, share: added.size === 0 ? null : covered.size / added.size };
}
