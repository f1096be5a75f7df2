import { describe, expect, it } from 'vitest';
import type { FoldReason } from '../../shared/domain/bug.js';
import {
  FOLD_REFRESH,
  type FoldRecord,
  isNoteMilestone,
  latestReporters,
  planRefresh,
  refreshWindowSeconds,
  shouldPostFoldNote,
  summarizeFoldsForNote,
  tallyFolds,
} from '../../shared/domain/fold.js';

const T0 = Date.parse('2026-05-01T12:00:00.000Z');
const crash: FoldReason = {
  kind: 'fingerprint',
  errorType: 'TypeError',
  frames: ['CheckoutForm', 'PaymentStep'],
};

const record = (bugId: string, at: number, overrides: Partial<FoldRecord> = {}): FoldRecord => ({
  originalId: 'bug_original',
  bugId,
  kind: 'report',
  reporterId: `u_${bugId}`,
  at: new Date(at).toISOString(),
  reason: crash,
  ...overrides,
});

const original = {
  bugId: 'bug_original',
  createdAt: new Date(T0).toISOString(),
  distinctReporters: ['u_maya'],
  reporter: { id: 'u_maya' },
};

describe('planRefresh', () => {
  it('gathers a new burst for a couple of seconds before the first refresh', () => {
    expect(planRefresh({ now: T0 })).toEqual({ delaySeconds: 2, stormStartedAt: T0 });
    // Quiet for longer than the quiet period: a new burst, whatever the stored start says.
    expect(
      planRefresh({ now: T0, lastRefreshAt: T0 - FOLD_REFRESH.quietMs - 1, stormStartedAt: T0 - 3_600_000 }),
    ).toEqual({ delaySeconds: 2, stormStartedAt: T0 });
  });

  it('allows one refresh per window, and widens the window as the storm goes on', () => {
    // One second after a refresh, 10 s into a storm: the rest of the 5 s window.
    expect(planRefresh({ now: T0 + 10_000, lastRefreshAt: T0 + 9_000, stormStartedAt: T0 })).toEqual({
      delaySeconds: 4,
      stormStartedAt: T0,
    });
    // Two minutes in: 15 s windows; five minutes in: a minute.
    expect(
      planRefresh({ now: T0 + 120_000, lastRefreshAt: T0 + 119_000, stormStartedAt: T0 }).delaySeconds,
    ).toBe(14);
    expect(
      planRefresh({ now: T0 + 600_000, lastRefreshAt: T0 + 599_000, stormStartedAt: T0 }).delaySeconds,
    ).toBe(59);
    // Long after the last refresh (but not quiet yet): the minimum delay still gathers the burst.
    expect(
      planRefresh({ now: T0 + 200_000, lastRefreshAt: T0 + 100_000, stormStartedAt: T0 }).delaySeconds,
    ).toBe(2);
  });

  it('never asks SQS for more than it allows', () => {
    for (const age of [0, 59_999, 60_000, 299_999, 300_000, 10 * 3_600_000]) {
      const plan = planRefresh({ now: T0 + age, lastRefreshAt: T0 + age, stormStartedAt: T0 });
      expect(plan.delaySeconds).toBeGreaterThanOrEqual(FOLD_REFRESH.firstDelaySeconds);
      expect(plan.delaySeconds).toBeLessThanOrEqual(FOLD_REFRESH.lateWindowSeconds);
    }
    expect(refreshWindowSeconds(0)).toBe(5);
    expect(refreshWindowSeconds(60_000)).toBe(15);
    expect(refreshWindowSeconds(300_000)).toBe(60);
  });
});

describe('thread notes', () => {
  it('marks the first few reports, then 10, 25, 50, 100, 250, 500, 1000, …', () => {
    const milestones = Array.from({ length: 10_001 }, (_, count) => count).filter(isNoteMilestone);
    expect(milestones).toEqual([2, 3, 4, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]);
  });

  it('posts when a milestone was passed since the last note, or after a quiet while', () => {
    expect(shouldPostFoldNote({ total: 2, notedCount: 1, now: T0 })).toBe(true);
    // A storm: from 1 to 137 in one refresh crosses several milestones, one note.
    expect(shouldPostFoldNote({ total: 137, notedCount: 1, now: T0 })).toBe(true);
    expect(shouldPostFoldNote({ total: 137, notedCount: 120, notedAt: T0, now: T0 + 5_000 })).toBe(false);
    expect(shouldPostFoldNote({ total: 260, notedCount: 137, notedAt: T0, now: T0 + 5_000 })).toBe(true);
    // Between milestones: once the interval has passed.
    expect(shouldPostFoldNote({ total: 7, notedCount: 6, notedAt: T0, now: T0 + 60_000 })).toBe(false);
    expect(shouldPostFoldNote({ total: 7, notedCount: 6, notedAt: T0, now: T0 + 10 * 60_000 })).toBe(true);
    // Nothing new (or fewer, after a split): never.
    expect(shouldPostFoldNote({ total: 5, notedCount: 5, now: T0 + 3_600_000 })).toBe(false);
    expect(shouldPostFoldNote({ total: 4, notedCount: 5, now: T0 + 3_600_000 })).toBe(false);
  });

  it('sums up who and why since the last note, and how many exactly', () => {
    const records = [
      record('a', T0 + 1_000),
      record('b', T0 + 2_000),
      record('c', T0 + 3_000, {
        reason: { kind: 'similar', score: 0.41, threshold: 0.34, sharedTerms: ['pay'] },
      }),
      record('d', T0 + 4_000, {
        reason: { kind: 'similar', score: 0.52, threshold: 0.34, sharedTerms: ['checkout'] },
      }),
      record('e', T0 + 5_000, { kind: 'merge', reason: { kind: 'manual', by: 'maya' } }),
    ];
    const tally = tallyFolds(original, records);
    const summary = summarizeFoldsForNote(tally, 2, new Date(T0 + 1_500).toISOString());
    expect(summary).toMatchObject({
      newReports: 4,
      total: 6,
      people: 6,
      reporters: ['u_e', 'u_d', 'u_c', 'u_b'],
      othersCount: 0,
      byFingerprint: { count: 1, errorType: 'TypeError' },
      bySimilarity: { count: 2, best: { score: 0.52, sharedTerms: ['checkout'] } },
      byHand: { count: 1, by: ['maya'] },
      lastReportAt: new Date(T0 + 5_000).toISOString(),
    });
  });
});

describe('tallyFolds', () => {
  it('counts each report and each person once: the bug itself, its folds, and bugs merged into it', () => {
    const records = [
      record('a', T0 + 1_000),
      record('b', T0 + 2_000, { reporterId: 'u_maya' }), // she reported it again
      record('c', T0 + 3_000, { reporterId: undefined }), // anonymous
      record('merged', T0 + 9_000, { kind: 'merge', reason: { kind: 'manual', by: 'maya' } }),
    ];
    const merged = tallyFolds(
      {
        bugId: 'merged',
        createdAt: new Date(T0).toISOString(),
        distinctReporters: ['u_merged'],
        reporter: { id: 'u_merged' },
      },
      [
        record('m1', T0 + 10_000, { originalId: 'merged', reporterId: 'u_a' }),
        record('m2', T0 + 11_000, { originalId: 'merged', reporterId: 'u_zed' }),
      ],
    );
    const tally = tallyFolds(original, records, new Map([['merged', merged]]));
    expect([...tally.reportIds].sort()).toEqual(['a', 'b', 'bug_original', 'c', 'm1', 'm2', 'merged']);
    expect([...tally.reporterIds].sort()).toEqual(['u_a', 'u_maya', 'u_merged', 'u_zed']);
    expect(tally.lastReportAt).toBe(new Date(T0 + 11_000).toISOString());
    expect(tally.records).toHaveLength(6);
  });

  it('keeps the ids a bug stored before fold records, without counting a report twice', () => {
    const legacy = { ...original, duplicateBugIds: ['old-1', 'a'], distinctReporters: ['u_maya', 'u_old'] };
    const tally = tallyFolds(legacy, [record('a', T0 + 1_000)]);
    expect(tally.reportIds.size).toBe(3);
    expect([...tally.reporterIds].sort()).toEqual(['u_a', 'u_maya', 'u_old']);
  });

  it('names the latest reporters, newest first, each once', () => {
    const records = [
      record('a', T0 + 1_000),
      record('b', T0 + 3_000, { reporterId: 'u_a' }),
      record('c', T0 + 2_000),
      record('d', T0 + 4_000, { reporterId: undefined }),
    ];
    expect(latestReporters(records, 5)).toEqual(['u_a', 'u_c']);
    expect(latestReporters(records, 1)).toEqual(['u_a']);
  });
});
