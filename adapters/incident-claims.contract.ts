import type { IncidentClaimsPort } from '../ports/incident-claims.port';

/**
 * What every IncidentClaimsPort must do: one suite, run against Postgres
 * (postgres-incident-claims.adapter.test.ts) and the in-memory fake the activity tests use
 * (test/fakes/in-memory-incident-claims.test.ts). Stores may be shared: each test names its own service, and its incidents after it.
 */
let sequence = 0;

export function describeIncidentClaimsContract(name: string, store: () => IncidentClaimsPort): void {
  describe(`${name}: incident claims contract`, () => {
    let service: string;
    beforeEach(() => {
      sequence += 1;
      service = `claims-${process.pid}-${sequence}`;
    });

    it('gives a signature to the first incident that claims it, and names that one to the next', async () => {
      expect(await store().claim({ incidentId: `${service}:incident-a`, service, signatures: ['sig-1'], source: 'deploy_regression' })).toEqual({ claimed: true });
      const second = await store().claim({ incidentId: `${service}:incident-b`, service, signatures: ['sig-1'], source: 'monitor:800000001' });
      expect(second).toMatchObject({ claimed: false, heldBy: [{ service, signature: 'sig-1', incidentId: `${service}:incident-a`, source: 'deploy_regression' }] });
    });

    it('claims all of the signatures or none', async () => {
      await store().claim({ incidentId: `${service}:incident-a`, service, signatures: ['sig-2'], source: 'deploy_regression' });
      const refused = await store().claim({ incidentId: `${service}:incident-b`, service, signatures: ['sig-1', 'sig-2'], source: 'monitor:1' });
      expect(refused.claimed).toBe(false);
      // sig-1 was not taken by the refused claim: a third incident gets it.
      expect(await store().claim({ incidentId: `${service}:incident-c`, service, signatures: ['sig-1'], source: 'monitor:2' })).toEqual({ claimed: true });
    });

    it('takes a retried claim by the same incident as claimed, and keeps the first source', async () => {
      await store().claim({ incidentId: `${service}:incident-a`, service, signatures: ['sig-1'], source: 'first' });
      expect(await store().claim({ incidentId: `${service}:incident-a`, service, signatures: ['sig-1', 'sig-1'], source: 'second' })).toEqual({ claimed: true });
      const other = await store().claim({ incidentId: `${service}:incident-b`, service, signatures: ['sig-1'], source: 'x' });
      expect(other).toMatchObject({ claimed: false, heldBy: [{ incidentId: `${service}:incident-a`, source: 'first' }] });
    });

    it('keeps services apart', async () => {
      await store().claim({ incidentId: `${service}:incident-a`, service, signatures: ['sig-1'], source: 's' });
      expect(await store().claim({ incidentId: `${service}:incident-b`, service: `${service}-other`, signatures: ['sig-1'], source: 's' })).toEqual({ claimed: true });
    });

    it('frees the claims of a released incident, and only its own', async () => {
      await store().claim({ incidentId: `${service}:incident-a`, service, signatures: ['sig-1', 'sig-2'], source: 's' });
      await store().claim({ incidentId: `${service}:incident-z`, service, signatures: ['sig-3'], source: 's' });
      expect(await store().release(`${service}:incident-a`)).toBe(2);
      expect(await store().release(`${service}:incident-a`)).toBe(0);
      expect(await store().claim({ incidentId: `${service}:incident-b`, service, signatures: ['sig-1', 'sig-2'], source: 's' })).toEqual({ claimed: true });
      expect((await store().claim({ incidentId: `${service}:incident-b`, service, signatures: ['sig-3'], source: 's' })).claimed).toBe(false);
    });

    it('drops a stale claim once, and only while that owner still holds it', async () => {
      await store().claim({ incidentId: `${service}:incident-a`, service, signatures: ['sig-1'], source: 's' });
      expect(await store().dropStale({ service, signature: 'sig-1', incidentId: `${service}:incident-other` })).toBe(false);
      expect(await store().dropStale({ service, signature: 'sig-1', incidentId: `${service}:incident-a` })).toBe(true);
      expect(await store().dropStale({ service, signature: 'sig-1', incidentId: `${service}:incident-a` })).toBe(false);
      expect(await store().claim({ incidentId: `${service}:incident-b`, service, signatures: ['sig-1'], source: 's' })).toEqual({ claimed: true });
    });

    it('lets exactly one of racing claims of overlapping signatures win', async () => {
      const claims = await Promise.all(
        Array.from({ length: 6 }, (_, i) => store().claim({ incidentId: `${service}:racer-${i}`, service, signatures: [`sig-${i % 2}`, 'sig-shared'], source: 's' })),
      );
      expect(claims.filter((c) => c.claimed)).toHaveLength(1);
    });
  });
}
