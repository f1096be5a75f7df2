import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  cutResponseBody,
  type Fault,
  FaultInjector,
  type RecordedCall,
  readBody,
  type StandIn,
  sendHtmlFault,
  sendJson,
} from './stand-in.js';

/**
 * A sandbox PostHog: the parts of the private API bugbot reads (persons, session recordings, the
 * HogQL query endpoint), with PostHog's paths, auth, response shapes and defaults — notably that
 * the recordings list covers only the last 3 days unless `date_from` says otherwise. Seeded with
 * three people and their sessions over the last ten days, relative to "now".
 *
 * The HogQL endpoint evaluates only simple `SELECT … FROM events WHERE …` queries over the seeded
 * events, and only with the session id bound as a `{placeholder}` from `values`: a query that
 * splices ids into its text is refused, so tests catch an adapter that starts doing so.
 */

export const POSTHOG_STAND_IN_API_KEY = 'phx_sandbox_personal_api_key';
export const POSTHOG_STAND_IN_PROJECT_ID = '1';

export interface PostHogStandInOptions {
  /** The personal API key callers must send as `Authorization: Bearer …`. */
  readonly apiKey?: string;
  readonly projectId?: string;
  /** Seeds relative to it at creation, and dates the default 3-day window per request. */
  readonly now?: () => Date;
  /** For the fault injector's `failRate`. */
  readonly random?: () => number;
}

interface Person {
  readonly uuid: string;
  readonly name: string;
  readonly email: string;
  readonly distinctIds: readonly string[];
  readonly createdAt: string;
  readonly properties: Record<string, unknown>;
}

interface Recording {
  readonly id: string;
  readonly person: Person;
  readonly distinctId: string;
  readonly start: Date;
  readonly end: Date;
  readonly durationSeconds: number;
  readonly activeSeconds: number;
  readonly startUrl: string;
  readonly consoleErrorCount: number;
  readonly consoleWarnCount: number;
  readonly consoleLogCount: number;
  readonly clickCount: number;
  readonly keypressCount: number;
  readonly mouseActivityCount: number;
}

interface EventRow {
  readonly uuid: string;
  readonly event: string;
  readonly timestamp: Date;
  readonly distinctId: string;
  readonly sessionId: string;
  readonly properties: Record<string, unknown>;
}

const APP = 'https://app.example.com';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export function createPostHogStandIn(options: PostHogStandInOptions = {}): StandIn {
  const apiKey = options.apiKey ?? POSTHOG_STAND_IN_API_KEY;
  const projectId = options.projectId ?? POSTHOG_STAND_IN_PROJECT_ID;
  const now = options.now ?? (() => new Date());
  const faults = new FaultInjector(options.random);
  const calls: RecordedCall[] = [];
  const data = seed(now());

  function route(method: string, url: URL, body: unknown): Answer {
    const match = /^\/api\/(?:projects|environments)\/([^/]+)\/([a-z_]+)(?:\/([^/]+))?\/?$/.exec(
      url.pathname,
    );
    if (!match) return notFound();
    const [, project, collection, id] = match;
    if (project !== projectId) return notFound();

    if (collection === 'persons' && id === undefined) {
      return method === 'GET' ? listPersons(data, url.searchParams) : methodNotAllowed(method);
    }
    if (collection === 'session_recordings' && id === undefined) {
      return method === 'GET' ? listRecordings(data, url.searchParams, now()) : methodNotAllowed(method);
    }
    if (collection === 'session_recordings' && id !== undefined) {
      if (method !== 'GET') return methodNotAllowed(method);
      const recording = data.recordings.find((candidate) => candidate.id === decodeURIComponent(id));
      return recording ? ok(serializeRecording(recording)) : notFound('Recording not found.');
    }
    if (collection === 'query' && id === undefined) {
      return method === 'POST' ? runQuery(data, body, now()) : methodNotAllowed(method);
    }
    return notFound();
  }

  return {
    service: 'posthog',
    calls,
    setFault(fault: Fault | null) {
      faults.set(fault);
    },
    snapshot() {
      return {
        persons: data.persons.length,
        recordings: data.recordings.length,
        events: data.events.length,
        queries: calls.filter((call) => call.method === 'POST').length,
      };
    },
    async handle(req: IncomingMessage, res: ServerResponse, path: string) {
      const method = req.method ?? 'GET';
      const raw = await readBody(req);
      let body: unknown;
      let badJson = false;
      if (raw.length > 0) {
        try {
          body = JSON.parse(raw.toString('utf8'));
        } catch {
          badJson = true;
        }
      }

      let answer: Answer;
      const fault = await faults.apply();
      if (fault?.kind === 'html') {
        calls.push({ at: now().toISOString(), method, path, status: fault.status });
        sendHtmlFault(res, fault.status);
        return;
      }
      if (fault?.kind === 'truncate') cutResponseBody(res);
      if (fault?.kind === 'status') {
        answer = faultAnswer(fault.status, fault.retryAfterSeconds ?? 1);
      } else if (!isAuthorized(req.headers.authorization, apiKey)) {
        answer = unauthorized(req.headers.authorization);
      } else if (badJson) {
        answer = validationError('parse_error', 'JSON parse error - the request body is not valid JSON.');
      } else {
        answer = route(method, new URL(path, 'http://posthog.sandbox'), body);
      }

      calls.push({
        at: now().toISOString(),
        method,
        path,
        ...(body === undefined ? {} : { body }),
        status: answer.status,
      });
      sendJson(res, answer.status, answer.body, answer.headers);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Answers

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

function ok(body: unknown): Answer {
  return { status: 200, body };
}

function notFound(detail = 'Not found.'): Answer {
  return { status: 404, body: { type: 'invalid_request', code: 'not_found', detail, attr: null } };
}

function methodNotAllowed(method: string): Answer {
  return {
    status: 405,
    body: {
      type: 'invalid_request',
      code: 'method_not_allowed',
      detail: `Method "${method}" not allowed.`,
      attr: null,
    },
  };
}

function validationError(code: string, detail: string, attr: string | null = null): Answer {
  return { status: 400, body: { type: 'validation_error', code, detail, attr } };
}

function isAuthorized(header: string | undefined, apiKey: string): boolean {
  return header === `Bearer ${apiKey}`;
}

function unauthorized(header: string | undefined): Answer {
  const body = header
    ? {
        type: 'authentication_error',
        code: 'authentication_failed',
        detail: 'Personal API key found in request Authorization header is invalid.',
        attr: null,
      }
    : {
        type: 'authentication_error',
        code: 'not_authenticated',
        detail: 'Authentication credentials were not provided.',
        attr: null,
      };
  return { status: 401, body, headers: { 'www-authenticate': 'Bearer realm="api"' } };
}

function faultAnswer(status: number, retryAfterSeconds: number): Answer {
  if (status === 429) {
    return {
      status,
      body: {
        type: 'throttled_error',
        code: 'throttled',
        detail: `Request was throttled. Expected available in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? '' : 's'}.`,
        attr: null,
      },
      headers: { 'retry-after': String(retryAfterSeconds) },
    };
  }
  if (status >= 500) {
    return {
      status,
      body: { type: 'server_error', code: 'error', detail: 'A server error occurred.', attr: null },
    };
  }
  return {
    status,
    body: { type: 'invalid_request', code: 'sandbox_fault', detail: 'Injected fault.', attr: null },
  };
}

// ---------------------------------------------------------------------------------------------
// Persons and recordings

function serializePerson(person: Person) {
  return {
    id: person.uuid,
    uuid: person.uuid,
    name: person.email,
    distinct_ids: person.distinctIds,
    properties: person.properties,
    created_at: person.createdAt,
    is_identified: true,
  };
}

function listPersons(data: SeedData, params: URLSearchParams): Answer {
  const email = params.get('email');
  const distinctId = params.get('distinct_id');
  const search = params.get('search')?.toLowerCase();
  const matches = data.persons.filter(
    (person) =>
      (email === null || person.email === email) &&
      (distinctId === null || person.distinctIds.includes(distinctId)) &&
      (!search || person.email.toLowerCase().includes(search) || person.distinctIds.includes(search)),
  );
  const page = paginate(matches, params, 100);
  if ('status' in page) return page;
  return ok({ next: null, previous: null, results: page.items.map(serializePerson) });
}

function serializeRecording(recording: Recording) {
  return {
    id: recording.id,
    distinct_id: recording.distinctId,
    viewed: false,
    viewers: [],
    recording_duration: recording.durationSeconds,
    active_seconds: recording.activeSeconds,
    inactive_seconds: recording.durationSeconds - recording.activeSeconds,
    start_time: recording.start.toISOString(),
    end_time: recording.end.toISOString(),
    click_count: recording.clickCount,
    keypress_count: recording.keypressCount,
    mouse_activity_count: recording.mouseActivityCount,
    console_log_count: recording.consoleLogCount,
    console_warn_count: recording.consoleWarnCount,
    console_error_count: recording.consoleErrorCount,
    start_url: recording.startUrl,
    person: serializePerson(recording.person),
    storage: 'object_storage',
    snapshot_source: 'web',
    ongoing: false,
    activity_score: null,
  };
}

function listRecordings(data: SeedData, params: URLSearchParams, now: Date): Answer {
  // PostHog's RecordingsQuery defaults date_from to "-3d".
  const from = parseDate(params.get('date_from') ?? '-3d', now);
  if (from === undefined) return validationError('invalid_input', 'Invalid date_from.', 'date_from');
  const toParam = params.get('date_to');
  const to = toParam === null ? undefined : parseDate(toParam, now);
  if (toParam !== null && to === undefined)
    return validationError('invalid_input', 'Invalid date_to.', 'date_to');
  const personUuid = params.get('person_uuid');
  const distinctId = params.get('distinct_id');

  const matches = data.recordings
    .filter(
      (recording) =>
        (from === null || recording.start.getTime() >= from.getTime()) &&
        (!to || recording.start.getTime() <= to.getTime()) &&
        (personUuid === null || recording.person.uuid === personUuid) &&
        (distinctId === null || recording.person.distinctIds.includes(distinctId)),
    )
    .sort((a, b) => b.start.getTime() - a.start.getTime());
  const page = paginate(matches, params, 50);
  if ('status' in page) return page;
  return ok({ results: page.items.map(serializeRecording), has_next: page.hasNext });
}

function paginate<T>(items: readonly T[], params: URLSearchParams, defaultLimit: number) {
  const limit = Number(params.get('limit') ?? defaultLimit);
  const offset = Number(params.get('offset') ?? 0);
  if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0) {
    return validationError('invalid_input', 'limit and offset must be non-negative integers.', 'limit');
  }
  return { items: items.slice(offset, offset + limit), hasNext: items.length > offset + limit };
}

/** PostHog's date strings: ISO dates/times, `-3d`/`-24h`/`-2w`/`-1m`/`-1y`, or `all` (→ null). */
function parseDate(value: string, now: Date): Date | null | undefined {
  if (value === 'all') return null;
  const relative = /^-(\d+)([hdwmy])$/.exec(value);
  if (relative) {
    const amount = Number(relative[1]);
    const unit = relative[2];
    const date = new Date(now);
    if (unit === 'h') date.setTime(date.getTime() - amount * HOUR);
    else if (unit === 'd') date.setTime(date.getTime() - amount * DAY);
    else if (unit === 'w') date.setTime(date.getTime() - amount * 7 * DAY);
    else if (unit === 'm') date.setUTCMonth(date.getUTCMonth() - amount);
    else date.setUTCFullYear(date.getUTCFullYear() - amount);
    return date;
  }
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : new Date(parsed);
}

// ---------------------------------------------------------------------------------------------
// HogQL: a deliberately tiny evaluator for `SELECT <columns> FROM events WHERE <conditions>
// [ORDER BY timestamp ASC|DESC] [LIMIT n]`.

type Condition = (event: EventRow) => boolean;

function runQuery(data: SeedData, body: unknown, now: Date): Answer {
  const query = (body as { query?: unknown } | undefined)?.query as
    | { kind?: unknown; query?: unknown; values?: unknown }
    | undefined;
  if (!query || typeof query !== 'object')
    return validationError('invalid_input', 'Field "query" is required.', 'query');
  if (query.kind !== 'HogQLQuery') {
    return validationError('invalid_input', 'The sandbox answers only HogQLQuery queries.', 'query.kind');
  }
  if (typeof query.query !== 'string')
    return validationError('invalid_input', 'Field "query.query" is required.');
  const values = (query.values && typeof query.values === 'object' ? query.values : {}) as Record<
    string,
    unknown
  >;

  const text = query.query.replace(/\s+/g, ' ').trim();
  if (/ FROM persons /i.test(` ${text} `)) return runPersonsQuery(data, text, values);
  const shape =
    /^SELECT (.+?) FROM events WHERE (.+?)(?: ORDER BY timestamp(?: (ASC|DESC))?)?(?: LIMIT (\d+))?$/i.exec(
      text,
    );
  if (!shape) return unsupported('the query shape');
  const [, selectList = '', whereClause = '', direction, limitText] = shape;

  const columns: Array<{ name: string; type: string; read: (event: EventRow) => unknown }> = [];
  for (const item of splitTopLevel(selectList, /,/)) {
    const column = parseColumn(item);
    if (!column) return unsupported(`the column "${item}"`);
    columns.push(column);
  }

  const conditions: Condition[] = [];
  for (const item of splitTopLevel(whereClause, / AND /i)) {
    const condition = parseCondition(item, values, now);
    if ('status' in condition) return condition;
    conditions.push(condition.test);
  }

  const rows = data.events
    .filter((event) => conditions.every((test) => test(event)))
    .sort(
      (a, b) =>
        (a.timestamp.getTime() - b.timestamp.getTime()) * (direction?.toUpperCase() === 'DESC' ? -1 : 1),
    )
    .slice(0, Math.min(Number(limitText ?? 100), 10_000))
    .map((event) => columns.map((column) => column.read(event)));

  return ok({
    is_cached: false,
    columns: columns.map((column) => column.name),
    types: columns.map((column) => [column.name, column.type]),
    results: rows,
    hogql: text,
    limit: Number(limitText ?? 100),
    offset: 0,
    hasMore: false,
    timings: [],
    modifiers: {},
  });
}

/**
 * `SELECT <id | created_at | properties.x> FROM persons WHERE [lower(]properties.x[)] = {value}
 * [ORDER BY created_at ASC|DESC] [LIMIT n]`: enough for a lookup by e-mail address. Like HogQL,
 * `=` on a string is case-sensitive and `lower()` is what makes it not.
 */
function runPersonsQuery(data: SeedData, text: string, values: Record<string, unknown>): Answer {
  const shape =
    /^SELECT (.+?) FROM persons WHERE (.+?)(?: ORDER BY created_at(?: (ASC|DESC))?)?(?: LIMIT (\d+))?$/i.exec(
      text,
    );
  if (!shape) return unsupported('the query shape');
  const [, selectList = '', whereClause = '', direction, limitText] = shape;
  const columns: Array<{ name: string; read: (person: Person) => unknown }> = [];
  for (const item of splitTopLevel(selectList, /,/)) {
    const match = /^(.+?)(?: AS ([A-Za-z_][A-Za-z0-9_]*))?$/i.exec(item);
    const expression = (match?.[1] ?? '').trim();
    const property = /^properties\.([A-Za-z0-9_$]+)$/.exec(expression)?.[1];
    const read =
      expression === 'id'
        ? (person: Person) => person.uuid
        : expression === 'created_at'
          ? (person: Person) => person.createdAt
          : property
            ? (person: Person) => person.properties[property] ?? null
            : undefined;
    if (!read) return unsupported(`the column "${item}"`);
    columns.push({ name: match?.[2] ?? expression, read });
  }
  const tests: Array<(person: Person) => boolean> = [];
  for (const item of splitTopLevel(whereClause, / AND /i)) {
    const match = /^(lower\()?properties\.([A-Za-z0-9_$]+)\)? = \{([A-Za-z_][A-Za-z0-9_]*)\}$/i.exec(item);
    if (!match) return unsupported(`the condition "${item}"`);
    const [, lower, property = '', name = ''] = match;
    const value = values[name];
    if (value === undefined) {
      return validationError(
        'invalid_input',
        `Placeholder {${name}} is not available in this context.`,
        'query.query',
      );
    }
    tests.push((person) => {
      const stored = person.properties[property];
      if (typeof stored !== 'string') return false;
      return (lower ? stored.toLowerCase() : stored) === value;
    });
  }
  const rows = data.persons
    .filter((person) => tests.every((test) => test(person)))
    .sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1) * (direction?.toUpperCase() === 'DESC' ? -1 : 1))
    .slice(0, Math.min(Number(limitText ?? 100), 10_000))
    .map((person) => columns.map((column) => column.read(person)));
  return ok({
    is_cached: false,
    columns: columns.map((column) => column.name),
    results: rows,
    hogql: text,
    limit: Number(limitText ?? 100),
    offset: 0,
    hasMore: false,
  });
}

function unsupported(what: string): Answer {
  return validationError('invalid_input', `The sandbox PostHog cannot evaluate ${what}.`, 'query.query');
}

function splitTopLevel(text: string, separator: RegExp): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i] ?? '';
    if (char === "'") quoted = !quoted;
    if (!quoted && char === '(') depth += 1;
    if (!quoted && char === ')') depth -= 1;
    if (!quoted && depth === 0) {
      const match = new RegExp(`^(?:${separator.source})`, separator.flags.replace('g', '')).exec(
        text.slice(i),
      );
      if (match) {
        parts.push(current.trim());
        current = '';
        i += match[0].length - 1;
        continue;
      }
    }
    current += char;
  }
  parts.push(current.trim());
  return parts.filter((part) => part.length > 0);
}

function parseColumn(
  item: string,
): { name: string; type: string; read: (event: EventRow) => unknown } | null {
  const match = /^(.+?)(?: AS ([A-Za-z_][A-Za-z0-9_]*))?$/i.exec(item);
  if (!match) return null;
  const expression = (match[1] ?? '').trim();
  const alias = match[2];
  const field = readField(expression);
  if (!field) return null;
  return { name: alias ?? expression, type: field.type, read: field.read };
}

function readField(expression: string): { type: string; read: (event: EventRow) => unknown } | null {
  switch (expression) {
    case 'event':
      return { type: 'String', read: (event) => event.event };
    case 'timestamp':
      return { type: "DateTime64(6, 'UTC')", read: (event) => event.timestamp.toISOString() };
    case 'distinct_id':
      return { type: 'String', read: (event) => event.distinctId };
    case 'uuid':
      return { type: 'UUID', read: (event) => event.uuid };
    case '$session_id':
    case 'properties.$session_id':
      return { type: 'String', read: (event) => event.sessionId };
  }
  const property = /^properties\.(\$?[A-Za-z0-9_]+)$/.exec(expression)?.[1];
  if (!property) return null;
  return {
    type: 'Nullable(String)',
    // HogQL hands nested property values back as JSON text.
    read: (event) => {
      const value = event.properties[property];
      if (value === undefined || value === null) return null;
      return typeof value === 'object' ? JSON.stringify(value) : value;
    },
  };
}

function parseCondition(
  item: string,
  values: Record<string, unknown>,
  now: Date,
): { test: Condition } | Answer {
  const session = /^(?:\$session_id|properties\.\$session_id) = \{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(item);
  if (session) {
    const name = session[1] ?? '';
    const value = values[name];
    if (value === undefined) {
      return validationError(
        'invalid_input',
        `Placeholder {${name}} is not available in this context.`,
        'query.query',
      );
    }
    return { test: (event) => event.sessionId === value };
  }
  const eventIn = /^event IN \((.+)\)$/i.exec(item) ?? /^event = (.+)$/.exec(item);
  if (eventIn) {
    const names = splitTopLevel(eventIn[1] ?? '', /,/).map((literal) => /^'([^']*)'$/.exec(literal)?.[1]);
    if (names.some((name) => name === undefined)) return unsupported(`the condition "${item}"`);
    return { test: (event) => names.includes(event.event) };
  }
  const since = /^timestamp >= now\(\) - INTERVAL (\d+) DAY$/i.exec(item);
  if (since) {
    const from = now.getTime() - Number(since[1]) * DAY;
    return { test: (event) => event.timestamp.getTime() >= from };
  }
  // Includes `$session_id = '…'`: ids must be bound through `values`, never spliced into the text.
  return unsupported(`the condition "${item}"`);
}

// ---------------------------------------------------------------------------------------------
// Seed data

interface SeedData {
  readonly persons: readonly Person[];
  readonly recordings: readonly Recording[];
  readonly events: readonly EventRow[];
}

interface SessionPlan {
  readonly hoursAgo: number;
  readonly durationSeconds: number;
  readonly activeSeconds: number;
  readonly pages: readonly string[];
  readonly exceptions?: ReadonlyArray<{ type: string; message: string; function: string; legacy?: boolean }>;
  readonly rageClicks?: readonly string[];
  readonly deviceDistinctId?: boolean;
}

const CHECKOUT_TYPE_ERROR = {
  type: 'TypeError',
  message: "Cannot read properties of undefined (reading 'map')",
  function: 'CheckoutForm',
};

const PEOPLE: ReadonlyArray<{
  uuid: string;
  email: string;
  name: string;
  userId: string;
  anonymousId: string;
  browser: string;
  sessions: readonly SessionPlan[];
}> = [
  {
    uuid: '018f3a52-6c1e-7b0a-9d4e-2a6f1c8b3e01',
    email: 'maya@example.com',
    name: 'Maya Lindqvist',
    userId: 'usr_maya_4821',
    anonymousId: '018f3a52-5b7d-7e21-8c44-90d1aa2f6b10',
    browser: 'Chrome',
    sessions: [
      {
        hoursAgo: 2,
        durationSeconds: 252,
        activeSeconds: 181,
        pages: ['/cart', '/checkout', '/checkout', '/checkout/payment'],
        exceptions: [CHECKOUT_TYPE_ERROR, CHECKOUT_TYPE_ERROR, { ...CHECKOUT_TYPE_ERROR, legacy: true }],
        rageClicks: ['Place order', 'Place order'],
      },
      {
        hoursAgo: 26,
        durationSeconds: 610,
        activeSeconds: 402,
        pages: ['/dashboard', '/orders', '/orders/1042'],
      },
      {
        hoursAgo: 108,
        durationSeconds: 140,
        activeSeconds: 90,
        pages: ['/checkout', '/checkout/payment'],
        exceptions: [CHECKOUT_TYPE_ERROR],
        deviceDistinctId: true,
      },
      {
        hoursAgo: 192,
        durationSeconds: 900,
        activeSeconds: 300,
        pages: ['/settings/billing', '/settings/profile'],
      },
    ],
  },
  {
    uuid: '018f3a52-6c1e-7b0a-9d4e-2a6f1c8b3e02',
    email: 'devon@example.com',
    name: 'Devon Okafor',
    userId: 'usr_devon_1177',
    anonymousId: '018f3a53-0a11-7c3e-a5b2-4f6e7d8c9b20',
    browser: 'Safari',
    sessions: [
      {
        hoursAgo: 5,
        durationSeconds: 95,
        activeSeconds: 60,
        pages: ['/projects/new', '/projects/new'],
        rageClicks: ['Create project'],
      },
      {
        hoursAgo: 50,
        durationSeconds: 1330,
        activeSeconds: 800,
        pages: ['/reports', '/reports/weekly', '/reports/export'],
        exceptions: [
          { type: 'Error', message: 'Request failed with status code 500', function: 'ExportButton' },
          { type: 'Error', message: 'Request failed with status code 500', function: 'ExportButton' },
        ],
      },
      { hoursAgo: 144, durationSeconds: 200, activeSeconds: 20, pages: ['/'], deviceDistinctId: true },
    ],
  },
  {
    uuid: '018f3a52-6c1e-7b0a-9d4e-2a6f1c8b3e03',
    email: 'priya@example.com',
    name: 'Priya Raman',
    userId: 'usr_priya_3090',
    anonymousId: '018f3a53-77c0-7d18-b0e9-1c2d3e4f5a30',
    browser: 'Firefox',
    sessions: [
      {
        hoursAgo: 120,
        durationSeconds: 480,
        activeSeconds: 310,
        pages: ['/cart', '/checkout'],
        exceptions: [CHECKOUT_TYPE_ERROR, { ...CHECKOUT_TYPE_ERROR, legacy: true }],
        rageClicks: ['Apply coupon'],
      },
      { hoursAgo: 228, durationSeconds: 75, activeSeconds: 40, pages: ['/login'] },
    ],
  },
  {
    // Stored as the app's sign-up form sent it: PostHog keeps the case, so only a
    // case-insensitive lookup finds her from `sam.okoro@example.com`.
    uuid: '018f3a52-6c1e-7b0a-9d4e-2a6f1c8b3e04',
    email: 'Sam.Okoro@Example.com',
    name: 'Sam Okoro',
    userId: 'usr_sam_5120',
    anonymousId: '018f3a54-12ab-7c3e-9d10-5e6f7a8b9c40',
    browser: 'Edge',
    sessions: [{ hoursAgo: 30, durationSeconds: 120, activeSeconds: 70, pages: ['/cart', '/checkout'] }],
  },
];

function seed(now: Date): SeedData {
  const persons: Person[] = [];
  const recordings: Recording[] = [];
  const events: EventRow[] = [];
  let sequence = 0;

  for (const plan of PEOPLE) {
    const person: Person = {
      uuid: plan.uuid,
      name: plan.name,
      email: plan.email,
      distinctIds: [plan.userId, plan.anonymousId],
      createdAt: new Date(now.getTime() - 40 * DAY).toISOString(),
      properties: { email: plan.email, name: plan.name, $initial_browser: plan.browser, plan: 'team' },
    };
    persons.push(person);

    for (const session of plan.sessions) {
      const start = new Date(now.getTime() - session.hoursAgo * HOUR);
      sequence += 1;
      const id = uuidV7(start.getTime(), sequence);
      const distinctId = session.deviceDistinctId ? plan.anonymousId : plan.userId;
      const exceptions = session.exceptions ?? [];
      const rageClicks = session.rageClicks ?? [];
      const at = (fraction: number) => new Date(start.getTime() + fraction * session.durationSeconds * 1000);
      const base = { sessionId: id, distinctId };
      const common = { $session_id: id, $browser: plan.browser, $lib: 'web' };

      session.pages.forEach((page, index) => {
        sequence += 1;
        events.push({
          ...base,
          uuid: uuidV7(start.getTime(), sequence),
          event: '$pageview',
          timestamp: at(index / session.pages.length),
          properties: { ...common, $current_url: `${APP}${page}`, $pathname: page },
        });
      });
      const lastPage = `${APP}${session.pages[session.pages.length - 1] ?? '/'}`;
      exceptions.forEach((exception, index) => {
        sequence += 1;
        const properties: Record<string, unknown> = exception.legacy
          ? { $exception_type: exception.type, $exception_message: exception.message }
          : {
              $exception_list: [
                {
                  type: exception.type,
                  value: exception.message,
                  mechanism: { handled: false, type: 'onerror', synthetic: false },
                  stacktrace: {
                    type: 'raw',
                    frames: [
                      {
                        filename: `${APP}/_next/static/chunks/app/checkout/page-3f9a1c.js`,
                        function: exception.function,
                        lineno: 118,
                        colno: 27,
                        in_app: true,
                      },
                    ],
                  },
                },
              ],
            };
        events.push({
          ...base,
          uuid: uuidV7(start.getTime(), sequence),
          event: '$exception',
          timestamp: at(0.55 + (0.4 * index) / Math.max(1, exceptions.length)),
          properties: { ...common, ...properties, $current_url: lastPage },
        });
      });
      rageClicks.forEach((text, index) => {
        sequence += 1;
        events.push({
          ...base,
          uuid: uuidV7(start.getTime(), sequence),
          event: '$rageclick',
          timestamp: at(0.6 + (0.3 * index) / Math.max(1, rageClicks.length)),
          properties: { ...common, $current_url: lastPage, $el_text: text, $event_type: 'click' },
        });
      });

      recordings.push({
        id,
        person,
        distinctId,
        start,
        end: new Date(start.getTime() + session.durationSeconds * 1000),
        durationSeconds: session.durationSeconds,
        activeSeconds: session.activeSeconds,
        startUrl: `${APP}${session.pages[0] ?? '/'}`,
        consoleErrorCount: exceptions.length,
        consoleWarnCount: exceptions.length > 0 ? 1 : 0,
        consoleLogCount: 4 + session.pages.length * 3,
        clickCount: Math.round(session.activeSeconds / 9),
        keypressCount: Math.round(session.activeSeconds / 4),
        mouseActivityCount: Math.round(session.activeSeconds * 1.5),
      });
    }
  }
  return { persons, recordings, events };
}

/** A UUIDv7 (what posthog-js uses for session ids) with a deterministic tail. */
function uuidV7(ms: number, sequence: number): string {
  const time = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0');
  let state = (sequence * 2_654_435_761) >>> 0;
  const nextHex = (digits: number) => {
    let out = '';
    for (let i = 0; i < digits; i += 1) {
      state = (state * 1_103_515_245 + 12_345) >>> 0;
      out += ((state >>> 16) & 0xf).toString(16);
    }
    return out;
  };
  const variant = (8 + (sequence % 4)).toString(16);
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${nextHex(3)}-${variant}${nextHex(3)}-${nextHex(12)}`;
}
