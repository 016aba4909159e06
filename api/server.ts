import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import { verifySlackRequest } from '@slack/bolt';
import {
  isGrpcServiceError,
  WorkflowClient,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { z } from 'zod';
import {
  alertDeliveredSignal,
  approveSignal,
  incidentWorkflowId,
  INCIDENT_WORKFLOW_TYPE,
  rejectSignal,
  SEARCH_ATTRIBUTES,
  type DecisionInput,
  type IncidentPolicy,
  type IncidentWorkflowInput,
  pullRequestResolvedSignal,
  type PullRequestResolvedInput,
} from '../contracts';
import { normalizeDatadogPayload, type NormalizedAlert } from '../domain/alert';
import type { IncidentStatus } from '../domain/incident';
import {
  REJECT_REASON_MODAL,
  SlackBlockActionsPayload,
  SlackInteractionEnvelope,
  SlackRejectReasonSubmission,
  STEWARD_ACTION_IDS,
} from './slack-interaction.schema';
import type { RejectReasonModal } from './slack-reject-modal';
import { GitHubWebhookRejectedError, mergedPullRequestFromWebhook, type MergedPullRequest } from '../adapters/github-webhooks';

/**
 * The HTTP edge of Steward. It authenticates and validates what arrives, then hands it to Temporal
 * by starting, signalling or querying workflows; everything else happens in the workflow.
 */

export interface ApiServerDeps {
  client: WorkflowClient;
  taskQueue: string;
  policy: IncidentPolicy;
  webhookToken: string;
  maxBodyBytes: number;
  /** Null when Slack is not configured: the interaction endpoint then does not exist. */
  slackSigningSecret: string | null;
  /** Secret of GitHub's webhook deliveries; null when no GitHub App is configured (the route then does not exist). */
  githubWebhookSecret?: string | null;
  /** Asks for a reason on Reject; without it (no bot token), a click rejects with a stock reason. */
  rejectReasonModal?: RejectReasonModal | null;
  health: { postgres: () => Promise<void> };
  logger?: (line: string) => void;
  /** Longest a webhook waits on Temporal before telling Datadog to retry. */
  temporalTimeoutMs?: number;
  /** The clock Slack's 5-minute window is judged by; tests set it to check Slack's published signing example. */
  now?: () => number;
}

/** Typed stand-in for the workflow, which is addressed by its type name so the API does not load its code. */
type IncidentWorkflow = (input: IncidentWorkflowInput) => Promise<unknown>;

const DEFAULT_TEMPORAL_TIMEOUT_MS = 5_000;
const HEALTH_CHECK_TIMEOUT_MS = 2_000;
/** Slack shows the click as failed when it gets no answer within 3 s. */
const SLACK_SIGNAL_TIMEOUT_MS = 2_500;
const SLACK_TIMESTAMP_WINDOW_SECONDS = 5 * 60;
const RETRY_AFTER_SECONDS = '15';
/** Written only when signal-with-start creates the run, so reading it back tells a start from a join. */
const OPENING_DELIVERY_MEMO = 'openingDeliveryId';
/** Temporal's server caps user metadata; an overlong alert title must not make the start fail. */
const SUMMARY_MAX_CHARS = 200;
const DETAILS_MAX_CHARS = 8_000;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;
const TASK_QUEUE_TYPE_WORKFLOW = 1;

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Ends a request early with a definite answer; anything else thrown is a 500 or a 503. */
class HttpError extends Error {
  constructor(readonly reply: Reply) {
    super(`HTTP ${reply.status}`);
  }
}

function reject(status: number, error: string, extra: Record<string, unknown> = {}, headers?: Record<string, string>): HttpError {
  return new HttpError({ status, body: { error, ...extra }, headers });
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function presentsToken(authorization: string | undefined, expectedToken: string): boolean {
  const match = /^Bearer (.+)$/.exec(authorization ?? '');
  if (!match) return false;
  // Comparing digests gives timingSafeEqual the equal lengths it needs without revealing the token's length.
  return timingSafeEqual(sha256(match[1]), sha256(expectedToken));
}

/** Reads at most maxBytes and stops at the first byte beyond, so a huge body costs no memory. */
function readBody(request: http.IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = (): HttpError =>
    reject(413, `request body exceeds ${maxBytes} bytes`, {}, { Connection: 'close' });
  const declaredLength = Number(request.headers['content-length']);
  if (Number.isFinite(declaredLength) && declaredLength > maxBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, fail) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      if (received > maxBytes) {
        request.off('data', onData);
        request.pause();
        fail(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', fail);
    request.on('close', () => {
      if (!request.complete) fail(reject(400, 'the client closed the connection before the body was complete'));
    });
  });
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw reject(400, `${what} is not valid JSON: ${(error as Error).message}`);
  }
}

function describeZodIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.') || '(root)', message: issue.message }));
}

function parseAlert(body: unknown): NormalizedAlert {
  try {
    return normalizeDatadogPayload(body);
  } catch (error) {
    if (error instanceof z.ZodError) {
      const issues = describeZodIssues(error);
      throw reject(400, `invalid Datadog payload: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
    }
    // normalizeDatadogPayload is pure: anything else it throws names a field of the payload.
    throw reject(400, `invalid Datadog payload: ${(error as Error).message}`);
  }
}

function truncate(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 1)}…`;
}

function incidentSummary(alert: NormalizedAlert): string {
  return truncate(`Incident on monitor ${alert.monitorId}: ${alert.title.replace(/\s+/g, ' ')}`, SUMMARY_MAX_CHARS);
}

function incidentDetails(alert: NormalizedAlert): string {
  const lines = [
    `**Alert:** ${alert.link ? `[${alert.title}](${alert.link})` : alert.title}`,
    `**Transition:** ${alert.transition}${alert.rawTransition !== alert.transition ? ` (${alert.rawTransition})` : ''}`,
    `**Priority:** ${alert.priority ?? 'none'}`,
    `**Tags:** ${alert.tags.length > 0 ? alert.tags.map((tag) => `\`${tag}\``).join(', ') : 'none'}`,
  ];
  return truncate(lines.join('\n\n'), DETAILS_MAX_CHARS);
}

function incidentSearchAttributes(alert: NormalizedAlert): SearchAttributePair[] {
  const status: IncidentStatus = 'received';
  return [
    { key: SEARCH_ATTRIBUTES.monitorId, value: alert.monitorId },
    ...(alert.service ? [{ key: SEARCH_ATTRIBUTES.service, value: alert.service }] : []),
    { key: SEARCH_ATTRIBUTES.status, value: status },
  ];
}

/** Unreachable or too slow: the request may succeed later, so the sender is told to retry. */
function isTemporalUnavailable(error: unknown): boolean {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (isGrpcServiceError(cause) && (cause.code === GRPC_UNAVAILABLE || cause.code === GRPC_DEADLINE_EXCEEDED)) return true;
  }
  return false;
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`${what} did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

type CheckResult = { ok: true } | { ok: false; error: string };

async function runCheck(check: () => Promise<unknown>): Promise<CheckResult> {
  try {
    await check();
    return { ok: true };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

export function createApiServer(deps: ApiServerDeps): http.Server {
  const { client, taskQueue, policy } = deps;
  const log = deps.logger ?? ((line: string) => console.log(line));
  const temporalTimeoutMs = deps.temporalTimeoutMs ?? DEFAULT_TEMPORAL_TIMEOUT_MS;
  const namespace = client.options.namespace;

  const withinDeadline = <T>(timeoutMs: number, call: () => Promise<T>): Promise<T> =>
    client.withDeadline(Date.now() + timeoutMs, call);

  /**
   * Signal-with-start under two id policies:
   * - USE_EXISTING: a delivery for an alert cycle whose workflow is running joins it as a signal.
   * - ALLOW_DUPLICATE_FAILED_ONLY: a completed incident is not re-opened by a late re-delivery,
   *   while a failed, timed-out or terminated one may be run again by the next delivery.
   */
  async function receiveDatadogAlert(request: http.IncomingMessage): Promise<Reply> {
    if (!presentsToken(request.headers.authorization, deps.webhookToken)) {
      throw reject(401, 'missing or wrong bearer token', {}, { 'WWW-Authenticate': 'Bearer' });
    }
    const body = await readBody(request, deps.maxBodyBytes);
    const alert = parseAlert(parseJson(body.toString('utf8'), 'request body'));
    const incidentId = incidentWorkflowId(alert.monitorId, alert.alertCycleKey);
    const deliveryId = randomUUID();
    try {
      const { runId, joined } = await withinDeadline(temporalTimeoutMs, async () => {
        const handle = await client.signalWithStart<IncidentWorkflow, [NormalizedAlert]>(INCIDENT_WORKFLOW_TYPE, {
          workflowId: incidentId,
          taskQueue,
          args: [{ alert, policy }],
          signal: alertDeliveredSignal,
          signalArgs: [alert],
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
          memo: { [OPENING_DELIVERY_MEMO]: deliveryId },
          typedSearchAttributes: incidentSearchAttributes(alert),
          staticSummary: incidentSummary(alert),
          staticDetails: incidentDetails(alert),
        });
        // The SDK does not say whether the run was created or joined; the memo only a creation writes does.
        const description = await client.getHandle(incidentId, handle.signaledRunId).describe();
        return { runId: handle.signaledRunId, joined: description.memo?.[OPENING_DELIVERY_MEMO] !== deliveryId };
      });
      log(`alert for monitor ${alert.monitorId} (${alert.transition}) ${joined ? 'joined' : 'started'} ${incidentId} run ${runId}`);
      return { status: 202, body: { incidentId, runId, joined } };
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        // The cycle's incident completed; it exists and keeps its outcome, so the delivery is acknowledged.
        log(`alert for monitor ${alert.monitorId} (${alert.transition}) arrived after ${incidentId} completed`);
        return { status: 202, body: { incidentId, closed: true } };
      }
      throw error;
    }
  }

  function verifySlackSignature(request: http.IncomingMessage, rawBody: string, signingSecret: string): void {
    const signature = request.headers['x-slack-signature'];
    const timestampHeader = request.headers['x-slack-request-timestamp'];
    if (typeof signature !== 'string' || typeof timestampHeader !== 'string') {
      throw reject(401, 'missing x-slack-signature or x-slack-request-timestamp');
    }
    const timestamp = Number(timestampHeader);
    // verifySlackRequest refuses old timestamps only; one from the future is refused here as well.
    const nowMilliseconds = (deps.now ?? Date.now)();
    if (!Number.isInteger(timestamp) || Math.abs(nowMilliseconds / 1000 - timestamp) > SLACK_TIMESTAMP_WINDOW_SECONDS) {
      throw reject(401, 'x-slack-request-timestamp is not within 5 minutes of now');
    }
    try {
      verifySlackRequest({
        signingSecret,
        body: rawBody,
        headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp },
        nowMilliseconds,
      });
    } catch (error) {
      throw reject(401, (error as Error).message);
    }
  }

  async function receiveSlackInteraction(request: http.IncomingMessage, signingSecret: string): Promise<Reply> {
    const rawBody = (await readBody(request, deps.maxBodyBytes)).toString('utf8');
    verifySlackSignature(request, rawBody, signingSecret);
    const payloadText = new URLSearchParams(rawBody).get('payload');
    if (payloadText === null) throw reject(400, 'form field "payload" is missing');
    const payload = parseJson(payloadText, 'payload');
    const envelope = SlackInteractionEnvelope.safeParse(payload);
    if (!envelope.success) throw reject(400, 'payload has no interaction type', { issues: describeZodIssues(envelope.error) });
    // Slack posts every interaction kind here; only button clicks and the reject modal concern Steward.
    if (envelope.data.type === 'view_submission' && envelope.data.view?.callback_id === REJECT_REASON_MODAL.callbackId) {
      const submission = SlackRejectReasonSubmission.safeParse(payload);
      if (!submission.success) throw reject(400, 'not a Steward reject reason', { issues: describeZodIssues(submission.error) });
      const { user, view } = submission.data;
      const reason = view.state.values[REJECT_REASON_MODAL.blockId]![REJECT_REASON_MODAL.actionId]!.value;
      return signalDecision(view.private_metadata, false, { by: slackUser(user), reason });
    }
    if (envelope.data.type !== 'block_actions') return { status: 200 };
    const parsed = SlackBlockActionsPayload.safeParse(payload);
    if (!parsed.success) throw reject(400, 'not a Steward approval click', { issues: describeZodIssues(parsed.error) });

    const { user, actions: [action], trigger_id: triggerId } = parsed.data;
    const approves = action.action_id === STEWARD_ACTION_IDS.approve;
    if (!approves && deps.rejectReasonModal && triggerId) {
      // The rejection is signalled when the modal is submitted with its reason.
      await deps.rejectReasonModal.open(triggerId, action.value);
      return { status: 200 };
    }
    return signalDecision(action.value, approves, { by: slackUser(user), reason: approves ? 'approved in Slack' : 'rejected in Slack' });
  }

  /** A merged Steward PR is recorded on its incident, which follows its PR until then. */
  async function receiveGitHubDelivery(request: http.IncomingMessage, secret: string): Promise<Reply> {
    const rawBody = await readBody(request, deps.maxBodyBytes);
    let merged: MergedPullRequest | null;
    try {
      merged = await mergedPullRequestFromWebhook(request.headers, rawBody, secret);
    } catch (error) {
      if (error instanceof GitHubWebhookRejectedError) throw reject(error.reason === 'signature' ? 401 : 400, error.message);
      throw error;
    }
    if (!merged) return { status: 200, body: { recorded: false, reason: 'not a merged pull request' } };
    if (!merged.incidentId) return { status: 200, body: { recorded: false, reason: `${merged.branch} is not a Steward branch` } };
    const resolution: PullRequestResolvedInput = { number: merged.number, merged: true, mergeCommitSha: merged.mergeCommitSha, at: merged.mergedAt };
    try {
      await withinDeadline(temporalTimeoutMs, () => client.getHandle(merged.incidentId!).signal(pullRequestResolvedSignal, resolution));
    } catch (error) {
      // The incident stopped following its PR (its follow-up ended, or it predates following): nothing to record on.
      if (error instanceof WorkflowNotFoundError) return { status: 200, body: { recorded: false, reason: `incident ${merged.incidentId} is closed` } };
      throw error;
    }
    log(`PR #${merged.number} of ${merged.repository} merged: recorded on ${merged.incidentId}`);
    return { status: 202, body: { recorded: true, incidentId: merged.incidentId } };
  }

  function slackUser(user: { id: string; username?: string; name?: string }): string {
    return `slack:${user.username ?? user.name ?? user.id}`;
  }

  async function signalDecision(incidentId: string, approves: boolean, decision: DecisionInput): Promise<Reply> {
    try {
      // Signalled before answering, so a decision that did not reach the incident shows as failed in Slack.
      await withinDeadline(SLACK_SIGNAL_TIMEOUT_MS, () =>
        client.getHandle(incidentId).signal(approves ? approveSignal : rejectSignal, decision),
      );
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw reject(404, `incident ${incidentId} does not exist or is already closed`);
      throw error;
    }
    log(`${decision.by} ${approves ? 'approved' : 'rejected'} ${incidentId} in Slack`);
    return { status: 200 };
  }

  async function checkWorker(): Promise<{ ok: boolean; pollers: number; error?: string }> {
    try {
      const response = await withinDeadline(HEALTH_CHECK_TIMEOUT_MS, () =>
        client.connection.workflowService.describeTaskQueue({
          namespace,
          taskQueue: { name: taskQueue },
          taskQueueType: TASK_QUEUE_TYPE_WORKFLOW,
        }),
      );
      const pollers = response.pollers?.length ?? 0;
      return pollers > 0 ? { ok: true, pollers } : { ok: false, pollers, error: `no worker polls task queue ${taskQueue}` };
    } catch (error) {
      return { ok: false, pollers: 0, error: (error as Error).message };
    }
  }

  async function checkHealth(): Promise<Reply> {
    const [temporal, postgres, worker] = await Promise.all([
      runCheck(() => withinDeadline(HEALTH_CHECK_TIMEOUT_MS, () => client.connection.workflowService.getSystemInfo({}))),
      runCheck(() => withTimeout(deps.health.postgres(), HEALTH_CHECK_TIMEOUT_MS, 'postgres')),
      checkWorker(),
    ]);
    const healthy = temporal.ok && postgres.ok && worker.ok;
    return { status: healthy ? 200 : 503, body: { status: healthy ? 'ok' : 'degraded', temporal, postgres, worker } };
  }

  function allowOnly(request: http.IncomingMessage, method: string): void {
    if (request.method !== method) throw reject(405, `use ${method}`, {}, { Allow: method });
  }

  async function route(request: http.IncomingMessage): Promise<Reply> {
    const { pathname } = new URL(request.url ?? '/', 'http://localhost');
    switch (pathname) {
      case '/webhooks/datadog':
        allowOnly(request, 'POST');
        return receiveDatadogAlert(request);
      case '/healthz':
        allowOnly(request, 'GET');
        return checkHealth();
      case '/webhooks/github': {
        const secret = deps.githubWebhookSecret ?? null;
        if (secret === null) throw reject(404, 'GitHub is not configured');
        allowOnly(request, 'POST');
        return receiveGitHubDelivery(request, secret);
      }
      case '/slack/interactions': {
        const signingSecret = deps.slackSigningSecret;
        if (signingSecret === null) throw reject(404, 'Slack is not configured');
        allowOnly(request, 'POST');
        return receiveSlackInteraction(request, signingSecret);
      }
      default:
        throw reject(404, `no route for ${pathname}`);
    }
  }

  function replyToFailure(request: http.IncomingMessage, error: unknown): Reply {
    if (error instanceof HttpError) return error.reply;
    const message = (error as Error).message;
    if (isTemporalUnavailable(error)) {
      log(`${request.method} ${request.url}: Temporal unavailable: ${message}`);
      return {
        status: 503,
        body: { error: `Temporal is unavailable, retry later: ${message}` },
        headers: { 'Retry-After': RETRY_AFTER_SECONDS },
      };
    }
    log(`${request.method} ${request.url} failed: ${(error as Error).stack ?? message}`);
    return { status: 500, body: { error: `internal error: ${message}` } };
  }

  function send(response: http.ServerResponse, reply: Reply): void {
    const payload = reply.body === undefined ? '' : JSON.stringify(reply.body);
    response.writeHead(reply.status, {
      ...(payload ? { 'Content-Type': 'application/json; charset=utf-8' } : {}),
      'Content-Length': String(Buffer.byteLength(payload)),
      ...reply.headers,
    });
    response.end(payload);
  }

  const server = http.createServer((request, response) => {
    route(request).then(
      (reply) => send(response, reply),
      (error: unknown) => send(response, replyToFailure(request, error)),
    );
  });
  // Bounds slow or stalled uploads; no legitimate webhook takes this long.
  server.requestTimeout = 30_000;
  return server;
}
