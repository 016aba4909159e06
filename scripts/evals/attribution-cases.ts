import type { AttributionScenario, Files, FlaggedSpec } from './attribution-builder';

/**
 * Hand-written deploy-attribution scenarios: small repositories of five services and the deploys
 * made to them. A case is caused when a changed line explains a flagged error (the line is cited),
 * not_caused when nothing in the diff does: non-runtime-only deploys, errors from a third party
 * that fails at the same time, errors of code the deploy does not touch.
 */

function edit(content: string, from: string, to: string): string {
  if (!content.includes(from)) throw new Error(`edit: ${JSON.stringify(from.slice(0, 60))} is not in the file`);
  return content.replace(from, to);
}

const CHECKOUT: Files = {
  'src/pricing.js': `const TAX_RATE = 0.2;

function discountCents(subtotalCents, coupon) {
  if (!coupon) return 0;
  const rate = coupon.percent / 100;
  return Math.round(subtotalCents * rate);
}

function priceOrder(order) {
  const subtotal = order.items.reduce((sum, item) => sum + item.priceCents * item.quantity, 0);
  const discount = discountCents(subtotal, order.coupon);
  const taxed = Math.round((subtotal - discount) * (1 + TAX_RATE));
  return { subtotal, discount, total: taxed };
}

module.exports = { discountCents, priceOrder };
`,
  'src/shipping.js': `const FLAT_RATE_CENTS = 499;

function shippingCents(order) {
  if (order.delivery === 'pickup') return 0;
  if (order.subtotalCents >= 5000) return 0;
  return FLAT_RATE_CENTS;
}

function validateShipping(order) {
  if (order.delivery === 'pickup') return order.pickupPoint !== undefined;
  return typeof order.address.postcode === 'string' && order.address.postcode.length > 0;
}

module.exports = { shippingCents, validateShipping };
`,
  'src/server.js': `const { priceOrder } = require('./pricing');
const { shippingCents, validateShipping } = require('./shipping');
const { charge } = require('./payments');

async function handleCheckout(body) {
  if (!validateShipping(body)) return { status: 400, error: 'invalid shipping' };
  const price = priceOrder(body);
  const total = price.total + shippingCents({ ...body, subtotalCents: price.subtotal });
  const payment = await charge(body.customerId, total);
  return { status: 200, orderId: payment.orderId, total };
}

module.exports = { handleCheckout };
`,
  'src/payments.js': `const PROVIDER_URL = process.env.PAYMENTS_URL;

async function charge(customerId, amountCents) {
  const response = await fetch(\`\${PROVIDER_URL}/charges\`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customerId, amountCents }),
    signal: AbortSignal.timeout(5000),
  });
  if (!response.ok) throw new Error(\`payment provider answered \${response.status}\`);
  return response.json();
}

module.exports = { charge };
`,
  'test/pricing.test.js': `const { priceOrder } = require('../src/pricing');

test('prices an order without a coupon', () => {
  expect(priceOrder({ items: [{ priceCents: 1000, quantity: 2 }] }).total).toBe(2400);
});
`,
  'README.md': `# checkout-service

Prices orders and takes payment. Run \`npm test\`.
`,
  '.github/workflows/ci.yml': `name: ci
on: [push]
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: npm ci
      - run: npm test
`,
};

const PAYMENTS: Files = {
  'src/charges/create.ts': `import { randomUUID } from 'node:crypto';
import { acquirer } from '../acquirer/client';

export interface ChargeRequest {
  orderId: string;
  amountCents: number;
  currency: string;
}

export async function createCharge(request: ChargeRequest, idempotencyKey: string = randomUUID()) {
  const amount = toMinorUnits(request.amountCents, request.currency);
  return acquirer.post('/payments', { reference: request.orderId, amount, currency: request.currency }, { idempotencyKey });
}

export function toMinorUnits(amountCents: number, currency: string): number {
  const zeroDecimal = ['JPY', 'KRW'];
  return zeroDecimal.includes(currency) ? Math.round(amountCents / 100) : amountCents;
}
`,
  'src/charges/retry.ts': `import { createCharge, type ChargeRequest } from './create';

export async function chargeWithRetry(request: ChargeRequest, key: string, attempts = 3) {
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      return await createCharge(request, key);
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, attempt * 200));
    }
  }
  throw lastError;
}
`,
  'src/acquirer/client.ts': `const BASE_URL = process.env.ACQUIRER_URL ?? 'https://checkout-live.adyenpayments.com/v71';
const TIMEOUT_MS = 10_000;

export const acquirer = {
  async post(path: string, body: unknown, options: { idempotencyKey: string }) {
    const response = await fetch(BASE_URL + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': options.idempotencyKey },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!response.ok) throw new Error('acquirer answered ' + response.status);
    return response.json();
  },
};
`,
  'src/refunds/refund.ts': `import { acquirer } from '../acquirer/client';

export async function refund(paymentId: string, amountCents: number, key: string) {
  if (amountCents <= 0) throw new RangeError('refund amount must be positive');
  return acquirer.post('/payments/' + paymentId + '/refunds', { amount: amountCents }, { idempotencyKey: key });
}
`,
  'docs/runbook.md': `# payments-api runbook

- Acquirer outages: check the acquirer status page before paging.
- Refunds: idempotency keys are the refund id.
`,
  'test/create.test.ts': `import { toMinorUnits } from '../src/charges/create';

test('yen has no minor unit', () => {
  expect(toMinorUnits(12300, 'JPY')).toBe(123);
});
`,
};

const ORDERS: Files = {
  'orders/serializer.py': `def to_row(order):
    return {
        "id": order["id"],
        "customer_id": order["customerId"],
        "total_cents": order["totalCents"],
        "currency": order.get("currency", "EUR"),
    }


def from_row(row):
    return {
        "id": row["id"],
        "customerId": row["customer_id"],
        "totalCents": row["total_cents"],
        "currency": row["currency"],
    }
`,
  'orders/service.py': `from orders.inventory import reserve_stock
from orders.repository import save_order
from orders.serializer import to_row


def place_order(db, order):
    with db.transaction() as tx:
        tx.lock("orders", order["id"])
        for line in order["lines"]:
            reserve_stock(tx, line["sku"], line["quantity"])
        save_order(tx, to_row(order))
    return order["id"]
`,
  'orders/inventory.py': `def reserve_stock(tx, sku, quantity):
    updated = tx.execute(
        "UPDATE stock SET on_hand = on_hand - %s WHERE sku = %s AND on_hand >= %s",
        (quantity, sku, quantity),
    )
    if updated == 0:
        raise OutOfStock(sku)


class OutOfStock(Exception):
    pass
`,
  'orders/repository.py': `def save_order(tx, row):
    tx.execute(
        "INSERT INTO orders (id, customer_id, total_cents, currency) VALUES (%s, %s, %s, %s)",
        (row["id"], row["customer_id"], row["total_cents"], row["currency"]),
    )
`,
  'tests/test_serializer.py': `from orders.serializer import to_row


def test_to_row_keeps_customer():
    assert to_row({"id": "o1", "customerId": "c1", "totalCents": 100})["customer_id"] == "c1"
`,
  'docs/architecture.md': `# orders-service

Orders are written in one transaction with their stock reservations.
`,
  'Makefile': `test:
\tpytest -q
`,
};

const SEARCH: Files = {
  'src/query/normalize.ts': `export function normalizeQuery(raw: string): string {
  const trimmed = raw.trim().toLowerCase();
  return trimmed.normalize('NFKC').replace(/\\s+/g, ' ');
}

export function tokens(query: string): string[] {
  return normalizeQuery(query).split(' ').filter((token) => token.length > 0);
}
`,
  'src/routes/search.ts': `import { tokens } from '../query/normalize';
import { searchIndex } from '../index/client';

export async function search(request: { query: { q?: string; page?: string } }) {
  const q = request.query.q ?? '';
  const page = Number(request.query.page ?? '1');
  const results = await searchIndex(tokens(q), { from: (page - 1) * 20, size: 20 });
  return { status: 200, results };
}
`,
  'src/index/client.ts': `const INDEX_URL = process.env.INDEX_URL ?? 'http://search-index:9200';

export async function searchIndex(terms: string[], window: { from: number; size: number }) {
  const response = await fetch(INDEX_URL + '/products/_search', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: { terms: { name: terms } }, from: window.from, size: window.size }),
  });
  if (!response.ok) throw new Error('index answered ' + response.status);
  return (await response.json()).hits.hits;
}
`,
  'src/suggest/suggest.ts': `export function mergeSuggestions(brands: { id: string }[], products: { id: string }[]) {
  const seen = new Set<string>();
  return [...brands, ...products].filter((s) => (seen.has(s.id) ? false : (seen.add(s.id), true)));
}
`,
  'test/normalize.test.ts': `import { normalizeQuery } from '../src/query/normalize';

test('collapses spaces', () => {
  expect(normalizeQuery('  Red   Shoes ')).toBe('red shoes');
});
`,
  'README.md': `# search-api

GET /search?q=... returns products.
`,
};

const NOTIFY: Files = {
  'src/push/send.ts': `import { apns } from './apns';

export async function sendPush(user: { id: string; device: { deviceToken: string } | null }, text: string) {
  if (!user.device) return { skipped: true };
  return apns.send(user.device.deviceToken, { alert: text });
}
`,
  'src/push/apns.ts': `export const apns = {
  async send(token: string, payload: { alert: string }) {
    const response = await fetch('https://api.push.apple.com/3/device/' + token, { method: 'POST', body: JSON.stringify({ aps: payload }) });
    if (response.status === 429) throw new Error('APNs 429 TooManyRequests');
    if (!response.ok) throw new Error('APNs answered ' + response.status);
    return { sent: true };
  },
};
`,
  'src/email/render.ts': `const SUBJECT_LIMIT = 78;

export function renderSubject(template: string, vars: Record<string, string>): string {
  const subject = template.replace(/{{(\\w+)}}/g, (_, name: string) => vars[name] ?? '');
  return subject.length > SUBJECT_LIMIT ? subject.slice(0, SUBJECT_LIMIT - 1) + '…' : subject;
}

export function footer(locale: string, translations: Record<string, Record<string, string>>): string {
  return translations[locale]?.['footer.unsubscribe'] ?? translations['en']!['footer.unsubscribe']!;
}
`,
  'src/worker.ts': `import { sendPush } from './push/send';

export async function processBatch(batch: { user: Parameters<typeof sendPush>[0]; text: string }[]) {
  for (const message of batch) await sendPush(message.user, message.text);
}
`,
  'docs/push.md': `# Push

Users without a device are skipped.
`,
  '.gitlab-ci.yml': `test:
  image: node:20
  script:
    - npm ci
    - npm test
`,
};

/** Flagged errors, with the stack the after-deploy sample carried. */
function flagged(template: string, message: string, stackTrace: string | undefined, baselineCount: number, afterCount: number): FlaggedSpec {
  return { template, message, ...(stackTrace ? { stackTrace } : {}), baselineCount, afterCount };
}

const js = (frames: [string, string, number][]): string => frames.map(([fn, file, line]) => `    at ${fn} (/app/${file}:${line}:12)`).join('\n');
const py = (frames: [string, string, number][], error: string): string => ['Traceback (most recent call last):', ...frames.map(([fn, file, line]) => `  File "/srv/app/${file}", line ${line}, in ${fn}`), error].join('\n');

export const ATTRIBUTION_SCENARIOS: AttributionScenario[] = [
  // ---- caused: an added line explains the error ----
  {
    id: 'checkout-null-coupon-guard-removed',
    description: 'The deploy removes the guard for orders without a coupon; percent of undefined is read on every such checkout.',
    difficulty: 'easy',
    categories: ['caused', 'removed-guard'],
    service: 'checkout-service',
    base: CHECKOUT,
    deploys: [{ 'src/pricing.js': edit(CHECKOUT['src/pricing.js']!, '  if (!coupon) return 0;\n  const rate = coupon.percent / 100;', '  const rate = coupon.percent / 100;') }],
    flagged: [flagged("TypeError: Cannot read properties of undefined (reading '<*>')", "TypeError: Cannot read properties of undefined (reading 'percent')", js([['discountCents', 'src/pricing.js', 4], ['priceOrder', 'src/pricing.js', 10], ['handleCheckout', 'src/server.js', 7]]), 0, 1320)],
    verdict: 'caused',
    cite: { file: 'src/pricing.js', text: 'if (!coupon) return 0;', side: 'old' },
    facts: ['the deploy removes the early return for a missing coupon', 'discountCents then reads percent of undefined', 'the error is new since the deploy'],
  },
  {
    id: 'checkout-tax-rate-string',
    description: 'The tax rate is read from the environment as a string, so the total is concatenated and NaN reaches the payment call.',
    difficulty: 'medium',
    categories: ['caused', 'type-coercion'],
    service: 'checkout-service',
    base: CHECKOUT,
    deploys: [{ 'src/pricing.js': edit(CHECKOUT['src/pricing.js']!, 'const TAX_RATE = 0.2;', "const TAX_RATE = process.env.TAX_RATE ?? '0.2';") }],
    flagged: [flagged('RangeError: amount must be a finite number, got <*>', 'RangeError: amount must be a finite number, got NaN (order total from pricing.js)', js([['charge', 'src/payments.js', 4], ['handleCheckout', 'src/server.js', 9]]), 0, 640)],
    verdict: 'caused',
    cite: { file: 'src/pricing.js', text: 'process.env.TAX_RATE' },
    facts: ['TAX_RATE becomes a string', '1 + TAX_RATE concatenates, so the total is NaN', 'the payment call refuses the NaN amount'],
  },
  {
    id: 'checkout-pickup-point-postcode',
    description: 'Shipping validation now reads the postcode before checking for pickup delivery; pickup orders have no address.',
    difficulty: 'easy',
    categories: ['caused'],
    service: 'checkout-service',
    base: CHECKOUT,
    deploys: [
      {
        'src/shipping.js': edit(
          CHECKOUT['src/shipping.js']!,
          "function validateShipping(order) {\n  if (order.delivery === 'pickup') return order.pickupPoint !== undefined;\n  return typeof order.address.postcode === 'string' && order.address.postcode.length > 0;",
          "function validateShipping(order) {\n  const postcode = order.address.postcode.trim();\n  if (order.delivery === 'pickup') return order.pickupPoint !== undefined;\n  return postcode.length > 0;",
        ),
      },
    ],
    flagged: [flagged("TypeError: Cannot read properties of undefined (reading '<*>')", "TypeError: Cannot read properties of undefined (reading 'postcode')", js([['validateShipping', 'src/shipping.js', 10], ['handleCheckout', 'src/server.js', 6]]), 0, 210)],
    verdict: 'caused',
    cite: { file: 'src/shipping.js', text: 'const postcode = order.address.postcode.trim();' },
    facts: ['the postcode is read before the pickup check', 'pickup orders have no address', 'only pickup-point orders fail'],
  },
  {
    id: 'checkout-free-shipping-threshold-units',
    description: 'The free-shipping threshold is changed to 50 (meant as euros) against a subtotal in cents; no error is thrown but a price assertion starts failing.',
    difficulty: 'hard',
    categories: ['caused', 'units'],
    service: 'checkout-service',
    base: CHECKOUT,
    deploys: [{ 'src/shipping.js': edit(CHECKOUT['src/shipping.js']!, 'if (order.subtotalCents >= 5000) return 0;', 'if (order.subtotalCents >= 50) return 0;') }],
    flagged: [flagged('PriceAssertion: shipping <*> charged <*> expected <*>', 'PriceAssertion: shipping for order ord_81 charged 0 expected 499 (subtotal 1299 cents)', js([['shippingCents', 'src/shipping.js', 5], ['handleCheckout', 'src/server.js', 8]]), 0, 3900)],
    verdict: 'caused',
    cite: { file: 'src/shipping.js', text: 'order.subtotalCents >= 50)' },
    facts: ['the threshold 50 is compared with a subtotal in cents', 'nearly every order now ships free', 'the assertion compares the charged shipping with the expected 499'],
  },
  {
    id: 'checkout-payment-timeout-too-short',
    description: 'The payment call\'s timeout drops from 5 s to 50 ms; charges abort before the provider answers.',
    difficulty: 'medium',
    categories: ['caused', 'timeout'],
    service: 'checkout-service',
    base: CHECKOUT,
    deploys: [{ 'src/payments.js': edit(CHECKOUT['src/payments.js']!, 'AbortSignal.timeout(5000)', 'AbortSignal.timeout(50)') }],
    flagged: [flagged('TimeoutError: The operation was aborted due to timeout', 'TimeoutError: The operation was aborted due to timeout', js([['charge', 'src/payments.js', 4], ['handleCheckout', 'src/server.js', 9]]), 2, 2800)],
    verdict: 'caused',
    cite: { file: 'src/payments.js', text: 'AbortSignal.timeout(50)' },
    facts: ['the timeout is now 50 ms', 'the provider usually answers in hundreds of milliseconds', 'timeouts rose from 2 to 2,800'],
  },
  {
    id: 'payments-retry-drops-idempotency-key',
    description: 'The retry loop calls createCharge without the key, so each retry gets a fresh random key and charges again.',
    difficulty: 'medium',
    categories: ['caused', 'idempotency'],
    service: 'payments-api',
    base: PAYMENTS,
    deploys: [{ 'src/charges/retry.ts': edit(PAYMENTS['src/charges/retry.ts']!, 'return await createCharge(request, key);', 'return await createCharge(request);') }],
    flagged: [flagged('IdempotencyError: charge created twice for order <*>', 'IdempotencyError: charge created twice for order ord_7Hk2', js([['chargeWithRetry', 'src/charges/retry.ts', 7], ['createCharge', 'src/charges/create.ts', 12]]), 0, 37)],
    verdict: 'caused',
    cite: { file: 'src/charges/retry.ts', text: 'return await createCharge(request);' },
    facts: ['the retry no longer passes the idempotency key', 'createCharge then makes a new random key', 'a retried charge is created twice'],
  },
  {
    id: 'payments-zero-decimal-currency-list',
    description: 'KRW is dropped from the zero-decimal list; Korean charges are sent 100 times too large and refused.',
    difficulty: 'medium',
    categories: ['caused', 'subset'],
    service: 'payments-api',
    base: PAYMENTS,
    deploys: [{ 'src/charges/create.ts': edit(PAYMENTS['src/charges/create.ts']!, "const zeroDecimal = ['JPY', 'KRW'];", "const zeroDecimal = ['JPY'];") }],
    flagged: [flagged('acquirer answered <*>', 'acquirer answered 422', js([['post', 'src/acquirer/client.ts', 12], ['createCharge', 'src/charges/create.ts', 12]]), 3, 410)],
    verdict: 'caused',
    cite: { file: 'src/charges/create.ts', text: "const zeroDecimal = ['JPY'];" },
    facts: ['KRW is no longer treated as zero-decimal', 'KRW amounts are sent 100 times too large', 'the acquirer refuses them with 422'],
  },
  {
    id: 'payments-refund-allows-zero',
    description: 'The refund guard is relaxed to allow zero; the acquirer refuses zero-amount refunds.',
    difficulty: 'easy',
    categories: ['caused'],
    service: 'payments-api',
    base: PAYMENTS,
    deploys: [{ 'src/refunds/refund.ts': edit(PAYMENTS['src/refunds/refund.ts']!, 'if (amountCents <= 0)', 'if (amountCents < 0)') }],
    flagged: [flagged('acquirer answered <*>', 'acquirer answered 400', js([['post', 'src/acquirer/client.ts', 12], ['refund', 'src/refunds/refund.ts', 5]]), 0, 88)],
    verdict: 'caused',
    cite: { file: 'src/refunds/refund.ts', text: 'if (amountCents < 0)' },
    facts: ['zero-amount refunds now reach the acquirer', 'the acquirer answers 400 to them', 'the errors come from refund'],
  },
  {
    id: 'orders-serializer-renamed-field',
    description: 'The serializer reads customer_id from a renamed payload field; every order fails with KeyError.',
    difficulty: 'easy',
    categories: ['caused'],
    service: 'orders-service',
    base: ORDERS,
    deploys: [{ 'orders/serializer.py': edit(ORDERS['orders/serializer.py']!, '"customer_id": order["customerId"],', '"customer_id": order["customer"]["id"],') }],
    flagged: [flagged("KeyError: '<*>'", "KeyError: 'customer'", py([['place_order', 'orders/service.py', 11], ['to_row', 'orders/serializer.py', 4]], "KeyError: 'customer'"), 0, 2240)],
    verdict: 'caused',
    cite: { file: 'orders/serializer.py', text: 'order["customer"]["id"]' },
    facts: ['to_row now reads order["customer"]["id"]', 'the payload has customerId, not customer', 'every order fails'],
  },
  {
    id: 'orders-stock-check-removed',
    description: 'The stock reservation loses its on_hand guard; stock goes negative and the database check constraint fires.',
    difficulty: 'medium',
    categories: ['caused', 'concurrency'],
    service: 'orders-service',
    base: ORDERS,
    deploys: [{ 'orders/inventory.py': edit(ORDERS['orders/inventory.py']!, '"UPDATE stock SET on_hand = on_hand - %s WHERE sku = %s AND on_hand >= %s",\n        (quantity, sku, quantity),', '"UPDATE stock SET on_hand = on_hand - %s WHERE sku = %s",\n        (quantity, sku),') }],
    flagged: [flagged('IntegrityError: CHECK constraint <*> failed', 'IntegrityError: CHECK constraint stock_on_hand_nonnegative failed', py([['place_order', 'orders/service.py', 10], ['reserve_stock', 'orders/inventory.py', 2]], 'IntegrityError: CHECK constraint stock_on_hand_nonnegative failed'), 0, 22)],
    verdict: 'caused',
    cite: { file: 'orders/inventory.py', text: '"UPDATE stock SET on_hand = on_hand - %s WHERE sku = %s",' },
    facts: ['the UPDATE no longer requires on_hand >= quantity', 'stock can go below zero', 'the check constraint refuses the negative stock'],
  },
  {
    id: 'orders-lock-order-swapped',
    description: 'The deploy reserves stock before locking the order row, so two transactions can take locks in opposite orders.',
    difficulty: 'hard',
    categories: ['caused', 'concurrency'],
    service: 'orders-service',
    base: ORDERS,
    deploys: [
      {
        'orders/service.py': edit(
          ORDERS['orders/service.py']!,
          '        tx.lock("orders", order["id"])\n        for line in order["lines"]:\n            reserve_stock(tx, line["sku"], line["quantity"])\n',
          '        for line in order["lines"]:\n            reserve_stock(tx, line["sku"], line["quantity"])\n        tx.lock("orders", order["id"])\n',
        ),
      },
    ],
    flagged: [flagged('OperationalError: (1213, Deadlock found when trying to get lock; try restarting transaction)', 'OperationalError: (1213, Deadlock found when trying to get lock; try restarting transaction)', py([['place_order', 'orders/service.py', 9], ['reserve_stock', 'orders/inventory.py', 2]], 'OperationalError: (1213, Deadlock found when trying to get lock)'), 1, 410)],
    verdict: 'caused',
    cite: { file: 'orders/service.py', text: 'tx.lock("orders", order["id"])' },
    facts: ['the order lock is now taken after the stock rows', 'concurrent orders take locks in opposite orders', 'deadlocks rose from 1 to 410'],
  },
  {
    id: 'orders-currency-default-none',
    description: 'The serializer stops defaulting the currency; the INSERT writes NULL into a NOT NULL column.',
    difficulty: 'medium',
    categories: ['caused'],
    service: 'orders-service',
    base: ORDERS,
    deploys: [{ 'orders/serializer.py': edit(ORDERS['orders/serializer.py']!, '"currency": order.get("currency", "EUR"),', '"currency": order.get("currency"),') }],
    flagged: [flagged('IntegrityError: null value in column "<*>" violates not-null constraint', 'IntegrityError: null value in column "currency" violates not-null constraint (row from to_row: id=o_81, customer_id=c_12, total_cents=1999, currency=None)', py([['place_order', 'orders/service.py', 11], ['save_order', 'orders/repository.py', 2]], 'IntegrityError: null value in column "currency"'), 0, 530)],
    verdict: 'caused',
    cite: { file: 'orders/serializer.py', text: '"currency": order.get("currency"),' },
    facts: ['orders without a currency now get None', 'the column is NOT NULL', 'the failing INSERT is in save_order but the cause is the serializer line'],
  },
  {
    id: 'search-normalize-surrogate-split',
    description: 'A new character filter in normalizeQuery splits surrogate pairs and throws on emoji.',
    difficulty: 'medium',
    categories: ['caused', 'unicode'],
    service: 'search-api',
    base: SEARCH,
    deploys: [
      {
        'src/query/normalize.ts': edit(
          SEARCH['src/query/normalize.ts']!,
          "  return trimmed.normalize('NFKC').replace(/\\s+/g, ' ');",
          "  const kept = trimmed.split('').map((c) => String.fromCodePoint(c.charCodeAt(0))).join('');\n  return kept.normalize('NFKC').replace(/\\s+/g, ' ');",
        ),
      },
    ],
    flagged: [flagged('RangeError: Invalid code point <*>', 'RangeError: Invalid code point 55357', js([['normalizeQuery', 'src/query/normalize.ts', 3], ['tokens', 'src/query/normalize.ts', 8], ['search', 'src/routes/search.ts', 7]]), 0, 1900)],
    verdict: 'caused',
    cite: { file: 'src/query/normalize.ts', text: "trimmed.split('')" },
    facts: ['split("") cuts emoji into surrogate halves', 'fromCodePoint of a lone surrogate is refused here as an invalid code point', 'searches with emoji fail'],
  },
  {
    id: 'search-page-zero-negative-from',
    description: 'Pages become zero-based in the route while the offset arithmetic stays one-based: page 0 asks the index for from=-20.',
    difficulty: 'medium',
    categories: ['caused'],
    service: 'search-api',
    base: SEARCH,
    deploys: [{ 'src/routes/search.ts': edit(SEARCH['src/routes/search.ts']!, "const page = Number(request.query.page ?? '1');", "const page = Number(request.query.page ?? '0');") }],
    flagged: [flagged('index answered <*>', 'index answered 400', js([['searchIndex', 'src/index/client.ts', 10], ['search', 'src/routes/search.ts', 7]]), 5, 8200)],
    verdict: 'caused',
    cite: { file: 'src/routes/search.ts', text: "request.query.page ?? '0'" },
    facts: ['the default page is now 0', '(page - 1) * 20 gives from = -20', 'the index refuses a negative from with 400'],
  },
  {
    id: 'search-suggest-dedup-removed',
    description: 'The suggestion merge drops its deduplication; a downstream consumer warns about duplicate ids.',
    difficulty: 'easy',
    categories: ['caused'],
    service: 'search-api',
    base: SEARCH,
    deploys: [{ 'src/suggest/suggest.ts': edit(SEARCH['src/suggest/suggest.ts']!, '  const seen = new Set<string>();\n  return [...brands, ...products].filter((s) => (seen.has(s.id) ? false : (seen.add(s.id), true)));', '  return [...brands, ...products];') }],
    flagged: [flagged('Warning: duplicate suggestion id <*> in response', 'Warning: duplicate suggestion id sug_4411 in response (mergeSuggestions)', undefined, 0, 440)],
    verdict: 'caused',
    cite: { file: 'src/suggest/suggest.ts', text: 'return [...brands, ...products];' },
    facts: ['mergeSuggestions no longer removes repeated ids', 'a brand that is also a product appears twice', 'the warning names mergeSuggestions'],
  },
  {
    id: 'notifications-device-null-check-removed',
    description: 'The guard for users without a device is removed; sendPush reads deviceToken of null.',
    difficulty: 'easy',
    categories: ['caused', 'removed-guard'],
    service: 'notifications-worker',
    base: NOTIFY,
    deploys: [{ 'src/push/send.ts': edit(NOTIFY['src/push/send.ts']!, '  if (!user.device) return { skipped: true };\n', '') }],
    flagged: [flagged("TypeError: Cannot read properties of null (reading '<*>')", "TypeError: Cannot read properties of null (reading 'deviceToken')", js([['sendPush', 'src/push/send.ts', 4], ['processBatch', 'src/worker.ts', 4]]), 0, 27)],
    verdict: 'caused',
    cite: { file: 'src/push/send.ts', text: 'if (!user.device) return { skipped: true };', side: 'old' },
    facts: ['the deploy removes the check for a missing device', 'users without a device reach apns.send with a null device', 'the worker crashes on them'],
  },
  {
    id: 'notifications-subject-limit-off-by-one',
    description: 'The subject limit constant changes to 7.8 by a typo; every subject is truncated and a render check warns.',
    difficulty: 'medium',
    categories: ['caused', 'typo'],
    service: 'notifications-worker',
    base: NOTIFY,
    deploys: [{ 'src/email/render.ts': edit(NOTIFY['src/email/render.ts']!, 'const SUBJECT_LIMIT = 78;', 'const SUBJECT_LIMIT = 7.8;') }],
    flagged: [flagged('RenderCheck: subject of <*> truncated to <*> characters', 'RenderCheck: subject of order-shipped truncated to 7 characters in renderSubject', undefined, 0, 9100)],
    verdict: 'caused',
    cite: { file: 'src/email/render.ts', text: 'const SUBJECT_LIMIT = 7.8;' },
    facts: ['SUBJECT_LIMIT is 7.8 instead of 78', 'every subject is cut to a few characters', 'the warning names renderSubject'],
  },
  {
    id: 'notifications-footer-fallback-removed',
    description: 'The footer no longer falls back to English; locales without the key render undefined and the template check fails.',
    difficulty: 'easy',
    categories: ['caused'],
    service: 'notifications-worker',
    base: NOTIFY,
    deploys: [{ 'src/email/render.ts': edit(NOTIFY['src/email/render.ts']!, "  return translations[locale]?.['footer.unsubscribe'] ?? translations['en']!['footer.unsubscribe']!;", "  return translations[locale]!['footer.unsubscribe']!;") }],
    flagged: [flagged("TypeError: Cannot read properties of undefined (reading '<*>')", "TypeError: Cannot read properties of undefined (reading 'footer.unsubscribe')", js([['footer', 'src/email/render.ts', 9]]), 0, 160)],
    verdict: 'caused',
    cite: { file: 'src/email/render.ts', text: "return translations[locale]!['footer.unsubscribe']!;" },
    facts: ['footer no longer falls back to en', 'locales without translations are undefined', 'footer reads the key of undefined'],
  },
  {
    id: 'search-index-path-typo',
    description: 'The index client\'s search path loses its leading slash; every query goes to a URL the index does not serve.',
    difficulty: 'easy',
    categories: ['caused', 'typo'],
    service: 'search-api',
    base: SEARCH,
    deploys: [{ 'src/index/client.ts': edit(SEARCH['src/index/client.ts']!, "fetch(INDEX_URL + '/products/_search', {", "fetch(INDEX_URL + 'products/_search', {") }],
    flagged: [flagged('TypeError: fetch failed (<*>)', 'TypeError: fetch failed (getaddrinfo ENOTFOUND search-index:9200products)', js([['searchIndex', 'src/index/client.ts', 4], ['search', 'src/routes/search.ts', 7]]), 0, 9400)],
    verdict: 'caused',
    cite: { file: 'src/index/client.ts', text: "INDEX_URL + 'products/_search'" },
    facts: ['the path lost its leading slash', 'the host and path run together into search-index:9200products', 'every search fails to reach the index'],
  },
  // ---- caused in an earlier deploy: the deploy under watch is innocent ----
  {
    id: 'checkout-cause-in-earlier-deploy',
    description: 'The latest deploy only edits the README; the coupon errors began after the deploy before it, which removed the guard.',
    difficulty: 'hard',
    categories: ['caused', 'earlier-deploy'],
    service: 'checkout-service',
    base: CHECKOUT,
    deploys: [
      { 'src/pricing.js': edit(CHECKOUT['src/pricing.js']!, '  if (!coupon) return 0;\n', '') },
      { 'README.md': CHECKOUT['README.md'] + '\nCoupons are optional.\n' },
    ],
    flagged: [flagged("TypeError: Cannot read properties of undefined (reading '<*>')", "TypeError: Cannot read properties of undefined (reading 'percent')", js([['discountCents', 'src/pricing.js', 4], ['priceOrder', 'src/pricing.js', 10]]), 0, 480)],
    verdict: 'caused',
    cite: { deploy: 0, file: 'src/pricing.js', text: 'if (!coupon) return 0;', side: 'old' },
    facts: ['the deploy under watch changes only README.md', 'the deploy before it removed the coupon guard in discountCents', 'the cause is the earlier deploy'],
  },
  {
    id: 'payments-cause-in-earlier-deploy',
    description: 'The latest deploy adds a runbook note and a test; the deploy before it dropped the idempotency key from the retry.',
    difficulty: 'hard',
    categories: ['caused', 'earlier-deploy'],
    service: 'payments-api',
    base: PAYMENTS,
    deploys: [
      { 'src/charges/retry.ts': edit(PAYMENTS['src/charges/retry.ts']!, 'return await createCharge(request, key);', 'return await createCharge(request);') },
      {
        'docs/runbook.md': PAYMENTS['docs/runbook.md'] + '- Duplicate charges: refund the later charge.\n',
        'test/create.test.ts': PAYMENTS['test/create.test.ts'] + "\ntest('euro has cents', () => {\n  expect(toMinorUnits(1234, 'EUR')).toBe(1234);\n});\n",
      },
    ],
    flagged: [flagged('IdempotencyError: charge created twice for order <*>', 'IdempotencyError: charge created twice for order ord_7Jq9', js([['chargeWithRetry', 'src/charges/retry.ts', 7], ['createCharge', 'src/charges/create.ts', 12]]), 0, 29)],
    verdict: 'caused',
    cite: { deploy: 0, file: 'src/charges/retry.ts', text: 'return await createCharge(request);' },
    facts: ['the deploy under watch touches only docs and tests', 'the earlier deploy stopped passing the idempotency key', 'the duplicate charges come from the earlier deploy'],
  },
  {
    id: 'orders-cause-two-deploys-back-with-unrelated-runtime-change',
    description: 'The latest deploy changes the repository\'s SQL formatting (runtime but harmless); the serializer change before it is what fails.',
    difficulty: 'hard',
    categories: ['caused', 'earlier-deploy'],
    service: 'orders-service',
    base: ORDERS,
    deploys: [
      { 'orders/serializer.py': edit(ORDERS['orders/serializer.py']!, '"customer_id": order["customerId"],', '"customer_id": order["customer"]["id"],') },
      { 'orders/repository.py': edit(ORDERS['orders/repository.py']!, '"INSERT INTO orders (id, customer_id, total_cents, currency) VALUES (%s, %s, %s, %s)",', '"INSERT INTO orders (id, customer_id, total_cents, currency) "\n        "VALUES (%s, %s, %s, %s)",') },
    ],
    flagged: [flagged("KeyError: '<*>'", "KeyError: 'customer'", py([['place_order', 'orders/service.py', 11], ['to_row', 'orders/serializer.py', 4]], "KeyError: 'customer'"), 0, 1800)],
    verdict: 'caused',
    cite: { deploy: 0, file: 'orders/serializer.py', text: 'order["customer"]["id"]' },
    facts: ['the latest deploy only splits an SQL string over two lines', 'the KeyError is raised in to_row, changed by the deploy before', 'the earlier deploy caused it'],
  },
  {
    id: 'search-cause-in-earlier-deploy',
    description: 'The latest deploy edits the README; the page default changed one deploy earlier.',
    difficulty: 'medium',
    categories: ['caused', 'earlier-deploy'],
    service: 'search-api',
    base: SEARCH,
    deploys: [{ 'src/routes/search.ts': edit(SEARCH['src/routes/search.ts']!, "request.query.page ?? '1'", "request.query.page ?? '0'") }, { 'README.md': SEARCH['README.md'] + '\nPages start at 1.\n' }],
    flagged: [flagged('index answered <*>', 'index answered 400', js([['searchIndex', 'src/index/client.ts', 10], ['search', 'src/routes/search.ts', 7]]), 4, 7600)],
    verdict: 'caused',
    cite: { deploy: 0, file: 'src/routes/search.ts', text: "request.query.page ?? '0'" },
    facts: ['the deploy under watch changes only the README', 'the earlier deploy made the default page 0', 'the negative offset is refused by the index'],
  },
  // ---- not caused: the deploy changes nothing that runs ----
  {
    id: 'checkout-docs-only-deploy',
    description: 'A README-only deploy lands while coupon errors rise for an unrelated reason.',
    difficulty: 'easy',
    categories: ['not-caused', 'non-runtime-only', 'docs'],
    service: 'checkout-service',
    base: CHECKOUT,
    deploys: [{ 'README.md': CHECKOUT['README.md'] + '\n## Deploying\n\nMerges to main deploy automatically.\n' }],
    flagged: [flagged('payment provider answered <*>', 'payment provider answered 502', js([['charge', 'src/payments.js', 10], ['handleCheckout', 'src/server.js', 9]]), 3, 140)],
    verdict: 'not_caused',
    facts: ['the deploy changes only README.md', 'documentation does not run in production', 'the errors come from the payment provider call'],
  },
  {
    id: 'checkout-tests-only-deploy',
    description: 'A deploy that only adds a test; checkout errors rose at the same time.',
    difficulty: 'easy',
    categories: ['not-caused', 'non-runtime-only', 'tests'],
    service: 'checkout-service',
    base: CHECKOUT,
    deploys: [{ 'test/pricing.test.js': CHECKOUT['test/pricing.test.js'] + "\ntest('applies a coupon', () => {\n  expect(priceOrder({ items: [{ priceCents: 1000, quantity: 1 }], coupon: { percent: 10 } }).total).toBe(1080);\n});\n" }],
    flagged: [flagged("TypeError: Cannot read properties of undefined (reading '<*>')", "TypeError: Cannot read properties of undefined (reading 'postcode')", js([['validateShipping', 'src/shipping.js', 11], ['handleCheckout', 'src/server.js', 6]]), 40, 95)],
    verdict: 'not_caused',
    facts: ['only test/pricing.test.js changes', 'tests do not run in production', 'the postcode error existed before the deploy (baseline 40)'],
  },
  {
    id: 'checkout-ci-only-deploy',
    description: 'The deploy bumps the CI workflow\'s Node version only.',
    difficulty: 'easy',
    categories: ['not-caused', 'non-runtime-only', 'ci'],
    service: 'checkout-service',
    base: CHECKOUT,
    deploys: [{ '.github/workflows/ci.yml': edit(CHECKOUT['.github/workflows/ci.yml']!, '      - uses: actions/checkout@v4\n', '      - uses: actions/checkout@v4\n      - uses: actions/setup-node@v4\n        with:\n          node-version: 22\n') }],
    flagged: [flagged('TimeoutError: The operation was aborted due to timeout', 'TimeoutError: The operation was aborted due to timeout', js([['charge', 'src/payments.js', 4]]), 10, 60)],
    verdict: 'not_caused',
    facts: ['only the CI workflow changes', 'CI configuration does not run in production', 'the payment timeouts have another cause'],
  },
  {
    id: 'payments-docs-and-tests-deploy',
    description: 'A runbook edit and a new unit test; refund errors rise the same hour.',
    difficulty: 'easy',
    categories: ['not-caused', 'non-runtime-only', 'docs', 'tests'],
    service: 'payments-api',
    base: PAYMENTS,
    deploys: [
      {
        'docs/runbook.md': PAYMENTS['docs/runbook.md'] + '- 3DS slowness: check the directory server status.\n',
        'test/create.test.ts': PAYMENTS['test/create.test.ts'] + "\ntest('won has no minor unit', () => {\n  expect(toMinorUnits(50000, 'KRW')).toBe(500);\n});\n",
      },
    ],
    flagged: [flagged('acquirer answered <*>', 'acquirer answered 500', js([['post', 'src/acquirer/client.ts', 12], ['refund', 'src/refunds/refund.ts', 5]]), 2, 75)],
    verdict: 'not_caused',
    facts: ['the deploy changes a runbook and a test', 'neither runs in production', 'the refund errors are the acquirer answering 500'],
  },
  {
    id: 'orders-makefile-and-docs-deploy',
    description: 'The Makefile and architecture notes change; order deadlocks rise with traffic.',
    difficulty: 'medium',
    categories: ['not-caused', 'non-runtime-only', 'ci', 'docs'],
    service: 'orders-service',
    base: ORDERS,
    deploys: [{ Makefile: ORDERS['Makefile'] + '\nlint:\n\truff check .\n', 'docs/architecture.md': ORDERS['docs/architecture.md'] + '\nStock rows are locked in SKU order.\n' }],
    flagged: [flagged('OperationalError: (1213, Deadlock found when trying to get lock; try restarting transaction)', 'OperationalError: (1213, Deadlock found when trying to get lock; try restarting transaction)', py([['place_order', 'orders/service.py', 10]], 'OperationalError: (1213, Deadlock found)'), 30, 70)],
    verdict: 'not_caused',
    facts: ['the Makefile and docs are not runtime files', 'the deadlocks existed in the baseline (30)', 'the rise follows traffic, not the deploy'],
  },
  {
    id: 'orders-tests-only-deploy',
    description: 'A deploy adding a serializer test while KeyErrors from a malformed client payload rise.',
    difficulty: 'medium',
    categories: ['not-caused', 'non-runtime-only', 'tests'],
    service: 'orders-service',
    base: ORDERS,
    deploys: [{ 'tests/test_serializer.py': ORDERS['tests/test_serializer.py'] + '\n\ndef test_to_row_defaults_currency():\n    assert to_row({"id": "o2", "customerId": "c2", "totalCents": 5})["currency"] == "EUR"\n' }],
    flagged: [flagged("KeyError: '<*>'", "KeyError: 'totalCents'", py([['to_row', 'orders/serializer.py', 5]], "KeyError: 'totalCents'"), 0, 44)],
    verdict: 'not_caused',
    facts: ['only tests/test_serializer.py changes', 'a test file does not run in production', 'the KeyError comes from payloads without totalCents, which the deploy does not touch'],
  },
  {
    id: 'search-readme-only-deploy',
    description: 'README edits only, while the search index answers 503.',
    difficulty: 'easy',
    categories: ['not-caused', 'non-runtime-only', 'docs'],
    service: 'search-api',
    base: SEARCH,
    deploys: [{ 'README.md': SEARCH['README.md'] + '\nGET /suggest?q=... returns suggestions.\n' }],
    flagged: [flagged('index answered <*>', 'index answered 503', js([['searchIndex', 'src/index/client.ts', 10], ['search', 'src/routes/search.ts', 7]]), 1, 300)],
    verdict: 'not_caused',
    facts: ['the deploy changes only the README', 'the errors are the index answering 503', 'nothing in the diff runs'],
  },
  {
    id: 'search-test-only-deploy-with-misleading-name',
    description: 'The only change is a test named after the failing function; the function itself is untouched.',
    difficulty: 'hard',
    categories: ['not-caused', 'non-runtime-only', 'tests'],
    service: 'search-api',
    base: SEARCH,
    deploys: [{ 'test/normalize.test.ts': SEARCH['test/normalize.test.ts'] + "\ntest('normalizeQuery keeps emoji', () => {\n  expect(normalizeQuery('👟 shoes')).toBe('👟 shoes');\n});\n" }],
    flagged: [flagged('RangeError: Invalid code point <*>', 'RangeError: Invalid code point 56468', js([['normalizeQuery', 'src/query/normalize.ts', 3], ['search', 'src/routes/search.ts', 7]]), 12, 40)],
    verdict: 'not_caused',
    facts: ['the deploy adds a test that mentions normalizeQuery', 'src/query/normalize.ts itself is unchanged', 'the error was in the baseline (12) before the deploy'],
  },
  {
    id: 'notifications-ci-and-docs-deploy',
    description: 'The CI image and push docs change; APNs rate limiting rises the same evening.',
    difficulty: 'easy',
    categories: ['not-caused', 'non-runtime-only', 'ci', 'docs'],
    service: 'notifications-worker',
    base: NOTIFY,
    deploys: [{ '.gitlab-ci.yml': edit(NOTIFY['.gitlab-ci.yml']!, 'image: node:20', 'image: node:22'), 'docs/push.md': NOTIFY['docs/push.md'] + '\nAPNs may answer 429 under load; we retry.\n' }],
    flagged: [flagged('APNs <*> TooManyRequests', 'APNs 429 TooManyRequests', js([['send', 'src/push/apns.ts', 4], ['sendPush', 'src/push/send.ts', 5]]), 20, 260)],
    verdict: 'not_caused',
    facts: ['the CI image and documentation are not runtime', 'APNs answers 429 under the evening load', 'no runtime file changed'],
  },
  // ---- not caused: a third party fails at the same time ----
  {
    id: 'checkout-payment-provider-outage-coincident',
    description: 'The deploy refactors price rounding (runtime, correct); the payment provider times out at the same moment.',
    difficulty: 'hard',
    categories: ['not-caused', 'third-party-outage'],
    service: 'checkout-service',
    base: CHECKOUT,
    deploys: [{ 'src/pricing.js': edit(CHECKOUT['src/pricing.js']!, '  const taxed = Math.round((subtotal - discount) * (1 + TAX_RATE));\n  return { subtotal, discount, total: taxed };', '  const net = subtotal - discount;\n  const total = Math.round(net * (1 + TAX_RATE));\n  return { subtotal, discount, total };') }],
    flagged: [flagged('TimeoutError: The operation was aborted due to timeout', 'TimeoutError: The operation was aborted due to timeout', js([['charge', 'src/payments.js', 4], ['handleCheckout', 'src/server.js', 9]]), 3, 2400)],
    verdict: 'not_caused',
    facts: ['the deploy only renames variables in priceOrder', 'the errors are timeouts calling the payment provider', 'the payment call and its timeout are unchanged'],
  },
  {
    id: 'payments-acquirer-outage-while-refund-change',
    description: 'A refund validation change ships while the acquirer times out on payments.',
    difficulty: 'hard',
    categories: ['not-caused', 'third-party-outage'],
    service: 'payments-api',
    base: PAYMENTS,
    deploys: [{ 'src/refunds/refund.ts': edit(PAYMENTS['src/refunds/refund.ts']!, "throw new RangeError('refund amount must be positive');", "throw new RangeError('refund amount must be positive, got ' + amountCents);") }],
    flagged: [flagged('TimeoutError: The operation was aborted due to timeout', 'TimeoutError: The operation was aborted due to timeout', js([['post', 'src/acquirer/client.ts', 6], ['createCharge', 'src/charges/create.ts', 12]]), 1, 4100)],
    verdict: 'not_caused',
    facts: ['the deploy changes only a refund error message', 'the timeouts are on payment creation at the acquirer', 'the acquirer is slow for everyone at that time'],
  },
  {
    id: 'search-index-provider-outage-coincident',
    description: 'A harmless tokenizer tweak ships while the hosted index answers 503.',
    difficulty: 'medium',
    categories: ['not-caused', 'third-party-outage'],
    service: 'search-api',
    base: SEARCH,
    deploys: [{ 'src/query/normalize.ts': edit(SEARCH['src/query/normalize.ts']!, '.filter((token) => token.length > 0);', '.filter((token) => token !== \'\');') }],
    flagged: [flagged('index answered <*>', 'index answered 503', js([['searchIndex', 'src/index/client.ts', 10], ['search', 'src/routes/search.ts', 7]]), 2, 5200)],
    verdict: 'not_caused',
    facts: ['the tokenizer change is equivalent', 'the index answers 503 to every query', 'the hosted index is down, not the diff'],
  },
  {
    id: 'notifications-apns-outage-while-footer-change',
    description: 'A footer translation refactor ships while APNs answers 503.',
    difficulty: 'medium',
    categories: ['not-caused', 'third-party-outage'],
    service: 'notifications-worker',
    base: NOTIFY,
    deploys: [{ 'src/email/render.ts': edit(NOTIFY['src/email/render.ts']!, "export function footer(locale: string, translations: Record<string, Record<string, string>>): string {", "export function footer(locale: string, translations: Readonly<Record<string, Record<string, string>>>): string {") }],
    flagged: [flagged('APNs answered <*>', 'APNs answered 503', js([['send', 'src/push/apns.ts', 5], ['sendPush', 'src/push/send.ts', 5]]), 0, 3300)],
    verdict: 'not_caused',
    facts: ['the deploy changes only a type in the email footer', 'the errors are APNs answering 503', 'push sending code is unchanged'],
  },
  // ---- not caused: runtime changes elsewhere ----
  {
    id: 'orders-serializer-change-unrelated-deadlocks',
    description: 'The serializer gains a field (correctly); deadlocks that predate the deploy rise with traffic.',
    difficulty: 'hard',
    categories: ['not-caused', 'unrelated-runtime-change'],
    service: 'orders-service',
    base: ORDERS,
    deploys: [{ 'orders/serializer.py': edit(ORDERS['orders/serializer.py']!, '        "currency": row["currency"],\n    }', '        "currency": row["currency"],\n        "source": row.get("source", "web"),\n    }') }],
    flagged: [flagged('OperationalError: (1213, Deadlock found when trying to get lock; try restarting transaction)', 'OperationalError: (1213, Deadlock found when trying to get lock; try restarting transaction)', py([['place_order', 'orders/service.py', 10], ['reserve_stock', 'orders/inventory.py', 2]], 'OperationalError: (1213, Deadlock found)'), 25, 90)],
    verdict: 'not_caused',
    facts: ['the deploy changes from_row, which place_order does not call', 'the deadlocks were in the baseline (25)', 'the stack runs through reserve_stock, which the deploy does not touch'],
  },
  {
    id: 'checkout-shipping-change-coupon-error-preexisting',
    description: 'Free shipping rules change correctly; an old coupon error rises because a marketing email sends a broken coupon link.',
    difficulty: 'hard',
    categories: ['not-caused', 'unrelated-runtime-change'],
    service: 'checkout-service',
    base: CHECKOUT,
    deploys: [{ 'src/shipping.js': edit(CHECKOUT['src/shipping.js']!, "  if (order.delivery === 'pickup') return 0;\n  if (order.subtotalCents >= 5000) return 0;", "  if (order.delivery === 'pickup') return 0;\n  if (order.delivery === 'locker') return 0;\n  if (order.subtotalCents >= 5000) return 0;") }],
    flagged: [flagged('CouponError: coupon <*> not found', 'CouponError: coupon SPRING-26 not found', js([['loadCoupon', 'src/coupons.js', 8], ['handleCheckout', 'src/server.js', 7]]), 4, 900)],
    verdict: 'not_caused',
    facts: ['the deploy only adds free locker delivery in shippingCents', 'the error is a coupon lookup failure for an unknown coupon code', 'the coupon code comes from a campaign link, not from the diff'],
  },
  {
    id: 'payments-currency-change-error-in-refunds',
    description: 'A charge currency tweak (adding ISK to zero-decimal) ships; errors rise in refunds, which the diff does not reach.',
    difficulty: 'medium',
    categories: ['not-caused', 'unrelated-runtime-change'],
    service: 'payments-api',
    base: PAYMENTS,
    deploys: [{ 'src/charges/create.ts': edit(PAYMENTS['src/charges/create.ts']!, "const zeroDecimal = ['JPY', 'KRW'];", "const zeroDecimal = ['JPY', 'KRW', 'ISK'];") }],
    flagged: [flagged('RangeError: refund amount must be positive', 'RangeError: refund amount must be positive', js([['refund', 'src/refunds/refund.ts', 4]]), 9, 120)],
    verdict: 'not_caused',
    facts: ['the deploy changes toMinorUnits for ISK charges', 'the errors are refund validation in refund, which does not call toMinorUnits', 'the refund error was in the baseline'],
  },
  {
    id: 'notifications-worker-loop-change-apns-429',
    description: 'The batch loop is reworked (runtime) and APNs 429s rise; the stack passes through the loop, but the rate limit is APNs\' evening peak.',
    difficulty: 'hard',
    categories: ['not-caused', 'unrelated-runtime-change'],
    service: 'notifications-worker',
    base: NOTIFY,
    deploys: [{ 'src/worker.ts': edit(NOTIFY['src/worker.ts']!, '  for (const message of batch) await sendPush(message.user, message.text);', '  for (const { user, text } of batch) {\n    await sendPush(user, text);\n  }') }],
    flagged: [flagged('APNs <*> TooManyRequests', 'APNs 429 TooManyRequests', js([['send', 'src/push/apns.ts', 4], ['sendPush', 'src/push/send.ts', 5], ['processBatch', 'src/worker.ts', 5]]), 60, 150)],
    verdict: 'not_caused',
    facts: ['the loop still sends one push at a time, as before', 'APNs 429s were in the baseline (60)', 'the send rate did not change, so the diff does not explain the rise'],
  },
];
