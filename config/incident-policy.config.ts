import { z } from 'zod';
import { Severity } from '../domain/severity';
import { durationMs, type EnvOf } from './env';

/** How an incident is run: the approval gate, fix attempts, the fix agent's limits and the PR. */
export const incidentPolicyEnv = {
  STEWARD_APPROVAL_MIN_SEVERITY: Severity.default('P1'),
  STEWARD_APPROVAL_TIMEOUT: durationMs.default(4 * 3_600_000),
  STEWARD_APPROVAL_TIMEOUT_POLICY: z.enum(['escalate', 'close']).default('escalate'),
  STEWARD_APPROVAL_MAX_ESCALATIONS: z.coerce.number().int().min(0).default(3),
  STEWARD_MAX_FIX_ATTEMPTS: z.coerce.number().int().min(1).max(3).default(3),
  STEWARD_FIX_AGENT_MAX_TURNS: z.coerce.number().int().min(1).max(100).default(20),
  STEWARD_FIX_AGENT_TOKEN_BUDGET: z.coerce.number().int().min(0).default(1_500_000),
  STEWARD_DRAFT_PR_BELOW_CONFIDENCE: z.coerce.number().min(0).max(1).default(0.5),
  STEWARD_PR_FOLLOW_UP: durationMs.default(14 * 86_400_000),
};

export interface IncidentPolicyConfig {
  approval: { minSeverity: Severity; timeoutMs: number; timeoutPolicy: 'escalate' | 'close'; maxEscalations: number };
  maxFixAttempts: number;
  /** The fix agent's turn limit per attempt, and the tokens an incident may spend before the agent stops (null: no limit). */
  fixAgent: { maxTurns: number; tokenBudgetPerIncident: number | null };
  draftPrBelowConfidence: number;
  /** How long an incident waits for its PR to be merged, to record the merge; 0 ends it when the PR opens. */
  prFollowUpMs: number;
}

export function incidentPolicyConfig(e: EnvOf<typeof incidentPolicyEnv>): IncidentPolicyConfig {
  return {
    approval: {
      minSeverity: e.STEWARD_APPROVAL_MIN_SEVERITY,
      timeoutMs: e.STEWARD_APPROVAL_TIMEOUT,
      timeoutPolicy: e.STEWARD_APPROVAL_TIMEOUT_POLICY,
      maxEscalations: e.STEWARD_APPROVAL_MAX_ESCALATIONS,
    },
    maxFixAttempts: e.STEWARD_MAX_FIX_ATTEMPTS,
    fixAgent: { maxTurns: e.STEWARD_FIX_AGENT_MAX_TURNS, tokenBudgetPerIncident: e.STEWARD_FIX_AGENT_TOKEN_BUDGET === 0 ? null : e.STEWARD_FIX_AGENT_TOKEN_BUDGET },
    draftPrBelowConfidence: e.STEWARD_DRAFT_PR_BELOW_CONFIDENCE,
    prFollowUpMs: e.STEWARD_PR_FOLLOW_UP,
  };
}
