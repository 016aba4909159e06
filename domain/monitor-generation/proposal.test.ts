import type { MonitorDefinition } from '../../adapters/datadog-monitors.adapter';
import { comparisonOf, datadogTag, defuseMentions, fileTag, MAX_TAG_LENGTH, MonitorProposal, monitorDefinitionOf, stewardTags, tagValue, windowMs, withCriticalThreshold } from './proposal';

const proposalFixture = (overrides: Partial<MonitorProposal> = {}): MonitorProposal =>
  MonitorProposal.parse({
    name: 'checkout: bulk price missing',
    type: 'log alert',
    query: 'logs("service:checkout status:error \\"bulk price missing for\\"").index("*").rollup("count").last("5m") > 5',
    thresholds: { critical: 5, warning: 2 },
    evaluationWindow: '5m',
    priority: 2,
    message: 'Bulk pricing met an item without a bulk price.',
    location: { file: 'src/pricing.js', line: 42, symbol: 'bulkPriceCents' },
    matches: [{ literal: 'bulk price missing for', kind: 'log_message' }],
    rationale: 'The PR adds this error path; it should stay silent.',
    ...overrides,
  });

const origin = { repository: 'Acme/Checkout-Service', sha: '0123456789abcdef0123456789abcdef01234567', pullRequest: 17 };

describe('MonitorProposal', () => {
  it('accepts a proposal as the model returns it', () => {
    expect(proposalFixture().matches).toEqual([{ literal: 'bulk price missing for', kind: 'log_message' }]);
  });

  it.each([
    ['a priority outside 1–5', { priority: 6 }, 'priority'],
    ['an unknown type', { type: 'metric alert' }, 'type'],
    ['an unknown match kind', { matches: [{ literal: 'x', kind: 'function' }] }, 'matches'],
    ['a window without unit', { evaluationWindow: '5' }, 'evaluationWindow'],
    ['a log alert without comparison', { query: 'logs("service:checkout").index("*").rollup("count").last("5m")' }, 'query'],
    ['a warning past the critical', { thresholds: { critical: 5, warning: 9 } }, 'warning'],
    ['no rationale', { rationale: ' ' }, 'rationale'],
    ['a window the query does not count over', { evaluationWindow: '15m' }, 'evaluationWindow'],
    ['a metric query over another window', { type: 'query alert', query: 'avg(last_1h):avg:trace.http.request.errors{service:checkout} > 5' }, 'evaluationWindow'],
  ])('refuses %s', (_what, overrides, path) => {
    const result = MonitorProposal.safeParse({ ...proposalFixture(), ...overrides });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues.map((issue) => issue.path))).toContain(path);
  });

  it('takes a warning above the critical for a query alerting below it', () => {
    const proposal = proposalFixture({ type: 'query alert', query: 'avg(last_5m):avg:trace.http.request.hits{service:checkout} < 1', thresholds: { critical: 1, warning: 3 } });
    expect(proposal.thresholds.warning).toBe(3);
  });

  it('takes a composite without comparison', () => {
    expect(proposalFixture({ type: 'composite', query: '123 && 456' }).query).toBe('123 && 456');
  });
});

describe('query helpers', () => {
  it('reads the trailing comparison and rewrites its threshold', () => {
    expect(comparisonOf('avg(last_5m):p95:trace.http.request{service:x} >= 0.75')).toEqual({ operator: '>=', threshold: 0.75 });
    expect(withCriticalThreshold('logs("a").index("*").rollup("count").last("5m") > 5', 12)).toBe('logs("a").index("*").rollup("count").last("5m") > 12');
    expect(() => withCriticalThreshold('123 && 456', 3)).toThrow('no comparison');
  });

  it('reads windows in minutes, hours and days', () => {
    expect([windowMs('5m'), windowMs('1h'), windowMs('2d')]).toEqual([300_000, 3_600_000, 172_800_000]);
    expect(() => windowMs('0m')).toThrow('not a number');
  });
});

describe('datadogTag', () => {
  it('applies Datadog’s rules', () => {
    expect(datadogTag('steward_source:Acme/Checkout@ABC123')).toBe('steward_source:acme/checkout_abc123');
    expect(datadogTag('steward_file:src/My File (copy).ts')).toBe('steward_file:src/my_file_copy_.ts');
    expect(datadogTag('9lives:x')).toBe('lives:x');
    expect(() => datadogTag('42/__')).toThrow('no letter');
    expect(datadogTag(`steward_file:${'a/'.repeat(150)}`)).toHaveLength(MAX_TAG_LENGTH);
  });

  // fast-check is not among the dependencies: a seeded generator walks many random strings instead.
  it('always yields a valid tag, and is idempotent', () => {
    const random = seeded(7);
    const alphabet = 'abcXYZ019_-:./@ #é€😀\t"\'*';
    for (let run = 0; run < 3_000; run++) {
      const raw = `steward_file:${Array.from({ length: Math.floor(random() * 260) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('')}`;
      const tag = datadogTag(raw);
      expect(tag.length).toBeLessThanOrEqual(MAX_TAG_LENGTH);
      expect(tag).toMatch(/^[a-z][a-z0-9_\-:./]*$/);
      expect(tag).not.toMatch(/__|_$/);
      expect(datadogTag(tag)).toBe(tag);
    }
  });

  it('tags the origin and the file', () => {
    const tags = stewardTags(origin, { file: './src/Pricing.js' });
    expect(tags).toEqual(['created_by:steward', 'steward_source:acme/checkout-service_0123456789abcdef0123456789abcdef01234567', 'steward_pr:17', 'steward_file:src/pricing.js']);
    expect(tagValue(tags, 'steward_pr')).toBe('17');
    expect(tagValue(tags, 'steward_missing')).toBeNull();
    expect(fileTag('src/Pricing.js')).toBe(tags[3]);
  });
});

describe('monitorDefinitionOf', () => {
  it('is a definition the Datadog adapter can create', () => {
    const definition = monitorDefinitionOf(proposalFixture(), { critical: 9, warning: 4 }, origin);
    // Type-checked by tsc: the domain's definition must stay assignable to the adapter's.
    const forAdapter: MonitorDefinition = definition;
    expect(forAdapter.criticalThreshold).toBe(9);
    expect(definition.warningThreshold).toBe(4);
    expect(definition.query.endsWith('> 9')).toBe(true);
    expect(definition.tags).toContain('created_by:steward');
  });

  it('names the code it watches and ends with the configured webhook', () => {
    const message = monitorDefinitionOf(proposalFixture(), null, origin, '@webhook-steward-prod').message;
    expect(message).toContain('src/pricing.js:42 (bulkPriceCents)');
    expect(message).toContain('PR #17 of Acme/Checkout-Service (0123456789ab)');
    expect(message.trimEnd().endsWith('@webhook-steward-prod')).toBe(true);
    expect(() => monitorDefinitionOf(proposalFixture(), null, origin, 'webhook-steward')).toThrow('@webhook-<name>');
  });

  it('keeps the model from paging anyone', () => {
    const message = monitorDefinitionOf(proposalFixture({ message: 'Page @pagerduty-oncall and @slack-payments now; mail ops@acme.io' }), null, origin).message;
    expect(message).not.toMatch(/@pagerduty|@slack/);
    expect(message).toContain('ops@acme.io');
    expect(message.match(/@webhook-/g)).toHaveLength(1);
    expect(defuseMentions('@webhook-evil')).toBe('webhook-evil');
  });

  it('uses the proposal’s thresholds when given none, and refuses a warning past the critical', () => {
    expect(monitorDefinitionOf(proposalFixture(), null, origin)).toMatchObject({ criticalThreshold: 5, warningThreshold: 2 });
    expect(() => monitorDefinitionOf(proposalFixture(), { critical: 3, warning: 3 }, origin)).toThrow('not reached before');
  });

  it("tags the monitor with its service, so that its alerts name the service Steward fixes", () => {
    expect(monitorDefinitionOf({ ...proposalFixture(), service: 'checkout' }, null, origin).tags).toEqual(['service:checkout', ...stewardTags(origin, { file: 'src/pricing.js' })]);
    expect(monitorDefinitionOf(proposalFixture(), null, origin).tags.some((tag) => tag.startsWith('service:'))).toBe(false);
  });

  it('gives a composite no thresholds', () => {
    const definition = monitorDefinitionOf(proposalFixture({ type: 'composite', query: '123 && 456' }), { critical: 3, warning: null }, origin);
    expect(definition).toMatchObject({ query: '123 && 456', criticalThreshold: null, warningThreshold: null });
  });
});

/** mulberry32: fast-check is not among the dependencies, and a failure must repeat. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
