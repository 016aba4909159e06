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
