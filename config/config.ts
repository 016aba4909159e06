import * as path from 'node:path';
import { z } from 'zod';
import type { DeployWatchPolicy, MonitorGenerationPolicy } from '../contracts';
import type { ServicesConfig } from '../domain/service-config';
import { describeIssues } from '../lib/describe-issues';
import { apiConfig, apiEnv, type ApiConfig } from './api.config';
import { resilienceConfig, resilienceEnv, type ResilienceConfig } from './resilience.config';
import { deployWatchConfig, deployWatchEnv } from './deploy-watch.config';
import { monitorGenerationConfig, monitorGenerationEnv } from './monitor-generation.config';
import { ConfigError } from './env';
import { incidentPolicyConfig, incidentPolicyEnv, type IncidentPolicyConfig } from './incident-policy.config';
import { codeHostConfig, integrationsEnv, monitorsConfig, slackConfig, type CodeHostConfig, type MonitorsConfig, type SlackConfig } from './integrations.config';
import { logsConfig, logsEnv, type LogsConfig } from './logs.config';
import { modelConfig, modelEnv, modelPrices, type ModelConfig, type ModelPrices } from './model.config';
import { observabilityConfig, observabilityEnv, type ObservabilityConfig } from './observability.config';
import { sandboxConfig, sandboxEnv, type SandboxConfig } from './sandbox.config';
import { loadServices } from './services.config';
import { temporalConfig, temporalEnv, type TemporalConfig } from './temporal.config';

/**
 * Every setting Steward reads from its environment, parsed once. A missing or malformed variable
 * stops the process at start with a message that names it, instead of failing mid-incident.
 * Each area declares its variables and defaults in its own module; this one puts them together.
 */

export { ConfigError, durationMs, required } from './env';
export { DEMO_TRANSCRIPT_PATH, PROJECT_ROOT } from './paths';
export { demoServicesConfig, ServiceConfig } from './services.config';
export type { ServicesConfig } from '../domain/service-config';
export type { ModelConfig, ModelStage } from './model.config';
export type { SandboxConfig } from './sandbox.config';
export type { ObservabilityConfig, TracingConfig } from './observability.config';

const EnvSchema = z.object({
  STEWARD_DATA_DIR: z.string().default('data'),
  DATABASE_URL: z.string().url().optional(),
  STEWARD_SERVICES_FILE: z.string().optional(),
  STEWARD_FAULT_CRASH_AFTER: z.string().default(''),
  STEWARD_FAULT_MARKER_DIR: z.string().optional(),
  ...temporalEnv,
  ...sandboxEnv,
  ...apiEnv,
  ...incidentPolicyEnv,
  ...deployWatchEnv,
  ...monitorGenerationEnv,
  ...modelEnv,
  ...integrationsEnv,
  ...logsEnv,
  ...observabilityEnv,
  ...resilienceEnv,
});

/** Every variable Steward reads; .env.example documents each (a test holds them together). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);

/**
 * The variables whose value is a secret, or names a file whose contents are one, and which part is:
 * nothing Steward leaves (logs, spans, exports, PRs, messages) may carry it. It is a list, not a
 * pattern, so that each new credential is classified by whoever adds it: config.test.ts fails on a
 * variable named like a credential that is in neither this list nor NOT_SECRET_VARIABLES, and
 * test/e2e/secrets-never-leave.e2e.test.ts fails on a secret it sets no marker for.
 */
export const SECRET_VARIABLES = {
  DATABASE_URL: 'password',
  TEMPORAL_API_KEY: 'value',
  TEMPORAL_TLS_CLIENT_KEY_DATA: 'value',
  TEMPORAL_TLS_CLIENT_KEY_PATH: 'file',
  STEWARD_WEBHOOK_TOKEN: 'value',
  ANTHROPIC_API_KEY: 'value',
  OPENAI_API_KEY: 'value',
  DATADOG_API_KEY: 'value',
  DATADOG_APP_KEY: 'value',
  GITHUB_APP_PRIVATE_KEY: 'value',
  GITHUB_APP_PRIVATE_KEY_FILE: 'file',
  GITHUB_WEBHOOK_SECRET: 'value',
  SLACK_BOT_TOKEN: 'value',
  SLACK_SIGNING_SECRET: 'value',
} as const satisfies Partial<Record<keyof typeof EnvSchema.shape, 'value' | 'file' | 'password'>>;

/** Named like a credential, and not one: a client certificate is public, a budget is a number. */
export const NOT_SECRET_VARIABLES: readonly string[] = ['STEWARD_FIX_AGENT_TOKEN_BUDGET', 'TEMPORAL_TLS_CLIENT_CERT_PATH', 'TEMPORAL_TLS_CLIENT_CERT_DATA', 'TEMPORAL_TLS_SERVER_CA_CERT_PATH', 'TEMPORAL_TLS_SERVER_CA_CERT_DATA'];

export interface StewardConfig extends IncidentPolicyConfig {
  dataDir: string;
  temporal: TemporalConfig;
  databaseUrl: string | null;
  api: ApiConfig;
  /** The inbox relay's pace and the circuit breakers' threshold and cool-down. */
  resilience: ResilienceConfig;
  model: ModelConfig;
  /** Model spend after which an incident makes no further model call; 0 means no limit. */
  incidentBudgetUsd: number;
  /** USD per million tokens by model family, the defaults overlaid with STEWARD_MODEL_PRICES. */
  modelPrices: ModelPrices;
  monitors: MonitorsConfig;
  /** The embedded log store (OTLP/HTTP logs endpoint), which serves the logs port when Datadog is not configured. */
  logs: LogsConfig;
  codeHost: CodeHostConfig;
  services: ServicesConfig;
  /** 'demo' when no services file is configured and the bundled demo service stands in. */
  servicesSource: 'demo' | 'file';
  slack: SlackConfig;
  sandbox: SandboxConfig;
  /** The deploy watch's policy, which every deploy's watch is started with. */
  deployWatch: DeployWatchPolicy;
  monitorGeneration: MonitorGenerationPolicy;
  /** Traces (OTEL_* variables) and the Temporal SDK's metrics port. */
  observability: ObservabilityConfig;
  /** Crash tests only: activities after which the worker kills itself once (workers/fault-injection.ts). */
  faults: { crashAfter: string[]; markerDir: string };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): StewardConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`Invalid configuration: ${describeIssues(parsed.error)}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.STEWARD_DATA_DIR);
  const services = loadServices(e.STEWARD_SERVICES_FILE, dataDir, env);
  const codeHost = codeHostConfig(e);
  const withoutGitHub = Object.entries(services).filter(([, s]) => !s.githubRepository).map(([name]) => name);
  if (codeHost.provider === 'github-app' && withoutGitHub.length > 0) {
    throw new ConfigError(`GITHUB_APP_ID is set, but STEWARD_SERVICES_FILE gives no githubRepository for: ${withoutGitHub.join(', ')}`);
  }
  const slack = slackConfig(e);
  return {
    dataDir,
    temporal: temporalConfig(e),
    databaseUrl: e.DATABASE_URL ?? null,
    api: apiConfig(e),
    resilience: resilienceConfig(e),
    ...incidentPolicyConfig(e),
    model: modelConfig(e),
    incidentBudgetUsd: e.STEWARD_INCIDENT_BUDGET_USD,
    modelPrices: modelPrices(e.STEWARD_MODEL_PRICES),
    monitors: monitorsConfig(e),
    logs: logsConfig(e),
    codeHost,
    services,
    servicesSource: e.STEWARD_SERVICES_FILE ? 'file' : 'demo',
    slack,
    sandbox: sandboxConfig(e),
    deployWatch: deployWatchConfig(e),
    monitorGeneration: monitorGenerationConfig(e),
    observability: observabilityConfig(e),
    faults: {
      crashAfter: e.STEWARD_FAULT_CRASH_AFTER.split(',').map((s) => s.trim()).filter(Boolean),
      markerDir: path.resolve(e.STEWARD_FAULT_MARKER_DIR ?? path.join(dataDir, 'faults')),
    },
  };
}
