/**
 * Cart arithmetic shared by the cart page and checkout. Prices are in dollars; totals are
 * rounded to cents.
 */

export function lineTotal(item) {
  return item.price * item.quantity;
}

export function cartTotal(items) {
  const total = items.map(lineTotal).reduce((sum, amount) => sum + amount, 0);
  return Math.round(total * 100) / 100;
}

export function formatPrice(amount) {
  return `$${amount.toFixed(2)}`;
}
