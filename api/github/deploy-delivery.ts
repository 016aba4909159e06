import { z } from 'zod';
import { deployEventFromBody, DeployWebhookBody, type DeployEvent, type DeploySource } from '../../domain/deploy';
import type { ServicesConfig } from '../../domain/service-config';
import { GitHubWebhookRejectedError, parseDeliveryJson } from './webhook-delivery';

/**
 * GitHub's two deploy events, read out of a delivery whose signature held:
 * - `deployment_status` in state success or failure: a deploy of `deployment.sha`, failed or not;
 * - `workflow_run` completed with conclusion failure on the repository's default branch: a build of
 *   `head_sha` that failed. Its log is not fetched here (it can take seconds and a webhook must
 *   answer at once): the event carries the run's id, and the watch fetches the log through the
 *   App (CodeHostPort.fetchFailedRunLog).
 * The service is the one of the services file whose githubRepository is the event's repository.
 */

export type GitHubDeployEvent = 'deployment_status' | 'workflow_run';
export const GITHUB_DEPLOY_EVENTS: readonly string[] = ['deployment_status', 'workflow_run'] satisfies GitHubDeployEvent[];

export type GitHubDeployDelivery =
  | { deploy: DeployEvent; ignored: null }
  /** A well-formed event that is no deploy Steward watches: the reason is answered to GitHub. */
  | { deploy: null; ignored: string };

const Repository = z.object({ full_name: z.string(), default_branch: z.string() });

const DeploymentStatusEvent = z.object({
  deployment_status: z.object({
    state: z.string(),
    environment: z.string().nullish(),
    target_url: z.string().nullish(),
    log_url: z.string().nullish(),
    created_at: z.string(),
  }),
  deployment: z.object({
    sha: z.string(),
    environment: z.string().nullish(),
    // An object, or the JSON text of one, as whoever created the deployment gave it.
    payload: z.union([z.record(z.string(), z.unknown()), z.string()]).nullish(),
  }),
  repository: Repository,
});

const WorkflowRunEvent = z.object({
  action: z.string(),
  workflow_run: z.object({
    id: z.number().int().positive(),
    name: z.string().nullish(),
    head_branch: z.string().nullable(),
    head_sha: z.string(),
    conclusion: z.string().nullable(),
    html_url: z.string(),
    updated_at: z.string(),
  }),
  repository: Repository,
});

/** The deploy a verified delivery of `event` (one of GITHUB_DEPLOY_EVENTS) reports, or why it is ignored. */
export function deployFromGitHubEvent(event: GitHubDeployEvent, body: string, services: ServicesConfig, receivedAt: Date): GitHubDeployDelivery {
  const payload = parseDeliveryJson(body);
  return event === 'deployment_status' ? fromDeploymentStatus(payload, services, receivedAt) : fromWorkflowRun(payload, services, receivedAt);
}

function fromDeploymentStatus(payload: unknown, services: ServicesConfig, receivedAt: Date): GitHubDeployDelivery {
  const { deployment_status: status, deployment, repository } = documented('deployment_status', DeploymentStatusEvent, payload);
  if (status.state !== 'success' && status.state !== 'failure') return ignore(`deployment status ${status.state} is neither success nor failure`);
  const extra = deploymentPayload(deployment.payload);
  const environment = deployment.environment ?? status.environment ?? null;
  const service = serviceOf(repository.full_name, services, { named: text(extra.service), environment });
  if (service.name === null) return ignore(service.reason);
  const logUrl = status.log_url || status.target_url || null;
  return deploy('github-deployment', receivedAt, {
    service: service.name,
    revision: deployment.sha,
    previousRevision: text(extra.previousRevision) ?? text(extra.previous_revision),
    environment,
    deployedAt: status.created_at,
    build: status.state === 'failure' ? { status: 'failure', logUrl } : null,
  });
}

function fromWorkflowRun(payload: unknown, services: ServicesConfig, receivedAt: Date): GitHubDeployDelivery {
  const { action, workflow_run: run, repository } = documented('workflow_run', WorkflowRunEvent, payload);
  const what = `workflow run ${run.id}${run.name ? ` (${run.name})` : ''}`;
  if (action !== 'completed') return ignore(`${what} is ${action}, not completed`);
  if (run.conclusion !== 'failure') return ignore(`${what} concluded ${run.conclusion ?? 'nothing'}, not failure`);
  if (run.head_branch !== repository.default_branch) {
    return ignore(`${what} ran on ${run.head_branch ?? 'no branch'}, not on ${repository.full_name}'s default branch ${repository.default_branch}`);
  }
  const service = serviceOf(repository.full_name, services, { named: null, environment: null });
  if (service.name === null) return ignore(service.reason);
  return deploy('github-workflow-run', receivedAt, {
    service: service.name,
    revision: run.head_sha,
    previousRevision: null,
    environment: null,
    deployedAt: run.updated_at,
    build: { status: 'failure', logUrl: run.html_url, githubRunId: run.id },
  });
}

function documented<T extends z.ZodType>(event: string, schema: T, payload: unknown): z.infer<T> {
  const parsed = schema.safeParse(payload);
  if (!parsed.success) throw new GitHubWebhookRejectedError('payload', `the ${event} event is not as documented: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function ignore(reason: string): GitHubDeployDelivery {
  return { deploy: null, ignored: reason };
}

interface DeployFields {
  service: string;
  revision: string;
  previousRevision: string | null;
  environment: string | null;
  deployedAt: string;
  build: { status: 'failure'; logUrl: string | null; githubRunId?: number } | null;
}

/** Through the webhook's own schema, so a GitHub deploy meets the same rules as one posted to /webhooks/deploy. */
function deploy(source: DeploySource, receivedAt: Date, fields: DeployFields): GitHubDeployDelivery {
  const body = {
    service: fields.service,
    revision: fields.revision,
    ...(fields.previousRevision ? { previousRevision: fields.previousRevision } : {}),
    ...(fields.environment ? { environment: fields.environment } : {}),
    deployedAt: fields.deployedAt,
    ...(fields.build ? { build: { status: fields.build.status, ...(fields.build.logUrl ? { logUrl: fields.build.logUrl } : {}) } } : {}),
  };
  const parsed = DeployWebhookBody.safeParse(body);
  if (!parsed.success) throw new GitHubWebhookRejectedError('payload', `the ${source} event does not make a deploy: ${z.prettifyError(parsed.error)}`);
  const event = deployEventFromBody(parsed.data, source, receivedAt);
  const githubRunId = fields.build?.githubRunId;
  return { deploy: event.build && githubRunId !== undefined ? { ...event, build: { ...event.build, githubRunId } } : event, ignored: null };
}

function deploymentPayload(payload: Record<string, unknown> | string | null | undefined): Record<string, unknown> {
  if (typeof payload !== 'string') return payload ?? {};
  try {
    const parsed: unknown = JSON.parse(payload);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
  } catch {
    // Free text in the payload says nothing Steward reads.
    return {};
  }
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : null;
}

/**
 * The service built from `repository`, by its githubRepository in the services file. Where several
 * are, the deployment names one: in its payload (`service`), or as its environment.
 */
export function serviceOf(
  repository: string,
  services: ServicesConfig,
  hints: { named: string | null; environment: string | null },
): { name: string; reason: null } | { name: null; reason: string } {
  const fromRepository = Object.keys(services).filter((name) => services[name]!.githubRepository?.toLowerCase() === repository.toLowerCase());
  if (hints.named !== null) {
    if (fromRepository.includes(hints.named)) return { name: hints.named, reason: null };
    const configured = services[hints.named];
    return {
      name: null,
      reason: configured
        ? `payload.service ${hints.named} is built from ${configured.githubRepository ?? 'no GitHub repository'}, not ${repository}`
        : `payload.service ${hints.named} is not in STEWARD_SERVICES_FILE`,
    };
  }
  if (fromRepository.length === 1) return { name: fromRepository[0]!, reason: null };
  if (fromRepository.length === 0) return { name: null, reason: `no service in STEWARD_SERVICES_FILE has githubRepository ${repository}` };
  if (hints.environment !== null && fromRepository.includes(hints.environment)) return { name: hints.environment, reason: null };
  return { name: null, reason: `several services are built from ${repository} (${fromRepository.join(', ')}): name one in the deployment's payload.service` };
}
