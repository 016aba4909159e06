import { pathToFileURL } from 'node:url';
import * as vm from 'node:vm';
import { z } from 'zod';

/**
 * GitHub webhooks: the signature (X-Hub-Signature-256, HMAC-SHA256 of the raw body with the webhook
 * secret) is checked with @octokit/webhooks before anything in the body is believed, and a merged
 * pull request is read out of a `pull_request` event, so that the API can tell the incident's workflow.
 */

export interface MergedPullRequest {
  /** 'owner/name'. */
  repository: string;
  number: number;
  branch: string;
  mergeCommitSha: string;
  /** ISO 8601, as GitHub sends it. */
  mergedAt: string;
  /** From a `steward/<incident>` branch of the repository itself; null for any other branch. */
  incidentId: string | null;
}

/** The delivery is refused: its signature does not hold, or its signed body is not the event GitHub documents. */
export class GitHubWebhookRejectedError extends Error {
  constructor(
    readonly reason: 'signature' | 'payload',
    message: string,
  ) {
    super(message);
    this.name = 'GitHubWebhookRejectedError';
  }
}

export type WebhookHeaders = Record<string, string | string[] | undefined>;

/** The prefix branchFor (activities/pull-request) gives every incident branch. */
const INCIDENT_BRANCH_PREFIX = 'steward/';

const PullRequestEvent = z.object({
  action: z.string(),
  pull_request: z.object({
    number: z.number().int().positive(),
    merged: z.boolean().nullish(),
    merged_at: z.string().nullable(),
    merge_commit_sha: z.string().nullable(),
    // The head repository is null once a fork is deleted.
    head: z.object({ ref: z.string(), repo: z.object({ full_name: z.string() }).nullable() }),
  }),
  repository: z.object({ full_name: z.string() }),
});

/**
 * The merged pull request a verified `pull_request` delivery reports, or null when the event is
 * anything else (another event type, a PR opened, closed without merging…). Throws
 * GitHubWebhookRejectedError when the signature is missing or wrong, before the body is parsed.
 * `rawBody` must be the bytes as received: re-serialized JSON no longer matches the signature.
 */
export async function mergedPullRequestFromWebhook(headers: WebhookHeaders, rawBody: string | Buffer, secret: string): Promise<MergedPullRequest | null> {
  const signature = headerValue(headers, 'x-hub-signature-256');
  if (!signature) throw new GitHubWebhookRejectedError('signature', 'the delivery has no X-Hub-Signature-256 header');
  const body = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  if (body === '') throw new GitHubWebhookRejectedError('payload', 'the delivery has an empty body');

  const { Webhooks } = await importOctokit<typeof import('@octokit/webhooks')>('@octokit/webhooks');
  if (!(await new Webhooks({ secret }).verify(body, signature))) {
    throw new GitHubWebhookRejectedError('signature', 'the X-Hub-Signature-256 signature does not match the body and the webhook secret');
  }

  if (headerValue(headers, 'x-github-event') !== 'pull_request') return null;
  const parsed = PullRequestEvent.safeParse(parseJson(body));
  if (!parsed.success) throw new GitHubWebhookRejectedError('payload', `the pull_request event is not as documented: ${z.prettifyError(parsed.error)}`);
  const { action, pull_request: pullRequest, repository } = parsed.data;
  if (action !== 'closed' || pullRequest.merged !== true) return null;
  if (pullRequest.merged_at === null || pullRequest.merge_commit_sha === null) {
    throw new GitHubWebhookRejectedError('payload', `pull request #${pullRequest.number} is merged but has no merge time or merge commit`);
  }
  const branch = pullRequest.head.ref;
  // Steward pushes its branches to the repository itself: a fork's branch of the same name is not one.
  const fromThisRepository = pullRequest.head.repo?.full_name === repository.full_name;
  const incidentId = fromThisRepository && branch.startsWith(INCIDENT_BRANCH_PREFIX) ? branch.slice(INCIDENT_BRANCH_PREFIX.length) || null : null;
  return {
    repository: repository.full_name,
    number: pullRequest.number,
    branch,
    mergeCommitSha: pullRequest.merge_commit_sha,
    mergedAt: pullRequest.merged_at,
    incidentId,
  };
}

function headerValue(headers: WebhookHeaders, name: string): string | undefined {
  const key = Object.keys(headers).find((candidate) => candidate.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  return Array.isArray(value) ? value[0] : value;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new GitHubWebhookRejectedError('payload', `the body is not JSON: ${(error as Error).message}`);
  }
}

type Importer = (url: string) => Promise<unknown>;

// Compiled by the Function constructor so that no TypeScript or swc transform rewrites it into require().
const plainImport = new Function('url', 'return import(url)') as Importer;
let mainContextImport: Importer | undefined;

/**
 * Loads an ES-module-only package (all of Octokit) from this CommonJS code base. Under tsx, as Steward
 * runs, a plain import() does. Jest runs each test file in a vm context, where import() rejects unless
 * node runs with --experimental-vm-modules, and jest's own require() refuses ES modules; there the
 * module is loaded by node's main-context loader instead (which makes node warn once that this vm
 * option is experimental). Objects from it then belong to the main realm: `instanceof Error` is false
 * for its errors inside jest, so callers read errors by their fields.
 */
export async function importOctokit<Module>(specifier: string): Promise<Module> {
  // An absolute URL, so that the import resolves the same wherever the process was started.
  const url = pathToFileURL(require.resolve(specifier)).href;
  try {
    return (await plainImport(url)) as Module;
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code !== 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG') throw error;
    mainContextImport ??= new vm.Script('(url) => import(url)', { importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER }).runInThisContext() as Importer;
    return (await mainContextImport(url)) as Module;
  }
}
