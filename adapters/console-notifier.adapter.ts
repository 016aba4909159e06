import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Notification, NotifierPort } from '../ports/notifier.port';

/**
 * The embedded notifier, used when Slack is not configured: prints each notification and appends
 * it to a JSON-lines file, which is what a person (or a test) reads to see what was sent.
 */
export class ConsoleNotifier implements NotifierPort {
  readonly name = 'console';

  constructor(private readonly options: { deliveryLogPath: string; print?: (text: string) => void }) {
    fs.mkdirSync(path.dirname(options.deliveryLogPath), { recursive: true });
  }

  async send(notification: Notification): Promise<{ ref: string }> {
    const lines = [
      `[steward] ${notification.replaces ? `(update of ${notification.replaces}) ` : ''}${notification.title}`,
      ...notification.text.split('\n').map((l) => `  ${l}`),
    ];
    // The morning report's text already gives each finding its PR: its links would print them twice.
    if (!notification.qaReport) for (const link of notification.links) lines.push(`  ${link.label}: ${link.url}`);
    if (notification.approval) {
      lines.push(`  approve: npx steward approve ${notification.approval.incidentId} --reason "..."`);
      lines.push(`  reject:  npx steward reject ${notification.approval.incidentId} --reason "..."`);
    }
    if (notification.deployDecision) {
      const { watchId, offers, severity, summary } = notification.deployDecision;
      lines.push(`  severity: ${severity}`, ...summary.split('\n').map((l) => `  ${l}`));
      if (offers.includes('rollBack')) lines.push(`  roll back:   npx steward decide-deploy ${watchId} roll-back --reason "..."`);
      if (offers.includes('fixForward')) lines.push(`  fix forward: npx steward decide-deploy ${watchId} fix-forward --reason "..."`);
      lines.push(`  dismiss:     npx steward decide-deploy ${watchId} dismiss --reason "..."`);
    }
    (this.options.print ?? ((text: string) => process.stdout.write(`${text}\n`)))(lines.join('\n'));
    const record = { at: new Date().toISOString(), ...notification };
    fs.appendFileSync(this.options.deliveryLogPath, `${JSON.stringify(record)}\n`);
    return { ref: `console:${notification.key}` };
  }

  /** A console cannot rewrite what it printed: the update is printed, and logged with what it replaces. */
  async update(ref: string, notification: Notification): Promise<{ ref: string }> {
    return this.send({ ...notification, replaces: ref });
  }

  async findDelivered(notification: Notification): Promise<{ ref: string } | null> {
    if (!fs.existsSync(this.options.deliveryLogPath)) return null;
    const delivered = fs
      .readFileSync(this.options.deliveryLogPath, 'utf8')
      .split('\n')
      .some((line) => line.trim() !== '' && (JSON.parse(line) as { key?: string }).key === notification.key);
    return delivered ? { ref: `console:${notification.key}` } : null;
  }
}
