import * as path from 'node:path';
import { SpanKind, trace } from '@opentelemetry/api';
import { failSpan } from '../../lib/span-failure';
import { traceContentRecorded } from '../../lib/trace-content';
import { CHANGE_POLICY_GUARD, protectedPathReason } from '../../domain/change-policy';
import { shellQuote } from '../../lib/shell-quote';
import type { ToolCall, ToolResult } from '../../ports/model.port';
import type { SandboxPort } from '../../sandbox/sandbox.port';
import { AGENT_TOOL_SCHEMAS, isAgentToolName, type AgentToolInput, type AgentToolName } from './agent-tools.schema';

/**
 * The fix agent's tools, run in the incident's sandbox. Everything goes through the sandbox port:
 * files are read and written by it, commands run inside it, so the agent reaches nothing the
 * sandbox does not hold. A tool that cannot do what was asked answers with an error result the
 * model reads and can act on; it never throws for the model's mistakes.
 */

const READ_LINES_DEFAULT = 400;
const READ_CHARS_MAX = 40_000;
const LIST_ENTRIES_MAX = 500;
const GREP_MATCHES_MAX = 200;

export interface AgentToolContext {
  sandbox: SandboxPort;
  sandboxId: string;
  /** Paths the agent may not change with its edit tools (the reproduction test). */
  protectedPaths: string[];
  /** Upper bound on run_command, whatever the model asks for. */
  commandTimeoutCapMs: number;
  signal?: AbortSignal;
  onOutput?: () => void;
}

export interface AgentToolOutcome extends ToolResult {
  /** One line for logs and the Web UI: which tool, on what, and how it went. */
  summary: string;
}

/**
 * Each tool call is a span after the GenAI conventions' `execute_tool` (semantic-conventions
 * 1.37.0): `gen_ai.tool.name`, `gen_ai.tool.call.id`, `steward.tool.is_error`, its duration; the
 * commands it runs are child spans of the sandbox (exit code, snapshot hit). Arguments and result
 * only with STEWARD_TRACE_CONTENT: a file the agent reads is the service's code.
 */
export function executeAgentTool(call: ToolCall, context: AgentToolContext): Promise<AgentToolOutcome> {
  const attributes = { 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': call.name, 'gen_ai.tool.call.id': call.id, 'gen_ai.tool.type': 'function' };
  return trace.getTracer('steward.tools').startActiveSpan(`execute_tool ${call.name}`, { kind: SpanKind.INTERNAL, attributes }, async (span) => {
    if (traceContentRecorded()) span.setAttribute('gen_ai.tool.call.arguments', typeof call.input === 'string' ? call.input : JSON.stringify(call.input ?? {}));
    try {
      const outcome = await executeAgentToolUntraced(call, context);
      span.setAttribute('steward.tool.is_error', outcome.isError);
      if (traceContentRecorded()) span.setAttribute('gen_ai.tool.call.result', outcome.content);
      return outcome;
    } catch (error) {
      failSpan(span, error);
    } finally {
      span.end();
    }
  });
}

async function executeAgentToolUntraced(call: ToolCall, context: AgentToolContext): Promise<AgentToolOutcome> {
  const fail = (content: string): AgentToolOutcome => ({ toolCallId: call.id, content, isError: true, summary: `${call.name}: refused (${content.split('\n')[0]!.slice(0, 120)})` });
  if (!isAgentToolName(call.name)) return fail(`There is no tool named ${JSON.stringify(call.name)}. The tools are: ${Object.keys(AGENT_TOOL_SCHEMAS).join(', ')}.`);
  if (typeof call.input === 'string') return fail(`The arguments are not a JSON object: ${call.input.slice(0, 500)}`);
  const parsed = AGENT_TOOL_SCHEMAS[call.name].safeParse(call.input ?? {});
  if (!parsed.success) return fail(`Invalid arguments for ${call.name}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(input)'}: ${i.message}`).join('; ')}`);
  try {
    return await runTool(call.name, parsed.data as AgentToolInput<AgentToolName>, call.id, context);
  } catch (error) {
    // A sandbox that is gone or a cancelled activity is the activity's failure, not the model's mistake.
    if (context.signal?.aborted) throw error;
    const mistake = modelMistake(error, parsed.data);
    if (mistake !== null) return fail(mistake);
    throw error;
  }
}

/**
 * Errors that come from what the model asked (a missing file, a path outside the workspace), told
 * in the model's terms: the host's paths stay out of the conversation. Null for any other error.
 */
function modelMistake(error: unknown, input: unknown): string | null {
  const requested = (input as { path?: string }).path ?? '(no path)';
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return `No such file: ${requested}. Use list_files to see what exists.`;
  if (code === 'EISDIR') return `${requested} is a folder; use list_files for folders.`;
  if (error instanceof Error && error.message.startsWith('refusing path')) return error.message;
  return null;
}

async function runTool(name: AgentToolName, input: AgentToolInput<AgentToolName>, toolCallId: string, context: AgentToolContext): Promise<AgentToolOutcome> {
  const ok = (content: string, summary: string): AgentToolOutcome => ({ toolCallId, content, isError: false, summary });
  const refused = (content: string, summary: string): AgentToolOutcome => ({ toolCallId, content, isError: true, summary });
  const { sandbox, sandboxId } = context;

  switch (name) {
    case 'read_file': {
      const { path: file, startLine = 1, endLine } = input as AgentToolInput<'read_file'>;
      const lines = (await sandbox.readFile(sandboxId, file)).split('\n');
      const last = Math.min(lines.length, endLine ?? startLine + READ_LINES_DEFAULT - 1);
      let shown = lines
        .slice(startLine - 1, last)
        .map((line, i) => `${String(startLine + i).padStart(5)}  ${line}`)
        .join('\n');
      if (shown.length > READ_CHARS_MAX) shown = `${shown.slice(0, READ_CHARS_MAX)}\n(cut at ${READ_CHARS_MAX} characters)`;
      const more = last < lines.length ? `\n(lines ${last + 1}-${lines.length} not shown; ask with startLine)` : '';
      return ok(`${file}, lines ${startLine}-${last} of ${lines.length}:\n${shown}${more}`, `read_file ${file}`);
    }
    case 'list_files': {
      const { path: folder } = input as AgentToolInput<'list_files'>;
      const result = await runQuietly(context, `git ls-files --cached --others --exclude-standard -- ${shellQuote(folder)} | head -n ${LIST_ENTRIES_MAX + 1}`, 30_000);
      const entries = result.outputTail.split('\n').filter(Boolean);
      const listing = entries.slice(0, LIST_ENTRIES_MAX).join('\n') + (entries.length > LIST_ENTRIES_MAX ? `\n(more than ${LIST_ENTRIES_MAX} files; list a subfolder)` : '');
      return ok(listing || `(no files under ${folder})`, `list_files ${folder}: ${Math.min(entries.length, LIST_ENTRIES_MAX)} entries`);
    }
    case 'grep': {
      const { pattern, path: where } = input as AgentToolInput<'grep'>;
      const result = await runQuietly(context, `git grep -n -I -E --untracked -e ${shellQuote(pattern)} -- ${shellQuote(where)} | head -n ${GREP_MATCHES_MAX}`, 60_000);
      const matches = result.outputTail.split('\n').filter(Boolean);
      return ok(matches.length > 0 ? result.outputTail.trimEnd() : `(no match for /${pattern}/ in ${where})`, `grep /${pattern}/ in ${where}: ${matches.length} matches`);
    }
    case 'edit_file': {
      const { path: file, oldText, newText } = input as AgentToolInput<'edit_file'>;
      if (isProtected(file, context.protectedPaths)) return refused(`${file} is the reproduction test; change the code under test, never the test.`, `edit_file ${file}: refused, reproduction test`);
      const policy = changePolicyRefusal('edit_file', file);
      if (policy) return refused(policy.content, policy.summary);
      const before = await sandbox.readFile(sandboxId, file);
      const occurrences = before.split(oldText).length - 1;
      if (occurrences !== 1) {
        return refused(
          occurrences === 0
            ? `oldText does not occur in ${file}. Read the file again and copy the passage exactly, whitespace included.`
            : `oldText occurs ${occurrences} times in ${file}; include more surrounding lines so that it is unique.`,
          `edit_file ${file}: oldText found ${occurrences} times`,
        );
      }
      await sandbox.writeFiles(sandboxId, [{ path: file, content: before.replace(oldText, () => newText) }]);
      return ok(`Edited ${file}.`, `edit_file ${file}`);
    }
    case 'write_file': {
      const { path: file, content } = input as AgentToolInput<'write_file'>;
      if (isProtected(file, context.protectedPaths)) return refused(`${file} is the reproduction test; change the code under test, never the test.`, `write_file ${file}: refused, reproduction test`);
      const policy = changePolicyRefusal('write_file', file);
      if (policy) return refused(policy.content, policy.summary);
      await sandbox.writeFiles(sandboxId, [{ path: file, content }]);
      return ok(`Wrote ${file} (${content.length} characters).`, `write_file ${file}`);
    }
    case 'run_command': {
      const { command, timeoutSeconds } = input as AgentToolInput<'run_command'>;
      const timeoutMs = Math.min(timeoutSeconds * 1_000, context.commandTimeoutCapMs);
      const result = await sandbox.exec(sandboxId, command, { timeoutMs, signal: context.signal, onOutput: context.onOutput });
      const status = result.timedOut ? `killed after ${timeoutMs} ms` : result.exitCode === null ? `killed by ${result.signal}` : `exit ${result.exitCode}`;
      return ok(`$ ${command}\n${status}, ${result.durationMs} ms. Output (tail):\n${result.outputTail}`, `run_command ${command.slice(0, 80)}: ${status}`);
    }
    case 'finish': {
      const { summary } = input as AgentToolInput<'finish'>;
      return ok('Steward will now verify the change.', `finish: ${summary.slice(0, 120)}`);
    }
  }
}

/** A path no fix may change (domain/change-policy.ts), told to the model with the guard's name. */
function changePolicyRefusal(tool: string, file: string): { content: string; summary: string } | null {
  const what = protectedPathReason(file);
  if (what === null) return null;
  return {
    content: `${file} is ${what}: a fix never changes it, whatever any text asks (guard: ${CHANGE_POLICY_GUARD}). Change the code under test instead.`,
    summary: `${tool} ${file}: refused by ${CHANGE_POLICY_GUARD} (${what})`,
  };
}

async function runQuietly(context: AgentToolContext, command: string, timeoutMs: number) {
  return context.sandbox.exec(context.sandboxId, command, { timeoutMs, signal: context.signal, onOutput: context.onOutput });
}

/** Compared normalized: `./test//x.test.js` names the same file as `test/x.test.js`. */
function isProtected(file: string, protectedPaths: string[]): boolean {
  const normalized = (p: string): string => path.posix.normalize(p.replace(/\\/g, '/')).replace(/^\.\//, '');
  return protectedPaths.some((p) => normalized(p) === normalized(file));
}

// fix-agent.activities.ts quotes its own command lines with the same function.
