import { createHash } from 'node:crypto';

/**
 * Crash fingerprints: the same crash, reported from Chrome, Safari, Firefox or a React Native
 * build, with other line numbers, bundle hashes, ids and URLs, must hash to the same value, and
 * a crash somewhere else must not. A fingerprint is the error type plus the top in-app stack
 * frames — where the crash happened — not the message, because engines word the same error
 * differently ("Cannot read properties of undefined (reading 'x')" in V8 is "undefined is not an
 * object (evaluating 'a.x')" in Safari).
 *
 * A report without a location (no in-app frame, no HTTP route) gets no fingerprint: a bare
 * "TypeError: Failed to fetch" is raised by a hundred different bugs, and grouping on the message
 * alone would merge them. Such reports are left to text similarity (similarity.ts), which still
 * sees the normalized message.
 */

/** How many in-app frames make up a fingerprint. */
export const FINGERPRINT_FRAME_COUNT = 3;

export interface ErrorSignature {
  /** `TypeError`, `ChunkLoadError`, `HTTP 500`, `UnhandledRejection`, ... */
  readonly errorType: string;
  /** The message as reported (first line, bounded). */
  readonly message: string;
  /** The message with variable parts replaced by placeholders (`<n>`, `<id>`, `<url>`...). */
  readonly normalizedMessage: string;
  /** Top in-app frames, normalized: `handlePay`, `?@main.js`, or an HTTP route `POST /v2/orders/<id>`. */
  readonly frames: readonly string[];
  /** sha-256 hex of `type|frame1|frame2|frame3`; null when the error has no location. */
  readonly fingerprint: string | null;
}

export interface ReportErrorText {
  readonly description?: string | null;
  readonly console_logs?: string | null;
}

/** The error signature of a report: console logs first, then a trace pasted into the description. */
export function extractReportSignature(report: ReportErrorText): ErrorSignature | null {
  return extractErrorSignature([report.console_logs ?? '', report.description ?? ''].join('\n'));
}

/** The fingerprint of a report, or null when it carries no locatable error. */
export function computeReportFingerprint(report: ReportErrorText): string | null {
  return extractReportSignature(report)?.fingerprint ?? null;
}

/**
 * Finds the errors in free text (console output, pasted traces) and picks the one that says the
 * most: the first with in-app frames, else the first failed HTTP request with a route, else the
 * first error at all. Known noise (ResizeObserver loops, cross-origin "Script error.") is skipped.
 */
export function extractErrorSignature(text: string): ErrorSignature | null {
  const blocks = parseErrorBlocks(text);
  const candidates = blocks.filter((block) => !isNoiseError(block));
  const chosen =
    candidates.find((block) => block.frames.length > 0) ??
    candidates.find((block) => block.route !== undefined) ??
    candidates[0];
  if (!chosen) return null;

  const frames =
    chosen.route !== undefined ? [chosen.route] : chosen.frames.slice(0, FINGERPRINT_FRAME_COUNT);
  const normalizedMessage = normalizeErrorMessage(chosen.message);
  return {
    errorType: chosen.type,
    message: chosen.message.slice(0, MAX_MESSAGE_LENGTH),
    normalizedMessage,
    frames,
    fingerprint: frames.length > 0 ? hashSignature(chosen.type, frames, normalizedMessage) : null,
  };
}

function hashSignature(type: string, frames: readonly string[], normalizedMessage: string): string {
  // Frames without a function name (minified or anonymous) only say "somewhere in main.js"; two
  // different crashes in one bundle would collide, so the message joins the key in that case.
  const weak = frames.every((frame) => frame.startsWith('?@'));
  const key = [type, ...frames, ...(weak ? [`msg:${normalizedMessage}`] : [])].join('|');
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

const MAX_MESSAGE_LENGTH = 300;
/** Reports are untrusted and may be up to a megabyte: bound the work spent reading them. */
const MAX_TEXT_LENGTH = 256 * 1024;
const MAX_LINE_LENGTH = 1000;

// ---------------------------------------------------------------------------------------------
// Error headers
// ---------------------------------------------------------------------------------------------

interface ErrorBlock {
  type: string;
  message: string;
  /** Normalized in-app frames, recursion collapsed. */
  frames: string[];
  /** For failed HTTP requests: `METHOD /normalized/path`. */
  route?: string;
}

const HTTP_METHODS = 'GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS';
/** Chrome's network line: `POST https://api.x.io/v2/orders 500 (Internal Server Error)`. */
const HTTP_REQUEST_LINE = new RegExp(`\\b(${HTTP_METHODS})\\s+(\\S+)\\s+(?:net::\\S+\\s+)?([1-5]\\d\\d)\\b`);
/** axios, fetch wrappers and "Failed to load resource: ... status of 404". */
const HTTP_STATUS_MESSAGE =
  /(?:status code|status of|HTTP(?:\/[\d.]+)?|HTTPError:?|Response code)\s*:?\s*([45]\d\d)\b/i;

/**
 * `TypeError: msg`, `Uncaught ReferenceError: msg`, `[Error: msg]` (React Native),
 * `java.lang.IllegalStateException: msg`. The name must be followed by a colon or end the line,
 * so prose such as "I got a TypeError when paying" is not a header.
 */
const ERROR_HEADER = /(?:^|[\s[(])((?:[a-z][\w$]*\.)*(?:[A-Z][\w$]*)?(?:Error|Exception))(?::\s*(.*?))?\]?$/;
const REJECTION_PREFIX =
  /(?:Uncaught \(in promise\)|Unhandled Promise Rejection:?|Possible Unhandled Promise Rejection[^:]*:)\s*/i;

function parseErrorBlocks(text: string): ErrorBlock[] {
  const blocks: ErrorBlock[] = [];
  let current: (ErrorBlock & { rawFrames: ParsedFrame[] }) | undefined;
  const finish = () => {
    if (!current) return;
    current.frames = selectInAppFrames(current.rawFrames);
    const { rawFrames: _ignored, ...block } = current;
    blocks.push(block);
    current = undefined;
  };

  for (const rawLine of text.slice(0, MAX_TEXT_LENGTH).split(/\r?\n/)) {
    // Headers and frames are short; a megabyte of minified code on one line is neither.
    const line = rawLine.trim().slice(0, MAX_LINE_LENGTH);
    if (!line) continue;
    const frame = parseStackFrame(line);
    if (frame) {
      current?.rawFrames.push(frame);
      continue;
    }
    const header = parseErrorHeader(line);
    if (header) {
      // A failed request followed by the client library's "Error: Request failed with status
      // code 500" is one failure: keep the request's route on the block that names the status.
      if (current?.route !== undefined && header.route === undefined && header.type === current.type)
        continue;
      finish();
      current = { ...header, frames: [], rawFrames: [] };
    }
  }
  finish();
  return blocks;
}

function parseErrorHeader(line: string): Omit<ErrorBlock, 'frames'> | null {
  const request = HTTP_REQUEST_LINE.exec(line);
  if (request && Number(request[3]) >= 400) {
    const [, method, url, status] = request;
    return { type: `HTTP ${status}`, message: line, route: `${method} ${normalizeUrlPath(url ?? '')}` };
  }

  const rejection = REJECTION_PREFIX.exec(line);
  const body = rejection ? line.slice(rejection.index + rejection[0].length) : line;
  const named = matchErrorName(body);
  if (named) {
    const status = HTTP_STATUS_MESSAGE.exec(named.message);
    if (status && (named.type === 'Error' || named.type === 'AxiosError' || named.type === 'HTTPError')) {
      return { type: `HTTP ${status[1]}`, message: named.message };
    }
    return named;
  }
  if (rejection) {
    return { type: 'UnhandledRejection', message: body.trim() };
  }
  const status = HTTP_STATUS_MESSAGE.exec(line);
  if (status && /fail|error|respon/i.test(line)) return { type: `HTTP ${status[1]}`, message: line };
  return null;
}

function matchErrorName(text: string): { type: string; message: string } | null {
  const match = ERROR_HEADER.exec(text);
  const rawType = match?.[1];
  if (!match || !rawType) return null;
  // A bare name with words before it ("the app says TypeError") is prose, not a header.
  if (match[2] === undefined && !/^[[(]?(?:Uncaught\s+)?[\w$.]+\]?$/.test(text.trim())) return null;
  const message = (match[2] ?? '').trim();
  return { type: canonicalErrorType(rawType, message), message };
}

/** Engines name some errors differently; map them onto one name so browsers agree. */
function canonicalErrorType(rawType: string, message: string): string {
  // `java.lang.IllegalStateException` → `IllegalStateException`.
  const type = rawType.slice(rawType.lastIndexOf('.') + 1) || rawType;
  // Firefox reports a stack overflow as InternalError "too much recursion"; V8 and JSC as RangeError.
  if (type === 'InternalError' && /too much recursion/i.test(message)) return 'RangeError';
  return type;
}

function isNoiseError(block: ErrorBlock): boolean {
  return (
    /ResizeObserver loop/i.test(block.message) ||
    /^Script error\.?$/i.test(block.message) ||
    /Non-Error promise rejection captured/i.test(block.message)
  );
}

// ---------------------------------------------------------------------------------------------
// Stack frames
// ---------------------------------------------------------------------------------------------

export interface ParsedFrame {
  /** The function as written in the trace (`CheckoutForm.handlePay`), or null when anonymous. */
  readonly rawFunction: string | null;
  /** The location without line/column (`https://x/static/js/main.3f2a9c1b.js`, `<anonymous>`). */
  readonly location: string;
}

/** V8: `at fn (loc)`, `at async fn (loc)`, `at loc`; Hermes adds `address at` inside the parentheses. */
const V8_FRAME = /^at\s+(?:(?:async|new)\s+)*(?:(.*?)\s+\((.*)\)|(.*))$/;
/** Firefox / Safari / JSC: `fn@loc`, `@loc` (anonymous), `fn@[native code]`. */
const GECKO_FRAME = /^([^@\s(]*(?:\s(?:code|function)[^@\s(]*)?)@(.+)$/;
const LINE_COLUMN = /(?::\d+){1,2}\)?$/;

/** Parses one line of a stack trace in V8, Firefox or Safari/JSC format; null if it is not a frame. */
export function parseStackFrame(line: string): ParsedFrame | null {
  const trimmed = line.trim();
  const v8 = V8_FRAME.exec(trimmed);
  if (v8) {
    const location = stripLineColumn((v8[2] ?? v8[3] ?? '').replace(/^address at\s+/, ''));
    if (!looksLikeLocation(location)) return null;
    return { rawFunction: v8[3] !== undefined ? null : (v8[1] ?? null), location };
  }
  const gecko = GECKO_FRAME.exec(trimmed);
  if (gecko) {
    const rawLocation = gecko[2] ?? '';
    // Require a line number or a native marker so "user@example.com" is not a frame.
    if (!LINE_COLUMN.test(rawLocation) && !/\[native code\]/.test(rawLocation)) return null;
    return { rawFunction: gecko[1] || null, location: stripLineColumn(rawLocation) };
  }
  return null;
}

function stripLineColumn(location: string): string {
  return location.trim().replace(LINE_COLUMN, '');
}

function looksLikeLocation(location: string): boolean {
  return (
    location === '<anonymous>' ||
    location === 'native' ||
    /\[native code\]/.test(location) ||
    /^(?:[a-z][\w+.-]*:\/\/|\/|\.{1,2}\/|webpack-internal:|[A-Za-z]:\\|eval at\b)/i.test(location) ||
    /\.(?:m?[jt]sx?|bundle|jsbundle|vue|svelte|html?)\b/i.test(location)
  );
}

/** Frame locations that are not the app's code: dependencies, bundler runtime, extensions, engine. */
const NON_APP_LOCATION = [
  /node_modules/i,
  /\/\.vite\/deps\//,
  /webpack\/(?:runtime|bootstrap)/,
  /^(?:chrome|moz|safari|safari-web|ms-browser)-extension:/i,
  /^<anonymous>$/,
  /^native$/,
  /\[native code\]/,
  /^eval at\b/,
];

/** Bundle files that hold only third-party or bundler code, recognised by their base name. */
const NON_APP_BUNDLE =
  /^(?:vendors?|framework|polyfills?|runtime|webpack|react-dom|chunk-vendors|commons?)(?:[.~_-]|$)/i;

/** Framework and transpiler internals that show up inside the app's own bundle. */
const NON_APP_FUNCTIONS = new Set([
  '__webpack_require__',
  'renderWithHooks',
  'mountIndeterminateComponent',
  'beginWork',
  'performUnitOfWork',
  'workLoopSync',
  'renderRootSync',
  'performSyncWorkOnRoot',
  'commitRoot',
  'flushPassiveEffects',
  'callCallback',
  'invokeGuardedCallback',
  'invokeGuardedCallbackDev',
  'invokeGuardedCallbackImpl',
  'dispatchEvent',
  'dispatchDiscreteEvent',
  'batchedUpdates',
  '_performTransitionSideEffects',
  '_receiveSignal',
  'touchableHandlePress',
  'asyncGeneratorStep',
  '_asyncToGenerator',
  '_next',
  '_throw',
  'tryCatch',
  'invoke',
  'step',
  'fulfilled',
  'rejected',
  'promiseReactionJob',
  'processTicksAndRejections',
]);

function selectInAppFrames(frames: readonly ParsedFrame[]): string[] {
  const selected: string[] = [];
  for (const frame of frames) {
    if (NON_APP_LOCATION.some((pattern) => pattern.test(frame.location))) continue;
    const file = normalizeFileName(frame.location);
    if (NON_APP_BUNDLE.test(file)) continue;
    const fn = normalizeFunctionName(frame.rawFunction);
    if (fn && NON_APP_FUNCTIONS.has(fn)) continue;
    const key = fn ?? `?@${file}`;
    // Recursion shows the same frame many times, and how many depends on the engine's limit.
    if (selected[selected.length - 1] === key) continue;
    selected.push(key);
    if (selected.length === FINGERPRINT_FRAME_COUNT) break;
  }
  return selected;
}

/**
 * The last identifier of a frame's function: `CheckoutForm.handlePay`, `Object.handlePay`,
 * `handlePay/<` (Firefox) and `handlePay` (Safari) all become `handlePay`, since only V8 shows the
 * receiver. Minified names (one or two characters) change with every build, so they count as
 * anonymous; the frame then falls back to its file.
 */
export function normalizeFunctionName(raw: string | null): string | null {
  if (!raw) return null;
  const cleaned = raw
    .replace(/\s*\[as [^\]]+\]/g, '')
    .replace(/^(?:async|new)\s+/g, '')
    .replace(/[<>/]+$/g, '');
  const parts = cleaned.split(/[.</>\s]+/).filter((part) => /^[A-Za-z_$][\w$]*$/.test(part));
  const last = parts[parts.length - 1];
  if (!last) return null;
  if (last.length <= 2 || /^(?:anonymous|eval|global|module|code|Anonymous|function)$/.test(last))
    return null;
  return last;
}

/**
 * A frame's file without the variable parts: host, directories, query string, content hash and
 * chunk number. `https://x.io/static/js/main.3f2a9c1b.js?v=2` → `main.js`; `index-BkX3p9Qz.js`
 * → `index.js`; `742.c0ffee12.chunk.js` → `<n>.chunk.js`. React Native bundles differ per
 * platform (`index.android.bundle`, `main.jsbundle`) but hold the same code: both → `app.bundle`.
 */
export function normalizeFileName(location: string): string {
  const withoutQuery = location.replace(/[?#].*$/, '');
  const base = withoutQuery.slice(withoutQuery.lastIndexOf('/') + 1) || withoutQuery;
  if (/^(?:index(?:\.(?:android|ios))?\.bundle|main\.jsbundle)$/i.test(base)) return 'app.bundle';
  const segments = base.split(/[.\-_~]/).filter((segment) => segment !== '');
  const kept = segments.filter((segment, index) => index === segments.length - 1 || !isContentHash(segment));
  return kept.map((segment) => (/^\d+$/.test(segment) ? '<n>' : segment)).join('.');
}

function isContentHash(segment: string): boolean {
  if (/^[0-9a-f]{6,}$/i.test(segment) && /\d/.test(segment)) return true;
  if (/^[0-9a-f]{8,}$/i.test(segment)) return true;
  // Vite/Rollup base64url hashes: 8 mixed-case characters, usually with a digit.
  return segment.length >= 6 && /^[\w-]+$/.test(segment) && /\d/.test(segment) && /[A-Za-z]/.test(segment);
}

// ---------------------------------------------------------------------------------------------
// Messages and URLs
// ---------------------------------------------------------------------------------------------

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const URL_PATTERN = /\b(?:https?|wss?|file):\/\/[^\s'"<>()]+/gi;
const EMAIL = /\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b/g;
const HEX = /\b(?:0x[0-9a-f]+|[0-9a-f]{6,})\b/gi;
/** Tokens mixing letters and digits, at least 6 long: order ids, tokens, session ids. */
const MIXED_ID = /\b(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[A-Za-z][\w-]{5,}\b|\b(?=\w*[A-Za-z])\d\w{5,}\b/g;
const NUMBER = /\b\d+(?:[.,]\d+)*\b/g;

/**
 * The message with its variable parts replaced by placeholders, so the same error from other
 * users, orders and sessions reads the same: URLs keep only their normalized path, then UUIDs,
 * e-mails, hex values, ids and numbers become `<uuid>`, `<email>`, `<hex>`, `<id>`, `<n>`.
 */
export function normalizeErrorMessage(message: string): string {
  return message
    .slice(0, MAX_MESSAGE_LENGTH * 2)
    .replace(URL_PATTERN, (url) => `<url:${normalizeUrlPath(url)}>`)
    .replace(UUID, '<uuid>')
    .replace(EMAIL, '<email>')
    .replace(HEX, (value) =>
      /^0x/i.test(value) || (/\d/.test(value) && /[a-f]/i.test(value)) ? '<hex>' : value,
    )
    .replace(MIXED_ID, (value) => (/^[a-z]+\d?$/i.test(value) ? value : '<id>'))
    .replace(NUMBER, '<n>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, MAX_MESSAGE_LENGTH);
}

/**
 * A URL's path without host, query, fragment and the segments that vary per request:
 * `https://api.x.io/v2/orders/ord_8XkP2mQ/invoice.pdf?dl=1` → `/v2/orders/<id>/invoice.pdf`.
 */
export function normalizeUrlPath(url: string): string {
  const withoutScheme = url.replace(/^[a-z][\w+.-]*:\/\/[^/]*/i, '');
  const path = withoutScheme.replace(/[?#].*$/, '') || '/';
  const segments = path.split('/').map((segment) => normalizePathSegment(segment));
  return segments.join('/') || '/';
}

function normalizePathSegment(segment: string): string {
  if (segment === '') return segment;
  if (/^\d+$/.test(segment)) return '<n>';
  if (new RegExp(`^${UUID.source}$`, 'i').test(segment)) return '<uuid>';
  if (/^[0-9a-f]{8,}$/i.test(segment)) return '<hex>';
  if (/\.[a-z0-9]{1,5}$/i.test(segment) && !/^[\w-]+_\w*\d/.test(segment)) return normalizeFileName(segment);
  // Ids: long tokens with digits (`ord_8XkP2mQ`, `usr-123abc`); keep versions such as `v2`.
  if (/\d/.test(segment) && (segment.length >= 5 || /[_-]/.test(segment))) return '<id>';
  return segment;
}
