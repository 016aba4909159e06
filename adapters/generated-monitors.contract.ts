import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../contracts';
import type { GeneratedMonitorRecord, GeneratedMonitorsPort } from '../ports/generated-monitors.port';

/**
 * What every GeneratedMonitorsPort must do: one suite, run against the Postgres registry
 * (postgres-generated-monitors.adapter.test.ts) and the in-memory fake the workflow tests use
 * (test/fakes/in-memory-generated-monitors.test.ts), so the fake cannot promise what Postgres does not.
 * Stores may be shared between tests: each test names its own repository and generation.
 */

type NewRecord = Omit<GeneratedMonitorRecord, 'createdAt' | 'retiredAt' | 'retiredReason'>;

let sequence = 0;

export function describeGeneratedMonitorsContract(name: string, store: () => GeneratedMonitorsPort): void {
  describe(`${name}: generated monitors contract`, () => {
    let repository: string;
    let generationId: string;

    const record = (proposalKey: string, overrides: Partial<NewRecord> = {}): NewRecord => ({
      monitorId: `${generationId}-${proposalKey}`,
      generationId,
      proposalKey,
      repository,
      service: 'checkout',
      changeRef: 'pr-12',
      pullRequestNumber: 12,
      sourceSha: 'a'.repeat(40),
      name: `[steward] ${proposalKey} errors`,
      type: 'log alert',
      query: `logs("service:checkout \\"${proposalKey} failed\\"").index("*").rollup("count").last("5m") > 5`,
      normalizedQuery: `logs("service:checkout \\"${proposalKey} failed\\"").rollup(count).last(5m) > 5`,
      file: 'src/payments.ts',
      literals: [`${proposalKey} failed`],
      coveredLines: ['src/payments.ts:10', 'src/payments.ts:11'],
      critical: 5,
      warning: 2.5,
      thresholdSource: 'baseline',
      evaluatedLocally: true,
      ...overrides,
    });

    beforeEach(() => {
      sequence += 1;
      repository = `acme/contract-${name.replace(/\W/g, '')}-${sequence}`;
      generationId = `monitors-acme_contract-pr-${sequence}`;
    });

    it('keeps a created monitor whole, and finds it by generation and proposal', async () => {
      const created = await store().recordCreated(record('refund'));
      expect(created).toEqual({ ...record('refund'), createdAt: expect.any(String), retiredAt: null, retiredReason: null });
      expect(Number.isNaN(Date.parse(created.createdAt))).toBe(false);
      expect(await store().findCreated(generationId, 'refund')).toEqual(created);
      expect(await store().findCreated(generationId, 'other')).toBeNull();
      expect(await store().findCreated('another-generation', 'refund')).toBeNull();
      const commitChange = await store().recordCreated(record('on-commit', { changeRef: 'commit-0123abc', pullRequestNumber: null, warning: null, thresholdSource: 'default', evaluatedLocally: false }));
      expect(commitChange).toMatchObject({ changeRef: 'commit-0123abc', pullRequestNumber: null, warning: null, thresholdSource: 'default', evaluatedLocally: false });
    });

    it('keeps the first record when a create is retried, even with other fields', async () => {
      const first = await store().recordCreated(record('charge'));
      const retried = await store().recordCreated(record('charge', { monitorId: `${generationId}-charge-second`, critical: 99 }));
      expect(retried).toEqual(first);
      expect((await store().listActive({ repository })).map((m) => m.monitorId)).toEqual([first.monitorId]);
    });

    it('refuses a monitor id already registered for another proposal, and a record that fails its schema', async () => {
      await store().recordCreated(record('one'));
      await expect(store().recordCreated(record('two', { monitorId: `${generationId}-one` }))).rejects.toMatchObject({ type: ERROR_TYPES.monitorGenerationInputInvalid, nonRetryable: true });
      await expect(store().recordCreated(record('three', { critical: Number.NaN }))).rejects.toMatchObject({ type: ERROR_TYPES.monitorGenerationInputInvalid });
      await expect(store().recordCreated(record('four', { changeRef: 'main' }))).rejects.toMatchObject({ type: ERROR_TYPES.monitorGenerationInputInvalid });
      expect(await store().findCreated(generationId, 'three')).toBeNull();
    });

    it('lists the active monitors of a repository or a service, oldest first, and leaves retired ones out', async () => {
      await store().recordCreated(record('first'));
      await store().recordCreated(record('second', { service: 'payments' }));
      await store().recordCreated(record('third'));
      expect((await store().listActive({ repository })).map((m) => m.proposalKey)).toEqual(['first', 'second', 'third']);
      expect((await store().listActive({ repository, service: 'checkout' })).map((m) => m.proposalKey)).toEqual(['first', 'third']);
      expect((await store().listActive({ repository: `${repository}-none` })).map((m) => m.proposalKey)).toEqual([]);
      expect((await store().listActive({ service: 'payments' })).map((m) => m.monitorId)).toContain(`${generationId}-second`);

      await store().markRetired(`${generationId}-first`, 'its literals were deleted by pr-13');
      expect((await store().listActive({ repository })).map((m) => m.proposalKey)).toEqual(['second', 'third']);
      const retired = await store().findCreated(generationId, 'first');
      expect(retired).toMatchObject({ retiredReason: 'its literals were deleted by pr-13', retiredAt: expect.any(String) });
      // Retiring again keeps the first reason.
      await store().markRetired(`${generationId}-first`, 'again');
      expect((await store().findCreated(generationId, 'first'))?.retiredReason).toBe('its literals were deleted by pr-13');
      await expect(store().markRetired('never-generated', 'x')).rejects.toMatchObject({ type: ERROR_TYPES.monitorNotFound, nonRetryable: true });
    });

    it('counts each outcome once per incident, ignores monitors it did not generate, and tallies in the order asked', async () => {
      const a = (await store().recordCreated(record('a'))).monitorId;
      const b = (await store().recordCreated(record('b'))).monitorId;
      expect(await store().recordOutcome(a, 'fired', 'incident-1')).toBe(true);
      expect(await store().recordOutcome(a, 'fired', 'incident-1')).toBe(true);
      expect(await store().recordOutcome(a, 'fired', 'incident-2')).toBe(true);
      expect(await store().recordOutcome(a, 'noise', 'incident-2')).toBe(true);
      expect(await store().recordOutcome(b, 'real', 'incident-3')).toBe(true);
      expect(await store().recordOutcome('datadog-123', 'fired', 'incident-4')).toBe(false);
      // A retired monitor's verdicts still count: the story outlives the monitor.
      await store().markRetired(b, 'noisy');
      expect(await store().recordOutcome(b, 'noise', 'incident-5')).toBe(true);

      expect(await store().tallies([b, 'datadog-123', a])).toEqual([
        { monitorId: b, fires: 0, noiseVerdicts: 1, realIncidents: 1 },
        { monitorId: a, fires: 2, noiseVerdicts: 1, realIncidents: 0 },
      ]);
      const c = (await store().recordCreated(record('c'))).monitorId;
      expect(await store().tallies([c])).toEqual([{ monitorId: c, fires: 0, noiseVerdicts: 0, realIncidents: 0 }]);
      expect(await store().tallies([])).toEqual([]);
      await expect(store().recordOutcome(a, 'exploded' as never, 'incident-6')).rejects.toBeInstanceOf(ApplicationFailure);
    });

    it('keeps each processed change once, lists a repository\'s changes since a time, oldest first, and refuses a malformed one', async () => {
      const lines = ['src/payments.ts:10', 'src/payments.ts:11', 'src/refunds.ts:3'];
      const first = await store().recordChange({ repository, changeRef: 'pr-12', mergeCommit: 'c'.repeat(40), newRuntimeLines: lines });
      expect(first).toEqual({ repository, changeRef: 'pr-12', mergeCommit: 'c'.repeat(40), newRuntimeLines: lines, processedAt: expect.any(String) });
      // A retried record, even with other lines, keeps the first.
      expect(await store().recordChange({ repository, changeRef: 'pr-12', mergeCommit: 'd'.repeat(40), newRuntimeLines: [] })).toEqual(first);
      const second = await store().recordChange({ repository, changeRef: 'commit-0123abc', mergeCommit: '0123abc', newRuntimeLines: [] });
      await store().recordChange({ repository: `${repository}-other`, changeRef: 'pr-12', mergeCommit: 'e'.repeat(40), newRuntimeLines: ['a.ts:1'] });

      const hourAgo = new Date(Date.parse(first.processedAt) - 3_600_000).toISOString();
      expect(await store().listChanges({ repository, since: hourAgo })).toEqual([first, second]);
      expect(await store().listChanges({ repository, since: first.processedAt })).toEqual([first, second]);
      expect(await store().listChanges({ repository, since: new Date(Date.parse(second.processedAt) + 3_600_000).toISOString() })).toEqual([]);
      expect(await store().listChanges({ repository: `${repository}-none`, since: hourAgo })).toEqual([]);

      await expect(store().recordChange({ repository, changeRef: 'main', mergeCommit: 'x', newRuntimeLines: [] })).rejects.toMatchObject({ type: ERROR_TYPES.monitorGenerationInputInvalid, nonRetryable: true });
      await expect(store().recordChange({ repository, changeRef: 'pr-13', mergeCommit: 'x', newRuntimeLines: ['no line number'] })).rejects.toMatchObject({ type: ERROR_TYPES.monitorGenerationInputInvalid });
      await expect(store().listChanges({ repository, since: 'yesterday' })).rejects.toMatchObject({ type: ERROR_TYPES.monitorGenerationInputInvalid });
      expect(await store().listChanges({ repository, since: hourAgo })).toHaveLength(2);
    });

    it('records drops, a retried record once, and refuses a drop of an unknown stage', async () => {
      const drop = { generationId, repository, name: 'refund latency', stage: 'grounding' as const, reason: 'literal "refund slow" is not in the code', proposal: { query: 'x', literals: ['refund slow'] } };
      await store().recordDropped([drop, { ...drop, name: 'dup', stage: 'duplicate', reason: 'same query as m-1' }]);
      await store().recordDropped([drop]);
      await store().recordDropped([]);
      await expect(store().recordDropped([{ ...drop, stage: 'whim' as never }])).rejects.toMatchObject({ type: ERROR_TYPES.monitorGenerationInputInvalid });
    });
  });
}
