import { parseRetryAfter, ServiceError } from '../../domain/errors.js';
import { attemptTimeoutMs, canWaitAndRetry } from '../../runtime/invocation-deadline.js';

/**
 * A small fetch-based client for Discord's v10 REST API: the calls bugbot makes, with the
 * failure handling Discord documents and nothing that can hold a Lambda invocation open.
 *
 * Why not `@discordjs/rest`: it waits out rate limits inside its own queue (a 429 with a long
 * `retry_after`, or a bucket that keeps answering 429, held invocations until Lambda killed
 * them), and it resolves a 200 whose body is not JSON (an HTML error page from a proxy) as a
 * successful `ArrayBuffer`. Here:
 *
 * - every attempt has a timeout cut to the invocation's remaining work budget
 *   (`shared/runtime/invocation-deadline.ts`), and no wait or retry is started that would not
 *   fit it: the error goes up as retryable, with `retryAfterMs`, and the job queue redelivers;
 * - a 2xx must carry a JSON body (204 excepted); HTML, a truncated body or anything else that is
 *   not JSON is a retryable failure, never a success;
 * - 429s are waited out only when short (`maxRateLimitWaitMs`) and only within the budget,
 *   reading the JSON body's `retry_after` (seconds, float), else the `Retry-After` header, else
 *   `X-RateLimit-Reset-After`; a global limit (`global: true` / `X-RateLimit-Global`) pauses
 *   every route. Source: https://discord.com/developers/docs/topics/rate-limits ("Exceeding a
 *   rate limit": "rely on the Retry-After header or retry_after field"; header format), checked
 *   in discord/discord-api-docs `developers/topics/rate-limits.mdx`.
 * - requests in one bucket (route + major parameter: channel, guild, webhook) go one at a time,
 *   and a bucket whose `X-RateLimit-Remaining` reached 0 is not asked again before
 *   `X-RateLimit-Reset-After` ("parse response headers to prevent hitting the limit", same page):
 *   429s count toward Discord's invalid-request limit (10,000 per 10 minutes per IP);
 * - 5xx, timeouts and network errors are retried with backoff, a bounded number of times.
 *
 * Errors are `DiscordApiError`s (a `ServiceError` with Discord's JSON error `code`). Their
 * messages name the operation and status, never the URL: interaction tokens travel in the path.
 */

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface DiscordRestOptions {
  readonly botToken: string;
  /** Base without the version, e.g. `http://127.0.0.1:3000/_sandbox/discord/api`; Discord's by default. */
  readonly api?: string;
  /** Per HTTP attempt, response body included. Default 10 s. */
  readonly timeoutMs?: number;
  /** Extra attempts after a 5xx, a bad body, a timeout or a reset connection. Default 2. */
  readonly retries?: number;
  /** Longest 429 wait done in-process; longer ones go back to the job queue. Default 5 s. */
  readonly maxRateLimitWaitMs?: number;
  /** First backoff step after a 5xx or timeout; doubles per attempt. Default 250 ms. */
  readonly baseDelayMs?: number;
  readonly fetch?: FetchLike;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

export const DISCORD_REST_DEFAULTS = {
  api: 'https://discord.com/api',
  timeoutMs: 10_000,
  retries: 2,
  maxRateLimitWaitMs: 5_000,
  baseDelayMs: 250,
} as const;

/** Discord asks for `DiscordBot ($url, $versionNumber)` (docs: Reference, "User Agent"). */
const USER_AGENT = 'DiscordBot (https://github.com/bugbot/bugbot, 0.1.0)';
/** Used when a 429 names no wait at all (a proxy's page): one second, as a floor. */
const FALLBACK_RATE_LIMIT_WAIT_MS = 1_000;
const MAX_BUCKETS = 1_000;

/** A Discord failure: the HTTP status and, when Discord said, its JSON error code. */
export class DiscordApiError extends ServiceError {
  readonly code: number | undefined;

  constructor(
    message: string,
    options: {
      status?: number;
      code?: number;
      retryable?: boolean;
      retryAfterMs?: number;
      cause?: unknown;
    } = {},
  ) {
    super('discord', message, options);
    this.code = options.code;
  }
}

export interface DiscordRequestOptions {
  /** Serialized as JSON. */
  readonly body?: unknown;
  readonly query?: URLSearchParams;
  /** False for interaction webhooks, which authenticate by the token in their path. */
  readonly auth?: boolean;
  /** Names the call in errors ("post message"); defaults to the method. */
  readonly operation?: string;
}

interface Bucket {
  /** The request chain: one request of a bucket at a time. */
  tail: Promise<unknown>;
  /** Epoch ms before which the bucket is known to be spent. */
  blockedUntil: number;
}

export class DiscordRest {
  private readonly api: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly maxRateLimitWaitMs: number;
  private readonly baseDelayMs: number;
  private readonly fetchImpl: FetchLike;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly buckets = new Map<string, Bucket>();
  private globalBlockedUntil = 0;

  constructor(private readonly options: DiscordRestOptions) {
    this.api = (options.api ?? DISCORD_REST_DEFAULTS.api).replace(/\/+$/, '');
    this.timeoutMs = options.timeoutMs ?? DISCORD_REST_DEFAULTS.timeoutMs;
    this.retries = Math.max(0, options.retries ?? DISCORD_REST_DEFAULTS.retries);
    this.maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? DISCORD_REST_DEFAULTS.maxRateLimitWaitMs;
    this.baseDelayMs = options.baseDelayMs ?? DISCORD_REST_DEFAULTS.baseDelayMs;
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
  }

  get<T = unknown>(route: string, options: DiscordRequestOptions = {}): Promise<T> {
    return this.request<T>('GET', route, options);
  }

  post<T = unknown>(route: string, options: DiscordRequestOptions = {}): Promise<T> {
    return this.request<T>('POST', route, options);
  }

  patch<T = unknown>(route: string, options: DiscordRequestOptions = {}): Promise<T> {
    return this.request<T>('PATCH', route, options);
  }

  put<T = unknown>(route: string, options: DiscordRequestOptions = {}): Promise<T> {
    return this.request<T>('PUT', route, options);
  }

  /** `route` as `discord-api-types`' `Routes` builds it, e.g. `/channels/123/messages`. */
  request<T = unknown>(method: string, route: string, options: DiscordRequestOptions = {}): Promise<T> {
    const key = `${method} ${bucketRoute(route)}`;
    const bucket = this.bucketFor(key);
    const run = bucket.tail.then(
      () => this.send<T>(method, route, options, bucket),
      () => this.send<T>(method, route, options, bucket),
    );
    bucket.tail = run.catch(() => undefined);
    return run;
  }

  private async send<T>(
    method: string,
    route: string,
    options: DiscordRequestOptions,
    bucket: Bucket,
  ): Promise<T> {
    const operation = options.operation ?? method;
    for (let attempt = 0; ; attempt += 1) {
      await this.waitForBucket(bucket, operation);
      const timeoutMs = attemptTimeoutMs(this.timeoutMs);
      if (timeoutMs === undefined) {
        throw new DiscordApiError(`${operation}: not attempted, the invocation is out of time`, {
          retryable: true,
        });
      }
      let failure: DiscordApiError;
      try {
        const response = await this.fetchImpl(this.url(route, options.query), {
          method,
          headers: this.headers(options),
          ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
          signal: AbortSignal.timeout(timeoutMs),
        });
        // Read inside the same timeout: a server can stall after the headers.
        const text = await response.text();
        this.learnLimits(response, bucket);
        const outcome = this.interpret<T>(response, text, operation);
        if (outcome.ok) return outcome.value;
        failure = outcome.error;
      } catch (error) {
        failure = transportError(error, operation);
      }
      const waitMs = this.retryWait(failure, attempt);
      if (waitMs === undefined) throw failure;
      await this.sleep(waitMs);
    }
  }

  /** How long to wait before the next attempt, or undefined to give up now. */
  private retryWait(failure: DiscordApiError, attempt: number): number | undefined {
    if (!failure.retryable) return undefined;
    if (failure.status === 429) {
      const wait = failure.retryAfterMs ?? FALLBACK_RATE_LIMIT_WAIT_MS;
      if (wait > this.maxRateLimitWaitMs || attempt >= this.retries + 1) return undefined;
      return canWaitAndRetry(wait) ? wait : undefined;
    }
    if (attempt >= this.retries) return undefined;
    const step = this.baseDelayMs * 2 ** attempt;
    const wait = Math.round(step / 2 + Math.random() * (step / 2));
    return canWaitAndRetry(wait) ? wait : undefined;
  }

  private async waitForBucket(bucket: Bucket, operation: string): Promise<void> {
    const until = Math.max(bucket.blockedUntil, this.globalBlockedUntil);
    const wait = until - this.now();
    if (wait <= 0) return;
    if (wait > this.maxRateLimitWaitMs || !canWaitAndRetry(wait)) {
      // Not sent at all: asking a spent bucket only earns another 429.
      throw new DiscordApiError(`${operation}: rate limited (bucket spent for ${wait} ms)`, {
        status: 429,
        retryable: true,
        retryAfterMs: wait,
      });
    }
    await this.sleep(wait);
  }

  private interpret<T>(
    response: Response,
    text: string,
    operation: string,
  ): { ok: true; value: T } | { ok: false; error: DiscordApiError } {
    const { status } = response;
    if (status === 204) return { ok: true, value: undefined as T };
    const json = parseJson(text, response.headers.get('content-type'));
    if (status >= 200 && status < 300) {
      if (json.ok) return { ok: true, value: json.value as T };
      // A proxy's HTML page or a cut-off body: the request may or may not have taken effect, so
      // it is retried (posts carry enforced nonces; edits are idempotent).
      return {
        ok: false,
        error: new DiscordApiError(`${operation}: answered ${status} with a body that is not JSON`, {
          status: 502,
          retryable: true,
        }),
      };
    }
    const body = json.ok && typeof json.value === 'object' && json.value !== null ? json.value : {};
    const {
      code,
      retry_after: retryAfter,
      global,
    } = body as {
      code?: unknown;
      retry_after?: unknown;
      global?: unknown;
    };
    const discordCode = typeof code === 'number' ? code : undefined;
    if (status === 429) {
      const waitMs =
        typeof retryAfter === 'number' && retryAfter >= 0
          ? Math.ceil(retryAfter * 1000)
          : (parseRetryAfter(response.headers.get('retry-after'), this.now()) ??
            secondsHeader(response.headers.get('x-ratelimit-reset-after')));
      if (global === true || response.headers.get('x-ratelimit-global') === 'true') {
        this.globalBlockedUntil = this.now() + (waitMs ?? FALLBACK_RATE_LIMIT_WAIT_MS);
      }
      return {
        ok: false,
        error: new DiscordApiError(`${operation}: rate limited`, {
          status,
          code: discordCode,
          retryable: true,
          retryAfterMs: waitMs,
        }),
      };
    }
    const detail = discordCode !== undefined ? ` (code ${discordCode})` : '';
    return {
      ok: false,
      error: new DiscordApiError(`${operation}: ${status}${detail}`, {
        status,
        code: discordCode,
        retryable: status >= 500 || status === 408,
        retryAfterMs:
          status >= 500 ? parseRetryAfter(response.headers.get('retry-after'), this.now()) : undefined,
      }),
    };
  }

  private learnLimits(response: Response, bucket: Bucket): void {
    const remaining = response.headers.get('x-ratelimit-remaining');
    const resetAfter = secondsHeader(response.headers.get('x-ratelimit-reset-after'));
    if (remaining === '0' && resetAfter !== undefined) bucket.blockedUntil = this.now() + resetAfter;
    else if (remaining !== null && Number(remaining) > 0) bucket.blockedUntil = 0;
  }

  private bucketFor(key: string): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= MAX_BUCKETS) this.forgetIdleBuckets();
      bucket = { tail: Promise.resolve(), blockedUntil: 0 };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  private forgetIdleBuckets(): void {
    const now = this.now();
    for (const [key, bucket] of this.buckets) if (bucket.blockedUntil <= now) this.buckets.delete(key);
  }

  private headers(options: DiscordRequestOptions): Record<string, string> {
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, accept: 'application/json' };
    if (options.auth !== false) headers.authorization = `Bot ${this.options.botToken}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    return headers;
  }

  private url(route: string, query: URLSearchParams | undefined): string {
    const search = query?.toString();
    return `${this.api}/v10${route}${search ? `?${search}` : ''}`;
  }
}

/** For composition roots: the one way bugbot configures a Discord REST client. */
export function createDiscordRest(options: DiscordRestOptions): DiscordRest {
  return new DiscordRest(options);
}

/**
 * The rate-limit bucket of a route: its path with ids replaced, except the top-level resource
 * Discord keys limits on (channel, guild, webhook id + token).
 */
export function bucketRoute(route: string): string {
  const parts = route.split('?')[0]?.split('/') ?? [];
  return parts
    .map((part, index) => {
      const previous = parts[index - 1];
      if (previous === 'channels' || previous === 'guilds' || previous === 'webhooks') return part;
      if (parts[index - 2] === 'webhooks') return part; // the webhook token
      return /^\d{15,22}$/.test(part) ? ':id' : part;
    })
    .join('/');
}

function transportError(error: unknown, operation: string): DiscordApiError {
  const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
  // No status: the request may have reached Discord, and the next try must be safe to repeat.
  return new DiscordApiError(`${operation}: ${timedOut ? 'timed out' : 'network error'}`, {
    retryable: true,
    cause: error instanceof Error ? new Error(error.name) : undefined,
  });
}

function parseJson(text: string, contentType: string | null): { ok: true; value: unknown } | { ok: false } {
  if (!contentType?.toLowerCase().includes('application/json') || text.length === 0) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function secondsHeader(value: string | null): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.ceil(seconds * 1000) : undefined;
}
