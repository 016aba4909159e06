import { createHash } from 'node:crypto';
import { ScheduleAlreadyRunning, type Client, type ScheduleOptions, type ScheduleOptionsStartWorkflowAction, type Workflow } from '@temporalio/client';

/**
 * Creates a Temporal Schedule, or brings an existing one to the wanted settings: every worker
 * start calls it, so it must be idempotent. What the schedule was written with is kept as a
 * fingerprint in its action's memo (the schedule's own memo cannot be updated), so a changed
 * setting (a cron expression, which the server describes back only as calendars; a policy; a
 * paused flag from configuration) is seen without reading the server's rendering of it. A schedule
 * whose fingerprint matches is left alone: a pause or note an operator set by hand stays theirs
 * until the configuration itself changes.
 */

export const SCHEDULE_FINGERPRINT_MEMO = 'stewardScheduleFingerprint';

export interface WantedSchedule {
  scheduleId: string;
  spec: ScheduleOptions['spec'];
  action: ScheduleOptionsStartWorkflowAction<Workflow>;
  policies: { overlap: 'SKIP'; catchupWindow: number };
  /** From configuration; absent, the schedule's pause state is the operators' alone. */
  paused?: boolean;
  /** The operators' note on a paused schedule, e.g. which setting paused it. */
  note?: string;
}

export interface EnsuredSchedule {
  scheduleId: string;
  created: boolean;
  updated: boolean;
}

export function scheduleFingerprint(wanted: WantedSchedule): string {
  const { scheduleId, spec, action, policies, paused } = wanted;
  return createHash('sha256')
    .update(JSON.stringify({ scheduleId, spec, action: { ...action, memo: undefined }, policies, paused: paused ?? null }))
    .digest('hex')
    .slice(0, 32);
}

export async function ensureSchedule(client: Client, wanted: WantedSchedule): Promise<EnsuredSchedule> {
  const fingerprint = scheduleFingerprint(wanted);
  const action = { ...wanted.action, memo: { ...wanted.action.memo, [SCHEDULE_FINGERPRINT_MEMO]: fingerprint } };
  const state = wanted.paused === undefined ? undefined : { paused: wanted.paused, note: wanted.note ?? (wanted.paused ? 'paused by configuration' : undefined) };
  try {
    await client.schedule.create({ scheduleId: wanted.scheduleId, spec: wanted.spec, action, policies: wanted.policies, ...(state ? { state } : {}) });
    return { scheduleId: wanted.scheduleId, created: true, updated: false };
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  const handle = client.schedule.getHandle(wanted.scheduleId);
  const described = await handle.describe();
  const kept = described.action.type === 'startWorkflow' ? described.action.memo?.[SCHEDULE_FINGERPRINT_MEMO] : undefined;
  if (kept === fingerprint) return { scheduleId: wanted.scheduleId, created: false, updated: false };
  await handle.update((previous) => ({
    ...previous,
    spec: wanted.spec,
    action,
    policies: wanted.policies,
    state: state ? { ...previous.state, ...state } : previous.state,
  }));
  return { scheduleId: wanted.scheduleId, created: false, updated: true };
}
