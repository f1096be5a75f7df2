/**
 * Client-side limit for GitHub's code search, which allows 10 requests a minute per token. A
 * sliding log of the last requests: a request goes out only if fewer than 10 went out in the past
 * 60 s. (A token bucket of 10 refilled at 10 a minute would not do: after a burst of 10 it lets one
 * more through 6 s later, inside the same GitHub window, and that one is refused.) When GitHub says
 * the budget is spent anyway — other processes share the token — `exhaustUntil` stops requests
 * until GitHub's reset, so the calls in between cost nothing.
 *
 * One log per process: concurrent Lambdas each hold their own, which is why search stays best
 * effort and a 403 from GitHub degrades to no results instead of failing the job.
 */

export interface CodeSearchBudgetOptions {
  /** Requests per window. Default 10. */
  readonly capacity?: number;
  /** Default 60 s. */
  readonly windowMs?: number;
  /** Epoch milliseconds. */
  readonly now?: () => number;
}

export class CodeSearchBudget {
  private readonly capacity: number;
  private readonly windowMs: number;
  private readonly now: () => number;
  private sent: number[] = [];
  private blockedUntil = 0;

  constructor(options: CodeSearchBudgetOptions = {}) {
    this.capacity = options.capacity ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Records one request if it fits in the window; false (and nothing recorded) if not. */
  tryTake(): boolean {
    const at = this.now();
    if (at < this.blockedUntil) return false;
    this.sent = this.sent.filter((sentAt) => sentAt > at - this.windowMs);
    if (this.sent.length >= this.capacity) return false;
    this.sent.push(at);
    return true;
  }

  /** GitHub refused for its rate limit: no requests before `until` (epoch ms). */
  exhaustUntil(until: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, until);
    this.sent = [];
  }
}
