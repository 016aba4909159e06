import type { Command } from 'commander';
import { z } from 'zod';
import { reportTimeToFirstPr, type TimeToFirstPrReport } from '../../use-cases/report-time-to-first-pr.use-case';
import { EXIT, validated, type CliCommand } from '../command';
import type { CliContext } from '../context';
import { refuseGlobalDecisionOptions } from '../global-options';
import { formatDuration, table } from './report-format';

/**
 * `steward report ttfp [--since <date>] [--service <s>] [--json]`: time to first PR of each incident
 * visibility lists, split into agent-bound, human-bound and queueing time, from the workflow
 * histories (evals/reports/time-to-first-pr.ts), with the p50 and p90.
 */

export interface ReportTtfpRequest {
  command: 'report ttfp';
  since: Date | null;
  service: string | null;
  json: boolean;
}

const Args = z.object({
  since: z
    .union([z.iso.date(), z.iso.datetime({ offset: true })], { error: '--since: a date (2026-12-01, midnight UTC) or an ISO time with its offset (2026-12-01T09:00:00Z)' })
    .transform((value) => new Date(value.length === 10 ? `${value}T00:00:00Z` : value))
    .nullable(),
  service: z.string().trim().min(1, '--service names a service').regex(/^[^'"\\]+$/, '--service: a service name, without quotes or backslashes').nullable(),
  json: z.boolean(),
});

export const reportTtfpCommand: CliCommand = {
  register(report, accept) {
    report
      .command('ttfp')
      .description('time to first PR of each incident, from the webhook\'s receipt to the PR, split into agent-bound, human-bound (approval gate) and queueing time, from the workflow histories; with p50 and p90')
      .option('--since <date>', 'only incidents started at or after this date or ISO time')
      .option('--service <name>', "only this service's incidents")
      .option('--json', 'one JSON object, times in milliseconds')
      .action((options: { since?: string; service?: string; json?: boolean }, command: Command) => {
        refuseGlobalDecisionOptions(command, 'report ttfp');
        const request: ReportTtfpRequest = { command: 'report ttfp', ...validated(command, Args, { since: options.since ?? null, service: options.service ?? null, json: options.json === true }) };
        accept({ request, run: (context) => runReport(context, request) });
      });
  },
};

async function runReport(context: CliContext, request: ReportTtfpRequest): Promise<number> {
  let session: Awaited<ReturnType<CliContext['openIncidentHistories']>>;
  try {
    session = await context.openIncidentHistories();
  } catch (error) {
    context.io.err(`steward: cannot reach Temporal at ${context.config().temporal.address} (TEMPORAL_ADDRESS): ${(error as Error).message}`);
    return EXIT.failed;
  }
  try {
    const report = await reportTimeToFirstPr(session.histories, { since: request.since, service: request.service });
    context.io.out(request.json ? JSON.stringify(report) : formatTimeToFirstPr(report));
    return EXIT.done;
  } catch (error) {
    context.io.err(`steward: report ttfp failed: ${(error as Error).message}`);
    return EXIT.failed;
  } finally {
    await session.close();
  }
}

export function formatTimeToFirstPr(report: TimeToFirstPrReport): string {
  const without = report.withoutPullRequest.length;
  const head = `time to first PR: ${report.incidents.length} incident${report.incidents.length === 1 ? '' : 's'} with a PR, ${without} without (${report.query})`;
  if (report.incidents.length === 0) return head;
  const parts = (s: { totalMs: number; agentMs: number; humanMs: number; queueingMs: number; otherMs: number }) => [s.totalMs, s.agentMs, s.humanMs, s.queueingMs, s.otherMs].map(formatDuration);
  const rows = [
    ['INCIDENT', 'SERVICE', 'RECEIVED', 'TOTAL', 'AGENT', 'HUMAN', 'QUEUEING', 'OTHER'],
    ...report.incidents.map((i) => [i.incidentId, i.service ?? '-', i.receivedAt, ...parts(i)]),
  ];
  if (report.percentiles) rows.push(['p50', '', '', ...parts(report.percentiles.p50)], ['p90', '', '', ...parts(report.percentiles.p90)]);
  return [head, ...table(rows)].join('\n');
}
