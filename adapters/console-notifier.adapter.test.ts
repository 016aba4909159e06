import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { composeMorningReport, renderMorningReport } from '../domain/nightly-qa/report';
import type { Notification } from '../ports/notifier.port';
import { ConsoleNotifier } from './console-notifier.adapter';

const prOpened: Notification = {
  key: 'incident-1:pr_opened',
  kind: 'pr_opened',
  incidentId: 'incident-1',
  service: 'checkout-service',
  title: 'Fix ready: checkout-service unhandled errors',
  text: 'A verified fix is open.\nReview it before merging.',
  links: [{ label: 'Pull request', url: 'https://code.example.test/acme/repo/pull/1' }],
};

const approvalRequested: Notification = {
  ...prOpened,
  key: 'incident-1:approval_requested',
  kind: 'approval_requested',
  title: 'Approval needed: checkout-service unhandled errors',
  approval: { incidentId: 'incident-1', severity: 'P1', verdict: 'real', diffStat: '2 files changed, +13 -1', reproduction: 'not ok 1' },
};

const rollbackProposed: Notification = {
  ...prOpened,
  key: 'deploy-checkout-service-abc123:rollback_proposed',
  kind: 'rollback_proposed',
  incidentId: 'deploy-checkout-service-abc123',
  title: 'Deploy abc123 of checkout-service raised errors',
  links: [],
  deployDecision: { watchId: 'deploy-checkout-service-abc123', offers: ['rollBack'], severity: 'high', summary: 'TypeError: rate is undefined, new since the deploy' },
};

const qaReport = composeMorningReport({
  service: 'checkout-service',
  night: '2026-12-01',
  nightId: 'steward-nightly-qa@checkout-service-2026-12-01T02:00:00Z',
  budgetUsd: 2,
  missionsRun: [
    {
      id: 'probe:src/coupon.js',
      kind: 'probe-least-explored',
      reason: 'never explored',
      costUsd: 0.6,
      areas: ['src/coupon.js'],
      findings: [
        { missionId: 'probe:src/coupon.js', signature: 'qa-1', title: 'a 100% coupon makes the total negative', testPath: 'test/coupon.qa.test.js', expectedFailure: 'AssertionError', incidentId: 'incident-qa-1', pullRequestUrl: 'local-git://checkout-service/pulls/2', duplicateOf: null },
        { missionId: 'probe:src/coupon.js', signature: 'qa-2', title: 'tax rounds twice', testPath: 'test/tax.qa.test.js', expectedFailure: 'AssertionError', incidentId: 'incident-qa-2', pullRequestUrl: null, incidentStage: 'awaiting_approval', duplicateOf: null },
      ],
      leads: [{ missionId: 'probe:src/coupon.js', title: 'slow total', detail: 'no failing test', areas: ['src/coupon.js'] }],
    },
  ],
  missionsSkipped: [{ id: 'probe:src/tax.js', kind: 'probe-least-explored', reason: 'never explored', skippedBecause: 'mission-limit' }],
  previouslyExplored: new Set(),
  notRepeated: [{ id: 'stress:pr-7', why: 'its areas did not change since last night' }],
});

/** As the night sends it (workflows/nightly-qa/morning-report.ts). */
const morningReport: Notification = {
  key: `${qaReport.nightId}:qa_morning_report`,
  kind: 'qa_morning_report',
  incidentId: qaReport.nightId,
  service: 'checkout-service',
  title: 'Nightly QA of checkout-service, night of 2026-12-01',
  text: renderMorningReport(qaReport),
  links: [{ label: 'PR: a 100% coupon makes the total negative', url: 'local-git://checkout-service/pulls/2' }],
  qaReport,
};

describe('ConsoleNotifier', () => {
  let scratch: string;

  beforeEach(() => {
    scratch = fs.mkdtempSync(path.join(process.env.STEWARD_TEST_ROOT ?? os.tmpdir(), 'console-notifier-'));
  });

  afterEach(() => {
    fs.rmSync(scratch, { recursive: true, force: true });
  });

  it('prints the choices of a proposed roll-back as the commands that make them', async () => {
    const printed: string[] = [];
    const notifier = new ConsoleNotifier({ deliveryLogPath: path.join(scratch, 'notifications.jsonl'), print: (text) => printed.push(text) });

    await notifier.send(rollbackProposed);

    expect(printed[0]).toContain('TypeError: rate is undefined, new since the deploy');
    expect(printed[0]).toContain('roll back:   npx steward decide-deploy deploy-checkout-service-abc123 roll-back --reason "..."');
    expect(printed[0]).toContain('dismiss:     npx steward decide-deploy deploy-checkout-service-abc123 dismiss --reason "..."');
    // Fix forward was not offered.
    expect(printed[0]).not.toContain('fix-forward');
  });

  it('prints the morning report as its text, each finding with its PR or what its incident is doing, and each PR once', async () => {
    const printed: string[] = [];
    const deliveryLogPath = path.join(scratch, 'notifications.jsonl');
    const notifier = new ConsoleNotifier({ deliveryLogPath, print: (text) => printed.push(text) });

    await notifier.send(morningReport);

    expect(printed[0]!.split('\n')).toEqual([
      '[steward] Nightly QA of checkout-service, night of 2026-12-01',
      '  Nightly QA of checkout-service, night of 2026-12-01: 2 finding(s), 1 lead(s), $0.60 of $2.00',
      '  Findings (each proven by a test that failed twice):',
      '    - a 100% coupon makes the total negative (test/coupon.qa.test.js): PR local-git://checkout-service/pulls/2',
      '    - tax rounds twice (test/tax.qa.test.js): incident incident-qa-2, the fix waits for approval',
      '  Leads (no failing test, so not opened):',
      '    - slow total: no failing test',
      '  Areas: 1 new (src/coupon.js), 0 covered before (none)',
      '  Missions run: probe:src/coupon.js ($0.60)',
      '  Missions skipped: probe:src/tax.js (mission limit)',
      '  Not run again from last night: stress:pr-7 (its areas did not change since last night)',
    ]);
    // The log keeps the report itself, for whoever reads it after.
    expect(JSON.parse(fs.readFileSync(deliveryLogPath, 'utf8').trim())).toMatchObject({ kind: 'qa_morning_report', qaReport });
  });

  it('finds a notification it already delivered by its key, and only that one', async () => {
    const notifier = new ConsoleNotifier({ deliveryLogPath: path.join(scratch, 'notifications.jsonl'), print: () => undefined });
    await expect(notifier.findDelivered(prOpened)).resolves.toBeNull();

    await notifier.send(prOpened);

    await expect(notifier.findDelivered(prOpened)).resolves.toEqual({ ref: 'console:incident-1:pr_opened' });
    await expect(notifier.findDelivered(approvalRequested)).resolves.toBeNull();
  });

  it('prints each notification and appends it to the log as one JSON line', async () => {
    const printed: string[] = [];
    const deliveryLogPath = path.join(scratch, 'not-yet-created', 'notifications.jsonl');
    const notifier = new ConsoleNotifier({ deliveryLogPath, print: (text) => printed.push(text) });

    await expect(notifier.send(prOpened)).resolves.toEqual({ ref: 'console:incident-1:pr_opened' });
    await notifier.send(approvalRequested);

    expect(printed[0]).toBe(
      [
        '[steward] Fix ready: checkout-service unhandled errors',
        '  A verified fix is open.',
        '  Review it before merging.',
        '  Pull request: https://code.example.test/acme/repo/pull/1',
      ].join('\n'),
    );
    expect(printed[1]).toContain('  approve: npx steward approve incident-1 --reason "..."');
    expect(printed[1]).toContain('  reject:  npx steward reject incident-1 --reason "..."');
    const lines = fs.readFileSync(deliveryLogPath, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toEqual([
      { at: expect.any(String), ...prOpened },
      { at: expect.any(String), ...approvalRequested },
    ]);
    expect(Number.isNaN(Date.parse(records[0]!.at as string))).toBe(false);
  });
});
