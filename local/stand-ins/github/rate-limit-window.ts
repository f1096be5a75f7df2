import type { RateLimitState } from './github-wire.js';

/**
 * A fixed window per resource, like GitHub's: the first request opens the window, `limit`
 * requests fit in it, and `x-ratelimit-reset` is when it closes. Code search allows 10 a minute,
 * the core REST API 5,000 an hour.
 */
export class RateLimitWindow {
  private used = 0;
  private resetAt = 0;

  constructor(
    readonly resource: RateLimitState['resource'],
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Counts a request if it fits; `allowed: false` when the window is spent. */
  take(now: number): { allowed: boolean; state: RateLimitState } {
    this.roll(now);
    if (this.used >= this.limit) return { allowed: false, state: this.state() };
    this.used += 1;
    return { allowed: true, state: this.state() };
  }

  peek(now: number): RateLimitState {
    this.roll(now);
    return this.state();
  }

  private roll(now: number): void {
    if (now >= this.resetAt) {
      this.used = 0;
      this.resetAt = now + this.windowMs;
    }
  }

  private state(): RateLimitState {
    return { resource: this.resource, limit: this.limit, used: this.used, resetAt: this.resetAt };
  }
}
