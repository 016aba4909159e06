import { z } from 'zod';

export const FactsJudgeAnswer = z.object({
  facts: z.array(
    z.object({
      number: z.number().int().positive().describe('the fact number, as listed'),
      mentioned: z.boolean(),
      evidence: z.string().describe('the words of the reasoning that state it; empty when not mentioned'),
    }),
  ),
});
export type FactsJudgeAnswer = z.infer<typeof FactsJudgeAnswer>;
