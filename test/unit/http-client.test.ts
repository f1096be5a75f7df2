import { describe, expect, it } from 'vitest';
import {
  type FetchLike,
  HttpClient,
  type HttpClientOptions,
} from '../../shared/adapters/http/http-client.js';
import { ServiceError } from '../../shared/domain/errors.js';
import { runWithDeadline } from '../../shared/runtime/invocation-deadline.js';

const TOKEN = 'phx_secret_token_value_123';

type Step = Response | Error | 'hang';

/** Answers each call with the next scripted step and remembers what was asked. */
function scriptedFetch(steps: Step[]) {
  const requests: Array<{ url: string; init: RequestInit }> = [];
  const fetch: FetchLike = async (url, init) => {
    requests.push({ url, init });
    const step = steps.shift();
    if (step === undefined) throw new Error('unexpected extra request');
    if (step === 'hang') {
      return new Promise<Response>((_, reject) => {
        init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      });
    }
    if (step instanceof Error) throw step;
    return step;
  };
  return { fetch, requests };
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

function makeClient(steps: Step[], overrides: Partial<HttpClientOptions> = {}) {
  const scripted = scriptedFetch(steps);
  const sleeps: number[] = [];
  const client = new HttpClient({
    service: 'posthog',
    baseUrl: 'https://posthog.test/base/',
    headers: { authorization: `Bearer ${TOKEN}` },
    timeoutMs: 1_000,
    maxAttempts: 3,
    baseDelayMs: 100,
    maxTotalDelayMs: 10_000,
    fetch: scripted.fetch,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    now: () => Date.parse('2025-01-01T00:00:00Z'),
    ...overrides,
  });
  return { client, sleeps, requests: scripted.requests };
}

async function captureError(promise: Promise<unknown>): Promise<ServiceError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ServiceError);
  return error as ServiceError;
}

describe('HttpClient', () => {
  it('builds the URL from the base, path and query, and sends headers and a JSON body', async () => {
    const { client, requests } = makeClient([json(200, { ok: true })]);
    const body = await client.request({
      method: 'POST',
      path: '/api/things/',
      query: { email: 'a+b@example.com', limit: 5, skip: undefined },
      body: { hello: 'world' },
    });
    expect(body.body).toEqual({ ok: true });
    expect(requests).toHaveLength(1);
    expect(requests[0]?.url).toBe('https://posthog.test/base/api/things/?email=a%2Bb%40example.com&limit=5');
    const headers = requests[0]?.init.headers as Record<string, string>;
    expect(headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(headers['content-type']).toBe('application/json');
    expect(requests[0]?.init.body).toBe('{"hello":"world"}');
    expect(requests[0]?.init.signal).toBeInstanceOf(AbortSignal);
  });

  it('retries a 500 and returns the later success, after a jittered exponential backoff', async () => {
    const { client, sleeps, requests } = makeClient([json(500, {}), json(502, {}), json(200, { n: 1 })]);
    await expect(client.getJson('/x')).resolves.toEqual({ n: 1 });
    expect(requests).toHaveLength(3);
    // random() = 0.5 → 3/4 of each step: 100 ms then 200 ms steps.
    expect(sleeps).toEqual([75, 150]);
  });

  it('waits what a 429 retry-after asks (seconds), then succeeds', async () => {
    const { client, sleeps } = makeClient([
      json(429, { code: 'throttled' }, { 'retry-after': '2' }),
      json(200, []),
    ]);
    await expect(client.getJson('/x')).resolves.toEqual([]);
    expect(sleeps).toEqual([2_000]);
  });

  it('understands retry-after given as an HTTP date', async () => {
    const { client, sleeps } = makeClient([
      json(503, {}, { 'retry-after': 'Wed, 01 Jan 2025 00:00:03 GMT' }),
      json(200, {}),
    ]);
    await client.getJson('/x');
    expect(sleeps).toEqual([3_000]);
  });

  it('gives up when retry-after exceeds the total delay budget, passing retryAfterMs on', async () => {
    const { client, sleeps, requests } = makeClient([json(429, {}, { 'retry-after': '60' })], {
      maxTotalDelayMs: 5_000,
    });
    const error = await captureError(client.getJson('/x'));
    expect(requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(error.status).toBe(429);
    expect(error.retryable).toBe(true);
    expect(error.retryAfterMs).toBe(60_000);
  });

  it('does not retry a 404 and maps it to a non-retryable ServiceError', async () => {
    const { client, requests, sleeps } = makeClient([
      json(404, { type: 'invalid_request', code: 'not_found' }),
    ]);
    const error = await captureError(
      client.getJson('/api/projects/1/session_recordings/abc/', { email: 'x@y.z' }),
    );
    expect(requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(error.service).toBe('posthog');
    expect(error.status).toBe(404);
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      'posthog: GET /api/projects/1/session_recordings/abc/ failed with HTTP 404 (not_found) (1 attempt)',
    );
  });

  it('returns accepted non-2xx statuses instead of throwing', async () => {
    const { client } = makeClient([json(404, { detail: 'Not found.' })]);
    const response = await client.request({ path: '/x', acceptStatuses: [404] });
    expect(response.status).toBe(404);
    expect(response.body).toEqual({ detail: 'Not found.' });
  });

  it('turns a per-attempt timeout into a retryable ServiceError once attempts run out', async () => {
    const { client, requests } = makeClient(['hang', 'hang'], { timeoutMs: 30, maxAttempts: 2 });
    const error = await captureError(client.getJson('/slow'));
    expect(requests).toHaveLength(2);
    expect(error.retryable).toBe(true);
    expect(error.status).toBeUndefined();
    expect(error.message).toBe('posthog: GET /slow timed out after 30 ms (2 attempts)');
    expect((error.cause as Error).name).toBe('TimeoutError');
  });

  it('retries network errors', async () => {
    const { client, requests } = makeClient([new TypeError('fetch failed'), json(200, { ok: 1 })]);
    await expect(client.getJson('/x')).resolves.toEqual({ ok: 1 });
    expect(requests).toHaveLength(2);
  });

  it('stops after maxAttempts and reports the last status', async () => {
    const { client, requests, sleeps } = makeClient([
      json(503, {}),
      json(503, {}),
      json(503, {}),
      json(200, {}),
    ]);
    const error = await captureError(client.getJson('/x'));
    expect(requests).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(error.status).toBe(503);
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('(3 attempts)');
  });

  it('keeps tokens, query strings and response bodies out of error messages', async () => {
    const secretBody = {
      detail: `Invalid token ${TOKEN} for maya@example.com`,
      code: 'authentication_failed',
    };
    const { client } = makeClient([json(401, secretBody)]);
    const error = await captureError(client.getJson('/api/persons/', { email: 'maya@example.com' }));
    expect(error.status).toBe(401);
    expect(error.retryable).toBe(false);
    expect(error.message).not.toContain(TOKEN);
    expect(error.message).not.toContain('maya@example.com');
    expect(error.message).not.toContain('Invalid token');
    expect(JSON.stringify(error)).not.toContain(TOKEN);
    expect(error.message).toContain('authentication_failed');
  });

  it('takes a 2xx with a body that is not JSON for a 502: retried, never returned as data', async () => {
    const { client, requests } = makeClient([
      new Response('<html>oops</html>', { status: 200, headers: { 'content-type': 'text/html' } }),
      new Response('{"cut":', { status: 200, headers: { 'content-type': 'application/json' } }),
      new Response('<html>oops</html>', { status: 200 }),
    ]);
    const error = await captureError(client.getJson('/x'));
    expect(requests).toHaveLength(3);
    expect(error).toMatchObject({ status: 502, retryable: true });
    expect(error.message).not.toContain('oops');
  });

  it('does not start an attempt or a wait the invocation has no time for', async () => {
    const { client, requests, sleeps } = makeClient([json(503, {}), json(200, { ok: 1 })], {
      baseDelayMs: 400,
    });
    const error = await runWithDeadline({ workUntil: Date.now() + 300, hardEnd: Date.now() + 600 }, () =>
      captureError(client.getJson('/x')),
    );
    expect(requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
    expect(error).toMatchObject({ status: 503, retryable: true });
    const late = await runWithDeadline({ workUntil: Date.now() + 50, hardEnd: Date.now() + 600 }, () =>
      captureError(client.getJson('/y')),
    );
    expect(late.message).toMatch(/out of time/);
    expect(requests).toHaveLength(1);
  });

  it('returns undefined for an empty 2xx body', async () => {
    const { client } = makeClient([new Response(null, { status: 204 })]);
    await expect(client.getJson('/x')).resolves.toBeUndefined();
  });
});
