import * as fs from 'node:fs';
import * as path from 'node:path';
import type { NotifierPort } from '../ports/notifier.port';

/**
 * For the crash tests only: kills this worker process with SIGKILL right after a named step's side
 * effects are done and before Temporal hears that it completed, which is the window where a
 * non-idempotent side effect would be repeated. Each kill happens once, recorded by a marker file,
 * so the restarted worker carries on. Steps are activity names, or `notifier.send` for the moment
 * between a message going out and the outbox recording it.
 */
function crashOnceAfter(step: string, markerDir: string): void {
  const marker = path.join(markerDir, `crashed-after-${step}`);
  if (fs.existsSync(marker)) return;
  fs.mkdirSync(markerDir, { recursive: true });
  fs.writeFileSync(marker, new Date().toISOString());
  process.kill(process.pid, 'SIGKILL');
}

export const NOTIFIER_SEND_STEP = 'notifier.send';

export function withCrashAfter<T extends Record<string, (...args: never[]) => Promise<unknown>>>(
  activities: T,
  crashAfter: string[],
  markerDir: string,
): T {
  const activitySteps = crashAfter.filter((step) => step !== NOTIFIER_SEND_STEP);
  if (activitySteps.length === 0) return activities;
  const wrapped: Record<string, unknown> = { ...activities };
  for (const name of activitySteps) {
    const original = activities[name];
    if (!original) throw new Error(`STEWARD_FAULT_CRASH_AFTER names ${name}, which is not an activity`);
    wrapped[name] = async (...args: never[]) => {
      const result = await original(...args);
      crashOnceAfter(name, markerDir);
      return result;
    };
  }
  return wrapped as T;
}

export function notifierWithCrashAfterSend(notifier: NotifierPort, crashAfter: string[], markerDir: string): NotifierPort {
  if (!crashAfter.includes(NOTIFIER_SEND_STEP)) return notifier;
  return {
    name: notifier.name,
    findDelivered: (notification) => notifier.findDelivered(notification),
    update: (ref, notification) => notifier.update(ref, notification),
    async send(notification) {
      const delivered = await notifier.send(notification);
      crashOnceAfter(NOTIFIER_SEND_STEP, markerDir);
      return delivered;
    },
  };
}
