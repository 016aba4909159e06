import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { CONFIG_VARIABLES, ConfigError, loadConfig, NOT_SECRET_VARIABLES, PROJECT_ROOT, SECRET_VARIABLES } from './config';

const failure = (env: NodeJS.ProcessEnv): string => {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('loadConfig accepted the environment');
};

describe('loadConfig', () => {
  it('runs on the embedded defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      temporal: { address: null, namespace: 'default', taskQueue: 'steward-incidents', workerHealthPort: null },
      databaseUrl: null,
      api: { port: 8787, webhookToken: null },
      approval: { minSeverity: 'P1', timeoutMs: 4 * 3_600_000, timeoutPolicy: 'escalate' },
      model: { provider: 'replay' },
      monitors: { provider: 'postgres' },
      codeHost: { provider: 'local-git' },
      servicesSource: 'demo',
      slack: null,
    });
    expect(Object.keys(config.services)).toEqual(['checkout-service']);
  });

  it.each([
    [{ STEWARD_API_PORT: 'eighty' }, 'STEWARD_API_PORT'],
    [{ STEWARD_APPROVAL_TIMEOUT: 'soon' }, 'STEWARD_APPROVAL_TIMEOUT'],
    [{ STEWARD_APPROVAL_MIN_SEVERITY: 'P9' }, 'STEWARD_APPROVAL_MIN_SEVERITY'],
    [{ STEWARD_WEBHOOK_TOKEN: 'short' }, 'STEWARD_WEBHOOK_TOKEN'],
    [{ SLACK_BOT_TOKEN: 'xoxb-1' }, 'SLACK_SIGNING_SECRET, SLACK_CHANNEL'],
    [{ STEWARD_MODEL_PROVIDER: 'anthropic' }, 'ANTHROPIC_API_KEY'],
    [{ STEWARD_MODEL_PROVIDER: 'openai' }, 'OPENAI_API_KEY'],
    [{ STEWARD_MODEL_PROVIDER: 'openai-compatible' }, 'STEWARD_MODEL_BASE_URL'],
    [{ STEWARD_MODEL_PROVIDER: 'openai-compatible', STEWARD_MODEL_BASE_URL: 'http://127.0.0.1:11434/v1' }, 'STEWARD_MODEL'],
    [{ DATADOG_API_KEY: 'k' }, 'DATADOG_APP_KEY'],
    [{ GITHUB_APP_ID: '12345' }, 'GITHUB_APP_PRIVATE_KEY'],
    [{ GITHUB_APP_PRIVATE_KEY: 'x' }, 'GITHUB_APP_ID'],
    [{ GITHUB_APP_ID: 'my-app' }, 'GITHUB_APP_ID'],
    [{ STEWARD_SERVICES_FILE: '/nonexistent/services.json' }, 'STEWARD_SERVICES_FILE'],
    [{ STEWARD_MODEL_PRICES: '{"m": {"inputPerMTok": -1, "outputPerMTok": 1}}' }, 'STEWARD_MODEL_PRICES'],
    [{ STEWARD_INCIDENT_BUDGET_USD: 'lots' }, 'STEWARD_INCIDENT_BUDGET_USD'],
    [{ STEWARD_WORKER_HEALTH_PORT: 'healthz' }, 'STEWARD_WORKER_HEALTH_PORT'],
  ])('fails fast on %j, naming %s', (env, variable) => {
    expect(failure(env)).toContain(variable);
  });

  it('gives each model stage its own model, with per-stage overrides', () => {
    const config = loadConfig({ STEWARD_MODEL_PROVIDER: 'anthropic', ANTHROPIC_API_KEY: 'sk-ant', STEWARD_MODEL_FIX: 'claude-opus-4-1' });
    expect(config.model).toMatchObject({ provider: 'anthropic', apiKey: 'sk-ant', models: { triage: 'claude-haiku-4-5', fix: 'claude-opus-4-1' } });
  });

  it('reads a GitHub App key from a file and Datadog keys with their site', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-config-'));
    const keyFile = path.join(dir, 'app.pem');
    fs.writeFileSync(keyFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }));
    const servicesFile = path.join(dir, 'services.json');
    fs.writeFileSync(servicesFile, JSON.stringify({ checkout: { repository: 'https://github.com/acme/checkout.git', githubRepository: 'acme/checkout', testCommand: 'npm test', singleTestCommand: 'npx jest {file}' } }));
    const config = loadConfig({
      GITHUB_APP_ID: '42',
      GITHUB_APP_PRIVATE_KEY_FILE: keyFile,
      STEWARD_SERVICES_FILE: servicesFile,
      DATADOG_API_KEY: 'a',
      DATADOG_APP_KEY: 'b',
      DATADOG_SITE: 'datadoghq.eu',
    });
    expect(config.codeHost).toMatchObject({ provider: 'github-app', appId: 42, installationId: null });
    expect(config.monitors).toEqual({ provider: 'datadog', apiKey: 'a', appKey: 'b', site: 'datadoghq.eu', baseUrl: null });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('validates a services file and names the bad field', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-config-'));
    const file = path.join(dir, 'services.json');
    fs.writeFileSync(file, JSON.stringify({ checkout: { repository: '/srv/checkout', testCommand: 'npm test', singleTestCommand: 'npx jest' } }));
    expect(failure({ STEWARD_SERVICES_FILE: file })).toContain('singleTestCommand must contain {file}');
    fs.writeFileSync(file, JSON.stringify({ checkout: { repository: '/srv/checkout', testCommand: 'npm test', singleTestCommand: 'npx jest {file}' } }));
    expect(loadConfig({ STEWARD_SERVICES_FILE: file })).toMatchObject({ servicesSource: 'file', services: { checkout: { defaultBranch: 'main', reproductionDir: 'test', buildCommand: null } } });
    fs.writeFileSync(file, JSON.stringify({ checkout: { repository: '/srv/checkout', testCommand: 'npm test', singleTestCommand: 'npx jest {file}', buildCommand: '' } }));
    expect(failure({ STEWARD_SERVICES_FILE: file })).toContain('buildCommand is a command, or null');
    fs.writeFileSync(file, JSON.stringify({ checkout: { repository: '/srv/checkout', testCommand: 'npm test', singleTestCommand: 'npx jest {file}', buildCommand: 'npm run build' } }));
    expect(loadConfig({ STEWARD_SERVICES_FILE: file }).services.checkout).toMatchObject({ buildCommand: 'npm run build' });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads after how many attempts the inbox relay sets a delivery aside, refusing one that is no positive whole number by its name', () => {
    expect(loadConfig({}).resilience.inbox.deadAfterAttempts).toBe(10);
    expect(loadConfig({ STEWARD_INBOX_DEAD_AFTER_ATTEMPTS: '3' }).resilience.inbox.deadAfterAttempts).toBe(3);
    expect(failure({ STEWARD_INBOX_DEAD_AFTER_ATTEMPTS: '0' })).toContain('STEWARD_INBOX_DEAD_AFTER_ATTEMPTS');
    expect(failure({ STEWARD_INBOX_DEAD_AFTER_ATTEMPTS: 'many' })).toContain('STEWARD_INBOX_DEAD_AFTER_ATTEMPTS');
  });

  it('is documented variable by variable in .env.example', () => {
    const documented = fs
      .readFileSync(path.join(PROJECT_ROOT, '.env.example'), 'utf8')
      .split('\n')
      .filter((line) => /^[A-Z_]+=/.test(line))
      .map((line) => line.split('=')[0]);
    expect([...documented].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('classifies every variable named like a credential as a secret or, by name, as not one', () => {
    const credentialLike = CONFIG_VARIABLES.filter((name) => /KEY|TOKEN|SECRET|PASSWORD|PRIVATE|CERT|CREDENTIAL/.test(name) || name === 'DATABASE_URL');
    const unclassified = credentialLike.filter((name) => !(name in SECRET_VARIABLES) && !NOT_SECRET_VARIABLES.includes(name));
    expect(unclassified).toEqual([]);
    // Both lists name variables that exist, and none is in both.
    expect(Object.keys(SECRET_VARIABLES).filter((name) => !CONFIG_VARIABLES.includes(name))).toEqual([]);
    expect(NOT_SECRET_VARIABLES.filter((name) => !CONFIG_VARIABLES.includes(name) || name in SECRET_VARIABLES)).toEqual([]);
  });
});
