import { z } from 'zod';

/**
 * The part of Slack's interaction payloads Steward acts on. Slack posts many interaction kinds to
 * the same URL (shortcuts, view submissions, message actions), so the envelope is read first and
 * only `block_actions` is held to the strict schema.
 */

export const SlackInteractionEnvelope = z.object({ type: z.string() });

export const STEWARD_ACTION_IDS = { approve: 'steward_approve', reject: 'steward_reject' } as const;

export const StewardButtonAction = z.object({
  action_id: z.enum([STEWARD_ACTION_IDS.approve, STEWARD_ACTION_IDS.reject]),
  /** The incident id (the workflow id) the buttons were rendered for. */
  value: z.string().min(1, 'the button value must carry the incident id'),
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
});
export type SlackBlockActionsPayload = z.infer<typeof SlackBlockActionsPayload>;
