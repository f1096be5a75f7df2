import { LinearClient, LinearGraphQLClient } from '@linear/sdk';
import { ServiceError } from '../../domain/errors.js';
import { attemptTimeoutMs } from '../../runtime/invocation-deadline.js';

/**
 * Builds the `LinearClient` a composition root hands to `LinearIssueTracker`, with a deadline on
 * every request. The SDK has no timeout option and calls the global `fetch` itself (there is no
 * custom-fetch hook); its options are spread into every `fetch` init, so a single `signal` there
 * would expire once and fail every later call. Instead the client's `LinearGraphQLClient` (a public,
 * documented property) is swapped for one that gives each request its own `AbortSignal.timeout`.
 * Headers are fixed at construction: `client.client.setHeader` would not reach the requests.
 */

export interface LinearClientSettings {
  /** A personal API key (sent as-is) — never logged. */
  readonly apiKey: string;
  /** Default `https://api.linear.app/graphql`; `http://127.0.0.1…` for the sandbox stand-in. */
  readonly apiUrl?: string;
  /** Per request, response body included. */
  readonly timeoutMs: number;
}

export function createLinearClient(settings: LinearClientSettings): LinearClient {
  const client = new LinearClient({ apiKey: settings.apiKey, apiUrl: settings.apiUrl });
  client.client = new DeadlineGraphQLClient(client.options.apiUrl, client.options, settings.timeoutMs);
  return client;
}

class DeadlineGraphQLClient extends LinearGraphQLClient {
  constructor(
    private readonly endpoint: string,
    private readonly init: RequestInit,
    private readonly timeoutMs: number,
  ) {
    super(endpoint, init);
  }

  override rawRequest<Data, Variables extends Record<string, unknown>>(
    query: string,
    variables?: Variables,
    requestHeaders?: RequestInit['headers'],
  ) {
    return this.withDeadline().rawRequest<Data, Variables>(query, variables, requestHeaders);
  }

  override request<Data, Variables extends Record<string, unknown>>(
    document: string,
    variables?: Variables,
    requestHeaders?: RequestInit['headers'],
  ) {
    return this.withDeadline().request<Data, Variables>(document, variables, requestHeaders);
  }

  /** Its own limit, cut to what is left of the invocation (`runtime/invocation-deadline.ts`). */
  private withDeadline(): LinearGraphQLClient {
    const timeoutMs = attemptTimeoutMs(this.timeoutMs);
    if (timeoutMs === undefined) {
      throw new ServiceError('linear', 'not attempted: the invocation is out of time', { retryable: true });
    }
    return new LinearGraphQLClient(this.endpoint, {
      ...this.init,
      signal: AbortSignal.timeout(timeoutMs),
    });
  }
}
