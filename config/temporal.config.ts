import { z } from 'zod';
import { DEFAULT_TASK_QUEUES } from '../contracts';
import { ConfigError, type EnvOf } from './env';
import { temporalSecurity, temporalSecurityEnv, type TemporalSecurity } from './temporal-security.config';

/**
 * Where the local stack (`npm start`, `npm run demo` with nothing configured) serves Temporal, its
 * Web UI and Postgres; the CLI defaults to the same addresses.
 */
export const LOCAL_PORTS = { temporal: 7233, temporalUi: 8233, postgres: 54329 } as const;

/** Temporal, the task queues this deployment uses, and which workers run on this machine. */
export const TEMPORAL_DEFAULTS = {
  namespace: 'default',
  /** Payloads above this go to Steward's payload store; the history keeps a reference. */
  payloadOffloadBytes: 32 * 1024,
} as const;

export const temporalEnv = {
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().default(TEMPORAL_DEFAULTS.namespace),
  STEWARD_TASK_QUEUE: z.string().default(DEFAULT_TASK_QUEUES.incidents),
  STEWARD_SANDBOX_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUES.sandboxes),
  STEWARD_WORKER_ROLES: z
    .string()
    .default('incident,sandbox')
    .transform((roles) => roles.split(',').map((role) => role.trim()).filter(Boolean))
    .pipe(z.array(z.enum(['incident', 'sandbox'])).min(1, 'name at least one of incident, sandbox')),
  /** `npm run worker` only: serves GET /healthz for the orchestrator's probes; unset, no port is opened. */
  STEWARD_WORKER_HEALTH_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  STEWARD_PAYLOAD_OFFLOAD_BYTES: z.coerce.number().int().min(0).default(TEMPORAL_DEFAULTS.payloadOffloadBytes),
  STEWARD_TEMPORAL_UI_URL: z.string().url().optional(),
  ...temporalSecurityEnv,
};

export interface TemporalConfig {
  address: string | null;
  namespace: string;
  taskQueue: string;
  /** Shared queue of the sandbox hosts; each host also polls its own (contracts: sandboxHostTaskQueue). */
  sandboxTaskQueue: string;
  /** What `npm run worker` runs here: the incident worker, a sandbox host, or both. */
  workerRoles: ('incident' | 'sandbox')[];
  /** Where `npm run worker` answers GET /healthz (workers/worker-health.ts); null: nowhere. */
  workerHealthPort: number | null;
  webUiUrl: string | null;
  /** Payloads above this size go to the payload store, and the history keeps a reference. */
  payloadOffloadBytes: number;
  /** TLS, mTLS and the API key of a configured Temporal (temporal-connection.ts turns them into the SDK's options). */
  security: TemporalSecurity;
}

export function temporalConfig(e: EnvOf<typeof temporalEnv>): TemporalConfig {
  const security = temporalSecurity(e);
  if (!e.TEMPORAL_ADDRESS && security.configuredBy.length > 0) {
    const names = security.configuredBy;
    throw new ConfigError(`${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} set, but TEMPORAL_ADDRESS is not: Steward would start its embedded dev server, which speaks plaintext and takes no key`);
  }
  return {
    address: e.TEMPORAL_ADDRESS ?? null,
    namespace: e.TEMPORAL_NAMESPACE,
    taskQueue: e.STEWARD_TASK_QUEUE,
    payloadOffloadBytes: e.STEWARD_PAYLOAD_OFFLOAD_BYTES,
    sandboxTaskQueue: e.STEWARD_SANDBOX_TASK_QUEUE,
    workerRoles: e.STEWARD_WORKER_ROLES,
    workerHealthPort: e.STEWARD_WORKER_HEALTH_PORT ?? null,
    webUiUrl: e.STEWARD_TEMPORAL_UI_URL ?? null,
    security,
  };
}
