import { PrometheusMetrics, processMetrics, recordCircuitBreakerState, STEWARD_METRIC_NAMES } from './prometheus-metrics';

/** One test per family: what is recorded through the port is what the registry exposes. */
async function valuesOf(metrics: PrometheusMetrics, name: string): Promise<{ labels: Record<string, string | number>; value: number; metricName?: string }[]> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`${name} is not registered`);
  return (await metric.get()).values as never;
}

const valueWith = async (metrics: PrometheusMetrics, name: string, labels: Record<string, string>, metricName = name): Promise<number | undefined> =>
  (await valuesOf(metrics, name)).find((v) => (v.metricName ?? name) === metricName && Object.entries(labels).every(([k, x]) => String(v.labels[k]) === x))?.value;

describe('PrometheusMetrics', () => {
  let metrics: PrometheusMetrics;
  beforeEach(() => {
    metrics = new PrometheusMetrics({ defaultMetrics: false });
  });

  it('registers every family it names', () => {
    for (const name of STEWARD_METRIC_NAMES) expect(metrics.registry.getSingleMetric(name)).toBeDefined();
  });

  it('counts webhook deliveries by source and status code', async () => {
    metrics.webhookDelivery('datadog', 202);
    metrics.webhookDelivery('datadog', 202);
    metrics.webhookDelivery('datadog', 401);
    metrics.webhookDelivery('deploy', 400);
    expect(await valueWith(metrics, 'steward_webhook_deliveries_total', { source: 'datadog', status_code: '202' })).toBe(2);
    expect(await valueWith(metrics, 'steward_webhook_deliveries_total', { source: 'datadog', status_code: '401' })).toBe(1);
    expect(await valueWith(metrics, 'steward_webhook_deliveries_total', { source: 'deploy', status_code: '400' })).toBe(1);
  });

  it('counts incidents by outcome', async () => {
    metrics.incidentClosed('pr_opened');
    metrics.incidentClosed('duplicate');
    metrics.incidentClosed('pr_opened');
    expect(await valueWith(metrics, 'steward_incidents_total', { outcome: 'pr_opened' })).toBe(2);
    expect(await valueWith(metrics, 'steward_incidents_total', { outcome: 'duplicate' })).toBe(1);
  });

  it('observes the time to PR, and ignores a negative or unknown one', async () => {
    metrics.timeToPullRequest(42);
    metrics.timeToPullRequest(-1);
    metrics.timeToPullRequest(Number.NaN);
    expect(await valueWith(metrics, 'steward_time_to_pr_seconds', {}, 'steward_time_to_pr_seconds_count')).toBe(1);
    expect(await valueWith(metrics, 'steward_time_to_pr_seconds', {}, 'steward_time_to_pr_seconds_sum')).toBe(42);
    expect(await valueWith(metrics, 'steward_time_to_pr_seconds', { le: '60' }, 'steward_time_to_pr_seconds_bucket')).toBe(1);
    expect(await valueWith(metrics, 'steward_time_to_pr_seconds', { le: '30' }, 'steward_time_to_pr_seconds_bucket')).toBe(0);
  });

  it('counts fix attempts verified and rejected', async () => {
    metrics.fixAttempt('rejected');
    metrics.fixAttempt('verified');
    metrics.fixAttempt('rejected');
    expect(await valueWith(metrics, 'steward_fix_attempts_total', { result: 'rejected' })).toBe(2);
    expect(await valueWith(metrics, 'steward_fix_attempts_total', { result: 'verified' })).toBe(1);
  });

  it('counts model tokens and cost by stage and model, and unpriced calls apart', async () => {
    metrics.modelUsage({ stage: 'fix', model: 'claude-sonnet-4-6', inputTokens: 1000, outputTokens: 200, costUsd: 0.006 });
    metrics.modelUsage({ stage: 'fix', model: 'claude-sonnet-4-6', inputTokens: 500, outputTokens: 100, costUsd: 0.003 });
    metrics.modelUsage({ stage: 'triage', model: 'local-model', inputTokens: 10, outputTokens: 5, costUsd: null });
    expect(await valueWith(metrics, 'steward_model_tokens_total', { stage: 'fix', model: 'claude-sonnet-4-6', direction: 'input' })).toBe(1500);
    expect(await valueWith(metrics, 'steward_model_tokens_total', { stage: 'fix', model: 'claude-sonnet-4-6', direction: 'output' })).toBe(300);
    expect(await valueWith(metrics, 'steward_model_cost_usd_total', { stage: 'fix', model: 'claude-sonnet-4-6' })).toBeCloseTo(0.009, 9);
    expect(await valueWith(metrics, 'steward_model_cost_usd_total', { stage: 'triage' })).toBeUndefined();
    expect(await valueWith(metrics, 'steward_model_calls_total', { stage: 'triage', priced: 'false' })).toBe(1);
    expect(await valueWith(metrics, 'steward_model_calls_total', { stage: 'fix', priced: 'true' })).toBe(2);
  });

  it('observes sandbox start times by snapshot hit or miss', async () => {
    metrics.sandboxStart('hit', 0.2);
    metrics.sandboxStart('miss', 40);
    expect(await valueWith(metrics, 'steward_sandbox_start_seconds', { snapshot: 'hit' }, 'steward_sandbox_start_seconds_sum')).toBe(0.2);
    expect(await valueWith(metrics, 'steward_sandbox_start_seconds', { snapshot: 'miss' }, 'steward_sandbox_start_seconds_sum')).toBe(40);
    expect(await valueWith(metrics, 'steward_sandbox_start_seconds', { snapshot: 'hit', le: '0.25' }, 'steward_sandbox_start_seconds_bucket')).toBe(1);
  });

  it('observes approval waits by decision', async () => {
    metrics.approvalWait('approve', 600);
    metrics.approvalWait('timed_out', 3600);
    expect(await valueWith(metrics, 'steward_approval_wait_seconds', { decision: 'approve' }, 'steward_approval_wait_seconds_sum')).toBe(600);
    expect(await valueWith(metrics, 'steward_approval_wait_seconds', { decision: 'timed_out' }, 'steward_approval_wait_seconds_count')).toBe(1);
  });

  it('counts deploy watches, their verdicts, and observes the detection delay', async () => {
    metrics.deployWatchStarted();
    metrics.deployWatchStarted();
    metrics.deployWatchVerdict('regression');
    metrics.regressionDetectionDelay(300);
    expect(await valueWith(metrics, 'steward_deploy_watches_started_total', {})).toBe(2);
    expect(await valueWith(metrics, 'steward_deploy_watch_verdicts_total', { verdict: 'regression' })).toBe(1);
    expect(await valueWith(metrics, 'steward_regression_detection_delay_seconds', {}, 'steward_regression_detection_delay_seconds_sum')).toBe(300);
  });

  it('counts monitors generated and dropped by stage', async () => {
    metrics.monitorsGenerated(2);
    metrics.monitorsDropped('grounding', 1);
    metrics.monitorsDropped('cap', 3);
    metrics.monitorsDropped('cap', 0);
    expect(await valueWith(metrics, 'steward_monitors_generated_total', {})).toBe(2);
    expect(await valueWith(metrics, 'steward_monitors_dropped_total', { stage: 'grounding' })).toBe(1);
    expect(await valueWith(metrics, 'steward_monitors_dropped_total', { stage: 'cap' })).toBe(3);
  });

  it("holds each circuit breaker's current state as 1 and its other states as 0", async () => {
    metrics.circuitBreakerState('model', 'open');
    metrics.circuitBreakerState('model', 'half_open');
    expect(await valueWith(metrics, 'steward_circuit_breaker_state', { breaker: 'model', state: 'half_open' })).toBe(1);
    expect(await valueWith(metrics, 'steward_circuit_breaker_state', { breaker: 'model', state: 'open' })).toBe(0);
    expect(await valueWith(metrics, 'steward_circuit_breaker_state', { breaker: 'model', state: 'closed' })).toBe(0);
  });

  it('recordCircuitBreakerState feeds the process registry that /metrics serves', async () => {
    recordCircuitBreakerState('github', 'open');
    const text = await processMetrics().metrics();
    expect(text).toContain('steward_circuit_breaker_state{breaker="github",state="open"} 1');
    expect(text).toContain('steward_circuit_breaker_state{breaker="github",state="closed"} 0');
    // The process's own figures come with it.
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
  });

  it("reads the inbox's depth and dead letters at each scrape, and shows no inbox series when it cannot be read", async () => {
    let depth: { pending: number; failing: number; dead: number } | Error = { pending: 4, failing: 1, dead: 2 };
    metrics.watchInboxDepth(async () => {
      if (depth instanceof Error) throw depth;
      return depth;
    });
    expect(await valueWith(metrics, 'steward_inbox_deliveries', { state: 'pending' })).toBe(4);
    expect(await valueWith(metrics, 'steward_inbox_deliveries', { state: 'failing' })).toBe(1);
    expect(await valueWith(metrics, 'steward_inbox_dead_letters', {})).toBe(2);
    depth = { pending: 0, failing: 0, dead: 3 };
    expect(await valueWith(metrics, 'steward_inbox_deliveries', { state: 'pending' })).toBe(0);
    expect(await valueWith(metrics, 'steward_inbox_dead_letters', {})).toBe(3);
    depth = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    expect(await valuesOf(metrics, 'steward_inbox_deliveries')).toEqual([]);
    expect(await valuesOf(metrics, 'steward_inbox_dead_letters')).toEqual([]);
    // The rest of the scrape still answers.
    await expect(metrics.metrics()).resolves.toContain('steward_circuit_breaker_state');
  });
});
