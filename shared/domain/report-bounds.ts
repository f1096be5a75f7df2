/**
 * What bugbot keeps of a bug report, and a plain account of what it had to cut.
 *
 * Reports arrive up to 1 MiB (the webhook's limit), but a bug lives in one DynamoDB item, and an
 * item is at most 400 KB (UTF-8 bytes of every attribute name and value). So each field a report
 * brings has a cap, in UTF-8 bytes, and the sum of the caps — with everything else a bug
 * carries — stays far below the item limit (test/integration/dynamodb-report-bounds.test.ts
 * proves it by storing a maximal bug in dynalite). A field over its cap keeps its most useful
 * part (the start of a description, the end of a console log) and the cut is recorded, so the
 * card and View Details can say "console log cut to the last 16 KB of 700 KB".
 *
 * Pure: no I/O, no SDKs. Bounding is idempotent: a bounded report bounds to itself with no cuts.
 */

export const REPORT_LIMITS = {
  /** The start is kept: people write the important part first. */
  descriptionBytes: 16 * 1024,
  /** The end is kept: the crash is at the bottom of a log. */
  consoleLogsBytes: 16 * 1024,
  /** JSON text of the whole object. */
  deviceInfoBytes: 4 * 1024,
  /** URLs over this are cut, not kept whole. */
  urlBytes: 2 * 1024,
  /** Identifiers and short labels: ids, versions, timestamps, session ids. */
  shortTextBytes: 256,
  /** Device info: text values and nested JSON are cut to this many characters each. */
  deviceValueChars: 256,
  /** Device info: nesting deeper than this is kept as JSON text (DynamoDB allows 32 levels). */
  deviceInfoDepth: 4,
} as const;

export type ReportField =
  | 'id'
  | 'description'
  | 'console_logs'
  | 'device_info'
  | 'url'
  | 'screenshot_url'
  | 'user_id'
  | 'app_version'
  | 'created_at'
  | 'posthog_session_id'
  | 'extra_fields';

/**
 * One cut. `keep`: `start` or `end` of a text; `fields` of an object (device info, or the report's
 * own extra fields, which only the webhook drops, to fit the queue). Byte counts are UTF-8.
 */
export interface ReportCut {
  readonly field: ReportField;
  readonly keep: 'start' | 'end' | 'fields';
  readonly keptBytes: number;
  readonly totalBytes: number;
}

/** The report fields bugbot reads; everything else a report carries is passed through untouched. */
export interface ReportFields {
  readonly id?: string | undefined;
  readonly description: string;
  readonly user_id?: string | undefined;
  readonly app_version?: string | undefined;
  readonly created_at?: string | undefined;
  readonly device_info?: Readonly<Record<string, unknown>> | undefined;
  readonly console_logs?: string | undefined;
  readonly url?: string | undefined;
  readonly posthog_session_id?: string | undefined;
  readonly screenshot_url?: string | undefined;
}

export interface BoundedReport<Report extends ReportFields> {
  readonly report: Report;
  readonly cuts: ReportCut[];
}

const TEXT_LIMITS: readonly [
  Exclude<ReportField, 'device_info' | 'extra_fields'>,
  number,
  'start' | 'end',
][] = [
  ['description', REPORT_LIMITS.descriptionBytes, 'start'],
  ['console_logs', REPORT_LIMITS.consoleLogsBytes, 'end'],
  ['url', REPORT_LIMITS.urlBytes, 'start'],
  ['screenshot_url', REPORT_LIMITS.urlBytes, 'start'],
  ['id', REPORT_LIMITS.shortTextBytes, 'start'],
  ['user_id', REPORT_LIMITS.shortTextBytes, 'start'],
  ['app_version', REPORT_LIMITS.shortTextBytes, 'start'],
  ['created_at', REPORT_LIMITS.shortTextBytes, 'start'],
  ['posthog_session_id', REPORT_LIMITS.shortTextBytes, 'start'],
];

/**
 * Caps every field bugbot reads. Unknown fields are left as they are (they are not stored; the
 * webhook drops them only when a job would not fit the queue, see `withoutExtraFields`).
 */
export function boundReport<Report extends ReportFields>(report: Report): BoundedReport<Report> {
  const cuts: ReportCut[] = [];
  const bounded: Record<string, unknown> = { ...(report as object) };
  for (const [field, limit, keep] of TEXT_LIMITS) {
    const value = report[field];
    if (typeof value !== 'string') continue;
    const cut = cutText(value, limit, keep);
    if (cut) {
      bounded[field] = cut.text;
      cuts.push({ field, keep, keptBytes: cut.keptBytes, totalBytes: cut.totalBytes });
    }
  }
  if (report.device_info !== undefined) {
    const device = boundDeviceInfo(report.device_info);
    bounded.device_info = device.value;
    if (device.cut) cuts.push(device.cut);
  }
  return { report: bounded as Report, cuts };
}

/** Drops everything but the fields bugbot reads; records the bytes they took. */
export function withoutExtraFields<Report extends ReportFields>(
  report: Report,
  knownFields: readonly string[],
): BoundedReport<Report> {
  const kept: Record<string, unknown> = {};
  const dropped: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(report)) {
    if (knownFields.includes(key)) kept[key] = value;
    else dropped[key] = value;
  }
  if (Object.keys(dropped).length === 0) return { report, cuts: [] };
  return {
    report: kept as Report,
    cuts: [{ field: 'extra_fields', keep: 'fields', keptBytes: 0, totalBytes: jsonBytes(dropped) }],
  };
}

/**
 * Merges the cuts the webhook made (their totals are what the sender sent) with the ones made
 * later on the already-cut report: for one field the earlier account wins.
 */
export function mergeCuts(earlier: readonly ReportCut[], later: readonly ReportCut[]): ReportCut[] {
  const merged = [...earlier];
  for (const cut of later) {
    const index = merged.findIndex((candidate) => candidate.field === cut.field);
    if (index === -1) merged.push(cut);
    else {
      const first = merged[index] as ReportCut;
      merged[index] = { ...first, keptBytes: Math.min(first.keptBytes, cut.keptBytes) };
    }
  }
  return merged;
}

// ---------------------------------------------------------------------------------------------
// Saying what was cut

const FIELD_NAMES: Record<ReportField, string> = {
  id: 'report id',
  description: 'description',
  console_logs: 'console log',
  device_info: 'device info',
  url: 'page URL',
  screenshot_url: 'screenshot URL',
  user_id: 'user id',
  app_version: 'app version',
  created_at: 'report time',
  posthog_session_id: 'PostHog session id',
  extra_fields: 'extra fields',
};

/** "console log cut to the last 16 KB of 700 KB" */
export function describeCut(cut: ReportCut): string {
  const name = FIELD_NAMES[cut.field] ?? 'a field';
  const total = formatBytes(cut.totalBytes);
  switch (cut.keep) {
    case 'start':
      return `${name} cut to the first ${formatBytes(cut.keptBytes)} of ${total}`;
    case 'end':
      return `${name} cut to the last ${formatBytes(cut.keptBytes)} of ${total}`;
    case 'fields':
      return cut.keptBytes === 0
        ? `${name} dropped (${total})`
        : `${name} cut to ${formatBytes(cut.keptBytes)} of ${total}`;
  }
}

/** One sentence for the card and View Details, or undefined when nothing was cut. */
export function describeCuts(cuts: readonly ReportCut[] | undefined): string | undefined {
  if (!cuts || cuts.length === 0) return undefined;
  const text = cuts.map(describeCut).join('; ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  const kb = bytes / 1024;
  return `${kb < 10 ? Math.round(kb * 10) / 10 : Math.round(kb)} KB`;
}

// ---------------------------------------------------------------------------------------------
// Text

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function utf8Bytes(text: string): number {
  return encoder.encode(text).length;
}

interface TextCut {
  readonly text: string;
  readonly keptBytes: number;
  readonly totalBytes: number;
}

/**
 * At most `limit` UTF-8 bytes of `text`, from its start or its end, never splitting a character;
 * null when it fits. A log tail starts at a line when a line break is near the cut, so it does
 * not open mid-line.
 */
export function cutText(text: string, limit: number, keep: 'start' | 'end'): TextCut | null {
  // Every UTF-16 code unit is at most 3 UTF-8 bytes: short strings need no encoding at all.
  if (text.length * 3 <= limit) return null;
  const bytes = encoder.encode(text);
  const totalBytes = bytes.length;
  if (totalBytes <= limit) return null;
  let slice: Uint8Array;
  if (keep === 'start') {
    let end = limit;
    // Back up over continuation bytes (10xxxxxx) to the start of the character that straddles.
    while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end -= 1;
    slice = bytes.subarray(0, end);
  } else {
    let start = totalBytes - limit;
    while (start < totalBytes && ((bytes[start] as number) & 0xc0) === 0x80) start += 1;
    const newline = bytes.subarray(start, Math.min(totalBytes, start + 512)).indexOf(0x0a);
    if (newline !== -1) start += newline + 1;
    slice = bytes.subarray(start);
  }
  return { text: decoder.decode(slice), keptBytes: slice.length, totalBytes };
}

function jsonBytes(value: unknown): number {
  try {
    return utf8Bytes(JSON.stringify(value) ?? '');
  } catch {
    return 0;
  }
}

// ---------------------------------------------------------------------------------------------
// Device info

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/**
 * Device info is kept as sent when it is small and storable as it is; otherwise it is flattened
 * to its top-level entries (text cut, nested values as JSON text) until the cap. "Storable":
 * DynamoDB refuses numbers beyond 38 digits of precision or ±1e125, the document client refuses
 * integers beyond 2^53, maps nest at most 32 levels, and names must not be empty.
 */
export function boundDeviceInfo(info: Readonly<Record<string, unknown>>): {
  value: Record<string, unknown>;
  cut?: ReportCut;
} {
  const limit = REPORT_LIMITS.deviceInfoBytes;
  const totalBytes = jsonBytes(info);
  if (totalBytes <= limit && isStorable(info, 0)) return { value: { ...info } };

  const value: Record<string, unknown> = {};
  let used = 2; // {}
  let keptFields = 0;
  const entries = Object.entries(info);
  for (const [rawKey, raw] of entries) {
    const key = rawKey.trim().slice(0, 64);
    if (key === '' || Object.hasOwn(value, key)) continue;
    const flat = flattenValue(raw);
    const bytes = jsonBytes({ [key]: flat }) - 2 + (keptFields > 0 ? 1 : 0);
    if (used + bytes > limit) break;
    value[key] = flat;
    used += bytes;
    keptFields += 1;
  }
  const keptBytes = jsonBytes(value);
  // Only values were made storable, nothing was lost: still say so, the shape changed.
  return {
    value,
    cut: { field: 'device_info', keep: 'fields', keptBytes, totalBytes: Math.max(totalBytes, keptBytes) },
  };
}

function flattenValue(value: unknown): string | number | boolean | null {
  if (value === null || typeof value === 'boolean') return value;
  if (typeof value === 'number') return isStorableNumber(value) ? value : String(value);
  if (typeof value === 'string') return clipChars(value, REPORT_LIMITS.deviceValueChars);
  let json: string;
  try {
    json = JSON.stringify(value) ?? String(value);
  } catch {
    json = String(value);
  }
  return clipChars(json, REPORT_LIMITS.deviceValueChars);
}

function clipChars(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  // Do not leave half of a surrogate pair behind.
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

function isStorableNumber(value: number): boolean {
  if (!Number.isFinite(value)) return false;
  if (Number.isInteger(value)) return Math.abs(value) <= MAX_SAFE;
  const magnitude = Math.abs(value);
  return magnitude > 1e-100 && magnitude < 1e100;
}

function isStorable(value: unknown, depth: number): boolean {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return isStorableNumber(value);
  if (typeof value !== 'object') return false;
  if (depth >= REPORT_LIMITS.deviceInfoDepth) return false;
  if (Array.isArray(value)) return value.every((entry) => isStorable(entry, depth + 1));
  return Object.entries(value as Record<string, unknown>).every(
    ([key, entry]) => key !== '' && isStorable(entry, depth + 1),
  );
}
