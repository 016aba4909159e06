import { ERROR_TYPES } from '../../contracts';
import { InMemoryGeneratedMonitors } from '../../test/fakes/in-memory-generated-monitors';
import { createProcessedChangeActivities } from './processed-change.activities';

/** A merge that adds runtime code in two hunks of one file, a test and docs: only the runtime lines count. */
const MERGED_DIFF = [
  'diff --git a/src/pricing.js b/src/pricing.js',
  'index 1111111..2222222 100644',
  '--- a/src/pricing.js',
  '+++ b/src/pricing.js',
  '@@ -1,3 +1,5 @@',
  ' const a = 1;',
  '+const bulk = 10;',
  '+const tee = 2;',
  ' const b = 2;',
  ' module.exports = { a, b };',
  '@@ -20,2 +22,3 @@',
  ' function price() {',
  '-  return 0;',
  '+  return bulk * tee;',
  '+}',
  'diff --git a/test/pricing.test.js b/test/pricing.test.js',
  'index 3333333..4444444 100644',
  '--- a/test/pricing.test.js',
  '+++ b/test/pricing.test.js',
  '@@ -1 +1,2 @@',
  " test('a', () => {});",
  "+test('bulk', () => {});",
  'diff --git a/README.md b/README.md',
  'index 5555555..6666666 100644',
  '--- a/README.md',
  '+++ b/README.md',
  '@@ -1 +1,2 @@',
  ' # shop',
  '+Bulk prices.',
  '',
].join('\n');

describe('recordProcessedChange', () => {
  const change = { repository: 'acme/shop', service: 'checkout', changeRef: 'pr-41', mergeCommit: 'f'.repeat(40) };

  function activitiesOver(diff: { text: string; truncated: boolean }) {
    const generated = new InMemoryGeneratedMonitors(() => new Date('2026-12-01T10:00:00.000Z'));
    const reads: unknown[][] = [];
    const codeSearch = {
      diff: async (...args: [string, string | null, string, number]) => {
        reads.push(args);
        return { ...diff, from: 'e'.repeat(40), to: args[2] };
      },
    };
    return { generated, reads, activities: createProcessedChangeActivities({ codeSearch, generated }) };
  }

  it('records the runtime lines the change added, by file and line at the merge commit, and leaves tests and docs out', async () => {
    const { generated, reads, activities } = activitiesOver({ text: MERGED_DIFF, truncated: false });
    const outcome = await activities.recordProcessedChange(change);
    expect(outcome).toEqual({ newRuntimeLines: 4, processedAt: '2026-12-01T10:00:00.000Z', diffTruncated: false });
    // The diff of the merge commit against its first parent, as monitor generation reads it.
    expect(reads).toEqual([['checkout', null, 'f'.repeat(40), 5_000_000]]);
    expect(await generated.listChanges({ repository: 'acme/shop', since: '2026-11-01T00:00:00.000Z' })).toEqual([
      { repository: 'acme/shop', changeRef: 'pr-41', mergeCommit: 'f'.repeat(40), newRuntimeLines: ['src/pricing.js:2', 'src/pricing.js:3', 'src/pricing.js:23', 'src/pricing.js:24'], processedAt: '2026-12-01T10:00:00.000Z' },
    ]);
  });

  it('records a change that added no runtime code too, with no lines, and a retry changes nothing', async () => {
    const testsAndDocsOnly = MERGED_DIFF.slice(MERGED_DIFF.indexOf('diff --git a/test/'));
    const { generated, activities } = activitiesOver({ text: testsAndDocsOnly, truncated: false });
    expect((await activities.recordProcessedChange(change)).newRuntimeLines).toBe(0);
    expect((await activities.recordProcessedChange({ ...change, mergeCommit: 'a'.repeat(40) })).newRuntimeLines).toBe(0);
    const kept = await generated.listChanges({ repository: 'acme/shop', since: '2026-11-01T00:00:00.000Z' });
    expect(kept.map((c) => [c.changeRef, c.mergeCommit, c.newRuntimeLines])).toEqual([['pr-41', 'f'.repeat(40), []]]);
  });

  it('says when the diff was cut, since the lines past the cut are not counted', async () => {
    const { activities } = activitiesOver({ text: MERGED_DIFF, truncated: true });
    expect(await activities.recordProcessedChange(change)).toMatchObject({ diffTruncated: true, newRuntimeLines: 4 });
  });

  it('fails, not retried, on a worker without code search, and on a change ref the registry refuses', async () => {
    const generated = new InMemoryGeneratedMonitors();
    await expect(createProcessedChangeActivities({ codeSearch: null, generated }).recordProcessedChange(change)).rejects.toMatchObject({
      type: ERROR_TYPES.deployWatchNotConfigured,
      nonRetryable: true,
    });
    const { activities } = activitiesOver({ text: MERGED_DIFF, truncated: false });
    await expect(activities.recordProcessedChange({ ...change, changeRef: 'main' })).rejects.toMatchObject({ type: ERROR_TYPES.monitorGenerationInputInvalid, nonRetryable: true });
  });
});
