/** A night's missions, as the planner makes them and the workflows and ledger carry them (re-exported by contracts/nightly-qa.ts). */

export type QaMissionKind = 'stress-merged-prs' | 'sanity-core-features' | 'probe-least-explored';

/** One mission of a night's plan (domain/nightly-qa/planner.ts). */
export interface QaMissionPlan {
  /** Stable for the same work: the kind and what it covers (e.g. `probe:src/coupon.js`). */
  id: string;
  kind: QaMissionKind;
  /** Files or modules (repository-relative) the mission is about. */
  areas: string[];
  /** Why this mission tonight, as the report and the Web UI say it. */
  reason: string;
  /** The merged PRs it stresses (stress missions), the core features it tests (sanity missions). */
  pullRequests: number[];
  /**
   * The merge commit of each PR it stresses, in the same order (stress missions; empty otherwise):
   * the diffs the code host knows, read in the mission's checkout with `git show`.
   */
  mergeCommits: string[];
  features: string[];
  budgetUsd: number;
  maxTurns: number;
}
