import { randomRecord, randomSearch, seededRandom } from '../../test/support/random-log-search';
import {
  LogQuerySyntaxError,
  matchesLogRecord,
  normalizeLogMonitorQuery,
  normalizeSearchTree,
  parseLogMonitorQuery,
  parseLogSearch,
  printLogSearch,
  validateLogMonitorQuery,
  type LogSearch,
  type MatchableLogRecord,
} from '.';

const lit = (text: string) => [{ kind: 'literal' as const, text }];
const word = (text: string): LogSearch => ({ kind: 'text', value: lit(text) });

function record(overrides: Partial<MatchableLogRecord> = {}): MatchableLogRecord {
  return { service: 'checkout', message: 'Checkout failed', severityNumber: 17, isError: true, attributes: {}, resourceAttributes: {}, ...overrides };
}

function syntaxErrorOf(query: string): LogQuerySyntaxError {
  try {
    parseLogSearch(query);
  } catch (error) {
    if (error instanceof LogQuerySyntaxError) return error;
    throw error;
  }
  throw new Error(`${query} parsed`);
}

describe('parseLogSearch', () => {
  it('reads words, phrases, facets and statuses, joined by implicit AND', () => {
    expect(parseLogSearch('service:checkout status:warning "card declined" timeout')).toEqual({
      kind: 'and',
      operands: [{ kind: 'field', field: { kind: 'service' }, value: lit('checkout') }, { kind: 'status', level: 'warn' }, word('card declined'), word('timeout')],
    });
    expect(parseLogSearch('')).toEqual({ kind: 'all' });
    expect(parseLogSearch('  *  ')).toEqual({ kind: 'all' });
  });

  it('gives NOT precedence over AND, and AND over OR', () => {
    expect(parseLogSearch('a b OR NOT c d')).toEqual({
      kind: 'or',
      operands: [
        { kind: 'and', operands: [word('a'), word('b')] },
        { kind: 'and', operands: [{ kind: 'not', operand: word('c') }, word('d')] },
      ],
    });
    expect(parseLogSearch('a AND (b OR c)')).toEqual({ kind: 'and', operands: [word('a'), { kind: 'or', operands: [word('b'), word('c')] }] });
    expect(parseLogSearch('-(a OR b)')).toEqual({ kind: 'not', operand: { kind: 'or', operands: [word('a'), word('b')] } });
  });

  it('reads lower-case and, or and not as words, as Datadog does', () => {
    expect(parseLogSearch('a or b')).toEqual({ kind: 'and', operands: [word('a'), word('or'), word('b')] });
  });

  it('reads wildcards outside quotes and escapes anywhere', () => {
    expect(parseLogSearch('err*')).toEqual({ kind: 'text', value: [...lit('err'), { kind: 'anyChars' }] });
    expect(parseLogSearch('service:check?ut')).toEqual({ kind: 'field', field: { kind: 'service' }, value: [...lit('check'), { kind: 'oneChar' }, ...lit('ut')] });
    expect(parseLogSearch('"err*"')).toEqual(word('err*'));
    expect(parseLogSearch('err\\*')).toEqual(word('err*'));
    expect(parseLogSearch('"say \\"hi\\""')).toEqual(word('say "hi"'));
    expect(parseLogSearch('@url:http\\://x')).toEqual({ kind: 'field', field: { kind: 'attribute', path: 'url' }, value: lit('http://x') });
  });

  it('reads attributes, reserved tags, numeric comparisons and ranges', () => {
    expect(parseLogSearch('@http.status_code:>=500')).toEqual({ kind: 'compare', field: { kind: 'attribute', path: 'http.status_code' }, comparator: '>=', value: 500 });
    expect(parseLogSearch('@http.status_code:[400 TO 499]')).toEqual({ kind: 'range', field: { kind: 'attribute', path: 'http.status_code' }, low: 400, high: 499 });
    expect(parseLogSearch('env:prod host:web-1 version:"1.4.2"')).toEqual({
      kind: 'and',
      operands: [
        { kind: 'field', field: { kind: 'tag', tag: 'env' }, value: lit('prod') },
        { kind: 'field', field: { kind: 'tag', tag: 'host' }, value: lit('web-1') },
        { kind: 'field', field: { kind: 'tag', tag: 'version' }, value: lit('1.4.2') },
      ],
    });
  });

  it.each([
    ['"unterminated', 'unterminated quote', 0],
    ['a (b c', 'unclosed "("', 2],
    ['a )', 'unexpected ")" without a matching "("', 2],
    ['a OR', 'expected a term after OR', 4],
    ['a AND OR b', 'expected a term after AND, found OR', 6],
    ['- a', 'a "-" negates the term right after it, without a space', 0],
    ['status:verbose', 'status:verbose is not a status the embedded log store knows', 7],
    ['team:payments', 'the tag team: is not one the embedded log store keeps', 0],
    ['service:>5', 'service: is text; numeric comparisons and ranges apply to @attributes', 8],
    ['@a:[5 TO 1]', 'the range [5 TO 1] is empty', 3],
    ['@a:>=x', 'expected a number', 5],
    ['@a..b:1', '@a..b is not an attribute path', 0],
    ['http://x', 'the tag http: is not one', 0],
    ['a:', 'the tag a: is not one', 0],
    ['service:(a OR b)', 'grouped values service:(…) are not supported', 8],
    ['a\\', 'a backslash at the end of the query escapes nothing', 1],
  ])('refuses %s, saying why and where', (query, reason, position) => {
    const error = syntaxErrorOf(query);
    expect(error.reason).toContain(reason);
    expect(error.position).toBe(position);
    expect(error.message).toBe(`${error.reason} at position ${position}`);
  });
});

describe('printLogSearch', () => {
  it('writes values bare when it can, quoted or escaped when it must', () => {
    expect(printLogSearch(parseLogSearch('"error"'))).toBe('error');
    expect(printLogSearch(parseLogSearch('"AND" "-x" "a b" "a:b"'))).toBe('"AND" "-x" "a b" "a:b"');
    expect(printLogSearch(parseLogSearch('"a b"* \\-x*'))).toBe('"a b" * \\-x*');
    expect(printLogSearch(parseLogSearch('a\\ b*'))).toBe('a\\ b*');
    expect(printLogSearch(parseLogSearch('NOT (a b) OR c'))).toBe('-(a b) OR c');
  });

  it('prints any tree the parser makes as text the parser reads back to it', () => {
    const next = seededRandom(20_261_202);
    for (let i = 0; i < 3_000; i++) {
      const search = randomSearch(next);
      const text = printLogSearch(search);
      expect({ text, parsed: parseLogSearch(text) }).toEqual({ text, parsed: search });
    }
  });
});

describe('normalizeSearchTree', () => {
  const normal = (query: string) => printLogSearch(normalizeSearchTree(parseLogSearch(query)));

  it('gives one text to searches that differ in order, spacing, quotes, aliases, repeats and double negation', () => {
    const variants = [
      'service:checkout status:error "timeout"',
      '  status:ERROR   AND timeout service:"checkout"',
      '(timeout service:checkout) status:error status:error * ',
      'NOT -timeout (service:checkout AND status:error)',
    ];
    expect(new Set(variants.map(normal))).toEqual(new Set(['service:checkout status:error timeout']));
    expect(normal('b OR a OR (c OR a)')).toBe(normal('a OR b OR c'));
    expect(normal('status:warning')).toBe('status:warn');
  });

  it('keeps apart searches that differ in meaning', () => {
    expect(normal('a b OR c')).not.toBe(normal('a (b OR c)'));
    expect(normal('-a b')).not.toBe(normal('-(a b)'));
    expect(normal('service:checkout')).not.toBe(normal('service:check*'));
  });

  it('is idempotent and keeps what a search finds', () => {
    const next = seededRandom(7_001);
    for (let i = 0; i < 1_000; i++) {
      const search = randomSearch(next);
      const once = printLogSearch(normalizeSearchTree(search));
      expect(printLogSearch(normalizeSearchTree(parseLogSearch(once)))).toBe(once);
      const normalized = normalizeSearchTree(search);
      for (let r = 0; r < 10; r++) {
        const log = randomRecord(next);
        expect({ once, found: matchesLogRecord(normalized, log) }).toEqual({ once, found: matchesLogRecord(search, log) });
      }
    }
  });
});

describe('matchesLogRecord', () => {
  const matches = (query: string, overrides: Partial<MatchableLogRecord> = {}) => matchesLogRecord(parseLogSearch(query), record(overrides));

  it('finds words and phrases anywhere in the message, whatever their case, wildcards included', () => {
    expect(matches('checkout')).toBe(true);
    expect(matches('"checkout failed"')).toBe(true);
    expect(matches('"failed checkout"')).toBe(false);
    expect(matches('ch?ck*fail')).toBe(true);
    expect(matches('"ch?ck"')).toBe(false);
  });

  it('matches facet values whole and case-sensitively', () => {
    expect(matches('service:checkout')).toBe(true);
    expect(matches('service:check')).toBe(false);
    expect(matches('service:check*')).toBe(true);
    expect(matches('service:Checkout')).toBe(false);
  });

  it('reads an attribute from the record, else its resource, and reserved tags from the resource', () => {
    const log = { attributes: { 'http.status_code': 503, 'exception.type': 'TypeError' }, resourceAttributes: { 'host.name': 'web-1', 'exception.type': 'Other', region: 'eu', 'deployment.environment': 'prod' } };
    expect(matches('@http.status_code:503', log)).toBe(true);
    expect(matches('@exception.type:TypeError', log)).toBe(true);
    expect(matches('@exception.type:Other', log)).toBe(false);
    expect(matches('@region:eu', log)).toBe(true);
    expect(matches('host:web-* env:prod', log)).toBe(true);
    expect(matches('@missing:x', log)).toBe(false);
    expect(matches('-@missing:x', log)).toBe(true);
  });

  it('compares numbers and numeric text, and nothing else', () => {
    const at = (value: unknown) => ({ attributes: { 'http.status_code': value } });
    expect(matches('@http.status_code:>=500', at(500))).toBe(true);
    expect(matches('@http.status_code:>500', at(500))).toBe(false);
    expect(matches('@http.status_code:<500', at('499'))).toBe(true);
    expect(matches('@http.status_code:[400 TO 499]', at(499))).toBe(true);
    expect(matches('@http.status_code:[400 TO 499]', at(500))).toBe(false);
    expect(matches('@http.status_code:>0', at('many'))).toBe(false);
    expect(matches('@http.status_code:>0', at(true))).toBe(false);
  });

  it('reads status:error as every error record, and other statuses by severity range', () => {
    expect(matches('status:error', { severityNumber: 21 })).toBe(true);
    expect(matches('status:error', { severityNumber: 0, isError: true })).toBe(true);
    expect(matches('status:warn', { severityNumber: 13, isError: false })).toBe(true);
    expect(matches('status:critical', { severityNumber: 13, isError: false })).toBe(false);
    expect(matches('status:info OR status:warn', { severityNumber: 9, isError: false })).toBe(true);
  });
});

describe('log monitor queries', () => {
  const query = 'logs("service:checkout status:error \\"card declined\\"").index("*").rollup("count").by("@http.status_code").last("5m") > 2';

  it('reads the search, indexes, rollup, grouping, window and threshold', () => {
    expect(parseLogMonitorQuery(query)).toEqual({
      search: parseLogSearch('service:checkout status:error "card declined"'),
      indexes: ['*'],
      rollup: { method: 'count', facet: null },
      groupBy: [{ kind: 'attribute', path: 'http.status_code' }],
      window: '5m',
      windowMs: 300_000,
      comparator: '>',
      threshold: 2,
      evaluable: { locally: true },
    });
    expect(parseLogMonitorQuery('logs("*").rollup("count").last("2h") <= 0.5')).toMatchObject({ indexes: ['*'], groupBy: [], windowMs: 7_200_000, comparator: '<=', threshold: 0.5 });
  });

  it('parses other rollups but marks them not evaluated locally', () => {
    const parsed = parseLogMonitorQuery('logs("service:checkout").index("main").rollup("avg", "@duration").last("15m") >= 300');
    expect(parsed.rollup).toEqual({ method: 'avg', facet: { kind: 'attribute', path: 'duration' } });
    expect(parsed.evaluable).toEqual({ locally: false, reason: expect.stringContaining('rollup("avg")') });
    expect(parseLogMonitorQuery('logs("a").rollup("count").by("service,host").last("5m") > 1').evaluable).toMatchObject({ locally: false });
  });

  it("validates with errors worded as Datadog's 400, with the position", () => {
    expect(validateLogMonitorQuery(query)).toMatchObject({ ok: true });
    expect(validateLogMonitorQuery('logs("a").rollup("count").last("5m")')).toEqual({
      ok: false,
      errors: ["The value provided for parameter 'query' is invalid: invalid operator specified:  at position 36"],
    });
    const inSearch = 'logs("service:checkout (a").rollup("count").last("5m") > 1';
    expect(validateLogMonitorQuery(inSearch)).toEqual({ ok: false, errors: [`The value provided for parameter 'query' is invalid: unclosed "(" at position ${inSearch.indexOf('(a')}`] });
    const escaped = 'logs("\\"x\\" status:nope").rollup("count").last("5m") > 1';
    expect(validateLogMonitorQuery(escaped)).toEqual({ ok: false, errors: [expect.stringContaining(`at position ${escaped.indexOf('nope')}`)] });
  });

  it.each([
    ['query', 'starts with logs("<search>")'],
    ['logs("a").last("5m") > 1', 'missing .rollup("count")'],
    ['logs("a").rollup("count") > 1', 'missing .last('],
    ['logs("a").rollup("count").last("5s") > 1', '.last("5s") is not a window'],
    ['logs("a").rollup("count").last("5m").last("5m") > 1', '.last() is given twice'],
    ['logs("a").rollup("count").every("5m") > 1', 'unknown function .every()'],
    ['logs("a").rollup("avg").last("5m") > 1', 'needs the facet'],
    ['logs("a").rollup("p42").last("5m") > 1', 'not a rollup Datadog knows'],
    ['logs("a").rollup("count").by("team").last("5m") > 1', 'the tag team: is not one'],
    ['logs("a").rollup("count").last("5m") > x', 'expected a number after >'],
    ['logs("a").rollup("count").last("5m") > 1 extra', 'unexpected "extra" after the threshold at position 41'],
    ['logs("a).rollup("count").last("5m") > 1', 'expected "," or ")" in logs'],
  ])('refuses %s', (text, reason) => {
    const result = validateLogMonitorQuery(text);
    expect(result).toEqual({ ok: false, errors: [expect.stringContaining(reason)] });
  });

  it('normalizes queries that mean the same to one text', () => {
    const variants = [
      'logs("status:error service:checkout").index("*").rollup("count").last("60m") > 2',
      'logs( "service:checkout AND status:ERROR" ).rollup( "count" ).last("1h")>2',
      'logs("service:\\"checkout\\" status:error").index("*","*").rollup("count").last("1h") > 2.0',
    ];
    expect(new Set(variants.map(normalizeLogMonitorQuery))).toEqual(new Set(['logs("service:checkout status:error").index("*").rollup("count").last("1h") > 2']));
    expect(normalizeLogMonitorQuery('logs("a").index("b","a").rollup("count").by("service").last("5m") > 2')).toBe(
      'logs("a").index("a", "b").rollup("count").by("service").last("5m") > 2',
    );
    expect(normalizeLogMonitorQuery('logs("a").rollup("count").last("5m") > 2')).not.toBe(normalizeLogMonitorQuery('logs("a").rollup("count").last("5m") >= 2'));
  });

  it('normalizes idempotently, searches with quotes and backslashes included', () => {
    const next = seededRandom(42);
    for (let i = 0; i < 500; i++) {
      const text = `logs(${JSON.stringify(printLogSearch(randomSearch(next)))}).rollup("count").last("${1 + next(90)}m") > ${next(10)}`;
      const once = normalizeLogMonitorQuery(text);
      expect({ text, twice: normalizeLogMonitorQuery(once) }).toEqual({ text, twice: once });
    }
  });
});
