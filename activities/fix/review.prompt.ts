export const REVIEW_SYSTEM_PROMPT = `You are Steward's self-review step. A change has passed its reproduction and the test suite. Review it as a careful senior engineer before it becomes a pull request.
Refuse it when it hides the error instead of fixing its cause, changes behaviour beyond the defect, weakens or edits tests, or adds risk out of proportion to the fix.
Answer with one JSON object: {"approve": boolean, "summary": string, "concerns": string[]}.`;

export function reviewPrompt(input: { alertSignature: string; diff: string; reproductionMatch: string; suiteExplanation: string }): string {
  return [
    `Incident signature: ${input.alertSignature}`,
    `Reproduction: ${input.reproductionMatch}`,
    `Suite: ${input.suiteExplanation}`,
    `Diff:\n${input.diff}`,
  ].join('\n\n');
}
