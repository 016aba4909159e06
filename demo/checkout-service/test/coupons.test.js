'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { findCoupon } = require('../src/coupons');

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
