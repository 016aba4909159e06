import { createHmac } from 'node:crypto';
import type { WebhookHeaders } from '../../api/github/pull-request-delivery';

/** GitHub `pull_request` deliveries for tests, shaped as GitHub sends them and signed as GitHub documents. */
export const SECRET = 'steward-webhook-secret-for-tests';
export const MERGE_COMMIT = 'c4295bd74fb0f4fda03689c3df3f2803b658fd85';

/** Signed the way GitHub documents it, with node's HMAC rather than the library under test. */
export function signature(body: string | Buffer, secret = SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function deliveryHeaders(body: string | Buffer, event = 'pull_request', secret = SECRET): WebhookHeaders {
  return {
    'content-type': 'application/json',
    'user-agent': 'GitHub-Hookshot/044aadd',
    'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
    'x-github-event': event,
    'x-github-hook-id': '292430182',
    'x-hub-signature-256': signature(body, secret),
  };
}

export const repository = {
  id: 186853002,
  node_id: 'MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI=',
  name: 'checkout-service',
  full_name: 'acme/checkout-service',
  private: true,
  owner: { login: 'acme', id: 21031067, type: 'Organization' },
  html_url: 'https://github.com/acme/checkout-service',
  default_branch: 'main',
};

/** A `pull_request` delivery, shaped as octokit/webhooks' payload-examples/api.github.com/pull_request/closed.payload.json. */
export function pullRequestEvent(overrides: { action?: string; merged?: boolean; branch?: string; headRepository?: string | null } = {}): string {
  const merged = overrides.merged ?? true;
  const branch = overrides.branch ?? 'steward/incident-4401001-cycle-7';
  const headRepository = overrides.headRepository === undefined ? repository.full_name : overrides.headRepository;
  return JSON.stringify({
    action: overrides.action ?? 'closed',
    number: 42,
    pull_request: {
      url: 'https://api.github.com/repos/acme/checkout-service/pulls/42',
      id: 279147437,
      node_id: 'MDExOlB1bGxSZXF1ZXN0Mjc5MTQ3NDM3',
      html_url: 'https://github.com/acme/checkout-service/pull/42',
      number: 42,
      state: 'closed',
      locked: false,
      title: 'fix: guard the missing discount percent [P1]',
      user: { login: 'steward-app[bot]', id: 41898282, type: 'Bot' },
      body: 'Opened by Steward for incident `incident-4401001-cycle-7`.',
      created_at: '2026-11-21T15:20:33Z',
      updated_at: '2026-11-21T15:31:18Z',
      closed_at: '2026-11-21T15:31:18Z',
      merged_at: merged ? '2026-11-21T15:31:18Z' : null,
      merge_commit_sha: MERGE_COMMIT,
      draft: false,
      head: {
        label: `${headRepository?.split('/')[0] ?? 'unknown'}:${branch}`,
        ref: branch,
        sha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821',
        repo: headRepository === null ? null : { ...repository, full_name: headRepository, fork: headRepository !== repository.full_name },
      },
      base: { label: 'acme:main', ref: 'main', sha: 'f95f852bd8fca8fcc58a9a2d6c842781e32a215e', repo: repository },
      merged,
      mergeable: null,
      merged_by: merged ? { login: 'octocat', id: 5346, type: 'User' } : null,
      comments: 0,
      commits: 1,
      additions: 3,
      deletions: 1,
      changed_files: 1,
    },
    repository,
    organization: { login: 'acme', id: 21031067 },
    sender: { login: 'octocat', id: 5346, type: 'User' },
    installation: { id: 1234567, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMTIzNDU2Nw==' },
  });
}

export const DEPLOYED_SHA = '9fceb02d0ae598e95dc970b74767f19372d61af8';
export const FAILED_RUN_ID = 30433642;

/**
 * A `deployment_status` delivery (action created), with the fields of GitHub's webhook reference
 * (octokit/openapi-webhooks' webhook-deployment-status-created) that Steward reads and their neighbours.
 */
export function deploymentStatusEvent(
  overrides: { state?: string; sha?: string; payload?: unknown; environment?: string; repository?: typeof repository; logUrl?: string; targetUrl?: string } = {},
): string {
  const repo = overrides.repository ?? repository;
  const environment = overrides.environment ?? 'production';
  const creator = { login: 'octocat', id: 5346, node_id: 'MDQ6VXNlcjUzNDY=', type: 'User' };
  return JSON.stringify({
    action: 'created',
    check_run: null,
    deployment: {
      url: `https://api.github.com/repos/${repo.full_name}/deployments/145988746`,
      id: 145988746,
      node_id: 'MDEwOkRlcGxveW1lbnQxNDU5ODg3NDY=',
      task: 'deploy',
      original_environment: environment,
      environment,
      description: null,
      created_at: '2026-11-21T09:58:02Z',
      updated_at: '2026-11-21T10:02:44Z',
      statuses_url: `https://api.github.com/repos/${repo.full_name}/deployments/145988746/statuses`,
      repository_url: `https://api.github.com/repos/${repo.full_name}`,
      creator,
      sha: overrides.sha ?? DEPLOYED_SHA,
      ref: 'main',
      payload: overrides.payload === undefined ? {} : overrides.payload,
      transient_environment: false,
      production_environment: environment === 'production',
      performed_via_github_app: null,
    },
    deployment_status: {
      url: `https://api.github.com/repos/${repo.full_name}/deployments/145988746/statuses/209916254`,
      id: 209916254,
      node_id: 'MDE2OkRlcGxveW1lbnRTdGF0dXMyMDk5MTYyNTQ=',
      state: overrides.state ?? 'success',
      creator,
      description: '',
      environment,
      target_url: overrides.targetUrl ?? '',
      log_url: overrides.logUrl ?? '',
      environment_url: 'https://checkout.example.test',
      created_at: '2026-11-21T10:02:44Z',
      updated_at: '2026-11-21T10:02:44Z',
      deployment_url: `https://api.github.com/repos/${repo.full_name}/deployments/145988746`,
      repository_url: `https://api.github.com/repos/${repo.full_name}`,
      performed_via_github_app: null,
    },
    repository: repo,
    organization: { login: 'acme', id: 21031067 },
    sender: creator,
    installation: { id: 1234567, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMTIzNDU2Nw==' },
  });
}

/** A `workflow_run` delivery, as GitHub's webhook reference (webhook-workflow-run-completed) documents it. */
export function workflowRunEvent(overrides: { action?: string; conclusion?: string | null; branch?: string; sha?: string } = {}): string {
  const action = overrides.action ?? 'completed';
  const sha = overrides.sha ?? DEPLOYED_SHA;
  return JSON.stringify({
    action,
    workflow_run: {
      id: FAILED_RUN_ID,
      name: 'CI',
      node_id: 'WFR_kwLOAGv2Ys4BzF4q',
      head_branch: overrides.branch ?? repository.default_branch,
      head_sha: sha,
      path: '.github/workflows/ci.yml',
      display_title: 'fix: round totals once',
      run_number: 562,
      event: 'push',
      status: action === 'completed' ? 'completed' : 'in_progress',
      conclusion: overrides.conclusion === undefined ? (action === 'completed' ? 'failure' : null) : overrides.conclusion,
      workflow_id: 6133516,
      check_suite_id: 1493290419,
      url: `https://api.github.com/repos/${repository.full_name}/actions/runs/${FAILED_RUN_ID}`,
      html_url: `https://github.com/${repository.full_name}/actions/runs/${FAILED_RUN_ID}`,
      jobs_url: `https://api.github.com/repos/${repository.full_name}/actions/runs/${FAILED_RUN_ID}/jobs`,
      logs_url: `https://api.github.com/repos/${repository.full_name}/actions/runs/${FAILED_RUN_ID}/logs`,
      created_at: '2026-11-21T09:50:11Z',
      updated_at: '2026-11-21T09:54:37Z',
      run_attempt: 1,
      run_started_at: '2026-11-21T09:50:11Z',
      pull_requests: [],
      actor: { login: 'octocat', id: 5346, type: 'User' },
      head_commit: { id: sha, tree_id: 'd23f6eedb1e1b9610bbc754ddb5197bfe7271223', message: 'fix: round totals once', timestamp: '2026-11-21T09:50:02Z' },
      repository,
      head_repository: repository,
    },
    workflow: { id: 6133516, name: 'CI', path: '.github/workflows/ci.yml', state: 'active' },
    repository,
    organization: { login: 'acme', id: 21031067 },
    sender: { login: 'octocat', id: 5346, type: 'User' },
    installation: { id: 1234567, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMTIzNDU2Nw==' },
  });
}
