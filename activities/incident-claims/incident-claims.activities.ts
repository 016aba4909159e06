import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import type { NormalizedAlert } from '../../domain/alert';
import { claimSource, logLineSignature, signaturesToClaim } from '../../domain/incident-error';
import { LogQuerySyntaxError, parseLogMonitorQuery, printLogSearch } from '../../domain/log-query';
import type { IncidentClaimsPort, IncidentRunsPort, SignatureClaim } from '../../ports/incident-claims.port';
import type { LogsPort } from '../../ports/logs.port';
import type { MonitorsPort } from '../../ports/monitors.port';

/** How many of the monitor's logs are read to find the error it fires on. */
const LOGS_READ = 200;
/** A claim whose owners keep ending under it is tried this many times before the activity is retried. */
const CLAIM_ROUNDS = 3;

export type ErrorClaim =
  | { signatures: string[]; duplicateOf: null }
  /** The incident that already works on this error: this one stands down. */
  | { signatures: string[]; duplicateOf: SignatureClaim };

/**
 * One incident per error, whichever road its alerts come by: the deploy watch's regression, a
 * monitor Steward generated for the new code, a hand-written monitor. See ports/incident-claims.port.ts.
 */
export function createIncidentClaimActivities(deps: { claims: IncidentClaimsPort; runs: IncidentRunsPort; monitors: MonitorsPort; logs: LogsPort | null }) {
  return {
    /**
     * Claims the alert's error signatures for the incident, or names the running incident that
     * holds one of them. A holder that no longer runs (it ended without letting go: terminated,
     * failed) loses its claim.
     */
    async claimIncidentError(input: { incidentId: string; alert: NormalizedAlert; signature: string; foundByNightlyQa?: { missionId: string } }): Promise<ErrorClaim> {
      const { incidentId, alert } = input;
      // A nightly QA finding has no monitor whose logs name its error: it claims its own signature (nightlyQaSignature) alone.
      const nightly = input.foundByNightlyQa;
      const fromLogs = nightly || alert.regression || alert.buildFailure ? [] : await signaturesInMonitorLogs(alert);
      const signatures = nightly ? [input.signature] : signaturesToClaim(alert, input.signature, fromLogs);
      const request = { incidentId, service: alert.service ?? '', signatures, source: nightly ? `nightly_qa:${nightly.missionId}` : claimSource(alert) };
      for (let round = 0; round < CLAIM_ROUNDS; round++) {
        const result = await deps.claims.claim(request);
        if (result.claimed) return { signatures, duplicateOf: null };
        for (const held of result.heldBy) {
          if (await deps.runs.isRunning(held.incidentId)) return { signatures, duplicateOf: held };
          await deps.claims.dropStale(held);
        }
      }
      throw stewardFailure(ERROR_TYPES.incidentClaimContended, `the error of incident ${incidentId} (${signatures.join(', ')}) changed owners ${CLAIM_ROUNDS} times while it was claimed`, {
        incidentId,
        signatures,
      });
    },

    /** At the incident's end: its errors are free for the next incident. */
    async releaseIncidentClaims(input: { incidentId: string }): Promise<{ released: number }> {
      return { released: await deps.claims.release(input.incidentId) };
    },
  };

  /**
   * The errors a log alert fired on, most frequent first: its own search over its own window up to
   * the alert. Other monitor types (APM, composite) name no logs, and neither does a query the log
   * store cannot read; their alert is claimed by its text alone.
   */
  async function signaturesInMonitorLogs(alert: NormalizedAlert): Promise<string[]> {
    if (!deps.logs) return [];
    const monitor = await deps.monitors.get(alert.monitorId);
    let search: string;
    let windowMs: number;
    try {
      const parsed = parseLogMonitorQuery(monitor.query);
      search = printLogSearch(parsed.search);
      windowMs = parsed.windowMs;
    } catch (error) {
      // Not a log alert's query (or not one the embedded syntax reads): there are no logs to read it by.
      if (error instanceof LogQuerySyntaxError) return [];
      throw error;
    }
    const at = Date.parse(alert.occurredAt);
    const { logs } = await deps.logs.searchErrorLogs({ query: search, from: new Date(at - windowMs).toISOString(), to: new Date(at).toISOString(), limit: LOGS_READ });
    const counts = new Map<string, number>();
    for (const log of logs) {
      const signature = logLineSignature(log.message);
      counts.set(signature, (counts.get(signature) ?? 0) + 1);
    }
    return [...counts].sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1)).map(([signature]) => signature);
  }
}

export type IncidentClaimActivities = ReturnType<typeof createIncidentClaimActivities>;
