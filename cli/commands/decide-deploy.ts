import type { Command } from 'commander';
import { z } from 'zod';
import type { DeployDecisionAction } from '../../contracts';
import { decideOnDeploy } from '../../use-cases/decide-on-deploy.use-case';
import { validated, type CliCommand, type ParseDefaults, type PlannedCommand } from '../command';
import { globalDecisionOption } from '../global-options';
import { TEMPORAL_CALL_TIMEOUT_MS, withIncident } from '../incident-session';

/**
 * `steward decide-deploy <watchId> roll-back|fix-forward|dismiss [--by NAME] [--reason TEXT]`: what
 * to do about a regression the deploy watch pinned on a deploy, through the same use case as
 * Slack's Roll back / Fix forward / Dismiss buttons.
 */

const CHOICES = { 'roll-back': 'rollBack', 'fix-forward': 'fixForward', dismiss: 'reject' } as const satisfies Record<string, DeployDecisionAction>;
type Choice = keyof typeof CHOICES;

export interface DeployDecisionRequest {
  command: 'decide-deploy';
  watchId: string;
  action: DeployDecisionAction;
  decision: { by: string; reason: string };
}

const Args = z.object({
  watchId: z.string().regex(/^\S+$/, 'the watch id must not contain spaces'),
  choice: z.enum(Object.keys(CHOICES) as [Choice, ...Choice[]], { error: 'the decision is roll-back, fix-forward or dismiss' }),
  by: z.string().trim().min(1, '--by must not be empty'),
  reason: z.string().trim().min(1, '--reason must not be empty').optional(),
});

const DONE: Record<Choice, string> = { 'roll-back': 'Rolling back', 'fix-forward': 'Fixing forward', dismiss: 'Dismissed' };

export const decideDeployCommand: CliCommand = {
  register(parent: Command, accept: (planned: PlannedCommand) => void, defaults: ParseDefaults) {
    parent
      .command('decide-deploy')
      .description("decide on a regression the deploy watch pinned on a deploy: roll it back, fix it forward, or dismiss it")
      .argument('<watchId>', 'the watch id, e.g. deploy-checkout-service-<sha>')
      .argument('<decision>', 'roll-back, fix-forward or dismiss')
      .option('--by <name>', 'who decides (default: cli:$USER)')
      .option('--reason <text>', 'why (default: "<decision> from the CLI")')
      .action((watchId: string, choice: string, options: { by?: string; reason?: string }, command: Command) => {
        const by = options.by ?? globalDecisionOption(command, 'by') ?? defaults.defaultActor();
        const reason = options.reason ?? globalDecisionOption(command, 'reason');
        const args = validated(command, Args, { watchId, choice, by, reason });
        const request: DeployDecisionRequest = {
          command: 'decide-deploy',
          watchId: args.watchId,
          action: CHOICES[args.choice],
          decision: { by: args.by, reason: args.reason ?? `${args.choice} from the CLI` },
        };
        accept({
          request,
          run: (context) =>
            withIncident(context, { command: 'decide-deploy', incidentId: request.watchId, kind: 'signal' }, async (client) => {
              await decideOnDeploy(client, { watchId: request.watchId, action: request.action, ...request.decision }, { timeoutMs: TEMPORAL_CALL_TIMEOUT_MS });
              context.io.out(`${DONE[args.choice]}: ${request.watchId} as ${request.decision.by}: ${request.decision.reason}`);
            }),
        });
      });
  },
};
