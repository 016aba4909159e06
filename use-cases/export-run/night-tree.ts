import type { temporal } from '@temporalio/proto';
import type { QaMissionOutcome } from '../../contracts';
import { renderMorningReport, type MorningReport, type QaFinding, type QaLead } from '../../domain/nightly-qa/report';
import type { StoredMessage } from '../../ports/agent-conversation.port';
import type { ModelUsageEntry } from '../../ports/incident-ledger.port';
import type { QaMissionRecord, QaNightRecord } from '../../ports/qa-ledger.port';
import { ExportTree, fenced, fileName, safeRelativePath, table } from './export-tree';
import type { RunHistory } from './run-history';
import { callsOf, indexOf, loose, notKeptSection, text, writeActivities, writeCost, writeNotifications, writeRawHistory, writeRunRecord, writeTimeline, writeTurns } from './run-sections';

/** One mission of the night, as the use case read it: its own history when Temporal still has it, the ledger's record, its conversation and its model calls. */
export interface MissionSources {
  missionId: string;
  workflowId: string;
  /** Null when the history is gone (retention) or the mission never started: `historyNote` says which. */
  history: { run: RunHistory; history: temporal.api.history.v1.IHistory } | null;
  historyNote: string | null;
  /** The stored conversation of the mission's agent (keyed by the mission's workflow id). */
  conversation: StoredMessage[];
  /** The agent's model calls, which the ledger keys by the mission's workflow id. */
  modelUsage: ModelUsageEntry[];
}

/** What a night's export is made from; a finding's incident is exported on its own, by its id. */
export interface NightSources {
  run: RunHistory;
  history: temporal.api.history.v1.IHistory;
  /** The QA ledger's record of the night: its missions and its morning report; null when the ledger holds none. */
  ledger: QaNightRecord | null;
  missions: MissionSources[];
  exportedAt: string;
}

const STATUS_LABEL: Record<QaMissionRecord['status'], string> = { done: 'done', failed: 'failed', 'skipped-budget': 'skipped (night budget spent)', 'skipped-limit': 'skipped (mission limit)' };
const usd = (value: number) => `$${value.toFixed(2)}`;
export const missionDir = (missionId: string): string => `missions/${fileName(missionId)}`;

export function renderNightTree(sources: NightSources): ExportTree {
  const tree = new ExportTree();
  const { run, ledger } = sources;
  const input = loose(run.input[0]);
  const records = missionRecords(sources);
  const report = nightReport(tree, sources);

  writeRunRecord(tree, run, sources.exportedAt);
  writeTimeline(tree, run, []);
  tree.json('policy.json', { policy: input.policy, incidentPolicy: input.incidentPolicy }, "the night's policy (budget, missions, turns) and the incident policy its findings run under");
  writePlan(tree, sources, records, report);
  writeFindings(tree, records, report);
  for (const mission of sources.missions) tree.nest(missionDir(mission.missionId), renderMissionTree(mission, records.get(mission.missionId) ?? null, sources.exportedAt));
  if (report) tree.json('report.json', report, ledger?.report ? 'the morning report, as the QA ledger keeps it' : "the morning report, as the workflow returned it (the QA ledger holds none)");
  if (ledger) tree.json('ledger/night.json', ledger, "the QA ledger's record of the night, with its missions");
  else tree.missing('ledger/night.json: the QA ledger holds no record of this night (a database other than the one the night wrote to?)');
  writeNotifications(tree, run);
  writeActivities(tree, run);
  writeRawHistory(tree, sources.history);
  writeReadme(tree, sources, records, report);
  return tree;
}

/**
 * Each mission's record: the ledger's, or, while the ledger has none (a night still running, or a
 * database other than the night's), the last the night sent it. The rewrite after the findings'
 * incidents is the later one, so it is the one that says what each finding became.
 */
function missionRecords(sources: NightSources): Map<string, QaMissionRecord> {
  const records = new Map<string, QaMissionRecord>();
  for (const call of callsOf(sources.run, 'recordMission')) {
    const sent = call.input[0] as QaMissionRecord | undefined;
    if (sent?.missionId) records.set(sent.missionId, sent);
  }
  for (const kept of sources.ledger?.missions ?? []) records.set(kept.missionId, kept);
  return records;
}

/** The ledger's report; the workflow's result when the ledger has none; null while the night runs. */
function nightReport(tree: ExportTree, sources: NightSources): MorningReport | null {
  if (sources.ledger?.report) return sources.ledger.report;
  if (sources.run.status === 'completed' && sources.run.result) {
    tree.missing('report.json: the QA ledger holds no report for this night; the file is the workflow\'s result');
    return sources.run.result as MorningReport;
  }
  tree.missing(`report.json: the night has no morning report yet (${sources.run.status === 'running' ? 'it is still running' : `it ended ${sources.run.status}`})`);
  return null;
}

/** The revision the night's missions read, as it recorded it at its start (also while the ledger has none). */
function nightRevision(sources: NightSources): string {
  return text(loose(callsOf(sources.run, 'startNight')[0]?.input[0]).revision, sources.ledger?.revision ?? 'not read');
}

function writePlan(tree: ExportTree, sources: NightSources, records: Map<string, QaMissionRecord>, report: MorningReport | null): void {
  const started = new Set(sources.missions.map((m) => m.missionId));
  const rows = [...records.values()].map((m) => [
    started.has(m.missionId) ? `[\`${m.missionId}\`](${missionDir(m.missionId)}/README.md)` : `\`${m.missionId}\``,
    m.kind,
    STATUS_LABEL[m.status] ?? m.status,
    m.areas.join(', '),
    m.reason,
  ]);
  const notRepeated = report?.notRepeated;
  const revision = nightRevision(sources);
  tree.text(
    'plan.md',
    [
      '# The plan of the night',
      '',
      `Planned at the revision \`${revision}\` from what the QA ledger remembers of earlier nights, the PRs merged since and how each area moved (the activities \`planningHistory\`, \`mergedSince\`, \`qaCandidates\` and \`areaFacts\` in \`activities/\` hold what was read). Missions run in this order while the night's budget covers the next one.`,
      '',
      rows.length > 0 ? table(['mission', 'kind', 'status', 'areas', 'why tonight'], rows) : 'No mission was recorded (yet).',
      '',
      '## Not run again from last night',
      '',
      notRepeated === undefined
        ? report
          ? 'Not known: the report was kept before the plan said what it did not repeat.'
          : 'Not known yet: the morning report says it, and the night has none yet.'
        : notRepeated.length === 0
          ? 'None: tonight repeats nothing left out, or there was no last night.'
          : notRepeated.map((n) => `- \`${n.id}\`: ${n.why}`).join('\n'),
    ].join('\n'),
    'the missions planned, each with why tonight and how it went, and what was not run again from last night',
  );
}

function findingLines(f: QaFinding): string[] {
  const dir = missionDir(f.missionId);
  return [
    `## ${f.title}`,
    '',
    `- mission: \`${f.missionId}\` (in \`${dir}/\`)`,
    `- test: \`${f.testPath}\` (\`${dir}/test/${safeRelativePath(f.testPath)}\`), failing with \`${f.expectedFailure}\``,
    `- signature: \`${f.signature}\``,
    `- dedup: ${f.duplicateOf ? `already known as \`${f.duplicateOf}\`: no incident opened` : 'new tonight'}`,
    `- incident: ${f.incidentId ? `\`${f.incidentId}\` (its own run: \`steward export ${f.incidentId} <dir>\`)` : 'none'}`,
    `- pull request: ${f.pullRequestUrl ?? (f.incidentId && !f.duplicateOf ? `none (${f.incidentStage ? f.incidentStage.replace(/_/g, ' ') : 'no PR when the night last heard'})` : 'none')}`,
  ];
}

function writeFindings(tree: ExportTree, records: Map<string, QaMissionRecord>, report: MorningReport | null): void {
  const findings: QaFinding[] = report?.findings ?? [...records.values()].flatMap((m) => m.findings);
  const leads: QaLead[] = report?.leads ?? [...records.values()].flatMap((m) => m.leads);
  tree.text(
    'findings.md',
    [
      '# Findings and leads',
      '',
      'A finding is a bug a mission proved with a test that failed twice for the stated reason; each new one opened an incident, which is exported on its own by its id. A lead is a hunch without such a test: reported, never opened.',
      '',
      ...(findings.length === 0 ? ['No finding.', ''] : findings.flatMap((f) => [...findingLines(f), ''])),
      '## Leads',
      '',
      leads.length === 0 ? 'None.' : leads.map((l) => `- ${l.title} (\`${l.missionId}\`; ${l.areas.join(', ') || 'no area'}): ${l.detail}`).join('\n'),
    ].join('\n'),
    'each finding: its test, signature, dedup, incident and PR; and the leads',
  );
}

/** One mission: a folder of the night's export, or the whole tree when the mission's workflow id is exported by itself. */
export function renderMissionTree(mission: MissionSources, record: QaMissionRecord | null, exportedAt: string): ExportTree {
  const tree = new ExportTree();
  const read = mission.history;
  const outcome = read ? ((read.run.result ?? callsOf(read.run, 'runQaMission').find((c) => c.outcome === 'completed')?.result ?? null) as QaMissionOutcome | null) : null;
  if (read) {
    writeRunRecord(tree, read.run, exportedAt);
    writeTimeline(tree, read.run, []);
  } else {
    tree.missing(`the mission's workflow history (${mission.workflowId}): ${mission.historyNote ?? 'not read'}; this folder is written from the QA ledger's record`);
  }
  if (outcome) tree.json('outcome.json', outcome, "what the mission's agent answered: findings with their tests, leads, what it read, ran and wrote, cost, turns");
  if (record) tree.json('record.json', record, "the mission's record: the QA ledger's, or the last the night sent it while the ledger holds none");
  else tree.missing(`record.json: the QA ledger holds no record of mission ${mission.missionId}`);
  for (const finding of outcome?.findings ?? []) {
    tree.text(`test/${safeRelativePath(finding.testPath)}`, finding.testSource, `the test a finding was proven by, as written at ${finding.testPath}`);
  }
  if (!outcome && (record?.findings.length ?? 0) > 0) tree.missing("test/: the findings' tests are in the mission's history, which was not read; the ledger keeps their paths only");
  if (mission.conversation.length > 0) writeTurns(tree, '', mission.conversation);
  else tree.missing(`turns/: the conversation store holds no messages for ${mission.workflowId}`);
  writeCost(tree, mission.modelUsage, null);
  if (read) {
    writeActivities(tree, read.run);
    writeRawHistory(tree, read.history);
  }

  const status = record ? (STATUS_LABEL[record.status] ?? record.status) : read ? read.run.status : 'unknown';
  const list = (items: string[] | undefined) => (items && items.length > 0 ? items.map((item) => `- \`${item}\``).join('\n') : 'Nothing.');
  const findings = record?.findings ?? [];
  const leads = record?.leads ?? outcome?.leads ?? [];
  const readme = [
    `# Mission ${mission.missionId}: ${status}`,
    '',
    ...(read ? [] : [`**Written from the QA ledger:** the mission's own history is gone (${mission.historyNote ?? 'not read'}).`, '']),
    table(
      ['', ''],
      [
        ['kind', text(record?.kind, 'unknown')],
        ['why tonight', text(record?.reason, '')],
        ['workflow', read ? `${mission.workflowId} (run ${read.run.runId}), ${read.run.closedAt ? `${read.run.status} at ${read.run.closedAt}` : 'still running'}` : `${mission.workflowId} (history not read)`],
        ['ended because', text(outcome?.endedBecause, 'not known')],
        ['areas', (record?.areas ?? outcome?.areasCovered ?? []).join(', ') || 'none'],
        ['turns', String(record?.turns ?? outcome?.turns ?? '')],
        ['cost', usd(record?.costUsd ?? outcome?.costUsd ?? 0)],
        ['findings', String(findings.length)],
        ['leads', String(leads.length)],
      ],
    ),
    '',
    '## What it read',
    '',
    list(record?.filesRead ?? outcome?.filesRead),
    '',
    '## What it ran',
    '',
    list(record?.commandsRun ?? outcome?.commandsRun),
    '',
    '## What it wrote',
    '',
    list(record?.testsWritten ?? outcome?.testsWritten),
    '',
    '## Findings',
    '',
    findings.length === 0 ? 'None.' : findings.map((f) => `- ${f.title}: \`${f.testPath}\` (here in \`test/\`), failing with \`${f.expectedFailure}\`; ${f.duplicateOf ? `already known as ${f.duplicateOf}` : f.incidentId ? `incident \`${f.incidentId}\`` : 'no incident'}`).join('\n'),
    '',
    '## Leads',
    '',
    leads.length === 0 ? 'None.' : leads.map((l) => `- ${l.title}: ${l.detail}`).join('\n'),
    '',
    '## What is where',
    '',
    '- `README.md`: this file',
    indexOf(tree),
    ...(tree.notKept.length > 0 ? ['', '## What this folder does not hold', '', ...tree.notKept.map((note) => `- ${note}`)] : []),
  ].join('\n');
  tree.prepend('README.md', readme, 'the mission: why tonight, what it read, ran and wrote, its findings, leads and cost');
  return tree;
}

function writeReadme(tree: ExportTree, sources: NightSources, records: Map<string, QaMissionRecord>, report: MorningReport | null): void {
  const { run, ledger } = sources;
  const input = loose(run.input[0]);
  const service = text(input.service, ledger?.service ?? 'unknown');
  const night = text(ledger?.night, report?.night ?? 'unknown');
  const running = run.status === 'running';
  const ended = running ? `still running at export time (${sources.exportedAt})` : `${run.status} at ${run.closedAt}`;
  const missions = [...records.values()];
  const ran = missions.filter((m) => m.status === 'done' || m.status === 'failed');
  const costUsd = report?.costUsd ?? ledger?.costUsd ?? ran.reduce((sum, m) => sum + m.costUsd, 0);
  const budgetUsd = Number(loose(input.policy).budgetUsd ?? report?.budgetUsd ?? ledger?.budgetUsd ?? 0);
  const findings = report?.findings ?? missions.flatMap((m) => m.findings);
  const leads = report?.leads ?? missions.flatMap((m) => m.leads);
  const readme = [
    `# Nightly QA ${run.workflowId}`,
    '',
    `Nightly QA of ${service}, night of ${night}: ${running ? '**still running**; this export holds what the night had done so far' : `ended **${ledger?.status ?? run.status}**`}.`,
    '',
    table(
      ['', ''],
      [
        ['service', service],
        ['night', night],
        ['revision', nightRevision(sources)],
        ['workflow', `${run.workflowId} (run ${run.runId}), ${ended}`],
        ['status', ledger ? `${ledger.status} (QA ledger)` : `${run.status} (the ledger holds no record)`],
        ['missions', `${ran.length} run, ${missions.length - ran.length} skipped (see plan.md)`],
        ['findings', `${findings.filter((f) => f.duplicateOf === null).length} new, ${findings.filter((f) => f.duplicateOf !== null).length} already known (see findings.md)`],
        ['leads', String(leads.length)],
        ['cost', `${usd(costUsd)} of ${usd(budgetUsd)}`],
      ],
    ),
    '',
    '## The morning report',
    '',
    report ? fenced(renderMorningReport(report)) : 'None yet: the night writes it when its missions and findings are done.',
    '',
    '## What is where',
    '',
    '- `README.md`: this file',
    // Each mission's folder is listed once, as the incidents' attempts are: its own README indexes it.
    indexOf(tree).replace(/^- `missions\/.*$\n?/gm, ''),
    ...sources.missions.map((m) => `- \`${missionDir(m.missionId)}/\`: mission \`${m.missionId}\`, ${m.history ? 'from its history and the ledger' : 'from the ledger only (its history is gone)'} (its own README.md)`),
    '',
    ...notKeptSection(tree),
    '',
    '## Where it comes from',
    '',
    `- the night's workflow history (${run.eventCount} events; ${run.offloadedPayloads} payloads read back from the payload store) and those of its ${sources.missions.filter((m) => m.history).length} of ${sources.missions.length} mission(s) still in the namespace;`,
    `- the QA ledger: ${ledger ? `the night's record and ${ledger.missions.length} mission record(s)${ledger.report ? ', the morning report' : ''}` : 'nothing (no record of this night)'};`,
    `- the conversation store (${sources.missions.reduce((n, m) => n + m.conversation.length, 0)} messages) and the ledger's model calls (${sources.missions.reduce((n, m) => n + m.modelUsage.length, 0)}).`,
    '',
    `A finding's incident is its own run: export it by the id \`findings.md\` gives. Exported by \`steward export\` at ${sources.exportedAt}.`,
  ].join('\n');
  tree.prepend('README.md', readme, 'what the night did, its morning report, and this index');
}
