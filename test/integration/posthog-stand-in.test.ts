import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPostHogStandIn, POSTHOG_STAND_IN_API_KEY } from '../../local/stand-ins/posthog-stand-in.js';
import { type ServedStandIn, serveStandIn } from '../support/serve-stand-in.js';

const DAY = 86_400_000;
const now = new Date();
const standIn = createPostHogStandIn({ now: () => now });
let served: ServedStandIn;
let baseUrl: string;

async function get(path: string, key: string | null = POSTHOG_STAND_IN_API_KEY) {
  const response = await fetch(
    `${baseUrl}${path}`,
    key ? { headers: { authorization: `Bearer ${key}` } } : {},
  );
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

function startTimes(body: Record<string, unknown>): number[] {
  return (body.results as Array<{ start_time: string }>).map((recording) => Date.parse(recording.start_time));
}

beforeAll(async () => {
  // Mounted at the root here; the adapter suite covers the `/_sandbox/posthog` prefix.
  served = await serveStandIn(standIn, '/');
  baseUrl = served.origin;
});

afterAll(async () => {
  await served.close();
});

beforeEach(() => {
  standIn.setFault(null);
});

describe('PostHog stand-in wire behaviour', () => {
  it('defaults the recordings list to the last 3 days, newest first, like PostHog', async () => {
    const { status, body } = await get('/api/projects/1/session_recordings/');
    expect(status).toBe(200);
    const times = startTimes(body);
    expect(times.length).toBeGreaterThan(0);
    expect(times.every((time) => now.getTime() - time <= 3 * DAY)).toBe(true);
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(body.has_next).toBe(false);
  });

  it('honours relative and absolute date_from/date_to, and pages with limit/offset', async () => {
    const all = await get('/api/projects/1/session_recordings?date_from=-10d');
    expect(startTimes(all.body)).toHaveLength(10);

    const window = await get(
      `/api/projects/1/session_recordings?date_from=-7d&date_to=${encodeURIComponent(new Date(now.getTime() - 3 * DAY).toISOString())}`,
    );
    const windowTimes = startTimes(window.body);
    expect(windowTimes.length).toBeGreaterThan(0);
    expect(
      windowTimes.every((time) => time <= now.getTime() - 3 * DAY && time >= now.getTime() - 7 * DAY),
    ).toBe(true);

    const page = await get('/api/projects/1/session_recordings?date_from=all&limit=4&offset=4');
    expect(startTimes(page.body)).toEqual(startTimes(all.body).slice(4, 8));
    expect(page.body.has_next).toBe(true);

    const invalid = await get('/api/projects/1/session_recordings?date_from=yesterday-ish');
    expect(invalid.status).toBe(400);
  });

  it('speaks PostHog errors: 404 for other projects and unknown paths, 405, throttling with retry-after', async () => {
    expect((await get('/api/projects/2/persons/')).status).toBe(404);
    expect((await get('/api/projects/1/feature_flags/')).body).toMatchObject({ code: 'not_found' });
    const post = await fetch(`${baseUrl}/api/projects/1/persons/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${POSTHOG_STAND_IN_API_KEY}` },
    });
    expect(post.status).toBe(405);

    standIn.setFault({ failRate: 1, status: 429, latencyMs: 0 });
    const throttled = await get('/api/projects/1/persons/');
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('1');
    expect(throttled.body).toMatchObject({ type: 'throttled_error' });
  });

  it('tells a missing key from a wrong one', async () => {
    expect((await get('/api/projects/1/persons/', null)).body).toMatchObject({ code: 'not_authenticated' });
    expect((await get('/api/projects/1/persons/', 'phx_nope')).body).toMatchObject({
      code: 'authentication_failed',
    });
  });

  it('records calls with their status', async () => {
    const before = standIn.calls.length;
    await get('/api/environments/1/persons/?distinct_id=usr_devon_1177');
    const call = standIn.calls[before];
    expect(call).toMatchObject({
      method: 'GET',
      path: '/api/environments/1/persons/?distinct_id=usr_devon_1177',
      status: 200,
    });
  });
});
