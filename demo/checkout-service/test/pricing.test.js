'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { subtotalCents, discountCents, shippingCents, priceOrder } = require('../src/pricing');

const items = [
  { sku: 'MUG', unitPriceCents: 1250, quantity: 2 },
  { sku: 'TEE', unitPriceCents: 1999, quantity: 1 },
];

test('subtotal sums unit price times quantity', () => {
  assert.equal(subtotalCents(items), 4499);
});

test('discount rounds to the nearest cent', () => {
  assert.equal(discountCents(4499, { percent: 10 }), 450);
  assert.equal(discountCents(999, { percent: 25 }), 250);
});

test('shipping is free from 50.00', () => {
  assert.equal(shippingCents(5000), 0);
  assert.equal(shippingCents(4999), 499);
});

test('an order with a coupon is discounted before shipping', () => {
  assert.deepEqual(priceOrder({ items, coupon: { percent: 10 } }), { subtotal: 4499, discount: 450, shipping: 499, total: 4548 });
});
