import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../config/config';

/**
 * The deploy demo's "production": the checkout-service running as a plain node process from a
 * checkout of its own of the demo repository (the code host's repository is not a deploy target),
 * at the deployed revision, its error logs sent through OpenTelemetry to Steward's POST /v1/logs.
 * The OpenTelemetry wiring is Steward's (infra/demo-otel-preload.cjs, loaded with `node -r`), so
 * the service's repository and the suite the sandbox runs stay free of it.
 */

export const OTEL_PRELOAD_PATH = path.join(PROJECT_ROOT, 'infra', 'demo-otel-preload.cjs');
const STEWARD_NODE_MODULES = path.join(PROJECT_ROOT, 'node_modules');

export interface ProductionService {
  url: string;
  revision: string;
  pid: number;
  /** Stops the process with SIGTERM (its last log records are sent first) and waits for it to exit. */
  stop(): Promise<void>;
}

export interface ProductionOptions {
  /** The code host's repository, which the production checkout is cloned from and fetches deploys from. */
  repositoryPath: string;
  /** Where the production checkout lives. */
  checkoutPath: string;
  service: string;
  /** Steward's OTLP logs endpoint and the bearer token it takes. */
  otlpLogsUrl: string;
  token: string;
  /** The service's stdout and stderr, line by line. */
  log?: (line: string) => void;
}

function git(cwd: string, args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

/** Moves the production checkout to the revision, cloning it first if it is missing: what a deploy does to the host. */
export function checkoutRevision(options: Pick<ProductionOptions, 'repositoryPath' | 'checkoutPath'>, revision: string): void {
  if (!fs.existsSync(path.join(options.checkoutPath, '.git'))) {
    fs.mkdirSync(path.dirname(options.checkoutPath), { recursive: true });
    execFileSync('git', ['clone', '--quiet', '--no-checkout', options.repositoryPath, options.checkoutPath]);
  }
  git(options.checkoutPath, ['fetch', '--quiet', 'origin', '+refs/heads/*:refs/remotes/origin/*']);
  git(options.checkoutPath, ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--force', '--detach', revision]);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Deploys the revision to the production checkout and starts the service there; resolves once it listens. */
export async function startProductionService(options: ProductionOptions, revision: string): Promise<ProductionService> {
  checkoutRevision(options, revision);
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', OTEL_PRELOAD_PATH, 'src/server.js'], {
    cwd: options.checkoutPath,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      NODE_ENV: 'production',
      NODE_PATH: STEWARD_NODE_MODULES,
      OTEL_SERVICE_NAME: options.service,
      OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: options.otlpLogsUrl,
      OTEL_EXPORTER_OTLP_LOGS_HEADERS: `Authorization=Bearer%20${options.token}`,
      STEWARD_DEMO_REVISION: revision,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  forwardLines(child, options.log ?? (() => undefined));
  await waitUntilListening(port, exited);
  return {
    url: `http://127.0.0.1:${port}`,
    revision,
    pid: child.pid!,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 5_000)))]);
      clearTimeout(timer);
      if (!stopped) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

function forwardLines(child: ChildProcess, log: (line: string) => void): void {
  for (const stream of [child.stdout, child.stderr]) {
    let pending = '';
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) log(line);
    });
  }
}

async function waitUntilListening(port: number, exited: Promise<number | null>): Promise<void> {
  const deadline = Date.now() + 15_000;
  let gone: number | null | undefined;
  void exited.then((code) => (gone = code));
  while (Date.now() < deadline) {
    if (gone !== undefined) throw new Error(`the checkout-service exited (code ${gone}) before it listened on port ${port}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the checkout-service did not listen on port ${port} within 15 s`);
}
