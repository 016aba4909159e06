import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { Pool } from 'pg';
import { parse } from 'yaml';
import { getLocalPullRequest } from '../../adapters/local-git-code-host.adapter';
import { TEMPORAL_DEFAULTS } from '../../config/temporal.config';
import { incidentStateQuery } from '../../contracts';
import { findStewardLinks } from '../../domain/monitor-annotation';
import { demoAlertPayload } from '../../infra/demo-fixtures';
import { stewardDataConverter } from '../../workers/temporal-data-converter';
import { ensureDockerTier, reportUnavailable } from '../support/docker-engine';
import { freePort } from '../support/ports';

/**
 * The docker test tier: the compose deployment (docker-compose.temporal.yml) really running, from
 * a Datadog webhook to a PR, on the images scripts/ensure-docker.sh builds from Debian's packages.
 * docker-compose.host-network.yml puts every service on the host's network at 127.0.0.1 (the only
 * network these machines route), on free ports; the sandbox hosts run each sandbox as a container
 * with --network none. On the embedded defaults: the local git code host and the demo's recorded
 * model transcript (replayed, not a live model). Temporal is the CLI's dev server in a container,
 * not Temporal's production server, which needs images no registry here serves.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const tier = ensureDockerTier('images');
const unavailable = reportUnavailable('compose stack (docker tier)', tier);
// Skipped, the suite's name says why, beside the line printed above.
const describeIfDocker = (name: string, suite: () => void): void => (unavailable === null ? describe(name, suite) : describe.skip(`${name} (not run: ${unavailable})`, suite));
const images = tier.available ? tier.images : {};

const WEBHOOK_TOKEN = `docker-tier-token-${process.pid}-0123456789abcdef`;
const STACK_SERVICES = ['postgres', 'temporal', 'steward', 'steward-sandbox-host'];

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}

describeIfDocker('the compose stack, webhook to PR (docker tier)', () => {
  const project = `steward-docker-tier-${process.pid}`;
  let env: NodeJS.ProcessEnv;
  let dataDir: string;
  let apiUrl: string;
  let pool: Pool;
  let connection: Connection;
  let client: Client;
  const figures: string[] = [`images: ${tier.available ? tier.seconds : 0} s (scripts/ensure-docker.sh --images)`];

  let files = ['-f', 'docker-compose.temporal.yml', '-f', 'docker-compose.host-network.yml'];
  const compose = (args: string[], options: { timeoutMs?: number } = {}): Promise<string> => {
    const [command, ...prefix] = images.STEWARD_COMPOSE!.split(' ');
    const argv = [...prefix, '-p', project, ...files, ...args];
    return new Promise((resolve, reject) => {
      const child = spawn(command!, argv, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(output);
        else reject(new Error(`${images.STEWARD_COMPOSE} ${args.join(' ')} exited ${code}:\n${output.slice(-6_000)}`));
      });
    });
  };
  const logsOf = (service: string): Promise<string> => compose(['logs', '--no-color', service]).catch((error: Error) => error.message);

  beforeAll(async () => {
    const startedAt = Date.now();
    // The engine binds sandbox workspaces from this folder by their host path, and the sandbox uid
    // must get through every folder on the way.
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-docker-tier-'));
    fs.chmodSync(dataDir, 0o711);
    const ports = { postgres: await freePort(), temporal: await freePort(), ui: await freePort(), http: await freePort(), metrics: await freePort(), api: await freePort() };
    env = {
      ...process.env,
      STEWARD_WEBHOOK_TOKEN: WEBHOOK_TOKEN,
      STEWARD_IMAGE: images.STEWARD_IMAGE,
      STEWARD_TEMPORAL_IMAGE: images.STEWARD_TEMPORAL_IMAGE,
      STEWARD_POSTGRES_IMAGE: images.STEWARD_POSTGRES_IMAGE,
      STEWARD_TEST_DATA_DIR: dataDir,
      STEWARD_TEST_POSTGRES_PORT: String(ports.postgres),
      STEWARD_TEST_TEMPORAL_PORT: String(ports.temporal),
      STEWARD_TEST_TEMPORAL_UI_PORT: String(ports.ui),
      STEWARD_TEST_TEMPORAL_HTTP_PORT: String(ports.http),
      STEWARD_TEST_TEMPORAL_METRICS_PORT: String(ports.metrics),
      STEWARD_TEST_API_PORT: String(ports.api),
    };
    apiUrl = `http://127.0.0.1:${ports.api}`;
    // The deployment file publishes ports, which an override cannot take away in docker-compose 1.x
    // (Debian bookworm's), and its docker-py refuses ports beside host networking (Compose v2
    // ignores them). So the two files are merged by compose itself, and the published ports of the
    // host-networked services dropped from what it merged: they mean nothing on the host's network.
    const merged = parse(await compose(['config'])) as { services: Record<string, { network_mode?: string; ports?: unknown }> };
    for (const service of Object.values(merged.services)) if (service.network_mode === 'host') delete service.ports;
    const resolvedFile = path.join(dataDir, 'compose.resolved.yml');
    // As JSON (which is YAML): a plain `no` written back would read as false to docker-compose's YAML 1.1.
    fs.writeFileSync(resolvedFile, JSON.stringify(merged, null, 2));
    files = ['-f', resolvedFile, '--project-directory', ROOT];    // compose waits for each dependency's health check (Postgres, then Temporal) before starting the next.
    await compose(['up', '-d', '--no-build', ...STACK_SERVICES], { timeoutMs: 300_000 });
    const deadline = Date.now() + 240_000;
    for (;;) {
      const healthy = await fetch(`${apiUrl}/healthz`).then(
        (response) => response.ok,
        () => false,
      );
      if (healthy) break;
      if (Date.now() > deadline) throw new Error(`the steward service never became healthy:\n${(await logsOf('steward')).slice(-6_000)}`);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    figures.push(`stack up to a healthy API: ${seconds(startedAt)}`);
    pool = new Pool({ connectionString: `postgres://steward:steward@127.0.0.1:${ports.postgres}/steward`, max: 4 });
    connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
    client = new Client({ connection, namespace: 'default', dataConverter: stewardDataConverter(pool, TEMPORAL_DEFAULTS.payloadOffloadBytes) });
  }, 600_000);

  afterAll(async () => {
    console.log(`compose stack (docker tier) timings:\n  ${figures.join('\n  ')}`);
    await connection?.close().catch(() => undefined);
    await pool?.end().catch(() => undefined);
    if (env) {
      await compose(['down', '--volumes', '--remove-orphans', '--timeout', '5'], { timeoutMs: 120_000 }).catch((error: Error) => console.log(error.message));
      // Sandbox containers are the engine's, not the project's: remove any a failure left behind.
      const left = execFileSync('docker', ['ps', '--all', '--quiet', '--filter', `label=steward.sandbox-root=${path.join(dataDir, 'sandboxes')}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
      if (left.length > 0) execFileSync('docker', ['rm', '--force', ...left]);
    }
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  }, 180_000);

  it('takes a Datadog alert posted to the API container to a verified PR, with its sandboxes as containers on the engine', async () => {
    const startedAt = Date.now();
    // The incident service made the demo repository in the shared data folder when it started.
    const repository = path.join(dataDir, 'repos', 'checkout-service');
    const revision = execFileSync('git', ['-c', `safe.directory=${repository}`, '-C', repository, 'rev-parse', 'main'], { encoding: 'utf8' }).trim();
    const payload = demoAlertPayload({ alertCycleKey: `docker-tier-${process.pid}`, deployedRevision: revision });

    const unauthenticated = await fetch(`${apiUrl}/webhooks/datadog`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer not-the-token-0123456789' }, body: JSON.stringify(payload) });
    expect(unauthenticated.status).toBe(401);

    const response = await fetch(`${apiUrl}/webhooks/datadog`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${WEBHOOK_TOKEN}` },
      body: JSON.stringify(payload),
    });
    expect(response.status).toBe(202);
    const accepted = (await response.json()) as { incidentId: string; runId: string };
    expect(accepted.incidentId).toMatch(/^incident-4401001-/);

    // The deployment follows an open PR until it is merged or closed (STEWARD_PR_FOLLOW_UP), so the
    // run is not over at the PR: it is followed by its state until it says the PR is open.
    const handle = client.workflow.getHandle(accepted.incidentId, accepted.runId);
    const deadline = Date.now() + 540_000;
    let state = await handle.query(incidentStateQuery);
    while (state.status !== 'pr_opened') {
      const running = (await handle.describe()).status.name === 'RUNNING';
      if (!running || Date.now() > deadline) {
        const outcome = running ? 'still running after 9 minutes' : JSON.stringify(await handle.result().catch((error: Error) => error.message));
        throw new Error(
          `no PR: the incident is at ${state.status} (${outcome})\n--- steward ---\n${(await logsOf('steward')).slice(-5_000)}\n--- sandbox host ---\n${(await logsOf('steward-sandbox-host')).slice(-5_000)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      state = await handle.query(incidentStateQuery);
    }
    figures.push(`webhook to PR: ${seconds(startedAt)}`);
    const outcome = { incidentId: state.incidentId, status: state.status, prUrl: state.pullRequest?.url };
    expect(outcome).toMatchObject({ incidentId: accepted.incidentId, status: 'pr_opened', prUrl: expect.stringMatching(/^local-git:\/\//) });

    // The PR on the local code host, as the reviewer sees it: the fix, and its evidence.
    const prNumber = Number(/\/pulls\/(\d+)$/.exec(outcome.prUrl!)?.[1]);
    const pr = await getLocalPullRequest(pool, prNumber);
    expect(pr).toMatchObject({ url: outcome.prUrl, incidentId: accepted.incidentId, repository, baseRevision: revision, branch: state.pullRequest!.branch });
    expect(pr!.diff).toContain('+++ b/src/pricing.js');
    expect(pr!.body).toContain('**Before the fix:**');
    expect(pr!.body).toContain('**After the fix:**');
    expect(state.reproduction!.before.outputTail).toContain('percent');
    const branchHead = execFileSync('git', ['-c', `safe.directory=${repository}`, '-C', repository, 'rev-parse', '--verify', `refs/heads/${pr!.branch}`], { encoding: 'utf8' }).trim();
    expect(branchHead).toBe(pr!.headRevision);
    const monitor = await pool.query<{ message: string }>('SELECT message FROM monitors WHERE id = $1', ['4401001']);
    expect(findStewardLinks(monitor.rows[0]!.message)).toEqual([{ incidentId: accepted.incidentId, prUrl: outcome.prUrl, signature: state.signature }]);

    // The sandboxes were the sandbox host's, containers from Steward's image, opened at the deployed revision.
    const hostLogs = await logsOf('steward-sandbox-host');
    expect(hostLogs).toContain(`sandbox: Docker, a container per sandbox from ${images.STEWARD_IMAGE}`);
    expect(fs.readFileSync(path.join(dataDir, 'sandbox.log'), 'utf8')).toMatch(new RegExp(`sandbox \\S+: ready at ${revision}`));
  }, 600_000);
});
