import { randomBytes, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { Webhook } from 'standardwebhooks';

/** A fresh Standard Webhooks secret: `whsec_` + base64 of 32 random bytes. */
export function makeWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** A report as the app sends it; `overrides` may add unknown fields or set `undefined` to drop one. */
export function makeBugReport(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const report: Record<string, unknown> = {
    id: `rep_${randomUUID()}`,
    description: 'Tapping "Save" on the profile screen does nothing.',
    user_id: 'user_42',
    user_email: 'reporter@example.com',
    app_version: '3.14.1',
    created_at: '2025-05-01T12:00:00.000Z',
    device_info: { os: 'iOS 18.1', model: 'iPhone 15' },
    console_logs: 'TypeError: Cannot read properties of undefined (reading "id")',
    url: 'https://app.example.com/profile',
    posthog_session_id: '0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
    screenshot_url: 'https://cdn.example.com/s/1.png',
    ...overrides,
  };
  for (const [key, value] of Object.entries(report)) if (value === undefined) delete report[key];
  return report;
}

/**
 * A row of a product's `bug_reports` table as a Supabase database webhook sends it: `to_jsonb` of
 * the whole row, so every column is there — empty ones as null, an identity `id` as a number,
 * `uuid` and `timestamptz` as strings, `jsonb` as JSON, `text[]` as an array — including the
 * team's own columns bugbot knows nothing about.
 */
export function makeSupabaseRow(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 4821,
    created_at: '2025-05-01T12:00:00.123456+00:00',
    updated_at: null,
    description: 'The Pay button spins forever on the checkout page.',
    user_id: '8a1f2b3c-4d5e-4f60-9a7b-1c2d3e4f5a6b',
    user_email: 'reporter@example.com',
    app_version: '3.14.1',
    device_info: {
      os: 'Android 14',
      model: 'Pixel 7',
      screen: { width: 1080, height: 2400 },
      dark_mode: true,
    },
    console_logs: null,
    url: 'https://app.example.com/checkout',
    posthog_session_id: null,
    screenshot_url: null,
    // The team's own columns.
    status: 'open',
    severity_hint: null,
    tags: ['checkout', 'android'],
    metadata: { source: 'in-app', build: 412 },
    org_id: 77,
    ...overrides,
  };
}

/** What a Supabase database webhook posts for a row change. */
export function makeSupabaseEnvelope(
  record: Record<string, unknown> | null,
  type: 'INSERT' | 'UPDATE' | 'DELETE' = 'INSERT',
): Record<string, unknown> {
  return {
    type,
    table: 'bug_reports',
    schema: 'public',
    record,
    old_record: type === 'INSERT' ? null : record,
  };
}

export interface HttpEventInit {
  body?: string;
  headers?: Record<string, string>;
  /** Send the body base64-encoded, as API Gateway does for binary media types. */
  base64?: boolean;
  path?: string;
}

/** An API Gateway HTTP API (payload 2.0) event; header names lowercased as API Gateway does. */
export function makeHttpEvent(init: HttpEventInit = {}): APIGatewayProxyEventV2 {
  const path = init.path ?? '/webhooks/bug-report';
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [name, value] of Object.entries(init.headers ?? {})) headers[name.toLowerCase()] = value;
  const base64 = init.base64 ?? false;
  return {
    version: '2.0',
    routeKey: `POST ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method: 'POST', path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'test' },
      requestId: randomUUID(),
      routeKey: `POST ${path}`,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
    },
    ...(init.body === undefined
      ? {}
      : { body: base64 ? Buffer.from(init.body, 'utf8').toString('base64') : init.body }),
    isBase64Encoded: base64,
  };
}

export interface SignedWebhookInit {
  secret: string;
  /** A report/envelope object (serialized here) or the exact body text to sign. */
  body: unknown;
  msgId?: string;
  timestamp?: Date;
  base64?: boolean;
  headers?: Record<string, string>;
}

/** Signs with the `standardwebhooks` package itself, the way a Standard Webhooks sender does. */
export function makeSignedWebhookEvent(init: SignedWebhookInit): {
  event: APIGatewayProxyEventV2;
  msgId: string;
  rawBody: string;
} {
  const rawBody = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
  const msgId = init.msgId ?? `msg_${randomBytes(12).toString('hex')}`;
  const timestamp = init.timestamp ?? new Date();
  const signature = new Webhook(init.secret).sign(msgId, timestamp, rawBody);
  const event = makeHttpEvent({
    body: rawBody,
    base64: init.base64 ?? false,
    headers: {
      'webhook-id': msgId,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': signature,
      ...init.headers,
    },
  });
  return { event, msgId, rawBody };
}

/** A Supabase-style delivery: no signature, a shared bearer token instead. */
export function makeBearerWebhookEvent(init: {
  token: string;
  body: unknown;
  base64?: boolean;
}): APIGatewayProxyEventV2 {
  const rawBody = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
  return makeHttpEvent({
    body: rawBody,
    base64: init.base64 ?? false,
    headers: { authorization: `Bearer ${init.token}` },
  });
}
