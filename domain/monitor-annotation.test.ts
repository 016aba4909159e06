import { findStewardLinks, SECTION_BEGIN, SECTION_END, withStewardLink, type StewardPrLink } from './monitor-annotation';

const first: StewardPrLink = { incidentId: 'inc-1', prUrl: 'https://github.com/acme/shop/pull/1', signature: 'TypeError: x is undefined' };
const second: StewardPrLink = { incidentId: 'inc-2', prUrl: 'https://github.com/acme/shop/pull/2', signature: 'RangeError: bad index' };

/** The line format is spelled out here on purpose: it is what Datadog users see and what later runs parse. */
function linkLine(link: StewardPrLink): string {
  return `- Steward fix ${link.prUrl} for incident ${link.incidentId} (signature: ${link.signature})`;
}

describe('withStewardLink', () => {
  it('adds a marked section after the user text, which stays intact', () => {
    const userText = 'Checkout error rate.\n@oncall-payments please look';
    const { description, changed } = withStewardLink(userText, first);

    expect(changed).toBe(true);
    expect(description.startsWith(`${userText}\n`)).toBe(true);
    expect(description).toContain(`${SECTION_BEGIN}\n${linkLine(first)}\n${SECTION_END}`);
    expect(findStewardLinks(description)).toEqual([first]);
  });

  it('creates the section in an empty description', () => {
    const { description } = withStewardLink('', first);
    expect(description.trim().startsWith(SECTION_BEGIN)).toBe(true);
    expect(findStewardLinks(description)).toEqual([first]);
  });

  it('is idempotent: the same link a second time changes nothing', () => {
    const once = withStewardLink('Runbook: https://wiki/checkout', first).description;
    const twice = withStewardLink(once, first);

    expect(twice).toEqual({ description: once, changed: false });
    expect(once.split(first.prUrl).length - 1).toBe(1);
  });

  it('keeps several links in one section, in the order they were added', () => {
    const withBoth = withStewardLink(withStewardLink('Checkout errors', first).description, second).description;

    expect(findStewardLinks(withBoth)).toEqual([first, second]);
    expect(withBoth.split(SECTION_BEGIN).length - 1).toBe(1);
    expect(withBoth.split(SECTION_END).length - 1).toBe(1);
  });

  it('updates an existing section in place, leaving user text before and after it untouched', () => {
    const before = 'Checkout errors.\n';
    const after = '\nEscalate to #payments after 30 minutes.';
    const existing = `${SECTION_BEGIN}\n${linkLine(first)}\n${SECTION_END}`;
    const { description, changed } = withStewardLink(`${before}${existing}${after}`, second);

    expect(changed).toBe(true);
    expect(description.startsWith(`${before}${SECTION_BEGIN}`)).toBe(true);
    expect(description.endsWith(`${SECTION_END}${after}`)).toBe(true);
    expect(findStewardLinks(description)).toEqual([first, second]);
  });

  it('puts a multi-line signature on one line, so that the link can be read back', () => {
    const { description } = withStewardLink('', { ...first, signature: 'Error: boom\n    at cart.ts:10' });
    expect(findStewardLinks(description)).toEqual([{ ...first, signature: 'Error: boom     at cart.ts:10' }]);
  });

  it('treats the same PR for another incident as a new link', () => {
    const once = withStewardLink('', first).description;
    const { changed, description } = withStewardLink(once, { ...first, incidentId: 'inc-3' });
    expect(changed).toBe(true);
    expect(findStewardLinks(description).map((l) => l.incidentId)).toEqual(['inc-1', 'inc-3']);
  });
});

describe('findStewardLinks', () => {
  it('finds nothing in a description without a section', () => {
    expect(findStewardLinks('- Steward fix https://x for incident inc-1 (signature: s)')).toEqual([]);
  });

  it('ignores lines inside the section that are not Steward links', () => {
    const description = `${SECTION_BEGIN}\nsomeone typed here\n${linkLine(first)}\n${SECTION_END}`;
    expect(findStewardLinks(description)).toEqual([first]);
  });
});
