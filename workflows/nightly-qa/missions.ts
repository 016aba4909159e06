import { ChildWorkflowFailure, executeChild, log, ParentClosePolicy } from '@temporalio/workflow';
import { QA_MISSION_WORKFLOW_TYPE, qaMissionWorkflowId, type QaMissionOutcome, type QaMissionWorkflowInput } from '../../contracts';
import { findingSignature } from '../../domain/nightly-qa/finding-signature';
import type { QaMissionPlan } from '../../domain/nightly-qa/mission';
import type { NightPlan } from '../../domain/nightly-qa/planner';
import type { QaFinding } from '../../domain/nightly-qa/report';
import type { QaMissionStatus } from '../../ports/qa-ledger.port';
import { call } from '../incident/activity-proxies';
import type { MissionResult, NightRun } from './night-run';

type QaMissionWorkflow = (input: QaMissionWorkflowInput) => Promise<QaMissionOutcome>;

/**
 * Tonight's missions, one child workflow after another in the plan's order, while the night's
 * remaining budget covers the next mission's; the rest are recorded as skipped for the budget,
 * and the plan's candidates past the mission limit as skipped for the limit. A mission that fails
 * is recorded failed and the night goes on: one broken probe must not cost the others their night.
 * Sequential on purpose: the budget check needs the spend of the missions before.
 */
export async function runMissions(run: NightRun, revision: string, plan: NightPlan): Promise<MissionResult[]> {
  let spentUsd = 0;
  let budgetStopped = false;
  for (const mission of plan.missions) {
    const remainingUsd = run.input.policy.budgetUsd - spentUsd;
    if (budgetStopped || remainingUsd < mission.budgetUsd) {
      budgetStopped = true;
      await record(run, skipped(mission, 'skipped-budget', `the night's remaining $${Math.max(0, remainingUsd).toFixed(2)} does not cover the mission's $${mission.budgetUsd.toFixed(2)}`));
      continue;
    }
    const result = await runMission(run, revision, mission);
    // A failed mission's spend is not known here (its agent's calls are metered under its own id):
    // the budget counts its whole allowance, so that the night never overspends by guessing low.
    spentUsd += result.status === 'failed' ? mission.budgetUsd : result.costUsd;
    await record(run, result);
  }
  for (const mission of plan.overLimit) await record(run, skipped(mission, 'skipped-limit', `past the night's limit of ${run.input.policy.maxMissions} mission(s)`));
  return run.missions;
}

async function runMission(run: NightRun, revision: string, mission: QaMissionPlan): Promise<MissionResult> {
  const workflowId = qaMissionWorkflowId(run.nightId, mission.id);
  try {
    const outcome = await executeChild<QaMissionWorkflow>(QA_MISSION_WORKFLOW_TYPE, {
      workflowId,
      args: [{ nightWorkflowId: run.nightId, service: run.input.service, night: run.night, revision, mission, incidentPolicy: run.input.incidentPolicy }],
      // A mission is part of its night: a night terminated or timed out takes its running mission with it.
      parentClosePolicy: ParentClosePolicy.TERMINATE,
      staticSummary: `QA mission ${mission.id}`.slice(0, 200),
      staticDetails: `${mission.kind} mission of the night \`${run.nightId}\`: ${mission.reason}`,
    });
    const proven = outcome.findings.map((f) => ({
      // One object for the record and the incident it opens: what the incident adds (its id, its PR) shows in both.
      finding: {
        missionId: mission.id,
        signature: findingSignature(run.input.service, f.expectedFailure),
        title: f.title,
        testPath: f.testPath,
        expectedFailure: f.expectedFailure,
        incidentId: null,
        pullRequestUrl: null,
        duplicateOf: null,
      } as QaFinding,
      testSource: f.testSource,
      command: f.command,
      detail: f.detail,
    }));
    return {
      plan: mission,
      status: 'done',
      note: `ended: ${outcome.endedBecause}`,
      areas: [...new Set([...mission.areas, ...outcome.areasCovered])].sort(),
      filesRead: outcome.filesRead,
      commandsRun: outcome.commandsRun,
      testsWritten: outcome.testsWritten,
      findings: proven.map((p) => p.finding),
      leads: outcome.leads,
      costUsd: outcome.costUsd,
      turns: outcome.turns,
      proven,
      recordedAt: null,
    };
  } catch (error) {
    if (!(error instanceof ChildWorkflowFailure)) throw error;
    const why = error.cause?.message ?? error.message;
    log.warn('A QA mission failed; the night goes on without it', { nightId: run.nightId, missionId: mission.id, workflowId, error: why });
    run.note(`Mission \`${mission.id}\` failed: ${why}`);
    return skipped(mission, 'failed', why);
  }
}

function skipped(mission: QaMissionPlan, status: QaMissionStatus, note: string): MissionResult {
  // A skipped or failed mission covered nothing: the planner must not count its areas as explored.
  return { plan: mission, status, note, areas: status === 'failed' ? [] : mission.areas, filesRead: [], commandsRun: [], testsWritten: [], findings: [], leads: [], costUsd: 0, turns: 0, proven: [], recordedAt: null };
}

/** Writes (or, after the findings' incidents, rewrites) one mission's record in the ledger. */
export async function record(run: NightRun, result: MissionResult, options: { rewrite?: boolean } = {}): Promise<void> {
  await call(run.activities.recordMission, `Record mission ${result.plan.id} (${result.status})`, {
    nightId: run.nightId,
    missionId: result.plan.id,
    service: run.input.service,
    kind: result.plan.kind,
    reason: result.plan.reason,
    status: result.status,
    areas: result.areas,
    filesRead: result.filesRead,
    commandsRun: result.commandsRun,
    testsWritten: result.testsWritten,
    findings: result.findings,
    leads: result.leads,
    costUsd: result.costUsd,
    turns: result.turns,
    // The first write's time, kept by the rewrite: the planner reads it as when the areas were explored.
    recordedAt: (result.recordedAt ??= new Date().toISOString()),
  });
  if (!options.rewrite) run.missionEnded(result);
}
