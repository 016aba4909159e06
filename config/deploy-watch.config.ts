import { z } from 'zod';
import type { DeployWatchPolicy } from '../contracts';
import { ConfigError, durationMs, type EnvOf } from './env';

/** How a deploy is watched: the baseline it is compared with, how often and how long it is polled, and the test's false alarm rate. */
export const deployWatchEnv = {
  STEWARD_BASELINE_DAYS: z.coerce.number().int().min(1).max(90).default(7),
  STEWARD_BASELINE_MAX_LOGS: z.coerce.number().int().min(1).default(200_000),
  STEWARD_REGRESSION_POLL: durationMs.pipe(z.number().min(1_000, 'poll at most once a second')).default(60_000),
  STEWARD_REGRESSION_HORIZON: durationMs.pipe(z.number().positive('the horizon must be longer than 0')).default(60 * 60_000),
  STEWARD_REGRESSION_LOOKBACK: z.coerce.number().int().min(1).max(50).default(3),
  STEWARD_REGRESSION_FALSE_ALARM_RATE: z.coerce.number().gt(0).lt(1).default(0.01),
  STEWARD_ROLLBACK_MIN_SEVERITY: z.enum(['P0', 'P1', 'P2', 'P3']).default('P1'),
  STEWARD_FIX_FORWARD_MIN_CONFIDENCE: z.coerce.number().min(0).max(1).default(0.7),
};

/** The watch's policy as configured; the workflow is started with it (contracts DeployWatchPolicy), so replays see the same values. */
export function deployWatchConfig(e: EnvOf<typeof deployWatchEnv>): DeployWatchPolicy {
  if (e.STEWARD_REGRESSION_HORIZON < e.STEWARD_REGRESSION_POLL) {
    throw new ConfigError('Invalid configuration: STEWARD_REGRESSION_HORIZON is shorter than STEWARD_REGRESSION_POLL, so the watch would never poll');
  }
  return {
    baselineDays: e.STEWARD_BASELINE_DAYS,
    baselineMaxLogs: e.STEWARD_BASELINE_MAX_LOGS,
    pollMs: e.STEWARD_REGRESSION_POLL,
    horizonMs: e.STEWARD_REGRESSION_HORIZON,
    lookbackDeploys: e.STEWARD_REGRESSION_LOOKBACK,
    falseAlarmRate: e.STEWARD_REGRESSION_FALSE_ALARM_RATE,
    response: { rollbackMinSeverity: e.STEWARD_ROLLBACK_MIN_SEVERITY, fixForwardMinConfidence: e.STEWARD_FIX_FORWARD_MIN_CONFIDENCE },
  };
}
