import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../config/config';
import { freePort } from '../lib/free-port';
import { createTestDatabase } from '../test/support/database';

/**
 * The entry points the Helm chart runs, as processes: `npm run worker` with its health port (what
 * the probes ask), and the search-attribute registration of the incident workers' init container.
 */

// Steward's own settings from the outer environment must not leak into the processes under test.
const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(STEWARD_|SLACK_|TEMPORAL_|DATABASE_URL$)/.test(name)));

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let dataDir: string;
beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-worker-main-'));
});
afterAll(async () => {
  await database?.drop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

async function poll(url: string, until: (status: number) => boolean, timeoutMs: number): Promise<{ status: number; body: unknown } | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const answer = await fetch(url).then(
      async (response) => ({ status: response.status, body: await response.json() }),
      () => null,
    );
    if (answer && until(answer.status)) return answer;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return null;
}

describe('npm run worker with STEWARD_WORKER_HEALTH_PORT', () => {
  let child: ChildProcess | null = null;
  afterEach(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
  });

  it('answers GET /healthz 200 once its incident worker runs, and stops on SIGTERM', async () => {
    const port = await freePort();
    const taskQueue = `worker-main-${Date.now()}`;
    let output = '';
    child = spawn(process.execPath, ['--import', 'tsx', path.join('workers', 'worker.main.ts')], {
      cwd: PROJECT_ROOT,
      env: {
        ...inherited,
        TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
        DATABASE_URL: database.url,
        STEWARD_TASK_QUEUE: taskQueue,
        STEWARD_WORKER_ROLES: 'incident',
        STEWARD_WORKER_HEALTH_PORT: String(port),
        STEWARD_DATA_DIR: dataDir,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));

    const healthy = await poll(`http://127.0.0.1:${port}/healthz`, (status) => status === 200, 90_000);
    expect({ healthy, output: healthy ? '' : output }).toEqual({
      healthy: { status: 200, body: { status: 'ok', workers: expect.arrayContaining([{ name: taskQueue, state: 'RUNNING' }]), breakers: expect.any(Array) } },
      output: '',
    });
    expect(output).toContain(`health at http://127.0.0.1:${port}/healthz`);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});

describe('workers/search-attributes.main.ts', () => {
  it("registers Steward's search attributes on the configured Temporal, and says so", () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join('workers', 'search-attributes.main.ts')], {
      cwd: PROJECT_ROOT,
      env: { ...inherited, TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS, STEWARD_DATA_DIR: dataDir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    expect(run.stdout).toMatch(/steward-search-attributes: (registered .+|all registered already) in namespace default/);
  });

  it('stops naming TEMPORAL_ADDRESS when it is not set', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join('workers', 'search-attributes.main.ts')], {
      cwd: PROJECT_ROOT,
      env: { ...inherited, STEWARD_DATA_DIR: dataDir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('steward-search-attributes: TEMPORAL_ADDRESS is not set');
  });
});
