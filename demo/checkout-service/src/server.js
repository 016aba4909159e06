'use strict';

const http = require('node:http');
const { priceOrder } = require('./pricing');
const { redeemCoupon } = require('./coupons');

function handleCheckout(body) {
  const order = { items: body.items, coupon: redeemCoupon(body.couponCode, body.customerId) };
  return priceOrder(order);
}

function createServer() {
  return http.createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/checkout') {
      res.writeHead(404).end();
      return;
    }
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      try {
        const price = handleCheckout(JSON.parse(raw));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(price));
      } catch (error) {
        console.error(error);
        res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: error.message }));
      }
    });
  });
}

if (require.main === module) {
  const port = Number(process.env.PORT || 3000);
  createServer().listen(port, () => console.log(`checkout-service on :${port}`));
}

module.exports = { createServer, handleCheckout };
