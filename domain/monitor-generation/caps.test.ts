import { monitorsAllowed, queryIdentity, selectMonitors, type CapCandidate } from './caps';

/** mulberry32: fast-check is not among the dependencies, and a failure must repeat. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const candidate = (name: string, lines: string[], priority = 3, query = `logs("${name}").index("*").rollup("count").last("5m") > 5`): CapCandidate => ({ name, priority, query, coveredLines: lines });
const lines = (file: string, from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${file}:${from + i}`);

describe('monitorsAllowed', () => {
  it('is the smaller of the PR’s cap and what the repository has left', () => {
    expect(monitorsAllowed({ perPullRequest: 5, perRepository: 50, existingInRepository: 10 })).toBe(5);
    expect(monitorsAllowed({ perPullRequest: 5, perRepository: 50, existingInRepository: 48 })).toBe(2);
    expect(monitorsAllowed({ perPullRequest: 5, perRepository: 50, existingInRepository: 60 })).toBe(0);
    expect(() => monitorsAllowed({ perPullRequest: -1, perRepository: 50, existingInRepository: 0 })).toThrow('perPullRequest');
  });
});

describe('selectMonitors', () => {
  it('takes the largest marginal coverage first, not the largest coverage', () => {
    const wide = candidate('wide', lines('a.js', 1, 10));
    const overlapping = candidate('overlapping', lines('a.js', 2, 10));
    const elsewhere = candidate('elsewhere', lines('b.js', 1, 5));
    const selection = selectMonitors([overlapping, wide, elsewhere], 2);
    expect(selection.kept.map((k) => [k.candidate.name, k.newLines])).toEqual([
      ['wide', 10],
      ['elsewhere', 5],
    ]);
    expect(selection.dropped).toEqual([expect.objectContaining({ candidate: overlapping, reason: 'cap' })]);
    expect(selection.dropped[0]!.detail).toContain('would have added 0 new lines');
    expect(selection).toMatchObject({ coveredLines: 15, proposedLines: 15 });
  });

  it('breaks ties by priority, then by name', () => {
    const selection = selectMonitors([candidate('b', ['x:1'], 2), candidate('a', ['y:1'], 2), candidate('c', ['z:1'], 1)], 2);
    expect(selection.kept.map((k) => k.candidate.name)).toEqual(['c', 'a']);
  });

  it('drops duplicates of each other and of the repository’s monitors, outside the cap', () => {
    const selection = selectMonitors(
      [
        candidate('loud', ['a:1'], 3, 'logs("x").index("*").rollup("count").last("5m") > 1'),
        candidate('quiet', ['a:1'], 1, 'logs("x").index("*").rollup("count").last("5m")  > 50'),
        candidate('known', ['b:1'], 1, 'logs("y").index("*").rollup("count").last("5m") > 3'),
      ],
      5,
      ['logs("y").index("*").rollup("count").last("5m") > 9'],
    );
    expect(selection.kept.map((k) => k.candidate.name)).toEqual(['quiet']);
    expect(selection.dropped.map((d) => [d.candidate.name, d.reason, d.detail])).toEqual([
      ['known', 'duplicate', 'the repository already has a monitor with this query'],
      ['loud', 'duplicate', 'same query as "quiet"'],
    ]);
  });

  it('keeps none under a cap of zero, and says why for each', () => {
    const selection = selectMonitors([candidate('a', ['x:1'])], 0);
    expect(selection.kept).toEqual([]);
    expect(selection.dropped[0]!.detail).toContain('cap of 0 monitors');
  });

  it('accounts for every proposal, keeps at most the cap, and covers at least 1 − 1/e of the best choice', () => {
    const random = seeded(17);
    for (let run = 0; run < 300; run += 1) {
      const count = 1 + Math.floor(random() * 7);
      const proposals = Array.from({ length: count }, (_, i) => candidate(`m${i}`, Array.from({ length: Math.floor(random() * 8) }, () => `f.js:${Math.floor(random() * 15)}`), 1 + Math.floor(random() * 5)));
      const cap = Math.floor(random() * 4);
      const selection = selectMonitors(proposals, cap);
      expect(selection.kept.length).toBeLessThanOrEqual(cap);
      expect([...selection.kept.map((k) => k.candidate.name), ...selection.dropped.map((d) => d.candidate.name)].sort()).toEqual(proposals.map((p) => p.name).sort());
      expect(selection.kept.reduce((sum, k) => sum + k.newLines, 0)).toBe(selection.coveredLines);
      expect(selection.coveredLines).toBeGreaterThanOrEqual((1 - 1 / Math.E) * bestCoverage(proposals, cap) - 1e-9);
    }
  });
});

describe('queryIdentity', () => {
  it('ignores the threshold and spacing, not the rest', () => {
    expect(queryIdentity('a  b > 5')).toBe(queryIdentity('a b >= 7.5'));
    expect(queryIdentity('a b > 5')).not.toBe(queryIdentity('a c > 5'));
  });
});

/** By brute force over every subset of at most `cap` proposals. */
function bestCoverage(proposals: CapCandidate[], cap: number): number {
  let best = 0;
  for (let mask = 0; mask < 1 << proposals.length; mask += 1) {
    const chosen = proposals.filter((_, i) => mask & (1 << i));
    if (chosen.length > cap) continue;
    best = Math.max(best, new Set(chosen.flatMap((p) => p.coveredLines)).size);
  }
  return best;
}
