import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';
import type { StoredMessage } from '../../ports/agent-conversation.port';
import type { LedgerEvent, ModelUsageEntry } from '../../ports/incident-ledger.port';
import { fenced, fileName, pad, table, type ExportTree } from './export-tree';
import type { ActivityCall, RunHistory, TimelineEntry } from './run-history';

/**
 * The parts every exported run has, whatever its workflow: the run's record, its timeline, every
 * activity call with its input and result, the notifications it sent, the history as Temporal
 * keeps it, and its model calls with their cost and prompts.
 */

/** The values of the history are Steward's own; read defensively, so that a field a later version dropped shows as missing instead of failing the export. */
export type Loose = Record<string, unknown>;
export const loose = (value: unknown): Loose => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Loose) : {});
export const text = (value: unknown, fallback = ''): string => (typeof value === 'string' ? value : value === null || value === undefined ? fallback : String(value));

export function callsOf(run: RunHistory, name: string): ActivityCall[] {
  return run.activities.filter((call) => call.name === name);
}

export function writeRunRecord(tree: ExportTree, run: RunHistory, exportedAt: string): void {
  const { workflowId, runId, workflowType, taskQueue, startedAt, closedAt, status, result, failure, eventCount, offloadedPayloads, children } = run;
  const record = { workflowId, runId, workflowType, taskQueue, startedAt, closedAt, status, result, failure, eventCount, offloadedPayloads, children: children.map(({ input: _, ...child }) => child) };
  tree.json('run.json', { ...record, exportedAt }, 'the run: workflow id, run id, type, task queue, start and close, status, result');
}

/**
 * Every history event (workflow tasks aside) in the history's order, and every ledger event placed
 * before the first history event that came later than it.
 */
export function writeTimeline(tree: ExportTree, run: RunHistory, ledgerEvents: LedgerEvent[]): void {
  const pending = [...ledgerEvents].sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.seq - b.seq);
  const lines: string[] = [];
  const ledgerLine = (event: LedgerEvent) => `- \`${event.at}\` ledger ${event.kind}: ${oneLine(event.data)}`;
  for (const entry of run.timeline) {
    while (pending.length > 0 && Date.parse(pending[0]!.at) < Date.parse(entry.at)) lines.push(ledgerLine(pending.shift()!));
    lines.push(historyLine(entry));
  }
  lines.push(...pending.map(ledgerLine));
  tree.text(
    'timeline.md',
    [
      `# Timeline of ${run.workflowId}`,
      '',
      `Every event of the workflow history in its order (${run.eventCount} events; Temporal's workflow-task bookkeeping left out, it is in history.json), and every event the ledger recorded (\`ledger …\`) where its time falls. \`#n\` is the history event id.`,
      '',
      ...lines,
    ].join('\n'),
    'every event with its time, from the first delivery to the end',
  );
}

const historyLine = (entry: TimelineEntry): string => `- \`${entry.at}\` ${entry.eventId === null ? '' : `#${entry.eventId} `}${entry.text}`;

export function writeActivities(tree: ExportTree, run: RunHistory): void {
  const rows = run.activities.map((call, index) => [
    `[${pad(index + 1, 3)}](activities/${activityFile(index, call)})`,
    call.name,
    call.summary ?? '',
    call.outcome,
    call.closedAt ? `${((Date.parse(call.closedAt) - Date.parse(call.scheduledAt)) / 1000).toFixed(1)} s` : '',
    String(call.attempt ?? ''),
  ]);
  tree.text('activities.md', [`# Activity calls of ${run.workflowId}`, '', table(['#', 'activity', 'summary', 'outcome', 'time', 'attempt'], rows)].join('\n'), 'every activity call: its summary, outcome, time and attempt');
  run.activities.forEach((call, index) => {
    tree.json(`activities/${activityFile(index, call)}`, call, 'one file per activity call (numbered as in activities.md): its input and result, as decoded');
  });
}

const activityFile = (index: number, call: ActivityCall): string => `${pad(index + 1, 3)}-${fileName(call.name)}.json`;

export function writeNotifications(tree: ExportTree, run: RunHistory): void {
  const calls = callsOf(run, 'notify');
  if (calls.length === 0) return;
  const sections = calls.map((call) => {
    const sent = loose(call.input[0]);
    const answer = loose(call.result);
    return [`## ${text(sent.kind)}: ${text(sent.title)}`, '', `Key \`${text(sent.key)}\`, at ${call.closedAt ?? call.scheduledAt}; ${call.outcome === 'completed' ? `sent, ref \`${text(answer.ref)}\`` : call.outcome}.`, '', fenced(text(sent.text))].join('\n');
  });
  tree.text('notifications.md', [`# Notifications`, '', ...sections].join('\n\n'), 'every notification sent, with its text');
}

/** Temporal's JSON of the history, as `temporal workflow show --output json` prints it: offloaded payloads stay references. */
export function writeRawHistory(tree: ExportTree, history: temporal.api.history.v1.IHistory): void {
  tree.text('history.json', JSON.stringify(JSON.parse(historyToJSON(history as temporal.api.history.v1.History)), null, 1), "the workflow history in Temporal's JSON form (replayable; offloaded payloads are references)");
}

/** Cost per step, from the ledger; the totals the run itself added up beside them. */
export function writeCost(tree: ExportTree, usage: ModelUsageEntry[], spendReported: unknown): void {
  const byStep = new Map<string, { calls: number; input: number; output: number; cost: number; unpriced: number; models: Set<string> }>();
  for (const call of usage) {
    const entry = byStep.get(call.step) ?? { calls: 0, input: 0, output: 0, cost: 0, unpriced: 0, models: new Set<string>() };
    entry.calls += 1;
    entry.input += call.inputTokens;
    entry.output += call.outputTokens;
    if (call.costUsd === null) entry.unpriced += 1;
    else entry.cost += call.costUsd;
    entry.models.add(`${call.provider}:${call.model}`);
    byStep.set(call.step, entry);
  }
  const rows = [...byStep].map(([step, e]) => [step, String(e.calls), [...e.models].join(', '), String(e.input), String(e.output), `$${e.cost.toFixed(6)}${e.unpriced > 0 ? ` (${e.unpriced} unpriced)` : ''}`]);
  const total = usage.reduce((sum, call) => sum + (call.costUsd ?? 0), 0);
  const reported = loose(spendReported);
  tree.text(
    'cost.md',
    [
      '# Cost per step',
      '',
      usage.length === 0 ? 'The ledger holds no model call for this run.' : table(['step', 'calls', 'model', 'input tokens', 'output tokens', 'cost'], rows),
      '',
      `Total: ${usage.length} calls, $${total.toFixed(6)} (from \`model_usage\`; an unpriced model's calls count tokens only).`,
      spendReported ? `The run added up at its close: ${text(reported.calls)} calls, ${text(reported.inputTokens)} input and ${text(reported.outputTokens)} output tokens, $${text(reported.costUsd)}.` : '',
    ].join('\n'),
    'model calls per step: tokens and cost',
  );
}

/** The model calls of some steps with what they asked and answered; what was not kept is said. */
export function writePrompts(tree: ExportTree, path: string, title: string, calls: ModelUsageEntry[], holds: string): void {
  if (calls.length === 0) return;
  const sections = calls.map((call) => {
    const head = `## ${call.step} (${call.provider}:${call.model}, ${call.inputTokens} in, ${call.outputTokens} out, at ${call.recordedAt})`;
    if (!call.exchange) return `${head}\n\nNot kept: this call was recorded before Steward kept prompts (\`model_usage.prompt\` is empty).`;
    return [
      head,
      '',
      '### System',
      '',
      fenced(call.exchange.system),
      '',
      '### Prompt',
      '',
      call.exchange.prompt === null ? 'A conversation turn: its messages are the turns beside this file.' : fenced(call.exchange.prompt),
      ...(call.exchange.answer === null ? [] : ['', '### Answer, as the model wrote it', '', fenced(call.exchange.answer)]),
    ].join('\n');
  });
  tree.text(path, [`# ${title}`, '', ...sections].join('\n\n'), holds);
  const unkept = calls.filter((call) => !call.exchange).length;
  if (unkept > 0) tree.missing(`${path}: the prompts of ${unkept} of ${calls.length} model calls (recorded before Steward kept prompts)`);
}

export function oneLine(value: unknown, max = 200): string {
  const flat = (typeof value === 'string' ? value : JSON.stringify(value) ?? '').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The README's index: each file with what it holds, in the order written. */
export function indexOf(tree: ExportTree, exclude: string[] = []): string {
  return tree.files
    .filter((file) => !exclude.includes(file.path))
    // The per-call and per-turn files are many: each folder's are listed once.
    .reduce<{ path: string; holds: string }[]>((shown, file) => {
      const folder = /^(.*\/)(activities|turns|runs|verification|polls)\//.exec(file.path) ?? /^()(activities|polls|turns)\//.exec(file.path);
      if (folder) {
        const path = `${folder[1]}${folder[2]}/`;
        if (!shown.some((s) => s.path === path)) shown.push({ path, holds: file.holds });
        return shown;
      }
      shown.push({ path: file.path, holds: file.holds });
      return shown;
    }, [])
    .map((file) => `- \`${file.path}\`: ${file.holds}`)
    .join('\n');
}

export function ledgerEventsSince(events: LedgerEvent[], kind: LedgerEvent['kind']): LedgerEvent[] {
  return events.filter((event) => event.kind === kind);
}

/** The README's account of what the sources lacked (ExportTree.notKept), the same in every kind of export; the blank line after it is the caller's. */
export function notKeptSection(tree: ExportTree): string[] {
  return ['## What this export does not hold', '', ...(tree.notKept.length === 0 ? ['Nothing the sources were asked for is missing.'] : tree.notKept.map((note) => `- ${note}`))];
}

/**
 * An agent's stored conversation (a fix attempt's, a QA mission's) under `dir/turns/`, one file per
 * message: the task, each answer with its tool calls, each round of tool results with the
 * workspace's diff after it.
 */
export function writeTurns(tree: ExportTree, dir: string, stored: StoredMessage[]): void {
  const turns = dir ? `${dir}/turns` : 'turns';
  const callsById = new Map<string, string>();
  for (const entry of stored) {
    const { message } = entry;
    const turn = Math.ceil(entry.seq / 2);
    if (message.role === 'user') {
      tree.text(`${turns}/${pad(entry.seq, 3)}-task.md`, `# The task (message ${entry.seq})\n\n${message.content}`, "the agent's conversation, one file per message: the task, each answer with its tool calls, each round of tool results");
    } else if (message.role === 'assistant') {
      for (const call of message.toolCalls) callsById.set(call.id, call.name);
      tree.text(
        `${turns}/${pad(entry.seq, 3)}-turn-${turn}-model.md`,
        [`# Turn ${turn}: the model (message ${entry.seq})`, '', message.text || '(no text)', '', ...message.toolCalls.flatMap((call) => [`## Tool call ${call.name} (\`${call.id}\`)`, '', fenced(JSON.stringify(call.input, null, 2), 'json'), ''])].join('\n'),
        "the agent's conversation, one file per message: the task, each answer with its tool calls, each round of tool results",
      );
    } else {
      tree.text(
        `${turns}/${pad(entry.seq, 3)}-turn-${turn}-tools.md`,
        [
          `# Turn ${turn}: the tools' results (message ${entry.seq})`,
          '',
          ...message.results.flatMap((result) => [`## ${callsById.get(result.toolCallId) ?? 'tool'} (\`${result.toolCallId}\`)${result.isError ? ': error' : ''}`, '', fenced(result.content), '']),
          ...(entry.workspaceDiff !== null ? ['## The workspace after these tools, as a diff', '', fenced(entry.workspaceDiff || '(no change)', 'diff')] : []),
        ].join('\n'),
        "the agent's conversation, one file per message: the task, each answer with its tool calls, each round of tool results",
      );
    }
  }
}
