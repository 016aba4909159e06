import { z } from 'zod';
import type { MonitorGenerationPolicy } from '../contracts';
import type { EnvOf } from './env';

/** How monitors are generated from merged changes: the caps, the validator's re-asks, the false-fire target, and the agent's budget. */
export const monitorGenerationEnv = {
  STEWARD_MONITORS_PER_CHANGE_CAP: z.coerce.number().int().min(0).max(100).default(8),
  STEWARD_MONITORS_PER_REPOSITORY_CAP: z.coerce.number().int().min(0).default(1_500),
  STEWARD_MONITOR_VALIDATION_RETRIES: z.coerce.number().int().min(0).max(5).default(2),
  STEWARD_MONITOR_FALSE_FIRES_PER_QUARTER: z.coerce.number().gt(0).default(1),
  STEWARD_MONITOR_WEBHOOK_HANDLE: z
    .string()
    .regex(/^@webhook-[A-Za-z0-9_-]+$/, 'a Datadog webhook mention, @webhook-<name>')
    .default('@webhook-steward'),
  STEWARD_MONITOR_DIFF_CHARS: z.coerce.number().int().min(1_000).default(60_000),
  STEWARD_MONITOR_AGENT_TURNS: z.coerce.number().int().min(1).max(50).default(12),
};

/** The generation's policy as configured; the workflow is started with it (contracts MonitorGenerationPolicy), so replays see the same values. */
export function monitorGenerationConfig(e: EnvOf<typeof monitorGenerationEnv>): MonitorGenerationPolicy {
  return {
    perChangeCap: e.STEWARD_MONITORS_PER_CHANGE_CAP,
    perRepositoryCap: e.STEWARD_MONITORS_PER_REPOSITORY_CAP,
    maxValidationRetries: e.STEWARD_MONITOR_VALIDATION_RETRIES,
    targetFalseFiresPerQuarter: e.STEWARD_MONITOR_FALSE_FIRES_PER_QUARTER,
    webhookHandle: e.STEWARD_MONITOR_WEBHOOK_HANDLE,
    maxDiffChars: e.STEWARD_MONITOR_DIFF_CHARS,
    agentMaxTurns: e.STEWARD_MONITOR_AGENT_TURNS,
  };
}
