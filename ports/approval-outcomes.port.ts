/**
 * What the approval gate decided, read back from the ledger for evals: each rejection with the diff
 * a human refused, and the fixes of the same errors that a human let through (approved at the gate,
 * or merged). Read only; the workflow writes these rows through IncidentLedgerPort.
 */

/** The incident row a decision belongs to, as the ledger keeps it. */
export interface LedgerIncident {
  service: string | null;
  signature: string;
  monitorId: string;
  title: string;
  /** The whole IncidentState as saved: unchecked JSON, so readers validate what they use. */
  state: unknown;
  createdAt: string;
}

export interface RecordedRejection {
  incidentId: string;
  decidedBy: string;
  reason: string;
  proposedDiff: string;
  decidedAt: string;
  /** Null when the ledger holds the decision but no incident row (the tables carry no foreign key). */
  incident: LedgerIncident | null;
}

/** An incident that opened a PR for an error some rejection was about. */
export interface RecordedPullRequestFix {
  incidentId: string;
  service: string | null;
  signature: string;
  /** When the incident's ledger row was first written: its start, near enough, on the ledger's clock. */
  createdAt: string;
  pullRequestUrl: string;
  /** What the code host said of the PR (merged, or closed without merging), as the incident recorded it; null while open or unfollowed. */
  resolution: { merged: boolean; at: string } | null;
  /** The gate's approval, with the diff it approved; null when the fix passed no gate. */
  approval: { decidedBy: string; decidedAt: string; diff: string } | null;
  /** The diff of the incident's first verified fix attempt: the one its PR proposes. */
  verifiedDiff: string | null;
}

export interface ApprovalOutcomesPort {
  /** Every rejection at the gate, oldest first. */
  listRejections(): Promise<RecordedRejection[]>;
  /** Incidents with a PR whose service and signature some rejection shares, oldest first. */
  listPullRequestFixesForRejectedErrors(): Promise<RecordedPullRequestFix[]>;
}
