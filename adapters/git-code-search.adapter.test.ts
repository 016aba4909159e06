import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { ERROR_TYPES } from '../contracts';
import { parseUnifiedDiff } from '../domain/unified-diff';
import { GitCodeSearch } from './git-code-search.adapter';

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
});
