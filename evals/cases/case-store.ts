import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { z } from 'zod';
import { ERROR_TYPES } from '../../contracts';
import { applyMergePatch } from '../../lib/json-merge-patch';
import { caseFileText } from './case-json';
import { SUITES, type SuiteName } from './case.schema';

/**
 * The labelled cases on disk: `<root>/<suite>/<id>.json`, one case a file. Every write is checked
 * against the suite's schema first and lands whole or not at all (a temporary file renamed into
 * place), so a reader never sees half a case and a refused case leaves the folder as it was.
 */

export type SuiteCase<S extends SuiteName> = z.output<(typeof SUITES)[S]>;

export type CaseStoreErrorType = typeof ERROR_TYPES.evalCaseInvalid | typeof ERROR_TYPES.evalCaseNotFound | typeof ERROR_TYPES.evalCaseExists;

export interface CaseIssue {
  /** Dotted, with indexes in brackets: `labels.duplicateOf`, `input.errorLogs[2].timestamp`; `(case)` for the case as a whole. */
  field: string;
  message: string;
}

export class CaseStoreError extends Error {
  constructor(
    readonly type: CaseStoreErrorType,
    /** The case file, as shown in the message. */
    readonly file: string,
    message: string,
    readonly issues: readonly CaseIssue[] = [],
  ) {
    super(message);
    this.name = 'CaseStoreError';
  }
}

export function fieldPath(pathParts: readonly PropertyKey[]): string {
  if (pathParts.length === 0) return '(case)';
  return pathParts.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`)).join('');
}

export class CaseStore {
  /** @param root the folder that holds one folder per suite (the repository's is config/paths EVAL_DATASETS_DIR). */
  constructor(private readonly root: string) {}

  /** The file a case lives in, as messages name it: relative to the working folder when it is inside it. */
  fileOf(suite: SuiteName, id: string): string {
    const absolute = path.resolve(this.root, suite, `${id}.json`);
    const relative = path.relative(process.cwd(), absolute);
    return relative.startsWith('..') || path.isAbsolute(relative) ? absolute : relative;
  }

  /** Every case of the suite, by id. One malformed file fails the whole list, naming every file and field that is wrong. */
  async list<S extends SuiteName>(suite: S): Promise<SuiteCase<S>[]> {
    const ids = await this.ids(suite);
    const cases: SuiteCase<S>[] = [];
    const failures: CaseStoreError[] = [];
    for (const id of ids) {
      try {
        cases.push(await this.get(suite, id));
      } catch (error) {
        if (!(error instanceof CaseStoreError)) throw error;
        failures.push(error);
      }
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) {
      throw new CaseStoreError(
        ERROR_TYPES.evalCaseInvalid,
        path.join(this.root, suite),
        failures.map((failure) => failure.message).join('\n'),
        failures.flatMap((failure) => failure.issues),
      );
    }
    return cases;
  }

  /** The ids of the suite's case files, sorted; no folder is an empty suite. */
  async ids(suite: SuiteName): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.promises.readdir(path.join(this.root, suite));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return names
      .filter((name) => name.endsWith('.json'))
      .map((name) => name.slice(0, -'.json'.length))
      .sort();
  }

  async get<S extends SuiteName>(suite: S, id: string): Promise<SuiteCase<S>> {
    return this.validated(suite, id, await this.readRaw(suite, id));
  }

  /** The case as its file holds it, before the schema fills in defaults: what `edit` patches. */
  async readRaw(suite: SuiteName, id: string): Promise<unknown> {
    const file = this.fileOf(suite, id);
    let text: string;
    try {
      text = await fs.promises.readFile(path.join(this.root, suite, `${id}.json`), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new CaseStoreError(ERROR_TYPES.evalCaseNotFound, file, `${file}: the ${suite} suite has no case ${id}`);
      throw error;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new CaseStoreError(ERROR_TYPES.evalCaseInvalid, file, `${file}: not JSON: ${(error as Error).message}`, [{ field: '(case)', message: 'not JSON' }]);
    }
  }

  /** Writes a new case; refuses an id the suite already holds. */
  async add<S extends SuiteName>(suite: S, value: unknown): Promise<SuiteCase<S>> {
    const id = this.idOf(suite, value);
    const parsed = this.validated(suite, id, value);
    await this.write(suite, id, value, 'new');
    return parsed;
  }

  /** Writes the case over the one of the same id; refuses an id the suite does not hold. */
  async replace<S extends SuiteName>(suite: S, id: string, value: unknown): Promise<SuiteCase<S>> {
    await this.readRaw(suite, id);
    const parsed = this.validated(suite, id, value);
    await this.write(suite, id, value, 'existing');
    return parsed;
  }

  /** Applies an RFC 7396 merge patch to the case as stored, and writes the result once it validates. */
  async edit<S extends SuiteName>(suite: S, id: string, patch: unknown): Promise<SuiteCase<S>> {
    const patched = applyMergePatch(await this.readRaw(suite, id), patch);
    const parsed = this.validated(suite, id, patched);
    await this.write(suite, id, patched, 'existing');
    return parsed;
  }

  async remove(suite: SuiteName, id: string): Promise<void> {
    try {
      await fs.promises.unlink(path.join(this.root, suite, `${id}.json`));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        const file = this.fileOf(suite, id);
        throw new CaseStoreError(ERROR_TYPES.evalCaseNotFound, file, `${file}: the ${suite} suite has no case ${id}`);
      }
      throw error;
    }
  }

  /** The id a new case names, which is its file's name; refused with the field when it has none. */
  private idOf(suite: SuiteName, value: unknown): string {
    const id = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as { id?: unknown }).id : undefined;
    const parsed = SUITES[suite].shape.id.safeParse(id);
    if (!parsed.success) {
      const where = path.join(path.relative(process.cwd(), path.resolve(this.root, suite)) || '.', '(new case)');
      const message = id === undefined ? 'a case names its id, which becomes its file name' : parsed.error.issues[0]!.message;
      throw new CaseStoreError(ERROR_TYPES.evalCaseInvalid, where, `${where}: id: ${message}`, [{ field: 'id', message }]);
    }
    return parsed.data;
  }

  private validated<S extends SuiteName>(suite: S, id: string, value: unknown): SuiteCase<S> {
    const file = this.fileOf(suite, id);
    const parsed = SUITES[suite].safeParse(value);
    const issues: CaseIssue[] = parsed.success ? [] : parsed.error.issues.map((issue) => ({ field: fieldPath(issue.path), message: issue.message }));
    if (parsed.success && parsed.data.id !== id) issues.push({ field: 'id', message: `the case id is its file's name: ${id}, not ${parsed.data.id}` });
    if (issues.length > 0) {
      throw new CaseStoreError(ERROR_TYPES.evalCaseInvalid, file, issues.map((issue) => `${file}: ${issue.field}: ${issue.message}`).join('\n'), issues);
    }
    return parsed.data as SuiteCase<S>;
  }

  /**
   * The case as given (not as parsed: nothing the schema would drop or fill in is lost or added),
   * written beside its target and then moved into place. A new case is linked into place, which
   * fails when the file exists, so two adds of one id cannot both win.
   */
  private async write(suite: SuiteName, id: string, value: unknown, expect: 'new' | 'existing'): Promise<void> {
    const target = path.join(this.root, suite, `${id}.json`);
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    const partial = `${target}.${process.pid}-${randomBytes(6).toString('hex')}.partial`;
    try {
      await fs.promises.writeFile(partial, caseFileText(SUITES[suite], value));
      if (expect === 'existing') {
        await fs.promises.rename(partial, target);
        return;
      }
      try {
        await fs.promises.link(partial, target);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const file = this.fileOf(suite, id);
        throw new CaseStoreError(ERROR_TYPES.evalCaseExists, file, `${file}: the ${suite} suite already has a case ${id}; replace or edit it instead`);
      }
    } finally {
      await fs.promises.rm(partial, { force: true });
    }
  }
}
