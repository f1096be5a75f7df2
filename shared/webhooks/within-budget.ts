import { ServiceError } from '../domain/errors.js';

/**
 * A request's time budget for its outside calls (see WEBHOOK_BUDGET_MS for how long, and why).
 * Inside it a slow or failed call is abandoned and tried again, which is what turns a hiccup of
 * SQS or Secrets Manager into a 202 instead of a lost report.
 */
export interface Budget {
  /** Epoch milliseconds by which the answer must be on its way. */
  readonly deadline: number;
  readonly now: () => number;
}

export interface RetryPolicy {
  /** Longest the first attempt may take before it is abandoned. */
  readonly attemptTimeoutMs: number;
  /**
   * Each later attempt may take this many times longer than the one before (default 1): the
   * first is cut short to get past a hung connection quickly, later ones give a slow but working
   * service (or a busy machine, or a large body) the time it needs.
   */
  readonly attemptTimeoutGrowth?: number;
  /** An attempt with less time than this left is not started. */
  readonly minAttemptMs: number;
  /** Pause after the n-th failed attempt: `backoffMs * n`. */
  readonly backoffMs: number;
  readonly maxAttempts: number;
}

/** The request's budget ran out before an outside call succeeded; retryable by the sender. */
export class BudgetExhaustedError extends ServiceError {}

/**
 * Runs `attempt` until it succeeds, fails for good (anything but a retryable ServiceError), or the
 * budget leaves no room for another try. Each attempt gets an AbortSignal that fires at its own
 * timeout, and is raced against it too, so an attempt that ignores its signal cannot hold the
 * request. Resolves with the number of attempts made.
 */
export async function retryWithinBudget<T>(
  service: string,
  attempt: (signal: AbortSignal) => Promise<T>,
  budget: Budget,
  policy: RetryPolicy,
): Promise<{ value: T; attempts: number }> {
  let lastError: unknown;
  for (let attempts = 1; attempts <= policy.maxAttempts; attempts += 1) {
    const left = budget.deadline - budget.now();
    if (left < policy.minAttemptMs) break;
    const attemptTimeout = policy.attemptTimeoutMs * (policy.attemptTimeoutGrowth ?? 1) ** (attempts - 1);
    try {
      const value = await withTimeout(service, attempt, Math.min(attemptTimeout, left));
      return { value, attempts };
    } catch (error) {
      // Only a ServiceError that says another try can help is retried: a refusal, a bad secret
      // or a bug of ours would fail the same way again.
      if (!(error instanceof ServiceError) || !error.retryable) throw error;
      lastError = error;
    }
    const pause = Math.min(policy.backoffMs * attempts, Math.max(0, budget.deadline - budget.now()));
    if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
  }
  throw new BudgetExhaustedError(service, 'no success within the request budget', {
    retryable: true,
    cause: lastError,
  });
}

/** Rejects with a retryable ServiceError once `timeoutMs` passes, aborting the attempt's signal. */
export async function withTimeout<T>(
  service: string,
  attempt: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new ServiceError(service, `no answer within ${timeoutMs} ms`, { retryable: true });
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([attempt(controller.signal), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits for `promise`, but no later than the budget's deadline. */
export async function untilDeadline<T>(service: string, promise: Promise<T>, budget: Budget): Promise<T> {
  const left = budget.deadline - budget.now();
  if (left <= 0) {
    // Still take an answer that is already there.
    const settled = await Promise.race([promise, Promise.resolve(NOT_YET)]);
    if (settled !== NOT_YET) return settled as T;
    throw new BudgetExhaustedError(service, 'no answer within the request budget', { retryable: true });
  }
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new BudgetExhaustedError(service, 'no answer within the request budget', { retryable: true })),
      left,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

const NOT_YET = Symbol('not yet');
