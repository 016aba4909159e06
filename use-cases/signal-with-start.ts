import { AsyncLocalStorage } from 'node:async_hooks';
import { WorkflowClient, type WithWorkflowArgs, type WorkflowSignalWithStartOptions } from '@temporalio/client';

/**
 * Signal-with-start that says whether it created the run, and that carries the delivery's own id as
 * its request id.
 *
 * Temporal's answer says both (`SignalWithStartWorkflowExecutionResponse.started`), but the SDK's
 * `signalWithStart` returns only the run id: telling a start from a join cost a describe call, about
 * half of the webhook's time to Temporal. And the SDK draws a fresh request id for every call, while
 * the server de-duplicates a signal-with-start by its request id: given the delivery id, a relay that
 * sends one inbox delivery twice (it died after Temporal took it, before marking it relayed) has the
 * second call change nothing.
 *
 * Both go through the one gRPC call the SDK makes: a client over the same connection whose
 * `signalWithStartWorkflowExecution` sets the request id of, and reads `started` from, the call made
 * in the scope of `signalWithStartReporting` (AsyncLocalStorage, so concurrent calls keep apart).
 * Everything else (data converter, interceptors, deadlines, errors) is the SDK's own.
 */

type WorkflowService = WorkflowClient['workflowService'];
type SignalWithStartRequest = Parameters<WorkflowService['signalWithStartWorkflowExecution']>[0];

interface CallScope {
  requestId: string;
  started: boolean | null;
}

const scope = new AsyncLocalStorage<CallScope>();
const reportingClients = new WeakMap<WorkflowClient, WorkflowClient>();

/** Functions of the wrapped object run on it, not on the proxy, so their `this` and private state hold. */
function bound(target: object, prop: string | symbol): unknown {
  const value: unknown = Reflect.get(target, prop, target);
  return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
}

function reportingClient(client: WorkflowClient): WorkflowClient {
  const known = reportingClients.get(client);
  if (known) return known;
  const connection = client.connection;
  const service = connection.workflowService;
  const signalWithStart = async (request: SignalWithStartRequest) => {
    const call = scope.getStore();
    const response = await service.signalWithStartWorkflowExecution(call ? { ...request, requestId: call.requestId } : request);
    if (call) call.started = response.started === true;
    return response;
  };
  const workflowService = new Proxy(service, {
    get: (target, prop) => (prop === 'signalWithStartWorkflowExecution' ? signalWithStart : bound(target, prop)),
  }) as WorkflowService;
  const reportingConnection = new Proxy(connection, {
    get: (target, prop) => (prop === 'workflowService' ? workflowService : bound(target, prop)),
  });
  const reporting = new WorkflowClient({ ...client.options, connection: reportingConnection });
  reportingClients.set(client, reporting);
  return reporting;
}

export interface SignalWithStartResult {
  runId: string;
  /** True when this call created the run, false when it signalled one already running. */
  started: boolean;
}

/**
 * `client.signalWithStart` with `requestId` as the call's request id, resolving to the run and
 * whether this call started it. Errors are the SDK's (WorkflowExecutionAlreadyStartedError, …).
 */
export async function signalWithStartReporting<Args extends unknown[], SignalArgs extends unknown[]>(
  client: WorkflowClient,
  workflowType: string,
  options: WithWorkflowArgs<(...args: Args) => Promise<unknown>, WorkflowSignalWithStartOptions<SignalArgs>>,
  requestId: string,
): Promise<SignalWithStartResult> {
  const call: CallScope = { requestId, started: null };
  const handle = await scope.run(call, () => reportingClient(client).signalWithStart<(...args: Args) => Promise<unknown>, SignalArgs>(workflowType, options));
  if (call.started === null) throw new Error('signalWithStart returned without Temporal answering the call this module reads');
  return { runId: handle.signaledRunId, started: call.started };
}
