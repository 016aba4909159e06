import { ActivityFailure } from '@temporalio/workflow';
import type { DeployTriageVerdict } from '../../activities';
import type { ErrorSample } from '../../activities/deploy-watch/deploy-watch.activities';
import type { DeployAttributionView } from '../../contracts';
import type { SignatureEvidence } from '../../domain/regression/sequential-test';
import type { DeployRecord } from '../../ports/signature-store.port';
import { call } from '../incident/activity-proxies';
import type { DeployWatchRun } from './watch-run';

/** Flagged signatures shown to the triage: the strongest evidence first; a flood of them is one regression, not fifty. */
const MAX_TRIAGED_SIGNATURES = 10;

export interface Attribution {
  triage: DeployTriageVerdict;
  /** The flagged signatures the triage saw, strongest first. */
  flagged: SignatureEvidence[];
  samples: Record<string, ErrorSample>;
}

/**
 * Did this deploy cause what the test flagged? The triage reads each deploy's diff itself (the
 * deploy under watch, then the lookback's earlier ones), so no diff passes through the history;
 * the workflow hands it the revisions and the flagged errors with a sample each.
 */
export async function attributeRegression(run: DeployWatchRun, flagged: SignatureEvidence[], earlier: DeployRecord[]): Promise<Attribution> {
  const { deploy, policy, activities } = run;
  run.setStatus('triaging');
  const strongest = [...flagged].sort((a, b) => b.log10Evidence - a.log10Evidence).slice(0, MAX_TRIAGED_SIGNATURES);
  const samples = await call(activities.quick.flaggedSamples, `Read a sample of each of the ${strongest.length} flagged errors`, {
    watchId: run.watchId,
    signatures: strongest.map((f) => f.signature),
  });
  const deploys = [
    // Without a previous revision from the deploy's source, the deploy recorded before it is the one it replaced.
    { revision: deploy.revision, previousRevision: deploy.previousRevision ?? earlier[0]?.revision ?? null },
    ...earlier.slice(0, Math.max(0, policy.lookbackDeploys - 1)).map((d) => ({ revision: d.revision, previousRevision: d.previousRevision })),
  ];
  const triage = await call(activities.model.triageDeploy, `Triage: did the deploy of ${deploy.revision.slice(0, 12)} cause the ${strongest.length} flagged error(s)?`, {
    watchId: run.watchId,
    service: deploy.service,
    revision: deploy.revision,
    diffs: deploys,
    flagged: strongest.map((f) => ({
      signature: f.signature,
      template: f.template,
      sample: samples[f.signature] ? { message: samples[f.signature]!.message, stackTrace: samples[f.signature]!.stackTrace } : { message: f.template, stackTrace: null },
      // Counts past the read cap are scaled estimates: whole errors for the prompt.
      baselineCount: Math.round(f.baselineCount),
      afterCount: Math.round(f.afterCount),
    })),
  });
  run.setAttribution(attributionView(triage));
  return { triage, flagged: strongest, samples };
}

/**
 * Who the fix or revert PR asks for review: the author of the commit that holds the cited line.
 * A line whose author the code host cannot tell (no login, a blame that fails) asks no one, and says why.
 */
export async function reviewersOfCitedLine(run: DeployWatchRun, triage: DeployTriageVerdict): Promise<string[]> {
  const cited = triage.citedLine;
  if (!cited) return [];
  // A removed line is blamed where it still was: in the revision before the one that removed it.
  const revision = cited.side === 'old' ? null : cited.revision;
  if (revision === null) {
    run.notes.push(`No reviewer asked: the cited line ${cited.file}:${cited.line} was removed by the deploy.`);
    return [];
  }
  try {
    const author = await call(run.activities.quick.findLineAuthor, `Find the author of ${cited.file}:${cited.line}`, { service: run.deploy.service, revision, file: cited.file, line: cited.line });
    if (author.login) return [author.login];
    run.notes.push(`No reviewer asked: ${author.name} wrote ${cited.file}:${cited.line} in ${author.commit.slice(0, 12)} but has no login on the code host.`);
    return [];
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    run.notes.push(`No reviewer asked: the author of ${cited.file}:${cited.line} could not be found (${error.cause?.message ?? error.message}).`);
    return [];
  }
}

function attributionView(triage: DeployTriageVerdict): DeployAttributionView {
  return {
    verdict: triage.verdict,
    confidence: triage.confidence,
    reasoning: triage.reasoning,
    attributedSignatures: triage.attributedSignatures,
    citedLine: triage.citedLine,
    heldBy: triage.heldBy,
    filesByClass: triage.classification.map(({ revision, files }) => {
      const counts = new Map<string, number>();
      for (const file of files) counts.set(file.fileClass, (counts.get(file.fileClass) ?? 0) + 1);
      return { revision, summary: files.length === 0 ? 'no file changed' : [...counts].map(([fileClass, n]) => `${fileClass} ${n}`).join(', ') };
    }),
    rejectedLinks: triage.rejectedLinks.length,
  };
}
