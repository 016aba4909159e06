import { z } from 'zod';
import { STEWARD_BRANCH_PREFIX } from '../../domain/steward-branch';
import { GitHubWebhookRejectedError, parseDeliveryJson, verifiedDelivery, type WebhookHeaders } from './webhook-delivery';

export { GitHubWebhookRejectedError, type WebhookHeaders } from './webhook-delivery';

/**
 * GitHub's webhook deliveries, as the HTTP edge receives them: the signature (X-Hub-Signature-256,
 * HMAC-SHA256 of the raw body with the webhook secret) is checked with @octokit/webhooks before
 * anything in the body is believed, and a resolved pull request (merged, or closed without merging)
 * is read out of a `pull_request` event, so that the incident following it can be told.
 */

export interface ResolvedPullRequest {
  /** 'owner/name'. */
  repository: string;
  number: number;
  branch: string;
  /** False for a pull request closed without merging. */
  merged: boolean;
  /** Null unless merged. */
  mergeCommitSha: string | null;
  /** When it was merged, or closed; ISO 8601, as GitHub sends it. */
  resolvedAt: string;
  /** From a `steward/<incident>` branch of the repository itself; null for any other branch. */
  incidentId: string | null;
  title: string | null;
  /** The login of whoever opened it. */
  author: string | null;
  /** Its page on GitHub. */
  url: string | null;
}

const PullRequestEvent = z.object({
  action: z.string(),
  pull_request: z.object({
    number: z.number().int().positive(),
    title: z.string().nullish(),
    html_url: z.string().nullish(),
    user: z.object({ login: z.string() }).nullish(),
    merged: z.boolean().nullish(),
    merged_at: z.string().nullable(),
    closed_at: z.string().nullish(),
    merge_commit_sha: z.string().nullable(),
    // The head repository is null once a fork is deleted.
    head: z.object({ ref: z.string(), repo: z.object({ full_name: z.string() }).nullable() }),
  }),
  repository: z.object({ full_name: z.string() }),
});
type PullRequestEvent = z.infer<typeof PullRequestEvent>;

/**
 * The pull request a verified `pull_request` delivery reports as merged or closed, or null when the
 * event is anything else (another event type, a PR opened, reopened, labelled…). Throws
 * GitHubWebhookRejectedError when the signature is missing or wrong, before the body is parsed.
 * `rawBody` must be the bytes as received: re-serialized JSON no longer matches the signature.
 */
export async function resolvedPullRequestFromDelivery(headers: WebhookHeaders, rawBody: string | Buffer, secret: string): Promise<ResolvedPullRequest | null> {
  const { event, body } = await verifiedDelivery(headers, rawBody, secret);
  return event === 'pull_request' ? resolvedPullRequestFromEvent(body) : null;
}

/** The same, of a `pull_request` delivery whose signature already held. */
export function resolvedPullRequestFromEvent(body: string): ResolvedPullRequest | null {
  const parsed = PullRequestEvent.safeParse(parseDeliveryJson(body));
  if (!parsed.success) throw new GitHubWebhookRejectedError('payload', `the pull_request event is not as documented: ${z.prettifyError(parsed.error)}`);
  if (parsed.data.action !== 'closed') return null;
  const { pull_request: pullRequest } = parsed.data;
  return { ...resolution(parsed.data), ...branchOf(parsed.data), title: pullRequest.title ?? null, author: pullRequest.user?.login ?? null, url: pullRequest.html_url ?? null };
}

function resolution({ pull_request: pullRequest, repository }: PullRequestEvent): Pick<ResolvedPullRequest, 'repository' | 'number' | 'merged' | 'mergeCommitSha' | 'resolvedAt'> {
  const { number } = pullRequest;
  if (pullRequest.merged === true) {
    if (pullRequest.merged_at === null || pullRequest.merge_commit_sha === null) {
      throw new GitHubWebhookRejectedError('payload', `pull request #${number} is merged but has no merge time or merge commit`);
    }
    return { repository: repository.full_name, number, merged: true, mergeCommitSha: pullRequest.merge_commit_sha, resolvedAt: pullRequest.merged_at };
  }
  // Closed without merging: GitHub still names a merge_commit_sha (its test merge), which was never merged.
  if (!pullRequest.closed_at) throw new GitHubWebhookRejectedError('payload', `pull request #${number} is closed but has no closing time`);
  return { repository: repository.full_name, number, merged: false, mergeCommitSha: null, resolvedAt: pullRequest.closed_at };
}

function branchOf({ pull_request: pullRequest, repository }: PullRequestEvent): Pick<ResolvedPullRequest, 'branch' | 'incidentId'> {
  const branch = pullRequest.head.ref;
  // Steward pushes its branches to the repository itself: a fork's branch of the same name is not one.
  const fromThisRepository = pullRequest.head.repo?.full_name === repository.full_name;
  const incidentId = fromThisRepository && branch.startsWith(STEWARD_BRANCH_PREFIX) ? branch.slice(STEWARD_BRANCH_PREFIX.length) || null : null;
  return { branch, incidentId };
}
