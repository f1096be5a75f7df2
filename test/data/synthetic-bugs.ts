/**
 * Deterministic synthetic bug reports for load and robustness checks of the duplicate detector:
 * 10,000 "stored bugs" built from templates with a seeded PRNG, so every run (and every machine)
 * indexes the same texts. They use the same app vocabulary as the labeled pairs — screens,
 * symptoms, devices, error lines — which is the hard case for an inverted index (long postings)
 * and for IDF (common words become common).
 */

/** mulberry32: a tiny, fast, well-distributed 32-bit PRNG; the same seed gives the same stream. */
export function createSeededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticBug {
  readonly description: string;
  readonly console_logs?: string;
}

const SCREENS = [
  'checkout page',
  'cart',
  'login screen',
  'search results',
  'chat',
  'profile page',
  'settings screen',
  'store map',
  'camera scanner',
  'order history',
  'invoice download',
  'video player',
  'notification center',
  'onboarding',
  'wishlist',
  'reviews tab',
  'seller dashboard',
  'payout settings',
  'address form',
  'shipping options',
  'product gallery',
  'filter sheet',
  'sort menu',
  'language picker',
  'share sheet',
  'QR scanner',
  'referral page',
  'help center',
  'support widget',
  'coupon field',
  'gift card page',
  'subscription page',
  'calendar sync',
  'reminder list',
  'booking form',
  'photo upload',
  'avatar editor',
  'password reset',
  '2FA setup',
  'home feed',
  'listing editor',
  'saved searches',
  'price alerts',
  'returns flow',
  'delivery tracking',
  'loyalty points',
  'dark mode toggle',
  'accessibility menu',
];

const TRIGGERS = [
  'when I tap the {button} button',
  'after I {action}',
  'right after login',
  'when I rotate the phone',
  'when the network is slow',
  'every time I open it',
  'on the second visit',
  'after the latest update',
  'when I scroll down',
  'when I switch tabs',
  'if I go back and forth',
  'when I use the search',
  'after I change the language',
  'with a long product name',
  'with an emoji in my name',
  'on a slow 3G connection',
];

const BUTTONS = [
  'Save',
  'Continue',
  'Pay',
  'Apply',
  'Send',
  'Share',
  'Retry',
  'Confirm',
  'Next',
  'Done',
  'Edit',
  'Upload',
];
const ACTIONS = [
  'add a second address',
  'remove a filter',
  'change my photo',
  'apply a voucher',
  'edit the quantity',
  'switch to grid view',
  'sort by price',
  'reopen the app',
  'enable notifications',
  'link my calendar',
];

const SYMPTOMS = [
  'crashes',
  'freezes for a few seconds',
  'shows a blank white screen',
  'is extremely slow',
  'shows the wrong price',
  'does nothing',
  'keeps loading forever',
  'shows every entry twice',
  'loses what I typed',
  'is cut off at the bottom',
  'is hidden behind the keyboard',
  'has untranslated labels',
  'shows an error toast',
  'logs me out',
  'jumps back to the top',
  "shows yesterday's data",
  'plays no sound',
  'shows a broken image',
  'flickers',
  'closes the app',
  'ignores my selection',
  'sends me to the wrong page',
  'shows a spinner that never stops',
  'rejects a valid code',
];

const DEVICES = [
  'iPhone 12',
  'iPhone 15 Pro',
  'Pixel 7',
  'Galaxy S23',
  'Galaxy A14',
  'OnePlus 11',
  'iPad Air',
  'Moto G54',
  'Chrome on Windows',
  'Safari on macOS',
  'Firefox on Ubuntu',
  'Edge on Windows',
];

const EXTRAS = [
  'Reinstalling did not help.',
  'It worked last week.',
  'My friend has the same problem.',
  'Happens about half the time.',
  'Screenshots attached.',
  'Clearing the cache fixes it for a while.',
  'Only on mobile data, wifi is fine.',
  'This is really annoying, please fix.',
  'Started after the redesign.',
  '',
];

const PROPERTIES = ['id', 'items', 'price', 'length', 'name', 'total', 'map', 'user', 'address', 'url'];
const FUNCTIONS = [
  'renderSummary',
  'loadProfile',
  'applyFilter',
  'formatDate',
  'parseResponse',
  'buildQuery',
  'syncCart',
  'uploadFile',
  'trackEvent',
  'openSheet',
  'validateForm',
  'fetchOrders',
  'computeShipping',
  'resolveLocale',
];
const ENDPOINTS = [
  'orders',
  'cart/items',
  'users/me',
  'search',
  'listings',
  'payments/intents',
  'reviews',
  'addresses',
];

function pick<T>(random: () => number, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)]!;
}

function fill(template: string, random: () => number): string {
  return template.replace('{button}', pick(random, BUTTONS)).replace('{action}', pick(random, ACTIONS));
}

function makeConsoleLogs(random: () => number): string | undefined {
  const roll = random();
  if (roll < 0.55) return undefined;
  if (roll < 0.85) {
    const frames = Array.from({ length: 3 }, () => pick(random, FUNCTIONS));
    const hash = Math.floor(random() * 0xffffffff)
      .toString(16)
      .padStart(8, '0');
    return [
      `TypeError: Cannot read properties of undefined (reading '${pick(random, PROPERTIES)}')`,
      ...frames.map(
        (fn, i) => `    at ${fn} (https://shop.example.com/static/js/main.${hash}.js:2:${1000 + i * 317})`,
      ),
    ].join('\n');
  }
  const status = pick(random, [400, 404, 409, 422, 500, 502, 503]);
  return `${pick(random, ['GET', 'POST', 'PUT'])} https://api.example.com/v2/${pick(random, ENDPOINTS)}/${Math.floor(
    random() * 100000,
  )} ${status}`;
}

/** `count` synthetic reports, the same for the same seed. */
export function generateSyntheticBugs(count: number, seed = 20250501): SyntheticBug[] {
  const random = createSeededRandom(seed);
  const bugs: SyntheticBug[] = [];
  for (let i = 0; i < count; i++) {
    const screen = pick(random, SCREENS);
    const sentence = `The ${screen} ${pick(random, SYMPTOMS)} ${fill(pick(random, TRIGGERS), random)} on my ${pick(random, DEVICES)}.`;
    const extra = pick(random, EXTRAS);
    const description = extra ? `${sentence} ${extra}` : sentence;
    const consoleLogs = makeConsoleLogs(random);
    bugs.push(consoleLogs ? { description, console_logs: consoleLogs } : { description });
  }
  return bugs;
}
