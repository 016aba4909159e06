/**
 * Seeded random log searches and log records, for the properties of domain/log-query and of the
 * embedded store's SQL compiler (fast-check is not among the dependencies; a fixed seed makes a
 * failure repeat). Small alphabets, so that random searches often do match random records.
 */
import { pushGlobPart, SEVERITY_RANGES, type Glob, type GlobPart, type LogField, type LogSearch, type StatusLevel } from '../../domain/log-query';
import type { MatchableLogRecord } from '../../domain/log-query';

export type Next = (max: number) => number;

export function seededRandom(seed: number): Next {
  let state = seed;
  return (max: number): number => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return Math.floor((state / 2 ** 31) * (max + 1));
  };
}

const pick = <T>(next: Next, items: readonly T[]): T => items[next(items.length - 1)]!;

/** Letters in both cases, characters the syntax treats specially, and a few that SQL's LIKE does. */
const LITERAL_CHARS = ['a', 'b', 'A', 'B', 'e', 'r', ' ', '"', '\\', '*', '?', ':', '(', ')', '-', '%', '_', '[', '>', 'é', '.'];
const ATTRIBUTES = ['http.status_code', 'exception.type', 'user.id', 'host.name', 'flag'];
const SERVICES = ['checkout', 'billing', 'check-out'];
const LEVELS = Object.keys(SEVERITY_RANGES) as StatusLevel[];

export function randomGlob(next: Next, options: { wildcards: boolean }): Glob {
  const parts: GlobPart[] = [];
  const length = next(4);
  for (let i = 0; i < length; i++) {
    const roll = next(9);
    if (options.wildcards && roll === 0) pushGlobPart(parts, { kind: 'anyChars' });
    else if (options.wildcards && roll === 1) pushGlobPart(parts, { kind: 'oneChar' });
    else pushGlobPart(parts, { kind: 'literal', text: pick(next, LITERAL_CHARS) });
  }
  return parts;
}

function randomField(next: Next): LogField {
  const roll = next(5);
  if (roll === 0) return { kind: 'service' };
  if (roll === 1) return { kind: 'tag', tag: pick(next, ['host', 'env', 'version'] as const) };
  return { kind: 'attribute', path: pick(next, ATTRIBUTES) };
}

function randomLeaf(next: Next): LogSearch {
  switch (next(7)) {
    case 0:
      return { kind: 'all' };
    case 1:
    case 2: {
      const value = randomGlob(next, { wildcards: next(1) === 0 });
      // A word of `*` alone is read as every log: the parser never makes it a text term.
      return value.length === 1 && value[0]!.kind === 'anyChars' ? { kind: 'all' } : { kind: 'text', value };
    }
    case 3: {
      const field = randomField(next);
      const value: Glob = next(1) === 0 && field.kind === 'service' ? [{ kind: 'literal', text: pick(next, SERVICES) }] : randomGlob(next, { wildcards: next(1) === 0 });
      return { kind: 'field', field, value };
    }
    case 4:
      return { kind: 'status', level: pick(next, LEVELS) };
    case 5:
      return { kind: 'compare', field: { kind: 'attribute', path: pick(next, ATTRIBUTES) }, comparator: pick(next, ['>', '>=', '<', '<='] as const), value: next(600) - 50 };
    default: {
      const low = next(600);
      return { kind: 'range', field: { kind: 'attribute', path: pick(next, ATTRIBUTES) }, low, high: low + next(200) };
    }
  }
}

/** A search tree in the shape the parser gives: AND and OR flattened, each with two operands or more. */
export function randomSearch(next: Next, depth = 3): LogSearch {
  if (depth === 0 || next(2) === 0) return randomLeaf(next);
  const roll = next(2);
  if (roll === 0) return { kind: 'not', operand: randomSearch(next, depth - 1) };
  const kind = roll === 1 ? 'and' : 'or';
  const operands = Array.from({ length: 2 + next(2) }, () => randomSearch(next, depth - 1)).flatMap((operand) => (operand.kind === kind ? operand.operands : [operand]));
  return { kind, operands };
}

function randomScalar(next: Next): unknown {
  switch (next(5)) {
    case 0:
      return next(600);
    case 1:
      return String(next(600));
    case 2:
      return next(1) === 0;
    case 3:
      return { nested: 1 };
    default:
      return Array.from({ length: next(3) }, () => pick(next, LITERAL_CHARS)).join('');
  }
}

function randomAttributes(next: Next, keys: readonly string[]): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const key of keys) if (next(2) > 0) attributes[key] = randomScalar(next);
  return attributes;
}

export function randomRecord(next: Next): MatchableLogRecord & { severityText: string | null } {
  const severityNumber = next(24);
  const severityText = pick(next, [null, 'ERROR', 'error', 'fatal', 'INFO']);
  return {
    service: pick(next, SERVICES),
    message: Array.from({ length: next(8) }, () => pick(next, LITERAL_CHARS)).join(''),
    severityNumber,
    severityText,
    isError: severityNumber >= 17 || severityText?.toLowerCase() === 'error' || severityText?.toLowerCase() === 'fatal',
    attributes: randomAttributes(next, ATTRIBUTES),
    resourceAttributes: randomAttributes(next, [...ATTRIBUTES, 'deployment.environment.name', 'deployment.environment', 'service.version']),
  };
}
