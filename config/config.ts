import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { ServiceConfig as ServiceSettings, ServicesConfig as ServiceCatalog } from '../domain/service-config';
import { Severity } from '../domain/severity';

/**
 * Every setting Steward reads from its environment, parsed once. A missing or malformed variable
 * stops the process at start with a message that names it, instead of failing mid-incident.
 */

const durationMs = z
  .string()
  .regex(/^\d+(ms|s|m|h|d)$/, 'expected a duration such as 30s, 15m, 4h')
  .transform((value) => {
    const [, amount, unit] = /^(\d+)(ms|s|m|h|d)$/.exec(value)!;
    const factor = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit as 'ms' | 's' | 'm' | 'h' | 'd'];
    return Number(amount) * factor;
  });

export const ServiceConfig = z.object({
  /** Path or git URL of the repository the service is built from. */
  repository: z.string().min(1),
  defaultBranch: z.string().default('main'),
  /** Run once in a fresh sandbox before anything else (dependency install). */
  setupCommand: z.string().nullable().default(null),
  /** The repository's own test suite. */
  testCommand: z.string().min(1),
  /** Runs one test file; `{file}` is replaced by the reproduction's path. */
  singleTestCommand: z.string().min(1).refine((c) => c.includes('{file}'), 'singleTestCommand must contain {file}'),
  /** Folder (relative to the repository) where reproduction tests are written. */
  reproductionDir: z.string().default('test'),
  /** 'owner/name' on GitHub, where the GitHub App opens this service's PRs (required with GITHUB_APP_ID). */
  githubRepository: z
    .string()
    .regex(/^[\w.-]+\/[\w.-]+$/, 'githubRepository is owner/name')
    .nullable()
    .default(null),
  /** Slack channel for this service's incidents; SLACK_CHANNEL when unset. */
  slackChannel: z.string().min(1).nullable().default(null),
});
export type ServiceConfig = ServiceSettings;

const ServicesConfig = z.record(z.string(), ServiceConfig) satisfies z.ZodType<ServiceCatalog>;
export type ServicesConfig = ServiceCatalog;

/** Defaults the CLI's environment (config/cli.config.ts) shares with the workers'. */
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';
export const DEFAULT_PAYLOAD_OFFLOAD_BYTES = 32 * 1024;

const EnvSchema = z.object({
  STEWARD_DATA_DIR: z.string().default('data'),
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().default(DEFAULT_TEMPORAL_NAMESPACE),
  STEWARD_TASK_QUEUE: z.string().default('steward-incidents'),
  STEWARD_SANDBOX_TASK_QUEUE: z.string().min(1).default('steward-sandboxes'),
  STEWARD_SANDBOX_BACKEND: z.enum(['auto', 'bubblewrap', 'process', 'docker']).default('auto'),
  STEWARD_SANDBOX_SNAPSHOTS: z.enum(['on', 'off']).default('on'),
  STEWARD_SANDBOX_DOCKER_IMAGE: z.string().min(1).default('node:20-bookworm-slim'),
  STEWARD_SANDBOX_MEMORY_MB: z.coerce.number().int().min(64).default(2048),
  STEWARD_SANDBOX_PROCESSES: z.coerce.number().int().min(16).default(256),
  STEWARD_SANDBOX_DISK_MB: z.coerce.number().int().min(64).default(4096),
  STEWARD_SANDBOX_CPU_SECONDS: z.coerce.number().int().min(1).default(900),
  STEWARD_SANDBOX_CPUS: z.coerce.number().min(0).default(2),
  STEWARD_SNAPSHOT_REFRESH_EVERY: durationMs.default(30 * 60_000),
  STEWARD_SNAPSHOT_MAX_AGE: durationMs.default(7 * 86_400_000),
  STEWARD_SNAPSHOT_DISK_BUDGET_MB: z.coerce.number().int().min(0).default(50 * 1024),
  STEWARD_WORKER_ROLES: z
    .string()
    .default('incident,sandbox')
    .transform((roles) => roles.split(',').map((role) => role.trim()).filter(Boolean))
    .pipe(z.array(z.enum(['incident', 'sandbox'])).min(1, 'name at least one of incident, sandbox')),
  STEWARD_PAYLOAD_OFFLOAD_BYTES: z.coerce.number().int().min(0).default(DEFAULT_PAYLOAD_OFFLOAD_BYTES),
  STEWARD_TEMPORAL_UI_URL: z.string().url().optional(),
  DATABASE_URL: z.string().url().optional(),
  STEWARD_API_PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  STEWARD_WEBHOOK_TOKEN: z.string().min(16, 'STEWARD_WEBHOOK_TOKEN must be at least 16 characters').optional(),
  STEWARD_WEBHOOK_MAX_BYTES: z.coerce.number().int().positive().default(256 * 1024),
  STEWARD_APPROVAL_MIN_SEVERITY: Severity.default('P1'),
  STEWARD_APPROVAL_TIMEOUT: durationMs.default(4 * 3_600_000),
  STEWARD_APPROVAL_TIMEOUT_POLICY: z.enum(['escalate', 'close']).default('escalate'),
  STEWARD_APPROVAL_MAX_ESCALATIONS: z.coerce.number().int().min(0).default(3),
  STEWARD_MAX_FIX_ATTEMPTS: z.coerce.number().int().min(1).max(3).default(3),
  STEWARD_FIX_AGENT_MAX_TURNS: z.coerce.number().int().min(1).max(100).default(20),
  STEWARD_FIX_AGENT_TOKEN_BUDGET: z.coerce.number().int().min(0).default(1_500_000),
  STEWARD_DRAFT_PR_BELOW_CONFIDENCE: z.coerce.number().min(0).max(1).default(0.5),
  STEWARD_PR_FOLLOW_UP: durationMs.default(14 * 86_400_000),
  STEWARD_MODEL_PROVIDER: z.enum(['replay', 'anthropic', 'openai', 'openai-compatible']).default('replay'),
  ANTHROPIC_API_KEY: z.string().optional(),
  OPENAI_API_KEY: z.string().optional(),
  STEWARD_MODEL_BASE_URL: z.string().url().optional(),
  STEWARD_MODEL: z.string().optional(),
  STEWARD_MODEL_TRIAGE: z.string().optional(),
  STEWARD_MODEL_REPRODUCE: z.string().optional(),
  STEWARD_MODEL_FIX: z.string().optional(),
  STEWARD_MODEL_REVIEW: z.string().optional(),
  STEWARD_MODEL_STRUCTURED_OUTPUT: z.enum(['json_schema', 'json_object', 'prompt']).default('json_schema'),
  STEWARD_MODEL_RECORD_TO: z.string().optional(),
  STEWARD_INCIDENT_BUDGET_USD: z.coerce.number().min(0).default(10),
  STEWARD_MODEL_PRICES: z.string().optional(),
  DATADOG_API_KEY: z.string().optional(),
  DATADOG_APP_KEY: z.string().optional(),
  DATADOG_SITE: z.string().default('datadoghq.com'),
  DATADOG_API_URL: z.string().url().optional(),
  GITHUB_APP_ID: z.string().regex(/^\d+$/, 'GITHUB_APP_ID is the numeric App id').optional(),
  GITHUB_APP_PRIVATE_KEY: z.string().optional(),
  GITHUB_APP_PRIVATE_KEY_FILE: z.string().optional(),
  GITHUB_APP_INSTALLATION_ID: z.coerce.number().int().positive().optional(),
  GITHUB_API_URL: z.string().url().optional(),
  GITHUB_WEBHOOK_SECRET: z.string().optional(),
  STEWARD_MODEL_TRANSCRIPT: z.string().optional(),
  STEWARD_SERVICES_FILE: z.string().optional(),
  STEWARD_FAULT_CRASH_AFTER: z.string().default(''),
  STEWARD_FAULT_MARKER_DIR: z.string().optional(),
  SLACK_BOT_TOKEN: z.string().optional(),
  SLACK_SIGNING_SECRET: z.string().optional(),
  SLACK_CHANNEL: z.string().optional(),
  SLACK_API_URL: z.string().url().optional(),
});

/** Every variable Steward reads; .env.example documents each (a test holds them together). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape);

export interface StewardConfig {
  dataDir: string;
  temporal: {
    address: string | null;
    namespace: string;
    taskQueue: string;
    /** Shared queue of the sandbox hosts; each host also polls its own (contracts: sandboxHostTaskQueue). */
    sandboxTaskQueue: string;
    /** What `npm run worker` runs here: the incident worker, a sandbox host, or both. */
    workerRoles: ('incident' | 'sandbox')[];
    webUiUrl: string | null;
    /** Payloads above this size go to the payload store, and the history keeps a reference. */
    payloadOffloadBytes: number;
  };
  databaseUrl: string | null;
  api: { port: number; webhookToken: string | null; maxBodyBytes: number };
  approval: { minSeverity: Severity; timeoutMs: number; timeoutPolicy: 'escalate' | 'close'; maxEscalations: number };
  maxFixAttempts: number;
  /** The fix agent's turn limit per attempt, and the tokens an incident may spend before the agent stops (null: no limit). */
  fixAgent: { maxTurns: number; tokenBudgetPerIncident: number | null };
  draftPrBelowConfidence: number;
  /** How long an incident waits for its PR to be merged, to record the merge; 0 ends it when the PR opens. */
  prFollowUpMs: number;
  model: ModelConfig;
  /** Model spend after which an incident makes no further model call; 0 means no limit. */
  incidentBudgetUsd: number;
  /** USD per million tokens by model family, the defaults overlaid with STEWARD_MODEL_PRICES. */
  modelPrices: Record<string, { inputPerMTok: number; outputPerMTok: number }>;
  monitors: { provider: 'postgres' } | { provider: 'datadog'; apiKey: string; appKey: string; site: string; baseUrl: string | null };
  codeHost:
    | { provider: 'local-git' }
    | { provider: 'github-app'; appId: number; privateKey: string; installationId: number | null; baseUrl: string | null; webhookSecret: string | null };
  services: ServicesConfig;
  /** 'demo' when no services file is configured and the bundled demo service stands in. */
  servicesSource: 'demo' | 'file';
  slack: { botToken: string; signingSecret: string; channel: string; apiUrl: string | null } | null;
  sandbox: SandboxConfig;
  /** Crash tests only: activities after which the worker kills itself once (workers/fault-injection.ts). */
  faults: { crashAfter: string[]; markerDir: string };
}

export interface SandboxConfig {
  /** auto: bubblewrap where this machine can run it, else the process-level backend, said loudly at start. */
  backend: 'auto' | 'bubblewrap' | 'process' | 'docker';
  snapshots: boolean;
  dockerImage: string;
  limits: { memoryBytes: number; processes: number; diskBytes: number; cpuSeconds: number; cpus: number | null };
  snapshotRefreshEveryMs: number;
  snapshotGarbage: { maxAgeMs: number; maxBytes: number };
}

export type ModelStage = 'triage' | 'reproduce' | 'fix' | 'review';

export type ModelConfig =
  | { provider: 'replay'; transcriptPath: string }
  | {
      provider: 'anthropic' | 'openai' | 'openai-compatible';
      apiKey: string | null;
      baseUrl: string | null;
      models: Record<ModelStage, string>;
      /** How OpenAI-style servers are asked for JSON; self-hosted ones may lack json_schema. */
      structuredOutput: 'json_schema' | 'json_object' | 'prompt';
      /** Record mode: the transcript file the live answers are written to, or null. */
      recordTo: string | null;
    };

/**
 * Triage is a classification: a fast, accurate model does it well. Reproducing, fixing and
 * reviewing read and change code: they get the thorough one.
 */
const DEFAULT_MODELS: Record<'anthropic' | 'openai', Record<ModelStage, string>> = {
  anthropic: { triage: 'claude-haiku-4-5', reproduce: 'claude-sonnet-4-6', fix: 'claude-sonnet-4-6', review: 'claude-sonnet-4-6' },
  openai: { triage: 'gpt-4.1-mini', reproduce: 'gpt-4.1', fix: 'gpt-4.1', review: 'gpt-4.1' },
};

/** List prices per million tokens when this was written; STEWARD_MODEL_PRICES overrides or adds. */
const DEFAULT_MODEL_PRICES: Record<string, { inputPerMTok: number; outputPerMTok: number }> = {
  'claude-haiku-4-5': { inputPerMTok: 1, outputPerMTok: 5 },
  'claude-sonnet-4-6': { inputPerMTok: 3, outputPerMTok: 15 },
  'claude-sonnet-4-5': { inputPerMTok: 3, outputPerMTok: 15 },
  'gpt-4.1': { inputPerMTok: 2, outputPerMTok: 8 },
  'gpt-4.1-mini': { inputPerMTok: 0.4, outputPerMTok: 1.6 },
};

const ModelPrices = z.record(z.string(), z.object({ inputPerMTok: z.number().min(0), outputPerMTok: z.number().min(0) }));

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export const PROJECT_ROOT = path.resolve(__dirname, '..');
export const DEMO_TRANSCRIPT_PATH = path.join(PROJECT_ROOT, 'demo', 'transcript.json');

/** The bundled demo service, used when no services file is configured. */
export function demoServicesConfig(dataDir: string): ServicesConfig {
  return {
    'checkout-service': ServiceConfig.parse({
      repository: path.join(dataDir, 'repos', 'checkout-service'),
      testCommand: 'node --test --test-reporter=tap test/',
      singleTestCommand: 'node --test --test-reporter=tap {file}',
      reproductionDir: 'test',
    }),
  };
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

function loadServices(file: string | undefined, dataDir: string): ServicesConfig {
  if (!file) return demoServicesConfig(dataDir);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`STEWARD_SERVICES_FILE (${file}) could not be read as JSON: ${(error as Error).message}`);
  }
  const parsed = ServicesConfig.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`STEWARD_SERVICES_FILE (${file}) is invalid: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

type Env = z.infer<typeof EnvSchema>;

function modelConfig(e: Env): ModelConfig {
  const provider = e.STEWARD_MODEL_PROVIDER;
  if (provider === 'replay') return { provider, transcriptPath: path.resolve(e.STEWARD_MODEL_TRANSCRIPT ?? DEMO_TRANSCRIPT_PATH) };
  const apiKey = provider === 'anthropic' ? e.ANTHROPIC_API_KEY : e.OPENAI_API_KEY;
  if (provider !== 'openai-compatible' && !apiKey) {
    throw new ConfigError(`${provider === 'anthropic' ? 'ANTHROPIC_API_KEY' : 'OPENAI_API_KEY'} is not set: STEWARD_MODEL_PROVIDER is ${provider}`);
  }
  if (provider === 'openai-compatible' && !e.STEWARD_MODEL_BASE_URL) {
    throw new ConfigError('STEWARD_MODEL_BASE_URL is not set: an openai-compatible provider (vLLM, Ollama, LM Studio) is reached by its URL');
  }
  const defaults = provider === 'openai-compatible' ? null : DEFAULT_MODELS[provider];
  const pick = (stage: ModelStage, specific: string | undefined): string => {
    const model = specific ?? e.STEWARD_MODEL ?? defaults?.[stage];
    if (!model) throw new ConfigError(`STEWARD_MODEL is not set: an openai-compatible provider has no default model (or set STEWARD_MODEL_${stage.toUpperCase()})`);
    return model;
  };
  return {
    provider,
    apiKey: apiKey ?? null,
    baseUrl: e.STEWARD_MODEL_BASE_URL ?? null,
    structuredOutput: e.STEWARD_MODEL_STRUCTURED_OUTPUT,
    recordTo: e.STEWARD_MODEL_RECORD_TO ? path.resolve(e.STEWARD_MODEL_RECORD_TO) : null,
    models: {
      triage: pick('triage', e.STEWARD_MODEL_TRIAGE),
      reproduce: pick('reproduce', e.STEWARD_MODEL_REPRODUCE),
      fix: pick('fix', e.STEWARD_MODEL_FIX),
      review: pick('review', e.STEWARD_MODEL_REVIEW),
    },
  };
}

function bothOrNeither(e: Env, names: (keyof Env)[], what: string): boolean {
  const set = names.filter((name) => Boolean(e[name]));
  if (set.length > 0 && set.length < names.length) {
    throw new ConfigError(`${what} is partly configured: set ${names.filter((n) => !e[n]).join(', ')} as well, or unset ${set.join(', ')}`);
  }
  return set.length === names.length;
}

function codeHostConfig(e: Env): StewardConfig['codeHost'] {
  if (!e.GITHUB_APP_ID) {
    const stray = (['GITHUB_APP_PRIVATE_KEY', 'GITHUB_APP_PRIVATE_KEY_FILE', 'GITHUB_APP_INSTALLATION_ID'] as const).find((name) => e[name] !== undefined);
    if (stray) throw new ConfigError(`GITHUB_APP_ID is not set, but ${stray} is: the GitHub App needs its id`);
    return { provider: 'local-git' };
  }
  let privateKey = e.GITHUB_APP_PRIVATE_KEY;
  if (!privateKey && e.GITHUB_APP_PRIVATE_KEY_FILE) {
    try {
      privateKey = fs.readFileSync(e.GITHUB_APP_PRIVATE_KEY_FILE, 'utf8');
    } catch (error) {
      throw new ConfigError(`GITHUB_APP_PRIVATE_KEY_FILE (${e.GITHUB_APP_PRIVATE_KEY_FILE}) could not be read: ${(error as Error).message}`);
    }
  }
  if (!privateKey) throw new ConfigError('GITHUB_APP_PRIVATE_KEY (or GITHUB_APP_PRIVATE_KEY_FILE) is not set: GITHUB_APP_ID is');
  if (!privateKey.includes('PRIVATE KEY')) throw new ConfigError('GITHUB_APP_PRIVATE_KEY is not a PEM private key');
  return {
    provider: 'github-app',
    appId: Number(e.GITHUB_APP_ID),
    privateKey: privateKey.replace(/\\n/g, '\n'),
    installationId: e.GITHUB_APP_INSTALLATION_ID ?? null,
    baseUrl: e.GITHUB_API_URL ?? null,
    webhookSecret: e.GITHUB_WEBHOOK_SECRET ?? null,
  };
}

function modelPrices(raw: string | undefined): StewardConfig['modelPrices'] {
  if (!raw) return DEFAULT_MODEL_PRICES;
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    throw new ConfigError(`STEWARD_MODEL_PRICES is not JSON: ${(error as Error).message}`);
  }
  const parsed = ModelPrices.safeParse(json);
  if (!parsed.success) throw new ConfigError(`STEWARD_MODEL_PRICES is invalid: ${describeIssues(parsed.error)}`);
  return { ...DEFAULT_MODEL_PRICES, ...parsed.data };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): StewardConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`Invalid configuration: ${describeIssues(parsed.error)}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.STEWARD_DATA_DIR);
  const services = loadServices(e.STEWARD_SERVICES_FILE, dataDir);
  const codeHost = codeHostConfig(e);
  const withoutGitHub = Object.entries(services).filter(([, s]) => !s.githubRepository).map(([name]) => name);
  if (codeHost.provider === 'github-app' && withoutGitHub.length > 0) {
    throw new ConfigError(`GITHUB_APP_ID is set, but STEWARD_SERVICES_FILE gives no githubRepository for: ${withoutGitHub.join(', ')}`);
  }
  const slackVars = [e.SLACK_BOT_TOKEN, e.SLACK_SIGNING_SECRET, e.SLACK_CHANNEL];
  if (slackVars.some(Boolean) && !slackVars.every(Boolean)) {
    const missing = (['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_CHANNEL'] as const).filter((name) => !e[name]);
    throw new ConfigError(`Slack is partly configured: set ${missing.join(', ')} as well, or unset the others`);
  }
  return {
    dataDir,
    temporal: {
      address: e.TEMPORAL_ADDRESS ?? null,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.STEWARD_TASK_QUEUE,
      payloadOffloadBytes: e.STEWARD_PAYLOAD_OFFLOAD_BYTES,
      sandboxTaskQueue: e.STEWARD_SANDBOX_TASK_QUEUE,
      workerRoles: e.STEWARD_WORKER_ROLES,
      webUiUrl: e.STEWARD_TEMPORAL_UI_URL ?? null,
    },
    databaseUrl: e.DATABASE_URL ?? null,
    api: { port: e.STEWARD_API_PORT, webhookToken: e.STEWARD_WEBHOOK_TOKEN ?? null, maxBodyBytes: e.STEWARD_WEBHOOK_MAX_BYTES },
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
    model: modelConfig(e),
    incidentBudgetUsd: e.STEWARD_INCIDENT_BUDGET_USD,
    modelPrices: modelPrices(e.STEWARD_MODEL_PRICES),
    monitors: bothOrNeither(e, ['DATADOG_API_KEY', 'DATADOG_APP_KEY'], 'Datadog')
      ? { provider: 'datadog', apiKey: e.DATADOG_API_KEY!, appKey: e.DATADOG_APP_KEY!, site: e.DATADOG_SITE, baseUrl: e.DATADOG_API_URL ?? null }
      : { provider: 'postgres' },
    codeHost,
    services,
    servicesSource: e.STEWARD_SERVICES_FILE ? 'file' : 'demo',
    slack:
      e.SLACK_BOT_TOKEN && e.SLACK_SIGNING_SECRET && e.SLACK_CHANNEL
        ? { botToken: e.SLACK_BOT_TOKEN, signingSecret: e.SLACK_SIGNING_SECRET, channel: e.SLACK_CHANNEL, apiUrl: e.SLACK_API_URL ?? null }
        : null,
    sandbox: {
      backend: e.STEWARD_SANDBOX_BACKEND,
      snapshots: e.STEWARD_SANDBOX_SNAPSHOTS === 'on',
      dockerImage: e.STEWARD_SANDBOX_DOCKER_IMAGE,
      limits: {
        memoryBytes: e.STEWARD_SANDBOX_MEMORY_MB * 1024 ** 2,
        processes: e.STEWARD_SANDBOX_PROCESSES,
        diskBytes: e.STEWARD_SANDBOX_DISK_MB * 1024 ** 2,
        cpuSeconds: e.STEWARD_SANDBOX_CPU_SECONDS,
        cpus: e.STEWARD_SANDBOX_CPUS === 0 ? null : e.STEWARD_SANDBOX_CPUS,
      },
      snapshotRefreshEveryMs: e.STEWARD_SNAPSHOT_REFRESH_EVERY,
      snapshotGarbage: { maxAgeMs: e.STEWARD_SNAPSHOT_MAX_AGE, maxBytes: e.STEWARD_SNAPSHOT_DISK_BUDGET_MB * 1024 ** 2 },
    },
    faults: {
      crashAfter: e.STEWARD_FAULT_CRASH_AFTER.split(',').map((s) => s.trim()).filter(Boolean),
      markerDir: path.resolve(e.STEWARD_FAULT_MARKER_DIR ?? path.join(dataDir, 'faults')),
    },
  };
}

/** For processes that cannot run without a value, e.g. the API without a webhook token. */
export function required<T>(value: T | null | undefined, variable: string, why: string): T {
  if (value === null || value === undefined) throw new ConfigError(`${variable} is not set: ${why}`);
  return value;
}
