import type { DatadogWebhookPayload } from '../alert';
import type { Comparator } from '../log-query';
import type { LocalMonitorTransition } from './evaluation';

/** What a transition says of its monitor and of the count that made it. */
export interface LocalTransitionFacts {
  monitorId: string;
  monitorName: string;
  /** The monitor's description (Datadog's `message`), rendered into the notification. */
  monitorMessage: string;
  tags: readonly string[];
  transition: LocalMonitorTransition;
  alertCycleKey: string;
  tick: Date;
  /** The log search counted, as the query's logs("…") holds it. */
  search: string;
  window: string;
  count: number;
  /** The worst group's value of a grouped monitor; null for one that is not grouped. */
  group: string | null;
  comparator: Comparator;
  threshold: number;
}

/** Below the webhook's 60,000-character message limit (domain/alert.ts), with room for the verdict. */
const MAX_RENDERED_MESSAGE_CHARS = 50_000;

/** Where a local monitor lives: there is no Datadog page to link to, so the link names the store and the id. */
export function localMonitorLink(monitorId: string): string {
  return `local-monitor://monitors/${encodeURIComponent(monitorId)}`;
}

/**
 * The monitor's description as Datadog renders it into $EVENT_MSG, for the template variables a
 * count monitor has: `{{value}}`, `{{threshold}}`, `{{comparator}}`, and the
 * `{{#is_alert}}…{{/is_alert}}`, `{{#is_recovery}}…{{/is_recovery}}` sections (and their `^` negations).
 * Other variables are left as written, as Datadog leaves ones it has no value for.
 */
export function renderMonitorMessage(message: string, facts: Pick<LocalTransitionFacts, 'transition' | 'count' | 'threshold' | 'comparator'>): string {
  const isAlert = facts.transition === 'Triggered';
  const sections: Record<string, boolean> = { is_alert: isAlert, is_recovery: !isAlert };
  const withSections = message.replace(/\{\{([#^])(is_alert|is_recovery)\}\}([\s\S]*?)\{\{\/\2\}\}/g, (_whole, sign: string, name: string, body: string) =>
    (sign === '#') === sections[name] ? body : '',
  );
  const values: Record<string, string> = { value: String(facts.count), threshold: String(facts.threshold), comparator: facts.comparator };
  return withSections.replace(/\{\{\s*(value|threshold|comparator)\s*\}\}/g, (_whole, name: string) => values[name]!);
}

/**
 * The body Datadog's webhook would post for this transition, field for field as the payload
 * template in README.md has it ($ALERT_ID, $ALERT_CYCLE_KEY, $ALERT_TRANSITION, $ALERT_TITLE,
 * $EVENT_MSG, $TAGS, $DATE in epoch milliseconds, $LINK, $ID), so that Steward's own endpoint reads
 * a local alert exactly as it reads Datadog's. The event id is the transition's own, so a
 * re-delivery carries the same one.
 */
export function localMonitorWebhookPayload(facts: LocalTransitionFacts): Record<keyof DatadogWebhookPayload, string> {
  const measured = `${facts.count} log${facts.count === 1 ? '' : 's'} matching ${JSON.stringify(facts.search)} over the last ${facts.window}${facts.group === null ? '' : ` in the group ${facts.group}`}`;
  const verdict =
    facts.transition === 'Triggered' ? `${measured}: ${facts.comparator} ${facts.threshold}, the threshold.` : `${measured}: no longer ${facts.comparator} ${facts.threshold}, the threshold.`;
  // The webhook takes 60,000 characters of message; the verdict after it must survive the cut.
  const rendered = renderMonitorMessage(facts.monitorMessage, facts).trim().slice(0, MAX_RENDERED_MESSAGE_CHARS);
  return {
    monitor_id: facts.monitorId,
    alert_cycle_key: facts.alertCycleKey,
    transition: facts.transition,
    priority: '',
    title: `[${facts.transition}] ${facts.monitorName}`,
    message: `${rendered === '' ? '' : `${rendered}\n\n`}${verdict}\nEvaluated by Steward's local monitor evaluator (not Datadog) at ${facts.tick.toISOString()}.`,
    tags: facts.tags.join(','),
    date: String(facts.tick.getTime()),
    link: localMonitorLink(facts.monitorId),
    event_id: `${facts.alertCycleKey}-${facts.transition.toLowerCase()}`,
  };
}
