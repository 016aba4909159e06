import type { WorkflowClient } from '@temporalio/client';

/**
 * A WorkflowClient that reaches no server and counts what the HTTP edge asks of it. Every call
 * that would start, signal, update or query a workflow (signalWithStart, start, getHandle, list,
 * and any method not listed as a read here) is recorded in `calls` and then refused, so a test
 * can say "nothing was started" by `calls` being empty, and a request that does get through is
 * seen, not silently answered. Only /healthz's two reads of the server (getSystemInfo and
 * describeTaskQueue) are answered, as a healthy server with one worker polling would; they are
 * recorded apart, in `reads`, since they start nothing.
 */
export class CountingWorkflowClient {
  readonly calls: string[] = [];
  readonly reads: string[] = [];

  /** The fake, typed as what ApiServerDeps takes. */
  readonly client: WorkflowClient;

  constructor(namespace = 'counting-fake') {
    const reads: Record<string, unknown> = {
      getSystemInfo: async () => {
        this.reads.push('getSystemInfo');
        return {};
      },
      describeTaskQueue: async () => {
        this.reads.push('describeTaskQueue');
        return { pollers: [{ identity: 'counting-fake-worker' }] };
      },
    };
    // The gRPC service too counts every other call: the edge's signal-with-start goes to it directly
    // (use-cases/signal-with-start.ts reads Temporal's `started` from the call), not through the client.
    const workflowService = new Proxy(reads, {
      get: (target, property) => {
        if (typeof property !== 'string' || property === 'then') return undefined;
        if (property in target) return target[property];
        return async () => {
          this.calls.push(property);
          throw new Error(`CountingWorkflowClient: ${property} reached Temporal (counted)`);
        };
      },
    });
    const known: Record<string, unknown> = {
      options: { namespace },
      connection: { workflowService },
      // Deadlines matter to a real server only; the fake runs the call as it is.
      withDeadline: <R>(_deadline: number, fn: () => Promise<R>) => fn(),
    };
    this.client = new Proxy({} as WorkflowClient, {
      get: (_target, property) => {
        if (typeof property !== 'string' || property === 'then') return undefined;
        if (property in known) return known[property];
        return (...args: unknown[]) => {
          this.calls.push(property);
          const first = args[0];
          const what = typeof first === 'string' ? ` ${first}` : '';
          // Thrown, not returned: a caller that reached here must not see it as having worked.
          throw new Error(`CountingWorkflowClient: ${property}${what} reached Temporal (counted)`);
        };
      },
    });
  }
}
