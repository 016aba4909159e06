import fc from 'fast-check';
import { renderMorningReport, type MorningReport, type QaFinding } from '../domain/nightly-qa/report';
import { slackBlockLimitViolations } from '../test/support/slack-block-limits';
import { escapeMrkdwn, morningReportBlocks } from './slack-morning-report.blocks';

type Block = Record<string, unknown>;

const finding = (overrides: Partial<QaFinding>): QaFinding => ({
  missionId: 'probe:src/coupon.js',
  signature: 'qa-1',
  title: 'a 100% coupon makes the total negative',
  testPath: 'test/coupon.qa.test.js',
  expectedFailure: 'AssertionError',
  incidentId: 'incident-qa-1',
  pullRequestUrl: 'https://github.com/acme/checkout/pull/12',
  duplicateOf: null,
  ...overrides,
});

const report: MorningReport = {
  service: 'checkout-service',
  night: '2026-12-01',
  nightId: 'steward-nightly-qa@checkout-service-2026-12-01T02:00:00Z',
  findings: [
    finding({}),
    finding({ signature: 'qa-2', title: 'tax rounds twice', testPath: 'test/tax.qa.test.js', incidentId: 'incident-qa-2', pullRequestUrl: null, incidentStage: 'awaiting_approval' }),
    finding({ signature: 'qa-3', title: 'refund of a refund', testPath: 'test/refund.qa.test.js', incidentId: 'incident-qa-3', pullRequestUrl: null, incidentStage: 'could_not_fix' }),
    finding({ signature: 'qa-4', title: 'FIRSTORDER redeemed twice', incidentId: null, pullRequestUrl: null, duplicateOf: 'incident:incident-7' }),
  ],
  leads: [{ missionId: 'sanity:checkout', title: 'slow total', detail: 'a 2 s total on 400 items, no failing test', areas: ['src/pricing.js'] }],
  areas: { newlyCovered: ['src/coupon.js', 'src/server.js'], alreadyCovered: ['src/pricing.js'] },
  missionsRun: [
    { id: 'probe:src/coupon.js', kind: 'probe-least-explored', reason: 'never explored', costUsd: 0.6 },
    { id: 'sanity:checkout', kind: 'sanity-core-features', reason: 'never sanity-tested', costUsd: 0.9 },
  ],
  missionsSkipped: [
    { id: 'probe:src/tax.js', kind: 'probe-least-explored', reason: 'never explored', skippedBecause: 'budget' },
    { id: 'probe:src/cart.js', kind: 'probe-least-explored', reason: 'never explored', skippedBecause: 'mission-limit' },
  ],
  notRepeated: [{ id: 'stress:pr-7', why: 'its areas did not change since last night' }],
  costUsd: 1.5,
  budgetUsd: 2,
};
const title = 'Nightly QA of checkout-service, night of 2026-12-01';

const texts = (blocks: Block[]): string[] =>
  blocks.flatMap((block) => [
    ...(block.text ? [(block.text as { text: string }).text] : []),
    ...((block.elements as { text: string }[] | undefined) ?? []).map((element) => element.text),
  ]);

describe('morningReportBlocks', () => {
  it('lays the report out as a header, the findings with their PRs, leads, areas, skipped missions and the cost', () => {
    expect(morningReportBlocks(report, title)).toEqual([
      { type: 'header', text: { type: 'plain_text', text: title } },
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: [
            '*Findings* (each proven by a test that failed twice)',
            '• <https://github.com/acme/checkout/pull/12|#12 a 100% coupon makes the total negative> — `test/coupon.qa.test.js`',
            '• *tax rounds twice* — incident incident-qa-2, the fix waits for approval (`test/tax.qa.test.js`)',
            '• *refund of a refund* — incident incident-qa-3, no PR (could not fix) (`test/refund.qa.test.js`)',
            '• FIRSTORDER redeemed twice — already known as incident:incident-7 (`test/coupon.qa.test.js`)',
          ].join('\n'),
        },
      },
      { type: 'section', text: { type: 'mrkdwn', text: '*Leads* (1; no failing test, so not opened)\n• *slow total*: a 2 s total on 400 items, no failing test' } },
      { type: 'section', text: { type: 'mrkdwn', text: '*New coverage* (2): `src/coupon.js`, `src/server.js`\n*Already covered* (1): `src/pricing.js`' } },
      { type: 'section', text: { type: 'mrkdwn', text: "*Missions skipped* (2)\n• `probe:src/tax.js`: the night's budget was spent\n• `probe:src/cart.js`: past the mission limit" } },
      { type: 'section', text: { type: 'mrkdwn', text: '*Not run again from last night* (1)\n• `stress:pr-7`: its areas did not change since last night' } },
      {
        type: 'context',
        elements: [
          { type: 'mrkdwn', text: '*Cost* $1.50 of $2.00 budget' },
          { type: 'mrkdwn', text: '2 mission(s) run' },
          { type: 'mrkdwn', text: 'Night `steward-nightly-qa@checkout-service-2026-12-01T02:00:00Z`' },
        ],
      },
    ]);
  });

  it('says so when there is no finding, and leaves out what the night did not have', () => {
    const quiet = { ...report, findings: [], leads: [], missionsSkipped: [], notRepeated: undefined, areas: { newlyCovered: [], alreadyCovered: ['src/pricing.js'] } };
    const blocks = morningReportBlocks(quiet, title);
    expect(texts(blocks)).toEqual(['Nightly QA of checkout-service, night of 2026-12-01', '*Findings:* none tonight.', '*New coverage* (0): none\n*Already covered* (1): `src/pricing.js`', '*Cost* $1.50 of $2.00 budget', '2 mission(s) run', 'Night `steward-nightly-qa@checkout-service-2026-12-01T02:00:00Z`']);
  });

  it("escapes &, < and > in the report's own text, so that Slack shows them rather than reading links or mentions", () => {
    const tricky = {
      ...report,
      findings: [finding({ title: 'total < 0 && discount > 100% <!channel>', pullRequestUrl: 'https://github.com/acme/checkout/pull/3?a=1&b=2' }), finding({ title: '<@U123> sees <b>', pullRequestUrl: null })],
      leads: [{ missionId: 'm', title: 'A&B', detail: 'x <y> z', areas: [] }],
      areas: { newlyCovered: ['src/<odd>.js'], alreadyCovered: [] },
    };
    const all = texts(morningReportBlocks(tricky, title)).join('\n');
    expect(all).toContain('<https://github.com/acme/checkout/pull/3?a=1&amp;b=2|#3 total &lt; 0 &amp;&amp; discount &gt; 100% &lt;!channel&gt;>');
    expect(all).toContain('*&lt;@U123&gt; sees &lt;b&gt;*');
    expect(all).toContain('*A&amp;B*: x &lt;y&gt; z');
    expect(all).toContain('`src/&lt;odd&gt;.js`');
    // Outside the one link made here, no < or > is left for Slack to read as markup.
    expect(all.replace('<https://github.com/acme/checkout/pull/3?a=1&amp;b=2|', '').replace('&lt;!channel&gt;>', '')).not.toMatch(/[<>]/);
  });

  it('counts what does not fit in a long list: "and 12 more"', () => {
    const areas = Array.from({ length: 400 }, (_, i) => `src/module-${i}/index.js`);
    const blocks = morningReportBlocks({ ...report, areas: { newlyCovered: areas, alreadyCovered: [] } }, title);
    const areasText = texts(blocks).find((text) => text.startsWith('*New coverage*'))!;
    const shown = areas.filter((area) => areasText.includes(`\`${area}\``)).length;
    expect(shown).toBeGreaterThan(10);
    expect(areasText).toContain(`and ${areas.length - shown} more`);
    expect(slackBlockLimitViolations(blocks)).toEqual([]);
  });

  it('stays within Slack\'s limits for any report, however large, and never loses a finding', () => {
    const text = (maxLength: number) => fc.string({ unit: fc.constantFrom('a', 'b', ' ', '&', '<', '>', '|', '`', '*', 'é', '🙂'), maxLength, size: 'max' });
    // Short lines too, so that a section fills to its last few characters.
    const short = (maxLength: number) => fc.string({ unit: fc.constantFrom('a', '&', '<'), maxLength });
    const generatedFinding = fc.record({
      title: fc.oneof(text(400), short(12)),
      testPath: fc.oneof(text(300), short(12)),
      stage: fc.constantFrom('pr', 'awaiting_approval', 'could_not_fix', undefined, 'duplicate', 'none'),
      url: fc.oneof(text(60).map((t) => `https://github.com/acme/x/pull/7?q=${t}`), text(1_200).map((t) => `local-git://svc/pulls/${t}`)),
      reference: text(300),
    });
    const arbitraryReport = fc.record({
      service: text(200),
      findings: fc.array(generatedFinding, { maxLength: 1_500, size: 'max' }),
      leads: fc.array(fc.record({ title: text(400), detail: text(600) }), { maxLength: 300, size: 'max' }),
      newlyCovered: fc.array(text(250), { maxLength: 600, size: 'max' }),
      alreadyCovered: fc.array(text(250), { maxLength: 600, size: 'max' }),
      skipped: fc.array(fc.record({ id: text(250), budget: fc.boolean() }), { maxLength: 200, size: 'max' }),
      notRepeated: fc.array(fc.record({ id: text(250), why: text(500) }), { maxLength: 200, size: 'max' }),
    });
    let overflowed = 0;
    fc.assert(
      fc.property(arbitraryReport, (generated) => {
        const findings = generated.findings.map(
          (f, i): QaFinding => ({
            missionId: `m-${i}`,
            signature: `s-${i}`,
            // A marker first, so that a finding shown with its title cut short is still found.
            title: `finding-${i}: ${f.title}`,
            testPath: f.testPath,
            expectedFailure: 'AssertionError',
            incidentId: f.stage === 'none' || f.stage === 'duplicate' ? null : f.reference,
            pullRequestUrl: f.stage === 'pr' ? f.url : null,
            ...(f.stage !== 'pr' && f.stage !== 'none' && f.stage !== 'duplicate' && f.stage !== undefined ? { incidentStage: f.stage } : {}),
            duplicateOf: f.stage === 'duplicate' ? f.reference : null,
          }),
        );
        const huge: MorningReport = {
          ...report,
          service: generated.service,
          findings,
          leads: generated.leads.map((l) => ({ missionId: 'm', title: l.title, detail: l.detail, areas: [] })),
          areas: { newlyCovered: generated.newlyCovered, alreadyCovered: generated.alreadyCovered },
          missionsSkipped: generated.skipped.map((s) => ({ id: s.id, kind: 'probe-least-explored', reason: 'r', skippedBecause: s.budget ? 'budget' : 'mission-limit' })),
          notRepeated: generated.notRepeated,
        };
        const blocks = morningReportBlocks(huge, `Nightly QA of ${generated.service}, night of 2026-12-01`);
        expect(slackBlockLimitViolations(blocks)).toEqual([]);

        const findingsText = texts(blocks.filter((b) => b.type === 'section')).join('\n');
        const shown = findings.filter((_, i) => findingsText.includes(`finding-${i}:`)).length;
        // Shown in order, from the first, and the rest counted.
        expect(findings.slice(0, shown).every((_, i) => findingsText.includes(`finding-${i}:`))).toBe(true);
        if (shown < findings.length) overflowed++;
        if (shown < findings.length) expect(findingsText).toContain(`…and ${findings.length - shown} more finding(s), all in this message's text`);
        else expect(findingsText).not.toContain('more finding(s)');
        // The notification's text, Slack's fallback, holds every finding.
        const fallback = renderMorningReport(huge);
        expect(findings.every((f) => fallback.includes(f.title))).toBe(true);
      }),
      // No shrinking: a failing report this large would take minutes to shrink; the seed repeats it.
      { numRuns: 10, seed: 20_261_206, endOnFailure: true },
    );
    // The property saw reports too big for one message, not only ones that fit.
    expect(overflowed).toBeGreaterThan(0);
  });
});

describe('escapeMrkdwn', () => {
  it('escapes the three control characters and cuts long text after escaping, never inside an entity', () => {
    expect(escapeMrkdwn('a < b && c > d')).toBe('a &lt; b &amp;&amp; c &gt; d');
    expect(escapeMrkdwn('&&&&', 12)).toBe('&amp;&amp;…');
    expect(escapeMrkdwn('abcdef', 6)).toBe('abcdef');
    expect(escapeMrkdwn('abcdefg', 6)).toBe('abcde…');
  });
});

describe('slackBlockLimitViolations', () => {
  const sectionOf = (length: number) => ({ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(length) } });

  it("names each of Slack's limits a block list breaks", () => {
    expect(slackBlockLimitViolations([{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(150) } }, sectionOf(3_000)])).toEqual([]);
    expect(slackBlockLimitViolations(Array.from({ length: 51 }, () => sectionOf(1)))).toEqual(['51 blocks, over 50']);
    expect(
      slackBlockLimitViolations([
        { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } },
        { type: 'header', text: { type: 'mrkdwn', text: 'h' } },
        sectionOf(3_001),
        sectionOf(0),
        { type: 'context', elements: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'c' })) },
      ]),
    ).toEqual([
      'block 0 (header): 151 characters, over 150',
      'block 1 (header): text type mrkdwn, not plain_text',
      'block 2 (section): 3001 characters, over 3000',
      'block 3 (section): empty text',
      'block 4 (context): 11 elements, over 10',
    ]);
  });
});
