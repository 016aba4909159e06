import { z } from 'zod';
import type { EnvOf } from './env';

/** 1.1 MiB: a build log of BUILD_LOG_MAX_CHARS ASCII characters and the rest of the body, with room to spare. */
const DEPLOY_WEBHOOK_DEFAULT_MAX_BYTES = Math.ceil(1.1 * 1024 * 1024);

/** The HTTP edge: its port, the webhooks' shared secret and how large a delivery may be. */
export const apiEnv = {
  STEWARD_API_PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  STEWARD_WEBHOOK_TOKEN: z.string().min(16, 'STEWARD_WEBHOOK_TOKEN must be at least 16 characters').optional(),
  STEWARD_WEBHOOK_MAX_BYTES: z.coerce.number().int().positive().default(256 * 1024),
  /** A deploy may carry its build log (up to a million characters, domain/deploy BUILD_LOG_MAX_CHARS), so its webhook takes more. */
  STEWARD_DEPLOY_WEBHOOK_MAX_BYTES: z.coerce.number().int().positive().default(DEPLOY_WEBHOOK_DEFAULT_MAX_BYTES),
};

export interface ApiConfig {
  port: number;
  webhookToken: string | null;
  maxBodyBytes: number;
  /** The body limit of POST /webhooks/deploy alone. */
  deployMaxBodyBytes: number;
}

export function apiConfig(e: EnvOf<typeof apiEnv>): ApiConfig {
  return { port: e.STEWARD_API_PORT, webhookToken: e.STEWARD_WEBHOOK_TOKEN ?? null, maxBodyBytes: e.STEWARD_WEBHOOK_MAX_BYTES, deployMaxBodyBytes: e.STEWARD_DEPLOY_WEBHOOK_MAX_BYTES };
}
