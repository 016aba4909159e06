import type { Comparator } from '../log-query';

/**
 * The local monitor evaluator's rules, without I/O: when a count breaches its threshold, which
 * transition a tick makes, and the alert cycle keys that tie a Triggered to its Recovered.
 */

/** A monitor is in Alert from the tick its count breaches until the first tick it does not; there is no Warn or No Data locally. */
export type LocalMonitorState = 'OK' | 'Alert';
/** As Datadog's $ALERT_TRANSITION spells them. */
export type LocalMonitorTransition = 'Triggered' | 'Recovered';

export interface LocalMonitorStatus {
  state: LocalMonitorState;
  /** The cycle the monitor is in while in Alert, and the one it last left while OK; null before its first trigger. */
  alertCycleKey: string | null;
  /** The last tick this status was decided at; a tick at or before it was already evaluated. */
  lastTick: Date;
}

export type LocalMonitorStep =
  /** The tick was already evaluated (a retried activity, a restarted worker): nothing changes. */
  | { kind: 'already_evaluated' }
  | { kind: 'evaluated'; status: LocalMonitorStatus; transition: { transition: LocalMonitorTransition; alertCycleKey: string } | null };

/** The evaluator runs once a minute; a tick is the minute it evaluates, and its window ends there. */
export const LOCAL_MONITOR_TICK_MS = 60_000;

/** The tick a moment belongs to: the start of its minute. */
export function localMonitorTickOf(at: Date, everyMs: number = LOCAL_MONITOR_TICK_MS): Date {
  return new Date(Math.floor(at.getTime() / everyMs) * everyMs);
}

/**
 * A new cycle for each Triggered, named by the tick it began at: a monitor triggers at most once a
 * tick, and the same tick evaluated again names the same cycle. Readable in the incident's id.
 */
export function localAlertCycleKey(tick: Date): string {
  return `local-${tick.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/:/g, '-')}`;
}

export function breaches(value: number, comparator: Comparator, threshold: number): boolean {
  switch (comparator) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
  }
}

/**
 * The count a monitor is judged by. A grouped monitor (`.by("@facet")`) is evaluated as one
 * group whose count is its worst group's (the largest against `>`/`>=`, the smallest against
 * `<`/`<=`): it is in Alert when any group would be, as Datadog's overall status of a multi alert
 * is, but it notifies once for the monitor, not once per group. A group with no logs in the window
 * is not seen at all, so a grouped `<` monitor only watches the groups that logged.
 */
export function judgedCount(counts: readonly { group: string | null; count: number }[], comparator: Comparator): { count: number; group: string | null } {
  if (counts.length === 0) return { count: 0, group: null };
  const lowIsBad = comparator === '<' || comparator === '<=';
  let worst = counts[0]!;
  for (const candidate of counts) {
    if (lowIsBad ? candidate.count < worst.count : candidate.count > worst.count) worst = candidate;
  }
  return { count: worst.count, group: worst.group };
}

/**
 * What evaluating `tick` does to a monitor in `current` (null: never evaluated, which is OK with no
 * cycle). OK that breaches is Triggered in a new cycle; Alert that no longer breaches is
 * Recovered in the same cycle; anything else keeps its state and says nothing, as Datadog notifies
 * on transitions only. A tick at or before the last one is refused, so that each tick decides once.
 */
export function stepLocalMonitor(current: LocalMonitorStatus | null, tick: Date, breached: boolean): LocalMonitorStep {
  if (current && tick.getTime() <= current.lastTick.getTime()) return { kind: 'already_evaluated' };
  const state = current?.state ?? 'OK';
  const cycle = current?.alertCycleKey ?? null;
  if (state === 'OK' && breached) {
    const alertCycleKey = localAlertCycleKey(tick);
    return { kind: 'evaluated', status: { state: 'Alert', alertCycleKey, lastTick: tick }, transition: { transition: 'Triggered', alertCycleKey } };
  }
  if (state === 'Alert' && !breached) {
    // An Alert always has its cycle; the fallback only keeps a hand-edited row from recovering nameless.
    const alertCycleKey = cycle ?? localAlertCycleKey(tick);
    return { kind: 'evaluated', status: { state: 'OK', alertCycleKey, lastTick: tick }, transition: { transition: 'Recovered', alertCycleKey } };
  }
  return { kind: 'evaluated', status: { state, alertCycleKey: cycle, lastTick: tick }, transition: null };
}

const WINDOW_UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/**
 * A monitor's evaluation window as the monitor store keeps it (`last_5m`, which tuning may have
 * widened past what the query says) in milliseconds; null for one that names none.
 */
export function evaluationWindowMs(evaluationWindow: string | null): number | null {
  const match = /^last_(\d+)([mhdw])$/.exec(evaluationWindow ?? '');
  if (!match || Number(match[1]) === 0) return null;
  return Number(match[1]) * WINDOW_UNIT_MS[match[2] as keyof typeof WINDOW_UNIT_MS];
}

/** `300000` as `5m`: the window in its largest whole unit, for the notification's wording. */
export function windowText(windowMs: number): string {
  for (const [unit, ms] of [['d', WINDOW_UNIT_MS.d], ['h', WINDOW_UNIT_MS.h], ['m', WINDOW_UNIT_MS.m]] as const) if (windowMs % ms === 0) return `${windowMs / ms}${unit}`;
  return `${windowMs / 1000}s`;
}
