import * as fs from 'node:fs';
import * as path from 'node:path';
import { PrometheusMetrics } from '../../observability/prometheus-metrics';

/**
 * The dashboard is built on Steward's metrics: every series a panel queries must be one the
 * registry exposes (a histogram's `_bucket`, `_sum` and `_count` included), so that a renamed
 * metric breaks this test and not a panel no one looks at until an incident.
 */

interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[];
}

const PROMQL_WORDS = new Set(['sum', 'by', 'rate', 'increase', 'histogram_quantile', 'max', 'le', 'without', 'on', 'ignoring']);

/** The metric names of a PromQL expression: identifiers that are not functions, keywords, labels or label values. */
export function metricNamesOf(expr: string): string[] {
  const withoutStrings = expr.replace(/"[^"]*"/g, '""');
  const withoutMatchers = withoutStrings.replace(/\{[^}]*\}/g, '').replace(/\b(by|without)\s*\([^)]*\)/g, '').replace(/\[[^\]]*\]/g, '');
  return [...withoutMatchers.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0]).filter((word) => !PROMQL_WORDS.has(word) && !/^\d/.test(word));
}

async function exposedSeriesNames(): Promise<Set<string>> {
  const metrics = new PrometheusMetrics();
  // A histogram shows its series only once observed; one of everything makes every family visible.
  metrics.timeToPullRequest(1);
  metrics.sandboxStart('hit', 1);
  metrics.approvalWait('approve', 1);
  metrics.regressionDetectionDelay(1);
  const names = new Set<string>();
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    for (const value of metric.values as { metricName?: string }[]) if (value.metricName) names.add(value.metricName);
    if (metric.type === ('histogram' as never)) for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`);
  }
  return names;
}

describe('infra/grafana/steward-dashboard.json', () => {
  const dashboard = JSON.parse(fs.readFileSync(path.join(__dirname, 'steward-dashboard.json'), 'utf8')) as Dashboard;

  it('reads metric names out of PromQL', () => {
    expect(metricNamesOf('histogram_quantile(0.9, sum by (le, snapshot) (rate(steward_sandbox_start_seconds_bucket{snapshot="hit"}[15m])))')).toEqual(['steward_sandbox_start_seconds_bucket']);
    expect(metricNamesOf('max by (breaker, state) (steward_circuit_breaker_state) == 1')).toEqual(['steward_circuit_breaker_state']);
  });

  it('queries only metrics the registry exposes, and shows every Steward family', async () => {
    const exposed = await exposedSeriesNames();
    const queried = dashboard.panels.flatMap((panel) => panel.targets.flatMap((target) => metricNamesOf(target.expr).map((name) => ({ panel: panel.title, name }))));
    expect(queried.length).toBeGreaterThan(10);
    expect(queried.filter(({ name }) => !exposed.has(name))).toEqual([]);
    const families = [...exposed].filter((name) => name.startsWith('steward_') && !/_(bucket|sum|count)$/.test(name));
    const shown = new Set(queried.map(({ name }) => name.replace(/_(bucket|sum|count)$/, '')));
    expect(families.filter((family) => !shown.has(family))).toEqual([]);
  });
});
