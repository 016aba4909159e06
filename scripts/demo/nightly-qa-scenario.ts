import * as path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { incidentStateQuery, qaMissionWorkflowId, qaNightStateQuery, type QaMissionOutcome, type QaNightState } from '../../contracts';
import { PROJECT_ROOT } from '../../config/config';
import type { IncidentState } from '../../domain/incident';
import { renderMorningReport, type MorningReport, type QaFinding } from '../../domain/nightly-qa/report';
import { NIGHTLY_QA_TRANSCRIPT_PATH } from '../../infra/demo-fixtures';
import { nightlyQaScheduleTrigger } from '../../infra/nightly-qa-schedule';
import { decideOnFix } from '../../use-cases/decide-on-fix.use-case';
import { runNightlyQaNow } from '../../use-cases/nightly-qa.use-case';
import type { RunningSteward } from '../../workers/start-steward';
import type { Say } from './follow-deploy-watch';

/**
 * `npm run demo -- --scenario nightly-qa`: one night of QA on the demo service, triggered through
 * its real schedule (`steward-nightly-qa@checkout-service`, as `steward qa run-now` does), then a
 * second night right after it. The first night's sanity mission proves the latent coupon bug no
 * alert covers (FIRSTORDER, once per customer, redeemed again as `firstorder`) with a test that
 * fails twice; its incident skips triage, reproduces with that test, fixes and opens a PR on the
 * local git host. The second night sees the first in the QA ledger and runs other missions, and
 * says why it did not run last night's again. The model is the recorded transcript
 * demo/nightly-qa.transcript.json for both nights and the fix (scripts/demo.ts sets it).
 */

const SERVICE = 'checkout-service';
/** A night of six scripted missions in sandboxes, and its finding's fix, take a minute or two; this is the outer bound. */
const NIGHT_DEADLINE_MS = 6 * 60_000;
/** How long a fix that stopped at the approval gate (a stricter STEWARD_APPROVAL_MIN_SEVERITY) gets to reach its PR once approved. */
const PR_AFTER_APPROVAL_MS = 3 * 60_000;
const POLL_MS = 500;

export interface NightlyQaScenarioResult {
  /** True when night 1 had a finding with a PR and night 2 ran missions, none of them night 1's. */
  proven: boolean;
  /** Why not, when it is not. */
  problem: string | null;
}

interface FollowedNight {
  nightId: string;
  report: MorningReport;
  state: QaNightState;
}

/** The recorded transcript as the output names it: a path under the project, not the machine's. */
export function nightlyQaTranscriptLabel(transcriptPath: string): string {
  const shown = path.relative(PROJECT_ROOT, transcriptPath);
  return transcriptPath === NIGHTLY_QA_TRANSCRIPT_PATH ? `the recorded transcript ${shown} (scripted answers, not a live model)` : `the transcript ${shown} (STEWARD_MODEL_TRANSCRIPT)`;
}

/** Triggers the service's nightly schedule, as `steward qa run-now` does, and names the night it started. */
async function triggerNight(client: Client, say: Say, which: string): Promise<string | null> {
  const result = await runNightlyQaNow(nightlyQaScheduleTrigger(client), SERVICE);
  switch (result.outcome) {
    case 'no-schedule':
      say(`no schedule ${result.scheduleId}: the incident worker creates it at its start, and it did not`);
      return null;
    case 'not-started':
      say(`${result.scheduleId} was triggered but started no night: overlap is SKIP, and ${result.running ?? 'a night'} still runs`);
      return null;
    case 'started':
      say(`${which}: triggered schedule ${result.scheduleId} (as \`npx steward qa run-now ${SERVICE}\` does), which started ${result.workflowId}${result.paused ? '; the schedule itself stays paused, as the services file has it (the transcript holds two nights, not one at every 02:00)' : ''}`);
      return result.workflowId;
  }
}

/** The night's progress since the last poll, one line per change: its plan, each mission as it ends, its findings. */
function describeNight(state: QaNightState, seen: Set<string>): string[] {
  const lines: string[] = [];
  const note = (key: string, line: string): void => {
    if (!seen.has(key)) {
      seen.add(key);
      lines.push(line);
    }
  };
  if (state.planned.length > 0) {
    note('plan', `planned ${state.planned.length} mission(s) for the night of ${state.night}:`);
    for (const m of state.planned) note(`plan:${m.id}`, `  ${m.id} (${m.kind}, ${m.maxTurns} turns, $${m.budgetUsd.toFixed(2)}): ${m.reason}`);
  }
  for (const id of state.missionsRun) note(`ran:${id}`, `mission ${id} ran (${state.missionsRun.length} of ${state.planned.length}; the night so far: ${state.findings} finding(s), ${state.leads} lead(s), $${state.costUsd.toFixed(2)})`);
  for (const id of state.missionsSkipped) note(`skipped:${id}`, `mission ${id} skipped`);
  if (state.findings > 0) note(`findings:${state.findings}`, `findings proven so far: ${state.findings}`);
  note(`status:${state.status}`, `night step: ${state.status.replace(/-/g, ' ')}`);
  return lines;
}

/** Follows a night by its `qaNightState` query until it returns its morning report, or the deadline passes. */
async function followNight(client: Client, nightId: string, say: Say): Promise<FollowedNight | null> {
  const handle = client.workflow.getHandle(nightId);
  let ended: { report: MorningReport } | { failure: Error } | null = null;
  const result = (handle.result() as Promise<MorningReport>).then(
    (report) => (ended = { report }),
    (failure: Error) => (ended = { failure }),
  );
  const seen = new Set<string>();
  let state: QaNightState | null = null;
  const deadline = Date.now() + NIGHT_DEADLINE_MS;
  while (!ended && Date.now() < deadline) {
    state = await handle.query(qaNightStateQuery).catch(() => state);
    if (state) for (const line of describeNight(state, seen)) say(line);
    await Promise.race([result, new Promise((r) => setTimeout(r, POLL_MS))]);
  }
  const settled = ended as { report: MorningReport } | { failure: Error } | null;
  if (!settled) {
    say(`the night ${nightId} did not end within ${NIGHT_DEADLINE_MS / 60_000} minutes`);
    return null;
  }
  if ('failure' in settled) {
    const cause = settled.failure.cause;
    say(`the night ${nightId} failed: ${settled.failure.message}${cause instanceof Error ? `: ${cause.message}` : ''}`);
    return null;
  }
  state = await handle.query(qaNightStateQuery);
  for (const line of describeNight(state, seen)) say(line);
  return { nightId, report: settled.report, state };
}

/**
 * The finding's incident's state once it has its PR. At the demo's severity (a finding is P2, under
 * the default gate of P1) the PR opens without a human; with a stricter gate the night reports the
 * fix waiting for approval, and the demo approves it as the on-call would.
 */
async function incidentWithPullRequest(client: Client, finding: QaFinding, say: Say): Promise<IncidentState | null> {
  const handle: WorkflowHandle = client.workflow.getHandle(finding.incidentId!);
  let state = await handle.query(incidentStateQuery);
  if (state.status === 'awaiting_approval') {
    say(`the fix waits at the approval gate (${state.severity}); approving it as the on-call would with Slack's button or \`npx steward approve ${finding.incidentId}\``);
    await decideOnFix(client.workflow, { incidentId: finding.incidentId!, decision: 'approve', by: 'demo on-call', reason: 'approved by the demo' }, { timeoutMs: 30_000 });
    const deadline = Date.now() + PR_AFTER_APPROVAL_MS;
    while (!state.pullRequest && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      state = await handle.query(incidentStateQuery);
    }
  }
  return state.pullRequest ? state : null;
}

/** One line per mission the night ran: how it ended (its own `finish`, the turn limit or the budget) and after how many turns. */
async function missionEndings(client: Client, night: FollowedNight): Promise<string[]> {
  const lines: string[] = [];
  for (const m of night.report.missionsRun) {
    const outcome = await (client.workflow.getHandle(qaMissionWorkflowId(night.nightId, m.id)).result() as Promise<QaMissionOutcome>).catch((error: Error) => error);
    if (outcome instanceof Error) {
      lines.push(`  ${m.id} failed: ${outcome.cause instanceof Error ? outcome.cause.message : outcome.message}`);
      continue;
    }
    const how = outcome.endedBecause === 'finished' ? 'on its own `finish`' : outcome.endedBecause === 'turn-limit' ? 'at its turn limit' : 'with its budget spent';
    lines.push(`  ${m.id} ended ${how} after ${outcome.turns} turn(s): ${outcome.findings.length} finding(s), ${outcome.leads.length} lead(s)`);
  }
  return lines;
}

/** The files a unified diff touches, in order. */
function filesOf(diff: string): string[] {
  return [...diff.matchAll(/^diff --git a\/(\S+) b\//gm)].map((m) => m[1]!);
}

export async function runNightlyQaScenario(steward: RunningSteward, client: Client, say: Say): Promise<NightlyQaScenarioResult> {
  const failed = (problem: string): NightlyQaScenarioResult => {
    say(`the scenario did not prove its point: ${problem}`);
    return { proven: false, problem };
  };
  const model = steward.config.model;
  say(`the nights' model, and the finding's fix: ${model.provider === 'replay' ? nightlyQaTranscriptLabel(model.transcriptPath) : `${model.provider}, a live model (the scenario was written for the recorded transcript)`}`);
  say(`the latent bug no alert covers: FIRSTORDER is once per customer, but src/coupons.js lets it be redeemed again as \`firstorder\``);

  const firstId = await triggerNight(client, say, 'night 1');
  if (!firstId) return failed('the first night did not start');
  const first = await followNight(client, firstId, say);
  if (!first) return failed('the first night did not end with a morning report');
  say('the morning report:');
  for (const line of renderMorningReport(first.report).split('\n')) say(`  ${line}`);

  const finding = first.report.findings.find((f) => f.duplicateOf === null && f.incidentId !== null);
  const known = first.report.findings.find((f) => f.duplicateOf !== null);
  if (!finding) return failed(known ? `the night's finding was already known as ${known.duplicateOf} (an earlier run's incident: delete data/ to start over)` : 'the first night reported no new finding');
  say(`finding "${finding.title}" (${finding.testPath}, signature ${finding.signature}) by mission ${finding.missionId}: incident ${finding.incidentId}`);
  const incident = await incidentWithPullRequest(client, finding, say);
  if (!incident?.pullRequest) return failed(`the finding's incident ${finding.incidentId} has no PR`);
  if (incident.reproduction) say(`the incident skipped triage and reproduced with the finding's test ${incident.reproduction.testPath ?? incident.reproduction.command}: ${incident.reproduction.match}`);
  for (const a of incident.attempts) say(`fix attempt ${a.attempt}: ${a.verified ? `verified (${a.diffStat})` : `rejected: ${a.failureReason}`}`);
  const pr = incident.pullRequest;
  const record = await steward.inspect.localPullRequest(pr.number);
  if (!record) return failed(`PR #${pr.number} is not in the local git host`);
  const repository = steward.config.services[SERVICE]!.repository;
  say(`the PR is local record #${pr.number} (${pr.url}), branch ${pr.branch} in ${repository}`);
  say(`  see the change: git -C ${repository} diff main ${pr.branch}`);
  say(`the PR: "${record.title}"${record.draft ? ' (draft)' : ''}, files changed: ${filesOf(record.diff).join(', ')}; its diff:`);
  for (const line of record.diff.split('\n')) say(`  ${line}`);

  // Right after it: the ledger holds night 1's missions, and what each read, as the next night's history.
  const secondId = await triggerNight(client, say, 'night 2, right after');
  if (!secondId) return failed('the second night did not start');
  const second = await followNight(client, secondId, say);
  if (!second) return failed('the second night did not end with a morning report');
  say("night 2's morning report:");
  for (const line of renderMorningReport(second.report).split('\n')) say(`  ${line}`);

  const firstMissions = first.report.missionsRun.map((m) => m.id);
  const secondMissions = second.report.missionsRun.map((m) => m.id);
  say(`night 1 ran: ${firstMissions.join(', ')}`);
  say(`night 2 ran: ${secondMissions.join(', ') || 'nothing'}`);
  for (const m of second.state.planned) say(`  ${m.id}: ${m.reason}`);
  // How each of night 2's missions ended, from its own workflow: the transcript holds both nights' turns, each script ending in `finish`.
  say("how night 2's missions ended:");
  for (const line of await missionEndings(client, second)) say(line);
  say('not run again from last night:');
  for (const n of second.report.notRepeated ?? []) say(`  ${n.id}: ${n.why}`);

  const repeated = secondMissions.filter((id) => firstMissions.includes(id));
  if (secondMissions.length === 0) return failed('the second night ran no mission');
  if (repeated.length > 0) return failed(`the second night ran night 1's ${repeated.join(', ')} again`);
  say(`proven: night 1's finding has PR ${pr.url}, and night 2 ran ${secondMissions.length} other mission(s)`);
  return { proven: true, problem: null };
}
