/**
 * The log search language Steward evaluates itself: the subset of Datadog's log search syntax that
 * a log alert's `logs("…")` holds, read into a tree. Everything the parser accepts the matcher and
 * the embedded store's SQL compiler can evaluate; anything else is a syntax error with a position.
 */

/** OTLP's severity ranges, by the status names Datadog shows for them. */
export const SEVERITY_RANGES = {
  trace: [1, 4],
  debug: [5, 8],
  info: [9, 12],
  warn: [13, 16],
  error: [17, 20],
  fatal: [21, 24],
} as const satisfies Record<string, readonly [number, number]>;
export type StatusLevel = keyof typeof SEVERITY_RANGES;

/** Datadog's other status names, read as the OTLP range they answer to. */
export const STATUS_ALIASES: Readonly<Record<string, StatusLevel>> = {
  warning: 'warn',
  critical: 'fatal',
  emergency: 'fatal',
  alert: 'fatal',
  notice: 'info',
  err: 'error',
};

/**
 * Reserved tags the embedded store can answer, and the resource attributes that carry them in
 * OpenTelemetry (the first one a record has wins), as Datadog's OTLP intake maps them.
 */
export const RESERVED_TAG_ATTRIBUTES = {
  host: ['host.name'],
  env: ['deployment.environment.name', 'deployment.environment'],
  version: ['service.version'],
} as const satisfies Record<string, readonly string[]>;
export type ReservedTag = keyof typeof RESERVED_TAG_ATTRIBUTES;

/** One piece of a value: literal text, `*` (any run of characters) or `?` (exactly one). */
export type GlobPart = { kind: 'literal'; text: string } | { kind: 'anyChars' } | { kind: 'oneChar' };
/** A value to match; a quoted value is all literal. Adjacent literals are always merged. */
export type Glob = readonly GlobPart[];

/** What a facet names: a log's service, a reserved tag on its resource, or an attribute (`@a.b`). */
export type LogField = { kind: 'service' } | { kind: 'tag'; tag: ReservedTag } | { kind: 'attribute'; path: string };

export type Comparator = '>' | '>=' | '<' | '<=';

export type LogSearch =
  /** `*`, or an empty search: every log. */
  | { kind: 'all' }
  /** A bare word or "quoted phrase": found anywhere in the message, case-insensitively. */
  | { kind: 'text'; value: Glob }
  /** `service:checkout`, `host:web-*`, `@exception.type:TypeError`: the whole value, case-sensitively. */
  | { kind: 'field'; field: LogField; value: Glob }
  /** `status:error` and its aliases. */
  | { kind: 'status'; level: StatusLevel }
  /** `@http.status_code:>=500`: a numeric attribute (or numeric text) compared with a number. */
  | { kind: 'compare'; field: LogField & { kind: 'attribute' }; comparator: Comparator; value: number }
  /** `@http.status_code:[400 TO 499]`: both bounds included. */
  | { kind: 'range'; field: LogField & { kind: 'attribute' }; low: number; high: number }
  | { kind: 'not'; operand: LogSearch }
  /** Two or more operands, none of them itself an `and` (the parser flattens). */
  | { kind: 'and'; operands: LogSearch[] }
  /** Two or more operands, none of them itself an `or`. */
  | { kind: 'or'; operands: LogSearch[] };

/** A problem in a query's text, at a 0-based character position of the text given to the parser. */
export class LogQuerySyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly position: number,
  ) {
    super(`${reason} at position ${position}`);
    this.name = 'LogQuerySyntaxError';
  }
}

export function globHasWildcard(glob: Glob): boolean {
  return glob.some((part) => part.kind !== 'literal');
}

/** The literal text of a glob without wildcards. */
export function globLiteral(glob: Glob): string {
  return glob.map((part) => (part.kind === 'literal' ? part.text : '')).join('');
}

/** Adds a part, merging adjacent literals (and `**` into `*`), so that one value has one shape. */
export function pushGlobPart(parts: GlobPart[], part: GlobPart): void {
  const last = parts.at(-1);
  if (part.kind === 'literal' && last?.kind === 'literal') parts[parts.length - 1] = { kind: 'literal', text: last.text + part.text };
  else if (part.kind === 'anyChars' && last?.kind === 'anyChars') return;
  else if (part.kind !== 'literal' || part.text !== '') parts.push(part);
}
