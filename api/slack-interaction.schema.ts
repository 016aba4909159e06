import { z } from 'zod';

/**
 * The part of Slack's interaction payloads Steward acts on. Slack posts many interaction kinds to
 * the same URL (shortcuts, view submissions, message actions), so the envelope is read first and
 * only `block_actions` is held to the strict schema.
 */

export const SlackInteractionEnvelope = z.object({ type: z.string(), view: z.object({ callback_id: z.string().optional() }).optional() });

export const STEWARD_ACTION_IDS = { approve: 'steward_approve', reject: 'steward_reject' } as const;

/** The deploy watch's buttons (adapters/slack-notifier.adapter.ts renders them); their value is the watch id. */
export const STEWARD_DEPLOY_ACTION_IDS = { rollBack: 'steward_deploy_roll_back', fixForward: 'steward_deploy_fix_forward', dismiss: 'steward_deploy_dismiss' } as const;

export const StewardButtonAction = z.object({
  action_id: z.enum([
    STEWARD_ACTION_IDS.approve,
    STEWARD_ACTION_IDS.reject,
    STEWARD_DEPLOY_ACTION_IDS.rollBack,
    STEWARD_DEPLOY_ACTION_IDS.fixForward,
    STEWARD_DEPLOY_ACTION_IDS.dismiss,
  ]),
  /** The incident id or deploy watch id (the workflow id) the buttons were rendered for. */
  value: z.string().min(1, 'the button value must carry the workflow id'),
});
export type StewardButtonAction = z.infer<typeof StewardButtonAction>;

export const SlackBlockActionsPayload = z.object({
  type: z.literal('block_actions'),
  user: z.object({
    id: z.string().min(1),
    username: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
  }),
  // One click is one action; Slack never batches clicks into one request.
  actions: z.tuple([StewardButtonAction]),
  /** Lets the API open a modal in answer to this click, within 3 seconds of it. */
  trigger_id: z.string().min(1).optional(),
});
export type SlackBlockActionsPayload = z.infer<typeof SlackBlockActionsPayload>;

export const REJECT_REASON_MODAL = { callbackId: 'steward_reject_reason', blockId: 'reason', actionId: 'reason_input' } as const;

/** The submitted reject-reason modal; `private_metadata` carries the incident id it was opened for. */
export const SlackRejectReasonSubmission = z.object({
  type: z.literal('view_submission'),
  user: SlackBlockActionsPayload.shape.user,
  view: z.object({
    callback_id: z.literal(REJECT_REASON_MODAL.callbackId),
    private_metadata: z.string().min(1, 'the modal must carry the incident id'),
    state: z.object({
      values: z.object({
        [REJECT_REASON_MODAL.blockId]: z.object({
          [REJECT_REASON_MODAL.actionId]: z.object({ value: z.string().trim().min(1, 'a rejection needs a reason') }),
        }),
      }),
    }),
  }),
});
export type SlackRejectReasonSubmission = z.infer<typeof SlackRejectReasonSubmission>;
