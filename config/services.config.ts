import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { NIGHTLY_QA_DEFAULTS, type ServicesConfig } from '../domain/service-config';
import { describeIssues } from '../lib/describe-issues';
import { ConfigError, durationMs } from './env';

/** Five fields (minute hour day-of-month month day-of-week); Temporal parses the rest at schedule creation. */
const CRON = /^\s*\S+(\s+\S+){4}\s*$/;
const isTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/** A service's nightly QA run: the schedule's settings and what one night may spend. */
export const NightlyQaSettings = z
  .object({
    cron: z.string().regex(CRON, 'nightlyQa.cron: five fields, such as "0 2 * * *"').default(NIGHTLY_QA_DEFAULTS.cron),
    timeZone: z.string().refine(isTimeZone, 'nightlyQa.timeZone: an IANA time zone, such as Europe/Paris').default(NIGHTLY_QA_DEFAULTS.timeZone),
    paused: z.boolean().default(NIGHTLY_QA_DEFAULTS.paused),
    /** A night missed while the server was down still starts this long after its time. */
    catchupWindow: durationMs.default(NIGHTLY_QA_DEFAULTS.catchupWindowMs),
    budgetUsd: z.number().positive().max(1_000).default(NIGHTLY_QA_DEFAULTS.budgetUsd),
    missionBudgetUsd: z.number().positive().max(1_000).default(NIGHTLY_QA_DEFAULTS.missionBudgetUsd),
    maxTurnsPerMission: z.number().int().positive().max(200).default(NIGHTLY_QA_DEFAULTS.maxTurnsPerMission),
    maxMissions: z.number().int().positive().max(50).default(NIGHTLY_QA_DEFAULTS.maxMissions),
    notifyQuietNights: z.boolean().default(NIGHTLY_QA_DEFAULTS.notifyQuietNights),
    coreFeatures: z
      .array(z.object({ name: z.string().min(1), areas: z.array(z.string().min(1)).default([]) }))
      .min(1, 'nightlyQa.coreFeatures: leave it out to use the repository\'s tests and routes, or name at least one')
      .nullable()
      .default(null),
    startCommand: z.string().min(1).nullable().default(NIGHTLY_QA_DEFAULTS.startCommand),
  })
  .refine((qa) => qa.missionBudgetUsd <= qa.budgetUsd, { message: 'nightlyQa.missionBudgetUsd cannot exceed nightlyQa.budgetUsd', path: ['missionBudgetUsd'] })
  .transform(({ catchupWindow, ...rest }) => ({ ...rest, catchupWindowMs: catchupWindow }));

/** The services file: which services Steward looks after, and how to build and test each. */
export const ServiceConfig = z.object({
  /** Path or git URL of the repository the service is built from. */
  repository: z.string().min(1),
  defaultBranch: z.string().default('main'),
  /** Run once in a fresh sandbox before anything else (dependency install). */
  setupCommand: z.string().nullable().default(null),
  /** The repository's own test suite. */
  testCommand: z.string().min(1),
  /** Builds the service as its deploy pipeline does; a failed deploy build is reproduced with it. */
  buildCommand: z.string().min(1, 'buildCommand is a command, or null for a service without a build step').nullable().default(null),
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
  /** The service's own roll-back endpoint; header values may name environment variables as `${VAR}`. */
  rollbackHook: z
    .object({
      url: z.url({ protocol: /^https?$/, error: 'rollbackHook.url must be an http(s) URL' }),
      method: z.enum(['POST', 'PUT']).default('POST'),
      headers: z.record(z.string(), z.string()).default({}),
      timeoutMs: z.number().int().positive().max(10 * 60_000).default(30_000),
    })
    .nullable()
    .default(null),
  /** Nightly QA: a schedule at 02:00 UTC with the defaults above when the file gives none. */
  nightlyQa: NightlyQaSettings.default(NIGHTLY_QA_DEFAULTS),
});

const ServicesFile = z.record(z.string(), ServiceConfig) satisfies z.ZodType<ServicesConfig>;

/** The bundled demo service, used when no services file is configured. */
export function demoServicesConfig(dataDir: string): ServicesConfig {
  return {
    'checkout-service': ServiceConfig.parse({
      repository: path.join(dataDir, 'repos', 'checkout-service'),
      testCommand: 'node --test --test-reporter=tap test/',
      buildCommand: 'node scripts/build.js',
      singleTestCommand: 'node --test --test-reporter=tap {file}',
      reproductionDir: 'test',
      nightlyQa: DEMO_NIGHTLY_QA,
    }),
  };
}

/**
 * The demo service's nightly QA (`npm run demo -- --scenario nightly-qa`). Paused: the demo
 * triggers its nights itself, and its recorded transcript (demo/nightly-qa.transcript.json) holds
 * the missions of two nights only, so a night the schedule started at 02:00 on a demo left running
 * would ask for turns no one recorded. Three missions a night, so that the second night's plan
 * has to choose other ones; quiet nights are reported, so the demo shows both reports. The core
 * features are named, not found in the tests, so that the plan is the one the transcript was
 * written for.
 */
const DEMO_NIGHTLY_QA = {
  paused: true,
  budgetUsd: 3,
  missionBudgetUsd: 1,
  maxTurnsPerMission: 8,
  maxMissions: 3,
  notifyQuietNights: true,
  coreFeatures: [
    { name: 'coupons', areas: ['src/coupons.js'] },
    { name: 'order pricing', areas: ['src/pricing.js', 'src/server.js'] },
  ],
  // The service listens on loopback, which the sandbox keeps.
  startCommand: 'PORT=3000 node src/server.js',
};

const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * Puts the environment's values into each rollback hook's headers, so that the token a hook needs
 * stays out of the services file. A variable that is not set stops the start naming it.
 */
function resolveHookHeaders(services: ServicesConfig, file: string, env: NodeJS.ProcessEnv): ServicesConfig {
  const resolved: ServicesConfig = {};
  for (const [name, service] of Object.entries(services)) {
    const hook = service.rollbackHook;
    if (!hook) {
      resolved[name] = service;
      continue;
    }
    const headers: Record<string, string> = {};
    for (const [header, value] of Object.entries(hook.headers)) {
      headers[header] = value.replace(ENV_REFERENCE, (_, variable: string) => {
        const found = env[variable];
        if (found === undefined || found === '') {
          throw new ConfigError(`STEWARD_SERVICES_FILE (${file}): ${name}.rollbackHook.headers.${header} names \${${variable}}, but ${variable} is not set`);
        }
        return found;
      });
    }
    resolved[name] = { ...service, rollbackHook: { ...hook, headers } };
  }
  return resolved;
}

export function loadServices(file: string | undefined, dataDir: string, env: NodeJS.ProcessEnv = process.env): ServicesConfig {
  if (!file) return demoServicesConfig(dataDir);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError(`STEWARD_SERVICES_FILE (${file}) could not be read as JSON: ${(error as Error).message}`);
  }
  const parsed = ServicesFile.safeParse(raw);
  if (!parsed.success) throw new ConfigError(`STEWARD_SERVICES_FILE (${file}) is invalid: ${describeIssues(parsed.error)}`);
  return resolveHookHeaders(parsed.data, file, env);
}
