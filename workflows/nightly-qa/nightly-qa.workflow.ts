import { isCancellation, log } from '@temporalio/workflow';
import type { NightlyQaWorkflowInput } from '../../contracts';
import type { MorningReport } from '../../domain/nightly-qa/report';
import { openFindings } from './findings';
import { runMissions } from './missions';
import { recordFailedNight, reportMorning } from './morning-report';
import { startNightRun } from './night-run';
import { planTonight, type TonightsPlan } from './planning';

export type { MorningReport };

/**
 * One night of QA for one service, started by its schedule (or `steward qa run-now`): missions
 * chosen from what the QA ledger remembers rather than wandered into, each a child workflow with
 * its own budget; every bug a mission proved with a failing test becomes an incident of its own,
 * unless it is already known; and one morning report. This file is the story; the steps live in
 * the modules beside it.
 */
export async function nightlyQaWorkflow(input: NightlyQaWorkflowInput): Promise<MorningReport> {
  const run = startNightRun(input);
  let tonight: TonightsPlan | null = null;
  try {
    tonight = await planTonight(run);

    run.setStatus('running-missions');
    const missions = await runMissions(run, tonight.revision, tonight.plan);
    await openFindings(run, missions);

    const report = await reportMorning(run, tonight);
    run.setStatus('done');
    return report;
  } catch (error) {
    if (isCancellation(error)) throw error;
    // The night's own failure is what the run ends with; a ledger that cannot take the failed record either only adds a warning.
    await recordFailedNight(run, tonight).catch((recordError: unknown) => log.warn('The failed night could not be kept in the QA ledger', { nightId: run.nightId, error: String(recordError) }));
    throw error;
  }
}
