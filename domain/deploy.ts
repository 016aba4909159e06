import { z } from 'zod';

/**
 * A deploy of one revision of one service, as every source delivers it: the deploy webhook, the
 * GitHub App's `deployment_status` and `workflow_run` events, and `steward deploy`.
 */

/** A build log is kept whole up to this size; the tail holds the error, so a longer one keeps its end. */
export const BUILD_LOG_MAX_CHARS = 1_000_000;

const revisionText = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .regex(/^[\w./@+-]+$/, 'a revision is a commit sha, tag or branch name (letters, digits and ._/@+- only)');

export const BuildOutcome = z
  .object({
    status: z.enum(['success', 'failure']),
    log: z.string().max(BUILD_LOG_MAX_CHARS, `build.log is longer than ${BUILD_LOG_MAX_CHARS} characters: send its tail`).optional(),
    logUrl: z.string().url().max(2_000).optional(),
  })
  .strict();
export type BuildOutcome = z.infer<typeof BuildOutcome>;

/** The body of POST /webhooks/deploy (and what `steward deploy` sends). */
export const DeployWebhookBody = z
  .object({
    service: z.string().trim().min(1).max(200),
    revision: revisionText,
    previousRevision: revisionText.optional(),
    environment: z.string().trim().min(1).max(100).optional(),
    /** ISO-8601 with an offset; the time of receipt when absent. */
    deployedAt: z.string().datetime({ offset: true }).optional(),
    build: BuildOutcome.optional(),
  })
  .strict();
export type DeployWebhookBody = z.input<typeof DeployWebhookBody>;

export const DeploySource = z.enum(['webhook', 'cli', 'github-deployment', 'github-workflow-run']);
export type DeploySource = z.infer<typeof DeploySource>;

export const DeployEvent = z.object({
  service: z.string(),
  revision: z.string(),
  previousRevision: z.string().nullable(),
  environment: z.string().nullable(),
  /** ISO-8601, UTC. */
  deployedAt: z.string(),
  build: z
    .object({
      status: z.enum(['success', 'failure']),
      log: z.string().nullable(),
      logUrl: z.string().nullable(),
      /**
       * A failed GitHub Actions run whose log is not fetched yet: the GitHub edge answers the webhook
       * without the slow download, and the watch fetches it through the code host (fetchFailedRunLog).
       */
      githubRunId: z.number().int().positive().nullable().optional(),
    })
    .nullable(),
  source: DeploySource,
});
export type DeployEvent = z.infer<typeof DeployEvent>;

/** A validated body becomes the event the deploy watch is started with. */
export function deployEventFromBody(body: z.output<typeof DeployWebhookBody>, source: DeploySource, receivedAt: Date): DeployEvent {
  return {
    service: body.service,
    revision: body.revision,
    previousRevision: body.previousRevision ?? null,
    environment: body.environment ?? null,
    deployedAt: new Date(body.deployedAt ?? receivedAt.toISOString()).toISOString(),
    build: body.build ? { status: body.build.status, log: body.build.log ?? null, logUrl: body.build.logUrl ?? null } : null,
    source,
  };
}
