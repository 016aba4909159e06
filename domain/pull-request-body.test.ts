import type { ExecEvidence } from './incident';
import { pullRequestBody, type PullRequestContent } from './pull-request-body';

const run = (command: string, exitCode: number | null, durationMs: number, timedOut = false): ExecEvidence => ({ command, exitCode, timedOut, durationMs, outputTail: `output of ${command}` });

function content(overrides: Partial<PullRequestContent> = {}): PullRequestContent {
  return {
    incidentId: 'incident-1-c',
    alertTitle: 'Errors on POST /checkout',
    alertLink: 'https://app.datadoghq.com/monitors/1',
    monitorId: '1',
    triage: { verdict: 'real', severity: 'P2', confidence: 0.9, reasoning: 'a defect', suspectedArea: { files: [], summary: '' }, duplicateOf: null, monitorTuning: null },
    reproduction: {
      testPath: 'test/repro.test.js',
      testContent: '',
      explanation: 'orders without coupons',
      command: 'node --test test/repro.test.js',
      before: run('node --test test/repro.test.js', 1, 310),
      match: 'same TypeError',
      runsBefore: [run('node --test test/repro.test.js', 1, 310), run('node --test test/repro.test.js', 1, 290)],
    },
    reproAfter: run('node --test test/repro.test.js', 0, 280),
    suiteExplanation: 'No new failures.',
    baseline: run('node --test test/', 1, 1_200),
    verificationRuns: [
      { phase: 'reproduction-after', evidence: run('node --test test/repro.test.js', 0, 280) },
      { phase: 'reproduction-after', evidence: run('node --test test/repro.test.js', 0, 270) },
      { phase: 'suite-after', evidence: run('npm test | tee out.txt', 1, 1_500) },
      { phase: 'suite-after', evidence: run('npm test | tee out.txt', null, 600_000, true) },
    ],
    flakyTests: ['checkout retries once'],
    fixSummary: 'Guard the missing coupon.',
    reviewSummary: 'fine',
    attempts: [{ attempt: 1, verified: true, failureReason: null }],
    diff: 'diff --git a/x b/x',
    runUrl: 'http://127.0.0.1:8233/run',
    ...overrides,
  };
}

describe('pullRequestBody', () => {
  it('lists every command the gate ran, in order, with its exit code and time', () => {
    const body = pullRequestBody(content());
    const table = body.slice(body.indexOf('## Evidence'), body.indexOf('## Diff')).trim().split('\n').slice(4);
    expect(table).toEqual([
      '| suite, before the fix (baseline) | `node --test test/` | 1 | 1.2 s |',
      '| reproduction, before the fix | `node --test test/repro.test.js` | 1 | 0.3 s |',
      '| reproduction, before the fix | `node --test test/repro.test.js` | 1 | 0.3 s |',
      '| reproduction, after the fix | `node --test test/repro.test.js` | 0 | 0.3 s |',
      '| reproduction, after the fix | `node --test test/repro.test.js` | 0 | 0.3 s |',
      // A pipe in a command must not split the table's cell.
      '| suite, after the fix | `npm test \\| tee out.txt` | 1 | 1.5 s |',
      '| suite, after the fix | `npm test \\| tee out.txt` | timeout | 600.0 s |',
    ]);
  });

  it('names flaky tests apart from the verdict, and leaves the line out when there are none', () => {
    expect(pullRequestBody(content())).toContain('**Flaky tests** (failed in some runs after the change and passed on a re-run; not counted against it): `checkout retries once`');
    expect(pullRequestBody(content({ flakyTests: [] }))).not.toContain('Flaky tests');
  });

  it('still renders a PR of a run recorded before re-runs and the baseline were kept', () => {
    const body = pullRequestBody(content({ baseline: undefined, verificationRuns: undefined, flakyTests: undefined, reproduction: { ...content().reproduction, runsBefore: undefined } }));
    const rows = body.slice(body.indexOf('## Evidence'), body.indexOf('## Diff')).trim().split('\n').slice(4);
    expect(rows).toEqual(['| reproduction, before the fix | `node --test test/repro.test.js` | 1 | 0.3 s |', '| reproduction, after the fix | `node --test test/repro.test.js` | 0 | 0.3 s |']);
  });

  it('tells a failed build: the error it failed with, that it passes after the fix, and the suite', () => {
    const build = run('node scripts/build.js', 1, 420);
    const body = pullRequestBody(
      content({
        alertTitle: 'Build failed: checkout-service at 41c7b4864583',
        alertLink: '',
        monitorId: 'deploy:checkout-service',
        reproduction: {
          testPath: null,
          testContent: null,
          explanation: '`node scripts/build.js` fails at 41c7b4864583 as the deploy\'s build did.',
          command: 'node scripts/build.js',
          before: build,
          match: "The build fails with the build log's error: Error: Cannot find module './shipping-rules'",
          runsBefore: [build, build],
        },
        reproAfter: run('node scripts/build.js', 0, 400),
        verificationRuns: [{ phase: 'reproduction-after', evidence: run('node scripts/build.js', 0, 400) }, { phase: 'suite-after', evidence: run('node --test test/', 0, 900) }],
        suiteExplanation: 'No new failures (11 passing, 0 failing as before).',
        buildFailure: { revision: '41c7b48645836fe33e6f1061df641fc4e8eded62', previousRevision: '4de00ec4c4cb86191b62fe96924a3bbf12de49a0', errorExcerpt: "Error: Cannot find module './shipping-rules'", logUrl: 'https://ci.example.com/runs/812' },
      }),
    );
    expect(body).toContain('the build of `41c7b4864583` failed when it was deployed (previous deploy `4de00ec4c4cb`): Build failed: checkout-service at 41c7b4864583.');
    expect(body).not.toContain('Datadog monitor');
    expect(body).not.toContain('## Reproduction');
    expect(body).toContain("## Build\n\nThe build failed at `41c7b4864583` with:\n\n```\nError: Cannot find module './shipping-rules'\n```\n\n[The deploy's build log](https://ci.example.com/runs/812)");
    expect(body).toContain('After the fix it passes.\n\n**After the fix:** `node scripts/build.js` exited 0 in 0.4 s');
    expect(body).toContain('Test suite: No new failures (11 passing, 0 failing as before).');
    const table = body.slice(body.indexOf('## Evidence'), body.indexOf('## Diff')).trim().split('\n').slice(4);
    expect(table).toEqual([
      '| suite, before the fix (baseline) | `node --test test/` | 1 | 1.2 s |',
      '| build, before the fix | `node scripts/build.js` | 1 | 0.4 s |',
      '| build, before the fix | `node scripts/build.js` | 1 | 0.4 s |',
      '| build, after the fix | `node scripts/build.js` | 0 | 0.4 s |',
      '| suite, after the fix | `node --test test/` | 0 | 0.9 s |',
    ]);
  });
  it('says a nightly QA finding was found by nightly QA, naming its mission, and names no monitor', () => {
    const body = pullRequestBody(content({ monitorId: 'nightly-qa', alertLink: '', foundBy: { kind: 'nightly-qa', nightWorkflowId: 'nightly-qa-2026-12-03', missionId: 'mission-coupons' } }));
    expect(body).toContain("Found by Steward's nightly QA, mission mission-coupons (run `nightly-qa-2026-12-03`): Errors on POST /checkout.");
    expect(body).not.toContain('Datadog monitor');
    expect(pullRequestBody(content())).not.toContain('nightly QA');
  });
});
