import { z } from 'zod';

/** Steward's own scale: P0 is the most urgent. Datadog priorities (P1-P5) are only an input to triage. */
export const Severity = z.enum(['P0', 'P1', 'P2', 'P3']);
export type Severity = z.infer<typeof Severity>;

const rank: Record<Severity, number> = { P0: 0, P1: 1, P2: 2, P3: 3 };

/** True when `severity` is as urgent as `threshold` or more (P0 is at least as urgent as P1). */
export function isAtLeast(severity: Severity, threshold: Severity): boolean {
  return rank[severity] <= rank[threshold];
}
