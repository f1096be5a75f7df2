import { describe, expect, it } from 'vitest';
import { extractSearchTerms, rankCandidateFiles } from '../../shared/domain/code-search-terms.js';

describe('extractSearchTerms', () => {
  it('takes source file names and identifiers from the stack, skipping bundles and the runtime', () => {
    const terms = extractSearchTerms({
      title: 'Checkout crashes when I press Pay',
      consoleLogs: [
        "TypeError: Cannot read properties of undefined (reading 'map')",
        '    at cartTotal (webpack:///./src/cart.js:11:22)',
        '    at CheckoutForm (https://shop.example.com/assets/main.3f2a9c1b.js:12:345)',
        '    at renderWithHooks (https://shop.example.com/assets/vendor.js:1:2)',
      ].join('\n'),
    });
    expect(terms.map((term) => `${term.kind}:${term.term}`)).toEqual([
      'filename:cart.js',
      'identifier:cartTotal',
      'identifier:CheckoutForm',
      'word:checkout',
    ]);
  });

  it('keeps plain domain words from the title, never the words every report uses', () => {
    const terms = extractSearchTerms({
      title: 'Paying makes the checkout page go white',
      affectedArea: 'payment form',
    });
    expect(terms.map((term) => term.term)).toEqual(['paying', 'checkout', 'payment', 'form']);
    expect(terms.every((term) => term.kind === 'word')).toBe(true);
  });
});

describe('rankCandidateFiles', () => {
  it('ranks files by the weight of the terms they hold, rare terms counting more', () => {
    const ranked = rankCandidateFiles(
      [
        {
          term: { kind: 'identifier', term: 'cartTotal', weight: 2 },
          paths: ['src/cart.js', 'src/checkout.js'],
        },
        {
          term: { kind: 'word', term: 'checkout', weight: 1 },
          paths: ['src/checkout.js', 'pages/index.html', 'components/CheckoutButton.js', 'README.md'],
        },
        { term: { kind: 'filename', term: 'cart.js', weight: 3 }, paths: ['src/cart.js'] },
      ],
      3,
    );
    expect(ranked).toEqual(['src/cart.js', 'src/checkout.js', 'pages/index.html']);
  });
});
