import { LogQuerySyntaxError, type Comparator, type LogSearch } from './ast';
import { parseLogGroupField, parseLogSearch, type LogGroupField } from './parse-search';
import { normalizeSearchTree, printLogField, printLogSearch } from './print-search';

/** Datadog's log monitor rollups; only `count` is evaluated on the embedded log store. */
const ROLLUP_METHODS = ['count', 'cardinality', 'avg', 'sum', 'min', 'max', 'median', 'pc75', 'pc90', 'pc95', 'pc98', 'pc99'] as const;
export type RollupMethod = (typeof ROLLUP_METHODS)[number];
const WINDOW = /^(\d+)([mhd])$/;
const WINDOW_UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const THRESHOLD = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/;
const METHOD_NAME = /^[A-Za-z_]+/;
/** How Datadog's 400 words an invalid query: the parameter, then what is wrong with it. */
const INVALID_QUERY = "The value provided for parameter 'query' is invalid: ";

export interface LogMonitorQuery {
  search: LogSearch;
  /** `*` when the query names none. */
  indexes: string[];
  rollup: { method: RollupMethod; facet: LogGroupField | null };
  groupBy: LogGroupField[];
  /** As written (`5m`), and in milliseconds. */
  window: string;
  windowMs: number;
  comparator: Comparator;
  threshold: number;
  /** Whether the embedded default can evaluate it; when not, why. */
  evaluable: { locally: true } | { locally: false; reason: string };
}

interface StringArgument {
  value: string;
  /** Where each character of the value stands in the query, for errors inside it. */
  positions: number[];
}

class MonitorQueryParser {
  private at = 0;

  constructor(private readonly text: string) {}

  parse(): LogMonitorQuery {
    this.skipSpace();
    if (!this.text.startsWith('logs(', this.at)) throw this.fail('a log alert query starts with logs("<search>")');
    this.at += 'logs('.length;
    const searchArgument = this.stringArguments('logs', 1, 1)[0]!;
    const search = parseLogSearch(searchArgument.value, (index) => searchArgument.positions[index] ?? searchArgument.positions.at(-1)! + 1);
    const calls = new Map<string, { args: StringArgument[]; at: number }>();
    for (;;) {
      this.skipSpace();
      if (this.text[this.at] !== '.') break;
      this.at++;
      const at = this.at;
      const name = METHOD_NAME.exec(this.text.slice(this.at))?.[0] ?? '';
      if (!['index', 'rollup', 'by', 'last'].includes(name)) throw this.fail(`unknown function .${name}(): a log alert query takes .index(), .rollup(), .by() and .last()`);
      if (calls.has(name)) throw this.fail(`.${name}() is given twice`);
      this.at += name.length;
      if (this.text[this.at] !== '(') throw this.fail(`expected "(" after .${name}`);
      this.at++;
      const [min, max] = name === 'index' ? [1, Infinity] : name === 'rollup' ? [1, 2] : [1, 1];
      calls.set(name, { args: this.stringArguments(name, min, max), at });
    }
    const rollupCall = calls.get('rollup');
    if (!rollupCall) throw this.fail('missing .rollup("count"): the query must say what it counts');
    const lastCall = calls.get('last');
    if (!lastCall) throw this.fail('missing .last("<n><m|h|d>"): the query must say over what window it counts');
    this.skipSpace();
    const comparator = /^(>=|<=|>|<)/.exec(this.text.slice(this.at))?.[1] as Comparator | undefined;
    // Datadog's own words when the comparison is missing or not one it takes.
    if (!comparator) throw this.fail(`invalid operator specified: ${this.text.slice(this.at, this.at + 2).trim()}`);
    this.at += comparator.length;
    this.skipSpace();
    const threshold = THRESHOLD.exec(this.text.slice(this.at))?.[0];
    if (threshold === undefined || !Number.isFinite(Number(threshold))) throw this.fail(`expected a number after ${comparator}`);
    this.at += threshold.length;
    this.skipSpace();
    if (this.at < this.text.length) throw this.fail(`unexpected ${JSON.stringify(this.text.slice(this.at, this.at + 20))} after the threshold`);

    const rollup = this.rollupOf(rollupCall);
    const groupBy = this.groupByOf(calls.get('by'));
    const { window, windowMs } = this.windowOf(lastCall);
    const indexes = calls.get('index')?.args.map((arg) => arg.value) ?? ['*'];
    const evaluable: LogMonitorQuery['evaluable'] =
      rollup.method !== 'count'
        ? { locally: false, reason: `rollup("${rollup.method}") is not evaluated on the embedded log store, which only counts` }
        : groupBy.length > 1
          ? { locally: false, reason: 'the embedded log store groups a count by one facet at most' }
          : { locally: true };
    return { search, indexes, rollup, groupBy, window, windowMs, comparator, threshold: Number(threshold) === 0 ? 0 : Number(threshold), evaluable };
  }

  private rollupOf(call: { args: StringArgument[]; at: number }): LogMonitorQuery['rollup'] {
    const [method, facet] = call.args;
    if (!(ROLLUP_METHODS as readonly string[]).includes(method!.value)) {
      throw this.fail(`rollup("${method!.value}") is not a rollup Datadog knows (${ROLLUP_METHODS.join(', ')})`, method!.positions[0] ?? call.at);
    }
    const name = method!.value as RollupMethod;
    if (name !== 'count' && !facet) throw this.fail(`rollup("${name}") needs the facet it aggregates: rollup("${name}", "@duration")`, call.at);
    return { method: name, facet: facet ? this.groupFieldOf(facet) : null };
  }

  private groupByOf(call: { args: StringArgument[]; at: number } | undefined): LogGroupField[] {
    if (!call) return [];
    const argument = call.args[0]!;
    // Datadog takes several facets in one string, comma-separated.
    const fields: LogGroupField[] = [];
    let offset = 0;
    for (const name of argument.value.split(',')) {
      const start = offset + (name.length - name.trimStart().length);
      fields.push(this.groupFieldOf({ value: name.trim(), positions: argument.positions.slice(start) }));
      offset += name.length + 1;
    }
    return fields;
  }

  private groupFieldOf(argument: StringArgument): LogGroupField {
    return parseLogGroupField(argument.value, (index) => argument.positions[index] ?? this.at);
  }

  private windowOf(call: { args: StringArgument[]; at: number }): { window: string; windowMs: number } {
    const argument = call.args[0]!;
    const match = WINDOW.exec(argument.value);
    if (!match || Number(match[1]) === 0) throw this.fail(`.last("${argument.value}") is not a window of the form <n><m|h|d>, such as 5m`, argument.positions[0] ?? call.at);
    return { window: argument.value, windowMs: Number(match[1]) * WINDOW_UNIT_MS[match[2] as keyof typeof WINDOW_UNIT_MS] };
  }

  /** `"a", "b")`: string literals up to the closing parenthesis, `\"` and `\\` escaped. */
  private stringArguments(name: string, min: number, max: number): StringArgument[] {
    const args: StringArgument[] = [];
    this.skipSpace();
    if (this.text[this.at] === ')') {
      if (min > 0) throw this.fail(`${name}() needs an argument`);
      this.at++;
      return args;
    }
    for (;;) {
      this.skipSpace();
      args.push(this.stringLiteral());
      this.skipSpace();
      const next = this.text[this.at];
      if (next === ')') break;
      if (next !== ',') throw this.fail(next === undefined ? `missing ")" to close ${name}(` : `expected "," or ")" in ${name}(…)`);
      this.at++;
    }
    this.at++;
    if (args.length > max) throw this.fail(`${name}() takes at most ${max} argument${max === 1 ? '' : 's'}`);
    return args;
  }

  private stringLiteral(): StringArgument {
    const start = this.at;
    if (this.text[this.at] !== '"') throw this.fail('expected a "quoted string"');
    this.at++;
    let value = '';
    const positions: number[] = [];
    for (;;) {
      const char = this.text[this.at];
      if (char === undefined) throw this.fail('unterminated string', start);
      if (char === '"') break;
      // Only a quote and a backslash are escaped at this level; other backslashes belong to the search.
      if (char === '\\' && (this.text[this.at + 1] === '"' || this.text[this.at + 1] === '\\')) {
        positions.push(this.at);
        value += this.text[this.at + 1];
        this.at += 2;
        continue;
      }
      positions.push(this.at);
      value += char;
      this.at++;
    }
    positions.push(this.at);
    this.at++;
    return { value, positions };
  }

  private skipSpace(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at]!)) this.at++;
  }

  private fail(reason: string, at = this.at): LogQuerySyntaxError {
    return new LogQuerySyntaxError(reason, at);
  }
}

/** Reads a log alert's query; fails with LogQuerySyntaxError, naming the position in the query. */
export function parseLogMonitorQuery(query: string): LogMonitorQuery {
  return new MonitorQueryParser(query).parse();
}

export type LogMonitorQueryValidation = { ok: true; parsed: LogMonitorQuery } | { ok: false; errors: string[] };

/**
 * The local stand-in for Datadog's monitor validation of a log alert's query: the errors read as
 * the `errors` of Datadog's 400, with the position of the problem.
 */
export function validateLogMonitorQuery(query: string): LogMonitorQueryValidation {
  try {
    return { ok: true, parsed: parseLogMonitorQuery(query) };
  } catch (error) {
    if (!(error instanceof LogQuerySyntaxError)) throw error;
    return { ok: false, errors: [`${INVALID_QUERY}${error.message}`] };
  }
}

function quote(text: string): string {
  return `"${text.replace(/["\\]/g, (char) => `\\${char}`)}"`;
}

/** The window in its largest whole unit: 60m and 1h are one window. */
function canonicalWindow(windowMs: number): string {
  for (const [unit, ms] of [['d', WINDOW_UNIT_MS.d], ['h', WINDOW_UNIT_MS.h]] as const) if (windowMs % ms === 0) return `${windowMs / ms}${unit}`;
  return `${windowMs / WINDOW_UNIT_MS.m}m`;
}

/** The query as text, its search as printLogSearch writes it. */
export function printLogMonitorQuery(parsed: LogMonitorQuery): string {
  const calls = [
    `.index(${parsed.indexes.map(quote).join(', ')})`,
    `.rollup(${[quote(parsed.rollup.method), ...(parsed.rollup.facet ? [quote(printLogField(parsed.rollup.facet))] : [])].join(', ')})`,
    ...(parsed.groupBy.length > 0 ? [`.by(${quote(parsed.groupBy.map(printLogField).join(','))})`] : []),
    `.last(${quote(parsed.window)})`,
  ];
  return `logs(${quote(printLogSearch(parsed.search))})${calls.join('')} ${parsed.comparator} ${parsed.threshold}`;
}

/**
 * One text for log alert queries that mean the same: the search normalized (normalizeSearchTree),
 * indexes sorted without repeats (`*` alone when it is among them), group-by facets sorted, the
 * window in its largest whole unit, spacing and quoting Steward's. For finding a monitor that
 * already watches what a new one would. Fails with LogQuerySyntaxError as parseLogMonitorQuery does.
 */
export function normalizeLogMonitorQuery(query: string): string {
  const parsed = parseLogMonitorQuery(query);
  const indexes = [...new Set(parsed.indexes)].sort();
  const groupBy = [...new Map(parsed.groupBy.map((field) => [printLogField(field), field])).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, field]) => field);
  return printLogMonitorQuery({
    ...parsed,
    search: normalizeSearchTree(parsed.search),
    indexes: indexes.includes('*') ? ['*'] : indexes,
    groupBy,
    window: canonicalWindow(parsed.windowMs),
  });
}
