import { globHasWildcard, globLiteral, type Glob, type LogField, type LogSearch } from './ast';
import type { LogGroupField } from './parse-search';

/** Characters a bare word or value may hold as they are; any other is quoted or escaped. */
const BARE_CHAR = /^[\p{L}\p{N}_.\/@#&+,;=~'!|^$%{}<>[\]-]$/u;
const KEYWORDS = new Set(['AND', 'OR', 'NOT']);

function bareSafe(text: string, context: 'word' | 'value'): boolean {
  if (text === '' || ![...text].every((char) => BARE_CHAR.test(char))) return false;
  if (context === 'word') return !text.startsWith('-') && !KEYWORDS.has(text);
  // A value's first character decides whether it is a comparison or a range.
  return !/^[<>[]/.test(text);
}

function printGlob(glob: Glob, context: 'word' | 'value'): string {
  if (!globHasWildcard(glob)) {
    const literal = globLiteral(glob);
    return bareSafe(literal, context) ? literal : `"${literal.replace(/["\\]/g, (char) => `\\${char}`)}"`;
  }
  // Wildcards only mean something outside quotes: every other character that would end or change the word is escaped.
  return glob
    .map((part, index) => {
      if (part.kind === 'anyChars') return '*';
      if (part.kind === 'oneChar') return '?';
      const escaped = [...part.text].map((char) => (BARE_CHAR.test(char) ? char : `\\${char}`)).join('');
      const leading = context === 'word' ? /^-/ : /^[<>[]/;
      return index === 0 && leading.test(escaped) ? `\\${escaped}` : escaped;
    })
    .join('');
}

export function printLogField(field: LogField | LogGroupField): string {
  switch (field.kind) {
    case 'service':
      return 'service';
    case 'status':
      return 'status';
    case 'tag':
      return field.tag;
    case 'attribute':
      return `@${field.path}`;
  }
}

function isCompound(search: LogSearch): boolean {
  return search.kind === 'and' || search.kind === 'or';
}

/**
 * The search as text that parses back to the same tree: AND by juxtaposition, negation as `-`,
 * parentheses only where precedence (NOT over AND over OR) needs them, values bare when they can be.
 */
export function printLogSearch(search: LogSearch): string {
  switch (search.kind) {
    case 'all':
      return '*';
    case 'text':
      return printGlob(search.value, 'word');
    case 'field':
      return `${printLogField(search.field)}:${printGlob(search.value, 'value')}`;
    case 'status':
      return `status:${search.level}`;
    case 'compare':
      return `${printLogField(search.field)}:${search.comparator}${search.value}`;
    case 'range':
      return `${printLogField(search.field)}:[${search.low} TO ${search.high}]`;
    case 'not':
      return isCompound(search.operand) ? `-(${printLogSearch(search.operand)})` : `-${printLogSearch(search.operand)}`;
    case 'and':
      return search.operands.map((operand) => (operand.kind === 'or' ? `(${printLogSearch(operand)})` : printLogSearch(operand))).join(' ');
    case 'or':
      return search.operands.map(printLogSearch).join(' OR ');
  }
}

function normalizeOperands(kind: 'and' | 'or', operands: LogSearch[]): LogSearch {
  const flat = operands.map(normalizeSearchTree).flatMap((operand) => (operand.kind === kind ? operand.operands : [operand]));
  // `*` is AND's identity and OR's absorbing element.
  if (kind === 'or' && flat.some((operand) => operand.kind === 'all')) return { kind: 'all' };
  const byText = new Map<string, LogSearch>();
  for (const operand of flat) if (operand.kind !== 'all') byText.set(printLogSearch(operand), operand);
  const sorted = [...byText.keys()].sort().map((text) => byText.get(text)!);
  if (sorted.length === 0) return { kind: 'all' };
  return sorted.length === 1 ? sorted[0]! : { kind, operands: sorted };
}

/**
 * One tree for searches that mean the same under the rules of the language: operands of AND and
 * of OR in one order, without repeats or redundant `*`, double negations dropped, statuses by their
 * canonical names, values quoted only when they must be (the parser already reads `"error"` and
 * `error` as one value).
 */
export function normalizeSearchTree(search: LogSearch): LogSearch {
  switch (search.kind) {
    case 'not': {
      const operand = normalizeSearchTree(search.operand);
      return operand.kind === 'not' ? operand.operand : { kind: 'not', operand };
    }
    case 'and':
    case 'or':
      return normalizeOperands(search.kind, search.operands);
    default:
      return search;
  }
}
