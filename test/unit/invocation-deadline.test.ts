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
