import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ERROR_TYPES } from '../../contracts';
import { CaseStore, CaseStoreError } from './case-store';
import { triageCase } from '../../test/support/eval-cases';

describe('CaseStore', () => {
  let root: string;
  let store: CaseStore;
  const fileOf = (id: string) => path.join(root, 'triage', `${id}.json`);

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'steward-cases-'));
    store = new CaseStore(root);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  async function refusal(promise: Promise<unknown>): Promise<CaseStoreError> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof CaseStoreError) return error;
      throw error;
    }
    throw new Error('expected the store to refuse');
  }

  it('adds a case as pretty JSON with a trailing newline and its keys in the schema order, and reads it back', async () => {
    // Keys given out of order: the file holds them in the schema's order.
    const { labels, id, ...rest } = triageCase('null-coupon');
    await store.add('triage', { labels, ...rest, id });
    const text = fs.readFileSync(fileOf('null-coupon'), 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toContain('\n  "id": "null-coupon",\n');
    expect(Object.keys(JSON.parse(text) as object)).toEqual(['id', 'description', 'difficulty', 'categories', 'provenance', 'input', 'labels']);
    expect(Object.keys((JSON.parse(text) as { labels: object }).labels)).toEqual(['verdict', 'severity', 'duplicateOf', 'facts']);
    const read = await store.get('triage', 'null-coupon');
    expect(read.labels.verdict).toBe('real');
    // Defaults are filled in on reading, not written: the file holds what was given.
    expect(read.input.errorLogs).toEqual([]);
    expect(text).not.toContain('errorLogs');
  });

  it('lists the cases of a suite by id, and an absent suite folder as empty', async () => {
    expect(await store.list('triage')).toEqual([]);
    await store.add('triage', triageCase('b-case'));
    await store.add('triage', triageCase('a-case'));
    expect((await store.list('triage')).map((c) => c.id)).toEqual(['a-case', 'b-case']);
    expect(await store.list('deploy-attribution')).toEqual([]);
  });

  it('refuses to add an id that exists, and leaves the stored case as it was', async () => {
    await store.add('triage', triageCase('twice'));
    const before = fs.readFileSync(fileOf('twice'), 'utf8');
    const error = await refusal(store.add('triage', triageCase('twice', { description: 'another' })));
    expect(error.type).toBe(ERROR_TYPES.evalCaseExists);
    expect(error.message).toContain('twice.json: the triage suite already has a case twice');
    expect(fs.readFileSync(fileOf('twice'), 'utf8')).toBe(before);
    expect(fs.readdirSync(path.join(root, 'triage'))).toEqual(['twice.json']);
  });

  it('replaces an existing case and refuses to replace a missing one', async () => {
    await store.add('triage', triageCase('swap'));
    await store.replace('triage', 'swap', triageCase('swap', { difficulty: 'hard' }));
    expect((await store.get('triage', 'swap')).difficulty).toBe('hard');
    const error = await refusal(store.replace('triage', 'absent', triageCase('absent')));
    expect(error.type).toBe(ERROR_TYPES.evalCaseNotFound);
    expect(fs.existsSync(fileOf('absent'))).toBe(false);
  });

  it('refuses a replacement whose id is not the file name', async () => {
    await store.add('triage', triageCase('keep-name'));
    const error = await refusal(store.replace('triage', 'keep-name', triageCase('other-name')));
    expect(error.type).toBe(ERROR_TYPES.evalCaseInvalid);
    expect(error.issues).toEqual([{ field: 'id', message: "the case id is its file's name: keep-name, not other-name" }]);
  });

  it('edits with a merge patch: members merge, null removes, arrays replace; the result is validated first', async () => {
    await store.add('triage', triageCase('patched', { categories: ['code-bug', 'checkout'] }));
    await store.edit('triage', 'patched', { categories: ['low-count'], labels: { severity: 'P3' }, input: { webhook: { priority: 'P4' } } });
    const edited = await store.get('triage', 'patched');
    expect(edited.categories).toEqual(['low-count']);
    expect(edited.labels).toEqual({ verdict: 'real', severity: 'P3', duplicateOf: null, facts: ['checkout fails for orders without a coupon'] });
    expect(edited.input.webhook.priority).toBe('P4');

    const before = fs.readFileSync(fileOf('patched'), 'utf8');
    const error = await refusal(store.edit('triage', 'patched', { labels: { verdict: 'duplicate' } }));
    expect(error.message).toBe(`${store.fileOf('triage', 'patched')}: labels.duplicateOf: a duplicate names the incident it duplicates`);
    expect(fs.readFileSync(fileOf('patched'), 'utf8')).toBe(before);

    await store.edit('triage', 'patched', { input: { webhook: { priority: null } } });
    expect(JSON.parse(fs.readFileSync(fileOf('patched'), 'utf8')).input.webhook).not.toHaveProperty('priority');
    expect((await refusal(store.edit('triage', 'absent', {}))).type).toBe(ERROR_TYPES.evalCaseNotFound);
  });

  it('removes a case, and refuses to remove a missing one', async () => {
    await store.add('triage', triageCase('gone'));
    await store.remove('triage', 'gone');
    expect(fs.existsSync(fileOf('gone'))).toBe(false);
    expect((await refusal(store.remove('triage', 'gone'))).type).toBe(ERROR_TYPES.evalCaseNotFound);
  });

  it('names the file and each field of a malformed case, and writes nothing', async () => {
    const bad = triageCase('bad-case', {
      difficulty: 'impossible' as 'hard',
      labels: { verdict: 'duplicate', severity: 'P2', duplicateOf: null, facts: ['x'] },
    });
    const error = await refusal(store.add('triage', bad));
    expect(error.type).toBe(ERROR_TYPES.evalCaseInvalid);
    expect(error.issues.map((issue) => issue.field)).toEqual(expect.arrayContaining(['difficulty', 'labels.duplicateOf']));
    expect(error.message).toContain(`${store.fileOf('triage', 'bad-case')}: labels.duplicateOf: a duplicate names the incident it duplicates`);
    expect(fs.existsSync(fileOf('bad-case'))).toBe(false);
  });

  it('names array positions in a field path, and a duplicate of an incident the case does not hold', async () => {
    const base = triageCase('dup-case');
    const bad = {
      ...base,
      input: { ...base.input, errorLogs: [{ timestamp: 'yesterday', message: 'boom' }] },
      labels: { verdict: 'duplicate', severity: 'P2', duplicateOf: 'inc-404', facts: ['same error'] },
    };
    const error = await refusal(store.add('triage', bad));
    expect(error.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: 'input.errorLogs[0].timestamp' }),
        // The refinement over the whole case runs once its fields parse; the timestamp fails first.
      ]),
    );
    const fixedLogs = { ...bad, input: { ...bad.input, errorLogs: [] } };
    const second = await refusal(store.add('triage', fixedLogs));
    expect(second.issues).toEqual([{ field: 'labels.duplicateOf', message: 'inc-404 is not among input.recentIncidents' }]);
  });

  it('refuses a new case without a usable id, naming the field', async () => {
    const noId: Partial<ReturnType<typeof triageCase>> = triageCase('unused');
    delete noId.id;
    expect((await refusal(store.add('triage', noId))).issues).toEqual([{ field: 'id', message: 'a case names its id, which becomes its file name' }]);
    expect((await refusal(store.add('triage', triageCase('Not_Kebab')))).issues[0]!.field).toBe('id');
  });

  it('reading a file that is not JSON, or whose case is malformed, names the file; a list names every bad file', async () => {
    fs.mkdirSync(path.join(root, 'triage'), { recursive: true });
    fs.writeFileSync(fileOf('broken'), '{ "id": ');
    fs.writeFileSync(fileOf('wrong-id'), JSON.stringify(triageCase('right-id')));
    await store.add('triage', triageCase('fine'));
    const notJson = await refusal(store.get('triage', 'broken'));
    expect(notJson.type).toBe(ERROR_TYPES.evalCaseInvalid);
    expect(notJson.message).toMatch(/broken\.json: not JSON/);
    const listed = await refusal(store.list('triage'));
    expect(listed.message.split('\n')).toEqual([
      expect.stringMatching(/broken\.json: not JSON/),
      `${store.fileOf('triage', 'wrong-id')}: id: the case id is its file's name: wrong-id, not right-id`,
    ]);
  });

  it('writes atomically: a failed write leaves the old case and no scrap behind', async () => {
    await store.add('triage', triageCase('atomic'));
    const before = fs.readFileSync(fileOf('atomic'), 'utf8');
    const rename = jest.spyOn(fs.promises, 'rename').mockRejectedValueOnce(Object.assign(new Error('disk gone'), { code: 'EIO' }));
    try {
      await expect(store.replace('triage', 'atomic', triageCase('atomic', { difficulty: 'hard' }))).rejects.toThrow('disk gone');
    } finally {
      rename.mockRestore();
    }
    expect(fs.readFileSync(fileOf('atomic'), 'utf8')).toBe(before);
    expect(fs.readdirSync(path.join(root, 'triage'))).toEqual(['atomic.json']);
  });

  it('writes the same bytes for the same case, whatever order its keys came in', async () => {
    const one = new CaseStore(path.join(root, 'one'));
    const two = new CaseStore(path.join(root, 'two'));
    const value = triageCase('stable');
    const reversed = (object: object): object => Object.fromEntries(Object.entries(object).reverse());
    await one.add('triage', value);
    await two.add('triage', { ...reversed({ ...value, input: reversed({ ...value.input, webhook: reversed(value.input.webhook) }) }) });
    expect(fs.readFileSync(path.join(root, 'one', 'triage', 'stable.json'), 'utf8')).toBe(fs.readFileSync(path.join(root, 'two', 'triage', 'stable.json'), 'utf8'));
  });
});
