import type { NormalizedAlert, RegressionContext } from './alert';
import type { DeployEvent } from './deploy';
import { logLineSignature } from './incident-error';
import type { Severity } from './severity';

/** The deploy's diff as the reproduction sees it: enough to find the change, bounded for the prompt. */
const MAX_DIFF_CHARS = 20_000;
const MAX_SAMPLE_CHARS = 4_000;

export interface RegressionForAlert {
  signature: string;
  template: string;
  baselineCount: number;
  afterCount: number;
  ratio: number | null;
  sample: { message: string; stackTrace: string | null };
}

export interface AttributionForAlert {
  confidence: number;
  reasoning: string;
  citedLine: { revision: string; file: string; line: number; text: string } | null;
  /** Who the fix PR asks for review (the cited line's author). */
  reviewers?: string[];
}

const short = (revision: string) => revision.slice(0, 12);

/**
 * The alert of a regression the deploy watch fixes forward, for the incident it starts: the
 * signature with its counts, a sample with its stack, the cited line and the deploy's diff, so that
 * reproduction starts from what the watch established. Its id is one per deploy and signature.
 */
export function alertFromRegression(
  deploy: DeployEvent,
  watchId: string,
  regression: RegressionForAlert,
  attribution: AttributionForAlert,
  severity: Severity,
  diff: { text: string; from: string | null; to: string } | null,
): NormalizedAlert {
  const diffText = diff?.text ?? null;
  const change = regression.ratio === null ? `new since the deploy: ${regression.afterCount} after, none in the baseline` : `×${regression.ratio.toFixed(1)}: ${regression.afterCount} after the deploy, ${regression.baselineCount} in the baseline`;
  const cited = attribution.citedLine;
  const diffShown = diffText === null ? null : diffText.length > MAX_DIFF_CHARS ? `${diffText.slice(0, MAX_DIFF_CHARS)}\n… (diff cut at ${MAX_DIFF_CHARS} characters)` : diffText;
  const message = [
    `Error signature ${regression.signature} rose after the deploy of ${deploy.service} at ${short(deploy.revision)} (${change}).`,
    `Template: ${regression.template}`,
    `Sample:\n${regression.sample.message.slice(0, MAX_SAMPLE_CHARS)}`,
    regression.sample.stackTrace ? `Stack:\n${regression.sample.stackTrace.slice(0, MAX_SAMPLE_CHARS)}` : null,
    cited ? `Cited line: ${cited.file}:${cited.line} at ${short(cited.revision)}: ${cited.text.trim()}` : 'No line of the diff was tied to the error.',
    `Attribution (confidence ${attribution.confidence.toFixed(2)}): ${attribution.reasoning}`,
    diffShown ? `Diff ${diff!.from ? short(diff!.from) : 'previous'}..${short(diff!.to)}:\n${diffShown}` : null,
  ]
    .filter(Boolean)
    .join('\n\n');
  const context: RegressionContext = {
    watchId,
    revision: deploy.revision,
    previousRevision: deploy.previousRevision,
    signature: regression.signature,
    template: regression.template,
    sampleSignature: logLineSignature(regression.sample.message),
    baselineCount: regression.baselineCount,
    afterCount: regression.afterCount,
    ratio: regression.ratio,
    severity,
    confidence: attribution.confidence,
    reasoning: attribution.reasoning,
    citedLine: cited,
    reviewers: attribution.reviewers ?? [],
  };
  return {
    monitorId: `deploy:${deploy.service}`,
    alertCycleKey: `${deploy.revision}-${regression.signature}`,
    transition: 'triggered',
    rawTransition: 'deploy regression',
    priority: severity,
    title: `Regression after deploy ${short(deploy.revision)} of ${deploy.service}: ${regression.template}`.slice(0, 300),
    message,
    tags: [`service:${deploy.service}`, `git.commit.sha:${deploy.revision}`, `steward.signature:${regression.signature}`, ...(deploy.environment ? [`env:${deploy.environment}`] : [])],
    service: deploy.service,
    deployedRevision: deploy.revision,
    occurredAt: deploy.deployedAt,
    link: '',
    eventId: null,
    regression: context,
  };
}
