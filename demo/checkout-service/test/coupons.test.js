'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { findCoupon, redeemCoupon } = require('../src/coupons');

test('coupon codes are case-insensitive', () => {
  assert.equal(findCoupon('welcome10').percent, 10);
});

test('no code means no coupon', () => {
  assert.equal(findCoupon(undefined), undefined);
  assert.equal(findCoupon(''), undefined);
});

test('an unknown code is refused', () => {
  assert.throws(() => findCoupon('FREE100'), RangeError);
});

test('FIRSTORDER is taken once per customer', () => {
  assert.equal(redeemCoupon('FIRSTORDER', 'customer-1001').percent, 20);
  assert.throws(() => redeemCoupon('FIRSTORDER', 'customer-1001'), /already used/);
  assert.equal(redeemCoupon('FIRSTORDER', 'customer-1002').percent, 20);
});

test('FIRSTORDER needs a signed-in customer', () => {
  assert.throws(() => redeemCoupon('FIRSTORDER', undefined), /signed-in customers/);
});

test('other coupons are not limited per customer', () => {
  assert.equal(redeemCoupon('SPRING25', 'customer-1003').percent, 25);
  assert.equal(redeemCoupon('SPRING25', 'customer-1003').percent, 25);
});
