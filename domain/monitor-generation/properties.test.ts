import fc from 'fast-check';
import { queryIdentity, selectMonitors } from './caps';
import { datadogTag, MAX_TAG_LENGTH } from './proposal';

/**
 * Properties of monitor generation's choices over inputs fast-check draws (and shrinks on failure):
 * the tags Steward writes are always tags Datadog keeps as written, and the cap never keeps more
 * than it may, never keeps two monitors of one query, and accounts for every proposal.
 */

describe('datadogTag', () => {
  const withLetter = fc.tuple(fc.string({ maxLength: 300 }), fc.constantFrom('a', 'Z', 'q'), fc.string({ maxLength: 300 })).map(([a, letter, b]) => `${a}${letter}${b}`);

  it('always yields a tag Datadog keeps as written: lower case, starting with a letter, allowed characters only, at most 200, no trailing underscore', () => {
    fc.assert(
      fc.property(withLetter, (raw) => {
        const tag = datadogTag(raw);
        expect(tag).toMatch(/^[a-z][a-z0-9_\-:./]*$/);
        expect(tag.length).toBeLessThanOrEqual(MAX_TAG_LENGTH);
        expect(tag.endsWith('_')).toBe(false);
        expect(tag).not.toContain('__');
      }),
    );
  });

  it('is idempotent, so that Steward finds its own tags again by equality', () => {
    fc.assert(fc.property(withLetter, (raw) => expect(datadogTag(datadogTag(raw))).toBe(datadogTag(raw))));
  });
});

describe('selectMonitors', () => {
  const line = fc.tuple(fc.constantFrom('src/a.js', 'src/b.js'), fc.integer({ min: 1, max: 30 })).map(([file, n]) => `${file}:${n}`);
  const candidate = fc.record({
    name: fc.string({ minLength: 1, maxLength: 8 }),
    priority: fc.integer({ min: 1, max: 5 }),
    query: fc.constantFrom('q1 > 1', 'q1 > 5', 'q2 > 1', 'q3 >= 2', 'q4 < 9', 'q5 > 1'),
    coveredLines: fc.uniqueArray(line, { maxLength: 12 }),
  });

  it('keeps at most its limit, no two of one query or of an existing one, and accounts for every proposal exactly once', () => {
    fc.assert(
      fc.property(fc.array(candidate, { maxLength: 10 }), fc.integer({ min: 0, max: 6 }), fc.subarray(['q1 > 3', 'q4 < 1']), (candidates, limit, existing) => {
        const selection = selectMonitors(candidates, limit, existing);
        expect(selection.kept.length).toBeLessThanOrEqual(limit);
        const keptQueries = selection.kept.map((k) => queryIdentity(k.candidate.query));
        expect(new Set(keptQueries).size).toBe(keptQueries.length);
        for (const query of existing) expect(keptQueries).not.toContain(queryIdentity(query));
        expect(selection.kept.length + selection.dropped.length).toBe(candidates.length);
        expect(new Set([...selection.kept.map((k) => k.candidate), ...selection.dropped.map((d) => d.candidate)]).size).toBe(new Set(candidates).size);
      }),
    );
  });

  it('covers at least as many new lines as the best single proposal it could have kept', () => {
    fc.assert(
      fc.property(fc.array(candidate, { minLength: 1, maxLength: 10 }), fc.integer({ min: 1, max: 6 }), (candidates, limit) => {
        const selection = selectMonitors(candidates, limit);
        const eligible = candidates.filter((c) => !selection.dropped.some((d) => d.candidate === c && d.reason === 'duplicate'));
        const bestSingle = Math.max(0, ...eligible.map((c) => new Set(c.coveredLines).size));
        expect(selection.coveredLines).toBeGreaterThanOrEqual(bestSingle);
      }),
    );
  });
});
