import type { temporal } from '@temporalio/proto';
import type { ExecEvidence } from '../../domain/incident';
import { pullRequestBody, pullRequestTitle, type PullRequestContent } from '../../domain/pull-request-body';
import type { StoredMessage } from '../../ports/agent-conversation.port';
import type { DecisionRecord, FixAttemptRecord, LedgerEvent, LedgerIncident, ModelUsageEntry, MonitorChangeRecord } from '../../ports/incident-ledger.port';
import type { Monitor } from '../../ports/monitors.port';
import { ExportTree, fenced, pad, safeRelativePath, table } from './export-tree';
import type { ActivityCall, RunHistory } from './run-history';
import { callsOf, indexOf, loose, notKeptSection, text, writeActivities, writeCost, writeNotifications, writePrompts, writeRawHistory, writeRunRecord, writeTimeline, writeTurns, type Loose } from './run-sections';

/** What an incident's export is made from, read by the use case from the history, the ledger, the conversation store and the code host. */
export interface IncidentSources {
  run: RunHistory;
  history: temporal.api.history.v1.IHistory;
  ledger: {
    incident: LedgerIncident | null;
    events: LedgerEvent[];
    fixAttempts: FixAttemptRecord[];
    decision: DecisionRecord | null;
    monitorChanges: MonitorChangeRecord[];
    modelUsage: ModelUsageEntry[];
  };
  /** Each attempt's stored conversation, by attempt number. */
  conversations: Map<number, StoredMessage[]>;
  /** The PR as the code host keeps it; null when it was not read (see `pullRequestNote`). */
  pullRequest: { title: string; body: string; source: string } | null;
  pullRequestNote: string | null;
  monitor: { monitor: Monitor; readAt: string } | { unreadable: string } | null;
  exportedAt: string;
}

export function renderIncidentTree(sources: IncidentSources): ExportTree {
  const tree = new ExportTree();
  const { run, ledger } = sources;
  const input = loose(run.input[0]);
  const alert = loose(input.alert);

  writeRunRecord(tree, run, sources.exportedAt);
  writeTimeline(tree, run, ledger.events);
  tree.json('alert.json', alert, 'the alert the incident started from, normalized (the workflow input)');
  tree.json('policy.json', input.policy, 'the incident policy it ran under');
  tree.json(
    'deliveries.json',
    run.signals.filter((s) => s.name === 'alertDelivered').map((s) => ({ at: s.at, alert: s.input[0] })),
    'every delivery of the alert (re-deliveries and transitions joined the run as signals)',
  );
  writeMonitor(tree, sources, alert);
  writeDuplicateCheck(tree, run);
  writeTriage(tree, run, ledger);
  writeNoise(tree, run, ledger.monitorChanges);
  writeReproduction(tree, run, ledger.modelUsage);
  const attempts = writeAttempts(tree, sources);
  writeApproval(tree, run, ledger.decision);
  writePullRequest(tree, sources);
  writeNotifications(tree, run);
  writeCost(tree, ledger.modelUsage, callsOf(run, 'incidentSpend').at(-1)?.result ?? null);
  if (ledger.incident) tree.json('ledger/incident.json', ledger.incident, "the ledger's row: the state saved at the last checkpoint");
  else tree.missing('ledger/incident.json: the ledger holds no row for this incident (a database other than the one the run wrote to?)');
  tree.json('ledger/events.json', ledger.events, "the ledger's events, in order");
  if (ledger.events.length === 0) tree.missing('ledger/events.json: the ledger holds no events for this incident');
  writeActivities(tree, run);
  writeRawHistory(tree, sources.history);
  writeReadme(tree, sources, attempts);
  return tree;
}

function writeMonitor(tree: ExportTree, sources: IncidentSources, alert: Loose): void {
  if (loose(alert).regression || loose(alert).buildFailure) {
    tree.missing(`monitor.json: the alert came from the deploy watch (${text(alert.monitorId)}), not from a monitor`);
    return;
  }
  const read = sources.monitor;
  if (read && 'monitor' in read) {
    tree.json('monitor.json', { readAt: read.readAt, note: 'As the monitor platform holds it at export time, not as triage saw it: Steward may have linked its PR or tuned it since (see triage/prompt.md for what the model was shown).', monitor: read.monitor }, 'the monitor, as read at export time');
  } else {
    tree.missing(`monitor.json: monitor ${text(alert.monitorId)} was not read${read ? `: ${read.unreadable}` : ''}`);
  }
}

function writeDuplicateCheck(tree: ExportTree, run: RunHistory): void {
  const byMonitor = callsOf(run, 'findExistingFix')[0];
  const claim = callsOf(run, 'claimIncidentError')[0];
  if (!byMonitor && !claim) return;
  tree.json('duplicate-check.json', { monitorDescription: byMonitor?.result ?? null, errorClaim: claim ? { input: claim.input[0], result: claim.result } : null }, "the duplicate checks: a Steward PR already linked on the monitor, and the claim on the error");
}

function writeTriage(tree: ExportTree, run: RunHistory, ledger: IncidentSources['ledger']): void {
  const call = callsOf(run, 'triageAlert')[0];
  if (call) {
    tree.json('triage/input.json', call.input[0], "triage's input: the alert and its error signature (the step adds the monitor, recent incidents and error logs)");
    if (call.outcome === 'completed') tree.json('triage/answer.json', call.result, "triage's answer, as the workflow received it");
    else tree.text('triage/answer.md', `Triage did not answer: ${call.outcome}: ${call.failure ?? ''}`, 'why triage gave no answer');
    const prompts = ledger.modelUsage.filter((u) => u.step === 'triage' || u.step.startsWith('triage.'));
    writePrompts(tree, 'triage/prompt.md', 'Triage: what the model was asked and answered', prompts, 'the prompt sent to the model, and its answer, per call');
    if (prompts.length === 0) tree.missing('triage/prompt.md: the ledger holds no triage model call for this incident');
    return;
  }
  const verdict = ledger.events.find((e) => e.kind === 'verdict');
  const derived = ledger.incident?.state.triage ?? null;
  if (derived || verdict) {
    tree.json('triage/answer.json', derived ?? verdict!.data, 'the triage, derived by the workflow without a model (the deploy watch found the regression, or the build failed)');
    tree.missing('triage/prompt.md: no model was asked: the deploy watch already triaged the regression (or the build failed), and the workflow took that as its triage');
  }
}

function writeNoise(tree: ExportTree, run: RunHistory, changes: MonitorChangeRecord[]): void {
  const call = callsOf(run, 'quietNoisyMonitor')[0];
  if (!call && changes.length === 0) return;
  tree.json('monitor-change.json', { change: call?.result ?? null, recorded: changes }, 'what the noise verdict changed on the monitor, before and after');
}

function evidenceMarkdown(title: string, e: ExecEvidence | null | undefined): string {
  if (!e) return `# ${title}\n\nNot run.`;
  return [`# ${title}`, '', `- command: \`${e.command}\``, `- exit code: ${e.timedOut ? 'timed out' : String(e.exitCode)}`, `- time: ${(e.durationMs / 1000).toFixed(1)} s`, '', '## Output (its tail, as kept)', '', fenced(e.outputTail)].join('\n');
}

function writeReproduction(tree: ExportTree, run: RunHistory, usage: ModelUsageEntry[]): void {
  const call = callsOf(run, 'reproduceIncident').at(-1);
  if (!call) return;
  tree.json('reproduction/result.json', call.result, 'the reproduction step as it returned: baseline, reproduction, refused tries');
  const result = loose(call.result);
  const reproduction = result.reproduction ? (result.reproduction as { testPath: string | null; testContent: string | null; explanation: string; command: string; match: string; before: ExecEvidence; runsBefore?: ExecEvidence[] }) : null;
  const baseline = loose(result.baseline).evidence as ExecEvidence | undefined;
  const refused = (result.refusedTries as { testPath: string; verdict: string; evidence: ExecEvidence }[] | undefined) ?? [];
  const runs = reproduction ? (reproduction.runsBefore ?? [reproduction.before]) : [];
  if (baseline) tree.text('reproduction/runs/00-baseline.md', evidenceMarkdown(`The suite at ${text(result.revision)} (baseline)`, baseline), 'one file per command the reproduction ran (the baseline suite, each run of the test, refused tries): its exit code, time and output');
  runs.forEach((e, i) => tree.text(`reproduction/runs/${pad(i + 1)}-reproduction.md`, evidenceMarkdown(`Reproduction run ${i + 1} at the deployed revision`, e), 'one file per command the reproduction ran (the baseline suite, each run of the test, refused tries): its exit code, time and output'));
  refused.forEach((t, i) => tree.text(`reproduction/runs/refused-${pad(i + 1)}.md`, `${evidenceMarkdown(`Refused try ${i + 1}: ${t.testPath}`, t.evidence)}\n\nRefused: ${t.verdict}`, 'one file per command the reproduction ran (the baseline suite, each run of the test, refused tries): its exit code, time and output'));
  if (reproduction?.testPath && reproduction.testContent !== null) {
    tree.text(`reproduction/test/${safeRelativePath(reproduction.testPath)}`, reproduction.testContent, `the reproduction test written, as ${reproduction.testPath}`);
  }
  tree.text(
    'reproduction/README.md',
    [
      '# Reproduction',
      '',
      reproduction
        ? [
            `Reproduced at \`${text(result.revision)}\`${reproduction.testPath ? ` by the test \`${reproduction.testPath}\` (in \`test/\` here)` : ' by the build command'}.`,
            '',
            `- command: \`${reproduction.command}\``,
            `- why it fails: ${reproduction.explanation}`,
            `- match with the alert: ${reproduction.match}`,
          ].join('\n')
        : `Not reproduced at \`${text(result.revision)}\`.`,
      '',
      table(
        ['run', 'command', 'exit', 'time'],
        [
          ...(baseline ? [['baseline (the suite)', baseline]] : []),
          ...runs.map((e, i) => [`reproduction ${i + 1}`, e]),
          ...refused.map((t, i) => [`refused try ${i + 1}: ${t.verdict}`, t.evidence]),
        ].map(([label, e]) => {
          const ev = e as ExecEvidence;
          return [label as string, `\`${ev.command}\``, ev.timedOut ? 'timeout' : String(ev.exitCode), `${(ev.durationMs / 1000).toFixed(1)} s`];
        }),
      ),
      '',
      'Each run is in `runs/`, with its output.',
    ].join('\n'),
    'the reproduction: the test written, and each run with its command and exit code',
  );
  writePrompts(tree, 'reproduction/prompts.md', 'Reproduction: what the model was asked and answered', usage.filter((u) => u.step.startsWith('reproduce.')), 'the prompts that asked for the reproduction test, and the answers');
}

interface AttemptSummary {
  attempt: number;
  verified: boolean;
  failureReason: string | null;
  turns: number;
}

function writeAttempts(tree: ExportTree, sources: IncidentSources): AttemptSummary[] {
  const { run, ledger } = sources;
  const numbers = [...new Set(callsOf(run, 'beginFixAttempt').map((call) => Number(loose(call.input[0]).attempt)))];
  return numbers.map((n) => {
    const dir = `attempts/${n}`;
    const mine = (call: ActivityCall) => Number(loose(call.input[0]).attempt) === n;
    const brief = callsOf(run, 'beginFixAttempt').find(mine);
    tree.json(`${dir}/brief.json`, brief?.input[0] ?? null, "the attempt's brief: the triage, the reproduction, the earlier attempts' failures");
    const turns = callsOf(run, 'fixAgentTurn').filter(mine);
    const stored = sources.conversations.get(n) ?? [];
    if (stored.length > 0) writeTurns(tree, dir, stored);
    else {
      tree.missing(`${dir}/turns/: the conversation store holds no messages for attempt ${n}; ${dir}/turns.md lists what the history holds of its turns`);
    }
    tree.text(
      `${dir}/turns.md`,
      [`# Attempt ${n}: the turns as the workflow saw them`, '', table(['turn', 'tools asked', 'finished', 'summary'], turns.map((call) => {
        const r = loose(call.result);
        return [text(r.turn), ((r.toolNames as string[] | undefined) ?? []).join(', ') || '(none)', r.finished ? 'yes' : '', text(r.summary)];
      })), '', stored.length > 0 ? 'Each message, with the tool calls and their results, is in `turns/`.' : 'The messages themselves were not found in the conversation store.'].join('\n'),
      "the agent's turns as the history holds them: tools asked and summaries",
    );
    const systemPrompt = ledger.modelUsage.find((u) => u.step.startsWith(`fix.attempt-${n}.`) && u.exchange);
    if (systemPrompt) tree.text(`${dir}/system-prompt.md`, `# The fix agent's system prompt (step ${systemPrompt.step})\n\n${fenced(systemPrompt.exchange!.system)}`, "the fix agent's system prompt");
    else if (turns.length > 0) tree.missing(`${dir}/system-prompt.md: the fix agent's system prompt was not kept for attempt ${n}`);

    const verification = callsOf(run, 'verifyFixAttempt').find(mine);
    const ledgerRecord = ledger.fixAttempts.find((a) => a.attempt === n);
    // recordFixAttempt runs as a local activity now: its marker keeps no input, so what it sent is
    // the ledger's record (older histories still hold the input of the regular activity).
    const recorded = callsOf(run, 'recordFixAttempt').find((call) => !call.local && mine(call)) ?? (ledgerRecord ? { input: [ledgerRecord] } : undefined);
    const outcome = loose(verification?.result);
    const record = loose(recorded?.input[0]);
    const diff = text(outcome.diff ?? record.diff ?? ledgerRecord?.diff);
    if (diff) tree.text(`${dir}/diff.patch`, diff, "the attempt's change, as a unified diff against the deployed revision");
    const runs = (outcome.runs as { phase: string; evidence: ExecEvidence }[] | undefined) ?? (loose(record.evidence).runs as { phase: string; evidence: ExecEvidence }[] | undefined) ?? [];
    runs.forEach((r, i) => tree.text(`${dir}/verification/${pad(i + 1)}-${r.phase}.md`, evidenceMarkdown(`Verification run ${i + 1}: ${r.phase}`, r.evidence), 'one file per verification run: its command, exit code, time and output'));
    const review = callsOf(run, 'reviewFix').find(mine);
    if (review) {
      const answer = loose(review.result);
      tree.text(
        `${dir}/self-review.md`,
        [`# Self-review of attempt ${n}`, '', `Approved: ${answer.approve ? 'yes' : 'no'}`, '', text(answer.summary), '', ...(((answer.concerns as string[] | undefined) ?? []).map((c) => `- concern: ${c}`))].join('\n'),
        "the model's self-review of the verified change",
      );
      writePrompts(tree, `${dir}/self-review-prompt.md`, `Self-review of attempt ${n}: what the model was asked`, ledger.modelUsage.filter((u) => u.step === `review.attempt-${n}` || u.step.startsWith(`review.attempt-${n}.`)), 'the self-review prompt and answer');
    }
    const verified = recorded ? record.verified === true : outcome.verified === true;
    const failureReason = recorded ? (record.failureReason as string | null) : ((outcome.failureReason as string | null | undefined) ?? (verification ? null : 'the agent did not finish'));
    tree.text(
      `${dir}/README.md`,
      [
        `# Fix attempt ${n}: ${verified ? 'verified' : 'rejected'}`,
        '',
        failureReason ? `Why it was rejected: ${failureReason}` : 'It passed verification and the self-review.',
        '',
        `- turns: ${turns.length}; the agent's summary: ${text(outcome.summary ?? loose(record.evidence).summary, '(none)')}`,
        `- change: ${text(outcome.diffStat, diff ? '' : 'none')}`,
        ...(outcome.suiteExplanation ? [`- the suite: ${text(outcome.suiteExplanation)}`] : []),
        ...(((outcome.flakyTests as string[] | undefined) ?? []).length > 0 ? [`- flaky tests: ${(outcome.flakyTests as string[]).join(', ')}`] : []),
        '',
        runs.length > 0
          ? table(['verification run', 'command', 'exit', 'time'], runs.map((r) => [r.phase, `\`${r.evidence.command}\``, r.evidence.timedOut ? 'timeout' : String(r.evidence.exitCode), `${(r.evidence.durationMs / 1000).toFixed(1)} s`]))
          : 'No verification ran.',
      ].join('\n'),
      `attempt ${n}: verified or why not, the change and its verification runs`,
    );
    return { attempt: n, verified, failureReason, turns: turns.length };
  });
}

function writeApproval(tree: ExportTree, run: RunHistory, decision: DecisionRecord | null): void {
  const asked = run.signals.filter((s) => s.name === 'approve' || s.name === 'reject');
  const recorded = callsOf(run, 'recordDecision');
  if (asked.length === 0 && recorded.length === 0 && !decision) return;
  const stands = loose(recorded.at(-1)?.input[0] ?? decision);
  tree.text(
    'approval.md',
    [
      '# The approval decision',
      '',
      stands.decision ? `**${text(stands.decision)}** by ${text(stands.by)} at ${text(stands.at)}: ${text(stands.reason)}` : 'No decision was recorded.',
      '',
      '## Every decision sent (the first one taken while the incident waited stands)',
      '',
      ...(asked.length === 0 ? ['None.'] : asked.map((s) => `- \`${s.at}\` ${s.name} by ${text(loose(s.input[0]).by)}: ${text(loose(s.input[0]).reason)}`)),
      '',
      decision ? `The ledger keeps it with the proposed diff (table \`approval_decisions\`): ${decision.decision} by ${decision.by}.` : '',
    ].join('\n'),
    'the approval decision: who, when, why, and every decision sent',
  );
}

function writePullRequest(tree: ExportTree, sources: IncidentSources): void {
  const call = callsOf(sources.run, 'openPullRequest').at(-1);
  if (!call) return;
  const opened = loose(call.result);
  const content = loose(call.input[0]).content as PullRequestContent | undefined;
  tree.json('pull-request.json', { opened: call.result, request: call.input[0] }, 'the pull request opened (number, URL, branch) and what it was opened with');
  let title: string;
  let body: string;
  let source: string;
  if (sources.pullRequest) {
    ({ title, body, source } = sources.pullRequest);
  } else if (content) {
    title = pullRequestTitle(content);
    body = pullRequestBody(content);
    source = `rendered at export time from the recorded request by today's domain/pull-request-body.ts; the code host's copy was not read${sources.pullRequestNote ? ` (${sources.pullRequestNote})` : ''}`;
    tree.missing(`pull-request.md: the body as the code host holds it${sources.pullRequestNote ? ` (${sources.pullRequestNote})` : ''}; it is rendered from the recorded request instead`);
  } else return;
  tree.text('pull-request.md', [`# PR #${text(opened.number)}: ${title}`, '', `${text(opened.url)} (branch \`${text(opened.branch)}\`). Source of the body: ${source}.`, '', '---', '', body].join('\n'), 'the pull request: its title and body');
}

function writeReadme(tree: ExportTree, sources: IncidentSources, attempts: AttemptSummary[]): void {
  const { run, ledger } = sources;
  const alert = loose(loose(run.input[0]).alert);
  const result = loose(run.result);
  const triage = loose(callsOf(run, 'triageAlert')[0]?.result ?? ledger.incident?.state.triage);
  const pr = loose(callsOf(run, 'openPullRequest').at(-1)?.result);
  const spend = loose(callsOf(run, 'incidentSpend').at(-1)?.result);
  const status = text(result.status, ledger.incident?.status ?? run.status);
  const ended = run.closedAt ? `${run.status} at ${run.closedAt}` : `still running at export time (${sources.exportedAt})`;
  const rows: string[][] = [
    ['alert', text(alert.title)],
    ['monitor', text(alert.monitorId)],
    ['service', text(alert.service, 'unknown')],
    ['deployed revision', text(alert.deployedRevision, 'not given')],
    ['first delivery', run.signals.find((s) => s.name === 'alertDelivered')?.at ?? run.startedAt],
    ['deliveries', String(run.signals.filter((s) => s.name === 'alertDelivered').length)],
    ['workflow', `${run.workflowId} (run ${run.runId}), ${ended}`],
    ['status', status],
    ['outcome', text(result.outcome ?? run.failure ?? ledger.incident?.state.outcome, '(none yet)')],
    ['triage', triage.verdict ? `${text(triage.verdict)}, ${text(triage.severity)}, confidence ${text(triage.confidence)}` : 'none'],
    ['fix attempts', attempts.length === 0 ? 'none' : attempts.map((a) => `#${a.attempt} ${a.verified ? 'verified' : `rejected (${a.failureReason ?? 'no reason'})`}`).join('; ')],
    ['pull request', pr.url ? `#${text(pr.number)} ${text(pr.url)}` : 'none'],
    ['model calls', spend.calls !== undefined ? `${text(spend.calls)} calls, $${text(spend.costUsd)}` : `${ledger.modelUsage.length} calls in the ledger`],
  ];
  const readme = [
    `# Incident ${run.workflowId}`,
    '',
    `${text(alert.title)}: ${ended.startsWith('still') ? 'still running' : `ended **${status}**`}. ${text(result.outcome ?? run.failure)}`,
    '',
    table(['', ''], rows),
    '',
    '## What is where',
    '',
    '- `README.md`: this file',
    indexOf(tree),
    '',
    ...notKeptSection(tree),
    '',
    '## Where it comes from',
    '',
    `- the workflow history (${run.eventCount} events; ${run.offloadedPayloads} payloads held as references were read back from Steward's payload store);`,
    `- the ledger in Postgres: ${ledger.incident ? 'the incident row, ' : ''}${ledger.events.length} events, ${ledger.fixAttempts.length} fix attempts, ${ledger.decision ? 'the decision, ' : ''}${ledger.modelUsage.length} model calls;`,
    `- the conversation store: ${[...sources.conversations.values()].reduce((n, m) => n + m.length, 0)} messages over ${[...sources.conversations.values()].filter((m) => m.length > 0).length} attempts;`,
    `- the code host, for the PR body${sources.pullRequest ? '' : ' (not read)'}; the monitor platform, for the monitor${sources.monitor && 'monitor' in sources.monitor ? '' : ' (not read)'}.`,
    '',
    `Exported by \`steward export\` at ${sources.exportedAt}.`,
  ].join('\n');
  tree.prepend('README.md', readme, 'what the incident was, how it ended, and this index');
}
