import * as fs from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { LOCAL_STACK_DATABASE_URL } from '../../config/cli.config';
import { required } from '../../config/env';
import { LogTemplateMiner } from '../../domain/log-template-miner';
import { writeJsonAtomically } from '../../lib/atomic-json';
import { showSignatures, type SignatureStateView } from '../../use-cases/show-signatures.use-case';
import { EXIT, usageError, validated, type CliCommand } from '../command';
import type { CliContext } from '../context';

/**
 * `steward signatures [--json] [--state <file>]`: log lines on standard input, one signature per
 * line on standard output, in order: the signature id, a tab, the template (or, with --json, one
 * JSON object a line). The miner reads all its input before it writes, since it groups better
 * having seen more lines. With --state, what it learnt is loaded first and saved after, so the
 * ids stay the same from one run to the next.
 *
 * `steward signatures --service <name> [--json] [--deploys <n>]` reads no input: it shows what the
 * deploy watch's signature store holds for the service (needs DATABASE_URL).
 */

const SignaturesArgs = z.object({
  json: z.boolean().default(false),
  state: z.string().min(1, '--state names a file').optional(),
});
export type SignaturesRequest = z.infer<typeof SignaturesArgs> & { command: 'signatures' };

const StoredSignaturesArgs = z.object({
  service: z.string().trim().min(1, '--service names a service'),
  json: z.boolean(),
  deploys: z.coerce.number({ error: '--deploys: a number' }).int('--deploys: a whole number').min(0, '--deploys: 0 or more').max(1_000, '--deploys: at most 1000'),
});
export type StoredSignaturesRequest = z.infer<typeof StoredSignaturesArgs> & { command: 'signatures --service' };

const DEFAULT_DEPLOYS_SHOWN = 10;

async function readStandardInput(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const signaturesCommand: CliCommand = {
  register(parent, accept) {
    parent
      .command('signatures')
      .description('read log lines on standard input and write each line\'s error signature: id, a tab, the template')
      .option('--json', 'one JSON object a line: {"signature", "template"}')
      .option('--state <file>', 'load what the miner learnt from this file first, and save it there after, so ids stay stable')
      .option('--service <name>', "instead: show the deploy watch's stored signatures of this service, its counted span and its latest deploys (needs DATABASE_URL)")
      .option('--deploys <n>', 'with --service: how many of the latest deploys to show', String(DEFAULT_DEPLOYS_SHOWN))
      .addHelpText('after', `\nWith --service, for the local stack of npm start / npm run demo: DATABASE_URL=${LOCAL_STACK_DATABASE_URL}`)
      .action((options: { json?: boolean; state?: string; service?: string; deploys: string }, command: Command) => {
        if (options.service !== undefined) {
          if (options.state !== undefined) usageError(command, '--state is for mining standard input; --service reads the stored signatures instead');
          const stored: StoredSignaturesRequest = {
            command: 'signatures --service',
            ...validated(command, StoredSignaturesArgs, { service: options.service, json: options.json === true, deploys: options.deploys }),
          };
          accept({ request: stored, run: (context) => showStoredSignatures(stored, context) });
          return;
        }
        const request: SignaturesRequest = { command: 'signatures', ...validated(command, SignaturesArgs, { json: options.json === true, state: options.state }) };
        accept({
          request,
          run: async (context) => {
            let miner = new LogTemplateMiner();
            if (request.state && fs.existsSync(request.state)) {
              try {
                miner = LogTemplateMiner.fromState(JSON.parse(fs.readFileSync(request.state, 'utf8')));
              } catch (error) {
                context.io.err(`steward: --state ${request.state} is not a saved miner state: ${(error as Error).message}`);
                return EXIT.failed;
              }
            }
            const text = await (context.io.readInput ?? readStandardInput)();
            const lines = text.split('\n');
            if (lines[lines.length - 1] === '') lines.pop();
            for (const match of miner.mineAll(lines.map((line) => line.replace(/\r$/, '')))) {
              context.io.out(request.json ? JSON.stringify({ signature: match.id, template: match.template }) : `${match.id}\t${match.template}`);
            }
            if (request.state) await writeJsonAtomically(request.state, miner.state());
            return EXIT.done;
          },
        });
      });
  },
};

async function showStoredSignatures(request: StoredSignaturesRequest, context: CliContext): Promise<number> {
  const databaseUrl = required(
    context.config().databaseUrl,
    'DATABASE_URL',
    `signatures --service reads the deploy watch's signature store in Postgres; for the local stack of npm start / npm run demo, set DATABASE_URL=${LOCAL_STACK_DATABASE_URL}`,
  );
  const session = context.openSignatureStore(databaseUrl);
  try {
    const view = await showSignatures(session.store, { service: request.service, deploys: request.deploys });
    context.io.out(request.json ? JSON.stringify(view) : formatSignatureState(view));
    return EXIT.done;
  } catch (error) {
    context.io.err(`steward: cannot read the signatures of ${request.service} from Postgres (DATABASE_URL): ${(error as Error).message}`);
    return EXIT.failed;
  } finally {
    await session.close();
  }
}

/** A count as read, or `~` and the estimate when a sampled hour scaled it up. */
function shownTotal(total: number, lowestSampledFraction: number): string {
  return lowestSampledFraction < 1 ? `~${Math.round(total)}` : String(Math.round(total * 100) / 100);
}

const table = (rows: string[][]): string[] => {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '));
};

export function formatSignatureState(view: SignatureStateView): string {
  const { mining } = view;
  const lines = [`service ${view.service}`];
  lines.push(
    mining.countedUntil === null
      ? 'counted: never (no deploy watch has read its error logs)'
      : `counted: from ${mining.countedFrom ?? '(no counts)'} until ${mining.countedUntil} (updated ${mining.updatedAt ?? 'unknown'})`,
  );
  lines.push('');
  if (view.signatures.length === 0) lines.push('signatures: none');
  else {
    lines.push(`signatures: ${view.signatures.length} (~: an estimate, some hours were sampled)`);
    lines.push(
      ...table([
        ['SIGNATURE', 'TOTAL', 'HOURS', 'FIRST HOUR', 'LAST HOUR', 'TEMPLATE'],
        ...view.signatures.map((s) => [s.signature, shownTotal(s.total, s.lowestSampledFraction), String(s.hours), s.firstHour, s.lastHour, s.template ?? '(no template)']),
      ]),
    );
  }
  lines.push('');
  if (view.deploys.length === 0) lines.push('deploys: none');
  else {
    lines.push(`deploys: latest ${view.deploys.length}, newest first`);
    lines.push(...table([['DEPLOYED AT', 'REVISION', 'VERDICT', 'ENVIRONMENT', 'WATCH'], ...view.deploys.map((d) => [d.deployedAt, d.revision, d.verdict, d.environment ?? '-', d.watchId])]));
  }
  return lines.join('\n');
}
