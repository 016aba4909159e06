import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { attributionCase, triageCase } from '../../test/support/eval-cases';
import { cliContextFor } from '../../test/support/cli-context';
import type { CliContext } from '../context';
import { runCli } from '../program';

/** The eval case commands need only files and standard input: every other door fails the test. */
function contextWith(input = ''): { context: CliContext; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const unused = (): never => {
    throw new Error('eval case commands must not reach Temporal, Postgres or a sandbox');
  };
  const context: CliContext = cliContextFor({
    io: { out: (text) => out.push(text), err: (text) => err.push(text), write: unused, readInput: async () => input },
  });
  return { context, out, err };
}

describe('steward eval list|show|add|edit|replace|remove', () => {
  let datasets: string;
  const run = async (argv: string[], input = '') => {
    const { context, out, err } = contextWith(input);
    const code = await runCli([...argv, '--datasets', datasets], context);
    return { code, out: out.join('\n'), err: err.join('\n') };
  };
  const stored = (suite: string, id: string): unknown => JSON.parse(fs.readFileSync(path.join(datasets, suite, `${id}.json`), 'utf8'));

  beforeEach(() => {
    datasets = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-eval-cli-'));
  });
  afterEach(() => fs.rmSync(datasets, { recursive: true, force: true }));

  it('adds a case from standard input and from --file, and refuses an id that exists', async () => {
    const added = await run(['eval', 'add', 'triage'], JSON.stringify(triageCase('from-stdin')));
    expect(added).toMatchObject({ code: 0, err: '' });
    expect(added.out).toMatch(/^added triage\/from-stdin \(.*from-stdin\.json\)$/);
    expect(stored('triage', 'from-stdin')).toMatchObject({ id: 'from-stdin' });

    const file = path.join(datasets, 'case.json');
    fs.writeFileSync(file, JSON.stringify(attributionCase('docs-only')));
    expect((await run(['eval', 'add', 'deploy-attribution', '--file', file])).code).toBe(0);
    expect(stored('deploy-attribution', 'docs-only')).toMatchObject({ labels: { verdict: 'not_caused' } });

    const again = await run(['eval', 'add', 'triage'], JSON.stringify(triageCase('from-stdin')));
    expect(again.code).toBe(1);
    expect(again.err).toContain('already has a case from-stdin');
  });

  it('refuses a malformed case with its file and field, and input that is not JSON, writing nothing', async () => {
    const bad = triageCase('bad-dup', { labels: { verdict: 'duplicate', severity: 'P2', duplicateOf: null, facts: ['same'] } });
    const refused = await run(['eval', 'add', 'triage'], JSON.stringify(bad));
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^steward eval: .*triage\/bad-dup\.json: labels\.duplicateOf: a duplicate names the incident it duplicates$/);
    expect(fs.existsSync(path.join(datasets, 'triage', 'bad-dup.json'))).toBe(false);

    const notJson = await run(['eval', 'add', 'triage'], '{"id": "half');
    expect(notJson.code).toBe(1);
    expect(notJson.err).toMatch(/standard input is not JSON/);
    expect((await run(['eval', 'add', 'triage'], '  \n')).err).toContain('standard input is empty');
    expect((await run(['eval', 'add', 'triage', '--file', path.join(datasets, 'missing.json')])).err).toMatch(/cannot read .*missing\.json/);
  });

  it('lists one line a case with verdict and severity, difficulty and categories; --tag filters; --json gives the fields', async () => {
    await run(['eval', 'add', 'triage'], JSON.stringify(triageCase('real-one', { categories: ['low-count', 'checkout'], difficulty: 'hard' })));
    await run(['eval', 'add', 'triage'], JSON.stringify(triageCase('noise-one', { labels: { verdict: 'noise', severity: 'P3', duplicateOf: null, facts: ['flaps'] }, categories: ['flapping'] })));
    const listed = await run(['eval', 'list', 'triage']);
    expect(listed.code).toBe(0);
    expect(listed.out.split('\n')).toEqual(['noise-one  noise P3  easy  flapping', 'real-one   real P1   hard  low-count,checkout']);

    expect((await run(['eval', 'list', 'triage', '--tag', 'flapping'])).out).toBe('noise-one  noise P3  easy  flapping');
    const none = await run(['eval', 'list', 'triage', '--tag', 'prompt-injection']);
    expect(none).toMatchObject({ code: 0, out: '' });
    expect(none.err).toContain('no triage cases with category prompt-injection');

    const json = JSON.parse((await run(['eval', 'list', 'triage', '--json'])).out) as unknown[];
    expect(json).toEqual([
      { id: 'noise-one', verdict: 'noise', severity: 'P3', difficulty: 'easy', categories: ['flapping'], description: 'A checkout error after a deploy.', provenance: 'hand_written' },
      expect.objectContaining({ id: 'real-one', verdict: 'real', severity: 'P1' }),
    ]);

    await run(['eval', 'add', 'deploy-attribution'], JSON.stringify(attributionCase('docs-only')));
    expect((await run(['eval', 'list', 'deploy-attribution'])).out).toBe('docs-only  not_caused  easy  non-runtime-only');
  });

  it('a list with a malformed file fails, naming the file and field', async () => {
    fs.mkdirSync(path.join(datasets, 'triage'));
    fs.writeFileSync(path.join(datasets, 'triage', 'broken.json'), JSON.stringify({ ...triageCase('broken'), difficulty: 'trivial' }));
    const listed = await run(['eval', 'list', 'triage']);
    expect(listed.code).toBe(1);
    expect(listed.err).toMatch(/broken\.json: difficulty: /);
  });

  it('shows a case plainly, or as JSON with its defaults filled in; a missing case fails', async () => {
    await run(['eval', 'add', 'triage'], JSON.stringify(triageCase('shown')));
    const shown = await run(['eval', 'show', 'triage', 'shown']);
    expect(shown.code).toBe(0);
    expect(shown.out).toContain('verdict:    real');
    expect(shown.out).toContain('severity:   P1');
    expect(shown.out).toContain('  - checkout fails for orders without a coupon');
    expect(shown.out).toContain('alert:      [Triggered] checkout-service: unhandled errors on POST /checkout');
    const json = JSON.parse((await run(['eval', 'show', 'triage', 'shown', '--json'])).out) as { input: { errorLogs: unknown[] } };
    expect(json.input.errorLogs).toEqual([]);

    const missing = await run(['eval', 'show', 'triage', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('the triage suite has no case nope');
  });

  it('edits with a merge patch from standard input or --file, and refuses a patch that breaks the case', async () => {
    await run(['eval', 'add', 'triage'], JSON.stringify(triageCase('to-edit')));
    const edited = await run(['eval', 'edit', 'triage', 'to-edit'], '{"labels":{"severity":"P3"},"categories":["low-count"]}');
    expect(edited.code).toBe(0);
    expect(edited.out).toMatch(/^edited triage\/to-edit/);
    expect(stored('triage', 'to-edit')).toMatchObject({ labels: { severity: 'P3' }, categories: ['low-count'] });

    const patch = path.join(datasets, 'patch.json');
    fs.writeFileSync(patch, '{"difficulty":"medium"}');
    expect((await run(['eval', 'edit', 'triage', 'to-edit', '--file', patch])).code).toBe(0);
    expect(stored('triage', 'to-edit')).toMatchObject({ difficulty: 'medium' });

    const broken = await run(['eval', 'edit', 'triage', 'to-edit'], '{"labels":{"verdict":"duplicate"}}');
    expect(broken.code).toBe(1);
    expect(broken.err).toContain('to-edit.json: labels.duplicateOf: a duplicate names the incident it duplicates');
    expect(stored('triage', 'to-edit')).toMatchObject({ labels: { verdict: 'real' } });
  });

  it('replaces a case whole, refusing a missing id or a case of another id', async () => {
    await run(['eval', 'add', 'triage'], JSON.stringify(triageCase('to-replace')));
    expect((await run(['eval', 'replace', 'triage', 'to-replace'], JSON.stringify(triageCase('to-replace', { difficulty: 'hard' })))).code).toBe(0);
    expect(stored('triage', 'to-replace')).toMatchObject({ difficulty: 'hard' });
    const missing = await run(['eval', 'replace', 'triage', 'absent'], JSON.stringify(triageCase('absent')));
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('no case absent');
    const renamed = await run(['eval', 'replace', 'triage', 'to-replace'], JSON.stringify(triageCase('other-id')));
    expect(renamed.code).toBe(1);
    expect(renamed.err).toContain("to-replace.json: id: the case id is its file's name: to-replace, not other-id");
  });

  it('removes a case, and fails on one that is not there', async () => {
    await run(['eval', 'add', 'triage'], JSON.stringify(triageCase('to-remove')));
    expect(await run(['eval', 'remove', 'triage', 'to-remove'])).toMatchObject({ code: 0, out: 'removed triage/to-remove' });
    expect(fs.existsSync(path.join(datasets, 'triage', 'to-remove.json'))).toBe(false);
    expect((await run(['eval', 'remove', 'triage', 'to-remove'])).code).toBe(1);
  });

  it('refuses an unknown suite or an id that is not kebab-case as bad usage', async () => {
    const suite = await run(['eval', 'list', 'summarize']);
    expect(suite.code).toBe(2);
    expect(suite.err).toContain('the suite is one of triage, deploy-attribution');
    const id = await run(['eval', 'show', 'triage', 'Bad_Id']);
    expect(id.code).toBe(2);
    expect(id.err).toContain('kebab-case');
  });
});
