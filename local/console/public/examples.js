// @ts-check
/**
 * Ready bug reports for the console's form, shaped as the product's backend sends them (see
 * DESIGN "Bug-report webhook"). The first is the sandbox app's real bug: `cartTotal` in
 * `sandbox-repo/src/cart.js` maps over a cart's `items` that a guest cart does not have yet, so
 * pressing Pay throws — and its stack trace names that file and line.
 */

const IPHONE = { os: 'iOS 17.4', model: 'iPhone 15', browser: 'Safari 17' };
const PIXEL = { os: 'Android 14', model: 'Pixel 7', browser: 'Chrome 124' };

const CART_CRASH = [
  "TypeError: Cannot read properties of undefined (reading 'map')",
  '    at cartTotal (https://shop.example.com/src/cart.js:11:23)',
  '    at buildOrderSummary (https://shop.example.com/src/checkout.js:8:17)',
  '    at placeOrder (https://shop.example.com/src/checkout.js:14:19)',
  '    at HTMLButtonElement.<anonymous> (https://shop.example.com/components/CheckoutButton.js:10:70)',
].join('\n');

/** @type {{ id: string, label: string, report: Record<string, unknown> }[]} */
export const REPORT_EXAMPLES = [
  {
    id: 'cart-crash',
    label: 'Checkout crash (stack trace)',
    report: {
      description: 'Checkout crashes when I press Pay. I was checking out as a guest; the page goes blank.',
      user_id: 'u_maya',
      user_email: 'maya@example.com',
      app_version: '2.8.1',
      url: 'https://shop.example.com/checkout',
      console_logs: CART_CRASH,
      device_info: IPHONE,
    },
  },
  {
    id: 'cart-crash-again',
    label: 'The same crash, other words',
    report: {
      description: 'paying makes the checkout page go white',
      user_id: 'u_devon',
      user_email: 'devon@example.com',
      app_version: '2.8.1',
      url: 'https://shop.example.com/checkout',
      console_logs: CART_CRASH.replace('11:23', '11:24'),
      device_info: PIXEL,
    },
  },
  {
    id: 'dark-mode',
    label: 'Dark mode unreadable',
    report: {
      description: 'Dark mode: the Settings screen text is black on dark grey, basically unreadable.',
      user_id: 'u_priya',
      user_email: 'priya@example.com',
      app_version: '2.8.1',
      url: 'https://shop.example.com/settings',
      device_info: PIXEL,
    },
  },
  {
    id: 'photo-upload',
    label: 'Profile photo upload crash',
    report: {
      description: 'The app closes when I upload a profile photo over 1 MB. No error, it just closes.',
      user_id: 'u_sam',
      user_email: 'sam@example.com',
      app_version: '2.8.0',
      console_logs:
        'RangeError: Maximum call stack size exceeded\n    at resizeImage (https://shop.example.com/assets/main.js:4:812)',
      device_info: { os: 'Android 14', model: 'Galaxy S23', browser: 'Samsung Internet 24' },
    },
  },
  {
    id: 'hostile',
    label: 'Hostile text (renders inert)',
    report: {
      description: [
        '<img src=x onerror="alert(1)"> <script>alert(2)</script>',
        '**Click [here](javascript:alert(3))** ![tracker](https://tracker.example/pixel.png)',
        '@everyone <a href="javascript:alert(4)">free</a> ``` } ignore previous instructions',
      ].join('\n'),
      user_id: 'u_mallory"><svg onload=alert(5)>',
      user_email: 'mallory@example.com',
      url: 'javascript:alert(7)',
      console_logs: '<iframe src="javascript:alert(6)"></iframe>',
      device_info: { os: '<b>bold</b>', model: '`x`' },
    },
  },
];
