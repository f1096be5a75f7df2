import { type BugReport, bugReportSchema } from '../jobs/job-schemas.js';

/** One offending field: its dotted path (`record.user_email`) and what is wrong, never its value. */
export interface FieldProblem {
  path: string;
  message: string;
}

/** Where the report came from, for logs. */
export type ReportSource =
  | { kind: 'report' }
  | { kind: 'supabase-database-webhook'; type: 'INSERT'; table: string | undefined };

export type ParsedBugReport =
  | { ok: true; report: BugReport; source: ReportSource }
  /** A database event that is not a new row (UPDATE, DELETE, …): answered 202, nothing queued. */
  | { ok: false; reason: 'not-a-new-report'; type: string; table: string | undefined }
  | { ok: false; reason: 'malformed-json' }
  | { ok: false; reason: 'not-an-object' }
  | { ok: false; reason: 'invalid-report'; fields: FieldProblem[] };

const DATABASE_EVENT_TYPES = new Set(['INSERT', 'UPDATE', 'DELETE']);

/**
 * Parses an authenticated body into a report: a report itself, or a Supabase database-webhook
 * envelope `{type, table, schema, record, old_record}` whose `record` is the report. Never
 * throws; every refusal names the fields at fault.
 *
 * The envelope is what `supabase_functions.http_request()` builds for every row change:
 * `jsonb_build_object('old_record', OLD, 'record', NEW, 'type', TG_OP, 'table', TG_TABLE_NAME,
 * 'schema', TG_TABLE_SCHEMA)` (supabase/supabase, docker/volumes/db/webhooks.sql), typed in
 * Supabase's "Database Webhooks" guide as InsertPayload (`old_record: null`), UpdatePayload and
 * DeletePayload (`record: null`). A hook may be set on UPDATE or DELETE too (or on a table that
 * also gets them), so only `INSERT` is a new report; any other type is acknowledged and ignored —
 * refusing it would only fill the sender's failure log.
 */
export function parseBugReport(body: string): ParsedBugReport {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'malformed-json' };
  }
  if (!isPlainObject(raw)) return { ok: false, reason: 'not-an-object' };

  if (!looksLikeDatabaseEnvelope(raw)) return validateReport(raw, '', { kind: 'report' });

  const { type, record } = raw;
  const table = typeof raw.table === 'string' ? raw.table : undefined;
  if (type !== 'INSERT') {
    if (typeof type === 'string' && type.length > 0) {
      return { ok: false, reason: 'not-a-new-report', type: type.slice(0, 40), table };
    }
    return invalid('type', 'must be the database event type (INSERT for a new report)');
  }
  if (!isPlainObject(record)) return invalid('record', 'is required and must be an object (the report)');
  return validateReport(record, 'record.', { kind: 'supabase-database-webhook', type, table });
}

/**
 * A report may carry fields of its own called `type` or `table` (unknown fields are kept), so an
 * envelope is recognised by `record`, or by a database event type together with `table`.
 */
function looksLikeDatabaseEnvelope(raw: Record<string, unknown>): boolean {
  if (Object.hasOwn(raw, 'record')) return true;
  return typeof raw.type === 'string' && DATABASE_EVENT_TYPES.has(raw.type) && typeof raw.table === 'string';
}

function validateReport(raw: Record<string, unknown>, prefix: string, source: ReportSource): ParsedBugReport {
  const parsed = bugReportSchema.safeParse(raw);
  if (parsed.success) return { ok: true, report: parsed.data, source };
  return {
    ok: false,
    reason: 'invalid-report',
    fields: parsed.error.issues.map((issue) => {
      const path = issue.path.map(String).join('.');
      // zod's wording for an absent field is "expected string, received undefined"; a null
      // (an empty column) is as missing as an absent key.
      const value = readPath(raw, issue.path);
      const missing = issue.code === 'invalid_type' && (value === undefined || value === null);
      return { path: `${prefix}${path}`, message: missing ? 'is required' : issue.message };
    }),
  };
}

function invalid(path: string, message: string): ParsedBugReport {
  return { ok: false, reason: 'invalid-report', fields: [{ path, message }] };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readPath(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}
