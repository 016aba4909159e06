import type { FastifyRequest } from 'fastify';
import { verifySlackRequest } from '@slack/bolt';
import { validationIssues } from '../../lib/describe-issues';
import type { DeployDecisionAction } from '../../contracts';
import { decideOnDeploy, DeployWatchNotRunningError } from '../../use-cases/decide-on-deploy.use-case';
import { decideOnFix, IncidentNotRunningError, type FixDecision } from '../../use-cases/decide-on-fix.use-case';
import { answerNotConfigured, type EdgeContext, type RouteModule } from '../edge-app';
import { reject } from '../http-errors';
import {
  REJECT_REASON_MODAL,
  SlackBlockActionsPayload,
  SlackInteractionEnvelope,
  SlackRejectReasonSubmission,
  STEWARD_ACTION_IDS,
  STEWARD_DEPLOY_ACTION_IDS,
} from '../slack-interaction.schema';

/** A deploy watch's button, to the decision it signals. */
const DEPLOY_ACTIONS: Record<string, { action: DeployDecisionAction; reason: string }> = {
  [STEWARD_DEPLOY_ACTION_IDS.rollBack]: { action: 'rollBack', reason: 'roll back, chosen in Slack' },
  [STEWARD_DEPLOY_ACTION_IDS.fixForward]: { action: 'fixForward', reason: 'fix forward, chosen in Slack' },
  [STEWARD_DEPLOY_ACTION_IDS.dismiss]: { action: 'reject', reason: 'dismissed in Slack' },
};

/** Slack shows the click as failed when it gets no answer within 3 s. */
const SLACK_SIGNAL_TIMEOUT_MS = 2_500;
const SLACK_TIMESTAMP_WINDOW_SECONDS = 5 * 60;
const URL = '/slack/interactions';

function verifySlackSignature(request: FastifyRequest, signingSecret: string, now: () => number): void {
  const signature = request.headers['x-slack-signature'];
  const timestampHeader = request.headers['x-slack-request-timestamp'];
  if (typeof signature !== 'string' || typeof timestampHeader !== 'string') {
    throw reject(401, 'missing x-slack-signature or x-slack-request-timestamp');
  }
  const timestamp = Number(timestampHeader);
  // verifySlackRequest refuses old timestamps only; one from the future is refused here as well.
  const nowMilliseconds = now();
  if (!Number.isInteger(timestamp) || Math.abs(nowMilliseconds / 1000 - timestamp) > SLACK_TIMESTAMP_WINDOW_SECONDS) {
    throw reject(401, 'x-slack-request-timestamp is not within 5 minutes of now');
  }
  try {
    verifySlackRequest({
      signingSecret,
      body: rawBodyText(request),
      headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp },
      nowMilliseconds,
    });
  } catch (error) {
    throw reject(401, (error as Error).message);
  }
}

/** The route reads its body raw (bodyAs: 'raw'); a request without one has an empty body. */
function rawBodyText(request: FastifyRequest): string {
  return Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '';
}

function parsePayload(rawBody: string): unknown {
  const payloadText = new URLSearchParams(rawBody).get('payload');
  if (payloadText === null) throw reject(400, 'form field "payload" is missing');
  try {
    return JSON.parse(payloadText);
  } catch (error) {
    throw reject(400, `payload is not valid JSON: ${(error as Error).message}`);
  }
}

function slackUser(user: { id: string; username?: string; name?: string }): string {
  return `slack:${user.username ?? user.name ?? user.id}`;
}

/** Signalled before answering, so a decision that did not reach the incident shows as failed in Slack. */
async function decide({ deps, log }: EdgeContext, incidentId: string, decision: FixDecision, by: string, reason: string): Promise<void> {
  try {
    await decideOnFix(deps.client, { incidentId, decision, by, reason }, { timeoutMs: SLACK_SIGNAL_TIMEOUT_MS });
  } catch (error) {
    if (error instanceof IncidentNotRunningError) throw reject(404, error.message);
    throw error;
  }
  log(`${by} ${decision === 'approve' ? 'approved' : 'rejected'} ${incidentId} in Slack`);
}

/** Like decide(), for a deploy watch: a watch that is not running answers 404, which Slack shows on the click. */
async function decideDeploy({ deps, log }: EdgeContext, watchId: string, choice: { action: DeployDecisionAction; reason: string }, by: string): Promise<void> {
  try {
    await decideOnDeploy(deps.client, { watchId, action: choice.action, by, reason: choice.reason }, { timeoutMs: SLACK_SIGNAL_TIMEOUT_MS });
  } catch (error) {
    if (error instanceof DeployWatchNotRunningError) throw reject(404, error.message);
    throw error;
  }
  log(`${by} chose ${choice.action} for ${watchId} in Slack`);
}

/** POST /slack/interactions: Approve and Reject clicks, and the reject-reason modal, signed by Slack. */
export const slackRoutes: RouteModule = (app, context) => {
  const { deps } = context;
  const signingSecret = deps.slackSigningSecret;
  if (signingSecret === null) {
    answerNotConfigured(app, URL, 'Slack');
    return;
  }
  app.route({
    method: 'POST',
    url: URL,
    config: { bodyAs: 'raw' },
    // Nothing in the body is believed before its signature holds.
    preValidation: async (request) => verifySlackSignature(request, signingSecret, deps.now ?? Date.now),
    handler: async (request, reply) => {
      const payload = parsePayload(rawBodyText(request));
      const envelope = SlackInteractionEnvelope.safeParse(payload);
      if (!envelope.success) throw reject(400, 'payload has no interaction type', { issues: validationIssues(envelope.error) });
      // Slack posts every interaction kind here; only button clicks and the reject modal concern Steward.
      if (envelope.data.type === 'view_submission' && envelope.data.view?.callback_id === REJECT_REASON_MODAL.callbackId) {
        const submission = SlackRejectReasonSubmission.safeParse(payload);
        if (!submission.success) throw reject(400, 'not a Steward reject reason', { issues: validationIssues(submission.error) });
        const { user, view } = submission.data;
        const reason = view.state.values[REJECT_REASON_MODAL.blockId]![REJECT_REASON_MODAL.actionId]!.value;
        await decide(context, view.private_metadata, 'reject', slackUser(user), reason);
        return reply.code(200).send();
      }
      if (envelope.data.type !== 'block_actions') return reply.code(200).send();
      const parsed = SlackBlockActionsPayload.safeParse(payload);
      if (!parsed.success) throw reject(400, 'not a Steward approval click', { issues: validationIssues(parsed.error) });

      const { user, actions: [action], trigger_id: triggerId } = parsed.data;
      const deployChoice = DEPLOY_ACTIONS[action.action_id];
      if (deployChoice) {
        await decideDeploy(context, action.value, deployChoice, slackUser(user));
        return reply.code(200).send();
      }
      const approves = action.action_id === STEWARD_ACTION_IDS.approve;
      if (!approves && deps.rejectReasonModal && triggerId) {
        // The rejection is signalled when the modal is submitted with its reason.
        await deps.rejectReasonModal.open(triggerId, action.value);
        return reply.code(200).send();
      }
      await decide(context, action.value, approves ? 'approve' : 'reject', slackUser(user), approves ? 'approved in Slack' : 'rejected in Slack');
      return reply.code(200).send();
    },
  });
};
