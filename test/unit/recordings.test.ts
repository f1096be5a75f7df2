import { describe, expect, it } from 'vitest';
import {
  computeRecordingsDateFrom,
  describeRecording,
  describeSessionInsights,
  formatAge,
  formatDuration,
  groupExceptions,
  isValidSessionId,
  rankRecordings,
  scoreRecording,
  scoreRecordings,
  shortenUrl,
  summarizeSessionInsights,
} from '../../shared/domain/recordings.js';
import type { SessionInsights, SessionRecording } from '../../shared/ports/session-replay.js';

const NOW = new Date('2025-03-10T12:00:00Z');

function recording(overrides: Partial<SessionRecording> & { hoursAgo?: number } = {}): SessionRecording {
  const { hoursAgo = 1, ...rest } = overrides;
  const start = new Date(NOW.getTime() - hoursAgo * 3_600_000);
  return {
    id: `rec-${hoursAgo}`,
    replayUrl: `https://us.posthog.com/project/1/replay/rec-${hoursAgo}`,
    startTime: start.toISOString(),
    endTime: start.toISOString(),
    durationSeconds: 120,
    activeSeconds: 60,
    consoleErrorCount: 0,
    ...rest,
  };
}

describe('rankRecordings', () => {
  it('prefers the more recent of two otherwise equal recordings', () => {
    const older = recording({ id: 'older', hoursAgo: 30 });
    const newer = recording({ id: 'newer', hoursAgo: 2 });
    expect(rankRecordings([older, newer], NOW).map((r) => r.id)).toEqual(['newer', 'older']);
  });

  it('lets console errors outweigh up to about a day and a half of age, not a week', () => {
    const cleanNow = recording({ id: 'clean-now', hoursAgo: 0 });
    const errorsYesterday = recording({ id: 'errors-yesterday', hoursAgo: 24, consoleErrorCount: 4 });
    const errorsLastWeek = recording({ id: 'errors-last-week', hoursAgo: 7 * 24, consoleErrorCount: 9 });
    expect(rankRecordings([errorsLastWeek, cleanNow, errorsYesterday], NOW).map((r) => r.id)).toEqual([
      'errors-yesterday',
      'clean-now',
      'errors-last-week',
    ]);
  });

  it('halves the recency weight per day (24 h half-life)', () => {
    const idle = { activeSeconds: 0, durationSeconds: 0 };
    const fresh = scoreRecording(recording({ hoursAgo: 0, ...idle }), NOW);
    const dayOld = scoreRecording(recording({ hoursAgo: 24, ...idle }), NOW);
    expect(fresh).toBeCloseTo(1, 6);
    expect(dayOld).toBeCloseTo(0.5, 6);
  });

  it('uses activity to break near-ties, and falls back to half the duration without active seconds', () => {
    const idle = recording({ id: 'idle', hoursAgo: 3, activeSeconds: 5 });
    const busy = recording({ id: 'busy', hoursAgo: 3, activeSeconds: 290 });
    expect(rankRecordings([idle, busy], NOW).map((r) => r.id)).toEqual(['busy', 'idle']);
    const noActive = scoreRecording(
      recording({ hoursAgo: 0, activeSeconds: undefined, durationSeconds: 600 }),
      NOW,
    );
    expect(noActive).toBeCloseTo(1.5, 6);
  });

  it('orders ties by later start, then id, and returns scores through scoreRecordings', () => {
    const a = recording({ id: 'a', hoursAgo: 5 });
    const b = recording({ id: 'b', hoursAgo: 5 });
    const ranked = scoreRecordings([b, a], NOW);
    expect(ranked.map((r) => r.recording.id)).toEqual(['a', 'b']);
    expect(ranked[0]?.score).toBeGreaterThan(0);
  });

  it('treats recordings from the future as fresh and ones without dates as worthless', () => {
    const future = recording({ id: 'future', hoursAgo: -2 });
    const undated = recording({ id: 'undated', startTime: 'not a date', endTime: undefined });
    expect(scoreRecording(future, NOW)).toBeGreaterThan(1);
    expect(scoreRecording(undated, NOW)).toBe(0);
    expect(rankRecordings([undated, future], NOW).map((r) => r.id)).toEqual(['future', 'undated']);
  });
});

describe('session ids and dates', () => {
  it('accepts UUIDs and refuses anything that could escape a path or a query', () => {
    expect(isValidSessionId('0195f3a2-7c1e-7b0a-9d4e-2a6f1c8b3e01')).toBe(true);
    expect(isValidSessionId("x' OR 1=1 --")).toBe(false);
    expect(isValidSessionId('../../persons')).toBe(false);
    expect(isValidSessionId('')).toBe(false);
    expect(isValidSessionId('a'.repeat(129))).toBe(false);
  });

  it('computes the default look-back start', () => {
    expect(computeRecordingsDateFrom(NOW).toISOString()).toBe('2025-02-24T12:00:00.000Z');
    expect(computeRecordingsDateFrom(NOW, 3).toISOString()).toBe('2025-03-07T12:00:00.000Z');
  });
});

describe('describers', () => {
  it('formats durations and ages', () => {
    expect(formatDuration(42)).toBe('42s');
    expect(formatDuration(185)).toBe('3m 05s');
    expect(formatDuration(3_720)).toBe('1h 02m');
    expect(formatAge(new Date(NOW.getTime() - 30_000).toISOString(), NOW)).toBe('just now');
    expect(formatAge(new Date(NOW.getTime() - 12 * 60_000).toISOString(), NOW)).toBe('12 min ago');
    expect(formatAge(new Date(NOW.getTime() - 5 * 3_600_000).toISOString(), NOW)).toBe('5 h ago');
    expect(formatAge(new Date(NOW.getTime() - 80 * 3_600_000).toISOString(), NOW)).toBe('3 days ago');
  });

  it('describes a recording in one line without leaking query strings or breaking out of code spans', () => {
    const line = describeRecording(
      recording({
        hoursAgo: 2,
        durationSeconds: 252,
        activeSeconds: 181,
        consoleErrorCount: 3,
        startUrl: 'https://app.example.com/checkout`evil`?token=abc#frag',
      }),
      NOW,
    );
    expect(line).toBe(
      '[Replay](https://us.posthog.com/project/1/replay/rec-2) · 2 h ago · 4m 12s (3m 01s active) · 3 console errors · starts at `/checkout%60evil%60`',
    );
    expect(shortenUrl('not a url?email=a@b.c')).toBe('not a url');
  });

  it('groups exceptions and summarizes rage clicks and pages', () => {
    const insights: SessionInsights = {
      sessionId: 's1',
      exceptions: [
        {
          timestamp: '2025-03-10T11:02:00Z',
          type: 'TypeError',
          message: 'x is undefined',
          url: 'https://a/b',
        },
        { timestamp: '2025-03-10T11:01:00Z', type: 'TypeError', message: 'x is undefined' },
        { timestamp: '2025-03-10T11:00:00Z', type: 'Error', message: 'boom\n`md`' },
      ],
      rageClicks: [
        { timestamp: '2025-03-10T11:03:00Z', element: 'Place order', url: 'https://a/checkout' },
        { timestamp: '2025-03-10T11:04:00Z', element: 'Place order', url: 'https://a/checkout' },
        { timestamp: '2025-03-10T11:05:00Z' },
      ],
      pagesVisited: [
        'https://a/cart',
        'https://a/checkout',
        'https://a/cart',
        'https://a/pay',
        'https://a/done',
      ],
    };

    const groups = groupExceptions(insights.exceptions);
    expect(groups).toEqual([
      {
        type: 'TypeError',
        message: 'x is undefined',
        count: 2,
        firstSeen: '2025-03-10T11:01:00Z',
        lastSeen: '2025-03-10T11:02:00Z',
        urls: ['https://a/b'],
      },
      {
        type: 'Error',
        message: 'boom\n`md`',
        count: 1,
        firstSeen: '2025-03-10T11:00:00Z',
        lastSeen: '2025-03-10T11:00:00Z',
        urls: [],
      },
    ]);

    const summary = summarizeSessionInsights(insights, { maxPages: 3 });
    expect(summary.exceptionCount).toBe(3);
    expect(summary.rageClickCount).toBe(3);
    expect(summary.rageClickTargets[0]).toEqual({
      element: 'Place order',
      url: 'https://a/checkout',
      count: 2,
    });
    expect(summary.pages).toEqual(['https://a/cart', 'https://a/checkout', 'https://a/pay']);
    expect(summary.morePages).toBe(1);

    expect(describeSessionInsights(summary)).toEqual([
      '- 3 exceptions:',
      '  - `TypeError: x is undefined` ×2 on `/b`',
      '  - `Error: boom md `',
      '- 3 rage clicks: `Place order` on `/checkout` ×2, an element',
      '- Pages: `/cart` → `/checkout` → `/pay` and 1 more',
    ]);
  });

  it('describes nothing for a quiet session', () => {
    const summary = summarizeSessionInsights({
      sessionId: 's',
      exceptions: [],
      rageClicks: [],
      pagesVisited: [],
    });
    expect(describeSessionInsights(summary)).toEqual([]);
  });
});
