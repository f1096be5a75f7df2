/**
 * An incident storm: `count` reports of ONE crash, each from another person and in other words,
 * as the product's backend would send them when a release breaks checkout. The stack traces differ
 * the way real ones do (bundle hashes, line and column numbers, Chrome and Safari frame syntax), so
 * only the crash fingerprint's normalization makes them one crash. Deterministic by index.
 */

const OPENERS = [
  '',
  'Hi, ',
  'Help! ',
  'Urgent: ',
  'hey team - ',
  'Not sure if this is known but ',
  'FYI ',
  'Since the update, ',
  'ugh, ',
  'Hello support, ',
  'Bug: ',
] as const;

const SYMPTOMS = [
  'checkout crashes when I press Pay',
  'the payment page goes white after I tap pay',
  'I cannot pay, the app closes on the checkout screen',
  'the Pay button crashes everything',
  'paying makes the checkout page go blank',
  'my order will not go through, the screen turns white at payment',
  'checkout is broken, it crashes on pay',
  'trying to pay and the whole thing just dies',
  'pressing "Place order" gives a white screen',
  'the checkout page crashes as soon as I hit pay now',
  'payment step blows up with an error and a blank page',
  'cannot complete my purchase, checkout goes white',
  'the site crashed while I was paying for my basket',
] as const;

const CONTEXTS = [
  '',
  ' on my android',
  ' since this morning',
  ' with two items in the cart',
  ' every single time',
  ' (tried 3 times)',
  ' on Safari',
  ' — please fix asap',
  '. Lost my order twice now',
] as const;

export interface StormReport extends Record<string, unknown> {
  readonly id: string;
  readonly description: string;
  readonly user_id: string;
  readonly console_logs: string;
}

/** The same crash as its reporters' browsers print it. */
export function stormCrashLogs(index: number): string {
  const hash = ((index * 2654435761) >>> 0).toString(16).padStart(8, '0');
  const line = 100 + (index % 37);
  const column = 5 + (index % 11);
  if (index % 3 === 2) {
    // Safari: other message wording, `function@url:line:column` frames.
    return [
      "TypeError: undefined is not an object (evaluating 'order.items.map')",
      `CheckoutForm@https://shop.example.com/assets/main.${hash}.js:${line}:${column}`,
      `PaymentStep@https://shop.example.com/assets/main.${hash}.js:${line + 40}:${column + 2}`,
      'renderWithHooks@https://shop.example.com/assets/vendor.js:1:2',
    ].join('\n');
  }
  return [
    "TypeError: Cannot read properties of undefined (reading 'map')",
    `    at CheckoutForm (https://shop.example.com/assets/main.${hash}.js:${line}:${column})`,
    `    at PaymentStep (https://shop.example.com/assets/main.${hash}.js:${line + 40}:${column + 2})`,
    '    at renderWithHooks (https://shop.example.com/assets/vendor.js:1:2)',
  ].join('\n');
}

export function buildStormReports(count: number, prefix = 'storm'): StormReport[] {
  return Array.from({ length: count }, (_, index) => {
    const opener = OPENERS[index % OPENERS.length] ?? '';
    const symptom = SYMPTOMS[Math.floor(index / OPENERS.length) % SYMPTOMS.length] ?? SYMPTOMS[0];
    const context = CONTEXTS[Math.floor(index / (OPENERS.length * SYMPTOMS.length)) % CONTEXTS.length] ?? '';
    return {
      id: `${prefix}-${index}`,
      description: `${opener}${symptom}${context}`,
      user_id: `${prefix}_user_${index}`,
      console_logs: stormCrashLogs(index),
      app_version: '4.2.0',
      device_info: { os: index % 2 === 0 ? 'Android 14' : 'iOS 17.4' },
    };
  });
}
