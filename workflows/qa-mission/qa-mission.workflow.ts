import { log, setCurrentDetails, workflowInfo } from '@temporalio/workflow';
import type { QaMissionOutcome, QaMissionWorkflowInput } from '../../contracts';
import { sandboxHostsFor } from '../incident/sandbox-hosts';
import { describeMission } from './mission-details';

/**
 * One mission of a night: the agent explores the service in a sandbox, on the sandbox host that
 * holds it (claimed as an incident's is), and answers what it proved, what it only suspects and
 * what it read, ran and wrote. The night records it and opens the findings; this workflow only
 * runs the agent, so that each mission has its own history, budget and place in the Web UI.
 */
export async function qaMissionWorkflow(input: QaMissionWorkflowInput): Promise<QaMissionOutcome> {
  const missionWorkflowId = workflowInfo().workflowId;
  setCurrentDetails(describeMission(input, null));
  // A mission has no incident ledger of its own: the host claims and losses go to the worker's log.
  const hosts = sandboxHostsFor({ incidentId: missionWorkflowId, policy: input.incidentPolicy, recordEvent: (kind, data) => log.info(`QA mission ${kind}`, { missionWorkflowId, ...data }) });
  const outcome = await hosts.call('sandbox', 'runQaMission', `Run the QA agent on ${input.mission.id}`, {
    missionWorkflowId,
    service: input.service,
    revision: input.revision,
    mission: input.mission,
  });
  setCurrentDetails(describeMission(input, outcome));
  return outcome;
}
