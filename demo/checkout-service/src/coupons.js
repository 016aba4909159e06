'use strict';

const COUPONS = {
  WELCOME10: { code: 'WELCOME10', percent: 10 },
  SPRING25: { code: 'SPRING25', percent: 25 },
};

function findCoupon(code) {
  if (code === undefined || code === null || code === '') return undefined;
  const coupon = COUPONS[String(code).toUpperCase()];
  if (!coupon) throw new RangeError(`unknown coupon ${code}`);
  return coupon;
}

module.exports = { findCoupon };
