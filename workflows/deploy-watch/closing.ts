import type { DeployVerdict } from '../../contracts';
import { call } from '../incident/activity-proxies';
import type { DeployWatchRun } from './watch-run';

export interface DeployWatchOutcome {
  watchId: string;
  verdict: DeployVerdict;
  /** How the watch ended, beside the verdict: e.g. clean, flagged, fixing_forward, rolled_back. */
  ending: string;
  outcome: string;
  flagged: string[];
  incidentId: string | null;
}

/** Ends the watch: its verdict on the deploy's record, and its state closed with the outcome shown. */
export async function closeWatch(run: DeployWatchRun, ending: string, outcome: string): Promise<DeployWatchOutcome> {
  await call(run.activities.quick.setDeployVerdict, `Record verdict ${run.state.verdict} on the deploy`, { watchId: run.watchId, verdict: run.state.verdict });
  run.notes.push(outcome);
  run.setStatus('closed');
  return { watchId: run.watchId, verdict: run.state.verdict, ending, outcome, flagged: run.state.flagged.map((f) => f.signature), incidentId: run.state.incidentId };
}
