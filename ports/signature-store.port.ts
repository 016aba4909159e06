import type { MinerState } from '../domain/log-template-miner';

/** One signature's count in one clock hour; an estimate when that hour was sampled. */
export interface SignatureHourCount {
  signature: string;
  /** ISO-8601, the start of the hour. */
  hour: string;
  count: number;
  /** The share of the hour's error logs that was read; 1 when all were. */
  sampledFraction: number;
}

export interface SignatureTemplate {
  signature: string;
  template: string;
}

export interface ServiceMining {
  miner: MinerState | null;
  /** ISO-8601: error logs before this have been counted; null when none have. */
  countedUntil: string | null;
}

export interface MiningBatch {
  miner: MinerState;
  /** The counts already held must end where this batch starts, or the batch is refused (another writer moved on). */
  countedFrom: string | null;
  countedUntil: string;
  counts: SignatureHourCount[];
  templates: (SignatureTemplate & { seenAt: string })[];
}

export interface DeployRecord {
  watchId: string;
  service: string;
  revision: string;
  previousRevision: string | null;
  environment: string | null;
  deployedAt: string;
  verdict: string;
}

/** One signature of a service as the store holds it: what it reads, and the hours it was counted in. */
export interface SignatureSummary {
  signature: string;
  /** Null when counts exist without a template (a template is written with every batch that counts it). */
  template: string | null;
  /** The sum of its hourly counts; an estimate where an hour was sampled. */
  total: number;
  /** Clock hours with a count. */
  hours: number;
  /** ISO-8601 starts of its first and last counted hour. */
  firstHour: string;
  lastHour: string;
  /** The lowest share read of any of its hours; 1 when every hour was read whole. */
  lowestSampledFraction: number;
}

/** How far a service's error logs have been counted. */
export interface MiningSpan {
  /** ISO-8601: the start of the earliest hour holding a count; null when there is none. */
  countedFrom: string | null;
  /** ISO-8601: error logs before this have been counted; null when none have. */
  countedUntil: string | null;
  /** Null when the service was never counted. */
  updatedAt: string | null;
}

export interface WatchTestRecord<S, R> {
  pollIndex: number;
  polledUntil: string;
  state: S;
  lastResult: R | null;
}

/**
 * Error signatures per service: the miner that names them, their hourly counts (the deploy watch's
 * baseline), the deploys watched, and each watch's live test between polls.
 */
export interface SignatureStorePort {
  loadMining(service: string): Promise<ServiceMining>;
  /** Adds a batch of counts and moves `countedUntil`, in one transaction; false when `countedFrom` no longer holds. */
  recordMining(service: string, batch: MiningBatch): Promise<boolean>;
  /** Hours in [from, to), every signature with a count there. */
  hourlyCounts(service: string, from: string, to: string): Promise<SignatureHourCount[]>;
  templates(service: string, signatures?: string[]): Promise<SignatureTemplate[]>;

  recordDeploy(deploy: DeployRecord): Promise<void>;
  setDeployVerdict(watchId: string, verdict: string): Promise<void>;
  /** The service's deploys before `before`, newest first. */
  deploysBefore(service: string, before: string, limit: number): Promise<DeployRecord[]>;
  /** The service's latest deploys, newest first. */
  recentDeploys(service: string, limit: number): Promise<DeployRecord[]>;

  /** Every signature of the service with a count, the largest total first. */
  signatureSummaries(service: string): Promise<SignatureSummary[]>;
  miningSpan(service: string): Promise<MiningSpan>;

  loadWatchTest<S, R>(watchId: string): Promise<WatchTestRecord<S, R> | null>;
  /** Saves poll `pollIndex`'s state only if the stored one is older (a retried poll keeps the first save). */
  saveWatchTest<S, R>(watchId: string, record: WatchTestRecord<S, R>): Promise<boolean>;
}
