import { describe, expect, it } from 'vitest';
import {
  computeTextSimilarity,
  conceptKind,
  conceptLabel,
  createSimilarityIndex,
  extractFeatures,
  listSharedTerms,
  mismatchPenalty,
  normalizeWords,
  stem,
} from '../../shared/domain/similarity.js';

describe('computeTextSimilarity', () => {
  it('scores identical reports ~1', () => {
    const text = 'Checkout crashes when I press Pay on the payment page.';
    expect(computeTextSimilarity(text, text)).toBeCloseTo(1, 5);
  });

  it('scores unrelated reports near 0', () => {
    expect(
      computeTextSimilarity(
        'My avatar is sideways after uploading it.',
        'Reminders fire an hour late since daylight saving time started.',
      ),
    ).toBeLessThan(0.05);
  });

  it('scores a paraphrase of the same bug above an unrelated report', () => {
    const original = 'Tapping the Log in button does nothing on Android.';
    const paraphrase = "can't sign in, I hit log in and there is no response at all";
    const unrelated = 'Videos in the feed have no sound on iPhone.';
    expect(computeTextSimilarity(original, paraphrase)).toBeGreaterThan(
      computeTextSimilarity(original, unrelated) + 0.2,
    );
  });

  it('tolerates typos through character trigrams, which only ever raise a score', () => {
    const clean = 'Wishlist items disappear after syncing';
    const typos = 'wishlsit items dissapear after synching';
    const scoreWith = (options: { wordWeight?: number }) => {
      const index = createSimilarityIndex(options);
      index.add('clean', clean, undefined);
      return index.score(typos, 'clean');
    };
    expect(scoreWith({})).toBeGreaterThan(scoreWith({ wordWeight: 1 }) + 0.02);
    const conceptsOnly = createSimilarityIndex();
    conceptsOnly.add('a', 'The cart crashes', undefined);
    const wordsOnly = createSimilarityIndex({ wordWeight: 1 });
    wordsOnly.add('a', 'The cart crashes', undefined);
    expect(conceptsOnly.score('basket crash', 'a')).toBe(wordsOnly.score('basket crash', 'a'));
  });

  it('penalises the same component with a different symptom', () => {
    const missing = 'Push notifications are not arriving since the last update.';
    const twice = 'Every push notification arrives twice since the last update.';
    const paraphrase = "I don't get push notifications anymore since the update.";
    expect(computeTextSimilarity(missing, paraphrase)).toBeGreaterThan(computeTextSimilarity(missing, twice));
    expect(computeTextSimilarity(missing, twice)).toBeLessThan(0.34);
  });

  it('penalises the same symptom in a different component', () => {
    expect(
      computeTextSimilarity('App crashes when opening Settings.', 'App crashes when opening Notifications.'),
    ).toBeLessThan(
      computeTextSimilarity(
        'App crashes when opening Settings.',
        'Settings screen crash right after opening it',
      ),
    );
  });
});

describe('normalizeWords', () => {
  it('folds bug vocabulary onto concepts and drops stopwords, numbers, devices and URLs hosts', () => {
    const words = normalizeWords(
      'On my iPhone 15 the basket page goes white when I tap Remove https://shop.example.com/cart/items/8812?x=1',
    );
    expect(words).toContain('_cart');
    expect(words).toContain('_crash');
    expect(words).toContain('_click');
    expect(words).toContain('_remove');
    expect(words).not.toContain('iphon');
    expect(words.some((word) => /\d/.test(word))).toBe(false);
    expect(words.join(' ')).not.toMatch(/shop|example/);
  });

  it('drops stack-frame lines but keeps the error message', () => {
    const words = normalizeWords(`TypeError: Cannot read properties of undefined
    at computeOrderSummary (https://x.io/static/js/main.3f2a9c1b.js:2:118233)
computeOrderSummary@https://x.io/static/js/main.a81c44d0.js:2:117990`);
    expect(words).toContain('undefin');
    expect(words.join(' ')).not.toMatch(/computeordersummary|main/);
  });

  it('bounds the work on huge reports', () => {
    const started = performance.now();
    normalizeWords('The checkout page crashes when I tap pay. '.repeat(25_000));
    normalizeWords('a'.repeat(1_000_000));
    // ~0.1 s idle; unbounded work would take far longer. Room for a busy CI machine.
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('folds accents, so café and cafe are one word', () => {
    expect(normalizeWords('café')).toEqual(normalizeWords('cafe'));
  });

  it('keeps negations as one token', () => {
    expect(normalizeWords("doesn't load, won't save")).toEqual(expect.arrayContaining(['_noload', '_reset']));
    expect(normalizeWords('it is not red')).toContain('not');
  });

  it('stems word forms together', () => {
    expect(stem('crashes')).toBe(stem('crashed'));
    expect(stem('saving')).toBe(stem('save'));
    expect(stem('entries')).toBe('entry');
    expect(stem('stopped')).toBe('stop');
  });
});

describe('concepts and mismatchPenalty', () => {
  it('classifies concepts', () => {
    expect(conceptKind('_crash')).toBe('symptom');
    expect(conceptKind('_checkout')).toBe('component');
    expect(conceptKind('_click')).toBe('term');
    expect(conceptKind('crash')).toBeUndefined();
  });

  it('penalises disjoint symptoms and components, but not missing ones', () => {
    const crashCheckout = extractFeatures('The checkout page crashes');
    const wrongCheckout = extractFeatures('The checkout total is wrong');
    const crashChat = extractFeatures('The chat crashes');
    const vague = extractFeatures('Something about the checkout');
    expect(mismatchPenalty(crashCheckout, crashCheckout)).toBe(1);
    expect(mismatchPenalty(crashCheckout, wrongCheckout)).toBeLessThan(1);
    expect(mismatchPenalty(crashCheckout, crashChat)).toBeLessThan(1);
    expect(mismatchPenalty(crashCheckout, vague)).toBe(1);
  });

  it('lets a generic failure agree with a specific failure mode but not with a quality symptom', () => {
    const fails = extractFeatures('Uploading photos fails with an error');
    expect(mismatchPenalty(fails, extractFeatures('Photo upload crashes'))).toBe(1);
    expect(
      mismatchPenalty(fails, extractFeatures('Photo upload works but the photo is blurry')),
    ).toBeLessThan(1);
  });
});

describe('createSimilarityIndex', () => {
  const bugs: Record<string, string> = {
    pay: 'Checkout crashes when I press Pay, the page goes blank.',
    coupon: 'Coupon code is not applied at checkout, the total does not change.',
    login: 'The Log in button does nothing after entering my password.',
    feed: 'Home feed keeps loading forever, the spinner never stops.',
    dark: 'Text is unreadable in dark mode on the settings page.',
  };

  function buildIndex() {
    const index = createSimilarityIndex<{ status: string }>();
    for (const [id, text] of Object.entries(bugs)) index.add(id, text, { status: 'triaged' });
    return index;
  }

  it('returns the most similar stored bug first', () => {
    const index = buildIndex();
    const [best, second] = index.query('Tapping the pay button on checkout → white screen, it crashed');
    expect(best?.id).toBe('pay');
    expect(best?.meta).toEqual({ status: 'triaged' });
    expect(best!.score).toBeGreaterThan(second?.score ?? 0);
  });

  it('respects limit, threshold and filter', () => {
    const index = buildIndex();
    const query = 'checkout coupon crash';
    expect(index.query(query, { limit: 1 })).toHaveLength(1);
    const all = index.query(query, { limit: 10 });
    expect(all.length).toBeGreaterThan(1);
    const cut = all[0]!.score;
    expect(index.query(query, { limit: 10, threshold: cut }).every((match) => match.score >= cut)).toBe(true);
    expect(
      index.query(query, { limit: 10, filter: (id) => id !== all[0]!.id }).map((m) => m.id),
    ).not.toContain(all[0]!.id);
    expect(index.query(query, { limit: 0 })).toEqual([]);
  });

  it('scores one stored document like the query does', () => {
    const index = buildIndex();
    const query = 'the home feed spinner never stops loading';
    const [best] = index.query(query);
    expect(best?.id).toBe('feed');
    expect(index.score(query, 'feed')).toBeCloseTo(best!.score, 10);
    expect(index.score(query, 'nope')).toBe(0);
  });

  it('replaces a document added twice and forgets removed ones', () => {
    const index = buildIndex();
    expect(index.size).toBe(5);
    index.add('feed', 'Videos have no sound', { status: 'triaged' });
    expect(index.size).toBe(5);
    expect(index.query('home feed keeps loading forever').map((m) => m.id)).not.toContain('feed');
    expect(index.remove('dark')).toBe(true);
    expect(index.remove('dark')).toBe(false);
    expect(index.has('dark')).toBe(false);
    expect(index.query('unreadable dark mode text').map((m) => m.id)).not.toContain('dark');
  });

  it('answers an empty index and an empty query with no matches', () => {
    expect(createSimilarityIndex().query('anything')).toEqual([]);
    expect(buildIndex().query('')).toEqual([]);
  });
});

describe('listSharedTerms', () => {
  it('lists concepts by name and plain words as the second report spells them, in its order', () => {
    expect(
      listSharedTerms(
        'Wishlist loses items after I log out and log back in',
        'my wishlist is empty again after logging back in, items gone',
      ),
    ).toEqual(['wishlist', 'after', 'logging', 'back', 'item']);
    // "not arriving" and "never arrive" are one symptom concept.
    expect(listSharedTerms('notifications are not arriving', 'my notifications never arrive')).toEqual([
      'notification',
      'missing',
    ]);
  });

  it('shares nothing between unrelated reports, and at most `max` terms', () => {
    expect(
      listSharedTerms('Dark mode makes the settings text unreadable', 'Push notifications arrive twice'),
    ).toEqual([]);
    const long = 'checkout cart payment wishlist search profile settings notifications login camera photo';
    expect(listSharedTerms(long, long, 3)).toHaveLength(3);
  });
});

describe('conceptLabel', () => {
  it('names concepts as people read them', () => {
    expect(conceptLabel('_noop')).toBe('does nothing');
    expect(conceptLabel('_crash')).toBe('crash');
    expect(listSharedTerms('Tapping Pay does nothing', 'the pay button is dead, nothing happens')).toContain(
      'does nothing',
    );
  });
});
