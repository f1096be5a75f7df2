import { placeOrder } from '../src/checkout.js';

export function renderCheckoutButton() {
  return '<button type="button" class="checkout-button">Place order</button>';
}

/** Mounts the button; the cart is read when it is pressed, so it is always the latest one. */
export function mountCheckoutButton(root, loadCart, submit) {
  root.innerHTML = renderCheckoutButton();
  root.querySelector('button').addEventListener('click', () => placeOrder(loadCart(), submit));
}
