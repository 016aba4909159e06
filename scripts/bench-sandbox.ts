import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, PROJECT_ROOT } from '../config/config';
import type { SandboxPort } from '../sandbox/sandbox.port';
import { buildSandboxBackend } from '../workers/sandbox-backend';

/**
 * Sandbox start-up and overhead, measured on a real repository with hundreds of packages: by
 * default Steward's own, at HEAD, whose lockfile holds some 700 npm packages. Prints:
 * - a cold start (clone and `npm install` of the locked versions) against starts from a snapshot view;
 * - a test command's time in the sandbox against the same command run bare;
 * - the peak memory of the command's process tree in the sandbox against bare.
 * A script, not a test: the figures depend on the machine; run it with `npm run bench:sandbox`.
 */

const { values: options } = parseArgs({
  options: {
    repo: { type: 'string', default: PROJECT_ROOT },
    ref: { type: 'string', default: 'HEAD' },
    setup: { type: 'string', default: 'npm install --ignore-scripts --no-audit --no-fund --loglevel=error' },
    // Steward's domain tests, with jest's own config but none of the services its global setup starts.
    test: {
      type: 'string',
      default: `npx jest --ci --config '{"testEnvironment":"node","transform":{"^.+\\\\.ts$":["@swc/jest",{"jsc":{"target":"es2022"}}]},"testMatch":["<rootDir>/domain/**/*.test.ts"]}'`,
    },
    'snapshot-starts': { type: 'string', default: '5' },
    'test-runs': { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
  },
});

const say = (line: string): void => console.log(`bench | ${line}`);
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const mib = (bytes: number): string => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;

/** Resident memory of every process below this one, summed; sampled while a command runs. */
function descendantsRssBytes(): number {
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(entry);
      const parent = Number(fields[1]);
      children.set(parent, [...(children.get(parent) ?? []), pid]);
      rss.set(pid, Number(fields[21]) * 4096);
    } catch {
      // The process ended while being read.
    }
  }
  let total = 0;
  const pending = [...(children.get(process.pid) ?? [])];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    total += rss.get(pid) ?? 0;
    pending.push(...(children.get(pid) ?? []));
  }
  return total;
}

async function withPeakMemory<T>(run: () => Promise<T>): Promise<{ result: T; peakBytes: number }> {
  let peakBytes = 0;
  const sampler = setInterval(() => (peakBytes = Math.max(peakBytes, descendantsRssBytes())), 25);
  try {
    const result = await run();
    return { result, peakBytes };
  } finally {
    clearInterval(sampler);
  }
}

function runBare(directory: string, command: string): Promise<{ exitCode: number | null; durationMs: number; output: string }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', `exec 2>&1\n${command}`], { cwd: directory, env: { PATH: process.env.PATH, HOME: os.tmpdir(), CI: 'true' }, stdio: ['ignore', 'pipe', 'ignore'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output = (output + chunk.toString('utf8')).slice(-8_192)));
    child.once('error', reject);
    child.once('exit', (exitCode) => resolve({ exitCode, durationMs: Date.now() - started, output }));
  });
}

async function timedOpen(sandbox: SandboxPort, sandboxId: string, repositoryLocation: string, revision: string, setupCommand: string) {
  const started = Date.now();
  const handle = await sandbox.open({ sandboxId, repositoryLocation, revision, setupCommand });
  return { handle, wallMs: Date.now() - started };
}

async function main(): Promise<void> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-bench-sandbox-'));
  fs.chmodSync(work, 0o711);
  const repository = path.join(work, 'repository');
  // A clone, so the benchmark reads a committed state and never the working tree being edited.
  execFileSync('git', ['clone', '--quiet', '--no-local', options.repo!, repository]);
  const revision = execFileSync('git', ['-C', repository, 'rev-parse', options.ref!], { encoding: 'utf8' }).trim();
  const lock = path.join(repository, 'package-lock.json');
  const packages = fs.existsSync(lock) ? Object.keys((JSON.parse(fs.readFileSync(lock, 'utf8')) as { packages?: Record<string, unknown> }).packages ?? {}).filter((p) => p.includes('node_modules/')).length : 0;
  say(`repository ${options.repo} at ${revision.slice(0, 12)}: ${packages} packages in its lockfile; setup "${options.setup}"`);
  say(`machine: ${os.cpus().length} cores, ${mib(os.totalmem())} memory, load ${os.loadavg()[0]!.toFixed(2)}`);

  const log = (line: string): void => fs.appendFileSync(path.join(work, 'sandbox.log'), `${line}\n`);
  // Built as the workers build them (STEWARD_SANDBOX_BACKEND=bubblewrap fails loudly where it cannot run), with the default limits.
  const backendFor = (name: string, snapshots: 'on' | 'off') =>
    buildSandboxBackend(loadConfig({ PATH: process.env.PATH, STEWARD_DATA_DIR: path.join(work, name), STEWARD_SANDBOX_BACKEND: 'bubblewrap', STEWARD_SANDBOX_SNAPSHOTS: snapshots }), { log });
  const cold = backendFor('cold', 'off').sandbox;
  const warmBackend = backendFor('warm', 'on');
  const warm = warmBackend.sandbox;
  const snapshots = warmBackend.snapshots!.store;
  const opened: { sandbox: SandboxPort; id: string }[] = [];
  try {
    say('cold start: clone and install in a fresh sandbox ...');
    const coldStart = await timedOpen(cold, 'bench-cold', repository, revision, options.setup!);
    opened.push({ sandbox: cold, id: 'bench-cold' });
    say(`cold start: ready in ${(coldStart.wallMs / 1000).toFixed(1)} s (kind ${coldStart.handle.start?.kind}; phases ${JSON.stringify(coldStart.handle.start?.phasesMs ?? {})})`);

    say('snapshot: first start builds the snapshot (clone and install once) ...');
    const first = await timedOpen(warm, 'bench-warm-0', repository, revision, options.setup!);
    opened.push({ sandbox: warm, id: 'bench-warm-0' });
    say(`snapshot build and first start: ${(first.wallMs / 1000).toFixed(1)} s (hit ${first.handle.start?.snapshotHit}; phases ${JSON.stringify(first.handle.start?.phasesMs ?? {})})`);
    const starts: number[] = [];
    for (let i = 1; i <= Number(options['snapshot-starts']); i += 1) {
      const start = await timedOpen(warm, `bench-warm-${i}`, repository, revision, options.setup!);
      opened.push({ sandbox: warm, id: `bench-warm-${i}` });
      if (start.handle.start?.snapshotHit !== true) throw new Error(`start ${i} was not served by the snapshot: ${JSON.stringify(start.handle.start)}`);
      starts.push(start.wallMs);
    }
    say(`snapshot starts: median ${median(starts)} ms, min ${Math.min(...starts)} ms, max ${Math.max(...starts)} ms over ${starts.length} (view ${first.handle.start?.viewMode})`);
    say(`=> cold start ${(coldStart.wallMs / 1000).toFixed(1)} s vs snapshot start ${median(starts)} ms: ${(coldStart.wallMs / median(starts)).toFixed(0)}x faster`);

    // The same installed tree, bare on the host: a copy of the snapshot's checkout.
    const bare = path.join(work, 'bare');
    const snapshotDirectory = (await snapshots.list())[0]!.directory;
    execFileSync('cp', ['-a', snapshotDirectory, bare]);
    const sandboxRuns: { ms: number; peak: number }[] = [];
    const bareRuns: { ms: number; peak: number }[] = [];
    for (let i = 0; i < Number(options['test-runs']); i += 1) {
      const inside = await withPeakMemory(() => warm.exec('bench-warm-1', options.test!, { timeoutMs: 15 * 60_000 }));
      if (inside.result.exitCode !== 0) throw new Error(`the test command failed in the sandbox (exit ${inside.result.exitCode}):\n${inside.result.outputTail}`);
      sandboxRuns.push({ ms: inside.result.durationMs, peak: inside.peakBytes });
      const outside = await withPeakMemory(() => runBare(bare, options.test!));
      if (outside.result.exitCode !== 0) throw new Error(`the test command failed bare (exit ${outside.result.exitCode}):\n${outside.result.output}`);
      bareRuns.push({ ms: outside.result.durationMs, peak: outside.peakBytes });
    }
    const sandboxMs = median(sandboxRuns.map((r) => r.ms));
    const bareMs = median(bareRuns.map((r) => r.ms));
    say(`test command: "${options.test}"`);
    say(`test command: ${sandboxMs} ms in the sandbox vs ${bareMs} ms bare (median of ${sandboxRuns.length}): ${(((sandboxMs - bareMs) / bareMs) * 100).toFixed(1)}% overhead`);
    const sandboxPeak = median(sandboxRuns.map((r) => r.peak));
    const barePeak = median(bareRuns.map((r) => r.peak));
    say(`peak memory of the command's process tree: ${mib(sandboxPeak)} in the sandbox vs ${mib(barePeak)} bare: ${mib(sandboxPeak - barePeak)} overhead (bwrap, setpriv and the wrappers)`);
  } finally {
    for (const { sandbox, id } of opened.reverse()) await sandbox.destroy(id).catch((error: Error) => say(`could not destroy ${id}: ${error.message}`));
    if (!options.keep) {
      for (const { directory } of await snapshots.list()) await fs.promises.rm(directory, { recursive: true, force: true }).catch(() => undefined);
      fs.rmSync(work, { recursive: true, force: true });
    } else say(`kept ${work}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
