import { z } from 'zod';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import type { ServicesConfig } from '../../domain/service-config';
import { REVERT_BRANCH_PREFIX } from '../../domain/steward-branch';
import { readSuiteOutcome } from '../../domain/test-results';
import { shellQuote } from '../../lib/shell-quote';
import type { CodeHostPort, LineAuthor, PullRequest } from '../../ports/code-host.port';
import type { RollbackHookPort } from '../../ports/rollback-hook.port';
import type { SandboxPort } from '../../sandbox/sandbox.port';
import { heartbeatWhile, repositoryRefFor, runInActivity, sandboxIdFor, serviceConfigFor } from '../shared/sandbox-session';
import { revertPullRequestBody, revertPullRequestTitle } from '../../domain/revert-pull-request';

/**
 * The roll-back path of the deploy watch: a revert of the deploy, verified in the sandbox and opened
 * as a pull request; or a call to the service's own rollback hook. Either waits at the approval gate
 * first; these activities do only what the watch decided.
 *
 * A revert restores the previous revision's tree as one commit on the deployed revision, rather
 * than `git revert previous..revision` commit by commit: the result is the code that ran before the
 * deploy, byte for byte, whatever merges lie between (a range revert of merged branches needs
 * `-m 1` per merge and can conflict with itself). So the suite is verified at the previous revision,
 * whose tree the revert commit holds, in a sandbox set up as for any revision (the setup runs with
 * its registry access at open, which commands inside the sandbox do not have).
 */

const Revision = z
  .string()
  .trim()
  .min(1)
  .regex(/^[^\s-][^\s]*$/, 'must be a revision (no spaces, not starting with "-")');
const RevertInput = z.object({
  watchId: z.string().min(1),
  service: z.string().min(1),
  revision: Revision,
  previousRevision: Revision,
});
export type RevertInput = z.infer<typeof RevertInput>;

export interface RevertedCommit {
  sha: string;
  subject: string;
}

export interface RevertVerification {
  /** True when the suite passed at the revert's tree. */
  verified: boolean;
  /** Full shas: the revert PR is built from these, so it holds exactly the tree verified here. */
  revisionCommit: string;
  previousCommit: string;
  /** The commits in previous..revision, newest first (at most REVERTED_COMMITS_LISTED). */
  revertedCommits: RevertedCommit[];
  /** `git diff --shortstat` of the revert, e.g. "3 files changed, 10 insertions(+), 4 deletions(-)". */
  revertDiffStat: string;
  testSummary: string;
  /** The end of the suite's output when it did not pass. */
  failureOutput?: string;
}

const OpenRevertInput = RevertInput.extend({
  /** The commits verifyRevert resolved: the PR restores previousRevision's tree on revision. */
  revision: z.string().regex(/^[0-9a-f]{40,64}$/, 'must be the full sha verifyRevert returned (revisionCommit)'),
  previousRevision: z.string().regex(/^[0-9a-f]{40,64}$/, 'must be the full sha verifyRevert returned (previousCommit)'),
  /** Why the watch rolls back: the flagged signatures and their evidence, as markdown. */
  summary: z.string().min(1, 'summary must say why the deploy is rolled back'),
  reason: z.string().default(''),
  revertedCommits: z.array(z.object({ sha: z.string(), subject: z.string() })).default([]),
  revertDiffStat: z.string().default(''),
  testSummary: z.string().default(''),
  reviewers: z.array(z.string().trim().min(1)).default([]),
  draft: z.boolean().default(false),
});
export type OpenRevertInput = z.input<typeof OpenRevertInput>;

const HookInput = RevertInput.extend({ reason: z.string().min(1, 'reason must say why the deploy is rolled back') });
export type RollbackHookInput = z.infer<typeof HookInput>;

const LineInput = z.object({
  service: z.string().min(1),
  revision: Revision,
  file: z.string().min(1).refine((file) => !file.startsWith('/') && !file.split('/').includes('..'), 'file must be a path inside the repository'),
  line: z.number().int().positive(),
});
export type LineAuthorInput = z.infer<typeof LineInput>;

const REVERTED_COMMITS_LISTED = 50;
/** What verifyRevert's probe prints: git's answers, one per marked line, so the output tail can be parsed. */
const MARK = '@steward';

function parsed<T extends z.ZodType>(schema: T, input: unknown, activity: string): z.infer<T> {
  const result = schema.safeParse(input);
  if (!result.success) throw stewardFailure(ERROR_TYPES.invalidActivityInput, `${activity}: invalid input: ${z.prettifyError(result.error)}`);
  return result.data;
}

/** Shas that name a branch in a revert branch name; the first 12 characters are plenty. */
export function shortRevision(revision: string): string {
  return /^[0-9a-f]{12,}$/.test(revision) ? revision.slice(0, 12) : revision.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 40);
}

/** One branch per deploy rolled back: a retry finds its PR instead of opening another. */
export function revertBranchFor(revision: string): string {
  return `${REVERT_BRANCH_PREFIX}${shortRevision(revision)}`;
}

/** The shell script that checks both revisions in the workspace and prints what the revert undoes. */
function revertProbeScript(revision: string, previous: string): string {
  const rev = shellQuote(`${revision}^{commit}`);
  const prev = shellQuote(`${previous}^{commit}`);
  return [
    'set -u',
    // The workspace's .git may belong to another uid than the sandbox's: read it as it is, run nothing from it.
    `git() { command git -c safe.directory='*' -c core.fsmonitor=false "$@"; }`,
    `rev=$(git rev-parse --verify --quiet ${rev}) || { echo "${MARK} missing revision"; exit 3; }`,
    `prev=$(git rev-parse --verify --quiet ${prev}) || { echo "${MARK} missing previous"; exit 3; }`,
    `echo "${MARK} revision $rev"`,
    `echo "${MARK} previous $prev"`,
    `if git diff --quiet "$rev" "$prev"; then echo "${MARK} same-tree"; exit 4; fi`,
    `echo "${MARK} stat $(git diff --shortstat "$rev" "$prev")"`,
    `git log -n ${REVERTED_COMMITS_LISTED} --no-show-signature --format='${MARK} commit %H %s' "$prev..$rev"`,
  ].join('\n');
}

export function createRollbackActivities(deps: {
  sandbox: SandboxPort;
  codeHost: CodeHostPort;
  services: ServicesConfig;
  rollbackHook: RollbackHookPort;
  limits?: { commandTimeoutMs?: number };
}) {
  const commandTimeoutMs = deps.limits?.commandTimeoutMs ?? 10 * 60_000;
  return {
    /**
     * In a fresh sandbox at the previous revision (the revert's tree; see the top), checks that the
     * deploy changed something, lists what the revert undoes, and runs the suite. The sandbox is
     * destroyed whatever happens. Permanent failures: RevisionNotFound, NothingToRevert.
     */
    async verifyRevert(rawInput: RevertInput): Promise<RevertVerification> {
      const input = parsed(RevertInput, rawInput, 'verifyRevert');
      const service = serviceConfigFor(deps.services, input.service);
      const sandboxId = sandboxIdFor(`${input.watchId}-revert`);
      try {
        // Opening clones and runs the setup at previousRevision; RevisionNotFound when it is not in the repository.
        const handle = await heartbeatWhile({ phase: 'open' }, () =>
          deps.sandbox.open({ sandboxId, repositoryLocation: service.repository, revision: input.previousRevision, setupCommand: service.setupCommand }),
        );
        const probe = await runInActivity(deps.sandbox, sandboxId, revertProbeScript(input.revision, handle.revision), 60_000, { phase: 'probe' });
        const marked = probe.outputTail
          .split('\n')
          .filter((line) => line.startsWith(`${MARK} `))
          .map((line) => line.slice(MARK.length + 1));
        if (marked.includes('missing revision')) {
          throw stewardFailure(ERROR_TYPES.revisionNotFound, `revision ${input.revision} not found in ${service.repository}`, { revision: input.revision });
        }
        if (marked.includes('missing previous')) {
          throw stewardFailure(ERROR_TYPES.revisionNotFound, `revision ${input.previousRevision} not found in ${service.repository}`, { revision: input.previousRevision });
        }
        if (marked.includes('same-tree')) {
          throw stewardFailure(ERROR_TYPES.nothingToRevert, `${input.revision} has the same tree as ${input.previousRevision}: the deploy changed no file`, input);
        }
        const value = (key: string) => marked.find((line) => line.startsWith(`${key} `))?.slice(key.length + 1);
        const revisionCommit = value('revision');
        const previousCommit = value('previous');
        if (probe.exitCode !== 0 || !revisionCommit || !previousCommit) {
          throw new Error(`the revert probe failed in sandbox ${sandboxId} (exit ${probe.exitCode}): ${probe.outputTail.slice(-500)}`);
        }
        const revertedCommits = marked
          .filter((line) => line.startsWith('commit '))
          .map((line) => {
            const [, sha = '', ...subject] = line.split(' ');
            return { sha, subject: subject.join(' ') };
          });

        const suite = await runInActivity(deps.sandbox, sandboxId, service.testCommand, commandTimeoutMs, { phase: 'suite' });
        const outcome = readSuiteOutcome(suite.exitCode, suite.timedOut, suite.outputTail);
        const verified = suite.exitCode === 0 && !suite.timedOut;
        const counts =
          outcome.passedCount === null ? '' : ` (${outcome.passedCount} passing, ${outcome.failingTests?.length ?? 0} failing${outcome.failingTests?.length ? `: ${outcome.failingTests.join(', ')}` : ''})`;
        const testSummary = suite.timedOut
          ? `the suite timed out after ${Math.round(suite.durationMs / 1000)} s at the revert`
          : verified
            ? `the suite passes at the revert${counts}`
            : `the suite fails at the revert (exit ${suite.exitCode ?? suite.signal})${counts}`;
        return {
          verified,
          revisionCommit,
          previousCommit,
          revertedCommits,
          revertDiffStat: value('stat')?.trim() ?? '',
          testSummary,
          ...(verified ? {} : { failureOutput: suite.outputTail.slice(-4_000) }),
        };
      } finally {
        await deps.sandbox.destroy(sandboxId);
      }
    },

    /**
     * Opens (or finds again) the revert PR: branch steward/revert-<rev>, one commit on the deployed
     * revision holding the previous revision's tree, review asked of the given logins.
     */
    async openRevertPullRequest(rawInput: OpenRevertInput): Promise<PullRequest> {
      const input = parsed(OpenRevertInput, rawInput, 'openRevertPullRequest');
      const service = serviceConfigFor(deps.services, input.service);
      const content = input;
      return deps.codeHost.openPullRequest({
        repository: repositoryRefFor(service),
        // The watch stands in for the incident: its id is the commit's trailer and the record's key.
        incidentId: input.watchId,
        branch: revertBranchFor(input.revision),
        baseRevision: input.revision,
        title: revertPullRequestTitle(content),
        body: revertPullRequestBody(content),
        diff: '',
        restoreTreeOf: input.previousRevision,
        draft: input.draft,
        reviewers: input.reviewers,
      });
    },

    /**
     * Asks the service's deploy tooling to put the previous revision back. The watch id is the
     * Idempotency-Key, so retries ask for the same roll-back.
     */
    async callRollbackHook(rawInput: RollbackHookInput): Promise<{ status: number; response: string }> {
      const input = parsed(HookInput, rawInput, 'callRollbackHook');
      const service = serviceConfigFor(deps.services, input.service);
      if (!service.rollbackHook) {
        throw stewardFailure(ERROR_TYPES.rollbackHookNotConfigured, `service ${input.service} has no rollbackHook in the services file`, { service: input.service });
      }
      const answer = await deps.rollbackHook.call(service.rollbackHook, {
        service: input.service,
        revision: input.revision,
        rollbackTo: input.previousRevision,
        watchId: input.watchId,
        reason: input.reason,
      });
      return { status: answer.status, response: answer.bodyText };
    },

    /** How this service is rolled back: through its own hook when the services file names one, otherwise by a revert PR. */
    async rollbackFormOf(input: { service: string }): Promise<{ form: 'hook' | 'revert_pr' }> {
      const service = serviceConfigFor(deps.services, input.service);
      return { form: service.rollbackHook ? 'hook' : 'revert_pr' };
    },

    /** The author of the cited line, to ask for their review of the fix or the revert. */
    async findLineAuthor(rawInput: LineAuthorInput): Promise<LineAuthor> {
      const input = parsed(LineInput, rawInput, 'findLineAuthor');
      const service = serviceConfigFor(deps.services, input.service);
      return deps.codeHost.authorOfLine({ repository: repositoryRefFor(service), revision: input.revision, file: input.file, line: input.line });
    },
  };
}
export type RollbackActivities = ReturnType<typeof createRollbackActivities>;
