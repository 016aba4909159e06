import type { LedgerEvent } from '../ports/incident-ledger.port';
import { InMemoryMetrics } from '../test/fakes/in-memory-metrics';
import { workflowFiguresInterceptor, WorkflowFigures } from './workflow-figures';

const event = (seq: number, kind: LedgerEvent['kind'], at: string, data: Record<string, unknown> = {}): LedgerEvent => ({ seq, kind, at, data });

describe('WorkflowFigures', () => {
  let metrics: InMemoryMetrics;
  let ledger: Record<string, LedgerEvent[]>;
  let warnings: string[];
  let figures: WorkflowFigures;
  beforeEach(() => {
    metrics = new InMemoryMetrics();
    ledger = {};
    warnings = [];
    figures = new WorkflowFigures(metrics, { ledgerEvents: async (id) => ledger[id] ?? [], warn: (line) => warnings.push(line) });
  });

  it('counts an incident closed by its status once, though the checkpoint is retried', async () => {
    const progress = { state: { incidentId: 'i-1' }, events: [event(7, 'closed', '2026-01-01T00:10:00Z', { status: 'noise', outcome: '…' })] };
    await figures.take('recordProgress', progress, undefined);
    await figures.take('recordProgress', progress, undefined);
    expect(metrics.incidentsClosed).toEqual(['noise']);
  });

  it("measures the time to PR from the alert's receipt, in the same checkpoint or read from the ledger", async () => {
    await figures.take('recordProgress', { state: { incidentId: 'i-1' }, events: [event(0, 'alert_received', '2026-01-01T00:00:00Z'), event(1, 'pr_opened', '2026-01-01T00:05:00Z')] }, undefined);
    ledger['i-2'] = [event(0, 'alert_received', '2026-01-01T00:00:00Z')];
    await figures.take('recordProgress', { state: { incidentId: 'i-2' }, events: [event(9, 'pr_opened', '2026-01-01T01:00:00Z')] }, undefined);
    expect(metrics.timesToPullRequest).toEqual([300, 3600]);
  });

  it('says so when the receipt cannot be found, instead of guessing a time', async () => {
    await figures.take('recordProgress', { state: { incidentId: 'i-3' }, events: [event(4, 'pr_opened', '2026-01-01T01:00:00Z')] }, undefined);
    expect(metrics.timesToPullRequest).toEqual([]);
    expect(warnings).toEqual([expect.stringContaining('no alert_received event for i-3')]);
  });

  it('counts fix attempts by verification', async () => {
    await figures.take('recordFixAttempt', { incidentId: 'i', attempt: 1, verified: false }, undefined);
    await figures.take('recordFixAttempt', { incidentId: 'i', attempt: 2, verified: true }, undefined);
    expect(metrics.fixAttempts).toEqual(['rejected', 'verified']);
  });

  it('measures an approval wait from the last request before the decision', async () => {
    ledger['i-4'] = [event(1, 'approval_requested', '2026-01-01T00:00:00Z'), event(5, 'approval_requested', '2026-01-01T02:00:00Z')];
    await figures.take('recordDecision', { incidentId: 'i-4', decision: 'approve', by: 'cli:ana', reason: '', proposedDiff: '', at: '2026-01-01T02:30:00Z' }, undefined);
    expect(metrics.approvalWaits).toEqual([{ decision: 'approve', seconds: 1800 }]);
  });

  it('counts deploy watches and verdicts, and measures the delay of each newly flagged signature', async () => {
    await figures.take('recordDeploy', { watchId: 'w' }, { earlier: [] });
    await figures.take('setDeployVerdict', { watchId: 'w', verdict: 'regression' }, undefined);
    await figures.take('pollWatchTest', { deployedAt: '2026-01-01T00:00:00Z', pollAt: '2026-01-01T00:03:00Z' }, { newlyFlagged: [{}, {}] });
    await figures.take('pollWatchTest', { deployedAt: '2026-01-01T00:00:00Z', pollAt: '2026-01-01T00:04:00Z' }, { newlyFlagged: [] });
    expect(metrics.deployWatchesStarted).toBe(1);
    expect(metrics.deployWatchVerdicts).toEqual(['regression']);
    expect(metrics.detectionDelays).toEqual([180, 180]);
  });

  it('counts monitors generated, and dropped by stage', async () => {
    await figures.take('createGeneratedMonitor', {}, { monitorId: 'm-1' });
    await figures.take('recordDroppedProposals', { dropped: [{ name: 'a', stage: 'grounding', reason: '' }, { name: 'b', stage: 'grounding', reason: '' }, { name: 'c', stage: 'cap', reason: '' }] }, undefined);
    expect(metrics.monitorsGeneratedCount).toBe(1);
    expect(metrics.monitorsDroppedByStage).toEqual({ grounding: 2, cap: 1 });
  });

  it('as an interceptor: takes figures only after the activity succeeded, and a figure that fails leaves the result as it was', async () => {
    const interceptor = workflowFiguresInterceptor(figures, (line) => warnings.push(line));
    const call = (activityType: string, run: () => Promise<unknown>, args: unknown[]) =>
      interceptor({ info: { activityType } }).inbound.execute!({ args, headers: {} } as never, run as never);
    await expect(call('recordFixAttempt', async () => Promise.reject(new Error('postgres down')), [{ verified: true }])).rejects.toThrow('postgres down');
    expect(metrics.fixAttempts).toEqual([]);
    await expect(call('recordFixAttempt', async () => 'ok', [{ verified: true }])).resolves.toBe('ok');
    expect(metrics.fixAttempts).toEqual(['verified']);
    const failing = new WorkflowFigures(metrics, { ledgerEvents: async () => Promise.reject(new Error('ledger unreachable')) });
    const failingInterceptor = workflowFiguresInterceptor(failing, (line) => warnings.push(line));
    const result = await failingInterceptor({ info: { activityType: 'recordDecision' } }).inbound.execute!({ args: [{ incidentId: 'i', decision: 'approve', at: '2026-01-01T00:00:00Z' }], headers: {} } as never, (async () => 'saved') as never);
    expect(result).toBe('saved');
    expect(warnings).toContain("metrics: recordDecision's figures not taken: ledger unreachable");
  });
});
