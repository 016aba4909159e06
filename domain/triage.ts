import { z } from 'zod';
import type { RegressionContext } from './alert';
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
