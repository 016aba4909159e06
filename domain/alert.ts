import { z } from 'zod';
import { Severity } from './severity';

/** Datadog's monitor ids are numbers; the embedded monitor store's (whose local evaluator posts here too) are UUIDs. */
const MONITOR_ID = /^(?:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * The body Datadog posts, as produced by the payload template in README.md. Every value is a string
 * there, because Datadog substitutes `$VARIABLES` into a JSON template.
 */
export const DatadogWebhookPayload = z.object({
  monitor_id: z
    .union([z.string(), z.number()])
    .transform(String)
    .pipe(z.string().regex(MONITOR_ID, 'monitor_id must be a numeric Datadog monitor id (or an embedded monitor store UUID)')),
  alert_cycle_key: z.string().min(1, 'alert_cycle_key is required ($ALERT_CYCLE_KEY)').max(200),
  transition: z.string().min(1, 'transition is required ($ALERT_TRANSITION)').max(50),
  priority: z.string().max(10).optional().default(''),
  title: z.string().min(1, 'title is required ($ALERT_TITLE)').max(2_000),
  message: z.string().max(60_000).default(''),
  tags: z.union([z.string(), z.array(z.string())]).default(''),
  date: z.union([z.string(), z.number()]).transform(String),
  link: z.string().max(2_000).default(''),
  event_id: z.union([z.string(), z.number()]).transform(String).optional(),
});
export type DatadogWebhookPayload = z.input<typeof DatadogWebhookPayload>;

export const AlertTransition = z.enum(['triggered', 'retriggered', 'recovered', 'warn', 'no_data', 'renotify', 'other']);
export type AlertTransition = z.infer<typeof AlertTransition>;

/**
 * A regression the deploy watch pinned on a deploy and is fixing forward: the incident's alert then
 * comes from the watch, not from a monitor, and carries what the watch already established.
 */
export const RegressionContext = z.object({
  watchId: z.string(),
  revision: z.string(),
  previousRevision: z.string().nullable(),
  signature: z.string(),
  template: z.string(),
  /**
   * The template miner's id of the sample's first line learned alone (domain/incident-error.ts):
   * what a monitor's incident on the same error claims, whatever the watch's miner had seen before.
   */
  sampleSignature: z.string(),
  baselineCount: z.number(),
  afterCount: z.number(),
  /** The after-deploy rate over the baseline's; null for a signature new since the deploy. */
  ratio: z.number().nullable(),
  severity: Severity,
  confidence: z.number().min(0).max(1),
  reasoning: z.string(),
  /** The diff line the deploy triage tied the error to, checked against the repository. */
  citedLine: z.object({ revision: z.string(), file: z.string(), line: z.number().int(), text: z.string() }).nullable(),
  /** Logins the fix PR asks for review: the author of the commit that holds the cited line. */
  reviewers: z.array(z.string()).default([]),
});
export type RegressionContext = z.infer<typeof RegressionContext>;

/**
 * A deploy whose build failed, raised by the deploy watch: the incident's reproduction is the
 * service's build command failing the way the build log does, and its fix must make the build pass.
 */
export const BuildFailureContext = z.object({
  watchId: z.string(),
  revision: z.string(),
  previousRevision: z.string().nullable(),
  /** The normalized first error line of the log: the incident's signature. */
  signature: z.string(),
  /** The lines of the build log that carry the error; the log's last lines when none is recognized. */
  errorExcerpt: z.string(),
  /** The end of the build log, where its error is; null when the deploy sent none. */
  log: z.string().nullable(),
  logUrl: z.string().nullable(),
  /** `git diff previousRevision..revision`, cut to a bound: a build is almost always broken by its latest change. */
  diffSinceLastDeploy: z.string().nullable(),
});
export type BuildFailureContext = z.infer<typeof BuildFailureContext>;

export const NormalizedAlert = z.object({
  monitorId: z.string(),
  alertCycleKey: z.string(),
  transition: AlertTransition,
  rawTransition: z.string(),
  priority: z.string().nullable(),
  title: z.string(),
  message: z.string(),
  tags: z.array(z.string()),
  service: z.string().nullable(),
  deployedRevision: z.string().nullable(),
  occurredAt: z.string(),
  link: z.string(),
  eventId: z.string().nullable(),
  /** Set when the deploy watch raised this alert; absent for a monitor's. */
  regression: RegressionContext.nullable().optional(),
  /** Set when the deploy watch found the deploy's build failed; absent for a monitor's. */
  buildFailure: BuildFailureContext.nullable().optional(),
});
export type NormalizedAlert = z.infer<typeof NormalizedAlert>;

function normalizeTransition(raw: string): AlertTransition {
  const key = raw.trim().toLowerCase().replace(/[\s-]+/g, '_');
  switch (key) {
    case 'triggered':
      return 'triggered';
    case 're_triggered':
    case 'retriggered':
      return 'retriggered';
    case 'recovered':
      return 'recovered';
    case 'warn':
    case 're_warn':
      return 'warn';
    case 'no_data':
    case 're_no_data':
      return 'no_data';
    case 'renotify':
      return 'renotify';
    default:
      return 'other';
  }
}

function parseTags(tags: string | string[]): string[] {
  const list = Array.isArray(tags) ? tags : tags.split(',');
  return list.map((t) => t.trim()).filter((t) => t.length > 0);
}

function tagValue(tags: string[], ...names: string[]): string | null {
  for (const name of names) {
    const found = tags.find((t) => t.startsWith(`${name}:`));
    if (found) return found.slice(name.length + 1);
  }
  return null;
}

/** Datadog's `$DATE` is epoch milliseconds; ISO strings are accepted too. */
function parseDate(raw: string): string {
  const asNumber = Number(raw);
  const date = Number.isFinite(asNumber) && raw.trim() !== '' ? new Date(asNumber) : new Date(raw);
  if (Number.isNaN(date.getTime())) throw new Error(`date is neither epoch milliseconds nor an ISO date: ${JSON.stringify(raw)}`);
  return date.toISOString();
}

/** Throws a ZodError (or an Error naming the field) on a payload that cannot become an alert. */
export function normalizeDatadogPayload(body: unknown): NormalizedAlert {
  return alertFromDatadogPayload(DatadogWebhookPayload.parse(body));
}

/** The alert of a payload that passed the schema (the HTTP edge validates it on the way in); throws an Error naming the field. */
export function alertFromDatadogPayload(payload: z.output<typeof DatadogWebhookPayload>): NormalizedAlert {
  const tags = parseTags(payload.tags);
  return {
    monitorId: payload.monitor_id,
    alertCycleKey: payload.alert_cycle_key,
    transition: normalizeTransition(payload.transition),
    rawTransition: payload.transition,
    priority: payload.priority.trim() === '' ? null : payload.priority.trim(),
    title: payload.title,
    message: payload.message,
    tags,
    service: tagValue(tags, 'service'),
    // Datadog's source code integration tags deployments with git.commit.sha; `version` is the fallback.
    deployedRevision: tagValue(tags, 'git.commit.sha', 'version'),
    occurredAt: parseDate(payload.date),
    link: payload.link,
    eventId: payload.event_id ?? null,
  };
}
