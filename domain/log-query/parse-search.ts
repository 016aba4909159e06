import {
  LogQuerySyntaxError,
  pushGlobPart,
  RESERVED_TAG_ATTRIBUTES,
  SEVERITY_RANGES,
  STATUS_ALIASES,
  type Comparator,
  type GlobPart,
  type LogField,
  type LogSearch,
  type ReservedTag,
  type StatusLevel,
} from './ast';

/** What a facet may be grouped by in a monitor's `.by(…)`: a field, or the status. */
export type LogGroupField = LogField | { kind: 'status' };

const KEYWORD = /^(AND|OR|NOT)(?=[\s()"]|$)/;
/** `key:` at the start of a term: a reserved tag, or `@` and a dotted attribute path. */
const FACET_KEY = /^(@?[A-Za-z0-9_][A-Za-z0-9_.-]*):/;
const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/;
const COMPARATOR = /^(>=|<=|>|<)/;
const KNOWN_STATUSES = [...Object.keys(SEVERITY_RANGES), ...Object.keys(STATUS_ALIASES)].join(', ');
const KNOWN_TAGS = ['service', 'status', ...Object.keys(RESERVED_TAG_ATTRIBUTES)].join(', ');

/** Characters that end a bare word or value unless escaped with a backslash. */
function endsTerm(char: string): boolean {
  return /\s/.test(char) || char === '(' || char === ')' || char === '"';
}

/** The status level a status value names, or null. */
export function statusLevelOf(value: string): StatusLevel | null {
  const name = value.toLowerCase();
  if (Object.hasOwn(SEVERITY_RANGES, name)) return name as StatusLevel;
  return Object.hasOwn(STATUS_ALIASES, name) ? STATUS_ALIASES[name]! : null;
}

class SearchParser {
  private at = 0;

  constructor(
    private readonly text: string,
    private readonly positionOf: (index: number) => number,
  ) {}

  parse(): LogSearch {
    this.skipSpace();
    if (this.at === this.text.length) return { kind: 'all' };
    const search = this.orExpression();
    this.skipSpace();
    if (this.at < this.text.length) {
      throw this.fail(this.peek() === ')' ? 'unexpected ")" without a matching "("' : `unexpected ${JSON.stringify(this.peek())}`);
    }
    return search;
  }

  private fail(reason: string, at = this.at): LogQuerySyntaxError {
    return new LogQuerySyntaxError(reason, this.positionOf(at));
  }

  private peek(offset = 0): string {
    return this.text[this.at + offset] ?? '';
  }

  private rest(): string {
    return this.text.slice(this.at);
  }

  private skipSpace(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at]!)) this.at++;
  }

  private keyword(): 'AND' | 'OR' | 'NOT' | null {
    const match = KEYWORD.exec(this.rest());
    return match ? (match[1] as 'AND' | 'OR' | 'NOT') : null;
  }

  private atOperandEnd(): boolean {
    return this.at === this.text.length || this.peek() === ')';
  }

  private orExpression(): LogSearch {
    const operands = [this.andExpression()];
    for (;;) {
      this.skipSpace();
      if (this.keyword() !== 'OR') break;
      this.at += 2;
      this.requireOperand('OR');
      operands.push(this.andExpression());
    }
    return combine('or', operands);
  }

  private andExpression(): LogSearch {
    const operands = [this.unary()];
    for (;;) {
      this.skipSpace();
      if (this.atOperandEnd()) break;
      const keyword = this.keyword();
      if (keyword === 'OR') break;
      if (keyword === 'AND') {
        this.at += 3;
        this.requireOperand('AND');
      }
      operands.push(this.unary());
    }
    return combine('and', operands);
  }

  private requireOperand(after: string): void {
    this.skipSpace();
    if (this.atOperandEnd()) throw this.fail(`expected a term after ${after}`);
    const keyword = this.keyword();
    if (keyword === 'AND' || keyword === 'OR') throw this.fail(`expected a term after ${after}, found ${keyword}`);
  }

  private unary(): LogSearch {
    this.skipSpace();
    if (this.keyword() === 'NOT') {
      this.at += 3;
      this.requireOperand('NOT');
      return { kind: 'not', operand: this.unary() };
    }
    if (this.peek() === '-') {
      const next = this.peek(1);
      if (next === '' || /\s/.test(next)) throw this.fail('a "-" negates the term right after it, without a space');
      this.at++;
      return { kind: 'not', operand: this.unary() };
    }
    return this.primary();
  }

  private primary(): LogSearch {
    const start = this.at;
    if (this.peek() === '(') {
      this.at++;
      this.skipSpace();
      if (this.peek() === ')') throw this.fail('empty parentheses');
      const inner = this.orExpression();
      this.skipSpace();
      if (this.peek() !== ')') throw this.fail('unclosed "("', start);
      this.at++;
      return inner;
    }
    const keyword = this.keyword();
    if (keyword) throw this.fail(`expected a term, found ${keyword}`);
    if (this.peek() === '"') return { kind: 'text', value: this.quoted() };
    const facet = FACET_KEY.exec(this.rest());
    if (facet) return this.facetTerm(facet[1]!);
    const word = this.bareGlob('a word');
    // A word of wildcards alone is found in every message: `*`, whatever it is spelled as.
    if (word.length === 1 && word[0]!.kind === 'anyChars') return { kind: 'all' };
    return { kind: 'text', value: word };
  }

  /** A "quoted phrase": every character literal, a backslash escaping the next. */
  private quoted(): GlobPart[] {
    const start = this.at;
    this.at++;
    let text = '';
    for (;;) {
      if (this.at >= this.text.length) throw this.fail('unterminated quote', start);
      const char = this.text[this.at]!;
      if (char === '"') break;
      if (char === '\\') {
        if (this.at + 1 >= this.text.length) throw this.fail('unterminated quote', start);
        text += this.text[this.at + 1];
        this.at += 2;
        continue;
      }
      text += char;
      this.at++;
    }
    this.at++;
    return text === '' ? [] : [{ kind: 'literal', text }];
  }

  /** A bare word or value: `*` and `?` are wildcards, a backslash makes the next character literal. */
  private bareGlob(what: string): GlobPart[] {
    const parts: GlobPart[] = [];
    const start = this.at;
    while (this.at < this.text.length && !endsTerm(this.text[this.at]!)) {
      const char = this.text[this.at]!;
      if (char === '\\') {
        if (this.at + 1 >= this.text.length) throw this.fail('a backslash at the end of the query escapes nothing');
        pushGlobPart(parts, { kind: 'literal', text: this.text[this.at + 1]! });
        this.at += 2;
      } else if (char === ':') {
        throw this.fail(`an unescaped ":" in ${what}: write it as \\: or quote the text`);
      } else {
        pushGlobPart(parts, char === '*' ? { kind: 'anyChars' } : char === '?' ? { kind: 'oneChar' } : { kind: 'literal', text: char });
        this.at++;
      }
    }
    if (this.at === start) throw this.fail(`expected ${what}`);
    return parts;
  }

  private facetTerm(key: string): LogSearch {
    const keyAt = this.at;
    const field = this.fieldOf(key, keyAt);
    this.at += key.length + 1;
    const valueAt = this.at;
    const next = this.peek();
    if (next === '' || /\s/.test(next) || next === ')') throw this.fail(`${key}: has no value`);
    if (next === '(') throw this.fail(`grouped values ${key}:(…) are not supported: write ${key}:a OR ${key}:b`);
    if (field === 'status') {
      if (next === '"') return this.statusOf(this.quoted().map((p) => (p.kind === 'literal' ? p.text : '')).join(''), valueAt);
      const glob = this.bareGlob(`the value of ${key}:`);
      if (glob.some((part) => part.kind !== 'literal')) throw this.fail('status: takes a status name, not a wildcard', valueAt);
      return this.statusOf(glob.map((p) => (p.kind === 'literal' ? p.text : '')).join(''), valueAt);
    }
    const comparator = COMPARATOR.exec(this.rest());
    if (next === '[' || comparator) {
      if (field.kind !== 'attribute') throw this.fail(`${key}: is text; numeric comparisons and ranges apply to @attributes`, valueAt);
      if (comparator) {
        this.at += comparator[1]!.length;
        return { kind: 'compare', field, comparator: comparator[1] as Comparator, value: this.number() };
      }
      return this.range(field);
    }
    if (next === '"') return { kind: 'field', field, value: this.quoted() };
    return { kind: 'field', field, value: this.bareGlob(`the value of ${key}:`) };
  }

  private fieldOf(key: string, at: number): LogField | 'status' {
    if (key.startsWith('@')) {
      const path = key.slice(1);
      if (path.split('.').some((segment) => segment === '')) throw this.fail(`${key} is not an attribute path: its dotted segments must not be empty`, at);
      return { kind: 'attribute', path };
    }
    if (key === 'service') return { kind: 'service' };
    if (key === 'status') return 'status';
    if (Object.hasOwn(RESERVED_TAG_ATTRIBUTES, key)) return { kind: 'tag', tag: key as ReservedTag };
    throw this.fail(`the tag ${key}: is not one the embedded log store keeps (${KNOWN_TAGS}); attributes are written @${key}:`, at);
  }

  private statusOf(value: string, at: number): LogSearch {
    const level = statusLevelOf(value);
    if (!level) throw this.fail(`status:${value} is not a status the embedded log store knows (${KNOWN_STATUSES})`, at);
    return { kind: 'status', level };
  }

  private number(): number {
    const match = NUMBER.exec(this.rest());
    if (!match || (this.peek(match[0].length) !== '' && !endsTerm(this.peek(match[0].length)) && this.peek(match[0].length) !== ']')) {
      throw this.fail('expected a number');
    }
    const value = Number(match[0]);
    if (!Number.isFinite(value)) throw this.fail(`${match[0]} is too large a number`);
    this.at += match[0].length;
    // -0 prints as 0: one number, one spelling.
    return value === 0 ? 0 : value;
  }

  private range(field: LogField & { kind: 'attribute' }): LogSearch {
    const start = this.at;
    this.at++;
    this.skipSpace();
    const low = this.number();
    this.skipSpace();
    if (!/^TO\s/.test(this.rest())) throw this.fail('expected TO between the bounds of a range');
    this.at += 2;
    this.skipSpace();
    const high = this.number();
    this.skipSpace();
    if (this.peek() !== ']') throw this.fail('unclosed "[": a range ends with "]"', start);
    this.at++;
    if (low > high) throw this.fail(`the range [${low} TO ${high}] is empty: its low bound is above its high bound`, start);
    return { kind: 'range', field, low, high };
  }

  /** A facet name as `.by(…)` and `rollup(…, facet)` take it: the whole text is one key. */
  groupField(): LogGroupField {
    const match = /^(@?[A-Za-z0-9_][A-Za-z0-9_.-]*)$/.exec(this.text);
    if (!match) throw this.fail(`${JSON.stringify(this.text)} is not a facet name (service, status, host, env, version or @attribute)`);
    const field = this.fieldOf(match[1]!, 0);
    return field === 'status' ? { kind: 'status' } : field;
  }
}

function combine(kind: 'and' | 'or', operands: LogSearch[]): LogSearch {
  const flat = operands.flatMap((operand) => (operand.kind === kind ? operand.operands : [operand]));
  return flat.length === 1 ? flat[0]! : { kind, operands: flat };
}

/**
 * Reads a log search. Fails with LogQuerySyntaxError, naming the position, on anything outside the
 * subset (see ast.ts). `positionOf` maps a character of `text` to where it stands in a larger text
 * (the monitor query that quotes it), so that errors point there.
 */
export function parseLogSearch(text: string, positionOf: (index: number) => number = (index) => index): LogSearch {
  return new SearchParser(text, positionOf).parse();
}

/** Reads a facet name (`service`, `status`, `host`, `@http.status_code`) as `.by(…)` takes it. */
export function parseLogGroupField(text: string, positionOf: (index: number) => number = (index) => index): LogGroupField {
  return new SearchParser(text, positionOf).groupField();
}
