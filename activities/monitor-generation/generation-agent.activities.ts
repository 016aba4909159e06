import { Context } from '@temporalio/activity';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import { readMergedDiff } from '../../domain/monitor-generation/merged-diff';
import type { ServicesConfig } from '../../domain/service-config';
import type { AgentConversationPort, ConversationKey, StoredMessage } from '../../ports/agent-conversation.port';
import type { CodeSearchPort } from '../../ports/code-search.port';
import type { ConversationMessage, ModelPort, ToolCall, ToolResult } from '../../ports/model.port';
import type { MonitorAuthoringPort } from '../../ports/monitors.port';
import type { SandboxPort } from '../../sandbox/sandbox.port';
import { executeAgentTool } from '../fix/agent-tools';
import { heartbeatWhile, sandboxIdFor, serviceConfigFor } from '../shared/sandbox-session';
import { GENERATION_AGENT_SYSTEM_PROMPT, generationTaskPrompt } from './generation-agent.prompt';
import { generationToolDefinitions, READ_ONLY_TOOLS, ServiceProposal, type GenerationToolName } from './generation-agent-tools.schema';
import type { ServiceMonitorProposal } from './proposal-types';

/** The diff is read whole up to this, then viewed within the agent's budget (readMergedDiff). */
const MAX_DIFF_READ_CHARS = 5_000_000;
/** Existing monitors named in the task, so that the agent proposes nothing already watched. */
const EXISTING_MONITORS_SHOWN = 200;
const COMMAND_TIMEOUT_MS = 60_000;

export interface ProposeMonitorsInput {
  generationId: string;
  repository: string;
  services: string[];
  mergeCommit: string;
  changeTitle: string | null;
  maxTurns: number;
  maxDiffChars: number;
}

export interface ProposeMonitorsOutcome {
  proposals: ServiceMonitorProposal[];
  /** Proposals that broke the schema on the last look, by position, with what was wrong. */
  refused: { name: string; reason: string; proposal: unknown }[];
  turns: number;
  /** Why the agent proposed nothing, when it did not. */
  note: string | null;
}

/**
 * The monitor generation agent: one activity runs the whole tool loop in a sandbox at the merge
 * commit, with the fix agent's read-only tools. Its conversation lives in the conversation store,
 * keyed by the generation, and every answer is stored before it is used: a retried activity
 * replays the stored turns and pays only for the ones it had not reached. The sandbox is
 * destroyed when the activity ends, however it ends.
 */
export function createGenerationAgentActivities(deps: { model: ModelPort; sandbox: SandboxPort; conversations: AgentConversationPort; codeSearch: CodeSearchPort | null; monitors: MonitorAuthoringPort; services: ServicesConfig }) {
  return {
    async proposeMonitors(input: ProposeMonitorsInput): Promise<ProposeMonitorsOutcome> {
      const context = Context.current();
      if (!deps.codeSearch) throw stewardFailure(ERROR_TYPES.deployWatchNotConfigured, 'this worker has no code search, which monitor generation reads the merged diff through');
      const [primary] = input.services;
      if (!primary) throw stewardFailure(ERROR_TYPES.monitorGenerationInputInvalid, `repository ${input.repository}: no service to generate monitors for`);
      const service = serviceConfigFor(deps.services, primary);
      const key: ConversationKey = { incidentId: input.generationId, attempt: 1 };
      const sandboxId = sandboxIdFor(`${input.generationId}-agent`);
      await heartbeatWhile({ phase: 'opening', sandboxId }, () => deps.sandbox.open({ sandboxId, repositoryLocation: service.repository, revision: input.mergeCommit, setupCommand: null }));
      try {
        let stored = await deps.conversations.load(key);
        if (stored.length === 0) {
          const task = await taskOf(deps, input);
          stored = [await deps.conversations.append(key, { seq: 0, message: { role: 'user', content: task }, workspaceDiff: null })];
        }
        // The latest proposals made: a later turn that proposes nothing better leaves them standing.
        let latest: { proposals: ServiceMonitorProposal[]; refused: ProposeMonitorsOutcome['refused']; turn: number } | null = null;
        const outcomeOf = (turns: number): ProposeMonitorsOutcome =>
          latest
            ? { proposals: latest.proposals, refused: latest.refused, turns, note: latest.proposals.length === 0 ? 'the agent proposed no monitor' : null }
            : { proposals: [], refused: [], turns, note: `the agent did not call propose_monitors within its ${input.maxTurns} turns` };
        for (let turn = 1; turn <= input.maxTurns; turn += 1) {
          context.heartbeat({ phase: 'turn', turn });
          context.cancellationSignal.throwIfAborted();
          const answer = await answerOf(deps, input, key, stored, turn);
          if (!stored.includes(answer)) stored = [...stored, answer];
          const calls = (answer.message as Extract<ConversationMessage, { role: 'assistant' }>).toolCalls;
          const propose = calls.find((call) => call.name === 'propose_monitors');
          if (propose) {
            latest = { ...parseProposals(propose, input.services), turn };
            // Wrong proposals go back while there is a turn left to fix them in; at the last turn the valid ones stand.
            if (latest.refused.length === 0) return outcomeOf(turn);
          }
          if (turn === input.maxTurns) break;
          const results = await resultsOf(deps, key, stored, turn, calls, sandboxId, propose ? latest!.refused : [], turn + 1 === input.maxTurns);
          if (!stored.includes(results)) stored = [...stored, results];
        }
        return outcomeOf(input.maxTurns);
      } finally {
        await deps.sandbox.destroy(sandboxId);
      }
    },
  };
}

type Deps = Parameters<typeof createGenerationAgentActivities>[0];

async function taskOf(deps: Deps, input: ProposeMonitorsInput): Promise<string> {
  const diff = await deps.codeSearch!.diff(input.services[0]!, null, input.mergeCommit, MAX_DIFF_READ_CHARS);
  const view = readMergedDiff(diff.text, input.maxDiffChars);
  // A monitor watches a service when its query names it: that is how Datadog's own search scopes them.
  const watching = (query: string) => input.services.some((service) => new RegExp(`\\bservice:${service.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(query));
  const existing = (await deps.monitors.list()).filter((m) => watching(m.query)).slice(0, EXISTING_MONITORS_SHOWN).map((m) => ({ name: m.name, query: m.query }));
  const diffNote = [view.note, diff.truncated ? `the diff was cut at ${MAX_DIFF_READ_CHARS} characters` : null].filter(Boolean).join('; ') || null;
  return generationTaskPrompt({ repository: input.repository, services: input.services, mergeCommit: input.mergeCommit, changeTitle: input.changeTitle, diff: view.agentDiff, diffNote, existingMonitors: existing, maxTurns: input.maxTurns });
}

/** Turn T's answer sits at 2T − 1: the stored one if a previous try asked, else the model's, stored first. */
async function answerOf(deps: Deps, input: ProposeMonitorsInput, key: ConversationKey, stored: StoredMessage[], turn: number): Promise<StoredMessage> {
  const seq = 2 * turn - 1;
  const found = stored.find((m) => m.seq === seq);
  if (found) return found;
  if (stored.length !== seq) throw stewardFailure(ERROR_TYPES.agentConversationOutOfStep, `generation ${key.incidentId}: turn ${turn} asked, but the store holds ${stored.length} messages`);
  const reply = await deps.model.converse({
    incidentId: input.generationId,
    step: `monitors.turn-${turn}`,
    system: GENERATION_AGENT_SYSTEM_PROMPT,
    messages: stored.map((m) => m.message),
    tools: generationToolDefinitions(),
  });
  return deps.conversations.append(key, { seq, message: { role: 'assistant', text: reply.text, toolCalls: reply.toolCalls }, workspaceDiff: null });
}

/** The tools' results at 2T: read-only tools run in the sandbox; anything else is refused in the model's terms. */
async function resultsOf(deps: Deps, key: ConversationKey, stored: StoredMessage[], turn: number, calls: ToolCall[], sandboxId: string, refusedProposals: ProposeMonitorsOutcome['refused'], lastTurnNext: boolean): Promise<StoredMessage> {
  const seq = 2 * turn;
  const found = stored.find((m) => m.seq === seq);
  if (found) return found;
  const context = Context.current();
  if (calls.length === 0) {
    return deps.conversations.append(key, { seq, message: { role: 'user', content: 'Call propose_monitors with your proposals (an empty list if the change needs none).' }, workspaceDiff: null });
  }
  const results: ToolResult[] = [];
  for (const call of calls) {
    context.heartbeat({ phase: 'tools', turn, tool: call.name });
    if (call.name === 'propose_monitors') {
      const issues = refusedProposals.map((r) => `- ${r.name}: ${r.reason}`).join('\n');
      results.push({ toolCallId: call.id, isError: true, content: `Some proposals break the schema; call propose_monitors again with all of them, corrected:\n${issues}` });
      continue;
    }
    if (!READ_ONLY_TOOLS.includes(call.name as GenerationToolName)) {
      results.push({ toolCallId: call.id, isError: true, content: `There is no tool named ${JSON.stringify(call.name)} here. The tools are: ${[...READ_ONLY_TOOLS, 'propose_monitors'].join(', ')}.` });
      continue;
    }
    const outcome = await executeAgentTool(call, { sandbox: deps.sandbox, sandboxId, protectedPaths: [], commandTimeoutCapMs: COMMAND_TIMEOUT_MS, signal: context.cancellationSignal });
    results.push({ toolCallId: outcome.toolCallId, content: outcome.content, isError: outcome.isError });
  }
  const last = results.at(-1);
  if (lastTurnNext && last) results[results.length - 1] = { ...last, content: `${last.content}\n\n(Your next turn is your last: it must call propose_monitors.)` };
  context.cancellationSignal.throwIfAborted();
  return deps.conversations.append(key, { seq, message: { role: 'tool_results', results }, workspaceDiff: null });
}

function parseProposals(call: ToolCall, services: string[]): { proposals: ServiceMonitorProposal[]; refused: ProposeMonitorsOutcome['refused'] } {
  const raw = (call.input as { monitors?: unknown } | null)?.monitors;
  if (!Array.isArray(raw)) return { proposals: [], refused: [{ name: '(all)', reason: 'propose_monitors takes {"monitors": [ … ]}', proposal: call.input }] };
  const proposals: ServiceMonitorProposal[] = [];
  const refused: ProposeMonitorsOutcome['refused'] = [];
  raw.forEach((item, index) => {
    const name = typeof (item as { name?: unknown })?.name === 'string' ? (item as { name: string }).name : `proposal ${index + 1}`;
    const parsed = ServiceProposal.safeParse(item);
    if (!parsed.success) {
      refused.push({ name, reason: parsed.error.issues.map(issueText).join('; '), proposal: item });
      return;
    }
    const service = parsed.data.service ?? services[0]!;
    if (!services.includes(service)) {
      refused.push({ name, reason: `service ${JSON.stringify(service)} is not built from this repository (${services.join(', ')})`, proposal: item });
      return;
    }
    proposals.push({ ...parsed.data, service });
  });
  return { proposals, refused };
}

/** An issue with the path it is about; the proposal's schema names the path in some messages itself, and it is not said twice. */
function issueText(issue: { path: PropertyKey[]; message: string }): string {
  const path = issue.path.map(String).join('.') || '(proposal)';
  return issue.message.startsWith(`${path}:`) ? issue.message : `${path}: ${issue.message}`;
}
