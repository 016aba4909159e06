/**
 * The outcome of a test-suite run, as far as the output tells it. TAP (`ok` / `not ok` lines, as
 * Node's test runner, tape and many others print) names each failing test; for other formats only
 * the exit code is known.
 */
export interface SuiteOutcome {
  exitCode: number | null;
  timedOut: boolean;
  /** Names of failing tests, or null when the output has no TAP test lines to read them from. */
  failingTests: string[] | null;
  passedCount: number | null;
}

const TAP_LINE = /^\s*(not ok|ok)\s+\d+\s*(?:-\s*)?(.*?)(?:\s+#\s*(SKIP|TODO)\b.*)?$/i;

export function readSuiteOutcome(exitCode: number | null, timedOut: boolean, output: string): SuiteOutcome {
  const failing: string[] = [];
  let passed = 0;
  let sawTap = false;
  for (const line of output.split('\n')) {
    const match = TAP_LINE.exec(line);
    if (!match) continue;
    sawTap = true;
    const [, status, name, directive] = match;
    if (status!.toLowerCase() === 'ok' || directive) passed += 1;
    else failing.push(name!.trim());
  }
  return { exitCode, timedOut, failingTests: sawTap ? [...new Set(failing)].sort() : null, passedCount: sawTap ? passed : null };
}

export interface SuiteComparison {
  regressed: boolean;
  newFailures: string[];
  explanation: string;
}

/**
 * Compares a run after a change with the baseline at the same revision: tests that were already
 * failing neither block the change nor count for it.
 */
export function compareWithBaseline(baseline: SuiteOutcome, after: SuiteOutcome): SuiteComparison {
  if (after.timedOut) return { regressed: true, newFailures: [], explanation: 'The suite timed out after the change.' };
  if (baseline.failingTests !== null && after.failingTests !== null) {
    const before = new Set(baseline.failingTests);
    const newFailures = after.failingTests.filter((name) => !before.has(name));
    if (newFailures.length > 0) {
      return { regressed: true, newFailures, explanation: `New failures after the change: ${newFailures.join('; ')}` };
    }
    if (after.exitCode !== 0 && baseline.exitCode === 0) {
      return { regressed: true, newFailures: [], explanation: `The suite exited ${after.exitCode} after the change, though no test is reported failing.` };
    }
    return { regressed: false, newFailures: [], explanation: `No new failures (${after.passedCount ?? 0} passing, ${after.failingTests.length} failing as before).` };
  }
  if (baseline.exitCode === 0 && after.exitCode !== 0) {
    return { regressed: true, newFailures: [], explanation: `The suite passed before the change and exits ${after.exitCode} after it.` };
  }
  return {
    regressed: false,
    newFailures: [],
    explanation:
      baseline.exitCode === 0 ? 'The suite passes after the change.' : 'The suite was already failing at this revision; its output names no tests to compare.',
  };
}

export interface RepeatedSuiteComparison extends SuiteComparison {
  /** Tests that failed after the change in some runs and passed in others: reported, not counted. */
  flakyTests: string[];
  runs: number;
}

/**
 * Compares several runs after a change with the baseline. A new failure counts only when the test
 * fails in every run; one that also passes is flaky, and is reported as such instead of blocking
 * the change or being blamed on it.
 */
export function compareRunsWithBaseline(baseline: SuiteOutcome, runs: SuiteOutcome[]): RepeatedSuiteComparison {
  if (runs.length === 0) throw new RangeError('compareRunsWithBaseline needs at least one run after the change');
  const comparisons = runs.map((run) => compareWithBaseline(baseline, run));
  const timedOut = comparisons.findIndex((_, i) => runs[i]!.timedOut);
  if (timedOut >= 0) return { ...comparisons[timedOut]!, flakyTests: [], runs: runs.length };
  const everNew = [...new Set(comparisons.flatMap((c) => c.newFailures))].sort();
  const persistent = everNew.filter((name) => comparisons.every((c) => c.newFailures.includes(name)));
  const flakyTests = everNew.filter((name) => !persistent.includes(name));
  const flakyNote = flakyTests.length > 0 ? ` Flaky (failed in some of ${runs.length} runs, passed in others): ${flakyTests.join('; ')}.` : '';
  if (persistent.length > 0) {
    const runsNote = runs.length > 1 ? ` in all ${runs.length} runs` : '';
    return { regressed: true, newFailures: persistent, flakyTests, runs: runs.length, explanation: `New failures after the change${runsNote}: ${persistent.join('; ')}.${flakyNote}` };
  }
  // No test is named failing in every run: an exit-code-only regression counts when every run has it.
  const unnamed = comparisons.filter((c) => c.regressed && c.newFailures.length === 0);
  if (unnamed.length === runs.length) return { ...unnamed[0]!, flakyTests, runs: runs.length };
  const passing = comparisons.find((c) => !c.regressed) ?? comparisons[0]!;
  return { regressed: false, newFailures: [], flakyTests, runs: runs.length, explanation: `${passing.explanation}${flakyNote}` };
}
