import type { MatchKind, MonitorProposal } from './proposal';

/**
 * A generated monitor watches for strings the new code emits: a log message, an endpoint, a span
 * or attribute name. A string the model made up matches nothing, so the monitor would sit silent
 * forever and look like coverage. Each literal the proposal relies on is looked up in the code at
 * the merge commit; a quoted phrase of the query the proposal does not list is never looked up,
 * and the proposal is dropped: the model would be vouching for a string it did not declare.
 * The lookup is the caller's (the code-search port); this module only decides.
 */

export interface LiteralLookupResult {
  found: boolean;
  where?: { file: string; line: number };
}
export type LiteralLookup = (literal: string, kind: MatchKind) => Promise<LiteralLookupResult>;

export type LiteralOutcome = 'found' | 'not_found' | 'unlisted';

export interface LiteralCheck {
  literal: string;
  /** Null for a phrase of the query that `matches` does not list. */
  kind: MatchKind | null;
  outcome: LiteralOutcome;
  where: { file: string; line: number } | null;
  reason: string;
}

export interface GroundingDecision {
  keep: boolean;
  checks: LiteralCheck[];
  /** One sentence: why it is kept, or the first reason it is dropped. */
  reason: string;
}

/** The functions of a log alert whose quoted arguments are names (an index, an aggregation), not phrases of the search. */
const ARGUMENT_CALL = /[A-Za-z_]\w*\s*\(\s*(?:"[^"]*"\s*,\s*)*$/;
const SEARCH_CALL = /\blogs\s*\(\s*$/;

interface QuotedString {
  content: string;
  start: number;
}

/** Double-quoted strings at the top level of a text, with backslash escapes undone. Only quotes are tokenized: nothing else of the query's syntax is read. */
export function quotedStrings(text: string): QuotedString[] {
  const strings: QuotedString[] = [];
  let index = 0;
  while (index < text.length) {
    if (text[index] !== '"') {
      index++;
      continue;
    }
    const start = index;
    let content = '';
    index++;
    let closed = false;
    while (index < text.length) {
      const char = text[index]!;
      if (char === '\\' && index + 1 < text.length) {
        content += text[index + 1];
        index += 2;
        continue;
      }
      if (char === '"') {
        closed = true;
        index++;
        break;
      }
      content += char;
      index++;
    }
    // An unterminated quote still quotes what follows it: the phrase counts, so that it is checked rather than overlooked.
    strings.push({ content, start });
    if (!closed) break;
  }
  return strings;
}

/**
 * The quoted phrases a query searches for. In a log alert (`logs("…").index("*")…`) they sit inside
 * the search string, escaped; the other quoted arguments (index, rollup, group-by) are names and
 * are skipped. In any other query or a bare search, every top-level quoted string is a phrase.
 */
export function quotedPhrases(query: string): string[] {
  const phrases: string[] = [];
  for (const string of quotedStrings(query)) {
    const before = query.slice(0, string.start);
    if (SEARCH_CALL.test(before)) phrases.push(...quotedStrings(string.content).map((inner) => inner.content));
    else if (!ARGUMENT_CALL.test(before)) phrases.push(string.content);
  }
  return [...new Set(phrases.map(normalizePhrase).filter((phrase) => phrase !== ''))];
}

function normalizePhrase(phrase: string): string {
  return phrase.trim().replace(/\s+/g, ' ');
}

export async function groundProposal(proposal: MonitorProposal, lookup: LiteralLookup): Promise<GroundingDecision> {
  const listed = new Map<string, { literal: string; kind: MatchKind }>();
  for (const match of proposal.matches) {
    const literal = normalizePhrase(match.literal);
    if (literal !== '') listed.set(JSON.stringify([match.kind, literal]), { literal, kind: match.kind });
  }
  const listedLiterals = new Set([...listed.values()].map((match) => match.literal));
  const unlisted: LiteralCheck[] = quotedPhrases(proposal.query)
    .filter((phrase) => !listedLiterals.has(phrase))
    .map((phrase) => ({ literal: phrase, kind: null, outcome: 'unlisted', where: null, reason: `the query searches for ${JSON.stringify(phrase)}, which the proposal does not list among its matches, so it was never checked` }));

  // A failing lookup fails the grounding: a proposal is never kept, or dropped, on a lookup that did not happen.
  const looked = await Promise.all(
    [...listed.values()].map(async ({ literal, kind }): Promise<LiteralCheck> => {
      const result = await lookup(literal, kind);
      if (result.found) {
        const where = result.where ?? null;
        return { literal, kind, outcome: 'found', where, reason: `found${where ? ` at ${where.file}:${where.line}` : ''}` };
      }
      return { literal, kind, outcome: 'not_found', where: null, reason: `${describeKind(kind)} ${JSON.stringify(literal)} is not in the code at the merge commit` };
    }),
  );
  const checks = [...looked, ...unlisted];
  const failed = checks.find((check) => check.outcome !== 'found');
  if (failed) return { keep: false, checks, reason: `dropped: ${failed.reason}` };
  if (checks.length === 0) return { keep: false, checks, reason: 'dropped: the proposal names no string of the code it watches, so nothing about it can be checked' };
  return { keep: true, checks, reason: `kept: ${checks.length === 1 ? 'its one literal is' : `all ${checks.length} literals are`} in the code` };
}

function describeKind(kind: MatchKind): string {
  return { log_message: 'the log message', endpoint: 'the endpoint', span: 'the span', attribute: 'the attribute' }[kind];
}
