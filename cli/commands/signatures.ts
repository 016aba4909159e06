import * as fs from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { LogTemplateMiner } from '../../domain/log-template-miner';
import { writeJsonAtomically } from '../../lib/atomic-json';
import { EXIT, validated, type CliCommand } from '../command';

/**
 * `steward signatures [--json] [--state <file>]`: log lines on standard input, one signature per
 * line on standard output, in order: the signature id, a tab, the template (or, with --json, one
 * JSON object a line). The miner reads all its input before it writes, since it groups better
 * having seen more lines. With --state, what it learnt is loaded first and saved after, so the
 * ids stay the same from one run to the next.
 */

const SignaturesArgs = z.object({
  json: z.boolean().default(false),
  state: z.string().min(1, '--state names a file').optional(),
});
export type SignaturesRequest = z.infer<typeof SignaturesArgs> & { command: 'signatures' };

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
      .action((options: { json?: boolean; state?: string }, command: Command) => {
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
