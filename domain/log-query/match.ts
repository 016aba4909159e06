import { RESERVED_TAG_ATTRIBUTES, SEVERITY_RANGES, type Glob, type LogField, type LogSearch } from './ast';

/** The parts of a stored log record a search reads (ports/log-records.port.ts's LogRecord has them all). */
export interface MatchableLogRecord {
  service: string;
  message: string;
  severityNumber: number;
  isError: boolean;
  /** Flat, dotted keys, as OpenTelemetry sends them. */
  attributes: Readonly<Record<string, unknown>>;
  resourceAttributes: Readonly<Record<string, unknown>>;
}

/** What counts as a number in an attribute's text: numeric comparisons and ranges read only these. */
export const NUMERIC_TEXT = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** A scalar attribute as text, as Postgres's `->>` gives it; objects, arrays and null are no value. */
export function scalarText(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return null;
}

/**
 * The text a field has on a record, or null. An attribute is looked up in the record's attributes,
 * and only when they do not hold the key, in its resource's; a reserved tag in the resource.
 */
export function fieldText(field: LogField, record: MatchableLogRecord): string | null {
  switch (field.kind) {
    case 'service':
      return record.service;
    case 'tag': {
      for (const key of RESERVED_TAG_ATTRIBUTES[field.tag]) {
        const text = scalarText(record.resourceAttributes[key]);
        if (text !== null) return text;
      }
      return null;
    }
    case 'attribute':
      return Object.hasOwn(record.attributes, field.path) ? scalarText(record.attributes[field.path]) : scalarText(record.resourceAttributes[field.path]);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Compiled once per glob of a parsed search, which an evaluator matches against many records. */
const compiled = new WeakMap<Glob, Map<string, RegExp>>();

/** The glob as a regular expression over code points: anchored for a value, anywhere for message text. */
export function globRegExp(glob: Glob, options: { anchored: boolean; caseInsensitive: boolean }): RegExp {
  const key = `${options.anchored}/${options.caseInsensitive}`;
  const cached = compiled.get(glob)?.get(key);
  if (cached) return cached;
  const body = glob.map((part) => (part.kind === 'literal' ? escapeRegExp(part.text) : part.kind === 'anyChars' ? '[^]*' : '[^]')).join('');
  const regExp = new RegExp(options.anchored ? `^${body}$` : body, options.caseInsensitive ? 'iu' : 'u');
  compiled.set(glob, (compiled.get(glob) ?? new Map<string, RegExp>()).set(key, regExp));
  return regExp;
}

function numberOf(field: LogField, record: MatchableLogRecord): number | null {
  const text = fieldText(field, record);
  return text !== null && NUMERIC_TEXT.test(text) ? Number(text) : null;
}

/**
 * Whether the record is one the search finds. The embedded store's SQL compiler means the same;
 * tests hold the two to it. A negation matches the records that lack the field, as in Datadog.
 */
export function matchesLogRecord(search: LogSearch, record: MatchableLogRecord): boolean {
  switch (search.kind) {
    case 'all':
      return true;
    case 'text':
      return globRegExp(search.value, { anchored: false, caseInsensitive: true }).test(record.message);
    case 'field': {
      const text = fieldText(search.field, record);
      return text !== null && globRegExp(search.value, { anchored: true, caseInsensitive: false }).test(text);
    }
    case 'status': {
      // status:error is every error record, fatal ones and those whose severity text alone says so included.
      if (search.level === 'error') return record.isError;
      const [low, high] = SEVERITY_RANGES[search.level];
      return record.severityNumber >= low && record.severityNumber <= high;
    }
    case 'compare': {
      const value = numberOf(search.field, record);
      if (value === null) return false;
      switch (search.comparator) {
        case '>':
          return value > search.value;
        case '>=':
          return value >= search.value;
        case '<':
          return value < search.value;
        case '<=':
          return value <= search.value;
      }
      break;
    }
    case 'range': {
      const value = numberOf(search.field, record);
      return value !== null && value >= search.low && value <= search.high;
    }
    case 'not':
      return !matchesLogRecord(search.operand, record);
    case 'and':
      return search.operands.every((operand) => matchesLogRecord(operand, record));
    case 'or':
      return search.operands.some((operand) => matchesLogRecord(operand, record));
  }
}
