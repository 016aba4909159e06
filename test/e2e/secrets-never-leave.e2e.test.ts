import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { PROJECT_ROOT, SECRET_VARIABLES } from '../../config/config';
import { createTestDatabase } from '../support/database';
import { startFakeSlack } from '../support/fake-slack-server';
import { decodeTraceExport } from '../support/otlp-protobuf';
import { ADAPTER_SECRETS, DEMO_SECRETS } from '../support/secret-markers';

/**
 * Secrets never leave: `npm run demo` (the alert scenario, CI=true) with every secret variable of
 * config/config.ts that keeps the demo local set to a marker value. No marker may appear in what
 * the run leaves: the output of the demo and of everything it starts (its stdout and stderr carry
 * the worker's and the API's lines), every file under its data folder (notifications, repositories,
 * sandboxes, and any exported spans or logs written there), the export of the incident by
 * `npx steward export`, and the local code host's PRs (title, body, diff) in Postgres.
 *
 * Traces are exported, OTLP/HTTP protobuf, to a loopback collector that decodes every request: no
 * marker may be in a span, and the collector's own credential (OTEL_EXPORTER_OTLP_HEADERS, read by
 * the exporter, not by config) may reach it only as the header it is.
 *
 * Not set here, because the demo would then leave the embedded defaults (README, "What the demo runs
 * on"): DATADOG_API_KEY and DATADOG_APP_KEY (monitors and logs would go to Datadog), GITHUB_APP_PRIVATE_KEY
 * (and _FILE: the code host would be GitHub, and needs GITHUB_APP_ID), TEMPORAL_TLS_CLIENT_KEY_DATA
 * and _PATH (TLS, which the dev server does not speak). Those are ADAPTER_SECRETS, which
 * test/e2e/adapter-secrets-never-leave.test.ts sets: the real adapters, built by the composition root,
 * against loopback Datadog and GitHub, and Temporal's connections through an mTLS front, scanning
 * output, errors, requests, the PR and the data folder, though no incident runs there, so no export or
 * trace is scanned for them. The first test below holds the two lists to every secret config/config.ts
 * reads (SECRET_VARIABLES), so a secret added later without a marker fails. The model keys are set: STEWARD_MODEL_PROVIDER
 * stays `replay`, which reads no key. TEMPORAL_API_KEY is set with TEMPORAL_TLS=false, so it is sent
 * to the dev server, which ignores it. Slack is set, with SLACK_API_URL at a loopback stand-in for
 * slack.com/api (test/support/fake-slack-server.ts): what the notifier posts there is scanned too, and
 * the bot token may reach it only as the Authorization header, which is what it is for.
 */

const exec = promisify(execFile);
const DEMO_TIMEOUT_MS = 8 * 60_000;
const GRPC_NOT_FOUND = 5;
/** Files past this are sandbox disk images (ext4, loop-mounted) and such, not text anything was written to: counted and named, not read. */
const SCAN_MAX_BYTES = 16 * 1024 * 1024;

/** A marker per secret, unlike any other text, so that a hit names the variable it came from. */
function markers(): Record<string, string> {
  const tag = randomBytes(4).toString('hex');
  const names = [...DEMO_SECRETS, 'OTEL_EXPORTER_OTLP_HEADERS'];
  return Object.fromEntries(names.map((name) => [name, `marker${tag}${name.toLowerCase().replace(/_/g, '')}`]));
}

/** Every place a marker was found, as `where: variable`, with the first line holding it (the marker shown as its variable). */
function findMarkers(text: string, where: string, secrets: Record<string, string>): string[] {
  return Object.entries(secrets).flatMap(([name, value]) => {
    if (!text.includes(value)) return [];
    const line = text.split('\n').find((candidate) => candidate.includes(value))!;
    return [`${where}: ${name} in "${line.split(value).join(`<${name}>`).slice(0, 300)}"`];
  });
}

function scanTree(root: string, secrets: Record<string, string>, skipped: string[]): { hits: string[]; files: number } {
  const hits: string[] = [];
  let files = 0;
  const walk = (folder: string): void => {
    for (const entry of fs.readdirSync(folder, { withFileTypes: true })) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) {
        // A sandbox's mounted disk may hold folders its uid made unreadable; what cannot be listed is named.
        try {
          walk(full);
        } catch (error) {
          skipped.push(`${full}: ${(error as NodeJS.ErrnoException).code}`);
        }
      } else if (entry.isFile()) {
        const size = fs.statSync(full).size;
        if (size > SCAN_MAX_BYTES) {
          skipped.push(`${full}: ${size} bytes`);
          continue;
        }
        files += 1;
        hits.push(...findMarkers(fs.readFileSync(full).toString('latin1'), full, secrets));
      }
    }
  };
  walk(root);
  return { hits, files };
}

async function registerNamespace(connection: Connection, namespace: string): Promise<void> {
  await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1 });
      return;
    } catch (error) {
      if (!(isGrpcServiceError(error) && error.code === GRPC_NOT_FOUND) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

function signalGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-group, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

describe('secrets never leave a demo run', () => {
  let connection: Connection;
  const cleanUps: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  });
  afterAll(async () => {
    for (const cleanUp of cleanUps.reverse()) await cleanUp().catch(() => undefined);
    await connection?.close();
  });

  it('sets a marker for every secret config reads, here or in the adapters test', () => {
    const covered = [...DEMO_SECRETS, ...ADAPTER_SECRETS];
    expect([...covered].sort()).toEqual(Object.keys(SECRET_VARIABLES).sort());
    expect(new Set(covered).size).toBe(covered.length);
  });

  it(
    'leaves no marker of a secret variable in its output, its data folder, the incident export or the PR',
    async () => {
      const secrets = markers();
      const suffix = randomBytes(4).toString('hex');
      const namespace = `steward-secrets-${suffix}`;
      await registerNamespace(connection, namespace);
      cleanUps.push(async () => void (await connection.operatorService.deleteNamespace({ namespace })));
      const database = await createTestDatabase();
      cleanUps.push(() => database.drop());
      const dataDir = fs.mkdtempSync(path.join(process.env.STEWARD_TEST_ROOT ?? os.tmpdir(), 'demo-secrets-'));
      fs.chmodSync(dataDir, 0o711);
      cleanUps.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
      const exportDir = fs.mkdtempSync(path.join(process.env.STEWARD_TEST_ROOT ?? os.tmpdir(), 'demo-secrets-export-'));
      cleanUps.push(async () => fs.rmSync(exportDir, { recursive: true, force: true }));

      const slack = await startFakeSlack();
      cleanUps.push(() => slack.close());
      const exports: { headers: Record<string, unknown>; raw: Buffer; text: string }[] = [];
      const collector = Fastify({ bodyLimit: 64 * 1024 * 1024 });
      collector.addContentTypeParser('application/x-protobuf', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
      collector.post('/v1/traces', async (request, reply) => {
        const raw = request.body as Buffer;
        exports.push({ headers: request.headers, raw, text: JSON.stringify(decodeTraceExport(raw)) });
        return reply.code(200).header('content-type', 'application/x-protobuf').send(Buffer.alloc(0));
      });
      await collector.listen({ port: 0, host: '127.0.0.1' });
      cleanUps.push(() => collector.close());
      // The embedded Postgres trusts loopback connections, so a password in the URL is carried and never checked.
      const databaseUrl = new URL(database.url);
      databaseUrl.password = secrets.DATABASE_URL!;
      const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(STEWARD_|SLACK_|TEMPORAL_|DATADOG_|GITHUB_|ANTHROPIC_|OPENAI_|OTEL_|DATABASE_URL$|CI$)/.test(name)));
      const env: NodeJS.ProcessEnv = {
        ...inherited,
        CI: 'true',
        DATABASE_URL: databaseUrl.toString(),
        TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
        TEMPORAL_NAMESPACE: namespace,
        TEMPORAL_API_KEY: secrets.TEMPORAL_API_KEY,
        TEMPORAL_TLS: 'false',
        STEWARD_TASK_QUEUE: `secrets-${suffix}`,
        STEWARD_SANDBOX_TASK_QUEUE: `secrets-${suffix}-sandboxes`,
        STEWARD_DATA_DIR: dataDir,
        STEWARD_API_PORT: '0',
        STEWARD_WEBHOOK_TOKEN: secrets.STEWARD_WEBHOOK_TOKEN,
        STEWARD_MODEL_PROVIDER: 'replay',
        ANTHROPIC_API_KEY: secrets.ANTHROPIC_API_KEY,
        OPENAI_API_KEY: secrets.OPENAI_API_KEY,
        GITHUB_WEBHOOK_SECRET: secrets.GITHUB_WEBHOOK_SECRET,
        SLACK_BOT_TOKEN: secrets.SLACK_BOT_TOKEN,
        SLACK_SIGNING_SECRET: secrets.SLACK_SIGNING_SECRET,
        SLACK_CHANNEL: 'C-STEWARD-SECRETS',
        SLACK_API_URL: slack.apiUrl,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.server.address() as AddressInfo).port}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_HEADERS: `x-collector-key=${secrets.OTEL_EXPORTER_OTLP_HEADERS}`,
        OTEL_SERVICE_NAME: 'steward-secrets',
      };

      const output: string[] = [];
      const child = spawn(process.execPath, ['--import', 'tsx', path.join('scripts', 'demo.ts'), '--once'], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      cleanUps.push(async () => signalGroup(child.pid!, 'SIGKILL'));
      child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
      const code = await new Promise<number | null>((resolve) => {
        const deadline = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), DEMO_TIMEOUT_MS);
        child.once('exit', (exitCode) => {
          clearTimeout(deadline);
          resolve(exitCode);
        });
      });
      const text = output.join('');
      const tail = text.split('\n').slice(-40).join('\n');
      if (code !== 0) throw new Error(`the demo exited ${code}; its last lines:\n${tail}`);
      const incidentId = /^demo {2}\| outcome: pr_opened\./m.test(text) ? /webhook answered 202: .*"incidentId":"([^"]+)"/.exec(text)?.[1] : undefined;
      if (!incidentId) throw new Error(`the demo did not open a PR for an incident it named; its last lines:\n${tail}`);

      const hits: string[] = [...findMarkers(text, 'demo output (stdout and stderr of the demo, its worker and its API)', secrets)];

      const skipped: string[] = [];
      const data = scanTree(dataDir, secrets, skipped);
      hits.push(...data.hits);
      // A data folder the sandbox uid cannot get through keeps its sandboxes and snapshots under /var/lib/steward (README, Sandboxes).
      const relocated = [...new Set(text.match(/\/var\/lib\/steward\/[0-9a-f]{16}/g) ?? [])];
      for (const folder of relocated.filter((candidate) => fs.existsSync(candidate))) {
        cleanUps.push(async () => fs.rmSync(folder, { recursive: true, force: true }));
        const scanned = scanTree(folder, secrets, skipped);
        data.files += scanned.files;
        hits.push(...scanned.hits);
      }

      // The export, by the CLI a person would run, with the same environment (its Temporal key and database password included).
      const exported = await exec(process.execPath, ['bin/steward.cjs', 'export', incidentId, path.join(exportDir, 'incident')], { cwd: PROJECT_ROOT, env, maxBuffer: 64 * 1024 * 1024 });
      hits.push(...findMarkers(exported.stdout + exported.stderr, 'steward export output', secrets));
      const exportTree = scanTree(exportDir, secrets, skipped);
      hits.push(...exportTree.hits);
      expect(exportTree.files).toBeGreaterThan(5);

      const { rows } = await database.pool.query<{ number: number; title: string; body: string; diff: string }>('SELECT number, title, body, diff FROM local_pull_requests');
      expect(rows.length).toBeGreaterThanOrEqual(1);
      for (const row of rows) hits.push(...findMarkers(`${row.title}\n${row.body}\n${row.diff}`, `PR #${row.number}`, secrets));

      // Slack got the messages, with the bot token as their credential and nowhere in what they say.
      expect(slack.calls.length).toBeGreaterThan(0);
      expect(new Set(slack.calls.map((call) => call.authorization))).toEqual(new Set([`Bearer ${secrets.SLACK_BOT_TOKEN}`]));
      for (const [index, call] of slack.calls.entries()) hits.push(...findMarkers(`${call.url}\n${JSON.stringify(call.args)}`, `Slack call ${index + 1} (${call.url})`, secrets));

      // Traces: every span exported, decoded and as its raw bytes; the collector key only as its header.
      expect(exports.length).toBeGreaterThan(0);
      expect(exports.some((request) => request.text.includes('POST /webhooks/datadog'))).toBe(true);
      expect(new Set(exports.map((request) => request.headers['x-collector-key']))).toEqual(new Set([secrets.OTEL_EXPORTER_OTLP_HEADERS]));
      for (const [index, request] of exports.entries()) {
        hits.push(...findMarkers(request.text, `trace export ${index + 1} (decoded)`, secrets), ...findMarkers(request.raw.toString('latin1'), `trace export ${index + 1} (bytes)`, secrets));
      }
      console.log(
        `secrets scan: ${Object.keys(secrets).length} markers; ${text.length} characters of output, ${data.files} files under the data folder, ` +
          `${exportTree.files} exported files, ${rows.length} PRs, ${slack.calls.length} Slack calls, ${exports.length} trace exports; sandbox folders scanned: ${relocated.join(', ') || 'under the data folder'}; not read: ${skipped.length === 0 ? 'nothing' : skipped.join('; ')}`,
      );
      expect(hits).toEqual([]);
    },
    DEMO_TIMEOUT_MS + 120_000,
  );
});
