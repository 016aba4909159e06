import { parseUnifiedDiff } from '../unified-diff';
import { changedLineAt, checkCodeReferences, enclosingFunctionNames, groundCausalLink, onCodePath, symbolsToLookUp, type CausalLink, type FlaggedErrorEvidence } from './grounding';
import { functionNames, parseStackFrames } from './stack-frames';

describe('parseStackFrames', () => {
  it.each([
    [
      'Node',
      [
        "TypeError: Cannot read properties of undefined (reading 'percent')",
        '    at discountCents (/app/src/pricing.js:12:24)',
        '    at Object.priceOrder [as price] (/app/src/pricing.js:30:10)',
        '    at async handle (file:///app/src/server.js:44:5)',
        '    at /app/src/server.js:60:3',
        '    at Array.map (<anonymous>)',
        '    at new Checkout (/app/src/checkout.js:5:11)',
      ].join('\n'),
      [
        { function: 'discountCents', file: '/app/src/pricing.js', line: 12 },
        { function: 'Object.priceOrder', file: '/app/src/pricing.js', line: 30 },
        { function: 'handle', file: 'file:///app/src/server.js', line: 44 },
        { function: null, file: '/app/src/server.js', line: 60 },
        { function: 'Array.map', file: null, line: null },
        { function: 'Checkout', file: '/app/src/checkout.js', line: 5 },
      ],
    ],
    [
      'Python',
      ['Traceback (most recent call last):', '  File "/app/server.py", line 40, in <module>', '  File "/app/pricing/discount.py", line 12, in discount_cents', "AttributeError: 'NoneType' object has no attribute 'percent'"].join('\n'),
      [
        { function: null, file: '/app/server.py', line: 40 },
        { function: 'discount_cents', file: '/app/pricing/discount.py', line: 12 },
      ],
    ],
    [
      'Java',
      ['java.lang.NullPointerException: coupon', '\tat com.acme.pricing.Pricing.discountCents(Pricing.java:12)', '\tat com.acme.Server.lambda$handle$0(Server.java:40)', '\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)'].join('\n'),
      [
        { function: 'com.acme.pricing.Pricing.discountCents', file: 'Pricing.java', line: 12 },
        { function: 'com.acme.Server.lambda$handle$0', file: 'Server.java', line: 40 },
        { function: 'java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0', file: null, line: null },
      ],
    ],
    [
      'Go',
      ['panic: runtime error: invalid memory address or nil pointer dereference', '', 'goroutine 1 [running]:', 'main.(*Server).discountCents(0x0, 0xc000010000)', '\t/app/pricing.go:12 +0x1d', 'main.main()', '\t/app/main.go:8 +0x25'].join('\n'),
      [
        { function: 'main.(*Server).discountCents', file: '/app/pricing.go', line: 12 },
        { function: 'main.main', file: '/app/main.go', line: 8 },
      ],
    ],
    [
      'Ruby',
      ["/app/pricing.rb:12:in 'discount_cents': undefined method `percent' for nil (NoMethodError)", "\tfrom /app/server.rb:40:in 'handle'"].join('\n'),
      [
        { function: 'discount_cents', file: '/app/pricing.rb', line: 12 },
        { function: 'handle', file: '/app/server.rb', line: 40 },
      ],
    ],
  ])('reads %s frames', (_runtime, text, frames) => {
    expect(parseStackFrames(text)).toEqual(frames);
  });

  it('finds no frames in a message without a stack', () => {
    expect(parseStackFrames('RangeError: unknown coupon "SPRING"')).toEqual([]);
  });

  it.each([
    ['Object.discountCents', ['discountCents']],
    ['com.acme.pricing.Pricing.discountCents', ['discountCents', 'Pricing']],
    ['main.(*Server).handle', ['handle', 'Server']],
    ['Pricing#discount', ['discount', 'Pricing']],
    ['Pricing::discount', ['discount', 'Pricing']],
    ['Server.lambda$handle$0', ['handle', 'Server']],
  ])('knows %s as %j', (printed, names) => {
    expect(functionNames(printed)).toEqual(names);
  });
});

describe('enclosingFunctionNames', () => {
  const js = [
    "const { coupons } = require('./coupons');", // 1
    '', // 2
    'function discountCents(order, coupon) {', // 3
    '  const rate = coupon.percent / 100;', // 4
    '  return Math.round(order.total * rate);', // 5
    '}', // 6
    '', // 7
    'class Checkout {', // 8
    '  async price(order) {', // 9
    '    const helper = () => {', // 10
    '      return 1;', // 11
    '    };', // 12
    '    return discountCents(order, order.coupon);', // 13
    '  }', // 14
    '}', // 15
    'module.exports = { discountCents };', // 16
  ].join('\n');

  it.each([
    [4, ['discountCents']],
    [3, ['discountCents']],
    [13, ['price', 'Checkout']],
    [11, ['helper', 'price', 'Checkout']],
    [16, []],
    [1, []],
    [99, []],
  ])('line %i of a JavaScript file sits in %j', (line, names) => {
    expect(enclosingFunctionNames(js, line)).toEqual(names);
  });

  it('reads Python, Go and multi-line signatures', () => {
    const python = ['class Pricing:', '    @staticmethod', '    def discount_cents(order, coupon):', '        # the rate', '        return coupon.percent'].join('\n');
    expect(enclosingFunctionNames(python, 5)).toEqual(['discount_cents', 'Pricing']);
    const go = ['package main', '', 'func (s *Server) discountCents(o Order) int {', '\treturn o.Coupon.Percent', '}'].join('\n');
    expect(enclosingFunctionNames(go, 4)).toEqual(['discountCents']);
    const multiLine = ['export async function priceOrder(', '  order: Order,', '  coupon: Coupon,', '): Promise<number> {', '  return coupon.percent;', '}'].join('\n');
    expect(enclosingFunctionNames(multiLine, 5)).toEqual(['priceOrder']);
  });
});

/** The demo's regression: a refactor that reads the coupon's percent without checking there is one. */
const DIFF = [
  'diff --git a/src/pricing.js b/src/pricing.js',
  'index 1111111..2222222 100644',
  '--- a/src/pricing.js',
  '+++ b/src/pricing.js',
  '@@ -2,5 +2,5 @@',
  ' ',
  ' function discountCents(order, coupon) {',
  '-  if (!coupon) return 0;',
  '-  const rate = coupon.percent / 100;',
  '+  const rate = coupon.percent / 100; // no coupon means no discount',
  '+  return Math.round(order.total * rate);',
  ' }',
  'diff --git a/README.md b/README.md',
  'index 3333333..4444444 100644',
  '--- a/README.md',
  '+++ b/README.md',
  '@@ -1 +1 @@',
  '-Checkout',
  '+Checkout service',
].join('\n');
const patches = parseUnifiedDiff(DIFF);

const FLAGGED: FlaggedErrorEvidence[] = [
  {
    signature: 'sig-percent',
    template: "TypeError: Cannot read properties of undefined (reading 'percent')",
    message: "TypeError: Cannot read properties of undefined (reading 'percent')",
    stackTrace: ["TypeError: Cannot read properties of undefined (reading 'percent')", '    at discountCents (/srv/checkout/src/pricing.js:4:23)', '    at priceOrder (/srv/checkout/src/pricing.js:20:10)'].join('\n'),
  },
  { signature: 'sig-timeout', template: 'upstream timed out after <*> ms', message: 'upstream timed out after 3000 ms', stackTrace: null },
];

const LINK: CausalLink = {
  file: 'src/pricing.js',
  line: 4,
  side: 'new',
  lineText: 'const rate = coupon.percent / 100;',
  signature: 'sig-percent',
  function: 'discountCents',
  symbols: ['coupon.percent'],
};
const PRESENT = { coupon: true, percent: true, discountCents: true };

describe('changedLineAt', () => {
  it('finds added lines by their new number and removed lines by their old one', () => {
    expect(changedLineAt(patches, 'src/pricing.js', 4, 'new')).toEqual({ text: '  const rate = coupon.percent / 100; // no coupon means no discount', newPosition: 4 });
    expect(changedLineAt(patches, './src/pricing.js', 5, 'new')?.text).toBe('  return Math.round(order.total * rate);');
    expect(changedLineAt(patches, 'src/pricing.js', 4, 'old')).toEqual({ text: '  if (!coupon) return 0;', newPosition: 4 });
    expect(changedLineAt(patches, 'src/pricing.js', 3, 'new')).toBeNull();
    expect(changedLineAt(patches, 'src/coupons.js', 4, 'new')).toBeNull();
  });
});

describe('groundCausalLink', () => {
  const ground = (link: Partial<CausalLink>, options: { enclosing?: string[]; present?: Record<string, boolean> } = {}) =>
    groundCausalLink({ link: { ...LINK, ...link }, patches, flagged: FLAGGED, enclosingFunctions: options.enclosing ?? ['discountCents'], symbolsPresent: options.present ?? PRESENT });

  it('accepts a changed line on the error path whose symbols exist', () => {
    expect(ground({})).toEqual({ ok: true });
    expect(ground({ side: 'old', line: 4, lineText: 'if (!coupon) return 0;', symbols: ['coupon'] })).toEqual({ ok: true });
  });

  it.each<[string, Partial<CausalLink>, { enclosing?: string[]; present?: Record<string, boolean> }, string, RegExp]>([
    ['a context line', { line: 3, lineText: null }, {}, 'line_in_diff', /src\/pricing.js:3 is no added line of the diff; its hunks cover new lines 2-6/],
    ['a file the diff does not change', { file: 'src/coupons.js' }, {}, 'line_in_diff', /does not change src\/coupons.js \(it changes src\/pricing.js, README.md\)/],
    ['a misquoted line', { lineText: 'return 0;' }, {}, 'line_text', /reads "const rate/],
    ['a signature that was not flagged', { signature: 'sig-other' }, {}, 'signature', /sig-other is not one of the flagged signatures \(sig-percent, sig-timeout\)/],
    ['an error whose stack never enters the file', { signature: 'sig-timeout' }, {}, 'on_code_path', /has no stack frames/],
    ['a symbol that does not exist', { symbols: ['coupon.discountRate'] }, {}, 'symbols_exist', /not found at the revision: discountRate/],
    ['a function that does not exist', { function: 'applyCoupon' }, {}, 'symbols_exist', /applyCoupon/],
    ['a symbol that is no identifier', { symbols: ['coupon percent'] }, {}, 'symbols_exist', /not identifiers: "coupon percent"/],
  ])('refuses %s', (_case, link, options, check, detail) => {
    const result = ground(link, options);
    expect(result.ok).toBe(false);
    const failure = result.ok ? undefined : result.failures.find((f) => f.check === check);
    expect(failure?.detail).toMatch(detail);
  });

  it('refuses a changed line of a file that does not run in production', () => {
    const result = groundCausalLink({ link: { ...LINK, file: 'README.md', line: 1, lineText: null, symbols: [] }, patches, flagged: FLAGGED, enclosingFunctions: [], symbolsPresent: PRESENT, runtimeFiles: ['src/pricing.js'] });
    expect(result.ok ? [] : result.failures).toContainEqual({ check: 'runtime_file', detail: 'README.md does not run in production (runtime files of the diff: src/pricing.js)' });
    expect(groundCausalLink({ link: LINK, patches, flagged: FLAGGED, enclosingFunctions: ['discountCents'], symbolsPresent: PRESENT, runtimeFiles: ['./src/pricing.js'] })).toEqual({ ok: true });
  });

  it('names every failed check at once', () => {
    const result = ground({ line: 3, signature: 'sig-nope', symbols: ['ghost'] });
    expect(result.ok ? [] : result.failures.map((f) => f.check)).toEqual(['signature', 'line_in_diff', 'symbols_exist']);
  });

  it('asks for the link function and its symbols, each identifier once', () => {
    expect(symbolsToLookUp({ symbols: ['coupon.percent', 'discountCents()', 'Pricing::rate', 'coupon'], function: 'discountCents' })).toEqual(['coupon', 'percent', 'discountCents', 'Pricing', 'rate']);
  });
});

describe('onCodePath', () => {
  const error = FLAGGED[0]!;

  it('matches a frame in the same file, wherever the service is deployed', () => {
    expect(onCodePath('src/pricing.js', [], error)).toMatchObject({ ok: true, detail: 'frame discountCents at /srv/checkout/src/pricing.js:4' });
    expect(onCodePath('src/pricing.ts', [], error).ok).toBe(true);
    expect(onCodePath('lib/pricing.js', [], error).ok).toBe(false);
    expect(onCodePath('pricing.js', [], error).ok).toBe(true);
  });

  it('matches a frame in a function around the line, and a message naming one', () => {
    expect(onCodePath('src/other.js', ['priceOrder'], error)).toMatchObject({ ok: true, detail: 'frame priceOrder is the function the line sits in' });
    const logged = { signature: 's', template: 'applyCoupon failed for order <*>', message: 'applyCoupon failed for order 7', stackTrace: null };
    expect(onCodePath('src/coupons.js', ['applyCoupon'], logged)).toMatchObject({ ok: true, detail: "the error's message names applyCoupon" });
    expect(onCodePath('src/coupons.js', ['apply'], logged).ok).toBe(false);
  });

  it('matches Java frames by file name and class', () => {
    const java = { signature: 'j', template: '', message: 'java.lang.NullPointerException', stackTrace: '\tat com.acme.pricing.Pricing.discountCents(Pricing.java:12)' };
    expect(onCodePath('src/main/java/com/acme/pricing/Pricing.java', [], java).ok).toBe(true);
    expect(onCodePath('src/main/java/com/acme/pricing/Coupons.java', ['discountCents'], java).ok).toBe(true);
    expect(onCodePath('src/main/java/com/acme/pricing/Coupons.java', ['apply'], java)).toMatchObject({ ok: false, detail: expect.stringContaining('com.acme.pricing.Pricing.discountCents (Pricing.java:12)') });
  });
});

describe('checkCodeReferences', () => {
  it('refuses files and functions that do not exist at the revision, and only those', () => {
    const lookup = { files: { 'src/pricing.js': true, 'src/ghost.js': false }, symbols: { discountCents: true, applyCoupon: false } };
    expect(
      checkCodeReferences(
        [{ file: 'src/pricing.js' }, { file: './src/pricing.js', function: 'discountCents' }, { file: 'src/ghost.js' }, { function: 'applyCoupon' }, { file: 'src/pricing.js', function: 'Pricing.applyCoupon' }],
        lookup,
        'abc123',
      ),
    ).toEqual([
      { reference: { file: 'src/ghost.js' }, reason: 'no file src/ghost.js exists at abc123' },
      { reference: { function: 'applyCoupon' }, reason: 'no symbol applyCoupon exists at abc123' },
      { reference: { file: 'src/pricing.js', function: 'Pricing.applyCoupon' }, reason: 'no symbol Pricing, applyCoupon exists at abc123' },
    ]);
  });
});
