import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import type { RepositoryRef } from '../../ports/code-host.port';
import type { CodeSearchPort, PathLastChange } from '../../ports/code-search.port';

/** One commit of a service's history: the whole tree after it, as files and their contents. */
export interface InMemoryCommit {
  sha: string;
  /** Committer time, ISO. */
  committedAt: string;
  files: Record<string, string>;
  /** Names that point at this commit (a branch, a tag). */
  refs?: string[];
}

const THIRTY_DAYS_MS = 30 * 24 * 60 * 60 * 1000;
const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * CodeSearchPort in memory, over a straight line of commits per service (oldest first), each holding
 * its whole tree. A path changed at a commit when its content differs from the commit before (or it
 * appears or goes). It refuses what the git adapter refuses: an unknown service or revision. Its diff
 * is a file-level one (each changed file's old lines removed, new lines added), not git's hunks.
 */
export class InMemoryCodeSearch implements CodeSearchPort {
  private readonly histories = new Map<string, InMemoryCommit[]>();

  constructor(histories: Record<string, InMemoryCommit[]> = {}) {
    for (const [service, commits] of Object.entries(histories)) this.setHistory(service, commits);
  }

  setHistory(service: string, commits: InMemoryCommit[]): void {
    this.histories.set(service, commits.map((c) => ({ ...c, files: { ...c.files } })));
  }

  async filesExist(service: string, revision: string, paths: string[]): Promise<Record<string, boolean>> {
    const { files } = this.commitAt(service, revision).commit;
    return Object.fromEntries(paths.map((p) => [p, Object.hasOwn(files, normalize(p))]));
  }

  async findSymbols(service: string, revision: string, symbols: string[]): Promise<Record<string, boolean>> {
    const code = Object.values(this.commitAt(service, revision).commit.files).join('\n');
    return Object.fromEntries(symbols.map((s) => [s, /^[A-Za-z_$][\w$]*$/.test(s) && new RegExp(`(^|[^\\w$])${escape(s)}($|[^\\w$])`).test(code)]));
  }

  async readFile(service: string, revision: string, file: string): Promise<string | null> {
    return this.commitAt(service, revision).commit.files[normalize(file)] ?? null;
  }

  async diff(service: string, from: string | null, to: string, maxChars: number): Promise<{ text: string; truncated: boolean; from: string; to: string }> {
    const target = this.commitAt(service, to);
    const base = from !== null ? this.commitAt(service, from).commit : (this.histories.get(service)![target.index - 1] ?? { sha: '', committedAt: '', files: {} });
    const paths = [...new Set([...Object.keys(base.files), ...Object.keys(target.commit.files)])].sort();
    const text = paths
      .filter((p) => base.files[p] !== target.commit.files[p])
      .map((p) => {
        const before = base.files[p]?.split('\n').filter((_, i, all) => i < all.length - 1 || all[i] !== '') ?? [];
        const after = target.commit.files[p]?.split('\n').filter((_, i, all) => i < all.length - 1 || all[i] !== '') ?? [];
        return [
          `diff --git a/${p} b/${p}`,
          `--- ${base.files[p] === undefined ? '/dev/null' : `a/${p}`}`,
          `+++ ${target.commit.files[p] === undefined ? '/dev/null' : `b/${p}`}`,
          `@@ -${before.length === 0 ? 0 : 1},${before.length} +${after.length === 0 ? 0 : 1},${after.length} @@`,
          ...before.map((line) => `-${line}`),
          ...after.map((line) => `+${line}`),
        ].join('\n');
      })
      .join('\n');
    const whole = text === '' ? '' : `${text}\n`;
    return { text: whole.slice(0, maxChars), truncated: whole.length > maxChars, from: base.sha, to: target.commit.sha };
  }

  async findLiterals(service: string, revision: string, literals: string[]): Promise<Record<string, { file: string; line: number } | null>> {
    const files = Object.entries(this.commitAt(service, revision).commit.files).sort(([a], [b]) => (a < b ? -1 : 1));
    const located = (literal: string): { file: string; line: number } | null => {
      for (const [file, content] of files) {
        const index = content.split('\n').findIndex((line) => line.includes(literal));
        if (index >= 0) return { file, line: index + 1 };
      }
      return null;
    };
    return Object.fromEntries(literals.map((literal) => [literal, /[\r\n]/.test(literal) ? null : located(literal)]));
  }

  async listSourceFiles(service: string, revision: string): Promise<string[]> {
    return Object.keys(this.commitAt(service, revision).commit.files).sort();
  }

  async countSourceLines(service: string, revision: string): Promise<{ files: number; lines: number }> {
    const counted = Object.values(this.commitAt(service, revision).commit.files)
      .map((content) => content.split('\n').filter((line) => line.trim() !== '').length)
      .filter((lines) => lines > 0);
    return { files: counted.length, lines: counted.reduce((sum, n) => sum + n, 0) };
  }

  async lastChanges(repository: RepositoryRef, revision: string, paths: string[]): Promise<PathLastChange[]> {
    const { index } = this.commitAt(repository.service, revision);
    const line = this.histories.get(repository.service)!.slice(0, index + 1);
    const windowStart = Date.parse(line[index]!.committedAt) - THIRTY_DAYS_MS;
    return paths.map((requested) => {
      const file = normalize(requested);
      const changes = line.filter((c, i) => c.files[file] !== (i === 0 ? undefined : line[i - 1]!.files[file]));
      const last = changes.at(-1);
      return {
        path: requested,
        lastChangedAt: last ? new Date(last.committedAt).toISOString() : null,
        lastCommitSha: last?.sha ?? null,
        commitsInLast30Days: changes.filter((c) => Date.parse(c.committedAt) >= windowStart).length,
      };
    });
  }

  private commitAt(service: string, revision: string): { commit: InMemoryCommit; index: number } {
    const commits = this.histories.get(service);
    if (!commits) throw stewardFailure(ERROR_TYPES.serviceNotConfigured, `No repository is configured for service "${service}"`, { service });
    // A ref names the newest commit holding it, as a branch that moved names its tip.
    let index = -1;
    commits.forEach((c, i) => {
      if (c.sha === revision || c.refs?.includes(revision)) index = i;
    });
    if (index < 0) throw stewardFailure(ERROR_TYPES.revisionNotFound, `revision ${revision} not found for ${service}`, { service, revision });
    return { commit: commits[index]!, index };
  }
}

function normalize(file: string): string {
  return file.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
}
