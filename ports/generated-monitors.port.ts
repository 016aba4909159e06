import type { ProposalDropStage } from '../contracts/monitor-generation';

/** A monitor Steward generated from a merged change, as its registry keeps it. */
export interface GeneratedMonitorRecord {
  monitorId: string;
  /** The generation run (its workflow id) and the proposal's key within it: a retried create finds the monitor it made. */
  generationId: string;
  proposalKey: string;
  repository: string;
  service: string;
  /** 'pr-<n>' or 'commit-<sha>': the merged change that caused it. */
  changeRef: string;
  pullRequestNumber: number | null;
  sourceSha: string;
  name: string;
  type: string;
  query: string;
  /** The query in canonical form, for deduplication. */
  normalizedQuery: string;
  /** The file the monitor watches, and the literals of that file its query matches: when a later merge deletes them, the monitor goes. */
  file: string;
  literals: string[];
  /** New runtime lines of the change the monitor covers ('path:line'), for the density figure. */
  coveredLines: string[];
  critical: number;
  warning: number | null;
  thresholdSource: 'baseline' | 'default' | 'proposal';
  evaluatedLocally: boolean;
  createdAt: string;
  /** Set once Steward deleted it, with why. */
  retiredAt: string | null;
  retiredReason: string | null;
}

/** How a generated monitor has fared since: a generator whose monitors are mostly noise shows here. */
export interface GeneratedMonitorTally {
  monitorId: string;
  fires: number;
  noiseVerdicts: number;
  realIncidents: number;
}

export interface DroppedProposalRecord {
  generationId: string;
  repository: string;
  name: string;
  stage: ProposalDropStage;
  reason: string;
  /** The proposal as the model made it (JSON), for audits and evals. */
  proposal: unknown;
}

export type MonitorOutcome = 'fired' | 'noise' | 'real';

/**
 * A merged change monitor generation processed, whether or not it produced a monitor, with the new
 * runtime lines it added: the changes that got no monitor are what the density's coverage share
 * would otherwise leave out of its denominator.
 */
export interface ProcessedChangeRecord {
  repository: string;
  /** 'pr-<n>' or 'commit-<sha>', as the monitors generated for it record it. */
  changeRef: string;
  mergeCommit: string;
  /** Each runtime source line the change added, as 'path:line' at the merge commit. */
  newRuntimeLines: string[];
  processedAt: string;
}

/**
 * The registry of generated monitors: what each was generated from, why proposals were dropped, when
 * Steward deleted one and why, and each monitor's fires and verdicts. Kept by Steward whatever the
 * monitor platform (Datadog or the embedded store): the platform holds the monitor, the registry its story.
 */
export interface GeneratedMonitorsPort {
  /** Idempotent on (generationId, proposalKey): a second call keeps the first record and returns it. */
  recordCreated(record: Omit<GeneratedMonitorRecord, 'createdAt' | 'retiredAt' | 'retiredReason'>): Promise<GeneratedMonitorRecord>;
  findCreated(generationId: string, proposalKey: string): Promise<GeneratedMonitorRecord | null>;
  recordDropped(records: DroppedProposalRecord[]): Promise<void>;
  /** The generated monitors not retired, of a repository or a service (either or both), oldest first. */
  listActive(filter: { repository?: string; service?: string }): Promise<GeneratedMonitorRecord[]>;
  markRetired(monitorId: string, reason: string): Promise<void>;
  /** Counts a fire, a noise verdict or a real incident on a generated monitor; a monitor Steward did not generate is ignored (false). */
  recordOutcome(monitorId: string, outcome: MonitorOutcome, incidentId: string): Promise<boolean>;
  tallies(monitorIds: string[]): Promise<GeneratedMonitorTally[]>;
  /** Idempotent on (repository, changeRef): a change processed again keeps its first record, which is returned. */
  recordChange(record: Omit<ProcessedChangeRecord, 'processedAt'>): Promise<ProcessedChangeRecord>;
  /** The changes of a repository processed at or after `since` (ISO), oldest first. */
  listChanges(filter: { repository: string; since: string }): Promise<ProcessedChangeRecord[]>;
}
