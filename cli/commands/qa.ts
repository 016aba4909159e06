import type { Command } from 'commander';
import { z } from 'zod';
import { LOCAL_STACK_DATABASE_URL } from '../../config/cli.config';
import { required } from '../../config/env';
import { formatQaNights, runNightlyQaNow, showQaNights } from '../../use-cases/nightly-qa.use-case';
import { EXIT, validated, type CliCommand } from '../command';
import type { CliContext } from '../context';
import { refuseGlobalDecisionOptions } from '../global-options';

/**
 * `steward qa run-now <service>`: triggers the service's nightly QA schedule now.
 * `steward qa status [<service>] [--last <n>] [--json]`: the last nights, from the QA ledger.
 */

const ServiceName = z.string().min(1, 'a service name, as in the services file').regex(/^[\w.-]+$/, 'a service name: letters, digits, . _ -');

export interface QaRunNowRequest {
  command: 'qa run-now';
  service: string;
}

export interface QaStatusRequest {
  command: 'qa status';
  service: string | null;
  last: number;
  json: boolean;
}

const Last = z.coerce.number({ error: '--last: a number' }).int('--last: a whole number').min(1, '--last: at least 1').max(100, '--last: at most 100');

export const qaCommand: CliCommand = {
  register(parent, accept) {
    const group = parent.command('qa').description("nightly QA: trigger a service's night now, or show the last nights");
    group
      .command('run-now')
      .description("trigger the service's nightly QA schedule now (steward-nightly-qa@<service>; needs a running Steward worker)")
      .argument('<service>', 'the service, as named in the services file')
      .action((service: string, _options: unknown, command: Command) => {
        refuseGlobalDecisionOptions(command, 'qa run-now');
        const request: QaRunNowRequest = { command: 'qa run-now', service: validated(command, ServiceName, service) };
        accept({ request, run: (context) => runNow(context, request) });
      });
    group
      .command('status')
      .description('show the last nights of nightly QA, from the QA ledger')
      .argument('[service]', 'one service; all of them when absent')
      .option('--last <n>', 'how many nights', '7')
      .option('--json', 'one JSON line per night')
      .addHelpText('after', `\nReads the QA ledger in Postgres; for the local stack of npm start / npm run demo: DATABASE_URL=${LOCAL_STACK_DATABASE_URL}`)
      .action((service: string | undefined, options: { last: string; json?: boolean }, command: Command) => {
        refuseGlobalDecisionOptions(command, 'qa status');
        const request: QaStatusRequest = {
          command: 'qa status',
          service: service === undefined ? null : validated(command, ServiceName, service),
          last: validated(command, Last, options.last),
          json: options.json === true,
        };
        accept({ request, run: (context) => status(context, request) });
      });
  },
};

async function runNow(context: CliContext, request: QaRunNowRequest): Promise<number> {
  const session = await context.openNightlyQaSchedules();
  try {
    const result = await runNightlyQaNow(session.schedules, request.service);
    switch (result.outcome) {
      case 'no-schedule':
        context.io.err(`steward: no schedule ${result.scheduleId}: is ${request.service} in the services file, and has an incident worker started since it was added?`);
        return EXIT.failed;
      case 'not-started':
        context.io.err(`steward: ${result.scheduleId} was triggered but started no night: overlap is SKIP, so a night still running (${result.running ?? 'none seen'}) keeps its place`);
        return EXIT.failed;
      case 'started':
        context.io.out(`started ${result.workflowId} from ${result.scheduleId}${result.paused ? ' (the schedule itself stays paused)' : ''}`);
        return EXIT.done;
    }
  } catch (error) {
    context.io.err(`steward: qa run-now failed: ${(error as Error).message}`);
    return EXIT.failed;
  } finally {
    await session.close();
  }
}

async function status(context: CliContext, request: QaStatusRequest): Promise<number> {
  const databaseUrl = required(context.config().databaseUrl, 'DATABASE_URL', `qa status reads the QA ledger in Postgres; for the local stack of npm start / npm run demo, set DATABASE_URL=${LOCAL_STACK_DATABASE_URL}`);
  const session = context.openQaLedger(databaseUrl);
  try {
    const nights = await showQaNights(session.ledger, request.service, request.last);
    if (request.json) for (const night of nights) context.io.out(JSON.stringify(night));
    else context.io.out(formatQaNights(nights, request.service));
    return EXIT.done;
  } catch (error) {
    context.io.err(`steward: qa status failed: ${(error as Error).message}`);
    return EXIT.failed;
  } finally {
    await session.close();
  }
}
