import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Pool } from 'pg';
import { createIncidentActivities, type IncidentActivities, type IncidentPorts } from '../activities';
import { ConsoleNotifier } from '../adapters/console-notifier.adapter';
import { LocalGitCodeHost } from '../adapters/local-git-code-host.adapter';
import { PostgresAgentConversations } from '../adapters/postgres-agent-conversation.adapter';
import { Context } from '@temporalio/activity';
import { PostgresIncidentClaims } from '../adapters/postgres-incident-claims.adapter';
import { PostgresIncidentLedger } from '../adapters/postgres-incident-ledger.adapter';
import { TemporalIncidentRuns } from '../adapters/temporal-incident-runs.adapter';
import { PostgresLogs } from '../adapters/postgres-logs.adapter';
import { PostgresLocalMonitorState } from '../adapters/postgres-local-monitor-state.adapter';
import { HttpAlertWebhook } from '../adapters/http-alert-webhook.adapter';
import { createLocalMonitorActivities, type LocalMonitorActivities } from '../activities/local-monitors/local-monitors.activities';
import { PostgresQaLedger } from '../adapters/postgres-qa-ledger.adapter';
import { PostgresGeneratedMonitors } from '../adapters/postgres-generated-monitors.adapter';
import { PostgresSignatureStore } from '../adapters/postgres-signature-store.adapter';
import { PostgresMonitors } from '../adapters/postgres-monitors.adapter';
import { ReplayModel } from '../adapters/replay-model.adapter';
import { SlackNotifier } from '../adapters/slack-notifier.adapter';
import type { ModelStage, StewardConfig } from '../config/config';
import { incidentPolicyFromConfig } from '../config/policy';
import { AnthropicModel } from '../adapters/anthropic-model.adapter';
import { DatadogLogs } from '../adapters/datadog-logs.adapter';
import { DatadogMonitors } from '../adapters/datadog-monitors.adapter';
import { GitHubAppCodeHost } from '../adapters/github-app-code-host.adapter';
import { HttpRollbackHook } from '../adapters/http-rollback-hook.adapter';
import { GitCodeSearch } from '../adapters/git-code-search.adapter';
import { OpenAIModel } from '../adapters/openai-model.adapter';
import { RecordingModel } from '../adapters/recording-model.adapter';
import { MeteredModel } from '../activities/shared/metered-model';
import { ObservedModel, stageOf } from '../activities/shared/observed-model';
import { ObservedSandbox } from '../observability/observed-sandbox';
import { processMetrics } from '../observability/prometheus-metrics';
import { StageRoutingModel } from '../adapters/stage-routing-model.adapter';
import type { CodeHostPort } from '../ports/code-host.port';
import type { ModelPort } from '../ports/model.port';
import type { MonitorAuthoringPort, MonitorsPort } from '../ports/monitors.port';
import { buildSandboxBackend, type SandboxBackend } from './sandbox-backend';
import { notifierWithCrashAfterSend, withCrashAfter } from './fault-injection';
import { OutboundBreakers } from './circuit-breakers';

export interface BuiltPorts {
  ports: IncidentPorts;
  /** One line per port saying which adapter serves it, and what it is: shown at start-up. */
  labels: string[];
  /** The sandbox backend behind `ports.sandbox`, with its snapshot store when it has one. */
  sandboxBackend: SandboxBackend;
  /** The circuit breakers guarding the model providers, Datadog, GitHub and Slack, for /healthz and metrics. */
  breakers: OutboundBreakers;
}

export interface BuildOptions {
  print?: (text: string) => void;
  webUiUrl?: string | null;
  /** The process's breakers, when something else (the API's /healthz) reads them too; else new ones. */
  breakers?: OutboundBreakers;
}

function buildModel(config: StewardConfig, breakers: OutboundBreakers): { model: ModelPort; label: string } {
  const settings = config.model;
  if (settings.provider === 'replay') {
    const model = new ReplayModel(settings.transcriptPath);
    return { model, label: `model: replay of "${model.label}" (${settings.transcriptPath}); recorded responses, not a live model` };
  }
  const forStage = (stage: ModelStage): ModelPort => {
    const model = settings.models[stage];
    // One breaker per provider, shared by its stages: a provider that is down is down for all of them.
    const service = `model:${settings.provider}`;
    if (settings.provider === 'anthropic') return breakers.guard(service, new AnthropicModel({ apiKey: settings.apiKey!, model, ...(settings.baseUrl ? { baseUrl: settings.baseUrl } : {}) }));
    return breakers.guard(service, new OpenAIModel({
      // Self-hosted servers often take no key, but the SDK insists on one.
      apiKey: settings.apiKey ?? 'not-needed',
      model,
      provider: settings.provider,
      structuredOutput: settings.structuredOutput,
      ...(settings.baseUrl ? { baseUrl: settings.baseUrl } : {}),
    }));
  };
  const routed = new StageRoutingModel({ triage: forStage('triage'), reproduce: forStage('reproduce'), fix: forStage('fix'), review: forStage('review') });
  const stages = (Object.entries(settings.models) as [ModelStage, string][]).map(([stage, model]) => `${stage} ${model}`).join(', ');
  const label = `model: ${settings.provider}${settings.baseUrl ? ` at ${settings.baseUrl}` : ''} (${stages})`;
  if (!settings.recordTo) return { model: routed, label };
  return {
    model: new RecordingModel(routed, settings.recordTo, `recorded ${settings.provider} run`),
    label: `${label}; record mode: answers written to ${settings.recordTo}`,
  };
}

/** The model a step asks for, as configured; null for the replay, which answers as its transcript says. */
function requestModelOf(config: StewardConfig): (step: string) => string | null {
  const settings = config.model;
  if (settings.provider === 'replay') return () => null;
  return (step) => (settings.models as Record<string, string>)[stageOf(step)] ?? null;
}

/**
 * The embedded log store when Datadog is not configured: the OTLP/HTTP endpoint writes to it and
 * the logs port reads it. Null when Datadog serves the logs port.
 */
export function buildLogStore(config: StewardConfig, pool: Pool): PostgresLogs | null {
  return config.monitors.provider === 'datadog' ? null : new PostgresLogs(pool);
}

/**
 * The local monitor evaluator, where monitors are the embedded store: its activities over the log
 * store, the monitor store, its state in Postgres and Steward's own webhook, and what to say of it
 * at start. Null activities where it does not run (Datadog evaluates the monitors, or there is no
 * token to post with), with the label saying so.
 */
export function buildLocalMonitorEvaluator(config: StewardConfig, pool: Pool): { activities: LocalMonitorActivities | null; label: string } {
  if (config.monitors.provider === 'datadog') return { activities: null, label: 'monitor evaluator: Datadog' };
  if (!config.api.webhookToken) {
    return { activities: null, label: "monitor evaluator: local, but not run by this worker: STEWARD_WEBHOOK_TOKEN is unset, and it signs the alerts it posts to Steward's webhook" };
  }
  const webhook = new HttpAlertWebhook({ baseUrl: config.logs.localMonitorsWebhookUrl ?? `http://127.0.0.1:${config.api.port}`, token: config.api.webhookToken });
  return {
    activities: createLocalMonitorActivities({ monitors: new PostgresMonitors(pool), logs: new PostgresLogs(pool), state: new PostgresLocalMonitorState(pool), webhook }),
    label: `monitor evaluator: local, every minute, log alerts over the Postgres log store (not Datadog); other monitor types are kept, labelled not evaluated locally; alerts posted to ${webhook.url}`,
  };
}

function retentionLabel(ms: number): string {
  return ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : `${ms / 1000}s`;
}

/** The GitHub App when it is configured, else the local git code host; the CLI's monitor figures read through the same. */
export function buildCodeHost(config: StewardConfig, pool: Pool, breakers?: OutboundBreakers): { port: CodeHostPort; label: string } {
  const guard = <T extends object>(adapter: T): T => (breakers ? breakers.guard('github', adapter) : adapter);
  return (
    config.codeHost.provider === 'github-app'
      ? {
          port: guard(new GitHubAppCodeHost({
            appId: config.codeHost.appId,
            privateKey: config.codeHost.privateKey,
            ...(config.codeHost.installationId ? { installationId: config.codeHost.installationId } : {}),
            ...(config.codeHost.baseUrl ? { baseUrl: config.codeHost.baseUrl } : {}),
            repositories: Object.fromEntries(Object.entries(config.services).map(([service, s]) => [service, s.githubRepository!])),
            // git blame has no REST endpoint: lines are blamed in mirrors of what the sandboxes clone.
            blame: { directory: path.join(config.dataDir, 'blame-mirrors'), cloneLocations: Object.fromEntries(Object.entries(config.services).map(([service, s]) => [service, s.repository])) },
          })),
          label: `code host: GitHub App ${config.codeHost.appId}${config.codeHost.baseUrl ? ` at ${config.codeHost.baseUrl}` : ''}`,
        }
      : { port: new LocalGitCodeHost({ pool }), label: 'code host: local git repositories; a PR is a branch plus a record in Postgres (not GitHub)' }
  );
}

/** Datadog when it is configured, else the embedded monitor store. */
export function buildMonitors(config: StewardConfig, pool: Pool, breakers?: OutboundBreakers): { port: MonitorsPort & MonitorAuthoringPort; label: string } {
  const guard = <T extends object>(adapter: T): T => (breakers ? breakers.guard('datadog', adapter) : adapter);
  return (
    config.monitors.provider === 'datadog'
      ? { port: guard(new DatadogMonitors(config.monitors)), label: `monitors: Datadog at ${config.monitors.baseUrl ?? config.monitors.site}` }
      : { port: new PostgresMonitors(pool), label: 'monitors: kept in Postgres (embedded monitor store, not Datadog)' }
  );
}

/** Git in each service's repository, remote ones mirrored under the data folder. */
export function buildCodeSearch(config: StewardConfig): { codeSearch: GitCodeSearch; mirrors: string } {
  const mirrors = path.join(config.dataDir, 'code-search');
  const codeSearch = new GitCodeSearch({
    repositories: Object.fromEntries(Object.entries(config.services).map(([service, settings]) => [service, settings.repository])),
    mirrorRoot: mirrors,
  });
  return { codeSearch, mirrors };
}

/** The composition root's one decision: which adapter serves each port, from configuration. */
export function buildIncidentPorts(config: StewardConfig, pool: Pool, options: BuildOptions = {}): BuiltPorts {
  const breakers = options.breakers ?? new OutboundBreakers(config.resilience.breakers);
  const built = buildModel(config, breakers);
  const ledger = new PostgresIncidentLedger(pool);
  const metered = new MeteredModel(built.model, ledger, config.modelPrices, config.incidentBudgetUsd > 0 ? config.incidentBudgetUsd : null);
  // Outside the meter: a call the budget refuses is a span with its error, and counts no tokens.
  const model = new ObservedModel(metered, processMetrics(), config.modelPrices, requestModelOf(config));
  const modelLabel = `${built.label}; budget ${config.incidentBudgetUsd > 0 ? `$${config.incidentBudgetUsd} per incident` : 'unlimited'}`;
  const codeHost = buildCodeHost(config, pool, breakers);
  const monitors = buildMonitors(config, pool, breakers);
  // The sandbox's own account of each start and command, kept apart from the worker's output.
  const sandboxLog = path.join(config.dataDir, 'sandbox.log');
  const sandboxBackend = buildSandboxBackend(config, { log: (line) => fs.appendFileSync(sandboxLog, `${new Date().toISOString()} ${line}\n`) });
  const notifier = config.slack
    ? breakers.guard('slack', new SlackNotifier({
        botToken: config.slack.botToken,
        channel: config.slack.channel,
        apiUrl: config.slack.apiUrl,
        channelsByService: Object.fromEntries(
          Object.entries(config.services).flatMap(([service, settings]) => (settings.slackChannel ? [[service, settings.slackChannel]] : [])),
        ),
      }))
    : new ConsoleNotifier({ deliveryLogPath: path.join(config.dataDir, 'notifications.jsonl'), print: options.print });
  const { codeSearch, mirrors: codeSearchMirrors } = buildCodeSearch(config);
  return {
    ports: {
      model,
      monitors: monitors.port,
      codeHost: codeHost.port,
      sandbox: new ObservedSandbox(sandboxBackend.sandbox, processMetrics()),
      notifier,
      ledger,
      claims: new PostgresIncidentClaims(pool),
      // Asked only inside an activity, whose context holds the worker's own client.
      incidentRuns: new TemporalIncidentRuns(() => Context.current().client.workflow),
      conversations: new PostgresAgentConversations(pool),
      fixAgentTokenBudget: config.fixAgent.tokenBudgetPerIncident,
      logs: config.monitors.provider === 'datadog' ? breakers.guard('datadog', new DatadogLogs(config.monitors)) : buildLogStore(config, pool),
      codeSearch,
      signatures: new PostgresSignatureStore(pool),
      generatedMonitors: new PostgresGeneratedMonitors(pool),
      qaLedger: new PostgresQaLedger(pool),
      thresholdBaselineDays: config.deployWatch.baselineDays,
      services: config.services,
      rollbackHook: new HttpRollbackHook(),
      incidentPolicy: incidentPolicyFromConfig(config, options.webUiUrl === undefined ? config.temporal.webUiUrl : options.webUiUrl),
    },
    labels: [
      modelLabel,
      monitors.label,
      codeHost.label,
      `${sandboxBackend.label}; its log: ${sandboxLog}`,
      config.slack ? `notifier: Slack channel ${config.slack.channel}` : `notifier: console, also written to ${path.join(config.dataDir, 'notifications.jsonl')}`,
      'ledger: Postgres',
      config.monitors.provider === 'datadog'
        ? 'error logs: Datadog log search'
        : `error logs: Postgres (OTLP/HTTP at POST /v1/logs, kept ${retentionLabel(config.logs.retentionMs)}; not Datadog)`,
      `monitor generation: from merged changes, ${config.monitors.provider === 'datadog' ? 'created and validated on Datadog' : 'kept in Postgres and validated by the local log-alert validator (not Datadog)'}, registry in Postgres`,
      `code search: git, in each service's repository (local folders in place, remote ones mirrored under ${codeSearchMirrors})`,
    ],
    sandboxBackend,
    breakers,
  };
}

/** The worker's activities over the configured ports, with the crash tests' fault points when configured. */
export function buildIncidentActivities(
  config: StewardConfig,
  pool: Pool,
  options: BuildOptions = {},
): { activities: IncidentActivities; labels: string[]; sandboxBackend: SandboxBackend; breakers: OutboundBreakers } {
  const { ports, labels, sandboxBackend, breakers } = buildIncidentPorts(config, pool, options);
  const { crashAfter, markerDir } = config.faults;
  const notifier = notifierWithCrashAfterSend(ports.notifier, crashAfter, markerDir);
  return { activities: withCrashAfter(createIncidentActivities({ ...ports, notifier }), crashAfter, markerDir), labels, sandboxBackend, breakers };
}
