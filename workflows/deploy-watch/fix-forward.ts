import { alertFromRegression } from '../../domain/regression-alert';
import type { Severity } from '../../domain/severity';
import { call } from '../incident/activity-proxies';
import type { Attribution } from './attribution';
import { startChildIncident } from './child-incident';
import type { DeployRecord } from '../../ports/signature-store.port';
import type { DeployWatchRun } from './watch-run';

/** Diff text the regression's alert carries to reproduction (domain/regression-alert.ts cuts at the same size). */
const ALERT_DIFF_MAX_CHARS = 20_000;

/**
 * Fixes forward: the regression becomes the alert of a child incident, carrying the flagged
 * signature with its counts, a sample with its stack, the cited line, the diff that holds it, and
 * the reviewer the PR asks. One incident per deploy: the signature the cited line explains (or,
 * without one, the strongest flagged), with the other flagged ones named in its message.
 */
export async function fixForward(run: DeployWatchRun, attribution: Attribution, severity: Severity, earlier: DeployRecord[]): Promise<string> {
  const { deploy, activities, state } = run;
  run.setStatus('fixing_forward');
  const { triage, flagged, samples } = attribution;
  const primary = flagged.find((f) => triage.attributedSignatures[0] === f.signature) ?? flagged[0]!;
  const cited = triage.citedLine;
  // The diff of the deploy that holds the link: the one under watch, or an earlier one of the lookback.
  const heldBy = cited?.revision ?? deploy.revision;
  const held = heldBy === deploy.revision ? { revision: deploy.revision, previousRevision: deploy.previousRevision ?? earlier[0]?.revision ?? null } : earlier.find((d) => d.revision === heldBy);
  const diff = held
    ? await call(activities.quick.readDeployDiff, `Read the diff of ${heldBy.slice(0, 12)} for the incident`, {
        service: deploy.service,
        revision: held.revision,
        previousRevision: held.previousRevision,
        maxChars: ALERT_DIFF_MAX_CHARS,
      })
    : null;
  const sample = samples[primary.signature] ?? { message: primary.template, stackTrace: null };
  const others = flagged.filter((f) => f.signature !== primary.signature);
  const alert = alertFromRegression(
    deploy,
    run.watchId,
    { signature: primary.signature, template: primary.template, baselineCount: Math.round(primary.baselineCount), afterCount: Math.round(primary.afterCount), ratio: primary.ratio, sample },
    {
      confidence: triage.confidence,
      reasoning: others.length > 0 ? `${triage.reasoning} Also flagged after the deploy: ${others.map((o) => o.template).join('; ')}.` : triage.reasoning,
      citedLine: cited ? { revision: cited.revision, file: cited.file, line: cited.line, text: cited.text } : null,
      reviewers: state.response?.reviewers ?? [],
    },
    severity,
    diff ? { text: diff.text, from: diff.from, to: diff.to } : null,
  );
  return startChildIncident(run, alert);
}
