import type { Command } from 'commander';
import { z } from 'zod';
import type { MergedChange } from '../../contracts';
import { generateMonitors } from '../../use-cases/generate-monitors.use-case';
import { EXIT, usageError, validated, type CliCommand } from '../command';
import type { CliContext } from '../context';
import { refuseGlobalDecisionOptions } from '../global-options';
import { TEMPORAL_CALL_TIMEOUT_MS } from '../incident-session';

/**
 * `steward monitors generate <service> --pr <n> | --commit <sha>`: starts the monitor generation
 * of a merged change, as GitHub's pull_request webhook does, through the same use case: by hand,
 * and for the local code host, whose merged work has no webhook.
 */

export interface MonitorsGenerateRequest {
  command: 'monitors generate';
  service: string;
  change: MergedChange;
}

const PullRequestNumber = z.string().regex(/^[1-9]\d{0,9}$/, '--pr: the pull request number, a positive integer').transform(Number);
const CommitSha = z
  .string()
  .regex(/^[0-9a-f]{40}$/i, '--commit: the merge commit, as its full 40-character sha (one change, one id)')
  .transform((sha) => sha.toLowerCase());

export const monitorsCommand: CliCommand = {
  register(parent, accept) {
    const monitors = parent.command('monitors').description('monitors generated from merged changes: monitors generate');
    monitors
      .command('generate')
      .description('generate monitors for the new code of a merged PR or commit (starts its generation, or joins the one running)')
      .argument('<service>', 'the service, as named in STEWARD_SERVICES_FILE')
      .option('--pr <number>', 'a merged pull request of the service\'s GitHub repository')
      .option('--commit <sha>', 'a commit merged into the default branch (the local code host)')
      .action((service: string, options: { pr?: string; commit?: string }, command: Command) => {
        refuseGlobalDecisionOptions(command, 'monitors generate');
        if ((options.pr === undefined) === (options.commit === undefined)) usageError(command, 'give exactly one of --pr <number> and --commit <sha>');
        const change: MergedChange =
          options.pr !== undefined
            ? { kind: 'pull_request', number: validated(command, PullRequestNumber, options.pr), mergeCommitSha: null, title: null, author: null, url: null }
            : { kind: 'commit', sha: validated(command, CommitSha, options.commit!) };
        const request: MonitorsGenerateRequest = { command: 'monitors generate', service, change };
        accept({ request, run: (context) => startGeneration(context, request) });
      });
  },
};

async function startGeneration(context: CliContext, request: MonitorsGenerateRequest): Promise<number> {
  const { monitorGeneration, temporal } = context.config();
  const services = monitorGeneration.services();
  const config = services[request.service];
  if (!config) {
    context.io.err(`steward: no service ${JSON.stringify(request.service)} in the services file; configured: ${Object.keys(services).join(', ') || 'none'}`);
    return EXIT.failed;
  }
  // One generation per repository: every service built from it is watched by the same run.
  const repository = config.githubRepository ?? request.service;
  const siblings = Object.entries(services)
    .filter(([name, other]) => name === request.service || (config.githubRepository !== null && other.githubRepository === config.githubRepository))
    .map(([name]) => name);
  let session: Awaited<ReturnType<CliContext['connectTemporal']>>;
  try {
    session = await context.connectTemporal();
  } catch (error) {
    context.io.err(`steward: cannot reach Temporal at ${temporal.address} (TEMPORAL_ADDRESS): ${(error as Error).message}`);
    return EXIT.failed;
  }
  try {
    const outcome = await generateMonitors(
      session.client,
      { repository, services: [request.service, ...siblings.filter((s) => s !== request.service)], change: request.change, trigger: 'cli', policy: monitorGeneration.policy, taskQueue: monitorGeneration.taskQueue },
      { timeoutMs: TEMPORAL_CALL_TIMEOUT_MS },
    );
    if (outcome.processed) context.io.out(`${outcome.generationId} already ran: its monitors stand, and nothing was generated again`);
    else context.io.out(`${outcome.joined ? 'Joined' : 'Started'} ${outcome.generationId} (run ${outcome.runId})`);
    return EXIT.done;
  } catch (error) {
    context.io.err(`steward: monitors generate failed: ${(error as Error).message}`);
    return EXIT.failed;
  } finally {
    await session.close();
  }
}
