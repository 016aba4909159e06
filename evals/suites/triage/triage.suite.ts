import { createTriageActivities } from '../../../activities/triage/triage.activities';
import { alertFromDatadogPayload } from '../../../domain/alert';
import type { TriageResult } from '../../../domain/triage';
import type { TriageCase } from '../../cases/case.schema';
import { rateOf, severityOffBy } from '../../runner/metrics';
import type { EvalSuite, Judgement } from '../../runner/suite';
import { judgeFacts } from '../facts-judge/facts-judge';
import { caseLogs, caseMonitors } from './case-ports';

/**
 * The triage step as the incident workflow runs it: the same activity (findExistingFix for the
 * signature, then triageAlert) and the same prompt, over the case's monitor, open incidents and
 * error logs. The verdict, severity and duplicate are judged against the labels; the facts by the judge.
 */
export const triageSuite: EvalSuite<TriageCase, TriageResult> = {
  name: 'triage',
  classes: ['real', 'noise', 'duplicate'],
  labelOf: (c) => c.labels.verdict,

  async run(testCase, model) {
    const parsed = testCase;
    const alert = alertFromDatadogPayload(parsed.input.webhook);
    const activities = createTriageActivities({
      model,
      monitors: caseMonitors(parsed),
      ledger: { listRecentIncidents: async () => parsed.input.recentIncidents },
      logs: caseLogs(parsed),
    });
    const { signature } = await activities.findExistingFix({ monitorId: alert.monitorId, alert });
    return activities.triageAlert({ incidentId: `eval-${parsed.id}`, alert, signature });
  },

  async judge(testCase, answer, judge): Promise<Judgement> {
    const { labels } = testCase;
    const verdict = answer.verdict === labels.verdict;
    const severity = answer.severity === labels.severity;
    const duplicateOf = labels.verdict === 'duplicate' ? answer.duplicateOf === labels.duplicateOf : null;
    return {
      label: labels.verdict,
      predicted: answer.verdict,
      // The verdict decides what Steward does next; a duplicate of the wrong incident is a wrong verdict.
      correct: verdict && duplicateOf !== false,
      checks: { verdict, severity, duplicateOf },
      severity: { label: labels.severity, predicted: answer.severity },
      facts: await judgeFacts(judge, { caseId: testCase.id, step: 'triage', reasoning: answer.reasoning, facts: labels.facts }),
    };
  },

  figures(judged) {
    const pairs = judged.map((j) => ({ label: j.label, predicted: j.predicted }));
    const severities = judged.flatMap((j) => (j.severity ? [j.severity] : []));
    const offBy = severityOffBy(severities);
    const duplicates = judged.filter((j) => j.checks.duplicateOf !== null && j.checks.duplicateOf !== undefined);
    return {
      /** Real said of noise: Steward would spend a fix on a monitor that needed tuning. */
      falsePositiveRate: rateOf(pairs, 'noise', 'real'),
      /** Real said to be anything else: a bug left unfixed. */
      missedRealRate: rateOf(pairs, 'real', null),
      severityExactRate: offBy.answered === 0 ? null : offBy.offBy['0'] / offBy.answered,
      severityWithinOneRate: offBy.withinOne,
      severityOffBy: offBy.offBy,
      duplicateOfAccuracy: duplicates.length === 0 ? null : duplicates.filter((j) => j.checks.duplicateOf === true).length / duplicates.length,
    };
  },
};
