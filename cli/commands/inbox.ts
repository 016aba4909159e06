import type { Command } from 'commander';
import { z } from 'zod';
import { LOCAL_STACK_DATABASE_URL } from '../../config/cli.config';
import { required } from '../../config/env';
import { formatInbox, retryDeadLetter, showInbox } from '../../use-cases/inspect-inbox.use-case';
import { EXIT, validated, type CliCommand } from '../command';
import type { CliContext } from '../context';
import { refuseGlobalDecisionOptions } from '../global-options';

/**
 * `steward inbox list [--dead] [--limit <n>] [--json]`: the durable inbox's depth and its pending
 * deliveries, or with --dead its dead letters and the errors they were set aside for.
 * `steward inbox retry <deliveryId>`: puts a dead letter back in the queue, in its place.
 */

const DATABASE_HELP = `\nReads the API's inbox in Postgres; for the local stack of npm start / npm run demo: DATABASE_URL=${LOCAL_STACK_DATABASE_URL}`;
const Limit = z.coerce.number({ error: '--limit: a number' }).int('--limit: a whole number').min(1, '--limit: at least 1').max(1000, '--limit: at most 1000');
const DeliveryId = z.string().trim().min(1, 'a delivery id, as `steward inbox list --dead` shows it');

export interface InboxListRequest {
  command: 'inbox list';
  state: 'pending' | 'dead';
  limit: number;
  json: boolean;
}

export interface InboxRetryRequest {
  command: 'inbox retry';
  deliveryId: string;
}

export const inboxCommand: CliCommand = {
  register(parent, accept) {
    const group = parent.command('inbox').description("the API's durable inbox: what waits for Temporal, the dead letters, and putting one back");
    group
      .command('list')
      .description('show the inbox depth and its pending deliveries, or with --dead its dead letters and their errors')
      .option('--dead', 'the dead letters instead of the pending deliveries')
      .option('--limit <n>', 'how many deliveries, oldest first', '50')
      .option('--json', 'one JSON object: {"depth", "deliveries": [...]}')
      .addHelpText('after', DATABASE_HELP)
      .action((options: { dead?: boolean; limit: string; json?: boolean }, command: Command) => {
        refuseGlobalDecisionOptions(command, 'inbox list');
        const request: InboxListRequest = { command: 'inbox list', state: options.dead === true ? 'dead' : 'pending', limit: validated(command, Limit, options.limit), json: options.json === true };
        accept({ request, run: (context) => list(context, request) });
      });
    group
      .command('retry')
      .description("put a dead letter back in the inbox's queue: the relay tries it again, ahead of its workflow's deliveries still pending")
      .argument('<deliveryId>', 'the dead letter, as `steward inbox list --dead` shows it')
      .addHelpText('after', DATABASE_HELP)
      .action((deliveryId: string, _options: unknown, command: Command) => {
        refuseGlobalDecisionOptions(command, 'inbox retry');
        const request: InboxRetryRequest = { command: 'inbox retry', deliveryId: validated(command, DeliveryId, deliveryId) };
        accept({ request, run: (context) => retry(context, request) });
      });
  },
};

function databaseUrlOf(context: CliContext, command: string): string {
  return required(context.config().databaseUrl, 'DATABASE_URL', `${command} reads the API's inbox in Postgres; for the local stack of npm start / npm run demo, set DATABASE_URL=${LOCAL_STACK_DATABASE_URL}`);
}

async function list(context: CliContext, request: InboxListRequest): Promise<number> {
  const session = context.openInbox(databaseUrlOf(context, 'inbox list'));
  try {
    const view = await showInbox(session.inbox, { state: request.state, limit: request.limit });
    if (request.json) context.io.out(JSON.stringify({ depth: view.depth, deliveries: view.deliveries.map(({ payload: _payload, ...rest }) => rest) }));
    else for (const line of formatInbox(view)) context.io.out(line);
    return EXIT.done;
  } catch (error) {
    context.io.err(`steward: inbox list failed: ${(error as Error).message}`);
    return EXIT.failed;
  } finally {
    await session.close();
  }
}

async function retry(context: CliContext, request: InboxRetryRequest): Promise<number> {
  const session = context.openInbox(databaseUrlOf(context, 'inbox retry'));
  try {
    const result = await retryDeadLetter(session.inbox, request.deliveryId);
    switch (result) {
      case 'requeued':
        context.io.out(`put ${request.deliveryId} back in the inbox's queue: the relay tries it again, ahead of its workflow's deliveries still pending`);
        return EXIT.done;
      case 'unknown':
        context.io.err(`steward: the inbox keeps no delivery ${request.deliveryId}`);
        return EXIT.failed;
      case 'pending':
        context.io.err(`steward: ${request.deliveryId} is no dead letter: it is pending, and the relay tries it already`);
        return EXIT.failed;
      case 'relayed':
        context.io.err(`steward: ${request.deliveryId} is no dead letter: it was relayed, and Temporal holds it`);
        return EXIT.failed;
    }
  } catch (error) {
    context.io.err(`steward: inbox retry failed: ${(error as Error).message}`);
    return EXIT.failed;
  } finally {
    await session.close();
  }
}
