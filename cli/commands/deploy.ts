import * as fs from 'node:fs/promises';
import type { Command } from 'commander';
import type { z } from 'zod';
import { logTail } from '../../domain/build-log';
import { BUILD_LOG_MAX_CHARS, deployEventFromBody, DeployWebhookBody } from '../../domain/deploy';
import { deliverDeploy } from '../../use-cases/deliver-deploy.use-case';
import { EXIT, usageError, type CliCommand } from '../command';
import type { CliContext } from '../context';
import { TEMPORAL_CALL_TIMEOUT_MS } from '../incident-session';

/**
 * `steward deploy <service> <revision> [--previous <rev>] [--environment <e>] [--deployed-at <iso>]
 * [--build-failed [--log <file>]]`: reports a deploy as POST /webhooks/deploy does, through the same
 * use case, so that a pipeline without a webhook step (or a person) can start or join its watch.
 */

interface DeployOptions {
  previous?: string;
  environment?: string;
  deployedAt?: string;
  buildFailed?: boolean;
  log?: string;
}

export interface DeployRequest {
  command: 'deploy';
  /** The body the webhook would have been posted, validated by the same schema; without the log, read when the command runs. */
  body: z.output<typeof DeployWebhookBody>;
  logFile: string | null;
}

const OPTION_OF_FIELD: Record<string, string> = { previousRevision: '--previous', environment: '--environment', deployedAt: '--deployed-at' };

export const deployCommand: CliCommand = {
  register(parent, accept) {
    parent
      .command('deploy')
      .description("report a deploy of a service's revision: starts its watch, or joins the one running")
      .argument('<service>', 'the service, as named in STEWARD_SERVICES_FILE')
      .argument('<revision>', 'the deployed commit sha, tag or branch')
      .option('--previous <rev>', 'the revision it replaced')
      .option('--environment <name>', 'where it was deployed, e.g. production')
      .option('--deployed-at <iso>', 'when, ISO-8601 with an offset (default: now)')
      .option('--build-failed', 'the build of this revision failed')
      .option('--log <file>', 'the failed build\'s log (with --build-failed); a longer one than 1,000,000 characters keeps its tail')
      .action((service: string, revision: string, options: DeployOptions, command: Command) => {
        if (options.log !== undefined && !options.buildFailed) usageError(command, '--log needs --build-failed: only a failed build has its log sent');
        const candidate = {
          service,
          revision,
          ...(options.previous !== undefined ? { previousRevision: options.previous } : {}),
          ...(options.environment !== undefined ? { environment: options.environment } : {}),
          ...(options.deployedAt !== undefined ? { deployedAt: options.deployedAt } : {}),
          ...(options.buildFailed ? { build: { status: 'failure' as const } } : {}),
        };
        const parsed = DeployWebhookBody.safeParse(candidate);
        // Named as the command line names them: an argument, or the option that gave the field.
        if (!parsed.success) {
          usageError(command, parsed.error.issues.map((issue) => `${OPTION_OF_FIELD[String(issue.path[0])] ?? `<${String(issue.path[0])}>`}: ${issue.message}`).join('; '));
        }
        const request: DeployRequest = { command: 'deploy', body: parsed.data, logFile: options.log ?? null };
        accept({ request, run: (context) => reportDeploy(context, request) });
      });
  },
};

async function reportDeploy(context: CliContext, request: DeployRequest): Promise<number> {
  let body = request.body;
  if (request.logFile !== null) {
    let text: string;
    try {
      text = await fs.readFile(request.logFile, 'utf8');
    } catch (error) {
      context.io.err(`steward: cannot read --log ${request.logFile}: ${(error as Error).message}`);
      return EXIT.failed;
    }
    const cut = logTail(text, BUILD_LOG_MAX_CHARS);
    if (cut.truncated) context.io.err(`steward: ${request.logFile} has ${text.length} characters; sending its last ${BUILD_LOG_MAX_CHARS}`);
    body = { ...body, build: { status: 'failure', log: cut.text } };
  }
  const deploy = deployEventFromBody(body, 'cli', new Date());
  const { temporal, deployWatch } = context.config();

  let session: Awaited<ReturnType<CliContext['connectTemporal']>>;
  try {
    session = await context.connectTemporal();
  } catch (error) {
    context.io.err(`steward: cannot reach Temporal at ${temporal.address} (TEMPORAL_ADDRESS): ${(error as Error).message}`);
    return EXIT.failed;
  }
  try {
    const outcome = await deliverDeploy(session.client, { deploy, policy: deployWatch.policy, taskQueue: deployWatch.taskQueue }, { timeoutMs: TEMPORAL_CALL_TIMEOUT_MS });
    if (outcome.closed) {
      context.io.out(`${outcome.watchId} already completed: its verdict stands, and the deploy was not watched again`);
    } else {
      context.io.out(`${outcome.joined ? 'Joined' : 'Started'} ${outcome.watchId} (run ${outcome.runId}): ${deploy.service} at ${deploy.revision}${deploy.build?.status === 'failure' ? ', build failed' : ''}`);
    }
    return EXIT.done;
  } catch (error) {
    context.io.err(`steward: deploy failed: ${(error as Error).message}`);
    return EXIT.failed;
  } finally {
    await session.close();
  }
}
