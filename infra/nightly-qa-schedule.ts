import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { NIGHTLY_QA_WORKFLOW_TYPE, nightlyQaScheduleId, type IncidentPolicy, type NightlyQaPolicy, type NightlyQaWorkflowInput } from '../contracts';
import type { NightlyQaSettings, ServicesConfig } from '../domain/service-config';
import type { NightlyQaScheduleTrigger } from '../use-cases/nightly-qa.use-case';
import { ensureSchedule, type EnsuredSchedule } from './schedules';

/** What one night may do, as its workflow receives it: fixed in the schedule so that replays see the same values. */
export function nightlyQaPolicyOf(settings: NightlyQaSettings): NightlyQaPolicy {
  return {
    budgetUsd: settings.budgetUsd,
    missionBudgetUsd: settings.missionBudgetUsd,
    maxTurnsPerMission: settings.maxTurnsPerMission,
    maxMissions: settings.maxMissions,
    notifyQuietNights: settings.notifyQuietNights,
    timeZone: settings.timeZone,
  };
}

/**
 * One schedule per configured service, `steward-nightly-qa@<service>`, created or brought up to
 * date at the incident worker's start, as the snapshot refresh's is. Overlap SKIP: a night still
 * running when the next is due (a long fix) makes a second one compete for the same budget and
 * areas. A night missed while the server was down starts within the catch-up window, else waits
 * for the next. `paused` in the services file pauses it; a change of cron, zone or policy in the
 * file updates it (infra/schedules.ts).
 */
export async function ensureNightlyQaSchedules(client: Client, services: ServicesConfig, taskQueue: string, incidentPolicy: IncidentPolicy): Promise<Array<EnsuredSchedule & { service: string; paused: boolean }>> {
  const ensured: Array<EnsuredSchedule & { service: string; paused: boolean }> = [];
  for (const [service, config] of Object.entries(services)) {
    const qa = config.nightlyQa;
    const scheduleId = nightlyQaScheduleId(service);
    const input: NightlyQaWorkflowInput = { service, policy: nightlyQaPolicyOf(qa), incidentPolicy };
    const result = await ensureSchedule(client, {
      scheduleId,
      spec: { cronExpressions: [qa.cron], timezone: qa.timeZone },
      action: {
        type: 'startWorkflow',
        workflowType: NIGHTLY_QA_WORKFLOW_TYPE,
        taskQueue,
        // The schedule appends the time the night was due, so each night has its own id.
        workflowId: scheduleId,
        args: [input],
        staticSummary: `Nightly QA of ${service}`,
      },
      policies: { overlap: 'SKIP', catchupWindow: qa.catchupWindowMs },
      paused: qa.paused,
      note: qa.paused ? `paused by the services file (${service}.nightlyQa.paused)` : undefined,
    });
    ensured.push({ ...result, service, paused: qa.paused });
  }
  return ensured;
}

/**
 * What `runNightlyQaNow` needs of Temporal's schedules, over a schedule client: `steward qa
 * run-now` (workers/cli-context.ts) and the nightly QA demo trigger the real Schedule through it,
 * so that a night runs with the policy the schedule holds rather than one made up by its caller.
 */
export function nightlyQaScheduleTrigger(client: Client): NightlyQaScheduleTrigger {
  return {
    describe: async (scheduleId) => {
      try {
        const described = await client.schedule.getHandle(scheduleId).describe();
        return { paused: described.state.paused, recentWorkflowIds: described.info.recentActions.map((a) => a.action.workflow.workflowId) };
      } catch (error) {
        if (error instanceof ScheduleNotFoundError) return null;
        throw error;
      }
    },
    trigger: (scheduleId) => client.schedule.getHandle(scheduleId).trigger(),
  };
}
