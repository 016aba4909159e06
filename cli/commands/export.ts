import * as path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { Command } from 'commander';
import { z } from 'zod';
import { LOCAL_STACK_DATABASE_URL } from '../../config/cli.config';
import { required } from '../../config/env';
import { ERROR_TYPES } from '../../contracts';
import { DirectoryNotEmptyError, isEmptyOrAbsent, writeFileTree } from '../../lib/file-tree';
import { exportBacktest } from '../../use-cases/export-backtest.use-case';
import { exportRun } from '../../use-cases/export-run.use-case';
import { EXIT, usageError, validated, type CliCommand } from '../command';
import type { CliContext } from '../context';
import { refuseGlobalDecisionOptions } from '../global-options';

/**
 * `steward export <workflow id> <dir> [--force]`: an incident, a deploy watch (with its child
 * incident), a night of QA (with its missions) or any other run, written as a tree of plain files that says what each holds. Needs
 * Temporal and the database: the ledger, and the payloads the history keeps as references.
 */

export interface ExportRequest {
  command: 'export';
  /** One run by its workflow id, or every case of the back-test whose --out this is. */
  source: { workflowId: string } | { backtestDir: string };
  directory: string;
  force: boolean;
}

const ExportArgs = z.object({
  workflowId: z.string({ error: 'export needs the workflow id of an incident, a deploy watch or a night of QA' }).regex(/^\S+$/, 'the workflow id must not contain spaces'),
  directory: z.string({ error: 'export needs the directory to write the tree into' }).trim().min(1, 'the directory must not be empty'),
  force: z.boolean(),
});

const BacktestExportArgs = z.object({
  backtestDir: z.string().trim().min(1, '--backtest names a back-test\'s --out folder'),
  directory: z.string({ error: 'export --backtest needs the directory to write the tree into' }).trim().min(1, 'the directory must not be empty'),
  force: z.boolean(),
});

export const exportCommand: CliCommand = {
  register(parent, accept) {
    parent
      .command('export')
      .description('write an incident, a deploy watch or a night of QA as a tree of files: README, timeline, triage, reproduction, attempts, PR, cost; a night\'s report, plan, findings and missions (needs DATABASE_URL)')
      .argument('[workflowId]', 'the workflow id: incident-…, deploy-…, or a night\'s (steward-nightly-qa@<service>-…, as `steward qa status` shows it)')
      .argument('[dir]', 'the directory to write; it must be empty or absent unless --force')
      .option('--force', 'replace what the directory holds')
      .option('--backtest <dir>', "instead of one run: every case of the back-test whose --out this is (then the only argument is the directory to write)")
      .addHelpText('after', `\nFor the local stack of npm start / npm run demo: DATABASE_URL=${LOCAL_STACK_DATABASE_URL}`)
      .action((workflowId: string | undefined, directory: string | undefined, options: { force?: boolean; backtest?: string }, command: Command) => {
        refuseGlobalDecisionOptions(command, 'export');
        if (options.backtest !== undefined) {
          if (directory !== undefined) usageError(command, '--backtest takes the directory to write as the only argument: steward export --backtest <back-test out> <dir>');
          const args = validated(command, BacktestExportArgs, { backtestDir: options.backtest, directory: workflowId, force: options.force === true });
          const request: ExportRequest = { command: 'export', source: { backtestDir: args.backtestDir }, directory: args.directory, force: args.force };
          accept({ request, run: (context) => runExport(request, context) });
          return;
        }
        const args = validated(command, ExportArgs, { workflowId, directory, force: options.force === true });
        const request: ExportRequest = { command: 'export', source: { workflowId: args.workflowId }, directory: args.directory, force: args.force };
        accept({ request, run: (context) => runExport(request, context) });
      });
  },
};

async function runExport(request: ExportRequest, context: CliContext): Promise<number> {
  const directory = path.resolve(request.directory);
  // Checked before anything is read, so that a mistyped directory costs nothing; checked again when writing.
  if (!request.force && !isEmptyOrAbsent(directory)) {
    context.io.err(`steward: ${directory} is not empty; choose another directory, or pass --force to replace what it holds`);
    return EXIT.failed;
  }
  const databaseUrl = required(
    context.config().databaseUrl,
    'DATABASE_URL',
    `export reads the ledger, and the payloads the history keeps in Postgres; for the local stack of npm start / npm run demo, set DATABASE_URL=${LOCAL_STACK_DATABASE_URL}`,
  );
  let session: Awaited<ReturnType<CliContext['openRunExport']>>;
  try {
    session = await context.openRunExport(databaseUrl);
  } catch (error) {
    context.io.err(`steward: cannot reach Temporal at ${context.config().temporal.address} (TEMPORAL_ADDRESS): ${(error as Error).message}`);
    return EXIT.failed;
  }
  try {
    if ('backtestDir' in request.source) {
      const exported = await exportBacktest(session.readers, request.source.backtestDir);
      const written = writeFileTree(directory, exported.files, { replace: request.force });
      context.io.out(written.directory);
      context.io.out(`${written.files} files: ${exported.cases} back-test cases${exported.unreadable.length ? `; README.md names ${exported.unreadable.length} result file(s) that could not be read` : ''}`);
      return exported.unreadable.length ? EXIT.failed : EXIT.done;
    }
    const { workflowId } = request.source;
    const exported = await exportRun(session.readers, workflowId);
    const written = writeFileTree(directory, exported.files, { replace: request.force });
    context.io.out(written.directory);
    context.io.out(`${written.files} files: the ${exported.kind === 'workflow' ? 'run' : exported.kind.replace('-', ' ')} ${workflowId}${exported.notKept.length > 0 ? `; README.md lists ${exported.notKept.length} thing(s) not kept` : ''}`);
    return EXIT.done;
  } catch (error) {
    if (error instanceof ApplicationFailure && error.type === ERROR_TYPES.runNotFound) {
      context.io.err(`steward: ${error.message} (namespace ${context.config().temporal.namespace})`);
    } else if (error instanceof DirectoryNotEmptyError) {
      context.io.err(`steward: ${error.directory} is not empty; pass --force to replace what it holds`);
    } else {
      context.io.err(`steward: export of ${'workflowId' in request.source ? request.source.workflowId : `the back-test ${request.source.backtestDir}`} failed: ${(error as Error).message}`);
    }
    return EXIT.failed;
  } finally {
    await session.close();
  }
}
