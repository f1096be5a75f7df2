import { describe, expect, it } from 'vitest';
import {
  computeReportFingerprint,
  extractErrorSignature,
  extractReportSignature,
  normalizeErrorMessage,
  normalizeFileName,
  normalizeFunctionName,
  normalizeUrlPath,
  parseStackFrame,
} from '../../shared/domain/fingerprint.js';

const chromeCheckoutCrash = `TypeError: Cannot read properties of undefined (reading 'total')
    at computeOrderSummary (https://shop.example.com/static/js/main.3f2a9c1b.js:2:118233)
    at CheckoutForm.handlePay (https://shop.example.com/static/js/main.3f2a9c1b.js:2:120871)
    at HTMLButtonElement.onClick (https://shop.example.com/static/js/main.3f2a9c1b.js:2:121004)
    at callCallback (https://shop.example.com/static/js/vendors.91bd02aa.js:2:35412)`;

const safariCheckoutCrash = `TypeError: undefined is not an object (evaluating 'cart.total')
computeOrderSummary@https://shop.example.com/static/js/main.a81c44d0.js:2:117990
handlePay@https://shop.example.com/static/js/main.a81c44d0.js:2:120402
onClick@https://shop.example.com/static/js/main.a81c44d0.js:2:120533
callCallback@https://shop.example.com/static/js/vendors.91bd02aa.js:2:35412`;

const firefoxCheckoutCrash = `TypeError: can't access property "total", cart is undefined
computeOrderSummary@https://shop.example.com/static/js/main.77aa01b3.js:2:118001
CheckoutForm/handlePay@https://shop.example.com/static/js/main.77aa01b3.js:2:120500
onClick@https://shop.example.com/static/js/main.77aa01b3.js:2:120611`;

describe('extractErrorSignature', () => {
  it('gives the same crash on Chrome, Safari and Firefox the same fingerprint', () => {
    const chrome = extractErrorSignature(chromeCheckoutCrash);
    const safari = extractErrorSignature(safariCheckoutCrash);
    const firefox = extractErrorSignature(firefoxCheckoutCrash);

    expect(chrome?.errorType).toBe('TypeError');
    expect(chrome?.frames).toEqual(['computeOrderSummary', 'handlePay', 'onClick']);
    expect(safari?.frames).toEqual(chrome?.frames);
    expect(firefox?.frames).toEqual(chrome?.frames);
    expect(chrome?.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(safari?.fingerprint).toBe(chrome?.fingerprint);
    expect(firefox?.fingerprint).toBe(chrome?.fingerprint);
  });

  it('gives a crash at another in-app frame another fingerprint', () => {
    const elsewhere = chromeCheckoutCrash.replace('at computeOrderSummary', 'at computeShippingSummary');
    const original = extractErrorSignature(chromeCheckoutCrash);
    const other = extractErrorSignature(elsewhere);
    expect(other?.frames[0]).toBe('computeShippingSummary');
    expect(other?.fingerprint).not.toBe(original?.fingerprint);
  });

  it('gives another error type at the same frames another fingerprint', () => {
    const rangeError = chromeCheckoutCrash.replace(
      "TypeError: Cannot read properties of undefined (reading 'total')",
      'RangeError: Invalid array length',
    );
    expect(extractErrorSignature(rangeError)?.fingerprint).not.toBe(
      extractErrorSignature(chromeCheckoutCrash)?.fingerprint,
    );
  });

  it('returns null when the text holds no error', () => {
    expect(extractErrorSignature('The Save button does nothing on the profile screen.')).toBeNull();
    expect(extractErrorSignature('')).toBeNull();
    expect(computeReportFingerprint({ description: 'I got a TypeError when paying, I think' })).toBeNull();
  });

  it('recognises an error without a stack but gives it no fingerprint (no location to group on)', () => {
    const signature = extractErrorSignature('Uncaught (in promise) TypeError: Failed to fetch');
    expect(signature).toMatchObject({ errorType: 'TypeError', message: 'Failed to fetch', frames: [] });
    expect(signature?.fingerprint).toBeNull();
  });

  it('skips dependency, bundler-runtime, extension, native and anonymous frames', () => {
    const signature = extractErrorSignature(`TypeError: x is not a function
    at Array.forEach (<anonymous>)
    at chrome-extension://abcdefghijklmnop/content.js:10:5
    at renderWithHooks (http://localhost:5173/node_modules/.vite/deps/react-dom.js?v=9f8e7d6c:11548:26)
    at __webpack_require__ (https://shop.example.com/static/js/runtime-main.5e1f2a3b.js:1:2412)
    at loadWishlist (https://shop.example.com/static/js/main.3f2a9c1b.js:2:4410)
    at Object.dispatch (https://shop.example.com/static/js/vendors~main.91bd02aa.js:2:111)
    at WishlistPage (https://shop.example.com/static/js/main.3f2a9c1b.js:2:5120)
    at Promise.then (native)`);
    expect(signature?.frames).toEqual(['loadWishlist', 'WishlistPage']);
  });

  it('keeps only the top three in-app frames and collapses recursion', () => {
    const deep = `RangeError: Maximum call stack size exceeded
    at formatPrice (https://x.io/assets/index-4f9a2c1e.js:1:22011)
    at formatPrice (https://x.io/assets/index-4f9a2c1e.js:1:22090)
    at formatPrice (https://x.io/assets/index-4f9a2c1e.js:1:22090)
    at PriceTag (https://x.io/assets/index-4f9a2c1e.js:1:23000)
    at ProductCard (https://x.io/assets/index-4f9a2c1e.js:1:24000)
    at ProductGrid (https://x.io/assets/index-4f9a2c1e.js:1:25000)`;
    expect(extractErrorSignature(deep)?.frames).toEqual(['formatPrice', 'PriceTag', 'ProductCard']);
  });

  it("maps Firefox's InternalError: too much recursion onto V8's RangeError", () => {
    const v8 = extractErrorSignature(
      'RangeError: Maximum call stack size exceeded\n    at formatPrice (https://x.io/assets/index-4f9a2c1e.js:1:22011)',
    );
    const gecko = extractErrorSignature(
      'InternalError: too much recursion\nformatPrice@https://x.io/assets/index-77aa01b3.js:1:22002',
    );
    expect(gecko?.errorType).toBe('RangeError');
    expect(gecko?.fingerprint).toBe(v8?.fingerprint);
  });

  it('matches React Native Hermes and JSC traces of the same crash', () => {
    const hermes = extractErrorSignature(`TypeError: undefined is not a function
    at shareListing (address at index.android.bundle:1:884512)
    at onPress (address at index.android.bundle:1:884790)`);
    const jsc = extractErrorSignature(`TypeError: undefined is not a function (near '...Share.open...')
shareListing@main.jsbundle:1:874001
onPress@main.jsbundle:1:874280`);
    expect(hermes?.frames).toEqual(['shareListing', 'onPress']);
    expect(jsc?.fingerprint).toBe(hermes?.fingerprint);
  });

  it('falls back to the bundle file for minified names and then adds the message to the key', () => {
    const build = (hash: string, fn: string, prop: string) =>
      extractErrorSignature(`TypeError: Cannot read properties of undefined (reading '${prop}')
    at ${fn} (https://x.io/static/js/main.${hash}.js:2:201144)
    at ${fn}t (https://x.io/static/js/main.${hash}.js:2:201876)`);
    const a = build('3f2a9c1b', 'M', 'eta');
    const b = build('d41d8cd9', 'K', 'eta');
    const other = build('d41d8cd9', 'K', 'price');
    expect(a?.frames).toEqual(['?@main.js']);
    expect(b?.fingerprint).toBe(a?.fingerprint);
    expect(other?.fingerprint).not.toBe(a?.fingerprint);
  });

  it('fingerprints failed HTTP requests by method and route, without host, ids or query', () => {
    const first = extractErrorSignature(
      'GET https://api.example.com/v2/orders/ord_8XkP2mQ/invoice.pdf?download=1 500 (Internal Server Error)',
    );
    const second = extractErrorSignature(
      'GET https://eu.api.example.com/v2/orders/ord_Zt71LwA/invoice.pdf 500\nError: Request failed with status code 500',
    );
    const otherRoute = extractErrorSignature(
      'POST https://api.example.com/v2/orders 500 (Internal Server Error)',
    );
    expect(first).toMatchObject({ errorType: 'HTTP 500', frames: ['GET /v2/orders/<id>/invoice.pdf'] });
    expect(second?.fingerprint).toBe(first?.fingerprint);
    expect(otherRoute?.fingerprint).not.toBe(first?.fingerprint);
    expect(extractErrorSignature('GET https://api.example.com/v2/orders 200')).toBeNull();
  });

  it('prefers the error with in-app frames over noise and frameless errors', () => {
    const signature = extractErrorSignature(`ResizeObserver loop completed with undelivered notifications.
TypeError: Failed to fetch
ReferenceError: gtag is not defined
    at trackEvent (https://x.io/assets/index-4f9a2c1e.js:1:3011)`);
    expect(signature).toMatchObject({ errorType: 'ReferenceError', frames: ['trackEvent'] });
  });

  it('reads unhandled rejections and React Native red-box errors', () => {
    expect(extractErrorSignature('Unhandled Promise Rejection: TypeError: Load failed')?.errorType).toBe(
      'TypeError',
    );
    expect(extractErrorSignature('Uncaught (in promise) [object Object]')?.errorType).toBe(
      'UnhandledRejection',
    );
    expect(extractErrorSignature('[Error: Network request failed]')).toMatchObject({
      errorType: 'Error',
      message: 'Network request failed',
    });
    expect(extractErrorSignature('ChunkLoadError: Loading chunk 742 failed.')?.errorType).toBe(
      'ChunkLoadError',
    );
  });

  it('reads a stack trace pasted into the description when there are no console logs', () => {
    const signature = extractReportSignature({ description: `Checkout broke:\n${safariCheckoutCrash}` });
    expect(signature?.fingerprint).toBe(extractErrorSignature(chromeCheckoutCrash)?.fingerprint);
  });
});

describe('hostile input', () => {
  it('reads megabyte-sized reports and single huge lines in linear time', () => {
    // These shapes once took ~50 s each through backtracking regular expressions.
    const hostile = [
      'a'.repeat(200_000),
      'aaaa.'.repeat(40_000),
      `${'Abc'.repeat(60_000)} x`,
      '7f'.repeat(100_000),
    ];
    const started = performance.now();
    for (const text of hostile) {
      expect(extractErrorSignature(text)).toBeNull();
      normalizeErrorMessage(text);
    }
    // Milliseconds idle, against ~50 s each when backtracking. Room for a busy CI machine.
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

describe('parseStackFrame', () => {
  it('parses V8, Gecko/JSC and Hermes frames', () => {
    expect(parseStackFrame('    at async Object.onOnline (https://x.io/a.js:1:91002)')).toEqual({
      rawFunction: 'Object.onOnline',
      location: 'https://x.io/a.js',
    });
    expect(parseStackFrame('at https://x.io/a.js:1:2')).toEqual({
      rawFunction: null,
      location: 'https://x.io/a.js',
    });
    expect(parseStackFrame('@https://x.io/a.js:1:2')).toEqual({
      rawFunction: null,
      location: 'https://x.io/a.js',
    });
    expect(parseStackFrame('handlePay@https://x.io/a.js:2:3')?.rawFunction).toBe('handlePay');
    expect(parseStackFrame('at go (address at index.android.bundle:1:5)')?.location).toBe(
      'index.android.bundle',
    );
  });

  it('does not mistake prose or e-mail addresses for frames', () => {
    expect(parseStackFrame('at the checkout page it crashed')).toBeNull();
    expect(parseStackFrame('mail me at maya@example.com')).toBeNull();
    expect(parseStackFrame('maya@example.com')).toBeNull();
  });
});

describe('normalization', () => {
  it('strips content hashes and chunk numbers from bundle names', () => {
    expect(normalizeFileName('https://x.io/static/js/main.3f2a9c1b.js?v=2')).toBe('main.js');
    expect(normalizeFileName('https://x.io/assets/index-BkX3p9Qz.js')).toBe('index.js');
    expect(normalizeFileName('https://x.io/static/js/742.c0ffee12.chunk.js')).toBe('<n>.chunk.js');
    expect(normalizeFileName('https://x.io/chunk-ABC123.js')).toBe('chunk.js');
    expect(normalizeFileName('webpack-internal:///./src/components/CheckoutForm.tsx')).toBe(
      'CheckoutForm.tsx',
    );
    expect(normalizeFileName('index.android.bundle')).toBe('app.bundle');
  });

  it('keeps the last identifier of a function and drops minified ones', () => {
    expect(normalizeFunctionName('CheckoutForm.handlePay')).toBe('handlePay');
    expect(normalizeFunctionName('Object.handlePay [as onPay]')).toBe('handlePay');
    expect(normalizeFunctionName('CheckoutForm/<.handlePay/<')).toBe('handlePay');
    expect(normalizeFunctionName('Mn')).toBeNull();
    expect(normalizeFunctionName('HTMLFormElement.<anonymous>')).toBeNull();
  });

  it('replaces ids, UUIDs, e-mails, hex, numbers and URL hosts in messages', () => {
    expect(
      normalizeErrorMessage(
        'Order 48213 for user 3f1c9a2e-7b4d-4c1a-9e8f-0a1b2c3d4e5f (maya@example.com) failed at https://api.example.com/v2/orders/ord_8XkP2mQ?x=1 with 0xDEADBEEF',
      ),
    ).toBe('Order <n> for user <uuid> (<email>) failed at <url:/v2/orders/<id>> with <hex>');
    expect(normalizeErrorMessage("Cannot read properties of undefined (reading 'total')")).toBe(
      "Cannot read properties of undefined (reading 'total')",
    );
  });

  it('reduces URLs to their route', () => {
    expect(normalizeUrlPath('https://api.example.com/v2/listings/8812/photos?size=big#top')).toBe(
      '/v2/listings/<n>/photos',
    );
    expect(normalizeUrlPath('https://x.io/u/3f1c9a2e-7b4d-4c1a-9e8f-0a1b2c3d4e5f/a9f8e7d6c5b4')).toBe(
      '/u/<uuid>/<hex>',
    );
    expect(normalizeUrlPath('https://x.io')).toBe('/');
  });
});
