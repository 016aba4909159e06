import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ERROR_TYPES } from '../contracts';
import type { SandboxPort, SandboxSpec } from './sandbox.port';

/**
 * What every SandboxPort backend must do, whatever its isolation: one suite run against each
 * (sandbox/sandbox.contract.test.ts). Backend-specific guarantees (isolation, limits) are tested
 * beside each backend. Commands only assume bash, coreutils and git in the sandbox.
 */

export interface SandboxContractOptions {
  /** true, or why the backend cannot run here (the suite is then skipped, saying so once). */
  available: boolean | string;
}

const IDENTITY = { GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.com' };

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: { ...process.env, ...IDENTITY }, encoding: 'utf8' });
}

function processesMatching(marker: string): string[] {
  // pgrep exits 1 when nothing matches.
  const result = spawnSync('pgrep', ['-af', marker], { encoding: 'utf8' });
  return result.stdout.split('\n').filter((line) => line.trim() !== '');
}

/** Processes can take a moment to be reaped after their namespace or container is torn down. */
async function noProcessesLeft(marker: string, withinMs = 3_000): Promise<string[]> {
  const deadline = Date.now() + withinMs;
  let left = processesMatching(marker);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    left = processesMatching(marker);
  }
  return left;
}

let markerSequence = 0;
function uniqueMarker(): number {
  // A sleep duration no other process on the machine uses: `sleep <marker>` is what pgrep looks for.
  return 7000 + ((process.pid * 100 + ++markerSequence) % 90_000) + Math.random();
}

export function describeSandboxContract(name: string, makeSandbox: (root: string) => SandboxPort, options: SandboxContractOptions): void {
  if (options.available !== true) {
    const reason = typeof options.available === 'string' ? options.available : 'not available here';
    console.log(`${name} sandbox contract: not run: ${reason}`);
    describe.skip(`${name} sandbox contract (not run: ${reason})`, () => {
      it('is skipped', () => undefined);
    });
    return;
  }

  describe(`${name} sandbox contract`, () => {
    let scratch: string;
    let source: string;
    let firstRevision: string;
    let secondRevision: string;
    let sandbox: SandboxPort;
    const opened = new Set<string>();
    let nextId = 0;
    const specFor = (overrides: Partial<SandboxSpec> = {}): SandboxSpec => {
      const spec = { sandboxId: `contract-${name}-${++nextId}`, repositoryLocation: source, revision: secondRevision, setupCommand: null, ...overrides };
      opened.add(spec.sandboxId);
      return spec;
    };

    beforeAll(() => {
      scratch = fs.mkdtempSync(path.join(os.tmpdir(), `steward-contract-${name}-`));
      // Isolating backends run as another uid, which must be able to reach the sandbox root.
      fs.chmodSync(scratch, 0o711);
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
      sandbox = makeSandbox(path.join(scratch, 'sandboxes'));
    });

    afterAll(async () => {
      for (const sandboxId of opened) await sandbox.destroy(sandboxId).catch(() => undefined);
      fs.rmSync(scratch, { recursive: true, force: true });
    });

    describe('open', () => {
      it('creates a workspace at the revision, then reuses it, reset, on the second open', async () => {
        const spec = specFor();
        const first = await sandbox.open(spec);
        expect(first).toMatchObject({ sandboxId: spec.sandboxId, revision: secondRevision, created: true });
        await sandbox.writeFiles(spec.sandboxId, [{ path: 'app.js', content: 'edited' }]);
        const second = await sandbox.open(spec);
        expect(second).toMatchObject({ sandboxId: spec.sandboxId, revision: secondRevision, created: false });
        expect(await sandbox.readFile(spec.sandboxId, 'app.js')).toBe('module.exports = 2;\n');
      });

      it('rebuilds when asked for another revision under the same id, and resolves branch names', async () => {
        const spec = specFor({ revision: 'main' });
        expect((await sandbox.open(spec)).revision).toBe(secondRevision);
        const reopened = await sandbox.open({ ...spec, revision: firstRevision });
        expect(reopened).toMatchObject({ revision: firstRevision, created: true });
        expect(await sandbox.readFile(spec.sandboxId, 'app.js')).toBe('module.exports = 1;\n');
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

      it('fails with RevisionNotFound for an unknown revision and leaves no usable sandbox', async () => {
        const spec = specFor({ revision: 'f'.repeat(40) });
        await expect(sandbox.open(spec)).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound, nonRetryable: true });
        await expect(sandbox.readFile(spec.sandboxId, 'app.js')).rejects.toMatchObject({ type: ERROR_TYPES.sandboxUnavailable });
      });

      it('refuses sandbox ids that could leave the root', async () => {
        for (const sandboxId of ['..', '.', '../x', 'a/b', '.state', '']) {
          await expect(sandbox.open({ ...specFor(), sandboxId })).rejects.toThrow(/invalid sandbox id/);
        }
      });
    });

    describe('exec', () => {
      let sandboxId: string;
      beforeAll(async () => {
        sandboxId = (await sandbox.open(specFor())).sandboxId;
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
        const marker = uniqueMarker();
        const result = await sandbox.exec(sandboxId, `sleep ${marker} & sleep ${marker}; wait`, { timeoutMs: 500 });
        expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
        expect(result.durationMs).toBeLessThan(5_000);
        expect(await noProcessesLeft(`sleep ${marker}`)).toEqual([]);
      });

      it('kills background processes the command leaves behind when it exits', async () => {
        const marker = uniqueMarker();
        const result = await sandbox.exec(sandboxId, `sleep ${marker} & echo started`, { timeoutMs: 10_000 });
        expect(result).toMatchObject({ exitCode: 0, timedOut: false, outputTail: 'started\n' });
        expect(result.durationMs).toBeLessThan(5_000);
        expect(await noProcessesLeft(`sleep ${marker}`)).toEqual([]);
      });

      it('kills the command and its children when the signal aborts', async () => {
        const marker = uniqueMarker();
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 500);
        const result = await sandbox.exec(sandboxId, `sleep ${marker} & sleep ${marker}; wait`, { timeoutMs: 30_000, signal: controller.signal });
        expect(result).toMatchObject({ timedOut: false, exitCode: null, signal: 'SIGKILL' });
        expect(result.durationMs).toBeLessThan(5_000);
        expect(await noProcessesLeft(`sleep ${marker}`)).toEqual([]);
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

      it('runs with a scrubbed environment, a writable HOME and TMPDIR, and CI set', async () => {
        process.env.STEWARD_FAKE_SECRET_TOKEN = 'do-not-leak';
        process.env.NODE_OPTIONS = '--max-old-space-size=100';
        try {
          const { outputTail } = await sandbox.exec(sandboxId, 'env; touch "$HOME/probe" "$TMPDIR/probe" && echo writable', { timeoutMs: 10_000 });
          const names = outputTail
            .trim()
            .split('\n')
            .map((line) => line.split('=')[0]);
          expect(outputTail).not.toContain('do-not-leak');
          for (const variable of names) expect(variable).not.toMatch(/TOKEN|SECRET|KEY|DATABASE_URL|TEMPORAL_|NODE_OPTIONS/);
          expect(outputTail).toContain('CI=true\n');
          expect(outputTail).toMatch(/^HOME=\/.+$/m);
          expect(outputTail).toContain('writable\n');
        } finally {
          delete process.env.STEWARD_FAKE_SECRET_TOKEN;
          delete process.env.NODE_OPTIONS;
        }
      });
    });

    describe('files, diff and reset', () => {
      let sandboxId: string;
      beforeEach(async () => {
        sandboxId = (await sandbox.open(specFor())).sandboxId;
      });

      it('writes and reads files inside the workspace, creating folders, and commands can change them', async () => {
        await sandbox.writeFiles(sandboxId, [{ path: 'src/deep/new.js', content: 'new\n' }]);
        expect(await sandbox.readFile(sandboxId, 'src/deep/new.js')).toBe('new\n');
        expect(await sandbox.readFile(sandboxId, './src/../app.js')).toBe('module.exports = 2;\n');
        const changed = await sandbox.exec(sandboxId, 'echo more >> src/deep/new.js && touch src/deep/sibling.js && echo ok', { timeoutMs: 10_000 });
        expect(changed).toMatchObject({ exitCode: 0, outputTail: 'ok\n' });
        expect(await sandbox.readFile(sandboxId, 'src/deep/new.js')).toBe('new\nmore\n');
      });

      it('sees in files what commands wrote', async () => {
        await sandbox.exec(sandboxId, 'mkdir -p out && printf "from the command" > out/result.txt', { timeoutMs: 10_000 });
        expect(await sandbox.readFile(sandboxId, 'out/result.txt')).toBe('from the command');
      });

      it('refuses paths outside the workspace or inside .git, and symbolic links that lead out', async () => {
        await expect(sandbox.writeFiles(sandboxId, [{ path: '../escape', content: 'x' }])).rejects.toThrow(/outside the workspace/);
        await expect(sandbox.writeFiles(sandboxId, [{ path: '/etc/x', content: 'x' }])).rejects.toThrow(/relative path/);
        await expect(sandbox.writeFiles(sandboxId, [{ path: '.git/hooks/pre-commit', content: 'x' }])).rejects.toThrow(/inside \.git/);
        await expect(sandbox.writeFiles(sandboxId, [{ path: 'src/../../escape', content: 'x' }])).rejects.toThrow(/outside the workspace/);
        await expect(sandbox.readFile(sandboxId, '../../source/app.js')).rejects.toThrow(/outside the workspace/);
        await sandbox.exec(sandboxId, 'ln -s ../../.. link-out && ln -s ../../../missing-target dangling', { timeoutMs: 10_000 });
        await expect(sandbox.writeFiles(sandboxId, [{ path: 'link-out/escape', content: 'x' }])).rejects.toThrow(/outside the workspace/);
        await expect(sandbox.readFile(sandboxId, 'link-out/etc/passwd')).rejects.toThrow(/outside the workspace/);
        await expect(sandbox.writeFiles(sandboxId, [{ path: 'dangling', content: 'x' }])).rejects.toThrow(/outside the workspace|symbolic link/);
      });

      it('writes nothing when one path of the batch is refused', async () => {
        await expect(
          sandbox.writeFiles(sandboxId, [
            { path: 'fine.txt', content: 'x' },
            { path: '../escape', content: 'x' },
          ]),
        ).rejects.toThrow();
        await expect(sandbox.readFile(sandboxId, 'fine.txt')).rejects.toThrow();
      });

      it('diffs edits, deletions and new files, untracked ones included but not ignored ones, as a patch that applies', async () => {
        await sandbox.writeFiles(sandboxId, [
          { path: 'app.js', content: 'module.exports = 3;\n' },
          { path: 'lib/added.js', content: 'exports.added = true;\n' },
          { path: 'node_modules/ignored.js', content: 'ignored\n' },
        ]);
        await sandbox.exec(sandboxId, "rm obsolete.txt && printf '\\000\\001\\002\\377\\000' > blob.bin && echo untracked > from-command.txt", {
          timeoutMs: 10_000,
        });

        const diff = await sandbox.diff(sandboxId);
        expect(diff).toContain('b/app.js');
        expect(diff).toContain('b/lib/added.js');
        expect(diff).toContain('b/from-command.txt');
        expect(diff).toContain('a/obsolete.txt');
        expect(diff).toContain('GIT binary patch');
        expect(diff).not.toContain('ignored');

        const clean = path.join(scratch, `clean-${sandboxId}`);
        git(scratch, 'clone', '--quiet', source, clean);
        git(clean, 'checkout', '--quiet', '--detach', secondRevision);
        execFileSync('git', ['apply', '-'], { cwd: clean, input: diff });
        expect(fs.readFileSync(path.join(clean, 'app.js'), 'utf8')).toBe('module.exports = 3;\n');
        expect(fs.readFileSync(path.join(clean, 'blob.bin'))).toEqual(Buffer.from([0, 1, 2, 255, 0]));
        expect(fs.readFileSync(path.join(clean, 'from-command.txt'), 'utf8')).toBe('untracked\n');
        expect(fs.existsSync(path.join(clean, 'obsolete.txt'))).toBe(false);
      });

      it('diffs against the opened revision even when a command tries to commit', async () => {
        await sandbox.exec(sandboxId, 'echo changed > app.js; git -c user.name=x -c user.email=x@x commit -qam wip', { timeoutMs: 10_000 });
        expect(await sandbox.diff(sandboxId)).toContain('+changed');
      });

      it('resets edits and untracked files, keeping what the setup installed', async () => {
        const withSetup = specFor({ setupCommand: 'mkdir -p node_modules && echo installed > node_modules/dependency.js' });
        await sandbox.open(withSetup);
        await sandbox.writeFiles(withSetup.sandboxId, [
          { path: 'app.js', content: 'broken' },
          { path: 'untracked/file.js', content: 'x' },
        ]);
        await sandbox.exec(withSetup.sandboxId, 'rm obsolete.txt', { timeoutMs: 10_000 });
        await sandbox.reset(withSetup.sandboxId);
        expect(await sandbox.readFile(withSetup.sandboxId, 'app.js')).toBe('module.exports = 2;\n');
        expect(await sandbox.readFile(withSetup.sandboxId, 'obsolete.txt')).toBe('to be deleted\n');
        await expect(sandbox.readFile(withSetup.sandboxId, 'untracked/file.js')).rejects.toThrow();
        expect(await sandbox.readFile(withSetup.sandboxId, 'node_modules/dependency.js')).toBe('installed\n');
        expect(await sandbox.diff(withSetup.sandboxId)).toBe('');
      });

      it('destroys the workspace, destroying twice is fine, and the id can be opened again', async () => {
        await sandbox.destroy(sandboxId);
        await sandbox.destroy(sandboxId);
        await expect(sandbox.readFile(sandboxId, 'app.js')).rejects.toMatchObject({ type: ERROR_TYPES.sandboxUnavailable });
        await expect(sandbox.exec(sandboxId, 'true', { timeoutMs: 5_000 })).rejects.toMatchObject({ type: ERROR_TYPES.sandboxUnavailable });
        const reopened = await sandbox.open({ ...specFor(), sandboxId });
        expect(reopened.created).toBe(true);
      });
    });
  });
}
