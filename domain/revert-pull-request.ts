/** The title and body of a revert pull request: what the deploy broke, what the revert undoes, how it was checked. */
export interface RevertPullRequestContent {
  watchId: string;
  service: string;
  /** Full shas. */
  revision: string;
  previousRevision: string;
  /** Markdown from the watch: the flagged signatures and their evidence. */
  summary: string;
  /** Why, in the words of whoever decided (the approval's reason). */
  reason: string;
  revertedCommits: { sha: string; subject: string }[];
  revertDiffStat: string;
  testSummary: string;
}

const short = (sha: string) => sha.slice(0, 7);

export function revertPullRequestTitle(content: Pick<RevertPullRequestContent, 'service' | 'revision' | 'previousRevision'>): string {
  return `Revert ${content.service} to ${short(content.previousRevision)} (deploy ${short(content.revision)} raised errors)`;
}

export function revertPullRequestBody(content: RevertPullRequestContent): string {
  const commits =
    content.revertedCommits.length === 0
      ? ['(the list of commits was not available)']
      : content.revertedCommits.map((commit) => `- ${short(commit.sha)} ${commit.subject}`);
  return [
    `The deploy of \`${content.revision}\` to **${content.service}** raised errors that the deploy watch pinned on it, and the cause is not clear enough to fix forward. This pull request puts back the code of the previous deploy, \`${content.previousRevision}\`.`,
    '',
    '## What the watch saw',
    '',
    content.summary.trim(),
    '',
    '## What this reverts',
    '',
    `One commit on \`${short(content.revision)}\` whose tree is \`${short(content.previousRevision)}\`'s, exactly: the code that ran before the deploy, merges and all.${content.revertDiffStat ? ` ${content.revertDiffStat}.` : ''}`,
    '',
    ...commits,
    '',
    '## Verification',
    '',
    content.testSummary ? `In a fresh sandbox at the revert's tree: ${content.testSummary}.` : 'Not verified in a sandbox.',
    ...(content.reason ? ['', `Decision: ${content.reason}`] : []),
    '',
    `Opened by Steward for deploy watch \`${content.watchId}\`.`,
  ].join('\n');
}
