import { z } from 'zod';
import type { EnvOf } from './env';

/** The HTTP edge: its port, the webhooks' shared secret and how large a delivery may be. */
export const apiEnv = {
  STEWARD_API_PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  STEWARD_WEBHOOK_TOKEN: z.string().min(16, 'STEWARD_WEBHOOK_TOKEN must be at least 16 characters').optional(),
  STEWARD_WEBHOOK_MAX_BYTES: z.coerce.number().int().positive().default(256 * 1024),
};

export interface ApiConfig {
  port: number;
  webhookToken: string | null;
  maxBodyBytes: number;
}

export function apiConfig(e: EnvOf<typeof apiEnv>): ApiConfig {
  return { port: e.STEWARD_API_PORT, webhookToken: e.STEWARD_WEBHOOK_TOKEN ?? null, maxBodyBytes: e.STEWARD_WEBHOOK_MAX_BYTES };
}
