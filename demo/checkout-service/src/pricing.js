'use strict';

/** Prices are kept in cents so that sums never drift. */
function subtotalCents(items) {
  return items.reduce((sum, item) => sum + item.unitPriceCents * item.quantity, 0);
}

/** Coupons take a percentage off the subtotal, rounded to the nearest cent. */
function discountCents(subtotal, coupon) {
  return Math.round((subtotal * coupon.percent) / 100);
}

function shippingCents(subtotal) {
  return subtotal >= 5000 ? 0 : 499;
}

function priceOrder(order) {
  const subtotal = subtotalCents(order.items);
  const discount = discountCents(subtotal, order.coupon);
  const shipping = shippingCents(subtotal - discount);
  return { subtotal, discount, shipping, total: subtotal - discount + shipping };
}

module.exports = { subtotalCents, discountCents, shippingCents, priceOrder };
