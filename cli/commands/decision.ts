import type { Command } from 'commander';
import { z } from 'zod';
import { decideOnFix, type FixDecision } from '../../use-cases/decide-on-fix.use-case';
import { validated, type CliCommand, type ParseDefaults, type PlannedCommand } from '../command';
import { globalDecisionOption } from '../global-options';
import { TEMPORAL_CALL_TIMEOUT_MS, withIncident } from '../incident-session';

/**
 * `steward approve` and `steward reject`: a decision at an incident's approval gate, through the
 * same use case as Slack's buttons and the HTTP edge, so it means the same from every door.
 */

export interface DecisionRequest {
  command: FixDecision;
  incidentId: string;
  decision: { by: string; reason: string };
}

export const IncidentId = z.string().regex(/^\S+$/, 'the incident id must not contain spaces');
const Actor = z.string().trim().min(1, '--by must not be empty');
const Reason = z.string().trim().min(1, '--reason must not be empty');

const DecisionArgs = {
  approve: z.object({ incidentId: IncidentId, by: Actor, reason: Reason.default('approved from the CLI') }),
  reject: z.object({ incidentId: IncidentId, by: Actor, reason: z.string({ error: 'reject requires --reason TEXT' }).trim().min(1, '--reason must not be empty') }),
};

const DESCRIPTIONS: Record<FixDecision, { summary: string; reason: string }> = {
  approve: { summary: "approve the incident's fix at its approval gate: Steward opens the pull request", reason: 'why (default: "approved from the CLI")' },
  reject: { summary: "reject the incident's fix at its approval gate, saying why", reason: 'why the fix is wrong (required)' },
};

export function decisionCommand(decision: FixDecision): CliCommand {
  return {
    register(parent: Command, accept: (planned: PlannedCommand) => void, defaults: ParseDefaults) {
      parent
        .command(decision)
        .description(DESCRIPTIONS[decision].summary)
        .argument('<incidentId>', 'the workflow id, e.g. incident-123-...')
        .option('--by <name>', 'who decides (default: cli:$USER)')
        .option('--reason <text>', DESCRIPTIONS[decision].reason)
        .action((incidentId: string, options: { by?: string; reason?: string }, command: Command) => {
          const by = options.by ?? globalDecisionOption(command, 'by');
          const reason = options.reason ?? globalDecisionOption(command, 'reason');
          const args = validated(command, DecisionArgs[decision], { incidentId, by: by ?? defaults.defaultActor(), reason });
          const request: DecisionRequest = { command: decision, incidentId: args.incidentId, decision: { by: args.by, reason: args.reason } };
          accept({
            request,
            run: (context) =>
              withIncident(context, { command: decision, incidentId: request.incidentId, kind: 'signal' }, async (client) => {
                await decideOnFix(client, { incidentId: request.incidentId, decision, ...request.decision }, { timeoutMs: TEMPORAL_CALL_TIMEOUT_MS });
                context.io.out(`${decision === 'approve' ? 'Approved' : 'Rejected'} ${request.incidentId} as ${request.decision.by}: ${request.decision.reason}`);
              }),
          });
        });
    },
  };
}

