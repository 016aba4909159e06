import * as fs from 'node:fs';
import { z } from 'zod';
import { ConfigError, type EnvOf } from './env';

/** The providers Steward talks to when they are configured: Datadog, the GitHub App and Slack. */
export const integrationsEnv = {
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
  SLACK_BOT_TOKEN: z.string().optional(),
  SLACK_SIGNING_SECRET: z.string().optional(),
  SLACK_CHANNEL: z.string().optional(),
  SLACK_API_URL: z.string().url().optional(),
};
type IntegrationsEnv = EnvOf<typeof integrationsEnv>;

export type MonitorsConfig = { provider: 'postgres' } | { provider: 'datadog'; apiKey: string; appKey: string; site: string; baseUrl: string | null };
export type CodeHostConfig =
  | { provider: 'local-git' }
  | { provider: 'github-app'; appId: number; privateKey: string; installationId: number | null; baseUrl: string | null; webhookSecret: string | null };
export type SlackConfig = { botToken: string; signingSecret: string; channel: string; apiUrl: string | null } | null;

function bothOrNeither(e: IntegrationsEnv, names: (keyof IntegrationsEnv)[], what: string): boolean {
  const set = names.filter((name) => Boolean(e[name]));
  if (set.length > 0 && set.length < names.length) {
    throw new ConfigError(`${what} is partly configured: set ${names.filter((n) => !e[n]).join(', ')} as well, or unset ${set.join(', ')}`);
  }
  return set.length === names.length;
}

export function monitorsConfig(e: IntegrationsEnv): MonitorsConfig {
  return bothOrNeither(e, ['DATADOG_API_KEY', 'DATADOG_APP_KEY'], 'Datadog')
    ? { provider: 'datadog', apiKey: e.DATADOG_API_KEY!, appKey: e.DATADOG_APP_KEY!, site: e.DATADOG_SITE, baseUrl: e.DATADOG_API_URL ?? null }
    : { provider: 'postgres' };
}

export function codeHostConfig(e: IntegrationsEnv): CodeHostConfig {
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

export function slackConfig(e: IntegrationsEnv): SlackConfig {
  const slackVars = [e.SLACK_BOT_TOKEN, e.SLACK_SIGNING_SECRET, e.SLACK_CHANNEL];
  if (slackVars.some(Boolean) && !slackVars.every(Boolean)) {
    const missing = (['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_CHANNEL'] as const).filter((name) => !e[name]);
    throw new ConfigError(`Slack is partly configured: set ${missing.join(', ')} as well, or unset the others`);
  }
  return e.SLACK_BOT_TOKEN && e.SLACK_SIGNING_SECRET && e.SLACK_CHANNEL
    ? { botToken: e.SLACK_BOT_TOKEN, signingSecret: e.SLACK_SIGNING_SECRET, channel: e.SLACK_CHANNEL, apiUrl: e.SLACK_API_URL ?? null }
    : null;
}
