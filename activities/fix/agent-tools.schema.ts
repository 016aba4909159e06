import { z } from 'zod';
import type { ToolDefinition } from '../../ports/model.port';
import { toolDefinitionsOf } from '../shared/tool-definitions';

/**
 * What the fix agent may do in its sandbox, as the model sees it. The schemas live apart from the
 * implementations (agent-tools.ts) so that what is offered to the model can be read, versioned and
 * tested on its own; every call's input is validated against them before anything runs.
 */

const RelativePath = z.string().min(1).describe('Path relative to the repository root, e.g. "src/pricing.js"');

export const AGENT_TOOL_SCHEMAS = {
  read_file: z
    .object({
      path: RelativePath,
      startLine: z.number().int().min(1).optional().describe('First line to show (1-based); default 1'),
      endLine: z.number().int().min(1).optional().describe('Last line to show; default: up to 400 lines from startLine'),
    })
    .describe('Read a file of the repository, with line numbers.'),
  list_files: z
    .object({
      path: z.string().default('.').describe('Folder relative to the repository root; default the root'),
    })
    .describe('List the files under a folder (tracked and new files; ignored ones such as node_modules are left out).'),
  grep: z
    .object({
      pattern: z.string().min(1).describe('Extended regular expression'),
      path: z.string().default('.').describe('Folder or file to search; default the whole repository'),
    })
    .describe('Search the repository for a regular expression; answers path:line:text, at most 200 matches.'),
  edit_file: z
    .object({
      path: RelativePath,
      oldText: z.string().min(1).describe('Exact text to replace; it must occur exactly once in the file'),
      newText: z.string().describe('The text to put in its place'),
    })
    .describe('Replace one exact, unique passage of a file. Read the file first: oldText must match it character for character.'),
  write_file: z
    .object({
      path: RelativePath,
      content: z.string().describe('The complete content of the file'),
    })
    .describe('Create a file, or replace a whole file. Prefer edit_file for changes to existing files.'),
  run_command: z
    .object({
      command: z.string().min(1).describe('A bash command, run at the repository root'),
      timeoutSeconds: z.number().int().min(1).max(600).default(120).describe('Killed after this long; default 120'),
    })
    .describe('Run a command in the sandbox (no network) and see its exit code and the tail of its output, e.g. the reproduction test or the suite.'),
  finish: z
    .object({
      summary: z.string().min(1).describe('One or two sentences: the cause, and what the change does about it'),
    })
    .describe('End the attempt: the change in the workspace is your fix. Steward then verifies it: the reproduction must pass and the suite must not regress.'),
} as const;

export type AgentToolName = keyof typeof AGENT_TOOL_SCHEMAS;
export type AgentToolInput<N extends AgentToolName> = z.output<(typeof AGENT_TOOL_SCHEMAS)[N]>;

export function isAgentToolName(name: string): name is AgentToolName {
  return Object.hasOwn(AGENT_TOOL_SCHEMAS, name);
}

/** The tools as offered to a model provider: name, description and the JSON Schema of the input. */
export function agentToolDefinitions(): ToolDefinition[] {
  return toolDefinitionsOf(AGENT_TOOL_SCHEMAS);
}
