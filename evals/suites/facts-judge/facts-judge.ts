import { generateStructured } from '../../../activities/shared/structured-output';
import type { ModelPort } from '../../../ports/model.port';
import type { FactsJudgement } from '../../runner/suite';
import { FACTS_JUDGE_SYSTEM_PROMPT, factsJudgePrompt } from './facts-judge.prompt';
import { FactsJudgeAnswer } from './facts-judge.schema';

/**
 * Asks the judge model which labelled facts the reasoning mentions. The judge's failure (no
 * recording of it, an answer that does not fit) leaves the facts unjudged and says why: the
 * deterministic judgement stands either way.
 */
export async function judgeFacts(judge: ModelPort, input: { caseId: string; step: string; reasoning: string; facts: readonly string[] }): Promise<FactsJudgement> {
  let answer: FactsJudgeAnswer;
  try {
    ({ value: answer } = await generateStructured({
      model: judge,
      incidentId: `eval-${input.caseId}`,
      step: 'judge.facts',
      system: FACTS_JUDGE_SYSTEM_PROMPT,
      prompt: factsJudgePrompt(input),
      schemaName: 'FactsJudgeAnswer',
      schema: FactsJudgeAnswer,
      maxReAsks: 0,
    }));
  } catch (error) {
    return { judged: false, total: input.facts.length, reason: `the facts judge gave no answer: ${(error as Error).message}` };
  }
  const byNumber = new Map(answer.facts.map((f) => [f.number, f]));
  const details = input.facts.map((fact, i) => {
    const found = byNumber.get(i + 1);
    return { fact, mentioned: found?.mentioned ?? false, evidence: found?.evidence ?? '' };
  });
  if (byNumber.size !== input.facts.length || details.some((_, i) => !byNumber.has(i + 1))) {
    return { judged: false, total: input.facts.length, reason: `the facts judge answered facts ${[...byNumber.keys()].join(', ')}, not 1 to ${input.facts.length}` };
  }
  return { judged: true, mentioned: details.filter((d) => d.mentioned).length, total: details.length, details };
}
