import type { ExecEvidence, Reproduction } from './incident';
import type { TriageResult } from './triage';

export interface PullRequestContent {
  incidentId: string;
  alertTitle: string;
  alertLink: string;
  monitorId: string;
  triage: TriageResult;
  reproduction: Reproduction;
  reproAfter: ExecEvidence;
  suiteExplanation: string;
  fixSummary: string;
  reviewSummary: string;
  attempts: { attempt: number; verified: boolean; failureReason: string | null }[];
  diff: string;
  runUrl: string;
}

const block = (text: string): string => `\`\`\`\n${text.trim().slice(-4_000)}\n\`\`\``;

function evidenceLine(label: string, e: ExecEvidence): string {
  return `**${label}:** \`${e.command}\` exited ${e.timedOut ? 'on timeout' : e.exitCode} in ${(e.durationMs / 1000).toFixed(1)} s`;
}

export function pullRequestTitle(content: Pick<PullRequestContent, 'fixSummary' | 'triage'>): string {
  return `fix: ${content.fixSummary.replace(/\.$/, '')} [${content.triage.severity}]`.slice(0, 200);
}

export function pullRequestBody(c: PullRequestContent): string {
  const attempts = c.attempts
    .map((a) => `- Attempt ${a.attempt}: ${a.verified ? 'verified' : `rejected: ${a.failureReason}`}`)
    .join('\n');
  return [
    `## Incident`,
    `Opened by Steward for incident \`${c.incidentId}\`, from Datadog monitor ${c.monitorId}: [${c.alertTitle}](${c.alertLink}).`,
    `Triage: **${c.triage.verdict}**, severity **${c.triage.severity}**, confidence ${Math.round(c.triage.confidence * 100)}%. ${c.triage.reasoning}`,
    `## Fix`,
    c.fixSummary,
    `Self-review: ${c.reviewSummary}`,
    attempts,
    `## Reproduction`,
    `\`${c.reproduction.testPath}\`: ${c.reproduction.explanation}`,
    evidenceLine('Before the fix', c.reproduction.before),
    block(c.reproduction.before.outputTail),
    evidenceLine('After the fix', c.reproAfter),
    block(c.reproAfter.outputTail),
    `Test suite: ${c.suiteExplanation}`,
    `## Diff`,
    '```diff\n' + c.diff.trim() + '\n```',
    `---`,
    `[This run in the Temporal Web UI](${c.runUrl})`,
  ].join('\n\n');
}
