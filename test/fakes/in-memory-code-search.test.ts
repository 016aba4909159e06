import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ERROR_TYPES } from '../../contracts';
import { GitCodeSearch } from '../../adapters/git-code-search.adapter';
import type { RepositoryRef } from '../../ports/code-host.port';
import { InMemoryCodeSearch, type InMemoryCommit } from './in-memory-code-search';

/** The fake is held to the git adapter: the same history in both must give the same last changes. */
describe('InMemoryCodeSearch', () => {
  const steps: { at: string; files: Record<string, string | null> }[] = [
    { at: '2026-05-01T08:00:00Z', files: { 'src/coupon.js': 'a\n', 'src/cart.js': 'c\n', 'README.md': '# r\n' } },
    { at: '2026-11-05T08:00:00Z', files: { 'src/coupon.js': 'b\n' } },
    { at: '2026-11-25T08:00:00Z', files: { 'src/cart.js': 'd\n', 'src/new.js': 'n\n' } },
    { at: '2026-11-28T08:00:00Z', files: { 'src/coupon.js': 'c\n', 'src/new.js': null } },
  ];
  const paths = ['src/coupon.js', 'src/cart.js', 'src/new.js', 'README.md', 'src/absent.js'];
  const ref: RepositoryRef = { service: 'checkout', location: 'acme/checkout', defaultBranch: 'main' };
  let root: string;
  let git: GitCodeSearch;
  let fake: InMemoryCodeSearch;
  const shas: string[] = [];

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-fake-code-search-'));
    const repository = path.join(root, 'checkout');
    fs.mkdirSync(repository);
    execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: repository });
    const commits: InMemoryCommit[] = [];
    let tree: Record<string, string> = {};
    for (const step of steps) {
      for (const [file, content] of Object.entries(step.files)) {
        const full = path.join(repository, file);
        if (content === null) fs.rmSync(full);
        else {
          fs.mkdirSync(path.dirname(full), { recursive: true });
          fs.writeFileSync(full, content);
        }
      }
      const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.test', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.test', GIT_AUTHOR_DATE: step.at, GIT_COMMITTER_DATE: step.at };
      execFileSync('git', ['add', '-A'], { cwd: repository, env });
      execFileSync('git', ['commit', '-q', '-m', step.at], { cwd: repository, env });
      const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repository, encoding: 'utf8' }).trim();
      shas.push(sha);
      tree = Object.fromEntries(Object.entries({ ...tree, ...step.files }).filter((entry): entry is [string, string] => entry[1] !== null));
      commits.push({ sha, committedAt: step.at, files: tree });
    }
    commits.at(-1)!.refs = ['main'];
    git = new GitCodeSearch({ repositories: { checkout: repository }, mirrorRoot: path.join(root, 'mirrors') });
    fake = new InMemoryCodeSearch({ checkout: commits });
  });

  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('answers lastChanges as the git adapter does, at every revision of the same history', async () => {
    for (const sha of shas) expect(await fake.lastChanges(ref, sha, paths)).toEqual(await git.lastChanges(ref, sha, paths));
    expect(await fake.lastChanges(ref, 'main', paths)).toEqual(await git.lastChanges(ref, 'main', paths));
    // Not trivially equal: the history has changes inside and outside the window.
    expect((await fake.lastChanges(ref, 'main', ['src/coupon.js']))[0]).toMatchObject({ lastCommitSha: shas[3], commitsInLast30Days: 2 });
  });

  it('agrees on files, contents, symbols, literals and line counts, and refuses an unknown service or revision alike', async () => {
    const head = shas.at(-1)!;
    expect(await fake.filesExist('checkout', head, paths)).toEqual(await git.filesExist('checkout', head, paths));
    expect(await fake.readFile('checkout', shas[2]!, 'src/new.js')).toBe(await git.readFile('checkout', shas[2]!, 'src/new.js'));
    expect(await fake.findSymbols('checkout', head, ['c', 'r', 'zz'])).toEqual(await git.findSymbols('checkout', head, ['c', 'r', 'zz']));
    expect(await fake.findLiterals('checkout', head, ['# r', 'd', 'none'])).toEqual(await git.findLiterals('checkout', head, ['# r', 'd', 'none']));
    expect(await fake.countSourceLines('checkout', head)).toEqual(await git.countSourceLines('checkout', head));
    await expect(fake.lastChanges({ ...ref, service: 'billing' }, head, paths)).rejects.toMatchObject({ type: ERROR_TYPES.serviceNotConfigured });
    await expect(fake.lastChanges(ref, 'f'.repeat(40), paths)).rejects.toMatchObject({ type: ERROR_TYPES.revisionNotFound });
  });
});
