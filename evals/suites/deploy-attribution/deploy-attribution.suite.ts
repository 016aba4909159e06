import { createDeployTriageActivities, type DeployTriageVerdict } from '../../../activities/deploy-triage/deploy-triage.activities';
import type { AttributionCase } from '../../cases/case.schema';
import { rateOf } from '../../runner/metrics';
import type { EvalSuite, Judgement } from '../../runner/suite';
import { judgeFacts } from '../facts-judge/facts-judge';
import { caseCodeSearch } from './case-code-search';

/**
 * The deploy watch's triage as the watch runs it (the same activity and prompts): did this deploy,
 * or one before it, cause the flagged errors, and on which changed line? An `uncertain` answer is
 * its own column: the watch neither fixes forward nor rolls back on it.
 */
export const deployAttributionSuite: EvalSuite<AttributionCase, DeployTriageVerdict> = {
  name: 'deploy-attribution',
  classes: ['caused', 'not_caused', 'uncertain'],
  labelOf: (c) => c.labels.verdict,

  async run(testCase, model) {
    const { input } = testCase;
    const activities = createDeployTriageActivities({ model, codeSearch: caseCodeSearch(testCase) });
    return activities.triageDeploy({
      watchId: `eval-${testCase.id}`,
      service: input.service,
      revision: input.deploys[0]!.revision,
      diffs: input.deploys.map((d) => ({ revision: d.revision, previousRevision: d.previousRevision, diffText: d.diffText })),
      flagged: input.flagged,
    });
  },

  async judge(testCase, answer, judge): Promise<Judgement> {
    const { labels } = testCase;
    const verdict = answer.verdict === labels.verdict;
    const expected = labels.citedLine;
    const cited = answer.citedLine;
    const citedLine = expected ? cited !== null && cited.file === expected.file && cited.line === expected.line && cited.side === expected.side : null;
    const blamedDeploy = labels.verdict === 'caused' ? answer.heldBy === (testCase.causedBy ?? testCase.input.deploys[0]!.revision) : null;
    return {
      label: labels.verdict,
      predicted: answer.verdict,
      // A cause on the wrong line (or in the wrong deploy) sends the fix to the wrong place.
      correct: verdict && citedLine !== false && blamedDeploy !== false,
      checks: { verdict, citedLine, blamedDeploy },
      facts: await judgeFacts(judge, { caseId: testCase.id, step: 'deploy triage', reasoning: answer.reasoning, facts: labels.facts }),
    };
  },

  figures(judged) {
    const pairs = judged.map((j) => ({ label: j.label, predicted: j.predicted }));
    const share = (check: string): number | null => {
      const applies = judged.filter((j) => j.checks[check] === true || j.checks[check] === false);
      return applies.length === 0 ? null : applies.filter((j) => j.checks[check] === true).length / applies.length;
    };
    return {
      /** Caused said of a deploy that did not: a rollback or fix of innocent code. */
      falsePositiveRate: rateOf(pairs, 'not_caused', 'caused'),
      /** A deploy that caused the errors, not said to. */
      missedCauseRate: rateOf(pairs, 'caused', null),
      citedLineAccuracy: share('citedLine'),
      blamedDeployAccuracy: share('blamedDeploy'),
    };
  },
};
