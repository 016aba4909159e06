import type { NormalizedAlert } from '../alert';
import type { QaFinding } from './report';

/** No monitor is behind a finding: an id no monitor store holds, so an incident that tried to read one would say so. */
export const NIGHTLY_QA_MONITOR_ID = 'nightly-qa';

/**
 * A proven finding as the alert of the incident it opens. The message carries the finding's
 * signature (`Signature: qa-…`), so that the incident and its PR hold it and later nights find the
 * bug known (domain/nightly-qa/finding-signature.ts knownAs). One cycle per signature and night:
 * a retried night finds the incident it started rather than opening a second.
 */
export function alertFromQaFinding(input: {
  service: string;
  night: string;
  nightId: string;
  revision: string;
  occurredAt: string;
  finding: Pick<QaFinding, 'missionId' | 'signature' | 'title' | 'testPath' | 'expectedFailure'> & { detail: string };
}): NormalizedAlert {
  const { finding } = input;
  return {
    monitorId: NIGHTLY_QA_MONITOR_ID,
    alertCycleKey: `${finding.signature}@${input.night}`,
    transition: 'triggered',
    rawTransition: 'nightly_qa_finding',
    priority: null,
    // The title too: the incident keeps it (and its PR's body quotes it), so later nights find the signature there.
    title: `Nightly QA: ${finding.title} (${finding.signature})`,
    message: [
      finding.detail,
      `Mission ${finding.missionId}'s test ${finding.testPath} fails with:`,
      finding.expectedFailure,
      `Signature: ${finding.signature}`,
      `Night: ${input.night} (${input.nightId})`,
    ].join('\n'),
    tags: [`service:${input.service}`, `git.commit.sha:${input.revision}`, 'source:steward-nightly-qa', `steward.qa.signature:${finding.signature}`],
    service: input.service,
    deployedRevision: input.revision,
    occurredAt: input.occurredAt,
    link: '',
    eventId: null,
  };
}
