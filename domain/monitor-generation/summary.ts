import { describeLocation, type CodeLocation, type GeneratedMonitorType } from './proposal';

/**
 * What Steward says about the monitors it generated for a PR: one comment on the PR, for the
 * reviewers who will be paged by them (every query and threshold, and how each threshold was set,
 * so that a wrong one can be argued with), and one Slack message for the channel. Dropped
 * proposals are listed with their reasons: a monitor the reader expected and does not find should
 * not be a mystery.
 */

export interface CreatedMonitorSummary {
  name: string;
  type: GeneratedMonitorType;
  query: string;
  critical: number | null;
  warning: number | null;
  /** 'proposal': thresholds that are not counts of log lines (APM rates, latencies) are the model's, unchecked against data. */
  setFrom: 'baseline' | 'default' | 'proposal';
  /** How the thresholds were set, in a sentence (thresholds.ts gives one). */
  thresholdExplanation: string;
  location: CodeLocation;
  url: string | null;
}

export type DropStage = 'schema' | 'grounding' | 'validation' | 'duplicate' | 'cap';

export interface DroppedProposalSummary {
  name: string;
  stage: DropStage;
  reason: string;
}

export interface MonitorGenerationSummary {
  repository: string;
  /** Null for a commit merged without a pull request. */
  pullRequest: number | null;
  sha: string;
  created: CreatedMonitorSummary[];
  dropped: DroppedProposalSummary[];
}

/** Marks the comment as Steward's, so that a rerun updates it instead of adding another. */
export const MONITOR_COMMENT_MARKER = '<!-- steward:monitors -->';

const SET_FROM: Record<CreatedMonitorSummary['setFrom'], string> = {
  baseline: 'from the error’s baseline',
  default: 'Steward’s default (no baseline)',
  proposal: 'as proposed, not checked against data',
};

const STAGE: Record<DropStage, string> = {
  schema: 'malformed',
  grounding: 'not grounded in the code',
  validation: 'refused by the validator',
  duplicate: 'duplicate',
  cap: 'over the cap',
};

/** A code span that holds any text: fenced by more backticks than the text's longest run, padded when it starts or ends with one. */
export function codeSpan(text: string): string {
  const oneLine = text.replace(/\s*\n\s*/g, ' ');
  const longestRun = Math.max(0, ...(oneLine.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = oneLine.startsWith('`') || oneLine.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${oneLine}${pad}${fence}`;
}

/** Text that markdown would otherwise read as emphasis, links, HTML or headings. */
export function escapeMarkdown(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/([\\`*_[\]<>#|~!])/g, '\\$1');
}

function thresholdText(monitor: CreatedMonitorSummary): string {
  if (monitor.critical === null) return 'none (a composite alerts when its monitors do)';
  return `critical ${monitor.critical}${monitor.warning === null ? '' : `, warning ${monitor.warning}`}, ${SET_FROM[monitor.setFrom]}`;
}

/** `acme/checkout#12`, or the repository alone for a commit merged without a PR (its sha follows). */
function changeName(summary: MonitorGenerationSummary): string {
  return summary.pullRequest === null ? summary.repository : `${summary.repository}#${summary.pullRequest}`;
}

export function pullRequestComment(summary: MonitorGenerationSummary): string {
  const { created, dropped } = summary;
  const heading = `### Monitors for this change`;
  const intro =
    created.length === 0
      ? `Steward created no monitor for ${changeName(summary)} (${summary.sha.slice(0, 12)}).`
      : `Steward created ${plural(created.length, 'monitor')} for the new code of ${changeName(summary)} (${summary.sha.slice(0, 12)}). They alert through Steward, which opens an incident when one fires.`;
  const createdSection = created.map((monitor) =>
    [
      `- **${monitor.url === null ? escapeMarkdown(monitor.name) : `[${escapeMarkdown(monitor.name)}](${monitor.url})`}** (${monitor.type}), watching ${codeSpan(describeLocation(monitor.location))}`,
      `  - query: ${codeSpan(monitor.query)}`,
      `  - thresholds: ${thresholdText(monitor)}`,
      ...(monitor.critical === null ? [] : [`  - how: ${escapeMarkdown(monitor.thresholdExplanation)}`]),
    ].join('\n'),
  );
  const droppedSection =
    dropped.length === 0
      ? []
      : [`<details><summary>${plural(dropped.length, 'proposal')} not created</summary>`, '', ...dropped.map((d) => `- **${escapeMarkdown(d.name)}**: ${STAGE[d.stage]}: ${escapeMarkdown(d.reason)}`), '', '</details>'];
  return [MONITOR_COMMENT_MARKER, heading, '', intro, ...(created.length === 0 ? [] : ['', ...createdSection]), ...(droppedSection.length === 0 ? [] : ['', ...droppedSection]), ''].join('\n');
}

/** Slack's reserved characters; everything else in mrkdwn is left as written. */
export function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The Slack notifier keeps 2,900 characters of a message: the list stops well before, and says how many it left out. */
const SLACK_LISTED = 10;

export function slackMessage(summary: MonitorGenerationSummary, pullRequestUrl: string | null = null): string {
  const { created, dropped } = summary;
  const name = summary.pullRequest === null ? `${escapeSlack(summary.repository)} at ${summary.sha.slice(0, 12)}` : escapeSlack(changeName(summary));
  const pr = pullRequestUrl === null ? name : `<${pullRequestUrl}|${name}>`;
  const droppedNote = dropped.length === 0 ? '' : ` (${plural(dropped.length, 'proposal')} not created: ${countsByStage(dropped)})`;
  if (created.length === 0) return `Steward created no monitor for ${pr}${droppedNote}.`;
  const lines = created.slice(0, SLACK_LISTED).map((monitor) => {
    const name = monitor.url === null ? escapeSlack(monitor.name) : `<${monitor.url}|${escapeSlack(monitor.name)}>`;
    const thresholds = monitor.critical === null ? 'alerting with its monitors' : `critical ${monitor.critical}${monitor.setFrom === 'baseline' ? ' from baseline' : monitor.setFrom === 'default' ? ' (default)' : ' (as proposed)'}`;
    return `• ${name}: ${monitor.type}, ${thresholds}, ${escapeSlack(monitor.location.file)}`;
  });
  const more = created.length > SLACK_LISTED ? [`…and ${created.length - SLACK_LISTED} more, listed on the PR.`] : [];
  return [`Steward created ${plural(created.length, 'monitor')} for ${pr}${droppedNote}:`, ...lines, ...more].join('\n');
}

function countsByStage(dropped: readonly DroppedProposalSummary[]): string {
  const counts = new Map<DropStage, number>();
  for (const d of dropped) counts.set(d.stage, (counts.get(d.stage) ?? 0) + 1);
  return [...counts.entries()].map(([stage, n]) => `${n} ${STAGE[stage]}`).join(', ');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
