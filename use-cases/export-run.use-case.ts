import type { temporal } from '@temporalio/proto';
import { DEPLOY_WATCH_WORKFLOW_TYPE, ERROR_TYPES, INCIDENT_WORKFLOW_TYPE, NIGHTLY_QA_WORKFLOW_TYPE, QA_MISSION_WORKFLOW_TYPE, qaMissionWorkflowId } from '../contracts';
import { stewardFailure } from '../contracts/errors';
import type { AgentConversationPort, StoredMessage } from '../ports/agent-conversation.port';
import type { IncidentLedgerReaderPort } from '../ports/incident-ledger.port';
import type { Monitor } from '../ports/monitors.port';
import type { QaLedgerPort } from '../ports/qa-ledger.port';
import { renderDeployWatchTree } from './export-run/deploy-watch-tree';
import { ExportTree, type ExportedFile } from './export-run/export-tree';
import { renderIncidentTree } from './export-run/incident-tree';
import { renderMissionTree, renderNightTree, type MissionSources } from './export-run/night-tree';
import { readRunHistory, type DecodePayload, type RunHistory } from './export-run/run-history';
import { callsOf, indexOf, loose, text, writeActivities, writeCost, writeRawHistory, writeRunRecord, writeTimeline } from './export-run/run-sections';

/**
 * `steward export <workflow id> <dir>`: any run as a self-describing file tree, for a person or a
 * coding agent to read with plain tools. The run is read from its workflow history (payloads
 * read back from the payload store), the ledger, the agent's conversations and the code host;
 * the tree says what each file holds and what it could not hold. This module reads; writing the
 * tree is the caller's (lib/file-tree.ts).
 */

export type { ExportedFile } from './export-run/export-tree';
export type { DecodePayload } from './export-run/run-history';

/** The workflow histories, and the project's data converter to read their payloads. */
export interface RunHistorySource {
  /** The latest run's history, as Temporal keeps it; null when the namespace has no such workflow. */
  fetch(workflowId: string): Promise<temporal.api.history.v1.IHistory | null>;
  decode: DecodePayload;
}

export interface RunExportReaders {
  history: RunHistorySource;
  ledger: IncidentLedgerReaderPort;
  /** A night's record, its missions and its morning report, as the QA ledger keeps them. */
  qaLedger: Pick<QaLedgerPort, 'night'>;
  conversations: Pick<AgentConversationPort, 'load'>;
  /** The PR as the code host keeps it, by its URL; null with why when this code host's PRs cannot be read back. */
  pullRequest(url: string): Promise<{ title: string; body: string; source: string } | { unreadable: string }>;
  /** The monitor as the platform holds it now. */
  monitor(monitorId: string): Promise<Monitor>;
  /** Injected so that tests can fix the export's time. */
  now?: () => Date;
}

export interface RunExport {
  workflowId: string;
  kind: 'incident' | 'deploy-watch' | 'night' | 'qa-mission' | 'workflow';
  files: ExportedFile[];
  notKept: string[];
}

export async function exportRun(readers: RunExportReaders, workflowId: string): Promise<RunExport> {
  const exportedAt = (readers.now?.() ?? new Date()).toISOString();
  const history = await readers.history.fetch(workflowId);
  if (!history) throw stewardFailure(ERROR_TYPES.runNotFound, `no workflow ${workflowId}: it is not in this namespace (or its history is no longer retained)`, { workflowId });
  const run = await readRunHistory(workflowId, history, readers.history.decode);
  if (run.workflowType === INCIDENT_WORKFLOW_TYPE) {
    const tree = await incidentTree(readers, run, history, exportedAt);
    return { workflowId, kind: 'incident', files: tree.files, notKept: tree.notKept };
  }
  if (run.workflowType === DEPLOY_WATCH_WORKFLOW_TYPE) {
    const [modelUsage, ledgerEvents] = await Promise.all([readers.ledger.listModelUsage(workflowId), readers.ledger.listEvents(workflowId)]);
    const childId = run.children.find((child) => child.workflowType === INCIDENT_WORKFLOW_TYPE)?.workflowId ?? null;
    const tree = renderDeployWatchTree({ run, history, modelUsage, ledgerEvents, child: childId ? await childTree(readers, childId, exportedAt) : null, exportedAt });
    return { workflowId, kind: 'deploy-watch', files: tree.files, notKept: tree.notKept };
  }
  if (run.workflowType === NIGHTLY_QA_WORKFLOW_TYPE) {
    const tree = await nightTree(readers, run, history, exportedAt);
    return { workflowId, kind: 'night', files: tree.files, notKept: tree.notKept };
  }
  if (run.workflowType === QA_MISSION_WORKFLOW_TYPE) {
    // A mission by itself: its folder of the night's export, with the record its night keeps of it.
    const input = loose(run.input[0]);
    const missionId = text(loose(input.mission).id, workflowId);
    const [mission, night] = await Promise.all([missionSources(readers, { workflowId, missionId }, { run, history }), readers.qaLedger.night(text(input.nightWorkflowId))]);
    const tree = renderMissionTree(mission, night?.missions.find((m) => m.missionId === missionId) ?? null, exportedAt);
    return { workflowId, kind: 'qa-mission', files: tree.files, notKept: tree.notKept };
  }
  const tree = await genericTree(readers, run, history, exportedAt);
  return { workflowId, kind: 'workflow', files: tree.files, notKept: tree.notKept };
}

async function childTree(readers: RunExportReaders, incidentId: string, exportedAt: string) {
  const history = await readers.history.fetch(incidentId);
  if (!history) return { incidentId, unreadable: 'its workflow history is not in this namespace' };
  return { incidentId, tree: await incidentTree(readers, await readRunHistory(incidentId, history, readers.history.decode), history, exportedAt) };
}

async function incidentTree(readers: RunExportReaders, run: RunHistory, history: temporal.api.history.v1.IHistory, exportedAt: string): Promise<ExportTree> {
  const incidentId = run.workflowId;
  const [incident, events, fixAttempts, decision, monitorChanges, modelUsage] = await Promise.all([
    readers.ledger.getIncident(incidentId),
    readers.ledger.listEvents(incidentId),
    readers.ledger.listFixAttempts(incidentId),
    readers.ledger.getDecision(incidentId),
    readers.ledger.listMonitorChanges(incidentId),
    readers.ledger.listModelUsage(incidentId),
  ]);
  const attempts = [...new Set(callsOf(run, 'beginFixAttempt').map((call) => Number(loose(call.input[0]).attempt)))];
  const conversations = new Map<number, StoredMessage[]>();
  for (const attempt of attempts) conversations.set(attempt, await readers.conversations.load({ incidentId, attempt }));

  const prUrl = text(loose(callsOf(run, 'openPullRequest').at(-1)?.result).url);
  const pr = prUrl ? await readers.pullRequest(prUrl) : null;
  const alert = loose(loose(run.input[0]).alert);
  const monitorId = text(alert.monitorId);
  let monitor: { monitor: Monitor; readAt: string } | { unreadable: string } | null = null;
  if (monitorId && !alert.regression && !alert.buildFailure) {
    try {
      monitor = { monitor: await readers.monitor(monitorId), readAt: (readers.now?.() ?? new Date()).toISOString() };
    } catch (error) {
      // The monitor may be gone (a noise verdict deletes generated ones): the export says so and goes on.
      monitor = { unreadable: (error as Error).message };
    }
  }
  return renderIncidentTree({
    run,
    history,
    ledger: { incident, events, fixAttempts, decision, monitorChanges, modelUsage },
    conversations,
    pullRequest: pr && 'body' in pr ? pr : null,
    pullRequestNote: pr && 'unreadable' in pr ? pr.unreadable : null,
    monitor,
    exportedAt,
  });
}

/**
 * A night: its history, the QA ledger's record, and each mission child's history, conversation and
 * model calls. A mission the ledger says ran but whose history the night's does not name (or whose
 * own history is gone) is still written, from the ledger.
 */
async function nightTree(readers: RunExportReaders, run: RunHistory, history: temporal.api.history.v1.IHistory, exportedAt: string): Promise<ExportTree> {
  const ledger = await readers.qaLedger.night(run.workflowId);
  const children = run.children
    .filter((child) => child.workflowType === QA_MISSION_WORKFLOW_TYPE)
    .map((child) => ({ workflowId: child.workflowId, missionId: text(loose(loose(child.input[0]).mission).id, child.workflowId) }));
  for (const kept of ledger?.missions ?? []) {
    const ran = kept.status === 'done' || kept.status === 'failed';
    if (ran && !children.some((child) => child.missionId === kept.missionId)) children.push({ workflowId: qaMissionWorkflowId(run.workflowId, kept.missionId), missionId: kept.missionId });
  }
  const missions: MissionSources[] = [];
  for (const child of children) {
    const missionHistory = await readers.history.fetch(child.workflowId);
    const read = missionHistory ? { run: await readRunHistory(child.workflowId, missionHistory, readers.history.decode), history: missionHistory } : null;
    missions.push(await missionSources(readers, child, read));
  }
  return renderNightTree({ run, history, ledger, missions, exportedAt });
}

async function missionSources(readers: RunExportReaders, mission: { workflowId: string; missionId: string }, read: MissionSources['history']): Promise<MissionSources> {
  const [conversation, modelUsage] = await Promise.all([
    // The mission's agent keeps its one conversation as attempt 1 of its workflow id (activities/qa-mission/).
    readers.conversations.load({ incidentId: mission.workflowId, attempt: 1 }),
    readers.ledger.listModelUsage(mission.workflowId),
  ]);
  return { ...mission, history: read, historyNote: read ? null : 'its workflow history is not in this namespace (no longer retained)', conversation, modelUsage };
}

/** Any other workflow (monitor generation, the local monitor evaluator, …): its record, timeline, activity calls and cost. */
async function genericTree(readers: RunExportReaders, run: RunHistory, history: temporal.api.history.v1.IHistory, exportedAt: string): Promise<ExportTree> {
  const tree = new ExportTree();
  const [events, modelUsage] = await Promise.all([readers.ledger.listEvents(run.workflowId), readers.ledger.listModelUsage(run.workflowId)]);
  writeRunRecord(tree, run, exportedAt);
  writeTimeline(tree, run, events);
  tree.json('input.json', run.input, 'the workflow input');
  writeCost(tree, modelUsage, null);
  writeActivities(tree, run);
  writeRawHistory(tree, history);
  tree.prepend(
    'README.md',
    [
      `# ${run.workflowType} ${run.workflowId}`,
      '',
      `Started ${run.startedAt}; ${run.closedAt ? `${run.status} at ${run.closedAt}` : 'still running'}. Steward has no export of its own for ${run.workflowType}: this tree holds what every run has.`,
      '',
      '## What is where',
      '',
      '- `README.md`: this file',
      indexOf(tree),
    ].join('\n'),
    'what the run was and this index',
  );
  return tree;
}
