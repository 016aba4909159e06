import { ApplicationFailure } from '@temporalio/common';
import type { Command } from 'commander';
import { z } from 'zod';
import { LOCAL_STACK_DATABASE_URL } from '../../config/cli.config';
import { required } from '../../config/env';
import { ERROR_TYPES, type MergedChange } from '../../contracts';
import { generateMonitors } from '../../use-cases/generate-monitors.use-case';
import { listGeneratedMonitors, monitorDensity, type GeneratedMonitorList, type MonitorDensityView } from '../../use-cases/show-monitors.use-case';
import { EXIT, usageError, validated, type CliCommand } from '../command';
import type { CliContext } from '../context';
import { refuseGlobalDecisionOptions } from '../global-options';
import { TEMPORAL_CALL_TIMEOUT_MS } from '../incident-session';

/**
 * `steward monitors generate <service> --pr <n> | --commit <sha>`: starts the monitor generation
 * of a merged change, as GitHub's pull_request webhook does, through the same use case: by hand,
 * and for the local code host, whose merged work has no webhook.
 *
 * `steward monitors list [--service <s>] [--json]`: each active generated monitor, with the change
 * it came from, its file and how it has fared. `steward monitors density [--service <s>] [--json]`:
 * per repository, how densely its code is watched, beside the reference's one monitor per 75 lines,
 * and the share of the last 30 days' new runtime lines a monitor covers. Both read the registry in
 * Postgres (DATABASE_URL); density also the monitor platform, code host and repositories.
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

export interface MonitorsFiguresRequest {
  command: 'monitors list' | 'monitors density';
  /** Null: every service. */
  service: string | null;
  json: boolean;
}

const FiguresArgs = z.object({
  service: z.string().trim().min(1, '--service names a service').nullable(),
  json: z.boolean(),
});

export const monitorsCommand: CliCommand = {
  register(parent, accept) {
    const monitors = parent.command('monitors').description('monitors generated from merged changes: monitors generate, list, density');
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
    for (const [name, description] of [
      ['list', 'each active generated monitor: its service, the PR or commit it came from, its file, when it was created, its fires, noise verdicts and real incidents, and where its thresholds came from'],
      ['density', "per repository: its monitors (generated and hand-written), its source lines at the default branch, lines per monitor beside the reference's 75, and the share of the last 30 days' new runtime lines a monitor covers"],
    ] as const) {
      monitors
        .command(name)
        .description(description)
        .option('--service <name>', name === 'list' ? "only this service's monitors" : "only this service's repository")
        .option('--json', 'one JSON object')
        .addHelpText('after', `\nReads the registry in Postgres; for the local stack of npm start / npm run demo: DATABASE_URL=${LOCAL_STACK_DATABASE_URL}`)
        .action((options: { service?: string; json?: boolean }, command: Command) => {
          const request: MonitorsFiguresRequest = { command: `monitors ${name}`, ...validated(command, FiguresArgs, { service: options.service ?? null, json: options.json === true }) };
          accept({ request, run: (context) => showFigures(context, request) });
        });
    }
  },
};

async function showFigures(context: CliContext, request: MonitorsFiguresRequest): Promise<number> {
  const databaseUrl = required(
    context.config().databaseUrl,
    'DATABASE_URL',
    `${request.command} reads the registry of generated monitors in Postgres; for the local stack of npm start / npm run demo, set DATABASE_URL=${LOCAL_STACK_DATABASE_URL}`,
  );
  const session = context.openMonitorFigures(databaseUrl);
  try {
    if (request.command === 'monitors list') {
      const list = await listGeneratedMonitors(session.readers, { service: request.service });
      context.io.out(request.json ? JSON.stringify(list) : formatGeneratedMonitors(list));
    } else {
      const density = await monitorDensity(session.readers, { service: request.service, now: new Date() });
      context.io.out(request.json ? JSON.stringify(density) : formatDensity(density));
    }
    return EXIT.done;
  } catch (error) {
    if (error instanceof ApplicationFailure && error.type === ERROR_TYPES.serviceNotConfigured) context.io.err(`steward: ${error.message}`);
    else context.io.err(`steward: ${request.command} failed: ${(error as Error).message}`);
    return EXIT.failed;
  } finally {
    await session.close();
  }
}

const table = (rows: string[][]): string[] => {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '));
};

/** The PR by number, else the merge commit, short. */
const changeOf = (monitor: GeneratedMonitorList['monitors'][number]) => (monitor.pullRequestNumber !== null ? `#${monitor.pullRequestNumber}` : monitor.commit.slice(0, 12));

export function formatGeneratedMonitors(list: GeneratedMonitorList): string {
  const whose = list.service === null ? '' : ` of ${list.service}`;
  if (list.monitors.length === 0) return `generated monitors${whose}: none`;
  return [
    `generated monitors${whose}: ${list.monitors.length}, oldest first`,
    ...table([
      ['MONITOR', 'SERVICE', 'TYPE', 'CHANGE', 'FILE', 'CREATED', 'FIRES', 'NOISE', 'REAL', 'THRESHOLDS', 'NAME'],
      ...list.monitors.map((m) => [m.monitorId, m.service, m.type, changeOf(m), m.file, m.createdAt, String(m.fires), String(m.noiseVerdicts), String(m.realIncidents), m.thresholdSource, m.name]),
    ]),
  ].join('\n');
}

const percent = (share: number) => `${(share * 100).toFixed(1)}%`;
const rounded = (value: number) => String(Math.round(value * 10) / 10);

export function formatDensity(view: MonitorDensityView): string {
  if (view.repositories.length === 0) return 'repositories: none configured';
  const blocks = view.repositories.map((r) => {
    const { coverage } = r;
    return [
      `${r.repository} (${r.services.length === 1 ? 'service' : 'services'} ${r.services.join(', ')}) at ${r.defaultBranch} ${r.revision.slice(0, 12)}`,
      `  monitors: ${r.monitors.total} (generated ${r.monitors.generated}, hand-written ${r.monitors.handWritten})`,
      `  source lines: ${r.source.lines} in ${r.source.files} files`,
      `  lines per monitor: ${r.linesPerMonitor === null ? 'no data (no monitor)' : rounded(r.linesPerMonitor)} (reference: 1 monitor per ${r.referenceLinesPerMonitor} lines)`,
      coverage.share === null
        ? `  new runtime lines covered, last ${coverage.windowDays} days: no data (${coverage.noData})`
        : `  new runtime lines covered, last ${coverage.windowDays} days: ${coverage.coveredLines} of ${coverage.newRuntimeLines} (${percent(coverage.share)}), over ${coverage.changes} processed change${coverage.changes === 1 ? '' : 's'}`,
    ].join('\n');
  });
  return blocks.join('\n\n');
}

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
