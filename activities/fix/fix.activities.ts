import { z } from 'zod';
import { CHANGE_POLICY_GUARD, describeProtectedChanges, protectedChanges } from '../../domain/change-policy';
import { reproductionFiles, unverifiedAttempt, type ExecEvidence, type FixAttemptOutcome, type RecordedRun, type Reproduction } from '../../domain/incident';
import { compareRunsWithBaseline, readSuiteOutcome } from '../../domain/test-results';
import type { ModelPort } from '../../ports/model.port';
import type { SandboxPort } from '../../sandbox/sandbox.port';
import type { SuiteRun } from '../reproduce/reproduce.activities';
import { runInActivity, toEvidence } from '../shared/sandbox-session';
import { generateStructured } from '../shared/structured-output';
import { REVIEW_SYSTEM_PROMPT, reviewPrompt } from './review.prompt';

const Review = z.object({
  approve: z.boolean(),
  summary: z.string(),
  concerns: z.array(z.string()),
});
export type Review = z.infer<typeof Review>;

export type { FixAttemptOutcome } from '../../domain/incident';

/** Runs of the reproduction after a change: a fix that passes it only sometimes is not a fix. */
const REPRODUCTION_RUNS_AFTER = 2;
/** Re-runs of the suite when it shows new failures, to tell a regression from a flaky test. */
const SUITE_RERUNS_ON_NEW_FAILURES = 2;

export function diffStat(diff: string): string {
  const files = new Set<string>();
  let added = 0;
  let removed = 0;
  for (const line of diff.split('\n')) {
    if (line.startsWith('+++ b/')) files.add(line.slice(6));
    else if (line.startsWith('+') && !line.startsWith('+++')) added += 1;
    else if (line.startsWith('-') && !line.startsWith('---')) removed += 1;
  }
  return `${files.size} file${files.size === 1 ? '' : 's'} changed, +${added} -${removed}`;
}

/**
 * Whether the change now in the sandbox fixes the incident: the reproduction (put back as it was,
 * whatever the change did to it) must pass, and the suite must have no failure that the baseline
 * at the same revision did not have. For a failed build the reproduction is the build command,
 * which must now pass.
 */
export async function verifyChange(input: {
  sandbox: SandboxPort;
  sandboxId: string;
  attempt: number;
  summary: string;
  reproduction: Reproduction;
  baseline: SuiteRun;
  testCommand: string;
  commandTimeoutMs: number;
}): Promise<FixAttemptOutcome> {
  const { sandbox, sandboxId, attempt } = input;
  await sandbox.writeFiles(sandboxId, reproductionFiles(input.reproduction));
  const diff = await sandbox.diff(sandboxId);
  const stat = diffStat(diff);
  const rejected = (failureReason: string, evidence: Partial<FixAttemptOutcome>): FixAttemptOutcome =>
    unverifiedAttempt(attempt, failureReason, { summary: input.summary, diff, diffStat: stat, runs, ...evidence });
  const runs: RecordedRun[] = [];
  // A command can write what the edit tools refuse: the change itself is held to the same policy, before anything of it runs.
  const forbidden = protectedChanges(diff);
  if (forbidden.length > 0) return rejected(`the change touches paths no fix may change (${CHANGE_POLICY_GUARD}): ${describeProtectedChanges(forbidden)}`, {});
  const run = async (phase: RecordedRun['phase'], command: string, index: number) => {
    const result = await runInActivity(sandbox, sandboxId, command, input.commandTimeoutMs, { phase, attempt, run: index });
    runs.push({ phase, evidence: toEvidence(result) });
    return result;
  };

  let reproAfter: ExecEvidence | null = null;
  for (let index = 1; index <= REPRODUCTION_RUNS_AFTER; index += 1) {
    const repro = await run('reproduction-after', input.reproduction.command, index);
    reproAfter = toEvidence(repro);
    if (repro.exitCode !== 0) {
      const why = repro.timedOut
        ? 'the reproduction timed out after the change'
        : index === 1
          ? `the reproduction still fails after the change (exit ${repro.exitCode})`
          : `the reproduction is flaky after the change: it passed, then failed on run ${index} (exit ${repro.exitCode})`;
      return rejected(why, { reproAfter });
    }
  }

  const outcomes = [];
  let suiteAfter: ExecEvidence | null = null;
  let comparison = null;
  for (let index = 1; index <= 1 + SUITE_RERUNS_ON_NEW_FAILURES; index += 1) {
    const suite = await run('suite-after', input.testCommand, index);
    suiteAfter ??= toEvidence(suite);
    outcomes.push(readSuiteOutcome(suite.exitCode, suite.timedOut, suite.outputTail));
    comparison = compareRunsWithBaseline(input.baseline.outcome, outcomes);
    // Re-run only to tell new failures from flaky ones; a clean run or a timeout settles it.
    if (comparison.newFailures.length === 0 || suite.timedOut) break;
  }
  const evidence = { reproAfter, suiteAfter, suiteExplanation: comparison!.explanation, flakyTests: comparison!.flakyTests };
  if (comparison!.regressed) return rejected(`the suite regressed: ${comparison!.explanation}`, evidence);
  return { attempt, verified: true, failureReason: null, summary: input.summary, diff, diffStat: stat, runs, ...evidence };
}

/** The self-review a verified change gets before it becomes a pull request. */
export function createFixActivities(deps: { model: ModelPort }) {
  return {
    async reviewFix(input: { incidentId: string; attempt: number; signature: string; diff: string; reproductionMatch: string; suiteExplanation: string }): Promise<Review> {
      const { value } = await generateStructured({
        model: deps.model,
        incidentId: input.incidentId,
        step: `review.attempt-${input.attempt}`,
        system: REVIEW_SYSTEM_PROMPT,
        prompt: reviewPrompt({ alertSignature: input.signature, diff: input.diff, reproductionMatch: input.reproductionMatch, suiteExplanation: input.suiteExplanation }),
        schemaName: 'Review',
        schema: Review,
      });
      return value;
    },
  };
}
