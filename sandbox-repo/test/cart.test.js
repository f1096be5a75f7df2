import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cartTotal, formatPrice } from '../src/cart.js';
import { buildOrderSummary } from '../src/checkout.js';

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

test('the order summary labels the Pay button with the total', () => {
  const summary = buildOrderSummary({ id: 'c1', items: [{ price: 4.25, quantity: 2 }] });
  assert.deepEqual(summary, { cartId: 'c1', total: 8.5, label: 'Pay $8.50' });
});
