import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../contracts';
import { parseUnifiedDiff } from '../domain/unified-diff';
import type { RepositoryRef } from '../ports/code-host.port';
import { countsAsSource, GitCodeSearch, MAX_LAST_CHANGE_PATHS, MAX_LITERAL_LENGTH, MAX_LITERALS } from './git-code-search.adapter';

const IDENTITY = { GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.test', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.test' };

function gitIn(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, ...IDENTITY } }).trim();
}

function commit(root: string, files: Record<string, string | null>, message: string): string {
  for (const [file, content] of Object.entries(files)) {
    const full = path.join(root, file);
    if (content === null) fs.rmSync(full);
    else {
      fs.mkdirSync(path.dirname(full), { recursive: true });
      fs.writeFileSync(full, content);
    }
  }
  gitIn(root, 'add', '-A');
  gitIn(root, 'commit', '-q', '-m', message);
  return gitIn(root, 'rev-parse', 'HEAD');
}

async function failureType(promise: Promise<unknown>): Promise<string | undefined> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return error instanceof ApplicationFailure ? (error.type ?? undefined) : `not an ApplicationFailure: ${String(error)}`;
}

describe('GitCodeSearch', () => {
  let root: string;
  let repository: string;
  let first: string;
  let second: string;

  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-code-search-'));
    repository = path.join(root, 'checkout');
    fs.mkdirSync(repository);
    gitIn(repository, 'init', '-q', '-b', 'main');
    first = commit(repository, { 'src/pricing.js': 'function discountCents(coupon) {\n  return coupon.percent;\n}\n', 'README.md': '# checkout\n' }, 'first');
    second = commit(repository, { 'src/pricing.js': 'function discountCents(order) {\n  return order.coupon ? order.coupon.percent : 0;\n}\n', 'src/coupons.js': 'exports.lookUpCoupon = () => null;\n' }, 'second');
  });

  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  describe('over a local repository', () => {
    const search = () => new GitCodeSearch({ repositories: { checkout: repository }, mirrorRoot: path.join(root, 'mirrors') });

    it('says which paths are files at each revision', async () => {
      expect(await search().filesExist('checkout', first, ['src/pricing.js', 'src/coupons.js', 'src', './README.md', '../etc/passwd', '/etc/passwd'])).toEqual({
        'src/pricing.js': true,
        'src/coupons.js': false,
        src: false,
        './README.md': true,
        '../etc/passwd': false,
        '/etc/passwd': false,
      });
      expect((await search().filesExist('checkout', 'main', ['src/coupons.js']))['src/coupons.js']).toBe(true);
    });

    it('reads paths literally, never as globs', async () => {
      expect(await search().filesExist('checkout', second, ['src/*.js', ':(glob)**'])).toEqual({ 'src/*.js': false, ':(glob)**': false });
    });

    it('finds symbols as whole words at the revision', async () => {
      expect(await search().findSymbols('checkout', first, ['discountCents', 'coupon', 'order', 'lookUpCoupon', 'discount', 'a b'])).toEqual({
        discountCents: true,
        coupon: true,
        order: false,
        lookUpCoupon: false,
        discount: false,
        'a b': false,
      });
      expect(await search().findSymbols('checkout', second, ['order', 'lookUpCoupon'])).toEqual({ order: true, lookUpCoupon: true });
    });

    it('reads a file at the revision, and null for one that is not there', async () => {
      expect(await search().readFile('checkout', first, 'src/pricing.js')).toBe('function discountCents(coupon) {\n  return coupon.percent;\n}\n');
      expect(await search().readFile('checkout', first, 'src/coupons.js')).toBeNull();
    });

    it('diffs a deploy from its previous revision, or its own commit against its parent, as a parseable unified diff', async () => {
      const ranged = await search().diff('checkout', first, second, 100_000);
      expect(ranged).toMatchObject({ truncated: false, from: first, to: second });
      const patches = parseUnifiedDiff(ranged.text);
      expect(patches.map((p) => p.newPath).sort()).toEqual(['src/coupons.js', 'src/pricing.js']);
      expect(ranged.text).toContain('+  return order.coupon ? order.coupon.percent : 0;');
      const own = await search().diff('checkout', null, second, 100_000);
      expect(own.text).toBe(ranged.text);
      const root = await search().diff('checkout', null, first, 100_000);
      expect(root.text).toContain('+# checkout');
      // Cut before the file that does not fit: what is kept still parses.
      const cut = await search().diff('checkout', first, second, ranged.text.indexOf('\ndiff --git', 10) + 20);
      expect(cut.truncated).toBe(true);
      expect(parseUnifiedDiff(cut.text)).toHaveLength(1);
      expect(await failureType(search().diff('checkout', 'f'.repeat(40), second, 1000))).toBe(ERROR_TYPES.revisionNotFound);
    });

    it('fails permanently for an unknown service or revision', async () => {
      expect(await failureType(search().filesExist('billing', first, ['x']))).toBe(ERROR_TYPES.serviceNotConfigured);
      expect(await failureType(search().findSymbols('checkout', 'f'.repeat(40), ['x']))).toBe(ERROR_TYPES.revisionNotFound);
      expect(await failureType(search().readFile('checkout', '--output=/tmp/x', 'x'))).toBe(ERROR_TYPES.revisionNotFound);
    });
  });

  describe('over a remote repository', () => {
    it('clones a mirror once and fetches for a commit it does not hold yet', async () => {
      const mirrorRoot = path.join(root, 'remote-mirrors');
      const search = new GitCodeSearch({ repositories: { checkout: `file://${repository}` }, mirrorRoot });
      expect(await search.findSymbols('checkout', second, ['lookUpCoupon'])).toEqual({ lookUpCoupon: true });
      expect(fs.readdirSync(mirrorRoot).filter((name) => name.endsWith('.git'))).toHaveLength(1);

      const third = commit(repository, { 'src/coupons.js': 'exports.findCoupon = () => null;\n' }, 'third');
      expect(await search.findSymbols('checkout', third, ['findCoupon', 'lookUpCoupon'])).toEqual({ findCoupon: true, lookUpCoupon: false });
      expect(await search.readFile('checkout', 'main', 'src/coupons.js')).toBe('exports.findCoupon = () => null;\n');
      expect(fs.readdirSync(mirrorRoot)).toHaveLength(1);
    });
  });

  describe('literals and source lines', () => {
    let literalRepository: string;
    let head: string;
    const search = () => new GitCodeSearch({ repositories: { payments: literalRepository }, mirrorRoot: path.join(root, 'literal-mirrors') });

    beforeAll(() => {
      literalRepository = path.join(root, 'payments');
      fs.mkdirSync(literalRepository);
      gitIn(literalRepository, 'init', '-q', '-b', 'main');
      head = commit(
        literalRepository,
        {
          'src/charge.ts': 'export function charge() {\n\n  log.error("charge declined: card expired");\n  log.warn("--retry exhausted");\n}\n',
          'src/alpha.ts': '// later in the alphabet than charge.ts? no: alpha comes first\nlog.error("card expired");\n',
          'src/deep/refund.ts': 'log.error("refund failed for $ORDER [*]");\n   \n\t\n',
          'docs/notes.md': 'Card Expired is spelled differently here\n',
        },
        'payments',
      );
      // Bytes that are not text: git grep -I must skip the file even though the literal is in it.
      fs.writeFileSync(path.join(literalRepository, 'logo.png'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0]), Buffer.from('card expired\n')]));
      head = commit(literalRepository, {}, 'logo');
    });

    it('finds each literal as written, the first hit by path then line, and null where it is nowhere', async () => {
      expect(
        await search().findLiterals('payments', head, ['card expired', 'charge declined', '--retry exhausted', 'refund failed for $ORDER [*]', 'Card expired', 'never logged', 'refund.*']),
      ).toEqual({
        // src/alpha.ts sorts before src/charge.ts, so its line wins.
        'card expired': { file: 'src/alpha.ts', line: 2 },
        'charge declined': { file: 'src/charge.ts', line: 3 },
        // A literal starting with '-' is a pattern, not an option.
        '--retry exhausted': { file: 'src/charge.ts', line: 4 },
        // Regex characters are plain characters.
        'refund failed for $ORDER [*]': { file: 'src/deep/refund.ts', line: 1 },
        // Case-sensitive.
        'Card expired': null,
        'never logged': null,
        'refund.*': null,
      });
    });

    it('answers a literal spanning lines with null, reads an older revision as it was, and refuses what cannot be searched', async () => {
      expect(await search().findLiterals('payments', head, ['declined: card\nexpired', 'card expired'])).toEqual({ 'declined: card\nexpired': null, 'card expired': { file: 'src/alpha.ts', line: 2 } });
      const later = commit(literalRepository, { 'src/alpha.ts': null }, 'drop alpha');
      expect(await search().findLiterals('payments', later, ['card expired'])).toEqual({ 'card expired': { file: 'src/charge.ts', line: 3 } });
      expect(await search().findLiterals('payments', head, ['card expired'])).toEqual({ 'card expired': { file: 'src/alpha.ts', line: 2 } });
      expect(await search().findLiterals('payments', head, [])).toEqual({});

      const many = Array.from({ length: MAX_LITERALS + 1 }, (_, i) => `literal-${i}`);
      expect(await failureType(search().findLiterals('payments', head, many))).toBe(ERROR_TYPES.monitorGenerationInputInvalid);
      expect(await failureType(search().findLiterals('payments', head, ['x'.repeat(MAX_LITERAL_LENGTH + 1)]))).toBe(ERROR_TYPES.monitorGenerationInputInvalid);
      expect(await failureType(search().findLiterals('payments', head, ['']))).toBe(ERROR_TYPES.monitorGenerationInputInvalid);
      expect(await failureType(search().findLiterals('payments', 'f'.repeat(40), ['x']))).toBe(ERROR_TYPES.revisionNotFound);
      expect(await failureType(search().findLiterals('ledger', head, ['x']))).toBe(ERROR_TYPES.serviceNotConfigured);
    });

    it('agrees with a plain scan of the files over many random literals and files', async () => {
      // Seeded, so that a failure repeats (fast-check is not among the dependencies).
      let seed = 20261202;
      const next = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return (seed >>> 8) % n;
      };
      const alphabet = ['a', 'b', '-', ' ', '.', '*', '$', '"', 'é'];
      const word = (length: number) => Array.from({ length }, () => alphabet[next(alphabet.length)]).join('');
      const fuzzed = path.join(root, 'fuzzed');
      fs.mkdirSync(fuzzed);
      gitIn(fuzzed, 'init', '-q', '-b', 'main');
      const files: Record<string, string> = {};
      for (let f = 0; f < 6; f++) files[`dir${next(3)}/file${f}.txt`] = Array.from({ length: 1 + next(8) }, () => word(next(12))).join('\n') + '\n';
      const revision = commit(fuzzed, files, 'fuzz');
      const literals = [...new Set(Array.from({ length: 80 }, () => word(1 + next(5))))];

      const expected: Record<string, { file: string; line: number } | null> = {};
      const sortedFiles = Object.keys(files).sort();
      for (const literal of literals) {
        expected[literal] = null;
        for (const file of sortedFiles) {
          const line = files[file].split('\n').findIndex((text) => text.includes(literal));
          if (line >= 0) {
            expected[literal] = { file, line: line + 1 };
            break;
          }
        }
      }
      const fuzzSearch = new GitCodeSearch({ repositories: { fuzzed }, mirrorRoot: path.join(root, 'fuzz-mirrors') });
      const found = await fuzzSearch.findLiterals('fuzzed', revision, literals);
      expect(found).toEqual(expected);
      // The check checks something: some literals are found and some are not.
      expect(Object.values(found).some((hit) => hit === null)).toBe(true);
      expect(Object.values(found).some((hit) => hit !== null)).toBe(true);
    });

    it('counts non-blank lines of text source files, leaving out binaries, lockfiles, vendored and generated files', async () => {
      const counted = path.join(root, 'counted');
      fs.mkdirSync(counted);
      gitIn(counted, 'init', '-q', '-b', 'main');
      const revision = commit(
        counted,
        {
          'src/app.ts': 'const a = 1;\n\n   \nexport default a;\n',
          'src/nested/lib.py': 'def f():\n\treturn 1\n',
          'README.md': '# app\n\nRuns.\n',
          'src/empty.ts': '\n\n',
          'package-lock.json': '{\n  "lockfileVersion": 3\n}\n',
          'services/api/go.sum': 'example.com/x v1.0.0 h1:abc=\n',
          'node_modules/left-pad/index.js': 'module.exports = 1;\n',
          'services/api/vendor/lib/x.go': 'package x\n',
          'third_party/y.c': 'int y;\n',
          'web/dist/app.js': 'var a=1;\n',
          'build/out.js': 'var b=2;\n',
          'web/app.min.js': 'var c=3;\n',
          'web/app.js.map': '{"version":3}\n',
        },
        'counted',
      );
      fs.writeFileSync(path.join(counted, 'src', 'icon.bin'), Buffer.from([0, 1, 2, 10, 65, 10]));
      fs.symlinkSync('app.ts', path.join(counted, 'src', 'link.ts'));
      const withBinary = commit(counted, {}, 'binary and link');
      const countSearch = new GitCodeSearch({ repositories: { counted }, mirrorRoot: path.join(root, 'count-mirrors') });
      // app.ts 2, lib.py 2, README.md 2; empty.ts has no line to count.
      expect(await countSearch.countSourceLines('counted', revision)).toEqual({ files: 3, lines: 6 });
      expect(await countSearch.countSourceLines('counted', withBinary)).toEqual({ files: 3, lines: 6 });
      const grown = commit(counted, { 'src/more.ts': 'a\nb\n\nc\n' }, 'more');
      expect(await countSearch.countSourceLines('counted', grown)).toEqual({ files: 4, lines: 9 });
      expect(await countSearch.countSourceLines('counted', revision)).toEqual({ files: 3, lines: 6 });
    });

    it('says which paths count as source', () => {
      expect(['src/a.ts', 'docs/build-notes.md', 'src/distance.ts', 'lib/vendored.ts', 'Makefile'].filter(countsAsSource)).toHaveLength(5);
      expect(['yarn.lock', 'a/pnpm-lock.yaml', 'Cargo.lock', 'x/node_modules/y.js', 'vendor/a.go', 'dist/a.js', 'pkg/build/a.js', 'a.min.js', 'a.min.css', 'a.js.map'].filter(countsAsSource)).toEqual([]);
    });
  });
  describe('lastChanges', () => {
    const DAY = 24 * 60 * 60 * 1000;
    /** A commit at a chosen time, so that the 30-day window is tested against known dates. */
    function commitAt(repositoryPath: string, files: Record<string, string | null>, at: string): string {
      for (const [file, content] of Object.entries(files)) {
        const full = path.join(repositoryPath, file);
        if (content === null) fs.rmSync(full);
        else {
          fs.mkdirSync(path.dirname(full), { recursive: true });
          fs.writeFileSync(full, content);
        }
      }
      const env = { ...process.env, ...IDENTITY, GIT_AUTHOR_DATE: at, GIT_COMMITTER_DATE: at };
      execFileSync('git', ['add', '-A'], { cwd: repositoryPath, env });
      execFileSync('git', ['commit', '-q', '--allow-empty', '-m', at], { cwd: repositoryPath, env });
      return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repositoryPath, encoding: 'utf8' }).trim();
    }

    let history: string;
    const commits: Record<string, string> = {};
    const ref = (service = 'history'): RepositoryRef => ({ service, location: 'acme/history', defaultBranch: 'main' });
    const search = () => new GitCodeSearch({ repositories: { history }, mirrorRoot: path.join(root, 'history-mirrors') });

    beforeAll(() => {
      history = path.join(root, 'history');
      fs.mkdirSync(history);
      gitIn(history, 'init', '-q', '-b', 'main');
      commits.old = commitAt(history, { 'src/coupon.js': 'v1\n', 'src/stable.js': 'stable\n', 'docs/a b.md': 'x\n' }, '2026-06-01T10:00:00Z');
      commits.c1 = commitAt(history, { 'src/coupon.js': 'v2\n' }, '2026-11-10T10:00:00Z');
      commits.c2 = commitAt(history, { 'src/coupon.js': 'v3\n', 'src/other.js': 'o\n' }, '2026-11-20T10:00:00Z');
      // Touches no path asked about: it moves the revision's time, not the paths' counts.
      commits.empty = commitAt(history, {}, '2026-12-01T10:00:00Z');
      commits.gone = commitAt(history, { 'src/other.js': null }, '2026-12-02T12:00:00Z');
    });

    it("gives each path its last commit and its commits in the 30 days before the revision's time, in the order asked", async () => {
      expect(await search().lastChanges(ref(), commits.gone!, ['src/coupon.js', 'src/stable.js', 'src/other.js', 'src/never.js', 'docs/a b.md', 'src/coupon.js'])).toEqual([
        { path: 'src/coupon.js', lastChangedAt: '2026-11-20T10:00:00.000Z', lastCommitSha: commits.c2, commitsInLast30Days: 2 },
        { path: 'src/stable.js', lastChangedAt: '2026-06-01T10:00:00.000Z', lastCommitSha: commits.old, commitsInLast30Days: 0 },
        // Deleted at the revision: its last change is the deletion.
        { path: 'src/other.js', lastChangedAt: '2026-12-02T12:00:00.000Z', lastCommitSha: commits.gone, commitsInLast30Days: 2 },
        { path: 'src/never.js', lastChangedAt: null, lastCommitSha: null, commitsInLast30Days: 0 },
        { path: 'docs/a b.md', lastChangedAt: '2026-06-01T10:00:00.000Z', lastCommitSha: commits.old, commitsInLast30Days: 0 },
        { path: 'src/coupon.js', lastChangedAt: '2026-11-20T10:00:00.000Z', lastCommitSha: commits.c2, commitsInLast30Days: 2 },
      ]);
    });

    it('reads history as of an older revision, counting back from its own time, not the clock', async () => {
      const [coupon] = await search().lastChanges(ref(), commits.c1!, ['src/coupon.js']);
      expect(coupon).toEqual({ path: 'src/coupon.js', lastChangedAt: '2026-11-10T10:00:00.000Z', lastCommitSha: commits.c1, commitsInLast30Days: 1 });
      // 2026-12-12 minus 30 days is 2026-11-12: c1 (11-10) falls out of the window, c2 (11-20) stays in.
      const later = commitAt(history, {}, new Date(Date.parse('2026-11-12T11:00:00Z') + 30 * DAY).toISOString());
      expect((await search().lastChanges(ref(), later, ['src/coupon.js']))[0]!.commitsInLast30Days).toBe(1);
      expect((await search().lastChanges(ref(), 'main', ['src/coupon.js']))[0]!.lastCommitSha).toBe(commits.c2);
    });

    it('answers a path outside the repository or a glob as never changed, and fails permanently for an unknown service or revision', async () => {
      expect(await search().lastChanges(ref(), commits.gone!, ['../etc/passwd', 'src/*.js', ':(glob)**'])).toEqual([
        { path: '../etc/passwd', lastChangedAt: null, lastCommitSha: null, commitsInLast30Days: 0 },
        { path: 'src/*.js', lastChangedAt: null, lastCommitSha: null, commitsInLast30Days: 0 },
        { path: ':(glob)**', lastChangedAt: null, lastCommitSha: null, commitsInLast30Days: 0 },
      ]);
      expect(await search().lastChanges(ref(), commits.gone!, [])).toEqual([]);
      expect(await failureType(search().lastChanges(ref('billing'), commits.gone!, ['x']))).toBe(ERROR_TYPES.serviceNotConfigured);
      expect(await failureType(search().lastChanges(ref(), 'f'.repeat(40), ['x']))).toBe(ERROR_TYPES.revisionNotFound);
      expect(await failureType(search().lastChanges(ref(), commits.gone!, Array.from({ length: MAX_LAST_CHANGE_PATHS + 1 }, (_, i) => `f${i}`)))).toBe(ERROR_TYPES.invalidActivityInput);
    });
  });
});
