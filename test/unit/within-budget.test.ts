import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../shared/domain/errors.js';
import { retryWithinBudget, untilDeadline } from '../../shared/webhooks/within-budget.js';

const policy = {
  attemptTimeoutMs: 20,
  attemptTimeoutGrowth: 2,
  minAttemptMs: 5,
  backoffMs: 1,
  maxAttempts: 4,
};

describe('retryWithinBudget', () => {
  it('gives each next attempt twice the time, so a slow but working call gets through', async () => {
    const timeouts: number[] = [];
    const started: number[] = [];
    const result = await retryWithinBudget(
      'sqs',
      (signal) =>
        new Promise<string>((resolve, reject) => {
          started.push(Date.now());
          // Answers after 50 ms: too slow for the 20 and 40 ms attempts, fine for the 80 ms one.
          const timer = setTimeout(() => resolve('sent'), 50);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            timeouts.push(Date.now());
            reject(signal.reason);
          });
        }),
      { deadline: Number.POSITIVE_INFINITY, now: Date.now },
      policy,
    );
    expect(result).toEqual({ value: 'sent', attempts: 3 });
    expect(timeouts).toHaveLength(2);
  });

  it('does not repeat a call that failed for good, nor one that is not a service failure', async () => {
    let calls = 0;
    const refused = retryWithinBudget(
      'sqs',
      async () => {
        calls += 1;
        throw new ServiceError('sqs', 'access denied', { status: 403 });
      },
      { deadline: Number.POSITIVE_INFINITY, now: Date.now },
      policy,
    );
    await expect(refused).rejects.toMatchObject({ status: 403 });
    expect(calls).toBe(1);
    await expect(
      retryWithinBudget(
        'sqs',
        async () => Promise.reject(new TypeError('a bug')),
        { deadline: Infinity, now: Date.now },
        policy,
      ),
    ).rejects.toBeInstanceOf(TypeError);
  });

  it('stops at the deadline with a retryable BudgetExhaustedError', async () => {
    const failing = retryWithinBudget(
      'sqs',
      () => new Promise<never>(() => undefined),
      { deadline: Date.now() + 60, now: Date.now },
      { ...policy, maxAttempts: 100 },
    );
    await expect(failing).rejects.toMatchObject({ name: 'BudgetExhaustedError', retryable: true });
  });
});

describe('untilDeadline', () => {
  it('takes an answer that is already there even when no time is left', async () => {
    await expect(untilDeadline('x', Promise.resolve(1), { deadline: 0, now: Date.now })).resolves.toBe(1);
    await expect(
      untilDeadline('x', new Promise(() => undefined), { deadline: 0, now: Date.now }),
    ).rejects.toMatchObject({ name: 'BudgetExhaustedError' });
  });
});
