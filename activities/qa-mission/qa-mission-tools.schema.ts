import { z } from 'zod';
import type { ToolDefinition } from '../../ports/model.port';
import { toolDefinitionsOf } from '../shared/tool-definitions';
import { AGENT_TOOL_SCHEMAS } from '../fix/agent-tools.schema';

/**
 * What a nightly QA mission's agent may do in its sandbox, as the model sees it: read, write NEW
 * probing tests, run commands, and report. It has no edit_file: QA proves bugs, it does not fix
 * them. Schemas apart from the loop that runs them (qa-mission.activities.ts), as the fix agent's are.
 */

const Areas = z.array(z.string().min(1).max(500)).max(50).optional().describe('Files or modules (repository-relative) the report is about');

export const QA_MISSION_TOOL_SCHEMAS = {
  read_file: AGENT_TOOL_SCHEMAS.read_file,
  list_files: AGENT_TOOL_SCHEMAS.list_files,
  grep: AGENT_TOOL_SCHEMAS.grep,
  write_file: z
    .object({
      path: z.string().min(1).describe('Path relative to the repository root of a NEW file, e.g. "test/qa-coupon-edge.test.js"'),
      content: z.string().describe('The complete content of the file'),
    })
    .describe("Create a new file (a probing test). Files of the repository cannot be overwritten; a file you wrote in this mission can be rewritten."),
  run_command: AGENT_TOOL_SCHEMAS.run_command,
  report_finding: z
    .object({
      title: z.string().min(1).max(300).describe('The bug, in one line'),
      detail: z.string().min(1).max(5_000).describe('What is wrong and why it matters, in a sentence or two'),
      testPath: z.string().min(1).max(500).describe('The test file you wrote in this mission that proves it'),
      command: z.string().min(1).max(2_000).describe('The command that runs only this test at the repository root'),
      expectedFailure: z.string().min(1).max(20_000).describe('The error the test fails with, as `Type: message` (e.g. "TypeError: Cannot read properties of undefined (reading \'code\')")'),
      areas: Areas,
    })
    .describe('Report a bug proven by a failing test. Steward runs the command twice on a clean checkout holding only your test: it counts only if both runs fail with expectedFailure. Otherwise the result says why, and you may fix the test and report again.'),
  report_lead: z
    .object({
      title: z.string().min(1).max(300).describe('The suspicion, in one line'),
      detail: z.string().min(1).max(5_000).describe('What you saw, and what would prove or disprove it'),
      areas: Areas,
    })
    .describe('Report a suspicion you could not prove with a failing test. It goes into the morning report as a lead, never as a bug.'),
  finish: z
    .object({
      summary: z.string().min(1).max(5_000).describe('What you explored and what came of it, in a few sentences'),
    })
    .describe('End the mission.'),
} as const;

export type QaMissionToolName = keyof typeof QA_MISSION_TOOL_SCHEMAS;
export type QaMissionToolInput<N extends QaMissionToolName> = z.output<(typeof QA_MISSION_TOOL_SCHEMAS)[N]>;

export function isQaMissionToolName(name: string): name is QaMissionToolName {
  return Object.hasOwn(QA_MISSION_TOOL_SCHEMAS, name);
}

/** The tools as offered to a model provider: name, description and the JSON Schema of the input. */
export function qaMissionToolDefinitions(): ToolDefinition[] {
  return toolDefinitionsOf(QA_MISSION_TOOL_SCHEMAS);
}
