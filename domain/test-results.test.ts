import { compareRunsWithBaseline, compareWithBaseline, readSuiteOutcome } from './test-results';

const tap = (lines: string[]): string => ['TAP version 13', ...lines, '1..' + lines.length].join('\n');

describe('readSuiteOutcome', () => {
  it('names failing tests from TAP, nested ones included, and counts skips as passing', () => {
    const outcome = readSuiteOutcome(1, false, tap(['ok 1 - a', 'not ok 2 - b rounds', '    not ok 1 - inner', 'ok 3 - c # SKIP later']));
    expect(outcome.failingTests).toEqual(['b rounds', 'inner']);
    expect(outcome.passedCount).toBe(2);
  });

  it('knows nothing of test names when the output has no TAP', () => {
    expect(readSuiteOutcome(1, false, 'FAIL src/a.test.js').failingTests).toBeNull();
  });
});

describe('compareWithBaseline', () => {
  const baseline = readSuiteOutcome(1, false, tap(['ok 1 - a', 'not ok 2 - already broken']));

  it('does not block on tests that were already failing', () => {
    const after = readSuiteOutcome(1, false, tap(['ok 1 - a', 'not ok 2 - already broken', 'ok 3 - reproduction']));
    expect(compareWithBaseline(baseline, after).regressed).toBe(false);
  });

  it('reports tests that fail only after the change', () => {
    const after = readSuiteOutcome(1, false, tap(['not ok 1 - a', 'not ok 2 - already broken']));
    expect(compareWithBaseline(baseline, after)).toMatchObject({ regressed: true, newFailures: ['a'] });
  });

  it('falls back to exit codes when no test names can be read', () => {
    const green = readSuiteOutcome(0, false, 'all good');
    expect(compareWithBaseline(green, readSuiteOutcome(2, false, 'boom')).regressed).toBe(true);
    expect(compareWithBaseline(green, readSuiteOutcome(0, false, 'still good')).regressed).toBe(false);
  });

  it('treats a timed-out suite as a regression', () => {
    expect(compareWithBaseline(baseline, readSuiteOutcome(null, true, '')).regressed).toBe(true);
  });
});

describe('compareRunsWithBaseline', () => {
  const run = (output: string, exitCode = output.includes('not ok') ? 1 : 0) => readSuiteOutcome(exitCode, false, output);
  const baseline = run('ok 1 - a\nok 2 - b\nnot ok 3 - already broken');

  it('counts a new failure that fails in every run', () => {
    const after = run('ok 1 - a\nnot ok 2 - b\nnot ok 3 - already broken');
    expect(compareRunsWithBaseline(baseline, [after, after])).toMatchObject({ regressed: true, newFailures: ['b'], flakyTests: [], runs: 2 });
  });

  it('reports a test that fails once and passes on a re-run as flaky, not as a regression', () => {
    const failing = run('ok 1 - a\nnot ok 2 - b\nnot ok 3 - already broken');
    const passing = run('ok 1 - a\nok 2 - b\nnot ok 3 - already broken');
    const comparison = compareRunsWithBaseline(baseline, [failing, passing, failing]);
    expect(comparison).toMatchObject({ regressed: false, newFailures: [], flakyTests: ['b'], runs: 3 });
    expect(comparison.explanation).toContain('Flaky (failed in some of 3 runs, passed in others): b');
  });

  it('keeps a consistent failure a regression even beside a flaky one', () => {
    const one = run('not ok 1 - a\nnot ok 2 - b\nnot ok 3 - already broken');
    const two = run('not ok 1 - a\nok 2 - b\nnot ok 3 - already broken');
    expect(compareRunsWithBaseline(baseline, [one, two])).toMatchObject({ regressed: true, newFailures: ['a'], flakyTests: ['b'] });
  });

  it('treats a timed-out run as a regression whatever the other runs say', () => {
    expect(compareRunsWithBaseline(baseline, [baseline, readSuiteOutcome(null, true, '')]).regressed).toBe(true);
  });

  it('needs a run', () => {
    expect(() => compareRunsWithBaseline(baseline, [])).toThrow(RangeError);
  });
});
