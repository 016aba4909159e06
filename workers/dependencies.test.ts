import { generateKeyPairSync } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Pool } from 'pg';
import { GitHubAppCodeHost } from '../adapters/github-app-code-host.adapter';
import { GitCodeSearch } from '../adapters/git-code-search.adapter';
import { DatadogLogs } from '../adapters/datadog-logs.adapter';
import { DatadogMonitors } from '../adapters/datadog-monitors.adapter';
import { PostgresLogs } from '../adapters/postgres-logs.adapter';
import { ConsoleNotifier } from '../adapters/console-notifier.adapter';
import { SlackNotifier } from '../adapters/slack-notifier.adapter';
import { ObservedModel } from '../activities/shared/observed-model';
import { MeteredModel } from '../activities/shared/metered-model';
import { loadConfig } from '../config/config';
import { bubblewrapAvailability } from '../sandbox/bubblewrap/bubblewrap-sandbox.adapter';
import { untraversableFolder } from '../lib/reachable-folder';
import { buildIncidentPorts, buildLocalMonitorEvaluator, buildLogStore } from './dependencies';
import { buildSandboxBackend, sandboxRootOf, snapshotRootOf } from './sandbox-backend';

/** The composition root chooses an adapter per port from configuration, and says which it chose. */
describe('buildIncidentPorts', () => {
  // Never connected: building ports opens no connection.
  const pool = new Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
  afterAll(() => pool.end());

  it('serves every port from the embedded defaults, each labelled as what it is', () => {
    const { ports, labels } = buildIncidentPorts(loadConfig({}), pool);
    expect(ports.model).toBeInstanceOf(ObservedModel);
    expect((ports.model as ObservedModel).inner).toBeInstanceOf(MeteredModel);
    expect(ports.notifier).toBeInstanceOf(ConsoleNotifier);
    expect(labels.join('\n')).toMatch(/replay of .*not a live model/);
    expect(labels.join('\n')).toContain('not Datadog');
    expect(labels.join('\n')).toContain('not GitHub');
    expect(ports.codeSearch).toBeInstanceOf(GitCodeSearch);
    expect(labels.join('\n')).toMatch(/code search: git, in each service's repository .*code-search\)/);
  });

  it('routes each stage to its configured model, and records when asked to', () => {
    const live = buildIncidentPorts(loadConfig({ STEWARD_MODEL_PROVIDER: 'anthropic', ANTHROPIC_API_KEY: 'sk-ant-test', STEWARD_MODEL_TRIAGE: 'claude-haiku-4-5' }), pool);
    expect(live.ports.model).toBeInstanceOf(ObservedModel);
    expect((live.ports.model as ObservedModel).inner).toBeInstanceOf(MeteredModel);
    expect(live.labels[0]).toBe(
      'model: anthropic (triage claude-haiku-4-5, reproduce claude-sonnet-4-6, fix claude-sonnet-4-6, review claude-sonnet-4-6); budget $10 per incident',
    );

    const recorded = buildIncidentPorts(
      loadConfig({ STEWARD_MODEL_PROVIDER: 'openai-compatible', STEWARD_MODEL_BASE_URL: 'http://127.0.0.1:11434/v1', STEWARD_MODEL: 'qwen3-coder', STEWARD_MODEL_RECORD_TO: '/tmp/steward-recorded.json' }),
      pool,
    );
    expect(recorded.ports.model).toBeInstanceOf(ObservedModel);
    expect((recorded.ports.model as ObservedModel).inner).toBeInstanceOf(MeteredModel);
    expect(recorded.labels[0]).toContain('openai-compatible at http://127.0.0.1:11434/v1');
    expect(recorded.labels[0]).toContain('record mode: answers written to /tmp/steward-recorded.json');
  });

  it('keeps monitors in Datadog when its keys are set', () => {
    const { ports, labels } = buildIncidentPorts(loadConfig({ DATADOG_API_KEY: 'a', DATADOG_APP_KEY: 'b', DATADOG_SITE: 'datadoghq.eu' }), pool);
    expect(ports.monitors).toBeInstanceOf(DatadogMonitors);
    expect(labels).toContain('monitors: Datadog at datadoghq.eu');
    expect(ports.logs).toBeInstanceOf(DatadogLogs);
    expect(labels).toContain('error logs: Datadog log search');
  });

  it('reads error logs from the embedded log store the OTLP endpoint fills when Datadog is not configured', () => {
    const { ports, labels } = buildIncidentPorts(loadConfig({ STEWARD_LOG_RETENTION: '3d' }), pool);
    expect(ports.logs).toBeInstanceOf(PostgresLogs);
    expect(labels).toContain('error logs: Postgres (OTLP/HTTP at POST /v1/logs, kept 3d; not Datadog)');
    expect(buildLogStore(loadConfig({}), pool)).toBeInstanceOf(PostgresLogs);
    expect(buildLogStore(loadConfig({ DATADOG_API_KEY: 'a', DATADOG_APP_KEY: 'b' }), pool)).toBeNull();
  });

  it('opens PRs through the GitHub App when it is configured, for the repositories the services name', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-deps-'));
    const servicesFile = path.join(dir, 'services.json');
    fs.writeFileSync(servicesFile, JSON.stringify({ checkout: { repository: 'https://github.com/acme/checkout.git', githubRepository: 'acme/checkout', testCommand: 'npm test', singleTestCommand: 'npx jest {file}' } }));
    const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const config = loadConfig({ GITHUB_APP_ID: '4242', GITHUB_APP_PRIVATE_KEY: privateKey, GITHUB_API_URL: 'https://ghe.example.com/api/v3', STEWARD_SERVICES_FILE: servicesFile });
    const { ports, labels } = buildIncidentPorts(config, pool);
    expect(ports.codeHost).toBeInstanceOf(GitHubAppCodeHost);
    expect(labels).toContain('code host: GitHub App 4242 at https://ghe.example.com/api/v3');

    fs.writeFileSync(servicesFile, JSON.stringify({ checkout: { repository: '/srv/checkout', testCommand: 'npm test', singleTestCommand: 'npx jest {file}' } }));
    expect(() => loadConfig({ GITHUB_APP_ID: '4242', GITHUB_APP_PRIVATE_KEY: privateKey, STEWARD_SERVICES_FILE: servicesFile })).toThrow('no githubRepository for: checkout');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('notifies through Slack when Slack is configured', () => {
    const { ports, labels } = buildIncidentPorts(loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', SLACK_CHANNEL: 'C1' }), pool);
    expect(ports.notifier).toBeInstanceOf(SlackNotifier);
    expect(labels).toContain('notifier: Slack channel C1');
  });
});

/** bubblewrap runs commands as the sandbox uid, which must get through every folder on the way to its workspace. */
const describeIfBubblewrap = bubblewrapAvailability() === true ? describe : describe.skip;
describeIfBubblewrap('the sandbox folders of a data folder in a private folder', () => {
  const pool = new Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
  afterAll(() => pool.end());
  const made: string[] = [];
  afterEach(() => {
    for (const folder of made.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
  });
  /** A 0700 folder, as mkdtemp makes them (and as a clone in one would sit). */
  const privateFolder = (): string => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-private-'));
    made.push(folder);
    expect(fs.statSync(folder).mode & 0o777).toBe(0o700);
    return folder;
  };

  it('go where the sandbox uid can reach them, and the start-up label says where and why', async () => {
    const parent = privateFolder();
    const config = loadConfig({ STEWARD_DATA_DIR: path.join(parent, 'data') });
    const { labels, sandboxBackend } = buildIncidentPorts(config, pool);
    // Waits for the sandbox's start (its probe and sweep log into the data folder), and works there.
    await sandboxBackend.sandbox.destroy('never-opened');
    const root = sandboxRootOf(config);
    made.push(path.dirname(root));
    expect(root.startsWith(`${parent}/`)).toBe(false);
    expect(path.dirname(snapshotRootOf(config))).toBe(path.dirname(root));
    expect(untraversableFolder(root)).toBeNull();
    expect(labels.join('\n')).toContain(`sandboxes and snapshots in ${path.dirname(root)}, because the sandbox uid cannot reach the data folder (${parent} has mode 700)`);
    // The same data folder finds the same place again: a restarted worker finds its sandboxes and host id.
    expect(sandboxRootOf(loadConfig({ STEWARD_DATA_DIR: path.join(parent, 'data') }))).toBe(root);
  });

  it('name the folder in the way, with the fix, where no other place can serve either', () => {
    const parent = privateFolder();
    const config = loadConfig({ STEWARD_DATA_DIR: path.join(parent, 'data'), STEWARD_SANDBOX_BACKEND: 'bubblewrap' });
    const unusableBase = path.join(privateFolder(), 'steward');
    expect(() => buildSandboxBackend(config, { sharedBase: unusableBase })).toThrow(
      `the sandbox root is out of the sandbox uid's reach: ${parent} has mode 700 (others need x: chmod o+x ${parent}`,
    );
  });
});

describe('buildLocalMonitorEvaluator', () => {
  const pool = new Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
  afterAll(() => pool.end());

  it('runs the local evaluator on the embedded monitor store, labelled as what it is, posting to the configured API', () => {
    const local = buildLocalMonitorEvaluator(loadConfig({ STEWARD_WEBHOOK_TOKEN: 'a-token-of-sixteen-chars', STEWARD_API_PORT: '9911' }), pool);
    expect(typeof local.activities?.evaluateLocalMonitors).toBe('function');
    expect(local.label).toContain('monitor evaluator: local, every minute, log alerts over the Postgres log store (not Datadog)');
    expect(local.label).toContain('http://127.0.0.1:9911/webhooks/datadog');
    const elsewhere = buildLocalMonitorEvaluator(loadConfig({ STEWARD_WEBHOOK_TOKEN: 'a-token-of-sixteen-chars', STEWARD_LOCAL_MONITORS_WEBHOOK_URL: 'https://steward.example.com/edge' }), pool);
    expect(elsewhere.label).toContain('https://steward.example.com/edge/webhooks/datadog');
  });

  it('does not run where Datadog evaluates the monitors, or where it has no token to post with', () => {
    expect(buildLocalMonitorEvaluator(loadConfig({ DATADOG_API_KEY: 'a', DATADOG_APP_KEY: 'b', STEWARD_WEBHOOK_TOKEN: 'a-token-of-sixteen-chars' }), pool)).toEqual({ activities: null, label: 'monitor evaluator: Datadog' });
    const unsigned = buildLocalMonitorEvaluator(loadConfig({}), pool);
    expect(unsigned.activities).toBeNull();
    expect(unsigned.label).toContain('STEWARD_WEBHOOK_TOKEN is unset');
  });
});
