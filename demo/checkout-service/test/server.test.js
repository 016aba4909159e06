'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { handleCheckout } = require('../src/server');

test('checkout with a coupon code prices the order', () => {
  const price = handleCheckout({ items: [{ sku: 'MUG', unitPriceCents: 6000, quantity: 1 }], couponCode: 'SPRING25' });
  assert.deepEqual(price, { subtotal: 6000, discount: 1500, shipping: 499, total: 4999 });
});
