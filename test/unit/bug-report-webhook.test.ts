import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  type BugReportWebhookDeps,
  type BugReportWebhookHandler,
  createBugReportWebhookHandler,
  type WebhookLogger,
} from '../../lambdas/bug-report-webhook/handler.js';
import { ServiceError } from '../../shared/domain/errors.js';
import type { HttpResult } from '../../shared/http/api-gateway.js';
import {
  JOBS_QUEUE_MAX_MESSAGE_BYTES,
  jobMessageBytes,
  MAX_JOB_MESSAGE_BYTES,
  toJobMessage,
} from '../../shared/jobs/job-message.js';
import { type BugReportJob, type Job, jobSchema } from '../../shared/jobs/job-schemas.js';
import type { JobQueue, SendJobOptions } from '../../shared/ports/job-queue.js';
import {
  prepareWebhookCredentials,
  type WebhookSecrets,
} from '../../shared/webhooks/authenticate-webhook.js';
import { MAX_WEBHOOK_BODY_BYTES } from '../../shared/webhooks/read-webhook-body.js';
import {
  makeBearerWebhookEvent,
  makeBugReport,
  makeHttpEvent,
  makeSignedWebhookEvent,
  makeSupabaseEnvelope,
  makeSupabaseRow,
  makeWebhookSecret,
} from '../factories/bug-reports.js';

const SECRET = makeWebhookSecret();
const OTHER_SECRET = makeWebhookSecret();
const BEARER = 'bearer-token-for-tests-0123456789';
const NOW = new Date('2025-05-01T12:00:00.000Z');

class RecordingJobQueue implements JobQueue {
  readonly jobs: Job[] = [];
  failure: Error | undefined;
  /** Failures for the next sends, in order, before `failure` applies; `hang` never answers. */
  readonly upcoming: (Error | 'hang')[] = [];
  attempts = 0;
  readonly signals: AbortSignal[] = [];

  async send(job: Job, options: SendJobOptions = {}): Promise<void> {
    this.attempts += 1;
    if (options.signal) this.signals.push(options.signal);
    const next = this.upcoming.shift();
    if (next === 'hang') return new Promise<void>(() => undefined);
    if (next) throw next;
    if (this.failure) throw this.failure;
    this.jobs.push(structuredClone(job));
  }
}

interface Harness {
  handle: BugReportWebhookHandler;
  queue: RecordingJobQueue;
  logs: string[];
  /** Every response and log line so far, for "no secret leaks" checks. */
  transcript: string[];
  send(event: APIGatewayProxyEventV2): Promise<HttpResult>;
}

function createHarness(
  secrets: WebhookSecrets = { webhookSecret: SECRET, bearerToken: BEARER },
  options: Pick<BugReportWebhookDeps, 'budgetMs' | 'maxMessageBytes' | 'sendPolicy'> = {},
): Harness {
  const queue = new RecordingJobQueue();
  const logs: string[] = [];
  const transcript: string[] = [];
  const record =
    (level: string) =>
    (message: string, attributes?: Record<string, unknown>): void => {
      const line = JSON.stringify({ level, message, ...attributes });
      logs.push(line);
      transcript.push(line);
    };
  const logger: WebhookLogger = { info: record('info'), warn: record('warn'), error: record('error') };
  const credentials = prepareWebhookCredentials(secrets);
  const handle = createBugReportWebhookHandler({
    jobQueue: queue,
    credentials: () => Promise.resolve(credentials),
    logger,
    now: () => NOW,
    ...options,
  });
  return {
    handle,
    queue,
    logs,
    transcript,
    async send(event) {
      const result = await handle(event);
      transcript.push(JSON.stringify(result));
      return result;
    },
  };
}

function json(result: HttpResult): Record<string, unknown> {
  expect(result.headers['content-type']).toBe('application/json');
  return JSON.parse(result.body) as Record<string, unknown>;
}

function onlyJob(queue: RecordingJobQueue): BugReportJob {
  expect(queue.jobs).toHaveLength(1);
  const parsed = jobSchema.parse(queue.jobs[0]);
  if (parsed.kind !== 'bug.report') throw new Error(`unexpected job kind ${parsed.kind}`);
  return parsed;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

describe('bug-report webhook: accepted deliveries', () => {
  it('queues exactly one valid bug.report job and answers 202 with its bugId', async () => {
    const harness = createHarness();
    const report = makeBugReport();
    const { event, msgId } = makeSignedWebhookEvent({ secret: SECRET, body: report });

    const result = await harness.send(event);

    expect(result.statusCode).toBe(202);
    const body = json(result);
    expect(Object.keys(body)).toEqual(['bugId']);
    expect(body.bugId).toMatch(/^bug_[a-z2-7]{20}$/);
    const job = onlyJob(harness.queue);
    expect(job).toMatchObject({
      v: 1,
      kind: 'bug.report',
      bugId: body.bugId,
      idempotencyKey: `webhook:${msgId}`,
      receivedAt: NOW.toISOString(),
    });
    expect(job.report).toEqual(report);
  });

  it('gives a retry of the same delivery (same webhook-id, new timestamp) the same bugId', async () => {
    const harness = createHarness();
    const report = makeBugReport();
    const first = makeSignedWebhookEvent({ secret: SECRET, body: report, msgId: 'msg_retry_1' });
    const retry = makeSignedWebhookEvent({
      secret: SECRET,
      body: report,
      msgId: 'msg_retry_1',
      timestamp: new Date(Date.now() + 90_000),
    });
    const other = makeSignedWebhookEvent({ secret: SECRET, body: report, msgId: 'msg_retry_2' });
    expect(retry.event.headers['webhook-signature']).not.toBe(first.event.headers['webhook-signature']);

    const ids = [];
    for (const { event } of [first, retry, other]) ids.push(json(await harness.send(event)).bugId);

    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).not.toBe(ids[0]);
    expect(harness.queue.jobs.map((job) => job.idempotencyKey)).toEqual([
      'webhook:msg_retry_1',
      'webhook:msg_retry_1',
      'webhook:msg_retry_2',
    ]);
  });

  it('decodes a base64-encoded body to the signed bytes', async () => {
    const harness = createHarness();
    const report = makeBugReport({ description: 'Ünïcødé — emoji 🐛 and "quotes"' });
    const { event } = makeSignedWebhookEvent({ secret: SECRET, body: report, base64: true });
    expect(event.isBase64Encoded).toBe(true);

    const result = await harness.send(event);

    expect(result.statusCode).toBe(202);
    expect(onlyJob(harness.queue).report.description).toBe('Ünïcødé — emoji 🐛 and "quotes"');
  });

  it('keeps unknown fields as data', async () => {
    const harness = createHarness();
    const report = makeBugReport({ build_channel: 'beta', extra: { nested: [1, 2] } });
    const result = await harness.send(makeSignedWebhookEvent({ secret: SECRET, body: report }).event);

    expect(result.statusCode).toBe(202);
    expect(onlyJob(harness.queue).report).toMatchObject({ build_channel: 'beta', extra: { nested: [1, 2] } });
  });

  it('accepts a report with only a description', async () => {
    const harness = createHarness();
    const result = await harness.send(
      makeSignedWebhookEvent({ secret: SECRET, body: { description: 'it broke' } }).event,
    );
    expect(result.statusCode).toBe(202);
    expect(onlyJob(harness.queue).report).toEqual({ description: 'it broke' });
  });

  it('unwraps a Supabase INSERT envelope to its record', async () => {
    const harness = createHarness();
    const report = makeBugReport();
    const result = await harness.send(
      makeSignedWebhookEvent({ secret: SECRET, body: makeSupabaseEnvelope(report, 'INSERT') }).event,
    );

    expect(result.statusCode).toBe(202);
    const job = onlyJob(harness.queue);
    expect(job.report).toEqual(report);
    expect(job.report).not.toHaveProperty('old_record');
    expect(job.report).not.toHaveProperty('table');
  });

  it('treats a report that merely has its own `type` field as a report', async () => {
    const harness = createHarness();
    const report = makeBugReport({ type: 'crash' });
    const result = await harness.send(makeSignedWebhookEvent({ secret: SECRET, body: report }).event);
    expect(result.statusCode).toBe(202);
    expect(onlyJob(harness.queue).report).toMatchObject({ type: 'crash' });
  });

  it('hashes a webhook-id too long for an idempotency key instead of failing the job later', async () => {
    const harness = createHarness();
    const msgId = `msg_${'x'.repeat(300)}`;
    const result = await harness.send(
      makeSignedWebhookEvent({ secret: SECRET, body: makeBugReport(), msgId }).event,
    );

    expect(result.statusCode).toBe(202);
    expect(onlyJob(harness.queue).idempotencyKey).toBe(`webhook:sha256:${sha256Hex(msgId)}`);
  });

  it('reads headers whatever their case', async () => {
    const harness = createHarness();
    const { event } = makeSignedWebhookEvent({ secret: SECRET, body: makeBugReport() });
    event.headers = Object.fromEntries(
      Object.entries(event.headers).map(([name, value]) => [
        name.replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase()),
        value,
      ]),
    );
    expect(event.headers).toHaveProperty('Webhook-Signature');
    expect((await harness.send(event)).statusCode).toBe(202);
  });
});

describe('bug-report webhook: Supabase database webhook rows', () => {
  it('accepts a whole row: nulls, a numeric identity id, a uuid user, jsonb and the team’s own columns', async () => {
    const harness = createHarness();
    const row = makeSupabaseRow();
    const result = await harness.send(
      makeBearerWebhookEvent({ token: BEARER, body: makeSupabaseEnvelope(row) }),
    );

    expect(result.statusCode).toBe(202);
    const job = onlyJob(harness.queue);
    expect(job.report).toEqual({
      id: '4821',
      created_at: '2025-05-01T12:00:00.123456+00:00',
      description: 'The Pay button spins forever on the checkout page.',
      user_id: '8a1f2b3c-4d5e-4f60-9a7b-1c2d3e4f5a6b',
      user_email: 'reporter@example.com',
      app_version: '3.14.1',
      device_info: row.device_info,
      url: 'https://app.example.com/checkout',
      // Extra columns are kept as they came, nulls included; known ones that were null are absent.
      updated_at: null,
      status: 'open',
      severity_hint: null,
      tags: ['checkout', 'android'],
      metadata: { source: 'in-app', build: 412 },
      org_id: 77,
    });
    for (const known of ['console_logs', 'posthog_session_id', 'screenshot_url']) {
      expect(job.report).not.toHaveProperty(known);
    }
    // What the processor reads back from the queue parses to the same job.
    expect(jobSchema.parse(JSON.parse(JSON.stringify(job)))).toEqual(job);
  });

  it('accepts a row where every column but the description is null', async () => {
    const harness = createHarness();
    const row: Record<string, unknown> = Object.fromEntries(
      Object.keys(makeSupabaseRow()).map((key) => [key, null]),
    );
    row.description = 'Crash on launch';
    const result = await harness.send(
      makeBearerWebhookEvent({ token: BEARER, body: makeSupabaseEnvelope(row) }),
    );

    expect(result.statusCode).toBe(202);
    const report = onlyJob(harness.queue).report;
    expect(report.description).toBe('Crash on launch');
    for (const known of [
      'id',
      'user_id',
      'user_email',
      'app_version',
      'created_at',
      'device_info',
      'console_logs',
      'url',
      'posthog_session_id',
      'screenshot_url',
    ]) {
      expect(report).not.toHaveProperty(known);
    }
  });

  it.each([
    [
      'a uuid id',
      { id: '0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' },
      { id: '0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b' },
    ],
    ['a bigint user id', { user_id: 17 }, { user_id: '17' }],
    ['a numeric app version', { app_version: 3.2 }, { app_version: '3.2' }],
    ['an empty e-mail column', { user_email: '' }, {}],
  ])('accepts %s', async (_, overrides: Record<string, unknown>, expected: Record<string, unknown>) => {
    const harness = createHarness();
    const row = makeSupabaseRow(overrides);
    const result = await harness.send(
      makeBearerWebhookEvent({ token: BEARER, body: makeSupabaseEnvelope(row) }),
    );
    expect(result.statusCode).toBe(202);
    const report = onlyJob(harness.queue).report;
    expect(report).toMatchObject(expected);
    for (const key of Object.keys(overrides)) if (!(key in expected)) expect(report).not.toHaveProperty(key);
  });

  it('does not refuse a report for being long: 60 KB of description and 600 KB of logs go to the queue', async () => {
    const harness = createHarness();
    const row = makeSupabaseRow({
      description: `Checkout breaks. ${'details '.repeat(7_500)}`,
      console_logs: 'log line\n'.repeat(66_000),
    });
    const result = await harness.send(
      makeBearerWebhookEvent({ token: BEARER, body: makeSupabaseEnvelope(row) }),
    );
    expect(result.statusCode).toBe(202);
    expect(onlyJob(harness.queue).report.console_logs).toHaveLength(String(row.console_logs).length);
  });

  it.each([
    ['UPDATE', () => makeSupabaseEnvelope(makeSupabaseRow({ status: 'closed' }), 'UPDATE')],
    ['DELETE', () => ({ ...makeSupabaseEnvelope(null, 'DELETE'), old_record: makeSupabaseRow() })],
    ['a type bugbot does not know', () => ({ ...makeSupabaseEnvelope(makeSupabaseRow()), type: 'TRUNCATE' })],
  ])('answers 202 to %s and queues nothing', async (_, envelope) => {
    const harness = createHarness();
    const result = await harness.send(makeBearerWebhookEvent({ token: BEARER, body: envelope() }));
    expect(result.statusCode).toBe(202);
    expect(json(result)).toMatchObject({ ignored: true });
    expect(harness.queue.jobs).toEqual([]);
    expect(harness.logs.some((line) => line.includes('not a new report'))).toBe(true);
  });

  it('still authenticates an event it will ignore', async () => {
    const harness = createHarness();
    const result = await harness.send(
      makeBearerWebhookEvent({
        token: `${BEARER}x`,
        body: makeSupabaseEnvelope(makeSupabaseRow(), 'UPDATE'),
      }),
    );
    expect(result.statusCode).toBe(401);
  });

  it('refuses an INSERT whose description column is null, naming it as missing', async () => {
    const harness = createHarness();
    const result = await harness.send(
      makeBearerWebhookEvent({
        token: BEARER,
        body: makeSupabaseEnvelope(makeSupabaseRow({ description: null })),
      }),
    );
    expect(result.statusCode).toBe(422);
    expect(json(result).fields).toEqual([{ path: 'record.description', message: 'is required' }]);
    expect(harness.queue.jobs).toEqual([]);
  });
});

describe('bug-report webhook: bearer mode (Supabase database webhooks)', () => {
  it('accepts the configured bearer token and keys the delivery by the body hash', async () => {
    const harness = createHarness();
    const envelope = makeSupabaseEnvelope(makeBugReport());
    const event = makeBearerWebhookEvent({ token: BEARER, body: envelope });

    const result = await harness.send(event);

    expect(result.statusCode).toBe(202);
    const job = onlyJob(harness.queue);
    expect(job.idempotencyKey).toBe(`webhook-body:${sha256Hex(event.body ?? '')}`);
    expect(json(result).bugId).toBe(job.bugId);
  });

  it('gives a resent identical body the same bugId and a different body another', async () => {
    const harness = createHarness();
    const report = makeBugReport();
    const a = json(await harness.send(makeBearerWebhookEvent({ token: BEARER, body: report }))).bugId;
    const again = json(await harness.send(makeBearerWebhookEvent({ token: BEARER, body: report }))).bugId;
    const other = json(
      await harness.send(
        makeBearerWebhookEvent({ token: BEARER, body: { ...report, description: 'other' } }),
      ),
    ).bugId;
    expect(again).toBe(a);
    expect(other).not.toBe(a);
  });

  it('accepts bearer-only deployments (no signing secret)', async () => {
    const harness = createHarness({ bearerToken: BEARER });
    const result = await harness.send(makeBearerWebhookEvent({ token: BEARER, body: makeBugReport() }));
    expect(result.statusCode).toBe(202);
  });

  it('accepts a lower-case scheme', async () => {
    const harness = createHarness();
    const event = makeHttpEvent({
      body: JSON.stringify(makeBugReport()),
      headers: { authorization: `bearer ${BEARER}` },
    });
    expect((await harness.send(event)).statusCode).toBe(202);
  });
});

interface Refusal {
  name: string;
  secrets?: WebhookSecrets;
  event: () => APIGatewayProxyEventV2;
  status: number;
  /** Extra checks on the parsed response body. */
  body?: (body: Record<string, unknown>) => void;
}

const signed = (body: unknown, init: Partial<Parameters<typeof makeSignedWebhookEvent>[0]> = {}) =>
  makeSignedWebhookEvent({ secret: SECRET, body, ...init }).event;

function expectFields(...paths: string[]) {
  return (body: Record<string, unknown>) => {
    expect(body.error).toBe('invalid bug report');
    const fields = body.fields as { path: string; message: string }[];
    expect(fields.map((field) => field.path)).toEqual(paths);
    for (const field of fields) expect(field.message).toEqual(expect.any(String));
  };
}

const refusals: Refusal[] = [
  // --- authentication -----------------------------------------------------------------------
  {
    name: 'no credentials at all',
    event: () => makeHttpEvent({ body: JSON.stringify(makeBugReport()) }),
    status: 401,
  },
  {
    name: 'signature header missing',
    event: () => {
      const event = signed(makeBugReport());
      delete event.headers['webhook-signature'];
      return event;
    },
    status: 401,
  },
  {
    name: 'webhook-id missing',
    event: () => {
      const event = signed(makeBugReport());
      delete event.headers['webhook-id'];
      return event;
    },
    status: 401,
  },
  {
    name: 'timestamp missing',
    event: () => {
      const event = signed(makeBugReport());
      delete event.headers['webhook-timestamp'];
      return event;
    },
    status: 401,
  },
  {
    name: 'garbage signature',
    event: () => signed(makeBugReport(), { headers: { 'webhook-signature': 'v1,Zm9vYmFy' } }),
    status: 401,
  },
  {
    name: 'signed with another secret',
    event: () => makeSignedWebhookEvent({ secret: OTHER_SECRET, body: makeBugReport() }).event,
    status: 401,
  },
  {
    name: 'stale timestamp (6 minutes old)',
    event: () => signed(makeBugReport(), { timestamp: new Date(Date.now() - 6 * 60_000) }),
    status: 401,
  },
  {
    name: 'timestamp 6 minutes in the future',
    event: () => signed(makeBugReport(), { timestamp: new Date(Date.now() + 6 * 60_000) }),
    status: 401,
  },
  {
    name: 'non-numeric timestamp',
    event: () => signed(makeBugReport(), { headers: { 'webhook-timestamp': 'yesterday' } }),
    status: 401,
  },
  {
    name: 'tampered body',
    event: () => {
      const event = signed(makeBugReport({ description: 'original' }));
      event.body = (event.body ?? '').replace('original', 'tampered');
      return event;
    },
    status: 401,
  },
  {
    name: 'webhook-id changed after signing',
    event: () => signed(makeBugReport(), { headers: { 'webhook-id': 'msg_other' } }),
    status: 401,
  },
  {
    name: 'valid signature with an unknown version tag only',
    event: () => {
      const event = signed(makeBugReport());
      event.headers['webhook-signature'] = (event.headers['webhook-signature'] ?? '').replace('v1,', 'v2,');
      return event;
    },
    status: 401,
  },
  {
    name: 'signed delivery when only a bearer token is configured',
    secrets: { bearerToken: BEARER },
    event: () => signed(makeBugReport()),
    status: 401,
  },
  {
    name: 'bad signature does not fall back to a valid bearer token',
    event: () =>
      signed(makeBugReport(), {
        headers: { 'webhook-signature': 'v1,Zm9vYmFy', authorization: `Bearer ${BEARER}` },
      }),
    status: 401,
  },
  {
    name: 'wrong bearer token',
    event: () => makeBearerWebhookEvent({ token: `${BEARER}x`, body: makeBugReport() }),
    status: 401,
  },
  {
    name: 'bearer token prefix only',
    event: () => makeBearerWebhookEvent({ token: BEARER.slice(0, 10), body: makeBugReport() }),
    status: 401,
  },
  {
    name: 'bearer token sent with another scheme',
    event: () =>
      makeHttpEvent({ body: JSON.stringify(makeBugReport()), headers: { authorization: `Basic ${BEARER}` } }),
    status: 401,
  },
  {
    name: 'empty bearer token',
    event: () =>
      makeHttpEvent({ body: JSON.stringify(makeBugReport()), headers: { authorization: 'Bearer ' } }),
    status: 401,
  },
  {
    name: 'bearer token when no bearer token is configured',
    secrets: { webhookSecret: SECRET },
    event: () => makeBearerWebhookEvent({ token: BEARER, body: makeBugReport() }),
    status: 401,
  },
  // --- body shape ---------------------------------------------------------------------------
  { name: 'signed non-JSON', event: () => signed('description=it+broke'), status: 400 },
  { name: 'signed truncated JSON', event: () => signed('{"description": "it bro'), status: 400 },
  { name: 'signed empty body', event: () => signed(''), status: 400 },
  { name: 'JSON array', event: () => signed([makeBugReport()]), status: 400 },
  { name: 'JSON string', event: () => signed('"a bug"'), status: 400 },
  { name: 'JSON null', event: () => signed('null'), status: 400 },
  {
    name: 'bearer-authenticated non-JSON',
    event: () => makeBearerWebhookEvent({ token: BEARER, body: 'not json' }),
    status: 400,
  },
  // --- validation ---------------------------------------------------------------------------
  {
    name: 'missing description',
    event: () => signed(makeBugReport({ description: undefined })),
    status: 422,
    body: (body) => {
      expectFields('description')(body);
      expect(body.fields).toEqual([{ path: 'description', message: 'is required' }]);
    },
  },
  {
    name: 'blank description',
    event: () => signed(makeBugReport({ description: '   ' })),
    status: 422,
    body: expectFields('description'),
  },
  {
    name: 'description of the wrong type',
    event: () => signed(makeBugReport({ description: 42 })),
    status: 422,
    body: expectFields('description'),
  },
  {
    name: 'user_email of the wrong type',
    event: () => signed(makeBugReport({ user_email: 5 })),
    status: 422,
    body: expectFields('user_email'),
  },
  {
    name: 'invalid user_email',
    event: () => signed(makeBugReport({ user_email: 'not-an-email' })),
    status: 422,
    body: expectFields('user_email'),
  },
  {
    name: 'several bad fields, all named',
    event: () =>
      signed(makeBugReport({ description: undefined, device_info: 'iPhone', console_logs: ['a'] })),
    status: 422,
    body: expectFields('description', 'device_info', 'console_logs'),
  },
  {
    name: 'envelope record missing its description',
    event: () => signed(makeSupabaseEnvelope(makeBugReport({ description: undefined }))),
    status: 422,
    body: expectFields('record.description'),
  },
  {
    name: 'envelope without a record',
    event: () => signed({ type: 'INSERT', table: 'bug_reports', schema: 'public', old_record: null }),
    status: 422,
    body: expectFields('record'),
  },
  {
    name: 'envelope with a record but no event type',
    event: () =>
      signed({ table: 'bug_reports', schema: 'public', record: makeBugReport(), old_record: null }),
    status: 422,
    body: expectFields('type'),
  },
  {
    name: 'envelope whose record is not an object',
    event: () => signed(makeSupabaseEnvelope(null)),
    status: 422,
    body: expectFields('record'),
  },
  // --- size ---------------------------------------------------------------------------------
  {
    name: 'body over 1 MiB, even unauthenticated',
    event: () => makeHttpEvent({ body: 'x'.repeat(MAX_WEBHOOK_BODY_BYTES + 1) }),
    status: 413,
  },
  {
    name: 'signed body over 1 MiB',
    event: () => signed(makeBugReport({ console_logs: 'y'.repeat(MAX_WEBHOOK_BODY_BYTES) })),
    status: 413,
  },
  {
    name: 'base64 body whose decoded bytes exceed 1 MiB',
    event: () => makeHttpEvent({ body: 'z'.repeat(MAX_WEBHOOK_BODY_BYTES + 1), base64: true }),
    status: 413,
  },
  {
    name: 'multi-byte text over 1 MiB in bytes but not in characters',
    event: () => makeHttpEvent({ body: 'é'.repeat(MAX_WEBHOOK_BODY_BYTES / 2 + 1) }),
    status: 413,
  },
];

describe('bug-report webhook: refusals queue nothing', () => {
  it.each(refusals)('$name → $status', async ({ secrets, event, status, body }) => {
    const harness = createHarness(secrets);

    const result = await harness.send(event());

    expect(result.statusCode).toBe(status);
    const parsed = json(result);
    expect(parsed.error).toEqual(expect.any(String));
    body?.(parsed);
    expect(harness.queue.jobs).toEqual([]);
    const transcript = harness.transcript.join('\n');
    expect(transcript).not.toContain(BEARER);
    expect(transcript).not.toContain(SECRET.slice('whsec_'.length));
  });

  it('checks the size before authenticating: exactly 1 MiB gets as far as the signature check', async () => {
    const harness = createHarness();
    const atLimit = await harness.send(makeHttpEvent({ body: 'x'.repeat(MAX_WEBHOOK_BODY_BYTES) }));
    const overLimit = await harness.send(makeHttpEvent({ body: 'x'.repeat(MAX_WEBHOOK_BODY_BYTES + 1) }));
    expect(atLimit.statusCode).toBe(401);
    expect(overLimit.statusCode).toBe(413);
  });

  it('sizes a base64 body by its decoded bytes, not its encoded length', async () => {
    const harness = createHarness();
    // ~1.33 MiB of base64 text that decodes to under 1 MiB.
    const decoded = 'a'.repeat(MAX_WEBHOOK_BODY_BYTES - 10);
    const result = await harness.send(makeHttpEvent({ body: decoded, base64: true }));
    expect(Buffer.byteLength(Buffer.from(decoded).toString('base64'))).toBeGreaterThan(
      MAX_WEBHOOK_BODY_BYTES,
    );
    expect(result.statusCode).toBe(401);
  });

  it('logs why a delivery was refused without logging credentials', async () => {
    const harness = createHarness();
    await harness.send(signed(makeBugReport(), { timestamp: new Date(Date.now() - 10 * 60_000) }));
    await harness.send(makeBearerWebhookEvent({ token: 'wrong-token-wrong-token', body: makeBugReport() }));
    expect(harness.logs.map((line) => JSON.parse(line).reason)).toEqual(['stale-timestamp', 'bad-bearer']);
    expect(harness.logs.join('\n')).not.toContain('wrong-token-wrong-token');
  });
});

describe('bug-report webhook: failures behind the ingress', () => {
  const retryable = () => new ServiceError('sqs', 'enqueue the job failed (InternalError)', { status: 500 });

  it('sends again inside the budget when SendMessage fails, and answers 202 with one job', async () => {
    const harness = createHarness(undefined, { budgetMs: 5_000 });
    harness.queue.upcoming.push(retryable(), retryable());

    const result = await harness.send(signed(makeBugReport()));

    expect(result.statusCode).toBe(202);
    expect(harness.queue.attempts).toBe(3);
    expect(harness.queue.jobs).toHaveLength(1);
    expect(harness.logs.at(-1)).toContain('"attempts":3');
  });

  it('abandons a SendMessage that does not answer and sends again', async () => {
    const harness = createHarness(undefined, { budgetMs: 5_000, sendPolicy: { attemptTimeoutMs: 50 } });
    harness.queue.upcoming.push('hang');

    const result = await harness.send(signed(makeBugReport()));

    expect(result.statusCode).toBe(202);
    expect(harness.queue.attempts).toBe(2);
    // The abandoned attempt was told to stop (the SDK then closes its request).
    expect(harness.queue.signals[0]?.aborted).toBe(true);
    expect(harness.queue.jobs).toHaveLength(1);
  });

  it('answers 503 once its budget is spent', async () => {
    const harness = createHarness(undefined, { budgetMs: 150, sendPolicy: { attemptTimeoutMs: 40 } });
    harness.queue.failure = new ServiceError('sqs', 'could not enqueue the job', {
      status: 500,
      cause: new Error('InternalError: arn:aws:sqs:us-east-1:123456789012:jobs is on fire'),
    });
    const started = Date.now();

    const result = await harness.send(signed(makeBugReport()));

    expect(result.statusCode).toBe(503);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(harness.queue.attempts).toBeGreaterThan(1);
    expect(json(result)).toEqual({ error: 'temporarily unable to accept bug reports; retry later' });
    expect(result.body).not.toContain('arn:aws');
    expect(harness.queue.jobs).toEqual([]);
  });

  it('does not repeat a send SQS refused for good', async () => {
    const harness = createHarness(undefined, { budgetMs: 5_000 });
    harness.queue.failure = new ServiceError('sqs', 'enqueue the job failed (AccessDenied)', { status: 403 });

    const result = await harness.send(signed(makeBugReport()));

    expect(result.statusCode).toBe(503);
    expect(harness.queue.attempts).toBe(1);
  });

  it('answers 503 when the credentials cannot be loaded, before looking at the body', async () => {
    const queue = new RecordingJobQueue();
    const handle = createBugReportWebhookHandler({
      jobQueue: queue,
      credentials: () => Promise.reject(new ServiceError('secretsmanager', 'no answer within 1000 ms')),
      logger: { info() {}, warn() {}, error() {} },
    });
    const result = await handle(signed(makeBugReport()));
    expect(result.statusCode).toBe(503);
    expect(queue.jobs).toEqual([]);
  });
});

describe('bug-report webhook: a job always fits the queue', () => {
  it('sends a report near the limit whole when it fits', async () => {
    const harness = createHarness(undefined, { maxMessageBytes: 256 * 1024 });
    const report = makeBugReport({ console_logs: 'x'.repeat(200 * 1024) });
    expect((await harness.send(signed(report))).statusCode).toBe(202);
    const job = onlyJob(harness.queue);
    expect(job.report.console_logs).toHaveLength(200 * 1024);
    expect(job.cuts).toBeUndefined();
  });

  it('cuts what it must, says so in the job, and still answers 202', async () => {
    const maxMessageBytes = 64 * 1024;
    const harness = createHarness(undefined, { maxMessageBytes });
    const logs = `${'earlier line\n'.repeat(8_000)}TypeError: x is undefined\n    at pay (app.js:1:2)`;
    const result = await harness.send(signed(makeBugReport({ console_logs: logs })));

    expect(result.statusCode).toBe(202);
    const job = onlyJob(harness.queue);
    expect(jobMessageBytes(toJobMessage(job))).toBeLessThanOrEqual(maxMessageBytes);
    expect(job.cuts).toEqual([
      {
        field: 'console_logs',
        keep: 'end',
        keptBytes: expect.any(Number),
        totalBytes: Buffer.byteLength(logs),
      },
    ]);
    // The end of the log, where the crash is, is what stays.
    expect(job.report.console_logs?.endsWith('at pay (app.js:1:2)')).toBe(true);
  });

  it('drops the report’s extra fields when they are what does not fit', async () => {
    const maxMessageBytes = 64 * 1024;
    const harness = createHarness(undefined, { maxMessageBytes });
    const report = makeBugReport({ attachment_base64: 'A'.repeat(100 * 1024) });
    const result = await harness.send(signed(report));

    expect(result.statusCode).toBe(202);
    const job = onlyJob(harness.queue);
    expect(job.report).not.toHaveProperty('attachment_base64');
    expect(job.report.description).toBe(report.description);
    expect(job.cuts).toEqual([
      { field: 'extra_fields', keep: 'fields', keptBytes: 0, totalBytes: expect.any(Number) },
    ]);
    expect(jobMessageBytes(toJobMessage(job))).toBeLessThanOrEqual(maxMessageBytes);
  });

  it('fits the largest body it accepts into the queue the stack deploys', async () => {
    const harness = createHarness();
    // A body of exactly 1 MiB: its job (envelope, ids) would be a little over 1 MiB.
    const base = JSON.stringify(makeBugReport({ console_logs: '' }));
    const report = makeBugReport({
      console_logs: 'y'.repeat(MAX_WEBHOOK_BODY_BYTES - Buffer.byteLength(base)),
    });
    expect(Buffer.byteLength(JSON.stringify(report))).toBe(MAX_WEBHOOK_BODY_BYTES);

    const result = await harness.send(signed(report));

    expect(result.statusCode).toBe(202);
    const job = onlyJob(harness.queue);
    expect(jobMessageBytes(toJobMessage(job))).toBeLessThanOrEqual(MAX_JOB_MESSAGE_BYTES);
    expect(MAX_JOB_MESSAGE_BYTES).toBeLessThan(JOBS_QUEUE_MAX_MESSAGE_BYTES);
    expect(job.cuts?.map((cut) => cut.field)).toEqual(['console_logs']);
  });
});
