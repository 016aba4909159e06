import type { ExecEvidence, RecordedRun, Reproduction } from './incident';
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
  /** The suite at the deployed revision; null for runs recorded before it was kept. */
  baseline?: ExecEvidence | null;
  /** What verification ran after the change, in order. */
  verificationRuns?: RecordedRun[];
  flakyTests?: string[];
  fixSummary: string;
  reviewSummary: string;
  attempts: { attempt: number; verified: boolean; failureReason: string | null }[];
  diff: string;
  runUrl: string;
  /** Set when the incident is a failed deploy build: the reproduction is then the build command. */
  buildFailure?: { revision: string; previousRevision: string | null; errorExcerpt: string; logUrl: string | null };
  /** Set when nightly QA found it: the reproduction is then the test its mission wrote. */
  foundBy?: { kind: 'nightly-qa'; nightWorkflowId: string; missionId: string };
}

const block = (text: string): string => `\`\`\`\n${text.trim().slice(-4_000)}\n\`\`\``;

function evidenceLine(label: string, e: ExecEvidence): string {
  return `**${label}:** \`${e.command}\` exited ${e.timedOut ? 'on timeout' : e.exitCode} in ${(e.durationMs / 1000).toFixed(1)} s`;
}

const PHASE_LABELS: Record<RecordedRun['phase'], string> = {
  baseline: 'suite, before the fix (baseline)',
  'reproduction-before': 'reproduction, before the fix',
  'reproduction-after': 'reproduction, after the fix',
  'suite-after': 'suite, after the fix',
};

const BUILD_PHASE_LABELS: Record<RecordedRun['phase'], string> = {
  ...PHASE_LABELS,
  'reproduction-before': 'build, before the fix',
  'reproduction-after': 'build, after the fix',
};

/** Every command the gate ran, with its exit code and time: what a reviewer needs to trust the verdict. */
function evidenceTable(c: PullRequestContent): string {
  const labels = c.buildFailure ? BUILD_PHASE_LABELS : PHASE_LABELS;
  const runs: RecordedRun[] = [
    ...(c.baseline ? [{ phase: 'baseline' as const, evidence: c.baseline }] : []),
    ...(c.reproduction.runsBefore ?? [c.reproduction.before]).map((evidence) => ({ phase: 'reproduction-before' as const, evidence })),
    ...(c.verificationRuns && c.verificationRuns.length > 0 ? c.verificationRuns : [{ phase: 'reproduction-after' as const, evidence: c.reproAfter }]),
  ];
  const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    '| step | command | exit | time |',
    '|---|---|---|---|',
    ...runs.map(({ phase, evidence: e }) => `| ${labels[phase]} | \`${cell(e.command)}\` | ${e.timedOut ? 'timeout' : (e.exitCode ?? 'killed')} | ${(e.durationMs / 1000).toFixed(1)} s |`),
  ].join('\n');
}

export function pullRequestTitle(content: Pick<PullRequestContent, 'fixSummary' | 'triage'>): string {
  return `fix: ${content.fixSummary.replace(/\.$/, '')} [${content.triage.severity}]`.slice(0, 200);
}

export function pullRequestBody(c: PullRequestContent): string {
  const attempts = c.attempts
    .map((a) => `- Attempt ${a.attempt}: ${a.verified ? 'verified' : `rejected: ${a.failureReason}`}`)
    .join('\n');
  const build = c.buildFailure;
  const reproduction = build
    ? [
        `## Build`,
        `The build failed at \`${build.revision.slice(0, 12)}\` with:`,
        block(build.errorExcerpt || '(the deploy sent no build log)'),
        ...(build.logUrl ? [`[The deploy's build log](${build.logUrl})`] : []),
        `${c.reproduction.explanation} ${c.reproduction.match}`,
        evidenceLine('Before the fix', c.reproduction.before),
        block(c.reproduction.before.outputTail),
        `After the fix it passes.`,
        evidenceLine('After the fix', c.reproAfter),
        block(c.reproAfter.outputTail),
      ]
    : [
        `## Reproduction`,
        `\`${c.reproduction.testPath}\`: ${c.reproduction.explanation}`,
        evidenceLine('Before the fix', c.reproduction.before),
        block(c.reproduction.before.outputTail),
        evidenceLine('After the fix', c.reproAfter),
        block(c.reproAfter.outputTail),
      ];
  const origin = c.foundBy
    ? `Found by Steward's nightly QA, mission ${c.foundBy.missionId} (run \`${c.foundBy.nightWorkflowId}\`): ${c.alertTitle}. Opened by Steward for incident \`${c.incidentId}\`; no alert fired, the mission's test is the reproduction.`
    : build
    ? `Opened by Steward for incident \`${c.incidentId}\`: the build of \`${build.revision.slice(0, 12)}\` failed when it was deployed${build.previousRevision ? ` (previous deploy \`${build.previousRevision.slice(0, 12)}\`)` : ''}: ${c.alertTitle}.`
    : `Opened by Steward for incident \`${c.incidentId}\`, from Datadog monitor ${c.monitorId}: [${c.alertTitle}](${c.alertLink}).`;
  return [
    `## Incident`,
    origin,
    `Triage: **${c.triage.verdict}**, severity **${c.triage.severity}**, confidence ${Math.round(c.triage.confidence * 100)}%. ${c.triage.reasoning}`,
    `## Fix`,
    c.fixSummary,
    `Self-review: ${c.reviewSummary}`,
    attempts,
    ...reproduction,
    `Test suite: ${c.suiteExplanation}`,
    ...(c.flakyTests && c.flakyTests.length > 0
      ? [`**Flaky tests** (failed in some runs after the change and passed on a re-run; not counted against it): ${c.flakyTests.map((t) => `\`${t}\``).join(', ')}`]
      : []),
    `## Evidence`,
    evidenceTable(c),
    `## Diff`,
    '```diff\n' + c.diff.trim() + '\n```',
    `---`,
    `[This run in the Temporal Web UI](${c.runUrl})`,
  ].join('\n\n');
}
