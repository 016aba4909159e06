import type { ClaimRequest, ClaimResult, IncidentClaimsPort, IncidentRunsPort, SignatureClaim } from '../../ports/incident-claims.port';

/** The claims as a map, held to the same contract as Postgres (adapters/incident-claims.contract.ts). */
export class InMemoryIncidentClaims implements IncidentClaimsPort {
  private readonly claims = new Map<string, SignatureClaim>();
  private clock = 0;

  async claim({ incidentId, service, signatures, source }: ClaimRequest): Promise<ClaimResult> {
    if (signatures.length === 0) throw new Error('a claim names at least one of its signatures');
    const heldBy = signatures.flatMap((signature) => {
      const held = this.claims.get(key(service, signature));
      return held && held.incidentId !== incidentId ? [held] : [];
    });
    if (heldBy.length > 0) return { claimed: false, heldBy };
    for (const signature of signatures) {
      if (!this.claims.has(key(service, signature))) {
        this.claims.set(key(service, signature), { service, signature, incidentId, source, claimedAt: new Date(Date.UTC(2026, 0, 1) + this.clock++).toISOString() });
      }
    }
    return { claimed: true };
  }

  async dropStale(claim: Pick<SignatureClaim, 'service' | 'signature' | 'incidentId'>): Promise<boolean> {
    const held = this.claims.get(key(claim.service, claim.signature));
    if (!held || held.incidentId !== claim.incidentId) return false;
    this.claims.delete(key(claim.service, claim.signature));
    return true;
  }

  async release(incidentId: string): Promise<number> {
    let released = 0;
    for (const [k, claim] of this.claims) {
      if (claim.incidentId === incidentId) {
        this.claims.delete(k);
        released += 1;
      }
    }
    return released;
  }

  /** What a test reads: who holds each claim now. */
  holders(): SignatureClaim[] {
    return [...this.claims.values()];
  }
}

/** The incidents a test says are running. */
export class InMemoryIncidentRuns implements IncidentRunsPort {
  readonly running = new Set<string>();

  async isRunning(incidentId: string): Promise<boolean> {
    return this.running.has(incidentId);
  }
}

const key = (service: string, signature: string): string => JSON.stringify([service, signature]);
