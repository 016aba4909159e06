import * as path from 'node:path';

/**
 * What a fix may never change, whoever asks: the model is prompted with production text, which an
 * attacker can write, and a change to CI configuration runs with the repository's secrets on the
 * next push, before any human reads the PR. The fix agent's edit tools refuse these paths, a
 * verified attempt that changed one anyway (through run_command) is rejected, and the pull-request
 * activity refuses a diff that holds one: three layers of the same rule.
 */

/** The name tool results, rejections and failures give this guard, so that a log or a test can tell which stopped what. */
export const CHANGE_POLICY_GUARD = 'change-policy';

const PROTECTED: { pattern: RegExp; what: string }[] = [
  { pattern: /^\.github\/workflows\//, what: 'CI configuration (GitHub Actions workflow)' },
  { pattern: /^\.github\/actions\//, what: 'CI configuration (GitHub Actions action)' },
  { pattern: /^\.github\/CODEOWNERS$|^CODEOWNERS$|^docs\/CODEOWNERS$/, what: 'code ownership (who must review)' },
  { pattern: /^\.gitlab-ci\.yml$|^\.gitlab\//, what: 'CI configuration (GitLab)' },
  { pattern: /^\.circleci\//, what: 'CI configuration (CircleCI)' },
  { pattern: /^\.buildkite\//, what: 'CI configuration (Buildkite)' },
  { pattern: /^Jenkinsfile$/, what: 'CI configuration (Jenkins)' },
  { pattern: /^azure-pipelines\.ya?ml$/, what: 'CI configuration (Azure Pipelines)' },
  { pattern: /^\.git(\/|$)/, what: "the repository's own git metadata" },
];

/** A workspace-relative path as git names it: `./.github//workflows/x.yml` is `.github/workflows/x.yml`. */
export function normalizeWorkspacePath(file: string): string {
  return path.posix.normalize(file.replace(/\\/g, '/')).replace(/^(\.\/)+/, '').replace(/^\/+/, '');
}

/** Why the path may not be changed, or null when it may. */
export function protectedPathReason(file: string): string | null {
  const normalized = normalizeWorkspacePath(file);
  return PROTECTED.find(({ pattern }) => pattern.test(normalized))?.what ?? null;
}

/** Every path a unified diff (as `git diff` prints it) touches, old and new names of a rename both. */
export function changedPaths(diff: string): string[] {
  const paths = new Set<string>();
  for (const line of diff.split('\n')) {
    const header = /^diff --git a\/(.+) b\/(.+)$/.exec(line);
    if (header) {
      paths.add(header[1]!);
      paths.add(header[2]!);
      continue;
    }
    const side = /^(?:---|\+\+\+) [ab]\/(.+)$/.exec(line);
    if (side) paths.add(side[1]!.replace(/\t.*$/, ''));
  }
  return [...paths];
}

export interface ProtectedChange {
  path: string;
  what: string;
}

/** The protected paths a diff touches; empty when the change is one a fix may make. */
export function protectedChanges(diff: string): ProtectedChange[] {
  return changedPaths(diff).flatMap((file) => {
    const what = protectedPathReason(file);
    return what === null ? [] : [{ path: normalizeWorkspacePath(file), what }];
  });
}

export function describeProtectedChanges(changes: ProtectedChange[]): string {
  return changes.map((change) => `${change.path} (${change.what})`).join(', ');
}
