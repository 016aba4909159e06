import { z } from 'zod';
import { durationMs, type EnvOf } from './env';

/** The embedded log store behind the OTLP/HTTP logs endpoint: how long it keeps records, how large an export may be. */
export const logsEnv = {
  STEWARD_LOG_RETENTION: durationMs.default(14 * 86_400_000),
  STEWARD_OTLP_MAX_BYTES: z.coerce.number().int().positive().default(4 * 1024 * 1024),
};

export interface LogsConfig {
  /** Records older than this are deleted (by the API, in batches, at most every few minutes). */
  retentionMs: number;
  /** Largest export body, as sent and once unzipped; larger ones get 413. */
  otlpMaxBytes: number;
}

export function logsConfig(e: EnvOf<typeof logsEnv>): LogsConfig {
  return { retentionMs: e.STEWARD_LOG_RETENTION, otlpMaxBytes: e.STEWARD_OTLP_MAX_BYTES };
}
