import type { WorkflowClient } from '@temporalio/client';

/** Whether Temporal answers, and whether a worker polls the incident task queue, for /healthz. */
export type CheckResult = { ok: true } | { ok: false; error: string };
export type WorkerCheck = { ok: boolean; pollers: number; error?: string };

const TASK_QUEUE_TYPE_WORKFLOW = 1;

export async function runCheck(check: () => Promise<unknown>): Promise<CheckResult> {
  try {
    await check();
    return { ok: true };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}

export function checkTemporal(client: WorkflowClient, options: { timeoutMs: number }): Promise<CheckResult> {
  return runCheck(() => client.withDeadline(Date.now() + options.timeoutMs, () => client.connection.workflowService.getSystemInfo({})));
}

/** A worker is up when something polls the incident task queue. */
export async function checkWorker(client: WorkflowClient, taskQueue: string, options: { timeoutMs: number }): Promise<WorkerCheck> {
  try {
    const response = await client.withDeadline(Date.now() + options.timeoutMs, () =>
      client.connection.workflowService.describeTaskQueue({
        namespace: client.options.namespace,
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
