import { codeSpan, escapeMarkdown, escapeSlack, MONITOR_COMMENT_MARKER, pullRequestComment, slackMessage, type CreatedMonitorSummary, type MonitorGenerationSummary } from './summary';

const logAlert: CreatedMonitorSummary = {
  name: 'checkout: bulk price missing',
  type: 'log alert',
  query: 'logs("service:checkout \\"bulk price missing for\\"").index("*").rollup("count").last("5m") > 11',
  critical: 11,
  warning: 9,
  setFrom: 'baseline',
  thresholdExplanation: 'from 4032 lines over 168 h of baseline: 2 expected in 5 min',
  location: { file: 'src/pricing.js', line: 42, symbol: 'bulkPriceCents' },
  url: 'https://app.datadoghq.com/monitors/123',
};

const composite: CreatedMonitorSummary = { ...logAlert, name: 'checkout: errors and latency', type: 'composite', query: '123 || 456', critical: null, warning: null, setFrom: 'proposal', thresholdExplanation: '', url: null };

const summary = (overrides: Partial<MonitorGenerationSummary> = {}): MonitorGenerationSummary => ({
  repository: 'acme/checkout',
  pullRequest: 17,
  sha: '0123456789abcdef0123456789abcdef01234567',
  created: [logAlert, composite],
  dropped: [
    { name: 'checkout: coupon_*_lost', stage: 'grounding', reason: 'the log message "coupon lost" is not in the code at the merge commit' },
    { name: 'checkout: spare', stage: 'cap', reason: 'the cap of 2 monitors was reached' },
  ],
  ...overrides,
});

describe('pullRequestComment', () => {
  it('lists each created monitor with its query, thresholds, how they were set and its file', () => {
    const comment = pullRequestComment(summary());
    expect(comment.startsWith(MONITOR_COMMENT_MARKER)).toBe(true);
    expect(comment).toContain('Steward created 2 monitors for the new code of acme/checkout#17 (0123456789ab)');
    expect(comment).toContain('**[checkout: bulk price missing](https://app.datadoghq.com/monitors/123)** (log alert), watching `src/pricing.js:42 (bulkPriceCents)`');
    expect(comment).toContain(`query: \`${logAlert.query}\``);
    expect(comment).toContain('thresholds: critical 11, warning 9, from the error’s baseline');
    expect(comment).toContain('how: from 4032 lines over 168 h of baseline');
    expect(comment).toContain('thresholds: none (a composite alerts when its monitors do)');
  });

  it('lists the dropped proposals with their reasons, escaped', () => {
    const comment = pullRequestComment(summary());
    expect(comment).toContain('2 proposals not created');
    expect(comment).toContain('- **checkout: coupon\\_\\*\\_lost**: not grounded in the code: the log message "coupon lost" is not in the code');
    expect(comment).toContain('- **checkout: spare**: over the cap: the cap of 2 monitors was reached');
  });

  it('says so when nothing was created', () => {
    const comment = pullRequestComment(summary({ created: [], dropped: [] }));
    expect(comment).toContain('Steward created no monitor for acme/checkout#17');
    expect(comment).not.toContain('not created');
  });
});

describe('codeSpan and escapeMarkdown', () => {
  it('fences text holding backticks so that it reads back whole', () => {
    expect(codeSpan('a `b` c')).toBe('``a `b` c``');
    expect(codeSpan('`x`')).toBe('`` `x` ``');
    expect(codeSpan('one\n  two')).toBe('`one two`');
  });

  it('escapes what markdown would read as markup', () => {
    expect(escapeMarkdown('<script> [x](y) *b* | #1')).toBe('\\<script\\> \\[x\\](y) \\*b\\* \\| \\#1');
  });
});

describe('slackMessage', () => {
  it('is one message naming the PR, each monitor and the drops', () => {
    const message = slackMessage(summary(), 'https://github.com/acme/checkout/pull/17');
    expect(message.split('\n')).toEqual([
      'Steward created 2 monitors for <https://github.com/acme/checkout/pull/17|acme/checkout#17> (2 proposals not created: 1 not grounded in the code, 1 over the cap):',
      '• <https://app.datadoghq.com/monitors/123|checkout: bulk price missing>: log alert, critical 11 from baseline, src/pricing.js',
      '• checkout: errors and latency: composite, alerting with its monitors, src/pricing.js',
    ]);
  });

  it('stays short however many monitors there are', () => {
    const many = Array.from({ length: 40 }, (_, i) => ({ ...logAlert, name: `monitor ${i} ${'x'.repeat(150)}` }));
    const message = slackMessage(summary({ created: many }));
    expect(message.length).toBeLessThan(2_900);
    expect(message).toContain('…and 30 more, listed on the PR.');
  });

  it('escapes Slack’s reserved characters', () => {
    expect(escapeSlack('a < b && c > d')).toBe('a &lt; b &amp;&amp; c &gt; d');
    expect(slackMessage(summary({ created: [], dropped: [] }))).toBe('Steward created no monitor for acme/checkout#17.');
  });
});
