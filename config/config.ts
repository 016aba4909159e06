import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
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
});
export type ServiceConfig = z.infer<typeof ServiceConfig>;

const ServicesConfig = z.record(z.string(), ServiceConfig);
export type ServicesConfig = z.infer<typeof ServicesConfig>;

const EnvSchema = z.object({
  STEWARD_DATA_DIR: z.string().default('data'),
  TEMPORAL_ADDRESS: z.string().optional(),
  TEMPORAL_NAMESPACE: z.string().default('default'),
  STEWARD_TASK_QUEUE: z.string().default('steward-incidents'),
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
  STEWARD_DRAFT_PR_BELOW_CONFIDENCE: z.coerce.number().min(0).max(1).default(0.5),
  STEWARD_MODEL_PROVIDER: z.enum(['replay']).default('replay'),
  STEWARD_MODEL_TRANSCRIPT: z.string().optional(),
  STEWARD_SERVICES_FILE: z.string().optional(),
  STEWARD_FAULT_CRASH_AFTER: z.string().default(''),
  STEWARD_FAULT_MARKER_DIR: z.string().optional(),
  SLACK_BOT_TOKEN: z.string().optional(),
  SLACK_SIGNING_SECRET: z.string().optional(),
  SLACK_CHANNEL: z.string().optional(),
  SLACK_API_URL: z.string().url().optional(),
});

export interface StewardConfig {
  dataDir: string;
  temporal: { address: string | null; namespace: string; taskQueue: string; webUiUrl: string | null };
  databaseUrl: string | null;
  api: { port: number; webhookToken: string | null; maxBodyBytes: number };
  approval: { minSeverity: Severity; timeoutMs: number; timeoutPolicy: 'escalate' | 'close'; maxEscalations: number };
  maxFixAttempts: number;
  draftPrBelowConfidence: number;
  model: { provider: 'replay'; transcriptPath: string };
  services: ServicesConfig;
  /** 'demo' when no services file is configured and the bundled demo service stands in. */
  servicesSource: 'demo' | 'file';
  slack: { botToken: string; signingSecret: string; channel: string; apiUrl: string | null } | null;
  /** Crash tests only: activities after which the worker kills itself once (workers/fault-injection.ts). */
  faults: { crashAfter: string[]; markerDir: string };
}

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

export function loadConfig(env: NodeJS.ProcessEnv = process.env): StewardConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`Invalid configuration: ${describeIssues(parsed.error)}`);
  }
  const e = parsed.data;
  const dataDir = path.resolve(e.STEWARD_DATA_DIR);
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
    draftPrBelowConfidence: e.STEWARD_DRAFT_PR_BELOW_CONFIDENCE,
    model: { provider: e.STEWARD_MODEL_PROVIDER, transcriptPath: path.resolve(e.STEWARD_MODEL_TRANSCRIPT ?? DEMO_TRANSCRIPT_PATH) },
    services: loadServices(e.STEWARD_SERVICES_FILE, dataDir),
    servicesSource: e.STEWARD_SERVICES_FILE ? 'file' : 'demo',
    slack:
      e.SLACK_BOT_TOKEN && e.SLACK_SIGNING_SECRET && e.SLACK_CHANNEL
        ? { botToken: e.SLACK_BOT_TOKEN, signingSecret: e.SLACK_SIGNING_SECRET, channel: e.SLACK_CHANNEL, apiUrl: e.SLACK_API_URL ?? null }
        : null,
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
