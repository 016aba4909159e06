import type { RepositoryRef } from './code-host.port';

/**
 * Reads a service's code at one revision, for grounding what a model says about it: does the file
 * exist, does the symbol, what does the file say. Keyed by service name (the services file), so the
 * caller never handles repository locations.
 *
 * Failures: ERROR_TYPES.serviceNotConfigured for a service it does not know, ERROR_TYPES.revisionNotFound
 * for a revision the repository does not hold (both permanent); anything else (a fetch that failed) is transient.
 */
export interface CodeSearchPort {
  /** For each path, whether it is a file at the revision. */
  filesExist(service: string, revision: string, paths: string[]): Promise<Record<string, boolean>>;
  /** For each identifier, whether it occurs as a whole word in any file at the revision. */
  findSymbols(service: string, revision: string, symbols: string[]): Promise<Record<string, boolean>>;
  /** The file's text at the revision, or null when no such file exists there. */
  readFile(service: string, revision: string, path: string): Promise<string | null>;
  /**
   * The unified diff of what a deploy changed: from `from` to `to`, or with `from` null the
   * revision's own commit against its first parent. Cut at `maxChars` (truncated says so).
   */
  diff(service: string, from: string | null, to: string, maxChars: number): Promise<{ text: string; truncated: boolean; from: string; to: string }>;
  /**
   * For each literal, where it occurs as written (a fixed string, case-sensitive) in any tracked
   * file at the revision: the first file and line, or null when it occurs nowhere. Grounds the
   * strings a generated monitor matches.
   */
  findLiterals(service: string, revision: string, literals: string[]): Promise<Record<string, { file: string; line: number } | null>>;
  /** Non-blank lines of the tracked source files at the revision (binary, vendored and generated files left out), for lines per monitor. */
  countSourceLines(service: string, revision: string): Promise<{ files: number; lines: number }>;
  /** The tracked source files at the revision (the ones countSourceLines counts), sorted: nightly QA's candidate areas. */
  listSourceFiles(service: string, revision: string): Promise<string[]>;
  /**
   * For each path, in the order given, the last commit reachable from the revision that changed it
   * (its committer time, ISO), and how many commits changed it in the 30 days up to the revision's
   * own commit time (not the clock's: a revision gets the same answer whenever it is asked). Null and
   * 0 for a path no commit touched (or one that leaves the repository). Renames are not followed.
   * The repository is read by its service, like every other call here: a code host's location
   * ('owner/name' on GitHub) is not where git reads it.
   */
  lastChanges(repository: RepositoryRef, revision: string, paths: string[]): Promise<PathLastChange[]>;
}

/** One path's recent history, for telling code that moves (and breaks) from code nobody touched in a year. */
export interface PathLastChange {
  path: string;
  lastChangedAt: string | null;
  lastCommitSha: string | null;
  commitsInLast30Days: number;
}
