import type { Command } from 'commander';
import { validated, type CliCommand } from '../command';
import { refuseGlobalDecisionOptions } from '../global-options';
import { TEMPORAL_CALL_TIMEOUT_MS, withIncident } from '../incident-session';
import { queryIncidentState } from '../incident-state.query';
import { IncidentId } from './decision';

/** `steward status <incidentId> [--json]`: the incident's state, as its workflow answers the state query. */

export interface StatusRequest {
  command: 'status';
  incidentId: string;
  json: boolean;
}

export const statusCommand: CliCommand = {
  register(parent, accept) {
    parent
      .command('status')
      .description("show an incident's state, as its workflow answers (needs a running Steward worker)")
      .argument('<incidentId>', 'the workflow id, e.g. incident-123-...')
      .option('--json', 'one line of JSON instead of the indented state')
      .action((incidentId: string, options: { json?: boolean }, command: Command) => {
        refuseGlobalDecisionOptions(command, 'status');
        const request: StatusRequest = { command: 'status', incidentId: validated(command, IncidentId, incidentId), json: options.json === true };
        accept({
          request,
          run: (context) =>
            withIncident(context, { command: 'status', incidentId: request.incidentId, kind: 'query' }, async (client) => {
              const state = await queryIncidentState(client, request.incidentId, { timeoutMs: TEMPORAL_CALL_TIMEOUT_MS });
              // The state is data either way; --json keeps it to one line, for jq and logs.
              context.io.out(request.json ? JSON.stringify(state) : JSON.stringify(state, null, 2));
            }),
        });
      });
  },
};
