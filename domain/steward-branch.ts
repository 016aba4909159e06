import { findingSignaturesIn } from './nightly-qa/finding-signature';

/**
 * Every branch Steward writes starts with this: an incident's fix on `steward/<incident>`
 * (activities/pull-request branchFor) and a deploy's revert on `steward/revert-<revision>`
 * (activities/rollback revertBranchFor). A branch of that name is only Steward's when Steward opened
 * its PR: the code hosts check who did (the App's bot on GitHub), this only reads the name.
 */
export const STEWARD_BRANCH_PREFIX = 'steward/';
export const REVERT_BRANCH_PREFIX = `${STEWARD_BRANCH_PREFIX}revert-`;

/**
 * What a fix PR's body says of its incident (domain/pull-request-body.ts writes "Opened by Steward for
 * incident `<id>`"): the exact id, where the branch name holds it with some characters replaced.
 */
const INCIDENT_IN_BODY = /Opened by Steward for incident `([^`\n]+)`/;

export function isStewardBranch(branch: string): boolean {
  return branch.startsWith(STEWARD_BRANCH_PREFIX) && branch.length > STEWARD_BRANCH_PREFIX.length;
}

/** What a Steward pull request carries that a later look-up needs: the incident it fixes (null for a revert) and the nightly QA finding signatures its body quotes. */
export interface StewardPullRequestMarks {
  incidentId: string | null;
  signatures: string[];
}

/** The marks of a pull request on a Steward branch, or null for any other branch. */
export function stewardPullRequestMarks(pullRequest: { branch: string; body: string }): StewardPullRequestMarks | null {
  if (!isStewardBranch(pullRequest.branch)) return null;
  const revert = pullRequest.branch.startsWith(REVERT_BRANCH_PREFIX);
  const incidentId = INCIDENT_IN_BODY.exec(pullRequest.body)?.[1] ?? (revert ? null : pullRequest.branch.slice(STEWARD_BRANCH_PREFIX.length));
  return { incidentId, signatures: findingSignaturesIn(pullRequest.body) };
}
