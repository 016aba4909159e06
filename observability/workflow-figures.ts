import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import type { DroppedProposalView } from '../contracts/monitor-generation';
import type { DecisionRecord, FixAttemptRecord, LedgerEvent } from '../ports/incident-ledger.port';
import type { MetricsPort } from '../ports/metrics.port';

/**
 * The workflow-level figures (incidents by outcome, time to PR, fix attempts, approval waits, deploy
 * watches and their detection delay, monitors generated and dropped) are read on the worker side,
 * from the activities the workflows already call, by an activity interceptor. Workflow code must
 * stay deterministic and replayable, so it records nothing itself; and a new "record the metric"
 * activity would change every workflow's history for a figure the existing activities already
 * carry: the ledger checkpoint (`recordProgress`) holds every incident event with its workflow
 * time, `recordFixAttempt` and `recordDecision` their records, the watch's `recordDeploy`,
 * `setDeployVerdict` and `pollWatchTest` its life. A figure is taken once the activity succeeded,
 * so a failed attempt counts nothing; a retried success may count twice (at-least-once, as
 * Temporal runs activities), which the de-duplication of ledger events by sequence avoids for the
 * incident's events in this process.
 */

export interface WorkflowFigureSources {
  /** The incident's ledger events so far, for the receipt and approval-request times an event is measured from. */
  ledgerEvents(incidentId: string): Promise<LedgerEvent[]>;
  /** Where a figure that could not be taken is said (never silently skipped). */
  warn?: (line: string) => void;
}

const millisBetween = (from: string, to: string): number => Date.parse(to) - Date.parse(from);

/** Ledger event keys already counted by this process, bounded: a retried checkpoint re-sends the same events. */
class SeenEvents {
  private readonly keys = new Set<string>();
  constructor(private readonly capacity = 50_000) {}
  firstTime(key: string): boolean {
    if (this.keys.has(key)) return false;
    this.keys.add(key);
    if (this.keys.size > this.capacity) this.keys.delete(this.keys.values().next().value!);
    return true;
  }
}

export class WorkflowFigures {
  private readonly seen = new SeenEvents();
  constructor(
    private readonly metrics: MetricsPort,
    private readonly sources: WorkflowFigureSources,
  ) {}

  /** What the activity `activityType`, called with `input`, returning `result`, says of its workflow. */
  async take(activityType: string, input: unknown, result: unknown): Promise<void> {
    switch (activityType) {
      case 'recordProgress':
        return this.incidentEvents(input as { state: { incidentId: string }; events: LedgerEvent[] });
      case 'recordFixAttempt':
        this.metrics.fixAttempt((input as FixAttemptRecord).verified ? 'verified' : 'rejected');
        return;
      case 'recordDecision':
        return this.approvalWait(input as DecisionRecord);
      case 'recordDeploy':
        this.metrics.deployWatchStarted();
        return;
      case 'setDeployVerdict':
        this.metrics.deployWatchVerdict((input as { verdict: string }).verdict);
        return;
      case 'pollWatchTest': {
        const poll = input as { deployedAt: string; pollAt: string };
        const flagged = (result as { newlyFlagged?: unknown[] }).newlyFlagged ?? [];
        for (let i = 0; i < flagged.length; i++) this.metrics.regressionDetectionDelay(millisBetween(poll.deployedAt, poll.pollAt) / 1000);
        return;
      }
      case 'createGeneratedMonitor':
        this.metrics.monitorsGenerated(1);
        return;
      case 'recordDroppedProposals': {
        const byStage = new Map<string, number>();
        for (const dropped of (input as { dropped: DroppedProposalView[] }).dropped) byStage.set(dropped.stage, (byStage.get(dropped.stage) ?? 0) + 1);
        for (const [stage, count] of byStage) this.metrics.monitorsDropped(stage, count);
        return;
      }
      default:
        return;
    }
  }

  private async incidentEvents(input: { state: { incidentId: string }; events: LedgerEvent[] }): Promise<void> {
    const { incidentId } = input.state;
    const fresh = input.events.filter((event) => this.seen.firstTime(`${incidentId}:${event.seq}`));
    for (const event of fresh) {
      if (event.kind === 'closed') this.metrics.incidentClosed(String(event.data['status'] ?? 'unknown'));
    }
    const opened = fresh.find((event) => event.kind === 'pr_opened');
    if (!opened) return;
    // The receipt may be in this checkpoint or an earlier one: the ledger has it either way, as recordProgress wrote it first.
    const received = input.events.find((event) => event.kind === 'alert_received') ?? (await this.sources.ledgerEvents(incidentId)).find((event) => event.kind === 'alert_received');
    if (!received) {
      this.sources.warn?.(`metrics: no alert_received event for ${incidentId}; its time to PR is not measured`);
      return;
    }
    this.metrics.timeToPullRequest(millisBetween(received.at, opened.at) / 1000);
  }

  private async approvalWait(decision: DecisionRecord): Promise<void> {
    const events = await this.sources.ledgerEvents(decision.incidentId);
    const requested = events.filter((event) => event.kind === 'approval_requested' && Date.parse(event.at) <= Date.parse(decision.at)).at(-1);
    if (!requested) {
      this.sources.warn?.(`metrics: no approval_requested event before ${decision.decision} of ${decision.incidentId}; its wait is not measured`);
      return;
    }
    this.metrics.approvalWait(decision.decision, millisBetween(requested.at, decision.at) / 1000);
  }
}

/** The interceptor that feeds WorkflowFigures; a figure that cannot be taken is said, and the activity's result stands. */
export function workflowFiguresInterceptor(figures: WorkflowFigures, warn: (line: string) => void = (line) => console.warn(line)) {
  return (ctx: { info: { activityType: string } }): { inbound: ActivityInboundCallsInterceptor } => ({
    inbound: {
      async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
        const result = await next(input);
        try {
          await figures.take(ctx.info.activityType, input.args[0], result);
        } catch (error) {
          warn(`metrics: ${ctx.info.activityType}'s figures not taken: ${(error as Error).message}`);
        }
        return result;
      },
    },
  });
}
