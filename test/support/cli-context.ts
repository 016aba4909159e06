import type { CliContext, CliIo } from '../../cli/context';

const DOORS = ['config', 'connectTemporal', 'openIncidentHistories', 'openApprovalOutcomes', 'openLocalPullRequests', 'openSignatureStore', 'openMonitorFigures', 'openRunExport', 'openQaLedger', 'openNightlyQaSchedules', 'openInbox', 'openSandbox', 'evals', 'backtests'] as const satisfies readonly Exclude<keyof CliContext, 'io'>[];

/**
 * A CLI context for one command's test: what the test gives, and every other door failing the test
 * with its name, so that a command reaching for what it should not use cannot pass. A new member of
 * CliContext is one more name here, not one more line in every test.
 */
export function cliContextFor(parts: Partial<CliContext> & { io: CliIo }): CliContext {
  const doors = Object.fromEntries(
    DOORS.map((name) => [
      name,
      (): never => {
        throw new Error(`the command under test reached ${name}, which this test does not give it`);
      },
    ]),
  ) as unknown as Omit<CliContext, 'io'>;
  return { ...doors, ...parts };
}
