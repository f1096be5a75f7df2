import { describe, expect, it } from 'vitest';
import {
  attemptTimeoutMs,
  canWaitAndRetry,
  currentDeadline,
  deadlineFromRemaining,
  runWithDeadline,
  workBudgetMs,
} from '../../shared/runtime/invocation-deadline.js';

describe('the invocation deadline', () => {
  it('keeps a reserve of 20 %, at most 10 s, before the end Lambda gives', () => {
    expect(deadlineFromRemaining(90_000, 0)).toEqual({ workUntil: 80_000, hardEnd: 90_000 });
    expect(deadlineFromRemaining(10_000, 0)).toEqual({ workUntil: 8_000, hardEnd: 10_000 });
    expect(deadlineFromRemaining(-5, 0).workUntil).toBeLessThanOrEqual(0);
  });

  it('deals in whole milliseconds, which the SDKs and AbortSignal.timeout insist on', async () => {
    // 20 % of 29,998 ms is 5,999.6 ms: a fractional budget made the Anthropic SDK refuse every
    // model call ("timeout must be an integer") on a processor with less than 50 s left.
    const deadline = deadlineFromRemaining(29_998.5, 1_000);
    expect(Number.isInteger(deadline.workUntil)).toBe(true);
    expect(Number.isInteger(deadline.hardEnd)).toBe(true);
    expect(deadline.hardEnd - deadline.workUntil).toBeGreaterThanOrEqual(5_999.6);
    await runWithDeadline({ workUntil: 10_000.7, hardEnd: 12_000 }, async () => {
      for (const now of [0, 1.3, 2_500.25, 9_000.9]) {
        const timeout = attemptTimeoutMs(25_000, 250, now);
        expect(Number.isInteger(timeout)).toBe(true);
        expect(() => AbortSignal.timeout(timeout ?? 0)).not.toThrow();
        expect(Number.isInteger(workBudgetMs(now))).toBe(true);
      }
      expect(attemptTimeoutMs(1_000.5, 250, 0)).toBe(1_000);
    });
  });

  it('has no budget outside an invocation', () => {
    expect(currentDeadline()).toBeUndefined();
    expect(workBudgetMs()).toBe(Number.POSITIVE_INFINITY);
    expect(attemptTimeoutMs(8_000)).toBe(8_000);
    expect(canWaitAndRetry(60_000)).toBe(true);
  });

  it('cuts attempts and waits to what is left, and says when nothing useful fits', async () => {
    await runWithDeadline({ workUntil: 10_000, hardEnd: 12_000 }, async () => {
      expect(attemptTimeoutMs(8_000, 250, 0)).toBe(8_000);
      expect(attemptTimeoutMs(8_000, 250, 5_000)).toBe(5_000);
      expect(attemptTimeoutMs(8_000, 250, 9_900)).toBeUndefined();
      expect(canWaitAndRetry(2_000, 250, 7_000)).toBe(true);
      expect(canWaitAndRetry(3_000, 250, 7_000)).toBe(false);
    });
  });

  it('keeps concurrent invocations apart', async () => {
    const seen = await Promise.all(
      [1_000, 2_000].map((end) =>
        runWithDeadline({ workUntil: end, hardEnd: end }, async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          return currentDeadline()?.workUntil;
        }),
      ),
    );
    expect(seen).toEqual([1_000, 2_000]);
  });
});
