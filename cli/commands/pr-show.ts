import type { Command } from 'commander';
import { z } from 'zod';
import { LOCAL_STACK_DATABASE_URL } from '../../config/cli.config';
import { required } from '../../config/config';
import { EXIT, validated, type CliCommand } from '../command';
import type { CliContext, LocalPullRequest } from '../context';
import { refuseGlobalDecisionOptions } from '../global-options';

/**
 * `steward pr show <number> [--json]`: not a workflow operation. The local code host keeps its
 * pull requests in Postgres, and there is no web page to open them in, so the CLI reads the record.
 */

export interface PrShowRequest {
  command: 'pr show';
  pullRequestNumber: number;
  json: boolean;
}

const PullRequestNumber = z
  .string()
  .regex(/^[1-9]\d{0,9}$/, 'the pull request number must be a positive integer')
  .transform(Number)
  // local_pull_requests.number is a Postgres serial (int4).
  .refine((number) => number <= 2_147_483_647, 'the pull request number is too large');

export const prCommand: CliCommand = {
  register(parent, accept) {
    parent
      .command('pr')
      .description("the local code host's pull requests: pr show <number>")
      .command('show')
      .description("print a local pull request: title, state, branch, base and head, body and diff (needs DATABASE_URL)")
      .argument('<number>', 'the pull request number, as in local-git://<repository>/pulls/<number>')
      .option('--json', 'the record as one JSON object')
      .addHelpText('after', `\nFor the local stack of npm start / npm run demo: DATABASE_URL=${LOCAL_STACK_DATABASE_URL}`)
      .action((number: string, options: { json?: boolean }, command: Command) => {
        refuseGlobalDecisionOptions(command, 'pr show');
        const request: PrShowRequest = { command: 'pr show', pullRequestNumber: validated(command, PullRequestNumber, number), json: options.json === true };
        accept({ request, run: (context) => showLocalPullRequest(request, context) });
      });
  },
};

async function showLocalPullRequest(request: PrShowRequest, context: CliContext): Promise<number> {
  const { pullRequestNumber } = request;
  const databaseUrl = required(
    context.config().databaseUrl,
    'DATABASE_URL',
    `pr show reads the local code host's pull requests from Postgres; for the local stack of npm start / npm run demo, set DATABASE_URL=${LOCAL_STACK_DATABASE_URL}`,
  );
  const pullRequests = context.openLocalPullRequests(databaseUrl);
  try {
    const record = await pullRequests.get(pullRequestNumber);
    if (!record) {
      context.io.err(`steward: the local code host has no pull request #${pullRequestNumber} (DATABASE_URL ${redactedUrl(databaseUrl)})`);
      return EXIT.failed;
    }
    context.io.out(request.json ? JSON.stringify(record) : formatLocalPullRequest(record));
    return EXIT.done;
  } catch (error) {
    context.io.err(`steward: cannot read pull request #${pullRequestNumber} from Postgres at ${redactedUrl(databaseUrl)} (DATABASE_URL): ${(error as Error).message}`);
    return EXIT.failed;
  } finally {
    await pullRequests.close();
  }
}

/** The URL without its password, for messages. */
function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
}

export function formatLocalPullRequest(record: LocalPullRequest): string {
  const field = (label: string, value: string): string => `${`${label}:`.padEnd(11)}${value}`;
  return [
    `#${record.number} ${record.title}${record.draft ? ' (draft)' : ''}`,
    field('state', record.state),
    field('url', record.url),
    field('repository', record.repository),
    field('branch', record.branch),
    field('base', record.baseRevision),
    field('head', record.headRevision),
    field('incident', record.incidentId),
    field('created', record.createdAt.toISOString()),
    '',
    '--- body ---',
    record.body.trimEnd(),
    '',
    '--- diff ---',
    record.diff.trimEnd(),
  ].join('\n');
}
