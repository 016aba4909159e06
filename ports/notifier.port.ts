import type { MorningReport } from '../domain/nightly-qa/report';

export type NotificationKind =
  | 'pr_opened'
  | 'could_not_fix'
  | 'approval_requested'
  | 'approval_escalated'
  | 'approval_timed_out'
  | 'approval_decided'
  /** The deploy watch pinned a regression on a deploy and asks what to do: roll back, fix forward, or dismiss. */
  | 'rollback_proposed'
  /** Monitors were generated for a merged change: one message per change, listing them. */
  | 'monitors_generated'
  /** Nightly QA's morning report: one message per service per night (a quiet night sends none unless configured). */
  | 'qa_morning_report';

/** What the deploy watch offers a person to decide; the choices signal deployDecisionSignal on the watch. */
export interface DeployDecisionOffer {
  /** The watch's workflow id, which the buttons carry. */
  watchId: string;
  /** The offered ways out, in the order shown; Dismiss is always offered. */
  offers: ('rollBack' | 'fixForward')[];
  severity: string;
  /** Markdown: the flagged signatures, the suspected change, and how the roll-back would go (revert PR or hook). */
  summary: string;
}

export interface Notification {
  /** Idempotency key: the same key is delivered once, however often the activity is retried. */
  key: string;
  kind: NotificationKind;
  incidentId: string;
  /** The service the incident is about: notifiers may route by it (a Slack channel per service). */
  service: string | null;
  title: string;
  text: string;
  links: { label: string; url: string }[];
  /** Present on approval requests: the notifier offers Approve / Reject for this incident. */
  approval?: { incidentId: string; severity: string; verdict: string; diffStat: string; reproduction: string };
  /** Present on rollback_proposed: the notifier offers Roll back / Fix forward / Dismiss for this watch. */
  deployDecision?: DeployDecisionOffer;
  /** A message delivered earlier (its ref) that this one replaces in place, e.g. to show a decision. */
  replaces?: string;
  /**
   * Present on qa_morning_report: the report itself, so that a notifier can lay it out in its own
   * way (Slack sections per findings, leads, areas) rather than only as `text`, which still holds it whole.
   */
  qaReport?: MorningReport;
}

export interface NotifierPort {
  readonly name: string;
  /** Returns a reference to the delivered message (Slack ts, log line). */
  send(notification: Notification): Promise<{ ref: string }>;
  /**
   * The message already delivered under this key, if any. Asked only when an earlier attempt died
   * between sending and recording the delivery, so that the retry does not send it twice.
   */
  findDelivered(notification: Notification): Promise<{ ref: string } | null>;
  /** Rewrites a delivered message (the ref send() returned) with this notification's content. */
  update(ref: string, notification: Notification): Promise<{ ref: string }>;
}
