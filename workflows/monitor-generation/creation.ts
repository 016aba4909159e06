import { call } from '../incident/activity-proxies';
import type { GenerationRun } from './generation-run';
import { originOf, type ValidProposal } from './proposals';

/** Each chosen monitor is created on the monitor platform and recorded in the registry with the change that caused it; a retried create finds the one it made. */
export async function createMonitors(run: GenerationRun, chosen: ValidProposal[]): Promise<void> {
  if (chosen.length === 0) return;
  run.setStatus('creating');
  for (const candidate of chosen) {
    const created = await call(run.activities.quick.createGeneratedMonitor, `Create "${candidate.proposal.name}"`, {
      generationId: run.generationId,
      service: candidate.service,
      candidate,
      origin: originOf(run),
      webhookHandle: run.input.policy.webhookHandle,
    });
    run.created(created);
  }
}
