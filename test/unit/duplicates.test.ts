import { describe, expect, it } from 'vitest';
import {
  buildDuplicateText,
  type DuplicateCandidate,
  type DuplicateReport,
  describeFoldReason,
  explainFingerprintMatch,
  explainSimilarMatch,
  findDuplicate,
} from '../../shared/domain/duplicates.js';
import { computeReportFingerprint, extractReportSignature } from '../../shared/domain/fingerprint.js';
import { createSimilarityIndex, DUPLICATE_SIMILARITY_THRESHOLD } from '../../shared/domain/similarity.js';

const chromePayCrash = `TypeError: Cannot read properties of undefined (reading 'total')
    at computeOrderSummary (https://shop.example.com/static/js/main.3f2a9c1b.js:2:118233)
    at CheckoutForm.handlePay (https://shop.example.com/static/js/main.3f2a9c1b.js:2:120871)`;
const safariPayCrash = `TypeError: undefined is not an object (evaluating 'cart.total')
computeOrderSummary@https://shop.example.com/static/js/main.a81c44d0.js:2:117990
handlePay@https://shop.example.com/static/js/main.a81c44d0.js:2:120402`;

interface StoredBug extends DuplicateCandidate {
  readonly report: DuplicateReport;
}

function storedBug(
  bugId: string,
  report: DuplicateReport,
  overrides: Partial<DuplicateCandidate> = {},
): StoredBug {
  const signature = extractReportSignature(report);
  return {
    bugId,
    report,
    status: 'triaged',
    fingerprint: signature?.fingerprint ?? null,
    errorType: signature?.errorType ?? null,
    createdAt: '2025-05-01T10:00:00.000Z',
    ...overrides,
  };
}

function indexOf(bugs: readonly StoredBug[]) {
  const index = createSimilarityIndex();
  for (const bug of bugs) index.add(bug.bugId, buildDuplicateText(bug.report), undefined);
  return index;
}

const payCrash = storedBug('bug-pay', {
  description: 'Checkout crashes when I press Pay.',
  console_logs: chromePayCrash,
});
const coupon = storedBug('bug-coupon', {
  description: 'Coupon code is not applied at checkout: the discount shows but the total does not change.',
});
const feed = storedBug('bug-feed', {
  description: 'Home feed keeps loading forever, the spinner never stops.',
});
const notifications = storedBug('bug-push', {
  description: 'Push notifications are not arriving anymore since the last update.',
});

describe('findDuplicate', () => {
  it('matches the same crash by fingerprint however differently it is described', () => {
    const bugs = [payCrash, coupon, feed];
    const report = { description: 'Die App stürzt beim Bezahlen ab.', console_logs: safariPayCrash };
    expect(findDuplicate(report, indexOf(bugs), bugs)).toEqual({ kind: 'fingerprint', bugId: 'bug-pay' });
  });

  it('prefers a fingerprint match over a better text match', () => {
    const lookalike = storedBug('bug-lookalike', {
      description: 'Tapping the pay button on the checkout page gives a white screen.',
    });
    const bugs = [lookalike, payCrash];
    const report = {
      description: 'Tapping the pay button on the checkout page gives a white screen.',
      console_logs: safariPayCrash,
    };
    expect(findDuplicate(report, indexOf(bugs), bugs)).toEqual({ kind: 'fingerprint', bugId: 'bug-pay' });
  });

  it('picks the earliest open bug when several share the fingerprint', () => {
    const later = { ...payCrash, bugId: 'bug-pay-later', createdAt: '2025-05-03T10:00:00.000Z' };
    const bugs = [later, payCrash];
    const report = { description: 'pay crash', console_logs: safariPayCrash };
    expect(findDuplicate(report, indexOf(bugs), bugs)).toEqual({ kind: 'fingerprint', bugId: 'bug-pay' });
  });

  it('finds a near-duplicate by text among open bugs', () => {
    const bugs = [payCrash, coupon, feed, notifications];
    const match = findDuplicate(
      { description: 'The home timeline never loads for me, just an endless loading spinner.' },
      indexOf(bugs),
      bugs,
    );
    expect(match).toMatchObject({ kind: 'similar', bugId: 'bug-feed' });
    expect(match.kind === 'similar' && match.score).toBeGreaterThanOrEqual(DUPLICATE_SIMILARITY_THRESHOLD);
  });

  it('respects the threshold', () => {
    const bugs = [feed];
    const report = { description: 'The home timeline never loads for me, just an endless loading spinner.' };
    const found = findDuplicate(report, indexOf(bugs), bugs);
    expect(found.kind).toBe('similar');
    const score = found.kind === 'similar' ? found.score : 0;
    expect(findDuplicate(report, indexOf(bugs), bugs, { threshold: score + 0.01 })).toEqual({ kind: 'none' });
    expect(findDuplicate(report, indexOf(bugs), bugs, { threshold: score })).toEqual(found);
  });

  it('answers none for a different bug on the same screen', () => {
    const bugs = [notifications, coupon];
    expect(
      findDuplicate(
        { description: 'Every push notification arrives twice since the last update.' },
        indexOf(bugs),
        bugs,
      ),
    ).toEqual({ kind: 'none' });
  });

  it('ignores closed bugs, for fingerprints and for text', () => {
    for (const status of ['resolved', 'dismissed', 'duplicate'] as const) {
      const bugs = [
        { ...payCrash, status },
        { ...feed, status },
      ];
      const index = indexOf(bugs);
      expect(findDuplicate({ description: 'x', console_logs: safariPayCrash }, index, bugs)).toEqual({
        kind: 'none',
      });
      expect(findDuplicate({ description: feed.report.description }, index, bugs)).toEqual({ kind: 'none' });
    }
  });

  it('ignores bugs the caller did not list as candidates', () => {
    const index = indexOf([payCrash, feed]);
    expect(findDuplicate({ description: feed.report.description }, index, [payCrash])).toEqual({
      kind: 'none',
    });
  });

  it('matches text only against recent bugs when given a clock, fingerprints regardless of age', () => {
    const old = { ...feed, createdAt: '2025-01-01T00:00:00.000Z' };
    const oldCrash = { ...payCrash, createdAt: '2025-01-01T00:00:00.000Z' };
    const bugs = [old, oldCrash];
    const index = indexOf(bugs);
    const now = '2025-05-01T00:00:00.000Z';
    expect(findDuplicate({ description: feed.report.description }, index, bugs, { now })).toEqual({
      kind: 'none',
    });
    expect(
      findDuplicate({ description: feed.report.description }, index, bugs, { now, recentDays: 365 }).kind,
    ).toBe('similar');
    const active = { ...old, updatedAt: '2025-04-30T00:00:00.000Z' };
    expect(findDuplicate({ description: feed.report.description }, index, [active], { now }).kind).toBe(
      'similar',
    );
    expect(findDuplicate({ description: 'x', console_logs: safariPayCrash }, index, bugs, { now })).toEqual({
      kind: 'fingerprint',
      bugId: 'bug-pay',
    });
  });

  it('does not let similar text merge crashes that disagree', () => {
    const rangeCrash = storedBug('bug-range', {
      description: 'Tapping Pay crashes the checkout page.',
      console_logs: `RangeError: Invalid time value
    at formatCardExpiry (https://shop.example.com/static/js/main.3f2a9c1b.js:2:133010)`,
    });
    const bugs = [rangeCrash];
    const index = indexOf(bugs);
    const described = { description: 'Tapping Pay crashes the checkout page.' };
    expect(findDuplicate(described, index, bugs).kind).toBe('similar');
    expect(findDuplicate({ ...described, console_logs: chromePayCrash }, index, bugs)).toEqual({
      kind: 'none',
    });
    const chunk = { ...described, console_logs: 'ChunkLoadError: Loading chunk 12 failed.' };
    expect(findDuplicate(chunk, index, bugs)).toEqual({ kind: 'none' });
  });
});

describe('buildDuplicateText', () => {
  it('adds the error type and normalized message, not the raw trace', () => {
    const text = buildDuplicateText({ description: 'Pay crashes', console_logs: chromePayCrash });
    expect(text).toBe("Pay crashes\nTypeError: Cannot read properties of undefined (reading 'total')");
    expect(buildDuplicateText({ description: 'Just words' })).toBe('Just words');
  });

  it('computes the same fingerprint the detector uses', () => {
    expect(payCrash.fingerprint).toBe(
      computeReportFingerprint({ description: '', console_logs: safariPayCrash }),
    );
  });
});

describe('why a report was folded in', () => {
  it('names the error type and the in-app frames of a fingerprint match', () => {
    const signature = extractReportSignature({ description: 'Pay crashes', console_logs: chromePayCrash });
    if (!signature) throw new Error('the fixture has a signature');
    const reason = explainFingerprintMatch(signature);
    expect(reason).toEqual({ kind: 'fingerprint', errorType: 'TypeError', frames: signature.frames });
    expect(signature.frames.length).toBeGreaterThan(0);
    expect(describeFoldReason(reason)).toBe(`same crash: TypeError at ${signature.frames.join(' › ')}`);
  });

  it('gives a text match its score, the threshold it passed and the words in common', () => {
    const stored = buildDuplicateText({ description: 'Checkout crashes when I press Pay on the cart page' });
    const report = { description: 'the cart page crashes as soon as I press pay' };
    const reason = explainSimilarMatch(report, stored, 0.4567);
    expect(reason).toEqual({
      kind: 'similar',
      score: 0.46,
      threshold: DUPLICATE_SIMILARITY_THRESHOLD,
      sharedTerms: ['cart', 'screen', 'crash', 'click', 'checkout'],
    });
    expect(describeFoldReason(reason)).toBe(
      'similar text (score 0.46 ≥ 0.34; in common: cart, screen, crash, click, checkout)',
    );
    expect(describeFoldReason({ kind: 'manual', by: 'maya' })).toBe('merged by maya');
  });
});
