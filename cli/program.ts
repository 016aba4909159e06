import { Command, CommanderError, Help } from 'commander';
import { LOCAL_STACK_DATABASE_URL, LOCAL_STACK_TEMPORAL_ADDRESS } from '../config/cli.config';
import { ConfigError } from '../config/config';
import { EXIT, type CliCommand, type ParseDefaults, type PlannedCommand } from './command';
import { approveCommand } from './commands/approve';
import { backtestCommand } from './commands/backtest';
import { decideDeployCommand } from './commands/decide-deploy';
import { deployCommand } from './commands/deploy';
import { exportCommand } from './commands/export';
import { inboxCommand } from './commands/inbox';
import { evalCommand } from './commands/eval';
import { evalCasesCommand } from './commands/eval-cases';
import { evalRunCommand } from './commands/eval-run';
import { monitorsCommand } from './commands/monitors';
import { prCommand } from './commands/pr-show';
import { qaCommand } from './commands/qa';
import { regressionsCommand } from './commands/regressions';
import { rejectCommand } from './commands/reject';
import { reportCommand } from './commands/report';
import { sandboxCommand } from './commands/sandbox-run';
import { signaturesCommand } from './commands/signatures';
import { statusCommand } from './commands/status';
import type { CliContext, CliIo } from './context';
import { GLOBAL_DECISION_OPTIONS } from './global-options';

/**
 * `steward`: decide on or inspect an incident from a terminal, by signalling or querying its
 * workflow. The same decisions can be made in Slack; the workflow treats both alike. `pr show` and
 * `sandbox run` are conveniences that read the local code host's records and run a sandbox here.
 */

/** Every command, in the order `steward --help` lists them. A new command is a module and a line here. */
const COMMANDS: readonly CliCommand[] = [
  approveCommand,
  rejectCommand,
  decideDeployCommand,
  statusCommand,
  deployCommand,
  prCommand,
  sandboxCommand,
  signaturesCommand,
  regressionsCommand,
  monitorsCommand,
  reportCommand,
  exportCommand,
  backtestCommand,
  qaCommand,
  inboxCommand,
  // The eval group takes its subcommands as a list: a new `eval …` command is one more entry.
  evalCommand([evalCasesCommand, evalRunCommand]),
];

const ROOT_HELP = `
Exit codes: 0 done, 1 failed, 2 bad usage (sandbox run exits with its command's exit code).
--by defaults to cli:$USER.
Environment: TEMPORAL_ADDRESS (default ${LOCAL_STACK_TEMPORAL_ADDRESS}), TEMPORAL_NAMESPACE (default "default").
pr show reads the local code host's pull request from Postgres, so it needs DATABASE_URL; for the
local stack of npm start / npm run demo that is DATABASE_URL=${LOCAL_STACK_DATABASE_URL}`;

export type CliOutput = Pick<CliIo, 'out' | 'err'>;

/** The root command, with every command registered; each action hands its plan to `accept`. */
export function buildProgram(output: CliOutput, defaults: ParseDefaults, accept: (planned: PlannedCommand) => void): Command {
  const program = new Command('steward')
    .description('Decide on and inspect Steward incidents, report deploys, read local pull requests, run sandboxes, mine error signatures, and report from the workflow histories and the ledger.')
    // Settings first: commands copy them when they are created.
    .exitOverride()
    // Options before a command belong to the root, so the root never reads a command's options (or what follows --).
    .enablePositionalOptions()
    .showHelpAfterError(true)
    .configureOutput({
      writeOut: (text) => output.out(text.replace(/\n$/, '')),
      writeErr: (text) => output.err(text.replace(/\n$/, '')),
      outputError: (text, write) => write(text.replace(/^error: /, 'steward: ')),
    })
    .configureHelp({ visibleCommands: listedCommands, subcommandTerm: listedTerm })
    .addHelpText('after', ROOT_HELP);
  for (const option of GLOBAL_DECISION_OPTIONS) program.addOption(option);
  for (const command of COMMANDS) command.register(program, accept, defaults);
  return program;
}

/** Groups (pr, sandbox) are listed by what they hold, `pr show <number>`, so `--help` shows every command. */
function listedCommands(this: Help, command: Command): Command[] {
  return Help.prototype.visibleCommands.call(this, command).flatMap((listed) => {
    if (listed.commands.length === 0) return [listed];
    return listedCommands.call(this, listed).filter((sub) => sub.name() !== 'help');
  });
}

function listedTerm(this: Help, command: Command): string {
  const groups: string[] = [];
  for (let group = command.parent; group?.parent; group = group.parent) groups.unshift(group.name());
  return [...groups, Help.prototype.subcommandTerm.call(this, command)].join(' ');
}

export type ParsedCommandLine =
  | { ok: true; help: true }
  | { ok: true; help: false; planned: PlannedCommand }
  /** Bad usage: commander or the command has said why (and shown the help) on `output.err`. */
  | { ok: false; exitCode: number; message: string };

/** The command line to a planned command, without running it. Help and usage errors go to `output`. */
export async function parseCommandLine(argv: readonly string[], output: CliOutput, defaultActor: () => string): Promise<ParsedCommandLine> {
  const accepted: { planned?: PlannedCommand } = {};
  const program = buildProgram(output, { defaultActor, argv }, (planned) => {
    accepted.planned = planned;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // --help, and `steward help <command>` (commander.help with 0); commander.help with 1 is help shown for a missing command.
    if (error.exitCode === 0 && ['commander.helpDisplayed', 'commander.help', 'commander.version'].includes(error.code)) return { ok: true, help: true };
    // Usage errors, and help shown because a command is missing: commander says 1, Steward says 2.
    return { ok: false, exitCode: EXIT.usage, message: error.message };
  }
  if (!accepted.planned) throw new Error('the command line parsed, but no command took it');
  return { ok: true, help: false, planned: accepted.planned };
}

/** Runs one command line and resolves to the process exit code: 0 done, 1 failed, 2 bad usage. */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  try {
    const parsed = await parseCommandLine(argv, context.io, () => context.config().defaultActor);
    if (!parsed.ok) return parsed.exitCode;
    if (parsed.help) return EXIT.done;
    return await parsed.planned.run(context);
  } catch (error) {
    // Configuration a person must fix before the command can work: a missing or malformed variable.
    if (error instanceof ConfigError) {
      context.io.err(`steward: ${error.message}`);
      return EXIT.usage;
    }
    context.io.err(`steward: ${argv[0]} failed: ${(error as Error).message}`);
    return EXIT.failed;
  }
}
