import { Context } from '@temporalio/activity';
import type { ServicesConfig } from '../../domain/service-config';
import { ERROR_TYPES } from '../../contracts';
import { stewardFailure } from '../../contracts/errors';
import type { NormalizedAlert } from '../../domain/alert';
import { reproductionFiles, type Reproduction } from '../../domain/incident';
import type { TriageResult } from '../../domain/triage';
import type { AgentConversationPort, ConversationKey, StoredMessage } from '../../ports/agent-conversation.port';
import type { IncidentLedgerPort } from '../../ports/incident-ledger.port';
import type { ConversationMessage, ModelPort, ToolCall } from '../../ports/model.port';
import type { SandboxPort } from '../../sandbox/sandbox.port';
import type { SuiteRun } from '../reproduce/reproduce.activities';
import { heartbeatWhile, sandboxIdFor, serviceConfigFor } from '../shared/sandbox-session';
import { shellQuote } from '../../lib/shell-quote';
import { executeAgentTool } from './agent-tools';
import { agentToolDefinitions, AGENT_TOOL_SCHEMAS } from './agent-tools.schema';
import { FIX_AGENT_SYSTEM_PROMPT, fixAgentTaskPrompt } from './fix-agent.prompt';
import { diffStat, verifyChange, type FixAttemptOutcome } from './fix.activities';

/**
 * The fix agent: a tool-calling loop the workflow drives one step at a time. Each model turn is
 * its own activity, and so is each round of tools, so a crash resumes at the step it stopped in.
 * The conversation lives in the conversation store, not in the workflow history: the workflow
 * passes (incident, attempt, turn) and each activity loads what it needs.
 *
 * Positions in a conversation: seq 0 is the task; turn T's answer is at 2T-1 and its tools'
 * results at 2T. A retried turn that finds its answer stored returns it instead of paying again.
 *
 * The sandbox is rebuilt from the store at the start of every activity (revision + the last diff
 * stored with a round of tools), so a sandbox lost with its worker costs a rebuild, not the attempt.
 */

export interface FixAgentLimits {
  /** Upper bound on one run_command and on each verification command. */
  commandTimeoutMs: number;
  /** Input plus output tokens the incident may spend across its model calls before the agent stops; null for none. */
  tokenBudgetPerIncident: number | null;
}

export interface AgentTurnOutcome {
  turn: number;
  /** The tools the model asked for, in order; empty when it answered in prose. */
  toolNames: string[];
  /** The model called finish, or stopped calling tools: the workspace holds its change. */
  finished: boolean;
  /** The finish summary, or the model's last text when it stopped without finish. */
  summary: string | null;
  /** Set when the token budget stopped the agent before this turn was asked. */
  stoppedBy: 'token_budget' | null;
  /** The incident's input plus output tokens so far, before this turn. */
  tokensSpent: number;
  /** The answer came from the store: the model was asked in an earlier try of this activity. */
  answeredFromStore: boolean;
}

export interface ToolRoundOutcome {
  turn: number;
  tools: { name: string; isError: boolean; summary: string }[];
  diffStat: string;
}

const RESTORE_PATCH = '.steward-restore.patch';

export function createFixAgentActivities(deps: {
  model: ModelPort;
  sandbox: SandboxPort;
  conversations: AgentConversationPort;
  ledger: Pick<IncidentLedgerPort, 'incidentSpend'>;
  services: ServicesConfig;
  limits: FixAgentLimits;
}) {
  /** Revision, then the last stored change (or, before any, the reproduction test alone). */
  const restoreWorkspace = async (input: { incidentId: string; alert: NormalizedAlert; revision: string; reproduction: Reproduction }, stored: StoredMessage[]) => {
    const service = serviceConfigFor(deps.services, input.alert.service);
    const sandboxId = sandboxIdFor(input.incidentId);
    await heartbeatWhile({ phase: 'opening', incidentId: input.incidentId }, () =>
      deps.sandbox.open({ sandboxId, repositoryLocation: service.repository, revision: input.revision, setupCommand: service.setupCommand }),
    );
    await deps.sandbox.reset(sandboxId);
    const lastDiff = stored.filter((m) => m.workspaceDiff !== null).at(-1)?.workspaceDiff ?? '';
    if (lastDiff.trim() === '') {
      await deps.sandbox.writeFiles(sandboxId, reproductionFiles(input.reproduction));
    } else {
      await deps.sandbox.writeFiles(sandboxId, [{ path: RESTORE_PATCH, content: lastDiff }]);
      const applied = await deps.sandbox.exec(sandboxId, `git apply --whitespace=nowarn ${shellQuote(RESTORE_PATCH)} && rm -f ${shellQuote(RESTORE_PATCH)}`, { timeoutMs: 60_000 });
      if (applied.exitCode !== 0) {
        throw stewardFailure(ERROR_TYPES.patchDoesNotApply, `The fix agent's stored change no longer applies at ${input.revision} in sandbox ${sandboxId}: ${applied.outputTail.slice(-1_000)}`);
      }
    }
    return { service, sandboxId };
  };

  return {
    /** Starts an attempt: a clean workspace with the reproduction, and the task as the conversation's first message. */
    async beginFixAttempt(input: {
      incidentId: string;
      attempt: number;
      alert: NormalizedAlert;
      triage: TriageResult;
      revision: string;
      reproduction: Reproduction;
      maxTurns: number;
      previousAttempts: { attempt: number; failureReason: string }[];
    }): Promise<{ resumedAtMessage: number }> {
      const key: ConversationKey = { incidentId: input.incidentId, attempt: input.attempt };
      Context.current().heartbeat({ phase: 'opening', attempt: input.attempt });
      const stored = await deps.conversations.load(key);
      const { service } = await restoreWorkspace(input, stored);
      if (stored.length === 0) {
        const task = fixAgentTaskPrompt({ ...input, testCommand: service.testCommand });
        await deps.conversations.append(key, { seq: 0, message: { role: 'user', content: task }, workspaceDiff: null });
      }
      return { resumedAtMessage: Math.max(stored.length, 1) };
    },

    /** One model turn: the conversation so far goes to the model, and its answer is stored before it is returned. */
    async fixAgentTurn(input: { incidentId: string; attempt: number; turn: number }): Promise<AgentTurnOutcome> {
      const key: ConversationKey = { incidentId: input.incidentId, attempt: input.attempt };
      const stored = await deps.conversations.load(key);
      const seq = 2 * input.turn - 1;
      const spent = await deps.ledger.incidentSpend(input.incidentId);
      const tokensSpent = spent.inputTokens + spent.outputTokens;

      let answer = stored.find((m) => m.seq === seq);
      const answeredFromStore = answer !== undefined;
      if (!answer) {
        assertContiguous(stored, seq, key);
        if (deps.limits.tokenBudgetPerIncident !== null && tokensSpent >= deps.limits.tokenBudgetPerIncident) {
          return { turn: input.turn, toolNames: [], finished: false, summary: null, stoppedBy: 'token_budget', tokensSpent, answeredFromStore: false };
        }
        const turn = await deps.model.converse({
          incidentId: input.incidentId,
          step: `fix.attempt-${input.attempt}.turn-${input.turn}`,
          system: FIX_AGENT_SYSTEM_PROMPT,
          messages: stored.map((m) => m.message),
          tools: agentToolDefinitions(),
        });
        // Whatever is stored first at this position wins: that is the answer the rest builds on.
        answer = await deps.conversations.append(key, { seq, message: { role: 'assistant', text: turn.text, toolCalls: turn.toolCalls }, workspaceDiff: null });
      }
      const message = answer.message as Extract<ConversationMessage, { role: 'assistant' }>;
      const finish = message.toolCalls.map(finishSummary).find((summary) => summary !== null);
      return {
        turn: input.turn,
        toolNames: message.toolCalls.map((call) => call.name),
        finished: finish !== undefined || message.toolCalls.length === 0,
        summary: finish ?? (message.text.trim() || null),
        stoppedBy: null,
        tokensSpent,
        answeredFromStore,
      };
    },

    /** Runs the tools a turn asked for, in order, and stores their results with the workspace's diff. */
    async runFixAgentTools(input: { incidentId: string; attempt: number; turn: number; alert: NormalizedAlert; revision: string; reproduction: Reproduction }): Promise<ToolRoundOutcome> {
      const key: ConversationKey = { incidentId: input.incidentId, attempt: input.attempt };
      const context = Context.current();
      const stored = await deps.conversations.load(key);
      const done = stored.find((m) => m.seq === 2 * input.turn);
      const answer = stored.find((m) => m.seq === 2 * input.turn - 1);
      if (!answer || answer.message.role !== 'assistant') {
        throw stewardFailure(ERROR_TYPES.agentConversationOutOfStep, `Incident ${input.incidentId}, fix attempt ${input.attempt}: turn ${input.turn} has no stored answer to run tools for`);
      }
      const calls = answer.message.toolCalls;
      if (done && done.message.role === 'tool_results') {
        const results = done.message.results;
        return { turn: input.turn, tools: calls.map((call, i) => ({ name: call.name, isError: results[i]?.isError ?? true, summary: `${call.name} (stored)` })), diffStat: '' };
      }
      const { sandboxId } = await restoreWorkspace(input, stored);
      const outcomes = [];
      for (const [index, call] of calls.entries()) {
        const progress = { turn: input.turn, tool: index + 1, of: calls.length, name: call.name };
        context.heartbeat(progress);
        outcomes.push(
          await executeAgentTool(call, {
            sandbox: deps.sandbox,
            sandboxId,
            protectedPaths: reproductionFiles(input.reproduction).map((file) => file.path),
            commandTimeoutCapMs: deps.limits.commandTimeoutMs,
            signal: context.cancellationSignal,
            onOutput: () => context.heartbeat(progress),
          }),
        );
      }
      context.cancellationSignal.throwIfAborted();
      const diff = await deps.sandbox.diff(sandboxId);
      await deps.conversations.append(key, {
        seq: 2 * input.turn,
        message: { role: 'tool_results', results: outcomes.map(({ toolCallId, content, isError }) => ({ toolCallId, content, isError })) },
        workspaceDiff: diff,
      });
      return { turn: input.turn, tools: outcomes.map((o, i) => ({ name: calls[i]!.name, isError: o.isError, summary: o.summary })), diffStat: diffStat(diff) };
    },

    /** The agent is done: verify the change it left in the workspace. */
    async verifyFixAttempt(input: {
      incidentId: string;
      attempt: number;
      alert: NormalizedAlert;
      revision: string;
      reproduction: Reproduction;
      baseline: SuiteRun;
      summary: string;
    }): Promise<FixAttemptOutcome> {
      Context.current().heartbeat({ phase: 'restoring', attempt: input.attempt });
      const stored = await deps.conversations.load({ incidentId: input.incidentId, attempt: input.attempt });
      const { service, sandboxId } = await restoreWorkspace(input, stored);
      return verifyChange({
        sandbox: deps.sandbox,
        sandboxId,
        attempt: input.attempt,
        summary: input.summary,
        reproduction: input.reproduction,
        baseline: input.baseline,
        testCommand: service.testCommand,
        commandTimeoutMs: deps.limits.commandTimeoutMs,
      });
    },
  };
}

function finishSummary(call: ToolCall): string | null {
  if (call.name !== 'finish') return null;
  const parsed = AGENT_TOOL_SCHEMAS.finish.safeParse(call.input);
  // A finish without a usable summary still ends the attempt; verification decides, not the summary.
  return parsed.success ? parsed.data.summary : 'The agent finished without a summary.';
}

/** A turn is asked only when every earlier position is stored; a gap means the workflow and the store disagree. */
function assertContiguous(stored: StoredMessage[], seq: number, key: ConversationKey): void {
  const positions = stored.map((m) => m.seq);
  const expected = Array.from({ length: seq }, (_, i) => i);
  if (positions.length !== seq || positions.some((p, i) => p !== expected[i])) {
    throw stewardFailure(
      ERROR_TYPES.agentConversationOutOfStep,
      `Incident ${key.incidentId}, fix attempt ${key.attempt}: turn at position ${seq} asked, but the store holds positions ${positions.join(', ') || 'none'}`,
    );
  }
}
