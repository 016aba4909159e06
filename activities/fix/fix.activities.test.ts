import type { ServicesConfig } from '../../domain/service-config';
import { ERROR_TYPES } from '../../contracts';
import type { Reproduction } from '../../domain/incident';
import { ProcessSandbox } from '../../sandbox/process-sandbox.adapter';
import { demoTranscriptSteps, ScriptedModel } from '../../test/fakes/scripted-model';
import { activityEnvironment, reproducedDemoIncident, runActivity, type ReproducedDemoIncident } from '../../test/support/reproduced-demo-incident';
import type { SuiteRun } from '../reproduce/reproduce.activities';
import { sandboxIdFor } from '../shared/sandbox-session';
import { createFixActivities, diffStat, verifyChange } from './fix.activities';

const demoSteps = demoTranscriptSteps();
const verifiedFix = demoSteps['fix.attempt-2'] as { summary: string; edits: { path: string; content: string }[] };
const roundingRegression = demoSteps['fix.attempt-1'] as typeof verifiedFix;

describe('fix activities (process sandbox over the demo repository)', () => {
  let incident: ReproducedDemoIncident;
  let sandboxRoot: string;
  let revision: string;
  let services: ServicesConfig;
  let reproduction: Reproduction;
  let baseline: SuiteRun;
  let nextIncident = 0;

  beforeAll(async () => {
    incident = await reproducedDemoIncident('fix-activities');
    ({ sandboxRoot, revision, services, reproduction, baseline } = incident);
  });

  afterAll(() => incident.cleanUp());

  /**
   * A workspace at the deployed revision holding a proposed change, as the fix agent leaves it
   * (the demo transcript's proposals give the files), and verifyChange ready to judge it.
   */
  async function changed(edits: { path: string; content: string }[], attempt = 2) {
    const incidentId = `incident-4401001-fix-${++nextIncident}`;
    const sandboxId = sandboxIdFor(incidentId);
    const sandbox = new ProcessSandbox({ root: sandboxRoot });
    const service = services['checkout-service']!;
    await sandbox.open({ sandboxId, repositoryLocation: service.repository, revision, setupCommand: service.setupCommand });
    await sandbox.reset(sandboxId);
    await sandbox.writeFiles(sandboxId, edits);
    // Calls through: the real sandbox runs every command, the spy only writes them down.
    const exec = jest.spyOn(sandbox, 'exec');
    const verify = (summary: string) =>
      runActivity(activityEnvironment(), verifyChange, { sandbox, sandboxId, attempt, summary, reproduction, baseline, testCommand: service.testCommand, commandTimeoutMs: 60_000 });
    return { verify, commandsRun: (): string[] => exec.mock.calls.map(([, command]) => command) };
  }

  describe('verifyChange', () => {
    it("verifies the transcript's second proposal: the reproduction passes and the suite has no new failure", async () => {
      const { verify } = await changed(verifiedFix.edits);

      const outcome = await verify(verifiedFix.summary);

      expect(outcome).toMatchObject({ attempt: 2, verified: true, failureReason: null, summary: verifiedFix.summary });
      expect(outcome.reproAfter).toMatchObject({ command: reproduction.command, exitCode: 0, timedOut: false });
      expect(outcome.suiteAfter).toMatchObject({ command: services['checkout-service']!.testCommand, exitCode: 0 });
      // The baseline's 11 tests and the reproduction.
      expect(outcome.suiteExplanation).toBe('No new failures (12 passing, 0 failing as before).');
      expect(outcome.diff).toContain('diff --git a/src/pricing.js b/src/pricing.js');
      expect(outcome.diff).toContain(`diff --git a/${reproduction.testPath} b/${reproduction.testPath}`);
      expect(outcome.diff).toContain('+  if (coupon === undefined || coupon === null) return 0;');
      // The fix changes a comment and adds a guard; the reproduction adds its 11 lines.
      expect(outcome.diffStat).toBe('2 files changed, +13 -1');
    });

    it("rejects the transcript's first proposal for the suite regression it causes, naming the test", async () => {
      const { verify } = await changed(roundingRegression.edits, 1);

      const outcome = await verify(roundingRegression.summary);

      expect(outcome.verified).toBe(false);
      expect(outcome.failureReason).toMatch(/^the suite regressed: New failures after the change in all 3 runs: .*discount rounds to the nearest cent/);
      expect(outcome.reproAfter?.exitCode).toBe(0);
      expect(outcome.suiteAfter?.exitCode).not.toBe(0);
      expect(outcome.diff).toContain('Math.floor');
    });

    it('rejects a change after which the reproduction still fails, without running the suite', async () => {
      const { verify, commandsRun } = await changed([{ path: 'README.md', content: '# checkout-service\n' }]);

      const outcome = await verify('reword a comment');

      expect(outcome).toMatchObject({ verified: false, failureReason: 'the reproduction still fails after the change (exit 1)', suiteAfter: null });
      expect(outcome.reproAfter?.outputTail).toContain("reading 'percent'");
      expect(outcome.diff).toContain('diff --git a/README.md b/README.md');
      expect(commandsRun()).toEqual([reproduction.command]);
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
      const { reviewFix } = createFixActivities({ model });

      const review = await reviewFix(input);

      expect(review).toEqual({ approve: true, summary: expect.stringContaining('guards the one place'), concerns: [] });
      expect(model.lastRequest('review.attempt-2').prompt).toBe(
        'Incident signature: TypeError: x\n\nReproduction: The test fails with TypeError\n\nSuite: No new failures.\n\nDiff:\n+fix',
      );
    });

    it('returns a refusal with its concerns', async () => {
      const refusal = { approve: false, summary: 'hides the error', concerns: ['swallows the TypeError', 'no test for a null coupon'] };
      const { reviewFix } = createFixActivities({ model: new ScriptedModel({ 'review.attempt-2': refusal }) });

      await expect(reviewFix(input)).resolves.toEqual(refusal);
    });

    it('refuses a review whose approval is not a boolean', async () => {
      const sloppy = { approve: 'yes', summary: 'fine', concerns: [] };
      const { reviewFix } = createFixActivities({ model: new ScriptedModel({ 'review.attempt-2': sloppy }) });

      await expect(reviewFix(input)).rejects.toMatchObject({ type: ERROR_TYPES.modelOutputInvalid, message: expect.stringContaining('approve') });
    });
  });
});
