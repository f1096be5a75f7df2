import { LinearError, RatelimitedLinearError } from '@linear/sdk';
import { parseRetryAfter, ServiceError } from '../../domain/errors.js';

/**
 * Turns whatever `@linear/sdk` threw into a `ServiceError('linear', …)`. The SDK's own error class
 * is not enough to decide: it classifies by the first error's `extensions.type` (so a rate limit
 * carrying only `extensions.code: "RATELIMITED"` comes out as UnknownLinearError) and, without
 * GraphQL errors, by HTTP status (any other 4xx becomes AuthenticationLinearError); and
 * `client.client.rawRequest` lets network failures and timeouts through as plain
 * `TypeError`/`DOMException`s. So we read the raw GraphQL errors and headers ourselves.
 *
 * Statuses on the result are the meaning, not always the wire: Linear answers "Entity not found"
 * with HTTP 200 (→ 404 here), and rate limits with 400 or 429 (→ 429 here). Messages carry the
 * operation name and Linear's short error text, never headers (the API key) or variables.
 */

export type LinearFailureKind =
  | 'not-found'
  | 'rate-limited'
  | 'unauthenticated'
  | 'forbidden'
  | 'unavailable'
  | 'rejected';

export interface LinearFailure {
  readonly kind: LinearFailureKind;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly detail: string;
}

interface RawGraphQLError {
  readonly message?: unknown;
  readonly extensions?: { readonly code?: unknown; readonly type?: unknown; readonly statusCode?: unknown };
}

const MAX_DETAIL = 200;

export function classifyLinearFailure(error: unknown, now: number): LinearFailure {
  if (!(error instanceof LinearError)) return classifyTransportFailure(error);

  const response = error.raw?.response;
  const rawErrors = (Array.isArray(response?.errors) ? response.errors : []) as readonly RawGraphQLError[];
  const first = rawErrors[0];
  const codes = rawErrors.map((raw) => raw.extensions?.code);
  const types = rawErrors.map((raw) => raw.extensions?.type);
  const httpStatus = error.status;
  const detail = describe(first, httpStatus);

  if (
    error instanceof RatelimitedLinearError ||
    httpStatus === 429 ||
    codes.includes('RATELIMITED') ||
    types.includes('ratelimited')
  ) {
    return { kind: 'rate-limited', status: 429, retryAfterMs: retryAfter(response?.headers, now), detail };
  }
  if (
    rawErrors.some((raw) => typeof raw.message === 'string' && raw.message.startsWith('Entity not found'))
  ) {
    return { kind: 'not-found', status: 404, retryAfterMs: undefined, detail };
  }
  if (
    httpStatus === 401 ||
    codes.includes('AUTHENTICATION_ERROR') ||
    types.includes('authentication error')
  ) {
    return { kind: 'unauthenticated', status: 401, retryAfterMs: undefined, detail };
  }
  if (httpStatus === 403 || codes.includes('FORBIDDEN') || types.includes('forbidden')) {
    return { kind: 'forbidden', status: 403, retryAfterMs: undefined, detail };
  }
  // A 2xx that carried no GraphQL answer at all: the SDK hands up the body as text when it is
  // not JSON (an edge proxy's HTML page). The service was not reached, or its answer was lost.
  if (httpStatus !== undefined && httpStatus >= 200 && httpStatus < 300 && rawErrors.length === 0) {
    return {
      kind: 'unavailable',
      status: 502,
      retryAfterMs: undefined,
      detail: `answered ${httpStatus} without a GraphQL response`,
    };
  }
  if (
    httpStatus === undefined ||
    httpStatus === 408 ||
    httpStatus >= 500 ||
    types.includes('internal error') ||
    types.includes('lock timeout')
  ) {
    return {
      kind: 'unavailable',
      status: httpStatus,
      retryAfterMs: retryAfter(response?.headers, now),
      detail,
    };
  }
  const statusCode = first?.extensions?.statusCode;
  const status = typeof statusCode === 'number' && statusCode >= 400 ? statusCode : Math.max(httpStatus, 400);
  return { kind: 'rejected', status, retryAfterMs: undefined, detail };
}

export function toLinearServiceError(error: unknown, operation: string, now: number): ServiceError {
  if (error instanceof ServiceError) return error;
  const failure = classifyLinearFailure(error, now);
  const retryable = failure.kind === 'rate-limited' || failure.kind === 'unavailable';
  return new ServiceError('linear', `${operation} ${summaries[failure.kind]}: ${failure.detail}`, {
    status: failure.status,
    retryable,
    retryAfterMs: failure.retryAfterMs,
    cause: error,
  });
}

const summaries: Record<LinearFailureKind, string> = {
  'not-found': 'found nothing',
  'rate-limited': 'was rate limited',
  unauthenticated: 'was not authenticated',
  forbidden: 'was forbidden',
  unavailable: 'failed',
  rejected: 'was rejected',
};

function classifyTransportFailure(error: unknown): LinearFailure {
  const name = error instanceof Error ? error.name : typeof error;
  const timedOut = name === 'TimeoutError' || name === 'AbortError';
  // `response.json()` on a cut-off body: Linear answered, but not all of it arrived.
  if (error instanceof SyntaxError) {
    return {
      kind: 'unavailable',
      status: 502,
      retryAfterMs: undefined,
      detail: 'answered with a cut-off body',
    };
  }
  return {
    kind: 'unavailable',
    status: undefined,
    retryAfterMs: undefined,
    detail: timedOut ? 'timed out' : `network error (${name})`,
  };
}

function describe(first: RawGraphQLError | undefined, httpStatus: number | undefined): string {
  const message = typeof first?.message === 'string' ? first.message : undefined;
  const text = message ?? (httpStatus === undefined ? 'no response' : `HTTP ${httpStatus}`);
  return text.length > MAX_DETAIL ? `${text.slice(0, MAX_DETAIL)}…` : text;
}

/**
 * `retry-after` when present; otherwise the reset of whichever budget ran out. Linear sends
 * `x-ratelimit-{requests,complexity}-reset` as epoch milliseconds; seconds are accepted too.
 */
function retryAfter(headers: Headers | undefined, now: number): number | undefined {
  if (!headers || typeof headers.get !== 'function') return undefined;
  const explicit = parseRetryAfter(headers.get('retry-after'), now);
  if (explicit !== undefined) return explicit;
  const waits = ['requests', 'complexity'].flatMap((budget) => {
    const remaining = headers.get(`x-ratelimit-${budget}-remaining`);
    const reset = Number(headers.get(`x-ratelimit-${budget}-reset`));
    if (remaining !== null && Number(remaining) > 0) return [];
    if (!Number.isFinite(reset) || reset <= 0) return [];
    const resetMs = reset > 1e12 ? reset : reset * 1000;
    return [Math.max(0, Math.round(resetMs - now))];
  });
  return waits.length > 0 ? Math.max(...waits) : undefined;
}
