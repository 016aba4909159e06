import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureDemoRepository } from '../../infra/demo-fixtures';
import { bubblewrapAvailability } from '../../sandbox/bubblewrap/bubblewrap-sandbox.adapter';
import { buildCliContext } from '../../workers/cli-context';
import { parseCommandLine, runCli } from '../program';
import type { SandboxRunReport } from './sandbox-run';

/** `steward sandbox <args>` as the program reads it: the request, or what it said was wrong. */
async function parseSandboxRunArgs(args: string[]): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  const err: string[] = [];
  const parsed = await parseCommandLine(['sandbox', ...args], { out: () => undefined, err: (text) => err.push(text) }, () => 'cli:test');
  if (!parsed.ok) return { ok: false, error: err.join('\n') };
  return parsed.help ? { ok: false, error: 'help' } : { ok: true, value: parsed.planned.request };
}

describe('parseSandboxRunArgs', () => {
  it('takes the repository, revision, setup and the command after --', async () => {
    expect(await parseSandboxRunArgs(['run', '--repo', '/srv/app', '--ref', 'v1.4.2', '--setup', 'npm ci', '--json', '--', 'npm', 'test', '--', '--grep', 'coupon'])).toEqual({
      ok: true,
      value: { repo: '/srv/app', ref: 'v1.4.2', setup: 'npm ci', json: true, timeout: 600, command: 'npm test -- --grep coupon' },
    });
  });

  it.each([
    [['run', '--ref', 'main', '--', 'true'], '--repo <path or git URL> is required'],
    [['run', '--repo', '.', '--', 'true'], '--ref <revision> is required'],
    [['run', '--repo', '.', '--ref', 'main'], 'the command goes after --'],
    [['run', '--repo', '.', '--ref', 'main', '--timeout', '0', '--', 'true'], '--timeout is in seconds, at least 1'],
    [['run', '--repo', '.', '--ref', 'main', '--network', '--', 'true'], "unknown option '--network'"],
    [['run', '--repo', '.', '--ref', 'main', 'npm', '--', 'true'], "unexpected argument 'npm': the command goes after --"],
    [['exec', '--repo', '.'], "unknown command 'exec'"],
  ])('refuses %j: %s', async (args, message) => {
    const parsed = await parseSandboxRunArgs(args);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.error).toContain(message);
  });
});

describe('steward sandbox run', () => {
  let scratch: string;
  let repository: string;
  let revision: string;

  beforeAll(() => {
    scratch = fs.mkdtempSync(path.join(process.env.STEWARD_TEST_ROOT ?? os.tmpdir(), 'sandbox-cli-'));
    // The bubblewrap backend's unprivileged uid must reach the sandboxes under this folder.
    fs.chmodSync(scratch, 0o711);
    repository = path.join(scratch, 'checkout-service');
    revision = ensureDemoRepository(repository);
  });
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

  async function cli(args: string[], backend: string) {
    const out: string[] = [];
    const err: string[] = [];
    const written: string[] = [];
    const context = buildCliContext(
      { out: (text) => out.push(text), err: (text) => err.push(text), write: (chunk) => written.push(chunk) },
      { PATH: process.env.PATH, STEWARD_DATA_DIR: path.join(scratch, `data-${backend}`), STEWARD_SANDBOX_BACKEND: backend },
    );
    const code = await runCli(['sandbox', ...args], context);
    return { code, out: out.join('\n'), err: err.join('\n'), written: written.join('') };
  }

  it("prints the command's output as it comes and exits with its exit code", async () => {
    const result = await cli(['run', '--repo', repository, '--ref', revision, '--', 'sh', '-c', 'echo "pricing lives in $(ls src | tr "\\n" " ")"; exit 3'], 'process');
    expect(result.code).toBe(3);
    expect(result.written).toBe('pricing lives in coupons.js pricing.js server.js \n');
    // The sandbox is gone afterwards.
    expect(fs.readdirSync(path.join(scratch, 'data-process', 'sandboxes')).filter((entry) => entry.startsWith('cli-'))).toEqual([]);
  });

  // What follows -- is an argument vector: the sandbox must run exactly what a shell runs for it.
  it.each([
    [['sh', '-c', 'echo "a  b"; echo second']],
    [['node', '-e', "const http = require('http'); console.log(typeof http.createServer, process.argv.length, 'a  b')"]],
    [['printf', '%s|', "it's", '$HOME', '*', '', 'a\nb']],
  ])('runs the argument vector after -- as it is: %j', async (vector) => {
    const direct = spawnSync(vector[0]!, vector.slice(1), { cwd: repository, encoding: 'utf8' });
    expect(direct.status).toBe(0);

    const result = await cli(['run', '--repo', repository, '--ref', revision, '--', ...vector], 'process');

    expect(result.err).toBe('');
    expect(result.written).toBe(direct.stdout);
    expect(result.code).toBe(0);
  });

  it('answers --json with the exit code, output tail and timings, and runs the real test suite', async () => {
    const result = await cli(['run', '--repo', repository, '--ref', 'main', '--json', '--', 'node', '--test', 'test/'], 'process');
    expect(result.code).toBe(0);
    const report = JSON.parse(result.out) as SandboxRunReport;
    expect(report).toMatchObject({ backend: 'process', revision, exitCode: 0, timedOut: false, command: 'node --test test/' });
    expect(report.outputTail).toMatch(/# pass 11/);
    expect(report.timings.commandMs).toBeGreaterThan(0);
    expect(report.timings.sandboxReadyMs).toBeGreaterThan(0);
  });

  it('refuses a revision that does not exist, naming it', async () => {
    const result = await cli(['run', '--repo', repository, '--ref', 'no-such-branch', '--', 'true'], 'process');
    expect(result.code).toBe(1);
    expect(result.err).toContain('no-such-branch');
  });

  const bubblewrap = bubblewrapAvailability();
  (bubblewrap === true ? it : it.skip)('with bubblewrap: builds a snapshot once, then starts from it, and the command has no network', async () => {
    const setup = 'mkdir -p node_modules/left-pad && echo "module.exports = 1" > node_modules/left-pad/index.js';
    const run = (command: string) => cli(['run', '--repo', repository, '--ref', revision, '--setup', setup, '--json', '--', 'sh', '-c', command], 'bubblewrap');

    // The view is the sandbox's to write: at its top, in the installed tree and in the sources.
    const cold = JSON.parse((await run('node -e "require(\'./node_modules/left-pad\')" && touch top-level && rm top-level && echo 2 > node_modules/left-pad/index.js && echo "// x" >> src/pricing.js')).out) as SandboxRunReport;
    expect(cold).toMatchObject({ backend: 'bubblewrap', exitCode: 0, snapshotHit: false, start: { kind: 'snapshot' } });
    expect(cold.timings.snapshotBuildMs).toBeGreaterThan(0);

    const warm = JSON.parse((await run('node -e "require(\'node:net\').connect(443, \'1.1.1.1\').on(\'error\', (e) => { console.log(e.code); process.exit(7); })"')).out) as SandboxRunReport;
    expect(warm).toMatchObject({ exitCode: 7, snapshotHit: true, start: { kind: 'snapshot' } });
    expect(warm.outputTail).toMatch(/ENETUNREACH|EAI_AGAIN|ECONNREFUSED/);
    expect(warm.timings.snapshotBuildMs).toBeNull();
  });
  if (bubblewrap !== true) console.log(`steward sandbox run with bubblewrap not tested here: ${bubblewrap}`);

  it('prints its usage for help, and exits 2 on nothing to do', async () => {
    expect((await cli(['--help'], 'process')).out).toContain('steward sandbox run --repo');
    expect((await cli([], 'process')).code).toBe(2);
  });
});
