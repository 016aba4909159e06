import { describeIncidentStage, type MorningReport, type QaFinding } from '../domain/nightly-qa/report';

type Block = Record<string, unknown>;

/** Slack's Block Kit limits (api.slack.com/reference/block-kit): past them chat.postMessage answers invalid_blocks. */
export const SLACK_LIMITS = { blocksPerMessage: 50, sectionText: 3_000, headerText: 150, contextElements: 10 } as const;

/** Room kept at the end of a findings section for the line that counts the findings left out. */
const MORE_FINDINGS_ROOM = 120;
/** A single piece of user text (a title, a path, an id) never takes more than this of a section. */
const PIECE = { title: 300, path: 200, reference: 200, detail: 400, listItem: 200, url: 1_000 } as const;

/**
 * Slack reads `&`, `<` and `>` in mrkdwn as control characters (links, mentions): user text shows
 * them escaped. Cut to `max` characters after escaping, never inside an entity, so that a long
 * title cannot push a section past Slack's limit.
 */
export function escapeMrkdwn(text: string, max = Number.POSITIVE_INFINITY): string {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  if (escaped.length <= max) return escaped;
  let out = '';
  for (const character of text) {
    const piece = character === '&' ? '&amp;' : character === '<' ? '&lt;' : character === '>' ? '&gt;' : character;
    if (out.length + piece.length > max - 1) break;
    out += piece;
  }
  return `${out}…`;
}

/** Inline code cannot hold a backtick (it would end the span): a path shows one as a quote. */
const code = (text: string, max: number) => `\`${escapeMrkdwn(text.replace(/`/g, "'"), max)}\``;

/** Plain text cut to `max`, never inside a character (an emoji is two UTF-16 units). */
function cut(text: string, max: number): string {
  if (text.length <= max) return text;
  let out = '';
  for (const character of text) {
    if (out.length + character.length > max - 1) break;
    out += character;
  }
  return `${out}…`;
}

const usd = (value: number) => `$${value.toFixed(2)}`;

/** The PR's number from its URL (GitHub `/pull/12`, the local code host `/pulls/12`; a query may follow), if it has one. */
function pullRequestNumber(url: string): string | null {
  return /\/pulls?\/(\d+)(?:[/?#]|$)/.exec(url)?.[1] ?? null;
}

/** `<url|#n title>`; a URL Slack could not link whole (too long) shows the title alone. */
function pullRequestLink(url: string, title: string): string {
  const number = pullRequestNumber(url);
  const label = escapeMrkdwn(`${number ? `#${number} ` : ''}${title}`, PIECE.title);
  // `|` would end the link's URL early; `&`, `<`, `>` are escaped in a link like anywhere else.
  const target = escapeMrkdwn(url).replace(/\|/g, '%7C');
  return target.length <= PIECE.url ? `<${target}|${label}>` : `${label} (PR link in the message text)`;
}

function findingLine(finding: QaFinding): string {
  const test = code(finding.testPath, PIECE.path);
  if (finding.duplicateOf) return `• ${escapeMrkdwn(finding.title, PIECE.title)} — already known as ${escapeMrkdwn(finding.duplicateOf, PIECE.reference)} (${test})`;
  if (finding.pullRequestUrl) return `• ${pullRequestLink(finding.pullRequestUrl, finding.title)} — ${test}`;
  const where = finding.incidentId ? `incident ${escapeMrkdwn(finding.incidentId, PIECE.reference)}, ${escapeMrkdwn(describeIncidentStage(finding.incidentStage), PIECE.reference)}` : 'no incident';
  return `• *${escapeMrkdwn(finding.title, PIECE.title)}* — ${where} (${test})`;
}

const section = (text: string): Block => ({ type: 'section', text: { type: 'mrkdwn', text } });

/**
 * Lines under a heading in one section, as many as fit; the rest are counted ("and 12 more"), as a
 * line or, for `inline` lists, after the last item shown.
 */
function summarised(heading: string, items: string[], options: { inline?: boolean; what?: string; limit?: number } = {}): string {
  const limit = options.limit ?? SLACK_LIMITS.sectionText;
  const separator = options.inline ? ', ' : '\n';
  const start = options.inline ? `${heading} ` : `${heading}\n`;
  const moreText = (left: number) => `${options.inline ? ' ' : '\n'}and ${left} more${options.what ? ` ${options.what}` : ''}`;
  let text = start;
  for (let i = 0; i < items.length; i++) {
    const next = `${i === 0 ? '' : separator}${items[i]}`;
    const left = items.length - i - 1;
    const room = limit - (left > 0 ? moreText(left).length : 0);
    if (text.length + next.length > room) return `${text}${moreText(items.length - i)}`;
    text += next;
  }
  return text;
}

/**
 * The findings, packed into as many sections as `maxSections` allows. Findings are never summarised
 * away silently: when they cannot all fit, the last section says how many more there are, and the
 * message's text (the notification's fallback) holds every one.
 */
function findingSections(findings: QaFinding[], maxSections: number): Block[] {
  if (findings.length === 0) return [section('*Findings:* none tonight.')];
  const lines = findings.map(findingLine);
  const sections: string[] = [];
  let current = '*Findings* (each proven by a test that failed twice)';
  let shown = 0;
  for (const line of lines) {
    const lastSection = sections.length === maxSections - 1;
    const room = SLACK_LIMITS.sectionText - (lastSection ? MORE_FINDINGS_ROOM : 0);
    if (current.length + 1 + line.length <= room) {
      current += `\n${line}`;
      shown++;
      continue;
    }
    if (lastSection) break;
    sections.push(current);
    current = line;
    shown++;
  }
  const left = findings.length - shown;
  if (left > 0) current += `\n…and ${left} more finding(s), all in this message's text`;
  sections.push(current);
  return sections.map(section);
}

/**
 * The morning report in Block Kit: a header with the service and night, the findings with their PRs
 * (or what their incident is doing, or what they duplicate), the leads, the areas as new coverage
 * and ground covered before, the missions skipped and why, last night's missions not run again, and
 * the cost against the budget. Everything but the findings is summarised with a count when long;
 * the findings get whatever blocks the rest leaves.
 */
export function morningReportBlocks(report: MorningReport, title: string): Block[] {
  const header: Block = { type: 'header', text: { type: 'plain_text', text: cut(title, SLACK_LIMITS.headerText) } };
  const rest: Block[] = [];
  if (report.leads.length > 0) {
    rest.push(
      section(
        summarised(
          `*Leads* (${report.leads.length}; no failing test, so not opened)`,
          report.leads.map((l) => `• *${escapeMrkdwn(l.title, PIECE.title)}*: ${escapeMrkdwn(l.detail, PIECE.detail)}`),
          { what: 'lead(s), all in this message\'s text' },
        ),
      ),
    );
  }
  const { newlyCovered, alreadyCovered } = report.areas;
  const areaList = (heading: string, areas: string[]) =>
    // Two lists share one section: each gets half of it.
    areas.length === 0 ? `${heading} none` : summarised(heading, areas.map((a) => code(a, PIECE.listItem)), { inline: true, limit: SLACK_LIMITS.sectionText / 2 - 1 });
  rest.push(section([areaList(`*New coverage* (${newlyCovered.length}):`, newlyCovered), areaList(`*Already covered* (${alreadyCovered.length}):`, alreadyCovered)].join('\n')));
  if (report.missionsSkipped.length > 0) {
    rest.push(
      section(
        summarised(
          `*Missions skipped* (${report.missionsSkipped.length})`,
          report.missionsSkipped.map((m) => `• ${code(m.id, PIECE.listItem)}: ${m.skippedBecause === 'budget' ? "the night's budget was spent" : 'past the mission limit'}`),
        ),
      ),
    );
  }
  if (report.notRepeated && report.notRepeated.length > 0) {
    rest.push(
      section(
        summarised(
          `*Not run again from last night* (${report.notRepeated.length})`,
          report.notRepeated.map((n) => `• ${code(n.id, PIECE.listItem)}: ${escapeMrkdwn(n.why, PIECE.detail)}`),
        ),
      ),
    );
  }
  rest.push({
    type: 'context',
    elements: [
      { type: 'mrkdwn', text: `*Cost* ${usd(report.costUsd)} of ${usd(report.budgetUsd)} budget` },
      { type: 'mrkdwn', text: `${report.missionsRun.length} mission(s) run` },
      { type: 'mrkdwn', text: `Night ${code(report.nightId, PIECE.reference)}` },
    ],
  });
  const findingsRoom = SLACK_LIMITS.blocksPerMessage - 1 - rest.length;
  return [header, ...findingSections(report.findings, findingsRoom), ...rest];
}
