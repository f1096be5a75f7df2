import { cartTotal, formatPrice } from './cart.js';

/**
 * What the checkout page shows and what the order request carries. A cart restored from
 * storage (a guest, or a returning visitor before their lines load) may have no `items` yet.
 */
export function buildOrderSummary(cart) {
  const total = cartTotal(cart.items);
  return { cartId: cart.id, total, label: `Pay ${formatPrice(total)}` };
}

/** Sends the order through `submit` (the page passes a `fetch` to the orders API). */
export async function placeOrder(cart, submit) {
  const summary = buildOrderSummary(cart);
  return submit({ cartId: summary.cartId, amount: summary.total });
}
