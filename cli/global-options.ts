import { Option, type Command } from 'commander';
import { usageError } from './command';

/**
 * --by and --reason are also read before the command (`steward --by oncall:sam approve …`), as
 * they always were: the root declares them, hidden, and a command's own values win over them.
 */
export const GLOBAL_DECISION_OPTIONS = [new Option('--by <name>').hideHelp(), new Option('--reason <text>').hideHelp()];

/** The value the root took for --by or --reason. */
export function globalDecisionOption(command: Command, name: 'by' | 'reason'): string | undefined {
  let root = command;
  while (root.parent) root = root.parent;
  return root.opts<{ by?: string; reason?: string }>()[name];
}

/** For commands that take no decision: refuse --by and --reason given before the command, by name. */
export function refuseGlobalDecisionOptions(command: Command, name: string): void {
  for (const option of ['by', 'reason'] as const) {
    if (globalDecisionOption(command, option) !== undefined) usageError(command, `${name} takes no --${option}`);
  }
}
