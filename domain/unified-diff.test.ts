import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyFilePatch, parseUnifiedDiff, UnifiedDiffError, type FilePatch } from './unified-diff';

/** A scratch repository whose diffs come from git itself, so the parser is checked against what git prints. */
class ScratchRepository {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-unified-diff-'));

  constructor() {
    this.git('init', '-q', '-b', 'main');
  }

  git(...args: string[]): string {
    return execFileSync('git', args, {
      cwd: this.root,
      encoding: 'utf8',
      env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.test', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.test' },
    });
  }

  write(file: string, content: string | Buffer, mode = 0o644): void {
    fs.mkdirSync(path.dirname(path.join(this.root, file)), { recursive: true });
    fs.writeFileSync(path.join(this.root, file), content);
    fs.chmodSync(path.join(this.root, file), mode);
  }

  remove(file: string): void {
    fs.rmSync(path.join(this.root, file));
  }

  commitAll(message: string): string {
    this.git('add', '-A');
    this.git('commit', '-q', '--allow-empty', '-m', message);
    return this.git('rev-parse', 'HEAD').trim();
  }

  /** The file's content at a revision, as the code host would hand it over. */
  show(revision: string, file: string): string {
    return this.git('show', `${revision}:${file}`);
  }

  /** What `git diff --raw` says changed, independently of the parser under test. */
  rawChanges(from: string, to: string): { status: string; score: string; oldMode: string; newMode: string; paths: string[] }[] {
    const output = execFileSync('git', ['-c', 'core.quotePath=false', 'diff', '--raw', '-z', '-M', from, to], { cwd: this.root, encoding: 'utf8' });
    const fields = output.split('\0').filter((field) => field !== '');
    const changes = [];
    while (fields.length > 0) {
      const [oldMode, newMode, , , status] = fields.shift()!.slice(1).split(' ');
      const paths = [fields.shift()!];
      if (status.startsWith('R') || status.startsWith('C')) paths.push(fields.shift()!);
      changes.push({ status: status[0], score: status.slice(1), oldMode, newMode, paths });
    }
    return changes;
  }

  dispose(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

const numberedLines = (count: number, prefix = 'line'): string => Array.from({ length: count }, (_, index) => `${prefix} ${index + 1}\n`).join('');

/** Applies every patch of the diff to the files at `base`, and returns the resulting files by path. */
function applyToRevision(repo: ScratchRepository, base: string, patches: FilePatch[]): Map<string, string> {
  const results = new Map<string, string>();
  for (const patch of patches) {
    const original = patch.oldPath === null ? '' : repo.show(base, patch.oldPath);
    const content = applyFilePatch(patch, original);
    if (patch.newPath !== null) results.set(patch.newPath, content);
  }
  return results;
}

describe('unified diffs as git prints them', () => {
  let repo: ScratchRepository;
  let base: string;
  let fixed: string;

  beforeAll(() => {
    repo = new ScratchRepository();
    repo.write('src/cart.ts', numberedLines(40));
    repo.write('src/removed.ts', 'export const gone = true;\n');
    repo.write('src/old-name.ts', numberedLines(12, 'moved'));
    repo.write('src/pure-rename.ts', 'unchanged\n');
    repo.write('bin/run.sh', '#!/bin/sh\necho run\n');
    repo.write('docs/no newline.txt', 'last line without newline');
    repo.write('docs/gains newline.txt', 'will gain a newline');
    repo.write('docs/prix-été.md', 'prix: 10 €\n');
    repo.write('windows.txt', 'one\r\ntwo\r\nthree\r\n');
    repo.write('empty-to-delete', '');
    base = repo.commitAll('base');

    const cart = numberedLines(40).replace('line 2\n', 'line two\n').replace('line 20\n', 'line 20\ninserted after 20\n').replace('line 38\n', '');
    repo.write('src/cart.ts', cart);
    repo.remove('src/removed.ts');
    repo.remove('src/old-name.ts');
    repo.write('src/new-name.ts', numberedLines(12, 'moved').replace('moved 6\n', 'moved six\n'));
    repo.remove('src/pure-rename.ts');
    repo.write('src/renamed-untouched.ts', 'unchanged\n');
    repo.write('bin/run.sh', '#!/bin/sh\necho run\n', 0o755);
    repo.write('docs/no newline.txt', 'changed last line, still without newline');
    repo.write('docs/gains newline.txt', 'will gain a newline\n');
    repo.write('docs/prix-été.md', 'prix: 12 €\n');
    repo.write('windows.txt', 'one\r\nTWO\r\nthree\r\n');
    repo.write('src/added.ts', 'export const added = 1;\n');
    repo.write('empty-new', '');
    repo.remove('empty-to-delete');
    fixed = repo.commitAll('fix');
  });

  afterAll(() => repo.dispose());

  // -M pins rename detection, which a user's diff.renames could otherwise turn off.
  it.each([
    ['git diff --binary -M (3 lines of context)', ['-M']],
    ['git diff -U0 (insert- and delete-only hunks)', ['-M', '-U0']],
    ['git diff --no-renames (renames as deletion and creation)', ['--no-renames']],
  ])(
    'rebuilds every changed file exactly from %s',
    (_label, extraArgs) => {
      const patches = parseUnifiedDiff(repo.git('diff', '--binary', ...extraArgs, base, fixed));
      const results = applyToRevision(repo, base, patches);

      const expectedPaths = repo.rawChanges(base, fixed).flatMap((change) => (change.status === 'D' ? [] : [change.paths[change.paths.length - 1]]));
      expect([...results.keys()].sort()).toEqual(expectedPaths.sort());
      expect(results.size).toBe(10);
      for (const [file, content] of results) expect({ file, content }).toEqual({ file, content: repo.show(fixed, file) });
    },
  );

  it('reads paths, renames, deletions and modes as git --raw reports them', () => {
    const patches = parseUnifiedDiff(repo.git('diff', '--binary', '-M', base, fixed));
    const described = patches.map((patch) => ({ oldPath: patch.oldPath, newPath: patch.newPath, oldMode: patch.oldMode, newMode: patch.newMode }));
    const expected = repo.rawChanges(base, fixed).map((change) => {
      // A rename that changes nothing states no mode at all: the caller keeps the mode of the base tree.
      const statesModes = !(change.status === 'R' && change.score === '100' && change.oldMode === change.newMode);
      return {
        oldPath: change.status === 'A' ? null : change.paths[0],
        newPath: change.status === 'D' ? null : change.paths[change.paths.length - 1],
        oldMode: change.status === 'A' || !statesModes ? null : change.oldMode,
        newMode: change.status === 'D' || !statesModes ? null : change.newMode,
      };
    });
    expect(expected.filter((change) => change.oldMode === null && change.newMode === null)).toHaveLength(2);
    expect(described).toEqual(expect.arrayContaining(expected));
    expect(described).toHaveLength(expected.length);
  });

  it('carries the blob ids of the index line, so that a caller can check the base it applies to', () => {
    const [cart] = parseUnifiedDiff(repo.git('diff', '--binary', base, fixed, '--', 'src/cart.ts'));
    expect(repo.git('rev-parse', `${base}:src/cart.ts`).startsWith(cart.oldBlob!)).toBe(true);
    expect(repo.git('rev-parse', `${fixed}:src/cart.ts`).startsWith(cart.newBlob!)).toBe(true);
    expect(cart.hunks.map((hunk) => hunk.header)).toEqual(['@@ -1,5 +1,5 @@', '@@ -18,6 +18,7 @@', '@@ -35,6 +36,5 @@']);
  });

  it('refuses a hunk whose context does not match, naming the line', () => {
    const [cart] = parseUnifiedDiff(repo.git('diff', '--binary', base, fixed, '--', 'src/cart.ts'));
    const drifted = repo.show(base, 'src/cart.ts').replace('line 19\n', 'line nineteen\n');
    expect(() => applyFilePatch(cart, drifted)).toThrow(new UnifiedDiffError('src/cart.ts: hunk @@ -18,6 +18,7 @@ expects line 19 to be "line 19\\n", but it is "line nineteen\\n"'));
  });

  it('refuses a hunk that reaches past the end of the file', () => {
    const [cart] = parseUnifiedDiff(repo.git('diff', '--binary', base, fixed, '--', 'src/cart.ts'));
    expect(() => applyFilePatch(cart, numberedLines(30))).toThrow(/hunk @@ -35,6 \+36,5 @@ reaches line 40, but the file has 30 lines/);
  });

  it('refuses to create a file that already has content, and to delete a file that was edited since', () => {
    const [added] = parseUnifiedDiff(repo.git('diff', '--binary', base, fixed, '--', 'src/added.ts'));
    expect(() => applyFilePatch(added, 'already here\n')).toThrow(/creates this file, but it already has content/);
    const [removed] = parseUnifiedDiff(repo.git('diff', '--binary', base, fixed, '--', 'src/removed.ts'));
    expect(() => applyFilePatch(removed, 'export const gone = false;\n')).toThrow(/expects line 1 to be/);
    expect(applyFilePatch(removed, 'export const gone = true;\n')).toBe('');
  });

  it('applies a hunk whose empty context lines lost their leading space to an editor', () => {
    repo.write('spaced.txt', 'a\n\nb\nc\n\nd\n');
    const before = repo.commitAll('spaced');
    repo.write('spaced.txt', 'a\n\nb\nC\n\nd\n');
    const after = repo.commitAll('spaced fix');
    const stripped = repo.git('diff', before, after).replace(/^ $/gm, '');
    expect(stripped).toContain(' a\n\n b\n-c\n+C\n\n d\n');
    const [patch] = parseUnifiedDiff(stripped);
    expect(applyFilePatch(patch, repo.show(before, 'spaced.txt'))).toBe(repo.show(after, 'spaced.txt'));
  });

  it('refuses binary patches', () => {
    repo.write('logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02]));
    const before = repo.commitAll('binary');
    repo.write('logo.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x03, 0x04]));
    const after = repo.commitAll('binary change');
    const diff = repo.git('diff', '--binary', before, after);
    expect(diff).toContain('GIT binary patch');
    expect(() => parseUnifiedDiff(diff)).toThrow(new UnifiedDiffError('"a/logo.png b/logo.png" is a binary change; only text files can be applied'));
  });

  it.each([
    ['an empty diff', '', 'the diff holds no file patch'],
    ['text before the first file patch', 'Here is the fix:\ndiff --git a/x b/x\n', 'line 1 of the diff is not part of a file patch: "Here is the fix:"'],
    ['a hunk shorter than its header', 'diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n-a\n+b\n', 'x: hunk @@ -1,2 +1,2 @@ ends before its 2 old and 2 new lines'],
    ['a hunk longer than its header', 'diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n-b\n+c\n', 'x: hunk @@ -1 +1 @@ holds more lines than its header counts'],
  ])('refuses %s', (_label, diff, message) => {
    expect(() => parseUnifiedDiff(diff)).toThrow(new UnifiedDiffError(message));
  });
});
