import type { ServicesConfig } from '../../domain/service-config';
import { ERROR_TYPES } from '../../contracts';
import type { NormalizedAlert } from '../../domain/alert';
import type { Reproduction } from '../../domain/incident';
import { TriageResult } from '../../domain/triage';
import { ProcessSandbox } from '../../sandbox/process-sandbox.adapter';
import { demoTranscriptSteps, ScriptedModel } from '../../test/fakes/scripted-model';
import { activityEnvironment, reproducedDemoIncident, runActivity, type ReproducedDemoIncident } from '../../test/support/reproduced-demo-incident';
import type { SuiteRun } from '../reproduce/reproduce.activities';
import { createFixActivities, diffStat } from './fix.activities';

const demoSteps = demoTranscriptSteps();
const triage = TriageResult.parse(demoSteps.triage);
const verifiedFix = demoSteps['fix.attempt-2'] as { summary: string; edits: { path: string; content: string }[] };
const roundingRegression = demoSteps['fix.attempt-1'] as typeof verifiedFix;

describe('fix activities (process sandbox over the demo repository)', () => {
  let incident: ReproducedDemoIncident;
  let sandboxRoot: string;
  let revision: string;
  let services: ServicesConfig;
  let alert: NormalizedAlert;
  let reproduction: Reproduction;
  let baseline: SuiteRun;
  let nextIncident = 0;

  beforeAll(async () => {
    incident = await reproducedDemoIncident('fix-activities');
    ({ sandboxRoot, revision, services, alert, reproduction, baseline } = incident);
  });

  afterAll(() => incident.cleanUp());

  function setUp(proposal: unknown, attempt = 2) {
    const incidentId = `incident-4401001-fix-${++nextIncident}`;
    const sandbox = new ProcessSandbox({ root: sandboxRoot });
    // Calls through: the real sandbox runs every command, the spy only writes them down.
    const exec = jest.spyOn(sandbox, 'exec');
    const model = new ScriptedModel({ [`fix.attempt-${attempt}`]: proposal });
    const activities = createFixActivities({ model, sandbox, services });
    const input = { incidentId, attempt, alert, triage, revision, reproduction, baseline, previousAttempts: [] as { attempt: number; failureReason: string }[] };
    return { activities, model, input, commandsRun: (): string[] => exec.mock.calls.map(([, command]) => command) };
  }

  describe('attemptFix', () => {
    it("verifies the transcript's second attempt: the reproduction passes and the suite has no new failure", async () => {
      const { activities, input } = setUp(verifiedFix);

      const outcome = await runActivity(activityEnvironment(), activities.attemptFix, input);

      expect(outcome).toMatchObject({ attempt: 2, verified: true, failureReason: null, summary: verifiedFix.summary });
      expect(outcome.reproAfter).toMatchObject({ command: reproduction.command, exitCode: 0, timedOut: false });
      expect(outcome.suiteAfter).toMatchObject({ command: services['checkout-service']!.testCommand, exitCode: 0 });
      // The baseline's 8 tests and the reproduction.
      expect(outcome.suiteExplanation).toBe('No new failures (9 passing, 0 failing as before).');
      expect(outcome.diff).toContain('diff --git a/src/pricing.js b/src/pricing.js');
      expect(outcome.diff).toContain(`diff --git a/${reproduction.testPath} b/${reproduction.testPath}`);
      expect(outcome.diff).toContain('+  if (coupon === undefined || coupon === null) return 0;');
      // The fix changes a comment and adds a guard; the reproduction adds its 11 lines.
      expect(outcome.diffStat).toBe('2 files changed, +13 -1');
    });

    it("rejects the transcript's first attempt for the suite regression it causes, naming the test", async () => {
      const { activities, input } = setUp(roundingRegression, 1);

      const outcome = await runActivity(activityEnvironment(), activities.attemptFix, { ...input, attempt: 1 });

      expect(outcome.verified).toBe(false);
      expect(outcome.failureReason).toMatch(/^the suite regressed: New failures after the change in all 3 runs: .*discount rounds to the nearest cent/);
      expect(outcome.reproAfter?.exitCode).toBe(0);
      expect(outcome.suiteAfter?.exitCode).not.toBe(0);
      expect(outcome.diff).toContain('Math.floor');
    });

    it.each([
      ['by its own path', (testPath: string) => testPath],
      ['by another spelling of its path', (testPath: string) => `./${testPath.replace('/', '//')}`],
    ])('refuses a change that edits the reproduction test %s, before running anything', async (_how, spell) => {
      const weakened = "const { test } = require('node:test');\ntest('nothing to see', () => {});\n";
      const { activities, input, commandsRun } = setUp({ summary: 'make the test pass', edits: [{ path: spell(reproduction.testPath), content: weakened }] });

      const outcome = await runActivity(activityEnvironment(), activities.attemptFix, input);

      expect(outcome).toMatchObject({ verified: false, diff: '', reproAfter: null, suiteAfter: null });
      expect(outcome.failureReason).toMatch(/^the change edits the reproduction test /);
      expect(commandsRun()).toEqual([]);
    });

    it('rejects a change after which the reproduction still fails, without running the suite', async () => {
      const cosmetic = { summary: 'reword a comment', edits: [{ path: 'README.md', content: '# checkout-service\n' }] };
      const { activities, input, commandsRun } = setUp(cosmetic);

      const outcome = await runActivity(activityEnvironment(), activities.attemptFix, input);

      expect(outcome).toMatchObject({ verified: false, failureReason: 'the reproduction still fails after the change (exit 1)', suiteAfter: null });
      expect(outcome.reproAfter?.outputTail).toContain("reading 'percent'");
      expect(outcome.diff).toContain('diff --git a/README.md b/README.md');
      expect(commandsRun()).toEqual([reproduction.command]);
    });

    it('tells the model why earlier attempts were rejected, and shows it the failing reproduction', async () => {
      const { activities, input, model } = setUp(verifiedFix);
      const previousAttempts = [{ attempt: 1, failureReason: 'the suite regressed: New failures after the change: discount rounds to the nearest cent' }];

      await runActivity(activityEnvironment(), activities.attemptFix, { ...input, previousAttempts });

      const { prompt } = model.lastRequest('fix.attempt-2');
      expect(prompt).toContain(`Earlier attempts:\nAttempt 1 was rejected: ${previousAttempts[0]!.failureReason}`);
      expect(prompt).toContain(reproduction.testContent);
      expect(prompt).toContain("Cannot read properties of undefined (reading 'percent')");
    });

    it('refuses a proposal without edits as ModelOutputInvalid', async () => {
      const { activities, input } = setUp({ summary: 'nothing to change', edits: [] });

      await expect(runActivity(activityEnvironment(), activities.attemptFix, input)).rejects.toMatchObject({
        type: ERROR_TYPES.modelOutputInvalid,
        message: expect.stringContaining('edits'),
      });
    });
  });

  describe('diffStat', () => {
    it('counts changed files and added and removed lines, not the file headers', () => {
      const diff = [
        'diff --git a/src/pricing.js b/src/pricing.js',
        'index 1111111..2222222 100644',
        '--- a/src/pricing.js',
        '+++ b/src/pricing.js',
        '@@ -8,3 +8,4 @@',
        '-/** old comment */',
        '+/** new comment */',
        '+  if (!coupon) return 0;',
        '   return 1;',
        'diff --git a/test/new.test.js b/test/new.test.js',
        'new file mode 100644',
        '--- /dev/null',
        '+++ b/test/new.test.js',
        '@@ -0,0 +1,2 @@',
        "+'use strict';",
        '+',
        '',
      ].join('\n');

      expect(diffStat(diff)).toBe('2 files changed, +4 -1');
      expect(diffStat(diff.split('diff --git a/test')[0]!)).toBe('1 file changed, +2 -1');
      expect(diffStat('')).toBe('0 files changed, +0 -0');
    });
  });

  describe('reviewFix', () => {
    const input = { incidentId: 'incident-review', attempt: 2, signature: 'TypeError: x', diff: '+fix', reproductionMatch: 'The test fails with TypeError', suiteExplanation: 'No new failures.' };

    it("returns the transcript's approval, having shown the model the diff and the evidence", async () => {
      const model = new ScriptedModel({ 'review.attempt-2': demoSteps['review.attempt-2'] });
      const { reviewFix } = createFixActivities({ model, sandbox: new ProcessSandbox({ root: sandboxRoot }), services });

      const review = await reviewFix(input);

      expect(review).toEqual({ approve: true, summary: expect.stringContaining('guards the one place'), concerns: [] });
      expect(model.lastRequest('review.attempt-2').prompt).toBe(
        'Incident signature: TypeError: x\n\nReproduction: The test fails with TypeError\n\nSuite: No new failures.\n\nDiff:\n+fix',
      );
    });

    it('returns a refusal with its concerns', async () => {
      const refusal = { approve: false, summary: 'hides the error', concerns: ['swallows the TypeError', 'no test for a null coupon'] };
      const { reviewFix } = createFixActivities({ model: new ScriptedModel({ 'review.attempt-2': refusal }), sandbox: new ProcessSandbox({ root: sandboxRoot }), services });

      await expect(reviewFix(input)).resolves.toEqual(refusal);
    });

    it('refuses a review whose approval is not a boolean', async () => {
      const sloppy = { approve: 'yes', summary: 'fine', concerns: [] };
      const { reviewFix } = createFixActivities({ model: new ScriptedModel({ 'review.attempt-2': sloppy }), sandbox: new ProcessSandbox({ root: sandboxRoot }), services });

      await expect(reviewFix(input)).rejects.toMatchObject({ type: ERROR_TYPES.modelOutputInvalid, message: expect.stringContaining('approve') });
    });
  });
});
