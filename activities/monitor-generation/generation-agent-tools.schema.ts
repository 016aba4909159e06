import { z } from 'zod';
import { MonitorProposal } from '../../domain/monitor-generation/proposal';
import type { ToolDefinition } from '../../ports/model.port';
import { toolDefinitionsOf } from '../shared/tool-definitions';
import { AGENT_TOOL_SCHEMAS } from '../fix/agent-tools.schema';

/**
 * What the monitor generation agent may do: read the code at the merge commit (the fix agent's
 * read-only tools, nothing that writes or runs), then propose. Schemas apart from the loop that
 * runs them, as the fix agent's are.
 */

/** A proposal names the service it watches when the repository builds more than one. */
export const ServiceProposal = z.object({ service: z.string().min(1).optional() }).and(MonitorProposal);

export const GENERATION_TOOL_SCHEMAS = {
  read_file: AGENT_TOOL_SCHEMAS.read_file,
  list_files: AGENT_TOOL_SCHEMAS.list_files,
  grep: AGENT_TOOL_SCHEMAS.grep,
  propose_monitors: z
    .object({
      monitors: z.array(ServiceProposal).max(50).describe("The monitors to create; an empty list when the change needs none. Each is checked on its own: every literal must exist in the code, and the query must validate."),
    })
    .describe('End the task with your proposals; an empty list says the change needs no new monitor. Each is checked: every literal must exist in the code, and the query must validate.'),
} as const;

export type GenerationToolName = keyof typeof GENERATION_TOOL_SCHEMAS;
export const READ_ONLY_TOOLS: readonly GenerationToolName[] = ['read_file', 'list_files', 'grep'];

export function generationToolDefinitions(): ToolDefinition[] {
  return toolDefinitionsOf(GENERATION_TOOL_SCHEMAS);
}
