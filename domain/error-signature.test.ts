import { errorSignature, errorSignatureOf, parseError } from './error-signature';
import { LogTemplateMiner } from './log-template-miner';
import { matchReproduction } from './reproduction-match';

const alertMessage = [
  'Unhandled error in POST /checkout (request 7f3a9c2e-1b4d-4e8f-9a0b-3c5d7e9f1a2b)',
  "TypeError: Cannot read properties of undefined (reading 'percent')",
  '    at discountCents (/app/src/pricing.js:10:40)',
  '    at priceOrder (/app/src/pricing.js:19:20)',
].join('\n');

describe('errorSignature', () => {
  it("is the template miner's signature of the error line: a 16-hex id and the line with its values masked", () => {
    expect(errorSignatureOf(alertMessage)).toEqual({ id: expect.stringMatching(/^[0-9a-f]{16}$/), template: "TypeError: Cannot read properties of undefined (reading 'percent')" });
    expect(errorSignature(alertMessage)).toBe(errorSignatureOf(alertMessage).id);
    expect(errorSignatureOf('RangeError: unknown coupon FREE100 for order 8812 after 30 ms').template).toBe('RangeError: unknown coupon <*> for order <*> after <*>');
    // A text naming no exception is signed by its first line.
    expect(errorSignatureOf('\n  upstream 10.0.0.7:8080 timed out\nretrying').template).toBe('upstream <*> timed out');
  });

  it('is equal for two occurrences that differ only in ids and numbers, and differs for another error', () => {
    const other = alertMessage.replace('7f3a9c2e-1b4d-4e8f-9a0b-3c5d7e9f1a2b', '00000000-1111-2222-3333-444444444444');
    expect(errorSignature(other)).toBe(errorSignature(alertMessage));
    expect(errorSignature('RangeError: unknown coupon FREE100 for order 8812')).toBe(errorSignature('RangeError: unknown coupon SAVE15 for order 9921'));
    expect(errorSignature('RangeError: unknown coupon FREE100')).not.toBe(errorSignature(alertMessage));
    expect(errorSignature("TypeError: Cannot read properties of null (reading 'percent')")).not.toBe(errorSignature(alertMessage));
  });

  it('gives the id a miner gives the template born from the same line, so a deploy watch and a PR link name it alike', () => {
    const line = "TypeError: Cannot read properties of undefined (reading 'percent')";
    const [mined] = new LogTemplateMiner().mineAll([`${line}`, 'GET /health 200 in 3 ms', line.replace('percent', 'total')]);
    expect(errorSignature(alertMessage)).toBe(mined!.id);
  });

  it("reads Node's test runner form 'TypeError [Error]: …' and its frames", () => {
    const parsed = parseError("  TypeError [Error]: Cannot read x\n      at discountCents (/w/src/pricing.js:10:40)\n");
    expect(parsed).toEqual({ type: 'TypeError', message: 'Cannot read x', frames: ['discountCents'] });
  });
});

describe('matchReproduction', () => {
  it('accepts a failure with the same type and message', () => {
    const output = "✖ x\n  TypeError [Error]: Cannot read properties of undefined (reading 'percent')\n      at discountCents (/tmp/w/src/pricing.js:10:40)";
    expect(matchReproduction(alertMessage, output).matched).toBe(true);
  });

  it('accepts the same type in the same innermost frame when the message differs', () => {
    const output = "TypeError: Cannot read properties of null (reading 'percent')\n    at discountCents (/tmp/w/src/pricing.js:10:40)";
    expect(matchReproduction(alertMessage, output)).toMatchObject({ matched: true });
  });

  it("reads Node's TAP reporter, which quotes the message and prints frames without 'at'", () => {
    const tap = [
      'not ok 1 - an order without a coupon code is priced at its subtotal plus shipping',
      '  ---',
      "  error: \"Cannot read properties of undefined (reading 'percent')\"",
      "  name: 'TypeError'",
      '  stack: |-',
      '    discountCents (/tmp/w/src/pricing.js:10:40)',
    ].join('\n');
    expect(matchReproduction(alertMessage, tap).matched).toBe(true);
    expect(matchReproduction(alertMessage, tap.replace("reading 'percent'", "reading 'total'")).matched).toBe(true);
    expect(matchReproduction(alertMessage, tap.replace("'TypeError'", "'RangeError'")).matched).toBe(false);
  });

  it('accepts the same message with other values in it, as the template miner masks them', () => {
    const alert = 'RangeError: unknown coupon FREE100 for order 8812\n    at applyCoupon (/app/src/coupons.js:4:11)';
    expect(matchReproduction(alert, 'RangeError [Error]: unknown coupon SAVE15 for order 9921\n      at validate (/w/src/coupons.js:9:3)').matched).toBe(true);
    expect(matchReproduction(alert, 'RangeError [Error]: unknown currency XYZ for order 9921\n      at validate (/w/src/coupons.js:9:3)').matched).toBe(false);
  });

  it('refuses a test that fails for another reason', () => {
    const output = 'AssertionError [ERR_ASSERTION]: Expected values to be strictly equal:\n\n2999 !== 2500';
    expect(matchReproduction(alertMessage, output)).toMatchObject({ matched: false });
  });

  it('refuses the same type raised elsewhere with another message', () => {
    const output = "TypeError: items is not iterable\n    at subtotalCents (/tmp/w/src/pricing.js:5:16)";
    expect(matchReproduction(alertMessage, output).matched).toBe(false);
  });
});
