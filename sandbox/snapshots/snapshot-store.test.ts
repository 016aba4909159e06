import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../../contracts';
import { createTestRepository } from './fixtures/git-repository';
import { processSetupRunner } from './process-setup-runner';
import { SnapshotStore, type StoredSnapshot } from './snapshot-store';
import type { SetupRunner, SnapshotSpec } from './snapshot-store.port';

/** Real git repositories, a real setup command and real mounts; nothing here is faked. */

const REPOSITORY_ROOT = path.join(__dirname, '..', '..');
const STORE_CLIENT = path.join(__dirname, 'fixtures', 'store-client.ts');

function gitIn(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();
}

function mountedAt(directory: string): boolean {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === directory);
}

/** What the process sandbox's diff shows: the workspace against the commit, untracked files included, through a scratch index. */
function changedFiles(view: string, commit: string): string[] {
  const index = path.join(os.tmpdir(), `steward-index-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const env = { ...process.env, GIT_INDEX_FILE: index };
  try {
    execFileSync('git', ['read-tree', commit], { cwd: view, env });
    execFileSync('git', ['add', '--all'], { cwd: view, env });
    return execFileSync('git', ['diff', '--cached', '--name-only', commit], { cwd: view, env, encoding: 'utf8' }).trim().split('\n').filter(Boolean).sort();
  } finally {
    fs.rmSync(index, { force: true });
  }
}

function runClient(request: { root: string; spec: SnapshotSpec; view: string | null }) {
  const child = spawn(process.execPath, ['--import', 'tsx', STORE_CLIENT, JSON.stringify(request)], { cwd: REPOSITORY_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, done };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

let scratchRoot: string;
beforeAll(() => {
  scratchRoot = fs.mkdtempSync(path.join(process.env.STEWARD_TEST_ROOT ?? os.tmpdir(), 'snapshots-'));
});
afterAll(() => {
  // Views a failed test left mounted would make the folder impossible to delete.
  const mounted = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mountPoint): mountPoint is string => mountPoint !== undefined && mountPoint.startsWith(scratchRoot));
  for (const mountPoint of mounted.reverse()) execFileSync('umount', ['--lazy', mountPoint]);
  fs.rmSync(scratchRoot, { recursive: true, force: true });
});

interface Fixture {
  dir: string;
  repository: string;
  root: string;
  store: SnapshotStore;
  spec: SnapshotSpec;
  initialCommit: string;
  /** Runs of the setup command so far, counted by the command itself. */
  setupRuns(): number;
  commit(files: Record<string, string | null>, message: string): string;
  /** The setup command of `spec`, but hanging after it started, until the flag is cleared. */
  hangSetup(hang: boolean): void;
  /** The setup's process group, once a hanging setup started. */
  hangingSetupPid(): number | null;
  runSetup: SetupRunner;
  setupCalls: { directory: string; mountPoint: string }[];
}

let fixtureCount = 0;
function fixture(options: { rootName?: string; setupSeconds?: number; setupCommand?: (f: { counter: string }) => string } = {}): Fixture {
  const dir = path.join(scratchRoot, `case-${(fixtureCount += 1)}`);
  const repository = path.join(dir, 'repository');
  const counter = path.join(dir, 'setup-runs');
  const hangFlag = path.join(dir, 'hang');
  const hangMarker = path.join(dir, 'hanging-pid');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(counter, '');

  // No .gitignore entry for node_modules on purpose: the snapshot must hide what the setup installs by itself.
  const { commit, initialCommit } = createTestRepository(repository, {
    'package.json': '{ "name": "shop", "version": "1.0.0" }\n',
    'package-lock.json': '{ "name": "shop", "lockfileVersion": 3, "packages": {} }\n',
    'src/index.js': "module.exports = require('left-pad');\n",
    'README.md': '# shop\n',
    '.gitignore': '*.log\n',
  });

  const setupCommand =
    options.setupCommand?.({ counter }) ??
    [
      'set -e',
      `echo run >> ${counter}`,
      `if [ -e ${hangFlag} ]; then echo $$ > ${hangMarker}; sleep 60; fi`,
      `sleep ${options.setupSeconds ?? 0}`,
      'mkdir -p node_modules/left-pad',
      "echo 'module.exports = (s) => s;' > node_modules/left-pad/index.js",
      'echo "installed in $PWD" > setup-info.txt',
      'echo "debug" > npm-debug.log',
    ].join('\n');
  const root = path.join(dir, options.rootName ?? 'store');
  const setupCalls: { directory: string; mountPoint: string }[] = [];
  const processRunner = processSetupRunner();
  const runSetup: SetupRunner = (input) => {
    setupCalls.push({ directory: input.directory, mountPoint: input.mountPoint });
    return processRunner(input);
  };
  return {
    dir,
    repository,
    root,
    store: new SnapshotStore({ root }),
    spec: { repositoryLocation: repository, revision: 'main', setupCommand },
    initialCommit,
    setupRuns: () => fs.readFileSync(counter, 'utf8').split('\n').filter(Boolean).length,
    commit,
    hangSetup: (hang) => (hang ? fs.writeFileSync(hangFlag, '') : fs.rmSync(hangFlag, { force: true })),
    hangingSetupPid: () => (fs.existsSync(hangMarker) && fs.readFileSync(hangMarker, 'utf8').trim() !== '' ? Number(fs.readFileSync(hangMarker, 'utf8')) : null),
    runSetup,
    setupCalls,
  };
}

describe('SnapshotStore', () => {
  describe('acquire', () => {
    it('hands the built snapshot, all but .git, to the owner it was given, and records it', async () => {
      const f = fixture();
      const owner = { uid: 65534, gid: 65534 };
      const store = new SnapshotStore({ root: path.join(f.dir, 'owned-store'), owner });
      const { snapshot } = await store.acquire(f.spec, f.runSetup);
      expect(snapshot.owner).toEqual(owner);
      const ownerOf = (relative: string) => {
        const { uid, gid } = fs.lstatSync(path.join(snapshot.directory, relative));
        return { uid, gid };
      };
      expect([ownerOf('.'), ownerOf('README.md'), ownerOf('node_modules/left-pad/index.js')]).toEqual([owner, owner, owner]);
      // .git stays the store's: commands get it read-only, and no user of theirs should own its hooks.
      expect(ownerOf('.git/HEAD')).toEqual({ uid: process.getuid!(), gid: process.getgid!() });
      await expect(new SnapshotStore({ root: path.join(f.dir, 'unowned-store') }).acquire(f.spec, f.runSetup).then((a) => a.snapshot.owner)).resolves.toBeUndefined();
    });

    it('builds on a miss, with the dependencies installed and a clean git worktree, and serves the same key after without running the setup again', async () => {
      const f = fixture();

      const first = await f.store.acquire(f.spec, f.runSetup);
      expect(first.hit).toBe(false);
      expect(first.buildMs).toBeGreaterThan(0);
      const { snapshot } = first;
      expect(snapshot.key).toMatch(/^[0-9a-f]{64}$/);
      expect(snapshot.commit).toBe(f.initialCommit);
      expect(snapshot.repositoryLocation).toBe(f.repository);
      expect(snapshot.lockfileHash).toMatch(/^[0-9a-f]{64}$/);
      expect(fs.readFileSync(path.join(snapshot.directory, 'node_modules', 'left-pad', 'index.js'), 'utf8')).toContain('module.exports');
      expect(gitIn(snapshot.directory, 'rev-parse', 'HEAD')).toBe(f.initialCommit);
      // Installed files are neither ignored by the repository nor visible to git: the snapshot excluded them.
      expect(gitIn(snapshot.directory, 'status', '--porcelain', '--untracked-files=all')).toBe('');
      expect((snapshot as StoredSnapshot).excludedPaths.sort()).toEqual(['node_modules/', 'setup-info.txt']);
      // The process backend sees the workspace where it was built.
      expect(f.setupCalls).toHaveLength(1);
      expect(f.setupCalls[0]!.mountPoint).toBe(f.setupCalls[0]!.directory);
      expect(snapshot.mountPoint).toBe(f.setupCalls[0]!.directory);

      const second = await f.store.acquire(f.spec, f.runSetup);
      const bySha = await f.store.acquire({ ...f.spec, revision: f.initialCommit }, f.runSetup);
      expect([second.hit, bySha.hit]).toEqual([true, true]);
      expect(second.snapshot.key).toBe(snapshot.key);
      expect(bySha.snapshot.key).toBe(snapshot.key);
      expect(f.setupRuns()).toBe(1);
      expect((await f.store.list()).map((s) => s.key)).toEqual([snapshot.key]);
    });

    it('keys by commit, lockfile and setup command: a lockfile change gives another lockfile hash, any commit another key', async () => {
      const f = fixture();
      const base = (await f.store.acquire(f.spec, f.runSetup)).snapshot;

      const codeChange = f.commit({ 'src/index.js': "module.exports = require('left-pad') + 1;\n" }, 'code only');
      const afterCode = (await f.store.acquire({ ...f.spec, revision: codeChange }, f.runSetup)).snapshot;
      expect(afterCode.key).not.toBe(base.key);
      expect(afterCode.lockfileHash).toBe(base.lockfileHash);

      const lockChange = f.commit({ 'package-lock.json': '{ "name": "shop", "lockfileVersion": 3, "packages": { "node_modules/left-pad": {} } }\n' }, 'lockfile');
      const afterLock = (await f.store.acquire({ ...f.spec, revision: lockChange }, f.runSetup)).snapshot;
      expect(afterLock.key).not.toBe(afterCode.key);
      expect(afterLock.lockfileHash).not.toBe(afterCode.lockfileHash);

      const otherSetup = await f.store.acquire({ ...f.spec, revision: lockChange, setupCommand: `${f.spec.setupCommand}\ntrue` }, f.runSetup);
      expect(otherSetup.hit).toBe(false);
      expect(otherSetup.snapshot.key).not.toBe(afterLock.key);
      expect(f.setupRuns()).toBe(4);
    });

    it('resolves a branch against the repository as it is now; refresh fetches and serves the new head, which latest() then returns', async () => {
      const f = fixture();
      const before = (await f.store.acquire(f.spec, f.runSetup)).snapshot;
      const newHead = f.commit({ 'README.md': '# shop, now with discounts\n' }, 'docs');

      // The mirror is fetched before a branch name is resolved in it: no stale snapshot of the old head.
      const current = await f.store.acquire(f.spec, f.runSetup);
      expect(current).toMatchObject({ hit: false, snapshot: { commit: newHead } });
      expect(current.snapshot.key).not.toBe(before.key);

      const refreshed = await f.store.refresh(f.spec, f.runSetup);
      expect(refreshed.snapshot.commit).toBe(newHead);
      expect(refreshed.snapshot.key).toBe(current.snapshot.key);
      expect((await f.store.refresh(f.spec, f.runSetup)).hit).toBe(true);
      expect((await f.store.latest(f.spec))?.key).toBe(refreshed.snapshot.key);
      expect((await f.store.latest({ ...f.spec, revision: 'release' }))).toBeNull();
    });

    it('resolves HEAD to the repository\'s current commit each time, keyed by that commit', async () => {
      const f = fixture();
      const headSpec = { ...f.spec, revision: 'HEAD' };
      const first = f.commit({ 'a.txt': 'a\n' }, 'first');
      const atFirst = (await f.store.acquire(headSpec, f.runSetup)).snapshot;
      expect(atFirst.commit).toBe(first);

      const second = f.commit({ 'b.txt': 'b\n' }, 'second');
      const atSecond = await f.store.acquire(headSpec, f.runSetup);
      expect(atSecond).toMatchObject({ hit: false, snapshot: { commit: second } });
      expect(gitIn(atSecond.snapshot.directory, 'rev-parse', 'HEAD')).toBe(second);
      expect(atSecond.snapshot.key).not.toBe(atFirst.key);
      // A branch checked out anew in the repository moves its HEAD too.
      gitIn(f.repository, 'checkout', '--quiet', '-b', 'release', first);
      expect((await f.store.acquire(headSpec, f.runSetup)).snapshot.key).toBe(atFirst.key);
    });

    it('needs no fetch for a full sha the mirror holds: it names the same commit whatever the repository does', async () => {
      const f = fixture();
      const built = (await f.store.acquire(f.spec, f.runSetup)).snapshot;
      // The repository is gone: a fetch would fail.
      fs.renameSync(f.repository, `${f.repository}-moved`);
      const bySha = await f.store.acquire({ ...f.spec, revision: f.initialCommit }, f.runSetup);
      expect(bySha).toMatchObject({ hit: true, snapshot: { key: built.key } });
      await expect(f.store.acquire(f.spec, f.runSetup)).rejects.toMatchObject({ type: ERROR_TYPES.sandboxUnavailable, message: expect.stringContaining('could not fetch') });
    });

    it('snapshots a plain checkout when there is no setup command', async () => {
      const f = fixture();
      const { snapshot, hit } = await f.store.acquire({ ...f.spec, setupCommand: null }, f.runSetup);
      expect(hit).toBe(false);
      expect(f.setupCalls).toEqual([]);
      expect((snapshot as StoredSnapshot).excludedPaths).toEqual([]);
      expect(fs.readFileSync(path.join(snapshot.directory, 'src', 'index.js'), 'utf8')).toBe("module.exports = require('left-pad');\n");
      expect(gitIn(snapshot.directory, 'status', '--porcelain')).toBe('');
    });

    it('refuses an unknown revision with a non-retryable error', async () => {
      const f = fixture();
      const failure = await f.store.acquire({ ...f.spec, revision: 'no-such-branch' }, f.runSetup).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: ERROR_TYPES.revisionNotFound, nonRetryable: true });
      const optionLike = await f.store.acquire({ ...f.spec, revision: '--output=/tmp/x' }, f.runSetup).catch((e: unknown) => e);
      expect(optionLike).toMatchObject({ type: ERROR_TYPES.revisionNotFound });
    });

    it('builds once for concurrent acquires of one key, within this process and from other processes', async () => {
      const f = fixture({ setupSeconds: 0.6 });
      const others = [runClient({ root: f.root, spec: f.spec, view: null }), runClient({ root: f.root, spec: f.spec, view: null })];
      const here = await Promise.all([1, 2, 3].map(() => f.store.acquire(f.spec, f.runSetup)));
      const there = await Promise.all(others.map(async ({ done }) => {
        const result = await done;
        expect(result.stderr).toBe('');
        return JSON.parse(result.stdout) as { hit: boolean; key: string };
      }));

      expect(f.setupRuns()).toBe(1);
      const hits = [...here.map((a) => a.hit), ...there.map((a) => a.hit)];
      expect(hits.filter((hit) => !hit)).toHaveLength(1);
      expect(new Set([...here.map((a) => a.snapshot.key), ...there.map((a) => a.key)]).size).toBe(1);
    });

    it('leaves no snapshot when the builder is killed mid-setup, and the next acquire builds despite the dead builder’s lock', async () => {
      const f = fixture();
      f.hangSetup(true);
      const builder = runClient({ root: f.root, spec: f.spec, view: null });
      await waitFor(() => f.hangingSetupPid() !== null, 'the setup to start in the other process');
      builder.child.kill('SIGKILL');
      process.kill(-f.hangingSetupPid()!, 'SIGKILL');
      await builder.done;

      expect(await f.store.list()).toEqual([]);
      expect(await f.store.latest(f.spec)).toBeNull();
      expect(fs.readdirSync(path.join(f.root, 'building'))).toHaveLength(1);
      expect(fs.readdirSync(path.join(f.root, 'locks')).filter((l) => l.startsWith('snapshot-'))).toHaveLength(1);

      f.hangSetup(false);
      const rebuilt = await f.store.acquire(f.spec, f.runSetup);
      expect(rebuilt.hit).toBe(false);
      expect(f.setupRuns()).toBe(2);
      expect(fs.readdirSync(path.join(f.root, 'building'))).toEqual([]);
      expect(fs.readdirSync(path.join(f.root, 'locks')).filter((l) => l.startsWith('snapshot-'))).toEqual([]);
    });

    it('has garbage collection sweep away what a killed builder left', async () => {
      const f = fixture();
      f.hangSetup(true);
      const builder = runClient({ root: f.root, spec: f.spec, view: null });
      await waitFor(() => f.hangingSetupPid() !== null, 'the setup to start in the other process');
      builder.child.kill('SIGKILL');
      process.kill(-f.hangingSetupPid()!, 'SIGKILL');
      await builder.done;
      expect(fs.readdirSync(path.join(f.root, 'building'))).toHaveLength(1);

      const report = await f.store.collectGarbage({ maxAgeMs: 0, maxBytes: 0 });

      expect(report.removed).toEqual([]);
      expect(fs.readdirSync(path.join(f.root, 'building'))).toEqual([]);
      expect(fs.readdirSync(path.join(f.root, 'locks')).filter((l) => l.startsWith('snapshot-'))).toEqual([]);
    });

    it('reports a failing setup with its output, keeps nothing of the build, and runs the setup again on the next acquire', async () => {
      const f = fixture({
        setupCommand: ({ counter }) => `echo run >> ${counter}; echo "npm ERR! 404 Not Found - GET https://registry.npmjs.org/left-pod"; exit 3`,
      });

      const failure = await f.store.acquire(f.spec, f.runSetup).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      const applicationFailure = failure as ApplicationFailure;
      expect(applicationFailure.type).toBe(ERROR_TYPES.snapshotSetupFailed);
      expect(applicationFailure.nonRetryable).toBe(false);
      expect(applicationFailure.message).toContain('exit 3');
      expect(applicationFailure.message).toContain('registry.npmjs.org/left-pod');
      expect(applicationFailure.details?.[0]).toMatchObject({ commit: f.initialCommit, setup: { exitCode: 3, outputTail: expect.stringContaining('404 Not Found') } });
      expect(await f.store.list()).toEqual([]);
      expect(fs.readdirSync(path.join(f.root, 'building'))).toEqual([]);

      await expect(f.store.acquire(f.spec, f.runSetup)).rejects.toMatchObject({ type: ERROR_TYPES.snapshotSetupFailed });
      expect(f.setupRuns()).toBe(2);
    });

    it('fails a setup that outlives its timeout, killing it', async () => {
      const f = fixture({ setupCommand: ({ counter }) => `echo run >> ${counter}; sleep 30` });
      const store = new SnapshotStore({ root: f.root, setupTimeoutMs: 300 });
      const started = Date.now();
      await expect(store.acquire(f.spec, f.runSetup)).rejects.toMatchObject({ type: ERROR_TYPES.snapshotSetupFailed, message: expect.stringContaining('timed out after 300 ms') });
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(await store.list()).toEqual([]);
    });

    it('puts tracked files the setup rewrote back to the commit, so that no view inherits the change', async () => {
      const f = fixture({ setupCommand: () => 'echo \'{ "rewritten": true }\' > package-lock.json && mkdir -p node_modules' });
      const { snapshot } = await f.store.acquire(f.spec, f.runSetup);
      expect((snapshot as StoredSnapshot).restoredPaths).toEqual(['package-lock.json']);
      expect(fs.readFileSync(path.join(snapshot.directory, 'package-lock.json'), 'utf8')).toContain('"lockfileVersion": 3');
      expect(gitIn(snapshot.directory, 'status', '--porcelain')).toBe('');
    });
  });

  describe('views', () => {
    it("keeps an overlay's writable layer where the caller asks, so a sandbox's disk limit counts what it writes", async () => {
      const f = fixture();
      const { snapshot } = await f.store.acquire(f.spec, f.runSetup);
      const layer = path.join(f.dir, 'sandbox-disk', 'layer');
      const view = await f.store.createView(snapshot, path.join(f.dir, 'sandbox-disk', 'workspace'), { layerDirectory: layer });
      expect(view.mode).toBe('overlayfs');
      fs.writeFileSync(path.join(view.directory, 'big.bin'), Buffer.alloc(64 * 1024));
      expect(fs.statSync(path.join(layer, 'upper', 'big.bin')).size).toBe(64 * 1024);
      expect(fs.existsSync(path.join(snapshot.directory, 'big.bin'))).toBe(false);

      await f.store.removeView(view.directory);
      expect(mountedAt(view.directory)).toBe(false);
      expect(fs.existsSync(layer)).toBe(false);
    });

    it('layers each view over the snapshot: writes stay in their view, and git shows only the view’s own changes', async () => {
      const f = fixture();
      const { snapshot } = await f.store.acquire(f.spec, f.runSetup);
      const a = await f.store.createView(snapshot, path.join(f.dir, 'view-a'));
      const b = await f.store.createView(snapshot, path.join(f.dir, 'view-b'));
      expect([a.mode, b.mode]).toEqual(['overlayfs', 'overlayfs']);
      expect(mountedAt(a.directory)).toBe(true);
      expect(a.readyMs).toBeGreaterThan(0);
      expect(a.readyMs).toBeLessThan(2_000);

      fs.writeFileSync(path.join(a.directory, 'src', 'index.js'), "module.exports = require('left-pad').trim();\n");
      fs.writeFileSync(path.join(a.directory, 'src', 'fix.js'), 'module.exports = 1;\n');
      fs.rmSync(path.join(a.directory, 'README.md'));
      fs.writeFileSync(path.join(a.directory, 'node_modules', 'left-pad', 'index.js'), 'patched in the view');
      gitIn(a.directory, 'status'); // git writes its index: that too must stay in the view

      expect(changedFiles(a.directory, snapshot.commit)).toEqual(['README.md', 'src/fix.js', 'src/index.js']);
      const status = execFileSync('git', ['status', '--porcelain'], { cwd: a.directory, encoding: 'utf8' });
      expect(status.split('\n').filter(Boolean).sort()).toEqual([' D README.md', ' M src/index.js', '?? src/fix.js']);
      expect(changedFiles(b.directory, snapshot.commit)).toEqual([]);
      for (const untouched of [snapshot.directory, b.directory]) {
        expect(fs.readFileSync(path.join(untouched, 'src', 'index.js'), 'utf8')).toBe("module.exports = require('left-pad');\n");
        expect(fs.existsSync(path.join(untouched, 'README.md'))).toBe(true);
        expect(fs.existsSync(path.join(untouched, 'src', 'fix.js'))).toBe(false);
        expect(fs.readFileSync(path.join(untouched, 'node_modules', 'left-pad', 'index.js'), 'utf8')).toContain('module.exports');
      }
      expect(gitIn(snapshot.directory, 'status', '--porcelain')).toBe('');

      await f.store.removeView(a.directory);
      await f.store.removeView(b.directory);
    });

    it('removeView unmounts and deletes the view and ends its lease, leaving the snapshot and other views alone', async () => {
      const f = fixture();
      const { snapshot } = await f.store.acquire(f.spec, f.runSetup);
      const a = await f.store.createView(snapshot, path.join(f.dir, 'view-a'));
      const b = await f.store.createView(snapshot, path.join(f.dir, 'view-b'));
      expect(fs.readdirSync(path.join(f.root, 'views'))).toHaveLength(2);

      await f.store.removeView(a.directory);

      expect(mountedAt(a.directory)).toBe(false);
      expect(fs.existsSync(a.directory)).toBe(false);
      expect(fs.readdirSync(path.join(f.root, 'views'))).toHaveLength(1);
      expect(mountedAt(b.directory)).toBe(true);
      expect(fs.existsSync(path.join(b.directory, 'node_modules', 'left-pad', 'index.js'))).toBe(true);
      expect(fs.existsSync(path.join(snapshot.directory, 'node_modules', 'left-pad', 'index.js'))).toBe(true);
      await f.store.removeView(b.directory);
      expect(fs.readdirSync(path.join(f.root, 'views'))).toEqual([]);
    });

    it('removes only its own views, and removing one twice does nothing', async () => {
      const f = fixture();
      const { snapshot } = await f.store.acquire(f.spec, f.runSetup);
      const view = await f.store.createView(snapshot, path.join(f.dir, 'view'));
      await f.store.removeView(view.directory);
      await f.store.removeView(view.directory);
      const notAView = path.join(f.dir, 'someone-elses');
      fs.mkdirSync(notAView);
      fs.writeFileSync(path.join(notAView, 'keep.txt'), 'mine');
      await expect(f.store.removeView(notAView)).rejects.toThrow('not a view');
      expect(fs.existsSync(path.join(notAView, 'keep.txt'))).toBe(true);
    });

    it('returns the existing view when asked again for the same folder (a retried activity), with its changes', async () => {
      const f = fixture();
      const { snapshot } = await f.store.acquire(f.spec, f.runSetup);
      const first = await f.store.createView(snapshot, path.join(f.dir, 'view'));
      fs.writeFileSync(path.join(first.directory, 'work-in-progress.txt'), 'kept');
      const again = await f.store.createView(snapshot, first.directory);
      expect(again.mode).toBe(first.mode);
      expect(fs.readFileSync(path.join(again.directory, 'work-in-progress.txt'), 'utf8')).toBe('kept');
      await f.store.removeView(first.directory);
    });

    it('falls back to reflinks, then to a plain copy, where an overlay cannot be mounted', async () => {
      // Overlay options cannot carry a comma in a layer's path, so this root gets no overlay views.
      const f = fixture({ rootName: 'store,without-overlay' });
      const { snapshot } = await f.store.acquire(f.spec, f.runSetup);
      const view = await f.store.createView(snapshot, path.join(f.dir, 'view'));
      expect(['reflink', 'copy']).toContain(view.mode);
      expect(mountedAt(view.directory)).toBe(false);
      expect(changedFiles(view.directory, snapshot.commit)).toEqual([]);
      fs.writeFileSync(path.join(view.directory, 'README.md'), 'changed');
      expect(changedFiles(view.directory, snapshot.commit)).toEqual(['README.md']);
      expect(fs.readFileSync(path.join(snapshot.directory, 'README.md'), 'utf8')).toBe('# shop\n');

      const copyOnly = new SnapshotStore({ root: f.root, viewModes: ['copy'] });
      expect((await copyOnly.createView(snapshot, path.join(f.dir, 'copied'))).mode).toBe('copy');
      const reflinkOnly = new SnapshotStore({ root: f.root, viewModes: ['reflink'] });
      const reflinked = await reflinkOnly.createView(snapshot, path.join(f.dir, 'reflinked')).then(
        (v) => v.mode,
        (error: Error) => error.message,
      );
      // ext4 (this CI) has no reflinks: the only mode allowed fails and says why, leaving no view behind.
      if (reflinked !== 'reflink') {
        expect(reflinked).toContain('reflink');
        expect(fs.existsSync(path.join(f.dir, 'reflinked'))).toBe(false);
      }
      await f.store.removeView(view.directory);
      await copyOnly.removeView(path.join(f.dir, 'copied'));
    });

    it('refuses a folder that holds something else', async () => {
      const f = fixture();
      const { snapshot } = await f.store.acquire(f.spec, f.runSetup);
      const occupied = path.join(f.dir, 'occupied');
      fs.mkdirSync(occupied);
      fs.writeFileSync(path.join(occupied, 'keep.txt'), 'mine');
      await expect(f.store.createView(snapshot, occupied)).rejects.toThrow('not empty');
      expect(fs.readFileSync(path.join(occupied, 'keep.txt'), 'utf8')).toBe('mine');
    });
  });

  describe('collectGarbage', () => {
    const HOUR = 3_600_000;

    it('removes snapshots unused for too long, even the newest, but never one a live view holds', async () => {
      const f = fixture();
      const old = (await f.store.acquire(f.spec, f.runSetup)).snapshot as StoredSnapshot;
      const newer = (await f.store.acquire({ ...f.spec, revision: f.commit({ 'a.txt': 'a' }, 'a') }, f.runSetup)).snapshot as StoredSnapshot;
      const view = await f.store.createView(old, path.join(f.dir, 'view'));

      const report = await f.store.collectGarbage({ maxAgeMs: HOUR, maxBytes: Number.MAX_SAFE_INTEGER, now: Date.now() + 2 * HOUR });

      expect(report.removed).toEqual([
        expect.objectContaining({ key: newer.key, commit: newer.commit, reason: 'unused-too-long', sizeBytes: newer.sizeBytes, detail: expect.stringContaining('2.0 h') }),
      ]);
      expect(newer.sizeBytes).toBeGreaterThan(0);
      expect(report.inUse).toEqual([old.key]);
      expect(report.totalBytesAfter).toBe(report.totalBytesBefore - newer.sizeBytes);
      expect((await f.store.list()).map((s) => s.key)).toEqual([old.key]);
      expect(fs.existsSync(newer.directory)).toBe(false);
      expect(fs.readFileSync(path.join(view.directory, 'README.md'), 'utf8')).toBe('# shop\n');
      await f.store.removeView(view.directory);
    });

    it('then removes the least recently used until under the disk budget, sparing live views and the newest of each repository', async () => {
      const f = fixture();
      const acquireAt = async (revision: string) => (await f.store.acquire({ ...f.spec, revision }, f.runSetup)).snapshot as StoredSnapshot;
      const held = await acquireAt(f.initialCommit);
      const recentlyUsed = await acquireAt(f.commit({ 'a.txt': 'a' }, 'a'));
      const leastRecentlyUsed = await acquireAt(f.commit({ 'b.txt': 'b' }, 'b'));
      const newest = await acquireAt(f.commit({ 'c.txt': 'c' }, 'c'));
      await new Promise((resolve) => setTimeout(resolve, 5));
      await acquireAt(recentlyUsed.commit); // a hit counts as use
      const view = await f.store.createView(held, path.join(f.dir, 'view'));
      const budget = held.sizeBytes + recentlyUsed.sizeBytes + newest.sizeBytes;

      const report = await f.store.collectGarbage({ maxAgeMs: HOUR, maxBytes: budget });
      expect(report.removed.map((r) => [r.key, r.reason])).toEqual([[leastRecentlyUsed.key, 'over-disk-budget']]);
      expect(report.overBudget).toBe(false);

      const squeezed = await f.store.collectGarbage({ maxAgeMs: HOUR, maxBytes: 0 });
      expect(squeezed.removed.map((r) => r.key)).toEqual([recentlyUsed.key]);
      expect(squeezed.overBudget).toBe(true);
      expect(squeezed.inUse).toEqual([held.key]);
      expect((await f.store.list()).map((s) => s.key).sort()).toEqual([held.key, newest.key].sort());

      await f.store.removeView(view.directory);
      const released = await f.store.collectGarbage({ maxAgeMs: HOUR, maxBytes: 0 });
      expect(released.removed.map((r) => r.key)).toEqual([held.key]);
      expect((await f.store.list()).map((s) => s.key)).toEqual([newest.key]);
    });

    it('ignores the lease of a dead process, unmounting the overlay it left behind', async () => {
      const f = fixture();
      const orphan = path.join(f.dir, 'orphaned-view');
      const client = await runClient({ root: f.root, spec: f.spec, view: orphan }).done;
      expect(client.stderr).toBe('');
      expect(JSON.parse(client.stdout)).toMatchObject({ hit: false, view: { mode: 'overlayfs' } });
      expect(mountedAt(orphan)).toBe(true);
      const { snapshot } = await f.store.acquire(f.spec, f.runSetup);

      const report = await f.store.collectGarbage({ maxAgeMs: HOUR, maxBytes: Number.MAX_SAFE_INTEGER, now: Date.now() + 2 * HOUR });

      expect(report.removed.map((r) => r.key)).toEqual([snapshot.key]);
      expect(report.inUse).toEqual([]);
      expect(mountedAt(orphan)).toBe(false);
      expect(fs.existsSync(snapshot.directory)).toBe(false);
      expect(fs.readdirSync(path.join(f.root, 'views'))).toEqual([]);
      await expect(f.store.createView(snapshot, path.join(f.dir, 'too-late'))).rejects.toMatchObject({ type: ERROR_TYPES.sandboxUnavailable });
    });
  });
});
