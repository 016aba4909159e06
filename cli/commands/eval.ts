import type { Command } from 'commander';
import { z } from 'zod';
import { EVAL_DATASETS_DIR } from '../../config/paths';
import { CaseId, SUITE_NAMES, type SuiteName } from '../../evals/cases/case.schema';
import { validated, type CliCommand } from '../command';

/**
 * `steward eval …`: the eval suites' cases and runs. The group holds whatever subcommands it is
 * given, so a module adds one (the case commands, `eval run`) by passing its CliCommand here,
 * from cli/program.ts, with no change to this file or to the others.
 */
export function evalCommand(subcommands: readonly CliCommand[]): CliCommand {
  return {
    register(parent, accept, defaults) {
      const group = parent
        .command('eval')
        .description(`the eval suites' labelled cases (${SUITE_NAMES.join(', ')}): eval list, show, add, edit, replace, remove, run`)
        .addHelpText('after', '\nCases live in evals/datasets/<suite>/<case>.json; evals/datasets/<suite>/README.md says what a case holds.');
      for (const subcommand of subcommands) subcommand.register(group, accept, defaults);
    },
  };
}

const Suite = z.enum(SUITE_NAMES as [SuiteName, ...SuiteName[]], { error: `the suite is one of ${SUITE_NAMES.join(', ')}` });

/** The <suite> operand, or a usage error naming the suites. */
export function suiteArgument(command: Command, raw: string): SuiteName {
  return validated(command, Suite, raw);
}

/** The <case> operand: a kebab-case id, as its file is named. */
export function caseArgument(command: Command, raw: string): string {
  return validated(command, CaseId, raw);
}

/** Every eval subcommand reads its cases from one folder: the repository's, or the one --datasets names (a copy, a test's). */
export function withDatasetsOption(command: Command): Command {
  return command.option('--datasets <dir>', 'the folder that holds one folder per suite (default: evals/datasets of this checkout)');
}

export function datasetsDir(options: { datasets?: string }): string {
  return options.datasets ?? EVAL_DATASETS_DIR;
}
