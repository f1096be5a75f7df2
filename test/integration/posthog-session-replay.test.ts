import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createPostHogStandIn,
  POSTHOG_STAND_IN_API_KEY,
  POSTHOG_STAND_IN_PROJECT_ID,
} from '../../local/stand-ins/posthog-stand-in.js';
import {
  createPostHogHttpClient,
  PostHogSessionReplay,
  SESSION_EVENTS_HOGQL,
} from '../../shared/adapters/posthog/posthog-session-replay.js';
import { ServiceError } from '../../shared/domain/errors.js';
import { rankRecordings } from '../../shared/domain/recordings.js';
import { type ServedStandIn, serveStandIn } from '../support/serve-stand-in.js';

const APP_HOST = 'https://us.posthog.com';
const DAY = 86_400_000;

describe('PostHogSessionReplay against the PostHog stand-in', () => {
  const now = new Date();
  const standIn = createPostHogStandIn({ now: () => now });
  let served: ServedStandIn;
  let replay: PostHogSessionReplay;

  function adapter(options: { apiKey?: string; maxAttempts?: number } = {}): PostHogSessionReplay {
    const http = createPostHogHttpClient({
      apiHost: served.baseUrl,
      personalApiKey: options.apiKey ?? POSTHOG_STAND_IN_API_KEY,
      timeoutMs: 2_000,
      maxAttempts: options.maxAttempts ?? 3,
      baseDelayMs: 5,
    });
    return new PostHogSessionReplay(http, { projectId: POSTHOG_STAND_IN_PROJECT_ID, appHost: APP_HOST });
  }

  function callsSince(count: number) {
    return standIn.calls.slice(count);
  }

  beforeAll(async () => {
    served = await serveStandIn(standIn);
    expect(served.baseUrl).toMatch(/\/_sandbox\/posthog$/);
    replay = adapter();
  });

  afterAll(async () => {
    await served.close();
  });

  beforeEach(() => {
    standIn.setFault(null);
  });

  it('finds a person by e-mail, with their distinct ids', async () => {
    const person = await replay.findPersonByEmail('maya@example.com');
    expect(person).not.toBeNull();
    expect(person?.email).toBe('maya@example.com');
    expect(person?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(person?.distinctIds).toHaveLength(2);
    expect(person?.distinctIds).toContain('usr_maya_4821');
  });

  it('matches e-mail addresses whatever their case, through a bound HogQL value on a miss', async () => {
    const before = standIn.calls.length;
    const maya = await replay.findPersonByEmail('MAYA@Example.COM');
    expect(maya?.id).toBe((await replay.findPersonByEmail('maya@example.com'))?.id);
    const lookup = callsSince(before).slice(0, 2);
    expect(lookup.map((call) => `${call.method} ${call.path.split('?')[0]}`)).toEqual([
      'GET /api/projects/1/persons/',
      'POST /api/projects/1/query/',
    ]);
    const query = (
      lookup[1]?.body as { query?: { query: string; values: Record<string, string> } } | undefined
    )?.query;
    expect(query?.values).toEqual({ email: 'maya@example.com' });
    expect(query?.query).not.toContain('maya');

    // Stored with capitals by the product; reported in lower case.
    const sam = await replay.findPersonByEmail('sam.okoro@example.com');
    expect(sam).toMatchObject({ email: 'Sam.Okoro@Example.com' });
    const recordings = await replay.listRecordings({
      personId: sam!.id,
      dateFrom: new Date(now.getTime() - 14 * DAY),
      limit: 10,
    });
    expect(recordings).toHaveLength(1);
  });

  it('answers null for an e-mail PostHog does not know', async () => {
    await expect(replay.findPersonByEmail('nobody@example.com')).resolves.toBeNull();
    await expect(replay.findPersonByEmail('   ')).resolves.toBeNull();
  });

  it('lists recordings since date_from, including ones older than PostHog’s 3-day default', async () => {
    const priya = await replay.findPersonByEmail('priya@example.com');
    expect(priya).not.toBeNull();
    const before = standIn.calls.length;

    const lastTenDays = await replay.listRecordings({
      personId: priya!.id,
      dateFrom: new Date(now.getTime() - 10 * DAY),
      limit: 20,
    });
    expect(lastTenDays).toHaveLength(2);
    for (const recording of lastTenDays) {
      expect(now.getTime() - Date.parse(recording.startTime)).toBeGreaterThan(3 * DAY);
      expect(recording.replayUrl).toBe(
        `${APP_HOST}/project/${POSTHOG_STAND_IN_PROJECT_ID}/replay/${recording.id}`,
      );
    }
    const lastSixDays = await replay.listRecordings({
      personId: priya!.id,
      dateFrom: new Date(now.getTime() - 6 * DAY),
      limit: 20,
    });
    expect(lastSixDays).toHaveLength(1);
    expect(lastSixDays[0]?.consoleErrorCount).toBe(2);

    const [listCall] = callsSince(before);
    const query = new URL(listCall!.path, 'http://x').searchParams;
    expect(query.get('person_uuid')).toBe(priya!.id);
    expect(Date.parse(query.get('date_from') ?? '')).toBe(now.getTime() - 10 * DAY);
    expect(query.get('limit')).toBe('20');

    // The same person without date_from: PostHog (and the stand-in) look back only 3 days.
    const bare = await fetch(
      `${served.baseUrl}/api/projects/1/session_recordings/?person_uuid=${priya!.id}`,
      {
        headers: { authorization: `Bearer ${POSTHOG_STAND_IN_API_KEY}` },
      },
    );
    expect(bare.status).toBe(200);
    expect(((await bare.json()) as { results: unknown[] }).results).toEqual([]);
  });

  it('maps every recording field and ranks the erroring recent session first', async () => {
    const maya = await replay.findPersonByEmail('maya@example.com');
    const recordings = await replay.listRecordings({
      personId: maya!.id,
      dateFrom: new Date(now.getTime() - 14 * DAY),
      limit: 10,
    });
    expect(recordings).toHaveLength(4);
    const top = rankRecordings(recordings, now)[0]!;
    expect(top.consoleErrorCount).toBe(3);
    expect(top.durationSeconds).toBe(252);
    expect(top.activeSeconds).toBe(181);
    expect(top.startUrl).toBe('https://app.example.com/cart');
    expect(top.clickCount).toBeGreaterThan(0);
    expect(top.keypressCount).toBeGreaterThan(0);
    expect(top.distinctId).toBe('usr_maya_4821');
    expect(Date.parse(top.endTime!) - Date.parse(top.startTime)).toBe(252_000);
  });

  it('gets a single recording, and null for one that does not exist or cannot be an id', async () => {
    const devon = await replay.findPersonByEmail('devon@example.com');
    const [listed] = await replay.listRecordings({
      personId: devon!.id,
      dateFrom: new Date(now.getTime() - DAY),
      limit: 1,
    });
    expect(listed).toBeDefined();

    const recording = await replay.getRecording(listed!.id);
    expect(recording).toEqual(listed);

    await expect(replay.getRecording('0190a1b2-0000-7000-8000-000000000000')).resolves.toBeNull();
    const before = standIn.calls.length;
    await expect(replay.getRecording('../persons')).resolves.toBeNull();
    expect(standIn.calls.length).toBe(before);
  });

  it('reads exceptions, rage clicks and pages of a session through HogQL with the id bound as a value', async () => {
    const maya = await replay.findPersonByEmail('maya@example.com');
    const recordings = await replay.listRecordings({
      personId: maya!.id,
      dateFrom: new Date(now.getTime() - DAY),
      limit: 5,
    });
    const sessionId = recordings[0]!.id;
    const before = standIn.calls.length;

    const insights = await replay.getSessionInsights(sessionId);

    expect(insights.sessionId).toBe(sessionId);
    expect(insights.exceptions).toHaveLength(3);
    for (const exception of insights.exceptions) {
      // Two come from $exception_list, one from the legacy $exception_type/$exception_message.
      expect(exception.type).toBe('TypeError');
      expect(exception.message).toBe("Cannot read properties of undefined (reading 'map')");
      expect(exception.url).toBe('https://app.example.com/checkout/payment');
      expect(Date.parse(exception.timestamp)).not.toBeNaN();
    }
    expect(insights.rageClicks).toHaveLength(2);
    expect(insights.rageClicks[0]).toMatchObject({
      element: 'Place order',
      url: 'https://app.example.com/checkout/payment',
    });
    // Consecutive reloads of one page count once.
    expect(insights.pagesVisited).toEqual([
      'https://app.example.com/cart',
      'https://app.example.com/checkout',
      'https://app.example.com/checkout/payment',
    ]);

    const [queryCall] = callsSince(before);
    expect(queryCall?.method).toBe('POST');
    expect(queryCall?.path).toBe('/api/projects/1/query/');
    const sent = queryCall?.body as {
      query: { kind: string; query: string; values: Record<string, string> };
    };
    expect(sent.query.kind).toBe('HogQLQuery');
    expect(sent.query.values).toEqual({ session_id: sessionId });
    expect(sent.query.query).toBe(SESSION_EVENTS_HOGQL);
    expect(sent.query.query).not.toContain(sessionId);
  });

  it('gives empty insights for a session without events, and sends no query for an impossible id', async () => {
    const quiet = await replay.getSessionInsights('0190a1b2-0000-7000-8000-000000000000');
    expect(quiet).toEqual({
      sessionId: '0190a1b2-0000-7000-8000-000000000000',
      exceptions: [],
      rageClicks: [],
      pagesVisited: [],
    });
    const before = standIn.calls.length;
    const hostile = "x' OR 1=1 --";
    await expect(replay.getSessionInsights(hostile)).resolves.toMatchObject({
      exceptions: [],
      pagesVisited: [],
    });
    expect(standIn.calls.length).toBe(before);
  });

  it('refuses a HogQL query that splices the id into its text (the stand-in only takes bound values)', async () => {
    const response = await fetch(`${served.baseUrl}/api/projects/1/query/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${POSTHOG_STAND_IN_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        query: { kind: 'HogQLQuery', query: "SELECT event FROM events WHERE $session_id = 'abc'" },
      }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ type: 'validation_error' });
  });

  it('retries a failing PostHog and then raises a retryable ServiceError', async () => {
    standIn.setFault({ failRate: 1, status: 503, latencyMs: 0 });
    const before = standIn.calls.length;
    const error = await replay.findPersonByEmail('maya@example.com').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).status).toBe(503);
    expect((error as ServiceError).retryable).toBe(true);
    expect((error as ServiceError).service).toBe('posthog');
    expect(callsSince(before)).toHaveLength(3);
    expect(callsSince(before).every((call) => call.status === 503)).toBe(true);
  });

  it('takes a 200 with an HTML page or a cut-off body for a failure, and retries it', async () => {
    standIn.setFault({ failRate: 0, status: 200, latencyMs: 0, body: 'html', failNext: 1 });
    await expect(replay.findPersonByEmail('devon@example.com')).resolves.toMatchObject({
      email: 'devon@example.com',
    });
    standIn.setFault({ failRate: 1, status: 200, latencyMs: 0, body: 'truncated' });
    const error = await replay.findPersonByEmail('devon@example.com').catch((caught: unknown) => caught);
    expect(error).toMatchObject({ service: 'posthog', status: 502, retryable: true });
    expect((error as Error).message).toMatch(/not JSON/);
  });

  it('recovers when PostHog fails twice and then behaves', async () => {
    standIn.setFault({ failRate: 0, status: 502, latencyMs: 0, failNext: 2 });
    const before = standIn.calls.length;
    await expect(replay.findPersonByEmail('devon@example.com')).resolves.toMatchObject({
      email: 'devon@example.com',
    });
    expect(callsSince(before).map((call) => call.status)).toEqual([502, 502, 200]);
  });

  it('answers 401 without a valid key, once, as a non-retryable ServiceError without the key in it', async () => {
    const wrongKey = 'phx_wrong_key_do_not_log';
    const before = standIn.calls.length;
    const error = await adapter({ apiKey: wrongKey })
      .findPersonByEmail('maya@example.com')
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).status).toBe(401);
    expect((error as ServiceError).retryable).toBe(false);
    expect((error as ServiceError).message).not.toContain(wrongKey);
    expect(callsSince(before)).toHaveLength(1);

    const missing = await fetch(`${served.baseUrl}/api/projects/1/persons/?email=maya%40example.com`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ code: 'not_authenticated' });
  });

  it('summarizes what it holds for /_local/state', () => {
    expect(standIn.snapshot()).toMatchObject({ persons: 4, recordings: 10 });
    expect(standIn.service).toBe('posthog');
  });
});
