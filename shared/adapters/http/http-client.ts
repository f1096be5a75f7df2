import { isRetryableStatus, parseRetryAfter, ServiceError } from '../../domain/errors.js';
import { attemptTimeoutMs, canWaitAndRetry } from '../../runtime/invocation-deadline.js';

/**
 * A small JSON-over-HTTP client for REST vendors that ship no SDK we want (PostHog today). It gives
 * every call the budget DESIGN.md asks for: a per-attempt timeout, retries with exponential backoff
 * and jitter on 429/5xx/network errors/timeouts honouring `retry-after`, and a cap on the total time
 * spent waiting so a Lambda never sleeps past its own deadline: every attempt's timeout is also cut
 * to the invocation's remaining work budget (`shared/runtime/invocation-deadline.ts`), and no wait
 * starts that would not leave room for the next attempt. A 2xx whose body is not JSON (an HTML page
 * from a proxy, a cut-off answer) is a retryable failure, never data. Failures become `ServiceError`s
 * whose messages name the method, the path (without the query string: it may hold an email) and
 * the status, never headers or bodies (tokens, user data).
 */

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;
export type Sleep = (ms: number) => Promise<void>;

export interface HttpClientOptions {
  /** Names the vendor in errors and logs (`ServiceError.service`). */
  readonly service: string;
  /** Scheme, host and optional path prefix, e.g. `https://us.posthog.com` or a sandbox prefix. */
  readonly baseUrl: string;
  /** Sent on every request (authorization, user agent). Never echoed in errors. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Per attempt, covering the response body too. Default 10 s. */
  readonly timeoutMs?: number;
  /** Including the first attempt. Default 3. */
  readonly maxAttempts?: number;
  /** First backoff step; doubles per attempt. Default 200 ms. */
  readonly baseDelayMs?: number;
  /**
   * Upper bound on the sum of all waits between attempts, `retry-after` included. A wait that would
   * exceed it ends the retries and surfaces the error (with `retryAfterMs`) to the job queue, whose
   * own redelivery is the better place for long waits. Default 5 s.
   */
  readonly maxTotalDelayMs?: number;
  readonly fetch?: FetchLike;
  readonly sleep?: Sleep;
  /** 0..1, for jitter. */
  readonly random?: () => number;
  readonly now?: () => number;
}

export type QueryValue = string | number | boolean | undefined;

export interface HttpRequest {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Below `baseUrl`, starting with `/`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, QueryValue>>;
  /** Serialized as JSON. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Non-2xx statuses that are an expected answer rather than a fault (e.g. 404 for "no such
   * recording"): returned instead of thrown, and never retried.
   */
  readonly acceptStatuses?: readonly number[];
}

export interface HttpResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON; `undefined` for an empty body. */
  readonly body: T;
}

const DEFAULTS = { timeoutMs: 10_000, maxAttempts: 3, baseDelayMs: 200, maxTotalDelayMs: 5_000 } as const;
const MAX_BACKOFF_STEP_MS = 10_000;

export class HttpClient {
  readonly service: string;
  private readonly baseUrl: string;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxTotalDelayMs: number;
  private readonly fetchImpl: FetchLike;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(options: HttpClientOptions) {
    this.service = options.service;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.headers = options.headers ?? {};
    this.timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
    this.maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? DEFAULTS.maxAttempts));
    this.baseDelayMs = options.baseDelayMs ?? DEFAULTS.baseDelayMs;
    this.maxTotalDelayMs = options.maxTotalDelayMs ?? DEFAULTS.maxTotalDelayMs;
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  async getJson<T = unknown>(path: string, query?: HttpRequest['query']): Promise<T> {
    return (await this.request<T>({ method: 'GET', path, query })).body;
  }

  async postJson<T = unknown>(path: string, body: unknown): Promise<T> {
    return (await this.request<T>({ method: 'POST', path, body })).body;
  }

  async request<T = unknown>(request: HttpRequest): Promise<HttpResponse<T>> {
    const method = request.method ?? 'GET';
    const url = this.buildUrl(request.path, request.query);
    const label = `${method} ${request.path}`;
    let waitedMs = 0;

    for (let attempt = 1; ; attempt += 1) {
      const timeoutMs = attemptTimeoutMs(this.timeoutMs);
      if (timeoutMs === undefined) {
        throw new ServiceError(this.service, `${label} not attempted: the invocation is out of time`, {
          retryable: true,
        });
      }
      let failure: ServiceError;
      try {
        const response = await this.attempt<T>(method, url, request, timeoutMs);
        if (isOk(response.status) || request.acceptStatuses?.includes(response.status)) return response;
        failure = this.statusError(label, response, attempt);
      } catch (error) {
        failure =
          error instanceof ServiceError ? error : this.transportError(label, error, attempt, timeoutMs);
      }

      if (!failure.retryable || attempt >= this.maxAttempts) throw failure;
      const delayMs = failure.retryAfterMs ?? this.backoffMs(attempt);
      if (waitedMs + delayMs > this.maxTotalDelayMs || !canWaitAndRetry(delayMs)) throw failure;
      waitedMs += delayMs;
      await this.sleep(delayMs);
    }
  }

  private async attempt<T>(
    method: string,
    url: string,
    request: HttpRequest,
    timeoutMs: number,
  ): Promise<HttpResponse<T>> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...this.headers,
      ...request.headers,
    };
    const init: RequestInit = { method, headers, signal: AbortSignal.timeout(timeoutMs) };
    if (request.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(request.body);
    }
    const response = await this.fetchImpl(url, init);
    // Read the body inside the same timeout: a server can stall after the headers.
    const text = await response.text();
    if (!isOk(response.status)) {
      return { status: response.status, headers: response.headers, body: tryParseJson(text) as T };
    }
    if (text.length === 0)
      return { status: response.status, headers: response.headers, body: undefined as T };
    try {
      return { status: response.status, headers: response.headers, body: JSON.parse(text) as T };
    } catch {
      // Not the service's answer (an edge proxy's HTML page) or a cut-off one: as a 502, so it is
      // retried and described as the service failing, never taken for data.
      throw new ServiceError(
        this.service,
        `${method} ${request.path} answered ${response.status} with a body that is not JSON`,
        { status: 502, retryable: true },
      );
    }
  }

  private statusError(label: string, response: HttpResponse<unknown>, attempt: number): ServiceError {
    const status = response.status;
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), this.now());
    const code = vendorErrorCode(response.body);
    const detail = code ? ` (${code})` : '';
    return new ServiceError(
      this.service,
      `${label} failed with HTTP ${status}${detail} ${attemptsText(attempt)}`,
      {
        status,
        retryable: isRetryableStatus(status),
        retryAfterMs,
      },
    );
  }

  private transportError(label: string, error: unknown, attempt: number, timeoutMs: number): ServiceError {
    const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
    const what = timedOut ? `timed out after ${timeoutMs} ms` : 'could not be sent (network error)';
    return new ServiceError(this.service, `${label} ${what} ${attemptsText(attempt)}`, {
      retryable: true,
      cause: error,
    });
  }

  /** Exponential with "equal jitter": never zero, never more than the step, spread to avoid herds. */
  private backoffMs(attempt: number): number {
    const step = Math.min(MAX_BACKOFF_STEP_MS, this.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(step / 2 + this.random() * (step / 2));
  }

  private buildUrl(path: string, query: HttpRequest['query']): string {
    if (!path.startsWith('/')) throw new Error(`HttpClient paths start with "/": ${path}`);
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) params.append(key, String(value));
    }
    const search = params.toString();
    return `${this.baseUrl}${path}${search ? `?${search}` : ''}`;
  }
}

function isOk(status: number): boolean {
  return status >= 200 && status < 300;
}

function attemptsText(attempt: number): string {
  return attempt === 1 ? '(1 attempt)' : `(${attempt} attempts)`;
}

function tryParseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A vendor's short machine-readable error code (`{"code":"throttled"}`, `{"type":"validation_error"}`)
 * is useful in logs and safe to keep; free-text details are not kept: they can quote the request.
 */
function vendorErrorCode(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  for (const key of ['code', 'type', 'error']) {
    const value = record[key];
    if (typeof value === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(value)) return value;
  }
  return undefined;
}
