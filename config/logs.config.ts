import { z } from 'zod';
import { durationMs, type EnvOf } from './env';

/** The embedded log store behind the OTLP/HTTP logs endpoint: how long it keeps records, how large an export may be, where its monitor evaluator posts. */
export const logsEnv = {
  STEWARD_LOG_RETENTION: durationMs.default(14 * 86_400_000),
  STEWARD_OTLP_MAX_BYTES: z.coerce.number().int().positive().default(4 * 1024 * 1024),
  /** Steward's API as the local monitor evaluator posts to it; unset, this machine's API port on loopback. */
  STEWARD_LOCAL_MONITORS_WEBHOOK_URL: z.string().url().optional(),
};

export interface LogsConfig {
  /** Records older than this are deleted (by the API, in batches, at most every few minutes). */
  retentionMs: number;
  /** Largest export body, as sent and once unzipped; larger ones get 413. */
  otlpMaxBytes: number;
  /** Where the local monitor evaluator posts its transitions (POST <url>/webhooks/datadog); null: http://127.0.0.1:<STEWARD_API_PORT>. */
  localMonitorsWebhookUrl: string | null;
}

export function logsConfig(e: EnvOf<typeof logsEnv>): LogsConfig {
  return { retentionMs: e.STEWARD_LOG_RETENTION, otlpMaxBytes: e.STEWARD_OTLP_MAX_BYTES, localMonitorsWebhookUrl: e.STEWARD_LOCAL_MONITORS_WEBHOOK_URL ?? null };
}
