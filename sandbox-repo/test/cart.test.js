import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cartTotal, formatPrice } from '../src/cart.js';
import { buildOrderSummary, placeOrder } from '../src/checkout.js';

test('cartTotal adds every line', () => {
  assert.equal(
    cartTotal([
      { price: 2.5, quantity: 2 },
      { price: 1, quantity: 3 },
    ]),
    8,
  );
});

test('cartTotal rounds to cents', () => {
  assert.equal(cartTotal([{ price: 0.1, quantity: 3 }]), 0.3);
});

test('an empty cart totals zero', () => {
  assert.equal(cartTotal([]), 0);
});

test('formatPrice shows cents', () => {
  assert.equal(formatPrice(3), '$3.00');
});

// "Checkout crashes when I press Pay": TypeError: Cannot read properties of undefined (reading 'map').
test('a cart whose items have not loaded totals zero instead of crashing', () => {
  assert.equal(cartTotal(undefined), 0);
});

test('pressing Place order with a guest cart sends an order instead of crashing', async () => {
  const sent = [];
  await placeOrder({ id: 'guest' }, async (order) => sent.push(order));
  assert.deepEqual(sent, [{ cartId: 'guest', amount: 0 }]);
});

test('the order summary labels the Pay button with the total', () => {
  const summary = buildOrderSummary({ id: 'c1', items: [{ price: 4.25, quantity: 2 }] });
  assert.deepEqual(summary, { cartId: 'c1', total: 8.5, label: 'Pay $8.50' });
});
