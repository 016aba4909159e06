import type { Command } from 'commander';
import { LOCAL_STACK_DATABASE_URL } from '../../config/cli.config';
import { required } from '../../config/env';
import type { RejectionPairs } from '../../evals/reports/rejection-pairs';
import { exportRejectionPairs } from '../../use-cases/export-rejection-pairs.use-case';
import { EXIT, type CliCommand } from '../command';
import type { CliContext } from '../context';
import { refuseGlobalDecisionOptions } from '../global-options';
import { table } from './report-format';

/**
 * `steward report rejections [--json]`: the approval gate's rejections, from the ledger, as
 * preference pairs (evals/reports/rejection-pairs.ts). With --json, one pair per line in the
 * prompt/chosen/rejected format preference-tuning tools read; a rejection with no later approved or
 * merged PR for its error has no chosen diff, so it is left out and counted on stderr.
 */

export interface ReportRejectionsRequest {
  command: 'report rejections';
  json: boolean;
}

export const reportRejectionsCommand: CliCommand = {
  register(report, accept) {
    report
      .command('rejections')
      .description("the approval gate's rejections as preference pairs: the incident's context, the rejected diff and its reason, and a later approved or merged PR's diff for the same error")
      .option('--json', 'JSON lines of {prompt, chosen, rejected, ...metadata}, one pair per line; unpaired rejections are counted on stderr')
      .addHelpText('after', `\nReads the ledger in Postgres; for the local stack of npm start / npm run demo: DATABASE_URL=${LOCAL_STACK_DATABASE_URL}`)
      .action((options: { json?: boolean }, command: Command) => {
        refuseGlobalDecisionOptions(command, 'report rejections');
        const request: ReportRejectionsRequest = { command: 'report rejections', json: options.json === true };
        accept({ request, run: (context) => runExport(context, request) });
      });
  },
};

async function runExport(context: CliContext, request: ReportRejectionsRequest): Promise<number> {
  const databaseUrl = required(
    context.config().databaseUrl,
    'DATABASE_URL',
    `report rejections reads the ledger's approval decisions in Postgres; for the local stack of npm start / npm run demo, set DATABASE_URL=${LOCAL_STACK_DATABASE_URL}`,
  );
  const session = context.openApprovalOutcomes(databaseUrl);
  try {
    const exported = await exportRejectionPairs(session.outcomes);
    if (request.json) {
      for (const pair of exported.pairs) context.io.out(JSON.stringify(pair));
      if (exported.unpaired.length > 0) context.io.err(`steward: ${describeUnpaired(exported)}`);
    } else context.io.out(formatRejections(exported));
    return EXIT.done;
  } catch (error) {
    context.io.err(`steward: report rejections failed: ${(error as Error).message}`);
    return EXIT.failed;
  } finally {
    await session.close();
  }
}

function describeUnpaired({ unpaired }: RejectionPairs): string {
  const n = unpaired.length;
  return `${n} rejection${n === 1 ? '' : 's'} left out, with no chosen diff: ${unpaired.map((u) => `${u.incidentId} (${u.why})`).join('; ')}`;
}

export function formatRejections(exported: RejectionPairs): string {
  const { pairs, unpaired } = exported;
  const total = pairs.length + unpaired.length;
  const head = `rejections at the approval gate: ${total}; ${pairs.length} paired with a later approved or merged PR, ${unpaired.length} unpaired`;
  if (total === 0) return head;
  const rows = [
    ['INCIDENT', 'SERVICE', 'REJECTED', 'BY', 'CHOSEN', 'REASON'],
    ...pairs.map((p) => [p.incidentId, p.service ?? '-', p.rejectedAt, p.rejectedBy, `${p.chosenIncidentId} (${p.chosenBecause})`, p.reason]),
    ...unpaired.map((u) => [u.incidentId, u.service ?? '-', u.rejectedAt, u.rejectedBy, `none: ${u.why}`, u.reason]),
  ];
  return [head, ...table(rows), '', 'With --json: the pairs as JSON lines (prompt, chosen, rejected).'].join('\n');
}
