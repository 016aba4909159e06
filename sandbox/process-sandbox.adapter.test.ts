import { execFileSync } from 'node:child_process';
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

// What every backend must do is in the contract suite (sandbox.contract.ts, run for this backend by
// sandbox.contract.test.ts); these tests are about how the process backend does it.
describe('ProcessSandbox', () => {
  let scratch: string;
  let source: string;
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

  describe('exec', () => {
    const spec = specFor;
    let sandboxId: string;
    beforeAll(async () => {
      sandboxId = (await sandbox.open(spec())).sandboxId;
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
