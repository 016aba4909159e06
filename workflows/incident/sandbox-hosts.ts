import { ActivityFailure, log, proxyActivities, TimeoutFailure, type ActivityFunctionWithOptions } from '@temporalio/workflow';
import { TimeoutType } from '@temporalio/common';
import type { IncidentActivities, SandboxActivityName, SandboxHostActivities } from '../../activities';
import type { IncidentPolicy } from '../../contracts';
import { call, incidentActivityProxies, RETRY, type IncidentActivityProxies } from './activity-proxies';
import type { RecordEvent } from './progress';

export interface SandboxHosts {
  /**
   * Runs a sandbox activity on the host that holds the incident's sandbox (contracts:
   * sandboxHostTaskQueue), claiming one first. A host that does not pick the activity up in time
   * is taken for gone: another is claimed and the activity runs there, rebuilding the sandbox
   * from what the activities stored.
   */
  call<K extends SandboxActivityName>(
    kind: 'quick' | 'sandbox',
    activity: K,
    summary: string,
    ...args: Parameters<IncidentActivities[K]>
  ): Promise<Awaited<ReturnType<IncidentActivities[K]>>>;
}

export function sandboxHostsFor({ incidentId, policy, recordEvent }: { incidentId: string; policy: IncidentPolicy; recordEvent: RecordEvent }): SandboxHosts {
  const timeouts = policy.activityTimeouts;
  const { claimSandboxHost } = proxyActivities<SandboxHostActivities>({ taskQueue: policy.sandboxTaskQueue, startToCloseTimeout: timeouts.quickStartToCloseMs, retry: RETRY });
  const proxiesByQueue = new Map<string, IncidentActivityProxies>();
  const proxiesOn = (taskQueue: string): IncidentActivityProxies => {
    let proxies = proxiesByQueue.get(taskQueue);
    if (!proxies) {
      proxies = incidentActivityProxies(timeouts, { taskQueue, scheduleToStartTimeout: timeouts.sandboxHostScheduleToStartMs });
      proxiesByQueue.set(taskQueue, proxies);
    }
    return proxies;
  };

  let host: { hostId: string; taskQueue: string } | null = null;
  return {
    async call<K extends SandboxActivityName>(
      kind: 'quick' | 'sandbox',
      activity: K,
      summary: string,
      ...args: Parameters<IncidentActivities[K]>
    ): Promise<Awaited<ReturnType<IncidentActivities[K]>>> {
      for (;;) {
        if (!host) {
          host = await call(claimSandboxHost, `Claim a sandbox host for ${incidentId}`);
          recordEvent('sandbox_host_claimed', { hostId: host.hostId });
        }
        const routed = proxiesOn(host.taskQueue)[kind][activity] as ActivityFunctionWithOptions<IncidentActivities[K]>;
        try {
          return (await call(routed, summary, ...args)) as Awaited<ReturnType<IncidentActivities[K]>>;
        } catch (error) {
          const hostGone = error instanceof ActivityFailure && error.cause instanceof TimeoutFailure && error.cause.timeoutType === TimeoutType.SCHEDULE_TO_START;
          if (!hostGone) throw error;
          log.warn('The sandbox host did not pick up the activity; claiming another', { incidentId, hostId: host.hostId, summary });
          recordEvent('sandbox_host_lost', { hostId: host.hostId, activity: summary });
          host = null;
        }
      }
    },
  };
}
