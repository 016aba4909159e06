import { normalizeErrorText, parseError } from './error-signature';

export interface ReproductionMatch {
  matched: boolean;
  /** Why it matched or not, in a sentence that can go into a report or back to the model. */
  explanation: string;
}

/**
 * A reproduction counts only when it fails for the reason in the alert: the same exception type,
 * and either the same message (normalized) or the same innermost stack frame. A test that fails
 * for any other reason proves nothing about the incident.
 */
export function matchReproduction(alertText: string, failureOutput: string): ReproductionMatch {
  const expected = parseError(alertText);
  if (!expected) {
    return { matched: false, explanation: 'The alert names no exception, so there is nothing a reproduction could be checked against.' };
  }
  const normalizedOutput = normalizeErrorText(failureOutput);
  const typeSeen = new RegExp(`\\b${expected.type}\\b`).test(failureOutput);
  if (!typeSeen) {
    return { matched: false, explanation: `The test did not fail with ${expected.type}.` };
  }
  // Raw first: normalizing quotes would erase a message that a reporter prints quoted (TAP's YAML `error: "…"`).
  if (failureOutput.includes(expected.message) || normalizedOutput.includes(normalizeErrorText(expected.message))) {
    return { matched: true, explanation: `The test fails with ${expected.type}: ${expected.message}` };
  }
  const innermostFrame = expected.frames[0];
  // Frames appear as `at fn (` in stack traces, and as `fn (` in TAP's YAML `stack:` block.
  if (innermostFrame && new RegExp(`(?:\\bat |^\\s*)${innermostFrame.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(`, 'm').test(failureOutput)) {
    return { matched: true, explanation: `The test fails with ${expected.type} in ${innermostFrame}, the frame named in the alert.` };
  }
  return {
    matched: false,
    explanation: `The test fails with ${expected.type}, but neither with the alert's message ("${expected.message}") nor in its frame ${innermostFrame ?? '(none)'}.`,
  };
}
