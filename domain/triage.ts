import { z } from 'zod';
import type { BuildFailureContext, RegressionContext } from './alert';
import { suspectedFilesOfBuildFailure } from './build-failure';
import { Severity } from './severity';

export const MonitorTuning = z.object({
  criticalThreshold: z.number().nullable().describe('new critical threshold, or null to keep it'),
  evaluationWindow: z
    .string()
    .regex(/^last_\d+[mhd]$/)
    .nullable()
    .describe('new evaluation window such as last_15m, or null to keep it'),
  reason: z.string().min(1),
});
export type MonitorTuning = z.infer<typeof MonitorTuning>;

/** What the triage model must return; validated before the workflow acts on it. */
export const TriageResult = z.object({
  verdict: z.enum(['real', 'noise', 'duplicate']),
  severity: Severity,
  confidence: z.number().min(0).max(1),
  reasoning: z.string().min(1),
  suspectedArea: z.object({
    files: z.array(z.string()).describe('repository paths of the suspected files'),
    functions: z.array(z.string()).optional().describe('names of the suspected functions, as written in the code'),
    summary: z.string(),
  }),
  duplicateOf: z.string().nullable().describe('incident id this duplicates, when verdict is duplicate'),
  monitorTuning: MonitorTuning.nullable().describe('how to quiet the monitor, when verdict is noise'),
});
export type TriageResult = z.infer<typeof TriageResult>;

/**
 * The triage of a regression the deploy watch fixes forward: the watch's own triage already found
 * it real and tied it to a line of the diff, so the alert triage is not asked again.
 */
export function triageOfRegression(regression: RegressionContext): TriageResult {
  const cited = regression.citedLine;
  return {
    verdict: 'real',
    severity: regression.severity,
    confidence: regression.confidence,
    reasoning: regression.reasoning,
    suspectedArea: {
      files: cited ? [cited.file] : [],
      summary: cited ? `${cited.file}:${cited.line} (${cited.revision.slice(0, 12)}): ${cited.text.trim()}` : 'no line of the diff was tied to the error',
    },
    duplicateOf: null,
    monitorTuning: null,
  };
}

/**
 * The triage of a nightly QA finding: its test already fails, twice, for the reason it states, so
 * it is real and no model is asked. Its severity is not the test's to say: the policy's for nightly
 * QA findings, or P2 (broken behaviour that no alert has seen in production), and the reasoning says
 * which. Confidence stops short of 1: the test proves the code does not do what the test expects,
 * not that the expectation is the right one, which the PR's reviewer judges.
 */
export function triageOfNightlyQaFinding(
  finding: { missionId: string; reproduction: { testPath: string; expectedFailure: string } },
  policySeverity: Severity | undefined,
): TriageResult {
  const severity = policySeverity ?? 'P2';
  const failure = finding.reproduction.expectedFailure.split('\n').find((line) => line.trim() !== '')?.trim() ?? '';
  return {
    verdict: 'real',
    severity,
    confidence: 0.9,
    reasoning: `Found by Steward's nightly QA, mission ${finding.missionId}: its test ${finding.reproduction.testPath} fails with ${JSON.stringify(failure)}. A failing test is a proven finding, so no model was asked to triage it. Severity ${severity}: ${
      policySeverity ? "the policy's severity for nightly QA findings" : 'the default for a nightly QA finding, as the policy sets none'
    }.`,
    suspectedArea: { files: [], summary: `the code ${finding.reproduction.testPath} exercises` },
    duplicateOf: null,
    monitorTuning: null,
  };
}

/**
 * The triage of a failed build: a build that fails is real by definition, so the alert triage is
 * not asked. It blocks the service's deploys without touching what runs in production (P2), and
 * its cause is most likely the latest change: the files the error names and the diff touched.
 */
export function triageOfBuildFailure(build: BuildFailureContext): TriageResult {
  const files = suspectedFilesOfBuildFailure(build);
  const range = build.previousRevision ? `${build.previousRevision.slice(0, 12)}..${build.revision.slice(0, 12)}` : build.revision.slice(0, 12);
  const firstError = build.errorExcerpt.split('\n').find((line) => line.trim() !== '') ?? 'no error line in the log';
  return {
    verdict: 'real',
    severity: 'P2',
    // With the diff the cause is narrowed to one change; without it, only the log's lines point at it.
    confidence: build.diffSinceLastDeploy ? 0.9 : 0.7,
    reasoning: `The build failed at ${build.revision.slice(0, 12)} with: ${firstError}. ${
      build.diffSinceLastDeploy ? `The change since the previous deploy (${range}) is the likely cause.` : 'No diff since the previous deploy was available.'
    }`,
    suspectedArea: {
      files,
      summary: files.length > 0 ? `the build error and the latest change point at ${files.join(', ')}` : 'neither the build log nor a diff names a file',
    },
    duplicateOf: null,
    monitorTuning: null,
  };
}
