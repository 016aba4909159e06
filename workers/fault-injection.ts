import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * For the crash tests only: kills this worker process with SIGKILL right after the named
 * activity's side effects are done and before Temporal hears that it completed, which is the
 * window where a non-idempotent side effect would be repeated. Each kill happens once, recorded
 * by a marker file, so the restarted worker carries on.
 */
export function withCrashAfter<T extends Record<string, (...args: never[]) => Promise<unknown>>>(
  activities: T,
  crashAfter: string[],
  markerDir: string,
): T {
  if (crashAfter.length === 0) return activities;
  fs.mkdirSync(markerDir, { recursive: true });
  const wrapped: Record<string, unknown> = { ...activities };
  for (const name of crashAfter) {
    const original = activities[name];
    if (!original) throw new Error(`STEWARD_FAULT_CRASH_AFTER names ${name}, which is not an activity`);
    wrapped[name] = async (...args: never[]) => {
      const result = await original(...args);
      const marker = path.join(markerDir, `crashed-after-${name}`);
      if (!fs.existsSync(marker)) {
        fs.writeFileSync(marker, new Date().toISOString());
        process.kill(process.pid, 'SIGKILL');
      }
      return result;
    };
  }
  return wrapped as T;
}
