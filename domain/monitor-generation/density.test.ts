import { NIGHTLY_QA_DEFAULTS, type ServiceConfig } from '../service-config';
import { coverageOf, linesPerMonitor, queryNamesService, repositoryGroups } from './density';

const service = (githubRepository: string | null): ServiceConfig => ({
  repository: `/srv/${githubRepository ?? 'local'}`,
  defaultBranch: 'main',
  setupCommand: null,
  testCommand: 'npm test',
  buildCommand: null,
  singleTestCommand: 'node --test {file}',
  reproductionDir: 'test',
  githubRepository,
  slackChannel: null,
  rollbackHook: null,
  nightlyQa: NIGHTLY_QA_DEFAULTS,
});

/** Seeded, so that a failure repeats; fast-check is not among the dependencies. */
function randomCases<T>(count: number, make: (next: (max: number) => number) => T): T[] {
  let state = 20_261_202;
  const next = (max: number): number => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state % (max + 1);
  };
  return Array.from({ length: count }, () => make(next));
}

describe('repositoryGroups', () => {
  it('puts the services of one GitHub repository together, in the file\'s order, and a service without one alone', () => {
    const groups = repositoryGroups({ web: service('acme/shop'), billing: service('acme/billing'), worker: service('acme/shop'), local: service(null) });
    expect(groups.map((g) => [g.repository, g.services])).toEqual([
      ['acme/shop', ['web', 'worker']],
      ['acme/billing', ['billing']],
      ['local', ['local']],
    ]);
    expect(groups[0]!.config.repository).toBe('/srv/acme/shop');
  });
});

describe('queryNamesService', () => {
  it.each([
    ['logs("service:checkout status:error").index("*").rollup("count").last("5m") > 5', true],
    ['avg(last_5m):avg:trace.http.request.duration{service:checkout,env:prod} > 2', true],
    ['logs("env:prod service:\\"checkout\\"")', true],
    ['logs("env:prod service:\\"checkout-api\\"")', false],
    ['logs(\'service:"checkout" status:error\')', true],
    ['logs("SERVICE:Checkout")', true],
    ['logs("service:checkout-api status:error")', false],
    ['logs("service:checkout.v2")', false],
    ['logs("myservice:checkout")', false],
    ['logs("status:error") checkout', false],
    ['logs("service:payments OR service:checkout")', true],
  ])('%s names checkout: %s', (query, names) => {
    expect(queryNamesService(query, 'checkout')).toBe(names);
  });

  it('takes a service name with characters a pattern would read otherwise as written', () => {
    expect(queryNamesService('logs("service:a.b+c")', 'a.b+c')).toBe(true);
    expect(queryNamesService('logs("service:aXbbc")', 'a.b+c')).toBe(false);
  });
});

describe('linesPerMonitor', () => {
  it('divides, and has no figure without a monitor', () => {
    expect(linesPerMonitor(1500, 4)).toBe(375);
    expect(linesPerMonitor(1500, 0)).toBeNull();
    expect(linesPerMonitor(0, 3)).toBe(0);
  });
});

describe('coverageOf', () => {
  it('counts the lines of the changes a monitor of the same change covers, each once', () => {
    const coverage = coverageOf(
      [
        { changeRef: 'pr-1', newRuntimeLines: ['a.ts:1', 'a.ts:2', 'a.ts:3', 'b.ts:9'] },
        { changeRef: 'pr-2', newRuntimeLines: ['a.ts:1', 'a.ts:2'] },
        { changeRef: 'commit-abc', newRuntimeLines: [] },
      ],
      [
        { changeRef: 'pr-1', coveredLines: ['a.ts:1', 'a.ts:2'] },
        // Overlaps the first monitor: a.ts:2 is counted once.
        { changeRef: 'pr-1', coveredLines: ['a.ts:2', 'a.ts:3'] },
        // pr-2's a.ts:1 is another line than pr-1's, and a monitor of a change outside the window covers none of these.
        { changeRef: 'pr-0', coveredLines: ['a.ts:1', 'b.ts:9'] },
      ],
    );
    expect(coverage).toEqual({ changes: 3, newRuntimeLines: 6, coveredLines: 3, share: 0.5 });
  });

  it('has no share when the changes added no runtime line, or when there is no change', () => {
    expect(coverageOf([{ changeRef: 'pr-1', newRuntimeLines: [] }], [{ changeRef: 'pr-1', coveredLines: ['a.ts:1'] }])).toEqual({ changes: 1, newRuntimeLines: 0, coveredLines: 0, share: null });
    expect(coverageOf([], [])).toEqual({ changes: 0, newRuntimeLines: 0, coveredLines: 0, share: null });
  });

  it('keeps the share between 0 and 1 and equal to covered over new, whatever the monitors cover', () => {
    for (const { changes, monitors } of randomCases(300, (next) => {
      const refs = ['pr-1', 'pr-2', 'pr-3'];
      const line = () => `f${next(2)}.ts:${1 + next(6)}`;
      return {
        changes: refs.slice(0, 1 + next(2)).map((changeRef) => ({ changeRef, newRuntimeLines: Array.from({ length: next(8) }, line) })),
        monitors: Array.from({ length: next(5) }, () => ({ changeRef: refs[next(2)]!, coveredLines: Array.from({ length: next(6) }, line) })),
      };
    })) {
      const coverage = coverageOf(changes, monitors);
      const distinctNew = new Set(changes.flatMap((c) => c.newRuntimeLines.map((l) => `${c.changeRef} ${l}`)));
      expect(coverage.newRuntimeLines).toBe(distinctNew.size);
      expect(coverage.coveredLines).toBeLessThanOrEqual(coverage.newRuntimeLines);
      if (coverage.share === null) expect(coverage.newRuntimeLines).toBe(0);
      else {
        expect(coverage.share).toBeGreaterThanOrEqual(0);
        expect(coverage.share).toBeLessThanOrEqual(1);
        expect(coverage.share).toBeCloseTo(coverage.coveredLines / coverage.newRuntimeLines, 12);
      }
      // Adding a monitor never lowers what is covered.
      const more = coverageOf(changes, [...monitors, { changeRef: changes[0]!.changeRef, coveredLines: changes[0]!.newRuntimeLines.slice(0, 1) }]);
      expect(more.coveredLines).toBeGreaterThanOrEqual(coverage.coveredLines);
    }
  });
});
