import { describe, expect, it } from 'vitest';
import { buildCodeSearchQuery } from '../../shared/adapters/github/code-search-query.js';

const SHOP = { owner: 'acme', repo: 'shop' };

describe('buildCodeSearchQuery', () => {
  it('keeps plain words and ends with our repository qualifier', () => {
    expect(buildCodeSearchQuery(SHOP, 'CartView cartTotal')).toBe('CartView cartTotal repo:acme/shop');
  });

  it('drops qualifiers from untrusted text so it cannot search other repositories', () => {
    expect(
      buildCodeSearchQuery(SHOP, 'crash repo:evil/secrets org:evil user:someone https://x.test/a in:path'),
    ).toBe('crash repo:acme/shop');
  });

  it('drops search syntax: quotes, parentheses, negation and boolean operators', () => {
    expect(buildCodeSearchQuery(SHOP, '"checkout" (page) -secret NOT OR AND total.')).toBe(
      'checkout page secret total. repo:acme/shop',
    );
  });

  it('keeps paths, dots and non-ASCII letters', () => {
    expect(buildCodeSearchQuery(SHOP, 'src/components/Cart.tsx Größe')).toBe(
      'src/components/Cart.tsx Größe repo:acme/shop',
    );
  });

  it('caps the number and total length of terms, deduplicated', () => {
    const query = buildCodeSearchQuery(SHOP, 'a b a c d e f g h i j k');
    expect(query).toBe('a b c d e f g h repo:acme/shop');
    const long = buildCodeSearchQuery(
      SHOP,
      Array.from({ length: 8 }, (_, i) => `${'x'.repeat(40)}${i}`).join(' '),
    );
    expect(long?.length).toBeLessThanOrEqual(256);
  });

  it('is null when no word is left or the repository name is not a GitHub name', () => {
    expect(buildCodeSearchQuery(SHOP, 'repo:x/y "" ()')).toBeNull();
    expect(buildCodeSearchQuery(SHOP, '   ')).toBeNull();
    expect(buildCodeSearchQuery({ owner: 'acme', repo: 'shop org:evil' }, 'cart')).toBeNull();
  });
});
