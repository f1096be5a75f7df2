import * as z from 'zod';
import { ConfigError, ServiceError } from '../../domain/errors.js';
import { isValidPersonId, isValidSessionId } from '../../domain/recordings.js';
import { describeZodIssues } from '../../jobs/job-schemas.js';
import type {
  RageClick,
  SessionException,
  SessionInsights,
  SessionPerson,
  SessionRecording,
  SessionReplay,
} from '../../ports/session-replay.js';
import { type FetchLike, HttpClient } from '../http/http-client.js';

/**
 * SessionReplay over PostHog's REST API (persons, session recordings) and its query API (HogQL)
 * for the events inside one session. Every id that reaches a path is validated first, and the
 * session id reaches HogQL only as a bound `{placeholder}` value, never spliced into the text.
 */

export interface PostHogSessionReplayOptions {
  /** The numeric project id (`/api/projects/:id/…`). */
  readonly projectId: string;
  /** Where people watch replays, e.g. `https://us.posthog.com` (not the ingestion host). */
  readonly appHost: string;
}

/** Most recordings a list call asks for; PostHog pages beyond this and we never need more. */
const MAX_RECORDINGS = 100;
/** Events of one session we read; a pathological session must not blow up the packet. */
const MAX_SESSION_EVENTS = 500;
/** Bounds the events scan; recordings are not kept longer than this on any PostHog plan we use. */
const EVENTS_LOOKBACK_DAYS = 90;

/**
 * The one HogQL query this adapter sends. `{session_id}` is a placeholder PostHog fills from
 * `values` as a constant (HogQLQuery.values), so a hostile id cannot change the query.
 */
export const SESSION_EVENTS_HOGQL = [
  'SELECT event, timestamp, properties.$current_url AS url,',
  '  properties.$exception_list AS exception_list,',
  '  properties.$exception_type AS exception_type,',
  '  properties.$exception_message AS exception_message,',
  '  properties.$el_text AS element_text',
  'FROM events',
  'WHERE $session_id = {session_id}',
  "  AND event IN ('$pageview', '$exception', '$rageclick')",
  `  AND timestamp >= now() - INTERVAL ${EVENTS_LOOKBACK_DAYS} DAY`,
  'ORDER BY timestamp ASC',
  `LIMIT ${MAX_SESSION_EVENTS}`,
].join('\n');

/**
 * A person by e-mail address, case-insensitively (see `findPersonByEmail`). The newest person
 * wins when several match, as the persons list orders them.
 */
export const PERSON_BY_EMAIL_HOGQL = [
  'SELECT id, properties.email AS email',
  'FROM persons',
  'WHERE lower(properties.email) = {email}',
  'ORDER BY created_at DESC',
  'LIMIT 1',
].join('\n');

const nullableString = z.string().nullish();
const nullableCount = z.number().nullish();

const personSchema = z.object({
  id: z.union([z.string(), z.number()]).nullish(),
  uuid: z.string().nullish(),
  distinct_ids: z.array(z.string()).nullish(),
  properties: z.record(z.string(), z.unknown()).nullish(),
});

const personsPageSchema = z.object({ results: z.array(personSchema) });

const recordingSchema = z.object({
  id: z.string(),
  distinct_id: nullableString,
  start_time: nullableString,
  end_time: nullableString,
  recording_duration: nullableCount,
  active_seconds: nullableCount,
  start_url: nullableString,
  console_error_count: nullableCount,
  click_count: nullableCount,
  keypress_count: nullableCount,
});

const recordingsPageSchema = z.object({ results: z.array(recordingSchema) });

const hogqlResponseSchema = z.object({
  columns: z.array(z.string()).nullish(),
  results: z.array(z.array(z.unknown())),
});

const exceptionEntrySchema = z.object({ type: z.string().nullish(), value: z.string().nullish() });

export class PostHogSessionReplay implements SessionReplay {
  private readonly projectPath: string;
  private readonly appHost: string;
  private readonly projectId: string;

  constructor(
    private readonly http: HttpClient,
    options: PostHogSessionReplayOptions,
  ) {
    if (!/^\d{1,20}$/.test(options.projectId)) {
      throw new ConfigError(['PostHog projectId must be the numeric project id']);
    }
    this.projectId = options.projectId;
    this.projectPath = `/api/projects/${options.projectId}`;
    this.appHost = options.appHost.replace(/\/+$/, '');
  }

  /**
   * The person whose `email` property is this address, whatever its case. PostHog keeps person
   * properties as the SDK sent them, and the persons list's `email` filter is an exact match
   * ("Filter persons by email (exact match)", https://posthog.com/docs/api/persons, scope
   * `person:read`), so `Maya@Example.com` in a report misses `maya@example.com` in PostHog. The
   * exact lookup is tried first (cheap, the common case); on a miss, one HogQL query over the
   * `persons` table compares lower-cased addresses (scope `query:read`; the table's columns:
   * https://posthog.com/docs/data-warehouse/sources/posthog#persons). The address reaches HogQL
   * only as a bound `{email}` value.
   */
  async findPersonByEmail(email: string): Promise<SessionPerson | null> {
    const wanted = email.trim();
    if (wanted.length === 0 || wanted.length > 320) return null;
    const body = await this.http.getJson(`${this.projectPath}/persons/`, { email: wanted, limit: 1 });
    const page = this.parse(personsPageSchema, body, 'persons list');
    const person = page.results[0];
    if (person) {
      const id =
        person.uuid ?? (person.id === null || person.id === undefined ? undefined : String(person.id));
      if (id) {
        const propertyEmail = person.properties?.email;
        return {
          id,
          distinctIds: person.distinct_ids ?? [],
          email: typeof propertyEmail === 'string' ? propertyEmail : undefined,
        };
      }
    }
    return this.findPersonByEmailIgnoringCase(wanted);
  }

  private async findPersonByEmailIgnoringCase(email: string): Promise<SessionPerson | null> {
    const body = await this.http.postJson(`${this.projectPath}/query/`, {
      query: { kind: 'HogQLQuery', query: PERSON_BY_EMAIL_HOGQL, values: { email: email.toLowerCase() } },
    });
    const response = this.parse(hogqlResponseSchema, body, 'HogQL query');
    const column = columnReader(response.columns ?? ['id', 'email']);
    const row = response.results[0];
    const id = row ? column.string(row, 'id') : undefined;
    if (!row || !id || !isValidPersonId(id)) return null;
    return { id, distinctIds: [], email: column.string(row, 'email') };
  }

  async listRecordings(input: {
    personId: string;
    dateFrom: Date;
    limit: number;
  }): Promise<SessionRecording[]> {
    if (!isValidPersonId(input.personId)) return [];
    const limit = Math.min(MAX_RECORDINGS, Math.max(1, Math.floor(input.limit)));
    const body = await this.http.getJson(`${this.projectPath}/session_recordings/`, {
      person_uuid: input.personId,
      // Without date_from PostHog lists only the last 3 days.
      date_from: input.dateFrom.toISOString(),
      limit,
    });
    const page = this.parse(recordingsPageSchema, body, 'session recordings list');
    return page.results.flatMap((raw) => {
      const recording = this.toRecording(raw);
      return recording ? [recording] : [];
    });
  }

  async getRecording(sessionId: string): Promise<SessionRecording | null> {
    if (!isValidSessionId(sessionId)) return null;
    const response = await this.http.request({
      path: `${this.projectPath}/session_recordings/${sessionId}/`,
      acceptStatuses: [404],
    });
    if (response.status === 404) return null;
    return this.toRecording(this.parse(recordingSchema, response.body, 'session recording'));
  }

  /** An id that cannot be a session has no events: answered without a query. */
  async getSessionInsights(sessionId: string): Promise<SessionInsights> {
    const empty: SessionInsights = { sessionId, exceptions: [], rageClicks: [], pagesVisited: [] };
    if (!isValidSessionId(sessionId)) return empty;
    const body = await this.http.postJson(`${this.projectPath}/query/`, {
      query: { kind: 'HogQLQuery', query: SESSION_EVENTS_HOGQL, values: { session_id: sessionId } },
    });
    const response = this.parse(hogqlResponseSchema, body, 'HogQL query');
    const column = columnReader(
      response.columns ?? [
        'event',
        'timestamp',
        'url',
        'exception_list',
        'exception_type',
        'exception_message',
        'element_text',
      ],
    );

    const exceptions: SessionException[] = [];
    const rageClicks: RageClick[] = [];
    const pagesVisited: string[] = [];
    for (const row of response.results) {
      const event = column.string(row, 'event');
      const timestamp = column.string(row, 'timestamp') ?? '';
      const url = column.string(row, 'url');
      if (event === '$pageview') {
        if (url && pagesVisited[pagesVisited.length - 1] !== url) pagesVisited.push(url);
      } else if (event === '$exception') {
        for (const exception of readExceptions(row, column)) {
          exceptions.push({ timestamp, ...exception, ...(url ? { url } : {}) });
        }
      } else if (event === '$rageclick') {
        const element = column.string(row, 'element_text');
        rageClicks.push({ timestamp, ...(url ? { url } : {}), ...(element ? { element } : {}) });
      }
    }
    return { sessionId, exceptions, rageClicks, pagesVisited };
  }

  /** `${appHost}/project/${projectId}/replay/${id}` — the replay player for one session. */
  replayUrl(sessionId: string): string {
    return `${this.appHost}/project/${this.projectId}/replay/${encodeURIComponent(sessionId)}`;
  }

  private toRecording(raw: z.infer<typeof recordingSchema>): SessionRecording | null {
    const startTime = raw.start_time ?? raw.end_time;
    if (!startTime || !isValidSessionId(raw.id)) return null;
    return {
      id: raw.id,
      replayUrl: this.replayUrl(raw.id),
      startTime,
      endTime: raw.end_time ?? undefined,
      durationSeconds: raw.recording_duration ?? 0,
      activeSeconds: raw.active_seconds ?? undefined,
      startUrl: raw.start_url ?? undefined,
      consoleErrorCount: raw.console_error_count ?? 0,
      clickCount: raw.click_count ?? undefined,
      keypressCount: raw.keypress_count ?? undefined,
      distinctId: raw.distinct_id ?? undefined,
    };
  }

  private parse<S extends z.ZodType>(schema: S, body: unknown, what: string): z.infer<S> {
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      throw new ServiceError(
        'posthog',
        `unexpected ${what} response: ${describeZodIssues(parsed.error.issues)}`,
        {
          retryable: false,
        },
      );
    }
    return parsed.data;
  }
}

/** A client for PostHog's private API (personal API key, `Authorization: Bearer`). */
export function createPostHogHttpClient(options: {
  /** `https://us.posthog.com`, `https://eu.posthog.com`, a self-hosted host, or a sandbox prefix. */
  readonly apiHost: string;
  readonly personalApiKey: string;
  readonly timeoutMs?: number;
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxTotalDelayMs?: number;
  readonly fetch?: FetchLike;
}): HttpClient {
  return new HttpClient({
    service: 'posthog',
    baseUrl: options.apiHost,
    headers: { authorization: `Bearer ${options.personalApiKey}`, 'user-agent': 'bugbot' },
    timeoutMs: options.timeoutMs ?? 8_000,
    maxAttempts: options.maxAttempts ?? 3,
    baseDelayMs: options.baseDelayMs,
    maxTotalDelayMs: options.maxTotalDelayMs,
    fetch: options.fetch,
  });
}

interface ColumnReader {
  value(row: readonly unknown[], name: string): unknown;
  string(row: readonly unknown[], name: string): string | undefined;
}

/** Reads HogQL rows by column name, so reordering the SELECT cannot silently shift fields. */
function columnReader(columns: readonly string[]): ColumnReader {
  const index = new Map(columns.map((name, position) => [name, position]));
  const value = (row: readonly unknown[], name: string): unknown => {
    const position = index.get(name);
    return position === undefined ? undefined : row[position];
  };
  return {
    value,
    string: (row, name) => {
      const raw = value(row, name);
      return typeof raw === 'string' && raw.length > 0 ? raw : undefined;
    },
  };
}

/**
 * Current SDKs send `$exception_list` (one entry per chained exception); HogQL hands nested
 * properties back as JSON text. Older SDKs send `$exception_type`/`$exception_message` instead.
 */
function readExceptions(
  row: readonly unknown[],
  column: ColumnReader,
): Array<{ type: string; message: string }> {
  let list = column.value(row, 'exception_list');
  if (typeof list === 'string') {
    try {
      list = JSON.parse(list);
    } catch {
      list = undefined;
    }
  }
  if (Array.isArray(list)) {
    const entries = list.flatMap((entry) => {
      const parsed = exceptionEntrySchema.safeParse(entry);
      if (!parsed.success) return [];
      return [{ type: parsed.data.type || 'Error', message: parsed.data.value ?? '' }];
    });
    if (entries.length > 0) return entries;
  }
  const type = column.string(row, 'exception_type');
  const message = column.string(row, 'exception_message');
  if (!type && !message) return [{ type: 'Error', message: '' }];
  return [{ type: type ?? 'Error', message: message ?? '' }];
}
