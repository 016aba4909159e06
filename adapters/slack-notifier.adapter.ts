import { WebClient } from '@slack/web-api';
import type { Notification, NotifierPort } from '../ports/notifier.port';
import { morningReportBlocks } from './slack-morning-report.blocks';

export const SLACK_ACTION_IDS = { approve: 'steward_approve', reject: 'steward_reject' } as const;
/** The deploy watch's buttons; their value is the watch id. api/slack-interaction.schema.ts reads the same ids. */
export const SLACK_DEPLOY_ACTION_IDS = { rollBack: 'steward_deploy_roll_back', fixForward: 'steward_deploy_fix_forward', dismiss: 'steward_deploy_dismiss' } as const;
/** Message metadata that marks Steward's messages with their outbox key, so a retry can find one already sent. */
export const SLACK_METADATA_EVENT = 'steward_notification';
/** How far back in the channel a retry looks for its message; retries follow the send within minutes. */
const FIND_DELIVERED_LOOKBACK = 200;

type Block = Record<string, unknown>;

/** Block Kit message for a notification; approval requests get Approve / Reject buttons. */
export function slackBlocks(notification: Notification): Block[] {
  const blocks: Block[] = [
    { type: 'header', text: { type: 'plain_text', text: notification.title.slice(0, 150) } },
    { type: 'section', text: { type: 'mrkdwn', text: notification.text.slice(0, 2_900) } },
  ];
  if (notification.approval) {
    const { severity, verdict, diffStat, reproduction } = notification.approval;
    blocks.push({
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Severity*\n${severity}` },
        { type: 'mrkdwn', text: `*Verdict*\n${verdict}` },
        { type: 'mrkdwn', text: `*Change*\n${diffStat}` },
      ],
    });
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Reproduction*\n\`\`\`${reproduction.slice(0, 2_500)}\`\`\`` } });
  }
  if (notification.deployDecision) {
    const { severity, summary } = notification.deployDecision;
    blocks.push({ type: 'section', fields: [{ type: 'mrkdwn', text: `*Severity*\n${severity}` }] });
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: summary.slice(0, 2_900) } });
  }
  if (notification.links.length > 0) {
    blocks.push({ type: 'context', elements: notification.links.map((l) => ({ type: 'mrkdwn', text: `<${l.url}|${l.label}>` })) });
  }
  if (notification.approval) {
    blocks.push({
      type: 'actions',
      block_id: `steward_decision_${notification.approval.incidentId}`.slice(0, 255),
      elements: [
        { type: 'button', style: 'primary', text: { type: 'plain_text', text: 'Approve' }, action_id: SLACK_ACTION_IDS.approve, value: notification.approval.incidentId },
        { type: 'button', style: 'danger', text: { type: 'plain_text', text: 'Reject' }, action_id: SLACK_ACTION_IDS.reject, value: notification.approval.incidentId },
      ],
    });
  }
  if (notification.deployDecision) blocks.push(deployDecisionActions(notification.deployDecision));
  return blocks;
}

/** Roll back (danger: it takes the deploy away) and Fix forward (primary), as offered, then Dismiss. */
function deployDecisionActions(offer: NonNullable<Notification['deployDecision']>): Block {
  const button = (text: string, actionId: string, style?: 'primary' | 'danger'): Block => ({
    type: 'button',
    ...(style ? { style } : {}),
    text: { type: 'plain_text', text },
    action_id: actionId,
    value: offer.watchId,
  });
  const offered: Record<(typeof offer.offers)[number], Block> = {
    rollBack: button('Roll back', SLACK_DEPLOY_ACTION_IDS.rollBack, 'danger'),
    fixForward: button('Fix forward', SLACK_DEPLOY_ACTION_IDS.fixForward, 'primary'),
  };
  return {
    type: 'actions',
    block_id: `steward_deploy_decision_${offer.watchId}`.slice(0, 255),
    elements: [...new Set(offer.offers)].map((choice) => offered[choice]).concat(button('Dismiss', SLACK_DEPLOY_ACTION_IDS.dismiss)),
  };
}

/**
 * A message's blocks and its `text`, which Slack shows in the notification and to screen readers.
 * The morning report has a layout of its own, and its whole rendered text as the fallback, since
 * its blocks may count findings they had no room for; any other message falls back to its title.
 */
function messageContent(notification: Notification): { text: string; blocks: never } {
  if (notification.qaReport) return { text: notification.text, blocks: morningReportBlocks(notification.qaReport, notification.title) as never };
  return { text: notification.title, blocks: slackBlocks(notification) as never };
}

export class SlackNotifier implements NotifierPort {
  readonly name = 'slack';
  private readonly client: WebClient;

  constructor(private readonly options: { botToken: string; channel: string; apiUrl: string | null; channelsByService?: Record<string, string> }) {
    // Slack's client retries 429 and 5xx itself; Temporal retries the activity past that.
    this.client = new WebClient(options.botToken, options.apiUrl ? { slackApiUrl: options.apiUrl } : {});
  }

  async send(notification: Notification): Promise<{ ref: string }> {
    const result = await this.client.chat.postMessage({
      channel: this.channelFor(notification),
      ...messageContent(notification),
      unfurl_links: false,
      metadata: { event_type: SLACK_METADATA_EVENT, event_payload: { key: notification.key, incident_id: notification.incidentId } },
    });
    return { ref: `slack:${result.channel}:${result.ts}` };
  }

  /** Refs are `slack:<channel>:<ts>`, as send() returns them. */
  async update(ref: string, notification: Notification): Promise<{ ref: string }> {
    const match = /^slack:([^:]+):(.+)$/.exec(ref);
    if (!match) throw new Error(`${ref} is not a Slack message reference`);
    const [, channel, ts] = match;
    await this.client.chat.update({ channel: channel!, ts: ts!, ...messageContent(notification) });
    return { ref };
  }

  async findDelivered(notification: Notification): Promise<{ ref: string } | null> {
    const channel = this.channelFor(notification);
    const history = await this.client.conversations.history({ channel, limit: FIND_DELIVERED_LOOKBACK, include_all_metadata: true });
    const found = (history.messages ?? []).find(
      (message) =>
        message.metadata?.event_type === SLACK_METADATA_EVENT &&
        // Slack types event_payload as an empty object; it holds what send() put there.
        (message.metadata.event_payload as { key?: string } | undefined)?.key === notification.key,
    );
    return found?.ts ? { ref: `slack:${channel}:${found.ts}` } : null;
  }

  private channelFor(notification: Notification): string {
    return (notification.service && this.options.channelsByService?.[notification.service]) || this.options.channel;
  }
}
