/**
 * How many generated monitors a PR gets, and which. Every monitor is a thing someone is paged by,
 * so a PR gets at most its cap (and the repository at most its own, counting the monitors already
 * there), and the ones kept are chosen to cover the most new runtime lines: greedy maximum coverage,
 * which takes at each step the proposal adding the most lines not yet covered, and is within
 * 1 − 1/e of the best choice. Ties go to the higher priority (1 is the highest), then the name.
 * A proposal with the query of another (thresholds aside), or of a monitor the repository already
 * has, is a duplicate and never counts against the cap.
 */

export interface CapCandidate {
  name: string;
  priority: number;
  query: string;
  /** The new runtime lines the monitor watches, as `file:line` ids. */
  coveredLines: readonly string[];
}

export interface CapLimits {
  perPullRequest: number;
  perRepository: number;
  /** Generated monitors the repository has already. */
  existingInRepository: number;
}

export type CapDropReason = 'duplicate' | 'cap';

export interface CapSelection<T extends CapCandidate> {
  /** In the order chosen, each with the lines it added. */
  kept: { candidate: T; newLines: number }[];
  dropped: { candidate: T; reason: CapDropReason; detail: string }[];
  /** Distinct lines the kept monitors cover, and the proposals together. */
  coveredLines: number;
  proposedLines: number;
}

export function monitorsAllowed(limits: CapLimits): number {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 0) throw new Error(`cap limits: ${name} must be a whole number ≥ 0, not ${value}`);
  }
  return Math.max(0, Math.min(limits.perPullRequest, limits.perRepository - limits.existingInRepository));
}

/** A query up to its threshold, with whitespace collapsed: two monitors that differ only in how loud they are watch the same thing. */
export function queryIdentity(query: string): string {
  return query
    .replace(/(>=|<=|>|<)\s*-?\d+(?:\.\d+)?\s*$/, '')
    .replace(/\s+/g, ' ')
    .trim();
}

const ranksBefore = (a: CapCandidate, b: CapCandidate): boolean => a.priority < b.priority || (a.priority === b.priority && a.name < b.name);

export function selectMonitors<T extends CapCandidate>(candidates: readonly T[], limit: number, existingQueries: readonly string[] = []): CapSelection<T> {
  if (!Number.isInteger(limit) || limit < 0) throw new Error(`cap: a whole number ≥ 0, not ${limit}`);
  const dropped: CapSelection<T>['dropped'] = [];
  const existing = new Set(existingQueries.map(queryIdentity));
  const byQuery = new Map<string, T>();
  for (const candidate of [...candidates].sort((a, b) => (ranksBefore(a, b) ? -1 : ranksBefore(b, a) ? 1 : 0))) {
    const identity = queryIdentity(candidate.query);
    if (existing.has(identity)) dropped.push({ candidate, reason: 'duplicate', detail: 'the repository already has a monitor with this query' });
    else if (byQuery.has(identity)) dropped.push({ candidate, reason: 'duplicate', detail: `same query as ${JSON.stringify(byQuery.get(identity)!.name)}` });
    else byQuery.set(identity, candidate);
  }

  const remaining = [...byQuery.values()];
  const covered = new Set<string>();
  const kept: CapSelection<T>['kept'] = [];
  const gainOf = (candidate: T) => new Set(candidate.coveredLines.filter((line) => !covered.has(line))).size;
  while (kept.length < limit && remaining.length > 0) {
    let bestIndex = 0;
    let bestGain = gainOf(remaining[0]!);
    for (let i = 1; i < remaining.length; i += 1) {
      const gain = gainOf(remaining[i]!);
      if (gain > bestGain || (gain === bestGain && ranksBefore(remaining[i]!, remaining[bestIndex]!))) {
        bestIndex = i;
        bestGain = gain;
      }
    }
    const [chosen] = remaining.splice(bestIndex, 1);
    for (const line of chosen!.coveredLines) covered.add(line);
    kept.push({ candidate: chosen!, newLines: bestGain });
  }
  for (const candidate of remaining) {
    dropped.push({ candidate, reason: 'cap', detail: `the cap of ${limit} monitor${limit === 1 ? '' : 's'} was reached; it would have added ${gainOf(candidate)} new line${gainOf(candidate) === 1 ? '' : 's'} to the ${covered.size} covered` });
  }
  return { kept, dropped, coveredLines: covered.size, proposedLines: new Set(candidates.flatMap((c) => c.coveredLines)).size };
}
