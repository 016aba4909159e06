/**
 * Steward appends its PR links to a monitor's description inside a marked section, so that a
 * later run can see that an issue already has a fix in flight, and so that the user's own text is
 * never touched. Shared by every monitors adapter (Postgres, Datadog).
 */
export const SECTION_BEGIN = '<!-- steward:begin -->';
export const SECTION_END = '<!-- steward:end -->';

export interface StewardPrLink {
  incidentId: string;
  prUrl: string;
  signature: string;
}

const LINE = /^- Steward fix (\S+) for incident (\S+) \(signature: (.*)\)$/;

export function findStewardLinks(description: string): StewardPrLink[] {
  const start = description.indexOf(SECTION_BEGIN);
  const end = description.indexOf(SECTION_END);
  if (start < 0 || end < start) return [];
  return description
    .slice(start + SECTION_BEGIN.length, end)
    .split('\n')
    .map((line) => LINE.exec(line.trim()))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ prUrl: m[1]!, incidentId: m[2]!, signature: m[3]! }));
}

function renderLine(link: StewardPrLink): string {
  return `- Steward fix ${link.prUrl} for incident ${link.incidentId} (signature: ${link.signature.replace(/\n/g, ' ')})`;
}

/** Returns the description with the link present exactly once; unchanged when it already is. */
export function withStewardLink(description: string, link: StewardPrLink): { description: string; changed: boolean } {
  const existing = findStewardLinks(description);
  if (existing.some((l) => l.incidentId === link.incidentId && l.prUrl === link.prUrl)) {
    return { description, changed: false };
  }
  const lines = [...existing, link].map(renderLine);
  const section = `${SECTION_BEGIN}\n${lines.join('\n')}\n${SECTION_END}`;
  const start = description.indexOf(SECTION_BEGIN);
  const end = description.indexOf(SECTION_END);
  if (start >= 0 && end > start) {
    return { description: description.slice(0, start) + section + description.slice(end + SECTION_END.length), changed: true };
  }
  const separator = description.length === 0 || description.endsWith('\n') ? '' : '\n';
  return { description: `${description}${separator}\n${section}\n`, changed: true };
}
