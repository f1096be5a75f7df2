import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * How long the current Lambda invocation may still work. The processor's handler opens a scope
 * from `context.getRemainingTimeInMillis()`; adapters read it before every attempt and every
 * retry wait, so no outside call (a 429's `retry_after`, a slow answer, a backoff) can hold an
 * invocation past its end. Lambda ending an invocation by timeout fails the whole batch and
 * skips every "tell the person" path, so the work stops a reserve before the real end.
 *
 * AsyncLocalStorage keeps concurrent invocations apart (the local stack runs two side by side
 * in one process; a Lambda container never does). Outside any scope there is no deadline.
 */

export interface InvocationDeadline {
  /** Epoch ms after which no new outside work should start (the Lambda's end minus a reserve). */
  readonly workUntil: number;
  /** Epoch ms at which the runtime ends the invocation. */
  readonly hardEnd: number;
}

const storage = new AsyncLocalStorage<InvocationDeadline>();

/** Longest reserve kept for telling people and handing jobs back (the processor times out at 90 s). */
const MAX_RESERVE_MS = 10_000;

/**
 * The scope for one invocation that has `remainingMs` left: work stops at 80 % of it (at most
 * 10 s before the end), which leaves time to report failures and space out retries.
 */
export function deadlineFromRemaining(remainingMs: number, now = Date.now()): InvocationDeadline {
  // Whole milliseconds: a timeout derived from these goes to APIs that refuse fractions (the
  // Anthropic SDK's `timeout` must be an integer; Node's `AbortSignal.timeout` throws a RangeError).
  const remaining = Math.floor(remainingMs);
  const reserve = Math.ceil(Math.min(MAX_RESERVE_MS, Math.max(0, remaining) * 0.2));
  return { workUntil: now + remaining - reserve, hardEnd: now + remaining };
}

export function runWithDeadline<T>(deadline: InvocationDeadline, work: () => Promise<T>): Promise<T> {
  return storage.run(deadline, work);
}

export function currentDeadline(): InvocationDeadline | undefined {
  return storage.getStore();
}

/** Milliseconds of work left in this invocation; `Infinity` outside one. */
export function workBudgetMs(now = Date.now()): number {
  const deadline = storage.getStore();
  return deadline ? Math.max(0, Math.floor(deadline.workUntil - now)) : Number.POSITIVE_INFINITY;
}

/**
 * The timeout for one outside attempt: its own limit, cut to the work budget. `undefined` when
 * the budget cannot fit a useful attempt (`minimumMs`), so the caller gives up before calling.
 */
export function attemptTimeoutMs(limitMs: number, minimumMs = 250, now = Date.now()): number | undefined {
  const budget = workBudgetMs(now);
  if (budget < minimumMs) return undefined;
  // An integer whatever the caller's limit or clock: see deadlineFromRemaining.
  return Math.floor(Math.min(limitMs, budget));
}

/** Whether waiting `waitMs` and then trying again (for at least `minimumMs`) still fits. */
export function canWaitAndRetry(waitMs: number, minimumMs = 250, now = Date.now()): boolean {
  return workBudgetMs(now) >= waitMs + minimumMs;
}
