import { WebClient } from '@slack/web-api';
import { REJECT_REASON_MODAL } from './slack-interaction.schema';

/** Opens the modal that asks a rejecting reviewer why: a rejection without a reason teaches nothing. */
export interface RejectReasonModal {
  open(triggerId: string, incidentId: string): Promise<void>;
}

export function rejectReasonModalView(incidentId: string): Record<string, unknown> {
  return {
    type: 'modal',
    callback_id: REJECT_REASON_MODAL.callbackId,
    private_metadata: incidentId,
    title: { type: 'plain_text', text: 'Reject the fix' },
    submit: { type: 'plain_text', text: 'Reject' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: REJECT_REASON_MODAL.blockId,
        label: { type: 'plain_text', text: 'Why is this fix wrong?' },
        element: { type: 'plain_text_input', action_id: REJECT_REASON_MODAL.actionId, multiline: true },
      },
    ],
  };
}

export function slackRejectReasonModal(options: { botToken: string; apiUrl: string | null }): RejectReasonModal {
  const client = new WebClient(options.botToken, options.apiUrl ? { slackApiUrl: options.apiUrl } : {});
  return {
    async open(triggerId, incidentId) {
      await client.views.open({ trigger_id: triggerId, view: rejectReasonModalView(incidentId) as never });
    },
  };
}
