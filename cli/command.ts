import type { Command } from 'commander';
import type { z } from 'zod';
import type { CliContext } from './context';

/**
 * The shape every `steward` command has, so that adding one is a module under cli/commands/ and a
 * line in cli/program.ts's list. Parsing and running are apart: the action only validates its
 * arguments and hands back a request, which parseCommandLine returns as it is (for tests) and
 * runCli runs against a CliContext.
 */

export const EXIT = { done: 0, failed: 1, usage: 2 } as const;

/** A command line that parsed: what it asks for, and how to do it. */
export interface PlannedCommand<Request = unknown> {
  request: Request;
  /** Resolves to the exit code; rejects only on what the command could not foresee. */
  run(context: CliContext): Promise<number>;
}

export interface ParseDefaults {
  /** Who decides when --by is not given (cli:$USER); a function, so that --help needs no environment. */
  defaultActor(): string;
  /** The whole command line, for commands that take what follows `--` as it was typed. */
  argv: readonly string[];
}

export interface CliCommand {
  /** Declares the command, or a group and its subcommands, on `parent`; the action calls `accept`. */
  register(parent: Command, accept: (planned: PlannedCommand) => void, defaults: ParseDefaults): void;
}

/** Stops parsing with a usage error (exit 2): the message, then the command's help. */
export function usageError(command: Command, message: string): never {
  command.error(`error: ${message}`, { exitCode: EXIT.usage, code: 'steward.usage' });
  // command.error always throws under exitOverride; this line is for the type checker.
  throw new Error(message);
}

/** The arguments through a schema, or a usage error that joins the schema's messages. */
export function validated<T extends z.ZodType>(command: Command, schema: T, input: unknown): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) usageError(command, parsed.error.issues.map((issue) => issue.message).join('; '));
  return parsed.data;
}
