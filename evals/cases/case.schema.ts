import { z } from 'zod';
import { DatadogWebhookPayload } from '../../domain/alert';
import { Severity } from '../../domain/severity';

/**
 * The labelled cases the eval suites run on, one small JSON file per case under
 * evals/datasets/<suite>/<case id>.json, so that a diff shows one case. Every case says where it
 * came from; a case derived from public data names the data set and the record it was taken from.
 */

/** Stable ids: the file's name, kebab-case, so `steward eval show triage <id>` reads like the path. */
export const CaseId = z
  .string()
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'a case id is kebab-case: lower-case letters, digits and single dashes')
  .max(120);

export const Provenance = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('hand_written'), author: z.string().min(1), note: z.string().optional() }),
  z.object({
    kind: z.literal('public_data'),
    /** E.g. "Loghub HDFS_v1 (logpai/loghub)". */
    dataset: z.string().min(1),
    /** Where in it: a file and line, a record id, a URL. */
    source: z.string().min(1),
    /** What was done to it to make the case: the alert and monitor around it are written here. */
    derivation: z.string().min(1),
  }),
  z.object({ kind: z.literal('captured_run'), incidentId: z.string().min(1), capturedAt: z.string().datetime(), note: z.string().optional() }),
]);
export type Provenance = z.infer<typeof Provenance>;

export const Difficulty = z.enum(['easy', 'medium', 'hard']);

const caseHeader = {
  id: CaseId,
  description: z.string().min(1).max(500),
  difficulty: Difficulty,
  /** E.g. `flapping`, `downstream-outage`, `prompt-injection`, `renamed-alert`, `low-count`. */
  categories: z.array(z.string().regex(/^[a-z0-9-]+$/)).min(1),
  provenance: Provenance,
};

/** The monitor as the monitors port returns it (ports/monitors.port.ts). */
export const CaseMonitor = z.object({
  id: z.string().min(1),
  name: z.string().min(1),
  type: z.string().min(1),
  query: z.string().min(1),
  message: z.string(),
  tags: z.array(z.string()),
  criticalThreshold: z.number().nullable(),
  evaluationWindow: z.string().nullable(),
  createdBySteward: z.boolean().default(false),
});

/** An error log around the alert, as the logs port returns it (ports/logs.port.ts), minus what a case need not say. */
export const CaseErrorLog = z.object({
  timestamp: z.string().datetime(),
  message: z.string().min(1),
  service: z.string().nullable().default(null),
  stackTrace: z.string().nullable().default(null),
  requestId: z.string().nullable().default(null),
});

/** An incident still open (or recently closed) when the alert came: what triage may call it a duplicate of. */
export const CaseRecentIncident = z.object({
  incidentId: z.string().min(1),
  title: z.string().min(1),
  signature: z.string(),
  status: z.string().min(1),
  prUrl: z.string().nullable(),
});

export const TriageLabels = z
  .object({
    verdict: z.enum(['real', 'noise', 'duplicate']),
    severity: Severity,
    duplicateOf: z.string().nullable(),
    /** Facts a correct reasoning must mention, each a short sentence a judge can check. */
    facts: z.array(z.string().min(1)).min(1),
  })
  .superRefine((labels, ctx) => {
    if (labels.verdict === 'duplicate' && !labels.duplicateOf) ctx.addIssue({ code: 'custom', path: ['duplicateOf'], message: 'a duplicate names the incident it duplicates' });
    if (labels.verdict !== 'duplicate' && labels.duplicateOf) ctx.addIssue({ code: 'custom', path: ['duplicateOf'], message: 'only a duplicate names an incident it duplicates' });
  });
export type TriageLabels = z.infer<typeof TriageLabels>;

export const TriageCase = z
  .object({
    ...caseHeader,
    input: z.object({
      /** The body Datadog posts to /webhooks/datadog, as the webhook reads it. */
      webhook: DatadogWebhookPayload,
      monitor: CaseMonitor,
      errorLogs: z.array(CaseErrorLog).default([]),
      recentIncidents: z.array(CaseRecentIncident).default([]),
    }),
    labels: TriageLabels,
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.input.webhook.monitor_id !== undefined && String(c.input.webhook.monitor_id) !== c.input.monitor.id)
      ctx.addIssue({ code: 'custom', path: ['input', 'monitor', 'id'], message: `the monitor is the one the webhook names (${String(c.input.webhook.monitor_id)})` });
    const dup = c.labels.duplicateOf;
    if (dup && !c.input.recentIncidents.some((i) => i.incidentId === dup))
      ctx.addIssue({ code: 'custom', path: ['labels', 'duplicateOf'], message: `${dup} is not among input.recentIncidents` });
  });
export type TriageCase = z.infer<typeof TriageCase>;
export type TriageCaseInput = z.input<typeof TriageCase>;

export const AttributionLabels = z
  .object({
    verdict: z.enum(['caused', 'not_caused']),
    /** The line a correct answer cites: required when caused, null otherwise. */
    citedLine: z.object({ file: z.string().min(1), line: z.number().int().positive(), side: z.enum(['new', 'old']) }).nullable(),
    facts: z.array(z.string().min(1)).min(1),
  })
  .superRefine((labels, ctx) => {
    if (labels.verdict === 'caused' && !labels.citedLine) ctx.addIssue({ code: 'custom', path: ['citedLine'], message: 'a caused case names the line that causes it' });
    if (labels.verdict === 'not_caused' && labels.citedLine) ctx.addIssue({ code: 'custom', path: ['citedLine'], message: 'a not_caused case cites no line' });
  });
export type AttributionLabels = z.infer<typeof AttributionLabels>;

/** A flagged error, as the deploy watch hands it to the deploy triage (activities/deploy-triage/deploy-triage.schema.ts). */
export const CaseFlaggedError = z.object({
  signature: z.string().min(1),
  template: z.string().min(1),
  sample: z.object({ message: z.string().min(1), stackTrace: z.string().nullable() }),
  baselineCount: z.number().int().nonnegative(),
  afterCount: z.number().int().nonnegative(),
});

export const AttributionCase = z
  .object({
    ...caseHeader,
    input: z.object({
      service: z.string().min(1),
      /** Latest first: the deploy under watch, then earlier ones (a cause may sit in an earlier deploy). */
      deploys: z
        .array(z.object({ revision: z.string().min(1), previousRevision: z.string().min(1).nullable(), diffText: z.string() }))
        .min(1),
      flagged: z.array(CaseFlaggedError).min(1),
      /** Files as they are at the deploy under watch (path to content), for the grounding's lookups. Only what the case needs. */
      files: z.record(z.string(), z.string()).default({}),
    }),
    labels: AttributionLabels,
    /** Which deploy a caused label blames (a revision of input.deploys); the one under watch when absent. */
    causedBy: z.string().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.causedBy && !c.input.deploys.some((d) => d.revision === c.causedBy))
      ctx.addIssue({ code: 'custom', path: ['causedBy'], message: `${c.causedBy} is not a revision of input.deploys` });
  });
export type AttributionCase = z.infer<typeof AttributionCase>;
export type AttributionCaseInput = z.input<typeof AttributionCase>;

/** The suites, by the folder their cases live in. */
export const SUITES = {
  triage: TriageCase,
  'deploy-attribution': AttributionCase,
} as const;
export type SuiteName = keyof typeof SUITES;
export const SUITE_NAMES = Object.keys(SUITES) as SuiteName[];
