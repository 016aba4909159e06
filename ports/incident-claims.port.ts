/**
 * Which running incident owns an error. Alerts for one error reach Steward by several roads (the
 * deploy watch's regression, a monitor Steward generated for the new code, a hand-written
 * monitor): each road starts its own incident workflow, and only the first may work on the error.
 * An incident claims its error signatures, per service, before it spends anything on the error; a
 * later one that finds a signature claimed by an incident still running stands down as its
 * duplicate.
 */
export interface SignatureClaim {
  service: string;
  signature: string;
  incidentId: string;
  /** Which road the owner came by, for the duplicate's account: `monitor:<id>`, `deploy_regression`, `build_failure`. */
  source: string;
  claimedAt: string;
}

export interface ClaimRequest {
  incidentId: string;
  /** '' for an alert that names no service: its signatures are then claimed among such alerts only. */
  service: string;
  signatures: string[];
  source: string;
}

export type ClaimResult =
  /** Every signature is now the incident's (some may have been already: a retried claim). */
  | { claimed: true }
  /** Nothing was claimed: these signatures are held by other incidents. */
  | { claimed: false; heldBy: SignatureClaim[] };

export interface IncidentClaimsPort {
  /** All of the signatures or none, atomically against concurrent claims of the same service. */
  claim(request: ClaimRequest): Promise<ClaimResult>;
  /** Drops the claims of an owner that no longer runs, so that a claim can be made again; false when someone else already did. */
  dropStale(claim: Pick<SignatureClaim, 'service' | 'signature' | 'incidentId'>): Promise<boolean>;
  /** Lets go of every claim of the incident (at its end); how many there were. */
  release(incidentId: string): Promise<number>;
}

/** Whether an incident's workflow still runs: a claim of one that ended without releasing it (terminated, failed) is stale. */
export interface IncidentRunsPort {
  isRunning(incidentId: string): Promise<boolean>;
}
