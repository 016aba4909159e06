import * as fs from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { durationMs } from '../../config/env';
import { replayRegression, type TimedLine } from '../../domain/regression/offline-replay';
import { EXIT, validated, type CliCommand } from '../command';
import type { CliIo } from '../context';

/**
 * `steward regressions --baseline <file> --after <file> --deployed-at <ISO time> [--json]`: the
 * deploy watch's sequential test, offline. Both files are JSON lines, {"timestamp", "message"};
 * the same miner and test as the live watch, the after-deploy lines replayed in time order at each
 * poll instant. Prints the signatures flagged and the poll that flagged each.
 */

const RegressionsArgs = z
  .object({
    baseline: z.string().min(1, '--baseline names a file'),
    after: z.string().min(1, '--after names a file'),
    deployedAt: z.iso.datetime({ offset: true, error: '--deployed-at: an ISO time such as 2026-12-01T12:00:00Z' }),
    json: z.boolean(),
    poll: durationMs.refine((ms) => ms > 0, '--poll: a duration above zero'),
    horizon: durationMs.refine((ms) => ms > 0, '--horizon: a duration above zero'),
    falseAlarmRate: z.coerce.number({ error: '--false-alarm-rate: a number' }).gt(0, '--false-alarm-rate: above 0').lt(1, '--false-alarm-rate: below 1'),
  })
  .refine((args) => args.horizon >= args.poll, { message: '--horizon must be at least one --poll' });
export type RegressionsRequest = z.infer<typeof RegressionsArgs> & { command: 'regressions' };

const LogLine = z.object({
  timestamp: z.iso.datetime({ offset: true, error: 'timestamp: an ISO time with its offset, such as 2026-12-01T12:00:00Z' }),
  message: z.string({ error: 'message: a string' }),
});

/** The lines of a JSON-lines file, or why one is not a log line, with its file and line number. */
export function parseLogLines(file: string, text: string): { lines: TimedLine[] } | { error: string } {
  const lines: TimedLine[] = [];
  const rows = text.split('\n');
  for (let i = 0; i < rows.length; i += 1) {
    const row = rows[i]!.trim();
    if (row === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(row);
    } catch (error) {
      return { error: `${file} line ${i + 1}: not JSON (${(error as Error).message})` };
    }
    const parsed = LogLine.safeParse(value);
    if (!parsed.success) return { error: `${file} line ${i + 1}: ${parsed.error.issues.map((issue) => issue.message).join('; ')}` };
    lines.push({ timestampMs: Date.parse(parsed.data.timestamp), message: parsed.data.message });
  }
  return { lines };
}

function readLogFile(io: CliIo, option: string, file: string): TimedLine[] | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    io.err(`steward: ${option} ${file} cannot be read: ${(error as Error).message}`);
    return null;
  }
  const parsed = parseLogLines(file, text);
  if ('error' in parsed) {
    io.err(`steward: ${option} ${parsed.error}`);
    return null;
  }
  return parsed.lines;
}

const cut = (text: string, width: number) => (text.length > width ? `${text.slice(0, width - 1)}…` : text);

export const regressionsCommand: CliCommand = {
  register(parent, accept) {
    parent
      .command('regressions')
      .description('replay the deploy watch offline: which error signatures rose after a deploy, and at which poll')
      .requiredOption('--baseline <file>', 'JSON lines {"timestamp","message"} from before the deploy')
      .requiredOption('--after <file>', 'JSON lines {"timestamp","message"} from after the deploy')
      .requiredOption('--deployed-at <time>', 'ISO time of the deploy')
      .option('--json', 'one JSON object: {"examined", "flagged": [...]}')
      .option('--poll <duration>', 'time between polls', '1m')
      .option('--horizon <duration>', 'how long after the deploy to watch', '60m')
      .option('--false-alarm-rate <rate>', 'false alarms allowed per deploy, across all signatures', '0.01')
      .action((options: { baseline: string; after: string; deployedAt: string; json?: boolean; poll: string; horizon: string; falseAlarmRate: string }, command: Command) => {
        const request: RegressionsRequest = { command: 'regressions', ...validated(command, RegressionsArgs, { ...options, json: options.json === true }) };
        accept({
          request,
          run: async (context) => {
            const baseline = readLogFile(context.io, '--baseline', request.baseline);
            if (!baseline) return EXIT.failed;
            const after = readLogFile(context.io, '--after', request.after);
            if (!after) return EXIT.failed;
            const result = replayRegression({
              baseline,
              after,
              deployedAtMs: Date.parse(request.deployedAt),
              settings: { pollMs: request.poll, horizonMs: request.horizon, falseAlarmRate: request.falseAlarmRate },
            });
            const { baselineAfterDeploy, afterBeforeDeploy, afterPastHorizon } = result.ignored;
            if (baselineAfterDeploy > 0) context.io.err(`steward: left out ${baselineAfterDeploy} baseline lines at or after --deployed-at`);
            if (afterBeforeDeploy + afterPastHorizon > 0) context.io.err(`steward: left out ${afterBeforeDeploy} after-deploy lines before --deployed-at and ${afterPastHorizon} past the horizon`);
            if (request.json) {
              context.io.out(JSON.stringify({ examined: result.examined, baselineHours: result.baselineHours, polls: result.polls, flagged: result.flagged }));
              return EXIT.done;
            }
            context.io.out(`${result.examined} signatures examined: ${baseline.length - baselineAfterDeploy} baseline lines over ${result.baselineHours} h, ${result.polls} polls after ${request.deployedAt}`);
            if (result.flagged.length === 0) {
              context.io.out('no signature flagged');
              return EXIT.done;
            }
            context.io.out(`${result.flagged.length} flagged:`);
            const header = ['flagged at', 'kind', 'baseline', 'after', 'ratio', 'log10 E', 'signature', 'template'];
            const rows = result.flagged.map((e) => [e.flaggedAt ?? '', e.pretrend ? `${e.kind}*` : e.kind, String(e.baselineCount), String(e.afterCount), e.ratio === null ? 'new' : `x${e.ratio.toFixed(1)}`, e.log10Evidence.toFixed(1), e.signature, cut(e.template, 80)]);
            const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
            for (const row of [header, ...rows]) context.io.out(row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '));
            if (result.flagged.some((e) => e.pretrend)) context.io.out('* already rising before the deploy: flagged beyond its trend');
            return EXIT.done;
          },
        });
      });
  },
};
