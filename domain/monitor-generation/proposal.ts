import { z } from 'zod';

/**
 * A monitor the model proposes for a merged PR's new code, and the definition Steward creates
 * from it once it is grounded, capped and thresholded. The model chooses what to watch; Steward
 * decides how loudly (the thresholds), who hears it (the webhook handle) and how it is found again
 * (the tags), so none of those is taken from the model as given.
 */

export const MONITOR_TYPES = ['log alert', 'query alert', 'composite'] as const;
export type GeneratedMonitorType = (typeof MONITOR_TYPES)[number];

export const MATCH_KINDS = ['log_message', 'endpoint', 'span', 'attribute'] as const;
export type MatchKind = (typeof MATCH_KINDS)[number];

/** Datadog's evaluation windows as the queries write them: `last_5m`, `last_1h`. */
const WINDOW = /^(\d+)([mhd])$/;
const WINDOW_UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** The comparison that ends a log or metric alert's query: `… > 20`. Composites have none. */
const TRAILING_COMPARISON = /(>=|<=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$/;
/** Where a query states its window: `.last("5m")` in a log alert, `avg(last_5m)` in a metric one. */
const QUERY_WINDOW = /\.last\(\s*"(\d+[mhd])"\s*\)|\blast_(\d+[mhd])\b/;

export const CodeLocation = z.object({
  file: z.string().trim().min(1, 'location.file: a path is required'),
  line: z.number().int().positive().optional(),
  symbol: z.string().trim().min(1).optional(),
});
export type CodeLocation = z.infer<typeof CodeLocation>;

export const LiteralMatch = z.object({
  literal: z.string().min(1, 'matches[].literal: empty'),
  kind: z.enum(MATCH_KINDS),
});
export type LiteralMatch = z.infer<typeof LiteralMatch>;

export const MonitorProposal = z
  .object({
    name: z.string().trim().min(1).max(200),
    type: z.enum(MONITOR_TYPES),
    query: z.string().trim().min(1).max(10_000),
    thresholds: z.object({ critical: z.number().finite(), warning: z.number().finite().optional() }),
    evaluationWindow: z.string().regex(WINDOW, 'evaluationWindow: a number and m, h or d, such as 5m'),
    priority: z.number().int().min(1).max(5),
    message: z.string().max(4_000),
    location: CodeLocation,
    matches: z.array(LiteralMatch).max(20),
    rationale: z.string().trim().min(1, 'rationale: say why this monitor is worth having'),
  })
  .superRefine((proposal, ctx) => {
    if (proposal.type === 'composite') return;
    // The thresholds are computed for evaluationWindow: a query counting over another window would fire at other rates than the ones stated.
    const stated = QUERY_WINDOW.exec(proposal.query);
    if (stated && (stated[1] ?? stated[2]) !== proposal.evaluationWindow) {
      ctx.addIssue({ code: 'custom', path: ['evaluationWindow'], message: `the query counts over ${stated[1] ?? stated[2]}, not ${proposal.evaluationWindow}` });
    }
    const comparison = comparisonOf(proposal.query);
    if (!comparison) {
      ctx.addIssue({ code: 'custom', path: ['query'], message: `a ${proposal.type} query ends with its comparison (> N, < N)` });
      return;
    }
    if (proposal.thresholds.warning !== undefined && !warningPrecedesCritical(comparison.operator, proposal.thresholds.warning, proposal.thresholds.critical)) {
      ctx.addIssue({ code: 'custom', path: ['thresholds', 'warning'], message: `with ${comparison.operator}, the warning must be reached before the critical` });
    }
  });
export type MonitorProposal = z.infer<typeof MonitorProposal>;

export type Comparison = { operator: '>' | '>=' | '<' | '<='; threshold: number };

export function comparisonOf(query: string): Comparison | null {
  const match = TRAILING_COMPARISON.exec(query);
  if (!match) return null;
  return { operator: match[1] as Comparison['operator'], threshold: Number(match[2]) };
}

/** Datadog refuses a warning on the far side of the critical: above it for `>`, below it for `<`. */
export function warningPrecedesCritical(operator: Comparison['operator'], warning: number, critical: number): boolean {
  return operator.startsWith('>') ? warning < critical : warning > critical;
}

export function windowMs(evaluationWindow: string): number {
  const match = WINDOW.exec(evaluationWindow);
  if (!match || Number(match[1]) === 0) throw new MonitorProposalError(`evaluation window ${JSON.stringify(evaluationWindow)} is not a number of minutes, hours or days`);
  return Number(match[1]) * WINDOW_UNIT_MS[match[2] as keyof typeof WINDOW_UNIT_MS];
}

export class MonitorProposalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MonitorProposalError';
  }
}

// ---- Tags ----

export const STEWARD_CREATED_TAG = 'created_by:steward';
export const MAX_TAG_LENGTH = 200;

/**
 * A tag as Datadog keeps it: lower-case; starts with a letter; letters, digits, `_ - : . /` only,
 * anything else an underscore, runs of underscores one, none at the end; at most 200 characters.
 * Done here rather than left to Datadog so that Steward can find its own tags again by equality.
 */
export function datadogTag(raw: string): string {
  let tag = raw
    .toLowerCase()
    .replace(/[^a-z0-9_\-:./]/g, '_')
    .replace(/_+/g, '_')
    .replace(/^[^a-z]+/, '');
  tag = tag.slice(0, MAX_TAG_LENGTH).replace(/_+$/, '');
  if (tag === '') throw new MonitorProposalError(`${JSON.stringify(raw)} holds no letter to start a tag with`);
  return tag;
}

export function fileTag(path: string): string {
  return datadogTag(`steward_file:${path.replace(/^\.\//, '')}`);
}

export interface MonitorOrigin {
  /** owner/name, or the path the code host knows the repository by. */
  repository: string;
  /** The merge commit the monitor was generated for. */
  sha: string;
  /** Null for a commit merged without a pull request (the local code host, `--commit`). */
  pullRequest: number | null;
}

/** `@` is not a tag character: the source tag reads `steward_source:acme/checkout_<sha>` once Datadog's rules are applied. */
export function stewardTags(origin: MonitorOrigin, location: CodeLocation): string[] {
  return [
    STEWARD_CREATED_TAG,
    datadogTag(`steward_source:${origin.repository}@${origin.sha}`),
    ...(origin.pullRequest === null ? [] : [datadogTag(`steward_pr:${origin.pullRequest}`)]),
    fileTag(location.file),
  ];
}

/** The value of a `key:` tag among a monitor's tags, or null when it has none. */
export function tagValue(tags: readonly string[], key: string): string | null {
  const prefix = `${key}:`;
  const tag = tags.find((t) => t.startsWith(prefix));
  return tag === undefined ? null : tag.slice(prefix.length);
}

// ---- The definition ----

export const DEFAULT_WEBHOOK_HANDLE = '@webhook-steward';
const WEBHOOK_HANDLE = /^@webhook-[A-Za-z0-9_-]+$/;

/**
 * Structurally the `MonitorDefinition` the Datadog monitors adapter creates (domain/ may not import
 * adapters; the test holds the two together), with the warning threshold and priority it does not
 * send yet.
 */
export interface GeneratedMonitorDefinition {
  name: string;
  type: GeneratedMonitorType;
  query: string;
  message: string;
  tags: string[];
  criticalThreshold: number | null;
  warningThreshold: number | null;
  priority: number;
}

export interface DefinitionThresholds {
  critical: number;
  warning: number | null;
}

/**
 * The definition Steward creates. The query's comparison is rewritten to the critical threshold
 * (Datadog refuses a query whose threshold differs from the critical), the message names the code
 * it watches and ends with the webhook handle, and mentions in the model's text are defused: the
 * model does not get to page anyone. A proposal whose service is settled is tagged with it.
 */
export function monitorDefinitionOf(
  proposal: MonitorProposal & { service?: string },
  thresholds: DefinitionThresholds | null,
  origin: MonitorOrigin,
  webhookHandle: string = DEFAULT_WEBHOOK_HANDLE,
): GeneratedMonitorDefinition {
  if (!WEBHOOK_HANDLE.test(webhookHandle)) throw new MonitorProposalError(`webhook handle ${JSON.stringify(webhookHandle)} is not of the form @webhook-<name>`);
  if (origin.pullRequest !== null && (!Number.isInteger(origin.pullRequest) || origin.pullRequest <= 0)) throw new MonitorProposalError(`pull request number ${origin.pullRequest} is not a positive integer`);
  const query = proposal.type === 'composite' ? proposal.query : withCriticalThreshold(proposal.query, thresholds?.critical ?? proposal.thresholds.critical);
  const critical = proposal.type === 'composite' ? null : (thresholds?.critical ?? proposal.thresholds.critical);
  const warning = proposal.type === 'composite' ? null : thresholds ? thresholds.warning : (proposal.thresholds.warning ?? null);
  if (critical !== null && warning !== null && !warningPrecedesCritical(comparisonOf(query)!.operator, warning, critical)) {
    throw new MonitorProposalError(`${proposal.name}: warning ${warning} is not reached before critical ${critical}`);
  }
  return {
    name: proposal.name,
    type: proposal.type,
    query,
    message: monitorMessage(proposal, origin, webhookHandle),
    // The alert carries the monitor's tags, and Steward finds an alert's service by its service: tag (domain/alert.ts): without it, the incident would not know its service.
    tags: [...(proposal.service === undefined ? [] : [datadogTag(`service:${proposal.service}`)]), ...stewardTags(origin, proposal.location)],
    criticalThreshold: critical,
    warningThreshold: warning,
    priority: proposal.priority,
  };
}

export function withCriticalThreshold(query: string, critical: number): string {
  if (!TRAILING_COMPARISON.test(query)) throw new MonitorProposalError(`query ${JSON.stringify(query)} ends with no comparison to set the threshold in`);
  return query.replace(TRAILING_COMPARISON, (_all, operator: string) => `${operator} ${critical}`);
}

export function describeLocation(location: CodeLocation): string {
  return `${location.file}${location.line === undefined ? '' : `:${location.line}`}${location.symbol === undefined ? '' : ` (${location.symbol})`}`;
}

/** `@someone` in the model's text would notify someone; without the `@` it is only a name. */
export function defuseMentions(text: string): string {
  return text.replace(/(^|[^\w@])@(?=[\w-])/g, '$1');
}

function monitorMessage(proposal: MonitorProposal, origin: MonitorOrigin, webhookHandle: string): string {
  const body = defuseMentions(proposal.message.trim());
  return [
    ...(body === '' ? [] : [body, '']),
    `Watches ${describeLocation(proposal.location)}, new in ${origin.pullRequest === null ? 'commit' : `PR #${origin.pullRequest} of`} ${origin.repository} (${origin.sha.slice(0, 12)}).`,
    `Why: ${defuseMentions(proposal.rationale.trim())}`,
    '',
    webhookHandle,
  ].join('\n');
}
