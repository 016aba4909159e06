import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ERROR_TYPES } from '../contracts';
import { ProcessSandbox } from './process-sandbox.adapter';
import type { SandboxSpec } from './sandbox.port';

const IDENTITY = { GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.com' };

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: { ...process.env, ...IDENTITY }, encoding: 'utf8' });
}

function noProcessMatches(marker: string): boolean {
  // pgrep exits 1 when nothing matches.
  return spawnSync('pgrep', ['-f', marker]).status === 1;
}

describe('ProcessSandbox', () => {
  let scratch: string;
  let source: string;
  let firstRevision: string;
  let secondRevision: string;
  let sandbox: ProcessSandbox;
  let root: string;
  let nextId = 0;
  const specFor = (overrides: Partial<SandboxSpec> = {}): SandboxSpec => ({
    sandboxId: `sandbox-${++nextId}`,
    repositoryLocation: source,
    revision: secondRevision,
    setupCommand: null,
    ...overrides,
  });

  beforeAll(() => {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-sandbox-test-'));
    source = path.join(scratch, 'source');
    fs.mkdirSync(source);
    git(source, 'init', '--quiet', '-b', 'main');
    fs.writeFileSync(path.join(source, '.gitignore'), 'node_modules/\n');
    fs.writeFileSync(path.join(source, 'app.js'), 'module.exports = 1;\n');
    fs.writeFileSync(path.join(source, 'obsolete.txt'), 'to be deleted\n');
    git(source, 'add', '-A');
    git(source, 'commit', '--quiet', '-m', 'first');
    firstRevision = git(source, 'rev-parse', 'HEAD').trim();
    fs.writeFileSync(path.join(source, 'app.js'), 'module.exports = 2;\n');
    git(source, 'commit', '--quiet', '-am', 'second');
    secondRevision = git(source, 'rev-parse', 'HEAD').trim();
    root = path.join(scratch, 'sandboxes');
    sandbox = new ProcessSandbox({ root });
  });

  afterAll(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('creates a workspace at the revision, then reuses it, reset, on the second open', async () => {
    const spec = specFor();
    const first = await sandbox.open(spec);
    expect(first).toEqual({ sandboxId: spec.sandboxId, revision: secondRevision, created: true });
    expect(git(path.join(root, spec.sandboxId), 'rev-parse', 'HEAD').trim()).toBe(secondRevision);

    await sandbox.writeFiles(spec.sandboxId, [{ path: 'app.js', content: 'edited' }]);
    const second = await sandbox.open(spec);
    expect(second).toEqual({ sandboxId: spec.sandboxId, revision: secondRevision, created: false });
    expect(await sandbox.readFile(spec.sandboxId, 'app.js')).toBe('module.exports = 2;\n');
  });

  it('rebuilds when asked for another revision under the same id', async () => {
    const spec = specFor();
    await sandbox.open(spec);
    const reopened = await sandbox.open({ ...spec, revision: firstRevision });
    expect(reopened).toEqual({ sandboxId: spec.sandboxId, revision: firstRevision, created: true });
    expect(await sandbox.readFile(spec.sandboxId, 'app.js')).toBe('module.exports = 1;\n');
  });

  it('resolves a branch name to its commit', async () => {
    expect((await sandbox.open(specFor({ revision: 'main' }))).revision).toBe(secondRevision);
  });

  it('runs the setup command once, and does not reuse a workspace whose setup failed', async () => {
    const spec = specFor({ setupCommand: 'mkdir -p node_modules && echo ran >> node_modules/setup.log' });
    await sandbox.open(spec);
    await sandbox.open(spec);
    expect(await sandbox.readFile(spec.sandboxId, 'node_modules/setup.log')).toBe('ran\n');

    const failing = specFor({ setupCommand: 'echo broken install; exit 7' });
    await expect(sandbox.open(failing)).rejects.toMatchObject({ type: ERROR_TYPES.sandboxUnavailable, message: expect.stringContaining('broken install') });
    await expect(sandbox.exec(failing.sandboxId, 'true', { timeoutMs: 5_000 })).rejects.toMatchObject({ type: ERROR_TYPES.sandboxUnavailable });
    await expect(sandbox.open(failing)).rejects.toMatchObject({ type: ERROR_TYPES.sandboxUnavailable });
  });

  it('fails with RevisionNotFound for an unknown revision and leaves no workspace behind', async () => {
    const spec = specFor({ revision: 'f'.repeat(40) });
    await expect(sandbox.open(spec)).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound, nonRetryable: true });
    expect(fs.existsSync(path.join(root, spec.sandboxId))).toBe(false);
    expect(fs.existsSync(path.join(root, '.building', spec.sandboxId))).toBe(false);
  });

  it('rebuilds over the leftovers of a build that crashed', async () => {
    const spec = specFor();
    // A crash mid-clone leaves a scratch clone; a crash mid-setup leaves a workspace without metadata.
    fs.mkdirSync(path.join(root, '.building', spec.sandboxId, 'clone-crashed'), { recursive: true });
    fs.writeFileSync(path.join(root, '.building', spec.sandboxId, 'clone-crashed', 'half'), '');
    fs.mkdirSync(path.join(root, spec.sandboxId), { recursive: true });
    fs.writeFileSync(path.join(root, spec.sandboxId, 'half-installed'), '');

    const handle = await sandbox.open(spec);
    expect(handle.created).toBe(true);
    expect(fs.existsSync(path.join(root, spec.sandboxId, 'half-installed'))).toBe(false);
    expect(fs.existsSync(path.join(root, '.building', spec.sandboxId))).toBe(false);
    expect(git(path.join(root, spec.sandboxId), 'status', '--porcelain')).toBe('');
  });

  it('refuses sandbox ids that could leave the root', async () => {
    for (const sandboxId of ['..', '.', '../x', 'a/b', '.state', '']) {
      await expect(sandbox.open(specFor({ sandboxId }))).rejects.toThrow(/invalid sandbox id/);
    }
  });

  describe('exec', () => {
    const spec = specFor;
    let sandboxId: string;
    beforeAll(async () => {
      sandboxId = (await sandbox.open(spec())).sandboxId;
    });

    it('reports exit codes without rejecting, and interleaves stdout and stderr', async () => {
      const ok = await sandbox.exec(sandboxId, 'echo out; echo err >&2; cat app.js', { timeoutMs: 10_000 });
      expect(ok).toMatchObject({ exitCode: 0, signal: null, timedOut: false, outputTail: 'out\nerr\nmodule.exports = 2;\n' });
      const failed = await sandbox.exec(sandboxId, 'exit 3', { timeoutMs: 10_000 });
      expect(failed).toMatchObject({ command: 'exit 3', exitCode: 3, timedOut: false });
      expect(failed.durationMs).toBeGreaterThanOrEqual(0);
    });

    it('keeps the last 8 KiB of output and streams every chunk', async () => {
      const chunks: string[] = [];
      const result = await sandbox.exec(sandboxId, "head -c 100000 /dev/zero | tr '\\0' a; echo; echo END", {
        timeoutMs: 10_000,
        onOutput: (chunk) => chunks.push(chunk),
      });
      expect(Buffer.byteLength(result.outputTail)).toBe(8 * 1024);
      expect(result.outputTail.endsWith('a\nEND\n')).toBe(true);
      expect(chunks.join('').length).toBe(100_000 + '\nEND\n'.length);
    });

    it('kills the command and its children on timeout', async () => {
      const marker = `30.${process.pid}${Date.now() % 100_000}`;
      const result = await sandbox.exec(sandboxId, `sleep ${marker} & sleep ${marker}; wait`, { timeoutMs: 300 });
      expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
      expect(result.durationMs).toBeLessThan(5_000);
      expect(noProcessMatches(`sleep ${marker}`)).toBe(true);
    });

    it('kills background processes the command leaves behind when it exits', async () => {
      const marker = `31.${process.pid}${Date.now() % 100_000}`;
      const result = await sandbox.exec(sandboxId, `sleep ${marker} & echo started`, { timeoutMs: 10_000 });
      expect(result).toMatchObject({ exitCode: 0, timedOut: false, outputTail: 'started\n' });
      expect(result.durationMs).toBeLessThan(5_000);
      expect(noProcessMatches(`sleep ${marker}`)).toBe(true);
    });

    it('kills the command and its children when the signal aborts', async () => {
      const marker = `32.${process.pid}${Date.now() % 100_000}`;
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const result = await sandbox.exec(sandboxId, `sleep ${marker} & sleep ${marker}; wait`, { timeoutMs: 30_000, signal: controller.signal });
      expect(result).toMatchObject({ timedOut: false, exitCode: null, signal: 'SIGKILL' });
      expect(result.durationMs).toBeLessThan(5_000);
      expect(noProcessMatches(`sleep ${marker}`)).toBe(true);
      await expect(sandbox.exec(sandboxId, 'true', { timeoutMs: 1_000, signal: controller.signal })).rejects.toThrow();
    });

    it('rejects when the output callback throws', async () => {
      const failing = sandbox.exec(sandboxId, 'echo hi; sleep 30', {
        timeoutMs: 30_000,
        onOutput: () => {
          throw new Error('heartbeat failed');
        },
      });
      await expect(failing).rejects.toThrow('heartbeat failed');
    });

    it('runs with a scrubbed environment', async () => {
      process.env.STEWARD_FAKE_SECRET_TOKEN = 'do-not-leak';
      process.env.NODE_OPTIONS = '--max-old-space-size=100';
      try {
        const { outputTail } = await sandbox.exec(sandboxId, 'env', { timeoutMs: 10_000 });
        const names = outputTail
          .trim()
          .split('\n')
          .map((line) => line.split('=')[0]);
        expect(outputTail).not.toContain('do-not-leak');
        for (const name of names) expect(name).not.toMatch(/TOKEN|SECRET|KEY|DATABASE_URL|TEMPORAL_|NODE_OPTIONS/);
        const workspace = path.join(root, sandboxId);
        expect(outputTail).toContain(`HOME=${path.join(workspace, '.home')}\n`);
        expect(outputTail).toContain(`TMPDIR=${path.join(workspace, '.tmp')}\n`);
        expect(outputTail).toContain('CI=true\n');
      } finally {
        delete process.env.STEWARD_FAKE_SECRET_TOKEN;
        delete process.env.NODE_OPTIONS;
      }
    });
  });

  describe('files, diff and reset', () => {
    let sandboxId: string;
    let workspace: string;
    beforeEach(async () => {
      sandboxId = (await sandbox.open(specFor())).sandboxId;
      workspace = path.join(root, sandboxId);
    });

    it('writes and reads files inside the workspace, creating folders', async () => {
      await sandbox.writeFiles(sandboxId, [{ path: 'src/deep/new.js', content: 'new\n' }]);
      expect(await sandbox.readFile(sandboxId, 'src/deep/new.js')).toBe('new\n');
      expect(await sandbox.readFile(sandboxId, './src/../app.js')).toBe('module.exports = 2;\n');
    });

    it('refuses paths outside the workspace or inside .git', async () => {
      const outside = path.join(scratch, 'escape');
      await expect(sandbox.writeFiles(sandboxId, [{ path: '../escape', content: 'x' }])).rejects.toThrow(/outside the workspace/);
      await expect(sandbox.writeFiles(sandboxId, [{ path: '/etc/x', content: 'x' }])).rejects.toThrow(/relative path/);
      await expect(sandbox.writeFiles(sandboxId, [{ path: '.git/hooks/pre-commit', content: 'x' }])).rejects.toThrow(/inside \.git/);
      await expect(sandbox.writeFiles(sandboxId, [{ path: 'src/../../escape', content: 'x' }])).rejects.toThrow(/outside the workspace/);
      await expect(sandbox.readFile(sandboxId, '../source/app.js')).rejects.toThrow(/outside the workspace/);
      expect(fs.existsSync(outside)).toBe(false);
    });

    it('refuses to write through symbolic links that lead out', async () => {
      fs.symlinkSync(scratch, path.join(workspace, 'link-out'));
      fs.symlinkSync(path.join(scratch, 'missing-target'), path.join(workspace, 'dangling'));
      await expect(sandbox.writeFiles(sandboxId, [{ path: 'link-out/escape', content: 'x' }])).rejects.toThrow(/outside the workspace/);
      await expect(sandbox.writeFiles(sandboxId, [{ path: 'dangling', content: 'x' }])).rejects.toThrow(/symbolic link/);
      expect(fs.existsSync(path.join(scratch, 'escape'))).toBe(false);
      expect(fs.existsSync(path.join(scratch, 'missing-target'))).toBe(false);
    });

    it('writes nothing when one path of the batch is refused', async () => {
      await expect(
        sandbox.writeFiles(sandboxId, [
          { path: 'fine.txt', content: 'x' },
          { path: '../escape', content: 'x' },
        ]),
      ).rejects.toThrow();
      expect(fs.existsSync(path.join(workspace, 'fine.txt'))).toBe(false);
    });

    it('diffs edits, deletions and new files but not ignored ones, as a patch that applies to a clean checkout', async () => {
      await sandbox.writeFiles(sandboxId, [
        { path: 'app.js', content: 'module.exports = 3;\n' },
        { path: 'lib/added.js', content: 'exports.added = true;\n' },
        { path: 'node_modules/ignored.js', content: 'ignored\n' },
      ]);
      fs.rmSync(path.join(workspace, 'obsolete.txt'));
      fs.writeFileSync(path.join(workspace, 'blob.bin'), Buffer.from([0, 1, 2, 255, 0]));
      // Commands may commit or stage; the diff is still taken against the opened revision.
      git(workspace, 'add', 'lib/added.js');

      const diff = await sandbox.diff(sandboxId);
      expect(diff).toContain('b/app.js');
      expect(diff).toContain('b/lib/added.js');
      expect(diff).toContain('a/obsolete.txt');
      expect(diff).toContain('GIT binary patch');
      expect(diff).not.toContain('ignored');
      expect(diff).not.toContain('.home');
      expect(git(workspace, 'diff', '--cached', '--name-only')).toBe('lib/added.js\n');

      const clean = path.join(scratch, `clean-${sandboxId}`);
      git(scratch, 'clone', '--quiet', source, clean);
      git(clean, 'checkout', '--quiet', '--detach', secondRevision);
      execFileSync('git', ['apply', '--check', '-'], { cwd: clean, input: diff });
      execFileSync('git', ['apply', '-'], { cwd: clean, input: diff });
      expect(fs.readFileSync(path.join(clean, 'app.js'), 'utf8')).toBe('module.exports = 3;\n');
      expect(fs.readFileSync(path.join(clean, 'blob.bin'))).toEqual(Buffer.from([0, 1, 2, 255, 0]));
      expect(fs.existsSync(path.join(clean, 'obsolete.txt'))).toBe(false);
    });

    it('diffs against the opened revision even after a command commits', async () => {
      await sandbox.exec(sandboxId, 'echo changed > app.js && git -c user.name=x -c user.email=x@x commit -qam wip', { timeoutMs: 10_000 });
      expect(await sandbox.diff(sandboxId)).toContain('+changed');
    });

    it('resets edits and untracked files but keeps ignored ones', async () => {
      await sandbox.writeFiles(sandboxId, [
        { path: 'app.js', content: 'broken' },
        { path: 'untracked/file.js', content: 'x' },
        { path: 'node_modules/kept.js', content: 'kept' },
      ]);
      await sandbox.exec(sandboxId, 'git -c user.name=x -c user.email=x@x commit -qam wip', { timeoutMs: 10_000 });
      await sandbox.reset(sandboxId);
      expect(await sandbox.readFile(sandboxId, 'app.js')).toBe('module.exports = 2;\n');
      expect(fs.existsSync(path.join(workspace, 'untracked'))).toBe(false);
      expect(await sandbox.readFile(sandboxId, 'node_modules/kept.js')).toBe('kept');
      expect(await sandbox.diff(sandboxId)).toBe('');
    });

    it('destroys the workspace, and destroying twice is fine', async () => {
      await sandbox.destroy(sandboxId);
      await sandbox.destroy(sandboxId);
      expect(fs.existsSync(workspace)).toBe(false);
      await expect(sandbox.readFile(sandboxId, 'app.js')).rejects.toMatchObject({ type: ERROR_TYPES.sandboxUnavailable });
    });
  });
});
