import type { temporal } from '@temporalio/proto';
import type { SignatureEvidenceView } from '../../contracts';
import type { LedgerEvent, ModelUsageEntry } from '../../ports/incident-ledger.port';
import { ExportTree, pad, table } from './export-tree';
import type { RunHistory } from './run-history';
import { callsOf, indexOf, loose, notKeptSection, text, writeActivities, writeCost, writeNotifications, writePrompts, writeRawHistory, writeRunRecord, writeTimeline } from './run-sections';

/** What a deploy watch's export is made from; its child incident, when it has one, is exported beside it. */
export interface DeployWatchSources {
  run: RunHistory;
  history: temporal.api.history.v1.IHistory;
  /** The watch's model calls, which the ledger keys by the watch id. */
  modelUsage: ModelUsageEntry[];
  /** Notifications and the like the ledger keeps for the watch id. */
  ledgerEvents: LedgerEvent[];
  /** The child incident's tree, when it was started and its history could be read. */
  child: { incidentId: string; tree: ExportTree } | { incidentId: string; unreadable: string } | null;
  exportedAt: string;
}

function evidenceRows(evidence: SignatureEvidenceView[]): string[][] {
  return evidence.map((e) => [
    `\`${e.signature}\``,
    e.template.slice(0, 100),
    e.baselineCount.toFixed(1),
    e.afterCount.toFixed(1),
    e.ratio === null ? 'new' : `×${e.ratio.toFixed(2)}`,
    e.log10Evidence.toFixed(3),
    e.flaggedAt ?? '',
  ]);
}
const EVIDENCE_HEADER = ['signature', 'template', 'baseline count', 'after count', 'ratio', 'log10 evidence', 'flagged at'];

export function renderDeployWatchTree(sources: DeployWatchSources): ExportTree {
  const tree = new ExportTree();
  const { run } = sources;
  const input = loose(run.input[0]);
  writeRunRecord(tree, run, sources.exportedAt);
  writeTimeline(tree, run, sources.ledgerEvents);
  tree.json('deploy.json', input.deploy, 'the deploy watched (the workflow input)');
  tree.json('policy.json', input.policy, 'the watch policy: baseline, poll interval, horizon, false-alarm rate, response');
  const deliveries = run.signals.filter((s) => s.name === 'deployDelivered');
  if (deliveries.length > 0) tree.json('deliveries.json', deliveries.map((s) => ({ at: s.at, deploy: s.input[0] })), 'later deliveries of the same deploy, joined as signals');

  const baseline = callsOf(run, 'startWatchTest')[0];
  if (baseline) tree.json('baseline.json', { input: baseline.input[0], result: baseline.result }, 'the baseline: the error signatures counted over the days before the deploy');

  const polls = callsOf(run, 'pollWatchTest');
  const pollRows = polls.map((call) => {
    const look = loose(call.result);
    const index = Number(look.pollIndex ?? loose(call.input[0]).pollIndex);
    const top = (look.top as SignatureEvidenceView[] | undefined) ?? [];
    const newlyFlagged = (look.newlyFlagged as SignatureEvidenceView[] | undefined) ?? [];
    tree.text(
      `polls/${pad(index, 3)}.md`,
      [
        `# Poll ${index}: the live test at ${text(look.polledUntil, text(loose(call.input[0]).pollAt))}`,
        '',
        `Read at ${call.closedAt ?? call.scheduledAt}: ${text(look.examined)} signatures tested, ${text(look.logsRead)} error logs read of ${text(look.logsMatched)} matched.`,
        '',
        newlyFlagged.length > 0 ? `**Flagged at this poll:** ${newlyFlagged.map((f) => `\`${f.signature}\` ${f.template}`).join('; ')}` : 'Nothing flagged at this poll.',
        '',
        '## The strongest evidence',
        '',
        top.length > 0 ? table(EVIDENCE_HEADER, evidenceRows(top)) : 'No signature seen since the deploy.',
      ].join('\n'),
      "one file per poll of the live test: each signature's counts and evidence at that poll",
    );
    const strongest = top[0];
    return [String(index), text(look.polledUntil), text(look.examined), text(look.logsRead), newlyFlagged.map((f) => f.signature).join(', '), strongest ? `\`${strongest.signature}\` ${strongest.log10Evidence.toFixed(2)}` : ''];
  });
  if (polls.length > 0) {
    tree.text('polls/README.md', ['# The live test, poll by poll', '', table(['poll', 'window until', 'signatures', 'logs read', 'flagged', 'strongest (log10 evidence)'], pollRows), '', 'Each poll is in its own file, with the evidence of every signature it showed.'].join('\n'), 'the polls at a glance');
  }

  const samples = callsOf(run, 'flaggedSamples')[0];
  if (samples) tree.json('triage/samples.json', samples.result, 'a sample of each flagged error, with its stack');
  const triage = callsOf(run, 'triageDeploy')[0];
  if (triage) {
    tree.json('triage/input.json', triage.input[0], "the deploy triage's input: the revisions of the lookback and the flagged errors");
    tree.json('triage/answer.json', triage.result, "the deploy triage's answer: verdict, cited line, grounding");
    const prompts = sources.modelUsage.filter((u) => u.step.startsWith('triage.'));
    writePrompts(tree, 'triage/prompt.md', 'Deploy triage: what the model was asked and answered', prompts, 'the prompts sent to the model, and its answers, per call');
    if (prompts.length === 0) tree.missing('triage/prompt.md: the ledger holds no model call for this watch (a deploy with no runtime change is cleared by rules alone)');
  }
  const author = callsOf(run, 'findLineAuthor')[0];
  if (author) tree.json('reviewer.json', { line: author.input[0], author: author.result ?? author.failure }, "the cited line's author, asked to review");
  const rollback = run.activities.filter((call) => /rollback|revert/i.test(call.name));
  if (rollback.length > 0) tree.json('rollback.json', rollback.map((call) => ({ name: call.name, summary: call.summary, input: call.input[0], result: call.result, failure: call.failure })), 'the roll-back: the revert or hook prepared, and what was done');
  const decisions = run.signals.filter((s) => s.name === 'deployDecision');
  if (decisions.length > 0) {
    tree.text('decision.md', ['# Decisions on the deploy (the first one stands)', '', ...decisions.map((s) => `- \`${s.at}\` ${text(loose(s.input[0]).action)} by ${text(loose(s.input[0]).by)}: ${text(loose(s.input[0]).reason)}`)].join('\n'), "the person's decision on a roll-back or fix-forward");
  }
  writeNotifications(tree, run);
  writeCost(tree, sources.modelUsage, null);
  writeActivities(tree, run);
  writeRawHistory(tree, sources.history);

  if (sources.child && 'tree' in sources.child) tree.nest('incident', sources.child.tree);
  else if (sources.child) tree.missing(`incident/: the child incident ${sources.child.incidentId} was not exported: ${sources.child.unreadable}`);

  const result = loose(run.result);
  const deploy = loose(input.deploy);
  const flagged = polls.flatMap((call) => (loose(call.result).newlyFlagged as SignatureEvidenceView[] | undefined) ?? []);
  const ended = run.closedAt ? `${run.status} at ${run.closedAt}` : `still running at export time (${sources.exportedAt})`;
  const answer = loose(triage?.result);
  const readme = [
    `# Deploy watch ${run.workflowId}`,
    '',
    `The deploy of ${text(deploy.service)} at \`${text(deploy.revision)}\`: ${run.closedAt ? `verdict **${text(result.verdict, 'none')}**, ${text(result.ending)}` : 'still being watched'}. ${text(result.outcome ?? run.failure)}`,
    '',
    table(
      ['', ''],
      [
        ['service', text(deploy.service)],
        ['revision', text(deploy.revision)],
        ['previous revision', text(deploy.previousRevision, 'not given')],
        ['deployed at', text(deploy.deployedAt)],
        ['build', text(loose(deploy.build).status, 'not reported')],
        ['workflow', `${run.workflowId} (run ${run.runId}), ${ended}`],
        ['polls', `${polls.length}`],
        ['flagged', flagged.length === 0 ? 'none' : flagged.map((f) => `\`${f.signature}\` ${f.template}`).join('; ')],
        ['triage', answer.verdict ? `${text(answer.verdict)}, confidence ${text(answer.confidence)}` : 'none'],
        ['child incident', sources.child ? `${sources.child.incidentId}${'tree' in sources.child ? ' (in `incident/`)' : ''}` : 'none'],
        ['model calls', `${sources.modelUsage.length}`],
      ],
    ),
    '',
    '## What is where',
    '',
    '- `README.md`: this file',
    indexOf(tree).replace(/^- `incident\/.*$\n?/gm, ''),
    ...(sources.child && 'tree' in sources.child ? ['- `incident/`: the child incident, exported the same way (its own README.md)'] : []),
    '',
    ...notKeptSection(tree),
    '',
    `From the workflow history (${run.eventCount} events; ${run.offloadedPayloads} payloads read back from the payload store) and the ledger (${sources.modelUsage.length} model calls). Exported by \`steward export\` at ${sources.exportedAt}.`,
  ].join('\n');
  tree.prepend('README.md', readme, 'what the deploy watch found, how it ended, and this index');
  return tree;
}
