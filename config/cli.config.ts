import { z } from 'zod';
import { DEFAULT_TASK_QUEUES, type DeployWatchPolicy, type MonitorGenerationPolicy } from '../contracts';
import type { ServicesConfig } from '../domain/service-config';
import { describeIssues } from '../lib/describe-issues';
import { deployWatchConfig, deployWatchEnv } from './deploy-watch.config';
import { ConfigError } from './env';
import { monitorGenerationConfig, monitorGenerationEnv } from './monitor-generation.config';
import { loadServices } from './services.config';
import { LOCAL_PORTS, TEMPORAL_DEFAULTS } from './temporal.config';
import { temporalSecurity, temporalSecurityEnv, type TemporalSecurity } from './temporal-security.config';

/**
 * The environment of `steward`, the CLI. A terminal talks to a Steward that already runs, so
 * unlike config/config.ts it defaults to the local stack that `npm start` and `npm run demo`
 * start (same ports, same defaults), and it reads only what its commands need.
 */

/** Where `npm start` and `npm run demo` serve Temporal when TEMPORAL_ADDRESS is not set. */
export const LOCAL_STACK_TEMPORAL_ADDRESS = `127.0.0.1:${LOCAL_PORTS.temporal}`;
/** Where `npm start` and `npm run demo` run their embedded Postgres when DATABASE_URL is not set. */
export const LOCAL_STACK_DATABASE_URL = `postgres://steward@127.0.0.1:${LOCAL_PORTS.postgres}/steward`;

const CliEnv = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default(LOCAL_STACK_TEMPORAL_ADDRESS),
  TEMPORAL_NAMESPACE: z.string().min(1).default(TEMPORAL_DEFAULTS.namespace),
  /** The same TLS, mTLS and API key settings as the workers': the CLI reaches the same server. */
  ...temporalSecurityEnv,
  /** Where `steward deploy` starts a deploy's watch: the incident workers' queue, as the API starts it. */
  STEWARD_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUES.incidents),
  ...deployWatchEnv,
  ...monitorGenerationEnv,
  /** The services `steward monitors generate` maps a service to its repository with; the demo's when unset, as for the workers. */
  STEWARD_SERVICES_FILE: z.string().min(1).optional(),
  STEWARD_DATA_DIR: z.string().default('data'),
  /** Where offloaded payloads are read from, and where the local code host keeps its pull requests. */
  DATABASE_URL: z.string().min(1).optional(),
  STEWARD_PAYLOAD_OFFLOAD_BYTES: z.coerce.number().int().min(0).default(TEMPORAL_DEFAULTS.payloadOffloadBytes),
  /** Who decides when --by is not given: `cli:$USER`. */
  USER: z.string().default('unknown'),
});

export interface CliConfig {
  temporal: { address: string; namespace: string; payloadOffloadBytes: number; security: TemporalSecurity };
  /** Null: offloaded payloads cannot be read, and `pr show` has nothing to read from. */
  databaseUrl: string | null;
  /** The actor a decision is recorded under when --by is not given. */
  defaultActor: string;
  /** `steward deploy` starts a watch as the API does: on this queue, under this policy. */
  deployWatch: { taskQueue: string; policy: DeployWatchPolicy };
  /** `steward monitors generate` starts a generation as the API does; the services file is read when the command runs. */
  monitorGeneration: { taskQueue: string; policy: MonitorGenerationPolicy; services(): ServicesConfig };
}

/** Parses the CLI's environment; a ConfigError names each variable that is wrong. */
export function loadCliConfig(env: NodeJS.ProcessEnv): CliConfig {
  const parsed = CliEnv.safeParse(env);
  if (!parsed.success) throw new ConfigError(`invalid environment: ${describeIssues(parsed.error)}`);
  const e = parsed.data;
  return {
    temporal: { address: e.TEMPORAL_ADDRESS, namespace: e.TEMPORAL_NAMESPACE, payloadOffloadBytes: e.STEWARD_PAYLOAD_OFFLOAD_BYTES, security: temporalSecurity(e) },
    databaseUrl: e.DATABASE_URL ?? null,
    defaultActor: `cli:${e.USER}`,
    deployWatch: { taskQueue: e.STEWARD_TASK_QUEUE, policy: deployWatchConfig(e) },
    monitorGeneration: { taskQueue: e.STEWARD_TASK_QUEUE, policy: monitorGenerationConfig(e), services: () => loadServices(e.STEWARD_SERVICES_FILE, e.STEWARD_DATA_DIR, env) },
  };
}
