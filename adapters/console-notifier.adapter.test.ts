import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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
