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

/** A new customer's welcome: 20% off their first order, once per customer. */
COUPONS.FIRSTORDER = { code: 'FIRSTORDER', percent: 20, oncePerCustomer: true };

/** The once-per-customer codes each customer has redeemed (in memory: the service keeps no database). */
const redeemed = new Map();

/** The coupon of a customer's checkout: a once-per-customer coupon the customer has used before is refused. */
function redeemCoupon(code, customerId) {
  const coupon = findCoupon(code);
  if (!coupon || !coupon.oncePerCustomer) return coupon;
  if (customerId === undefined || customerId === null || customerId === '') throw new RangeError(`coupon ${coupon.code} is for signed-in customers`);
  const used = redeemed.get(customerId) || [];
  if (used.includes(code)) throw new RangeError(`coupon ${coupon.code} was already used by customer ${customerId}`);
  redeemed.set(customerId, [...used, code]);
  return coupon;
}

module.exports = { findCoupon, redeemCoupon };
