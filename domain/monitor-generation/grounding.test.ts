import { groundProposal, quotedPhrases, quotedStrings, type LiteralLookup } from './grounding';
import { MonitorProposal, type MatchKind } from './proposal';

const proposal = (query: string, matches: { literal: string; kind: MatchKind }[]): MonitorProposal =>
  MonitorProposal.parse({
    name: 'checkout: bulk price missing',
    type: 'log alert',
    query,
    thresholds: { critical: 5 },
    evaluationWindow: '5m',
    priority: 2,
    message: '',
    location: { file: 'src/pricing.js', line: 42 },
    matches,
    rationale: 'new error path',
  });

/** The code at the merge commit, as the code-search port would answer for it. */
function codeLookup(files: Record<string, string>): LiteralLookup & { calls: string[] } {
  const calls: string[] = [];
  const lookup = async (literal: string, kind: MatchKind) => {
    calls.push(`${kind}:${literal}`);
    for (const [file, content] of Object.entries(files)) {
      const index = content.split('\n').findIndex((line) => line.includes(literal));
      if (index >= 0) return { found: true, where: { file, line: index + 1 } };
    }
    return { found: false };
  };
  return Object.assign(lookup, { calls });
}

const code = {
  'src/pricing.js': ['function bulkPriceCents(item) {', '  if (!item.bulk) logger.error("bulk price missing for " + item.sku);', '}'].join('\n'),
  'src/server.js': "app.post('/api/checkout', handle);",
};

const LOG_ALERT = 'logs("service:checkout status:error \\"bulk price missing for\\"").index("*").rollup("count").last("5m") > 5';

describe('quotedPhrases', () => {
  it.each([
    ['a log alert: the phrases inside its search, not its index or rollup', LOG_ALERT, ['bulk price missing for']],
    ['a log alert grouped by two facets', 'logs("service:x \\"a b\\" @http.url:\\"/api/x\\"").index("main").rollup("count").by("service","host").last("5m") > 1', ['a b', '/api/x']],
    ['a log alert without phrases', 'logs("service:x status:error").index("*").rollup("count").last("5m") > 1', []],
    ['a trace metric query', 'avg(last_5m):p95:trace.http.request{service:checkout,resource_name:"post /api/checkout"} > 0.5', ['post /api/checkout']],
    ['a bare search', 'service:x "payment  declined" status:error', ['payment declined']],
    ['an escaped quote inside a phrase', 'logs("service:x \\"said \\\\\\"no\\\\\\"\\"").index("*").rollup("count").last("5m") > 1', ['said "no"']],
  ])('reads %s', (_what, query, phrases) => {
    expect(quotedPhrases(query)).toEqual(phrases);
  });

  it('counts an unterminated quote as a phrase rather than overlooking it', () => {
    expect(quotedStrings('a "b c')).toEqual([{ content: 'b c', start: 2 }]);
  });
});

describe('groundProposal', () => {
  it('keeps a proposal whose every literal is in the code, with where', async () => {
    const decision = await groundProposal(
      proposal(LOG_ALERT, [
        { literal: 'bulk price missing for', kind: 'log_message' },
        { literal: '/api/checkout', kind: 'endpoint' },
      ]),
      codeLookup(code),
    );
    expect(decision.keep).toBe(true);
    expect(decision.checks.map((c) => [c.literal, c.outcome, c.where])).toEqual([
      ['bulk price missing for', 'found', { file: 'src/pricing.js', line: 2 }],
      ['/api/checkout', 'found', { file: 'src/server.js', line: 1 }],
    ]);
  });

  it('drops a proposal naming a literal the code does not hold, and says which', async () => {
    const query = 'logs("service:checkout \\"bulk price unavailable\\"").index("*").rollup("count").last("5m") > 5';
    const decision = await groundProposal(proposal(query, [{ literal: 'bulk price unavailable', kind: 'log_message' }]), codeLookup(code));
    expect(decision.keep).toBe(false);
    expect(decision.checks).toEqual([expect.objectContaining({ literal: 'bulk price unavailable', outcome: 'not_found' })]);
    expect(decision.reason).toContain('"bulk price unavailable" is not in the code');
  });

  it('drops a query phrase the proposal does not list, without looking it up', async () => {
    const query = 'logs("service:checkout \\"bulk price missing for\\" \\"inventory exploded\\"").index("*").rollup("count").last("5m") > 5';
    const lookup = codeLookup({ ...code, 'src/inventory.js': 'log("inventory exploded")' });
    const decision = await groundProposal(proposal(query, [{ literal: 'bulk price missing for', kind: 'log_message' }]), lookup);
    expect(decision.keep).toBe(false);
    expect(decision.checks.find((c) => c.literal === 'inventory exploded')).toMatchObject({ kind: null, outcome: 'unlisted' });
    expect(lookup.calls).toEqual(['log_message:bulk price missing for']);
    expect(decision.reason).toContain('does not list');
  });

  it('drops a proposal that names nothing to check', async () => {
    const decision = await groundProposal(proposal('logs("service:checkout status:error").index("*").rollup("count").last("5m") > 5', []), codeLookup(code));
    expect(decision).toMatchObject({ keep: false, checks: [] });
  });

  it('looks each literal up once', async () => {
    const lookup = codeLookup(code);
    await groundProposal(
      proposal(LOG_ALERT, [
        { literal: 'bulk price missing for', kind: 'log_message' },
        { literal: ' bulk price  missing for ', kind: 'log_message' },
      ]),
      lookup,
    );
    expect(lookup.calls).toEqual(['log_message:bulk price missing for']);
  });

  it('fails when a lookup fails, rather than deciding without it', async () => {
    const failing: LiteralLookup = async () => {
      throw new Error('code search unavailable');
    };
    await expect(groundProposal(proposal(LOG_ALERT, [{ literal: 'bulk price missing for', kind: 'log_message' }]), failing)).rejects.toThrow('code search unavailable');
  });
});
