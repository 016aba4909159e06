import { parseError } from './error-signature';
import { signatureOf } from './log-template-miner';

export interface ReproductionMatch {
  matched: boolean;
  /** Why it matched or not, in a sentence that can go into a report or back to the model. */
  explanation: string;
}

/**
 * A reproduction counts only when it fails for the reason in the alert: the same exception type,
 * and either the same message (as the template miner masks its values) or the same innermost
 * stack frame. A test that fails for any other reason proves nothing about the incident.
 */
export function matchReproduction(alertText: string, failureOutput: string): ReproductionMatch {
  const expected = parseError(alertText);
  if (!expected) {
    return { matched: false, explanation: 'The alert names no exception, so there is nothing a reproduction could be checked against.' };
  }
  const typeSeen = new RegExp(`\\b${expected.type}\\b`).test(failureOutput);
  if (!typeSeen) {
    return { matched: false, explanation: `The test did not fail with ${expected.type}.` };
  }
  // Raw first, then as templates: the same message with other values (ids, numbers, addresses) is the same failure.
  if (failureOutput.includes(expected.message) || holdsTemplate(failureOutput, expected.message)) {
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

/** Whether a line of the output holds the message's template: its tokens in a row, values masked alike. */
function holdsTemplate(output: string, message: string): boolean {
  const wanted = ` ${signatureOf(message).template} `;
  return output.split('\n').some((line) => line.trim() !== '' && ` ${signatureOf(line).template} `.includes(wanted));
}
