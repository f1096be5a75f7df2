import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';

/**
 * A sandbox stand-in for an outside service. The local stack mounts each one under its own path
 * prefix on the one local HTTP server (e.g. `/_sandbox/linear`), points the real SDK at that
 * base URL, and reads `snapshot()` for `GET /_local/state`.
 */

export interface RecordedCall {
  readonly at: string;
  readonly method: string;
  /** Path below the stand-in's prefix, with the query string. */
  readonly path: string;
  /** Parsed JSON body when there was one (GraphQL: `{ query, variables }`). */
  readonly body?: unknown;
  readonly status: number;
}

/**
 * `POST /_local/faults` → `{ service, failRate, status, latencyMs, failNext?, body?, retryAfterSeconds? }`.
 *
 * What a failing request gets, by `body`:
 * - `vendor` (default): `status` with the service's own error body and headers (a 429 carries
 *   the service's `retry-after` / rate-limit headers). The request is not carried out.
 * - `html`: `status` (200 or a 5xx, typically 502) with an HTML page, as a proxy, CDN or captive
 *   portal answers when the service is not reached. The request is not carried out.
 * - `truncated`: the request IS carried out, and its answer is cut off halfway through the body
 *   (framing intact, so the client sees a 2xx whose JSON does not parse): the case where a
 *   retry must not repeat a side effect. `status` is ignored.
 */
export type FaultBody = 'vendor' | 'html' | 'truncated';

export interface Fault {
  /** 0..1; the share of requests that fail. */
  readonly failRate: number;
  readonly status: number;
  /** Added before every answer, failed or not: past a client's timeout, the request is still carried out late. */
  readonly latencyMs: number;
  /** Optional: fail only the next N requests (then behave), for "fails twice then recovers". */
  readonly failNext?: number;
  readonly body?: FaultBody;
  /** For a `vendor` 429: the wait the service asks for. Default: each stand-in's own (1 s). */
  readonly retryAfterSeconds?: number;
}

/** What the fault injector decided for one request. */
export type FaultDecision =
  | { readonly kind: 'status'; readonly status: number; readonly retryAfterSeconds?: number }
  | { readonly kind: 'html'; readonly status: number }
  | { readonly kind: 'truncate' };

export interface StandIn {
  readonly service: 'discord' | 'linear' | 'posthog' | 'anthropic' | 'github';
  /** Handles one request; `path` is below the prefix, starting with `/`, query string included. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
  readonly calls: readonly RecordedCall[];
  setFault(fault: Fault | null): void;
  /** What the stand-in holds now (issues, comments, messages...), for `/_local/state`. */
  snapshot(): Record<string, unknown>;
}

/**
 * Decides, per request, whether the configured fault fires. Shared by every stand-in so that
 * `failRate`, `failNext`, `latencyMs` and `body` mean the same thing everywhere.
 */
export class FaultInjector {
  private fault: Fault | null = null;
  private remaining = 0;

  constructor(private readonly random: () => number = Math.random) {}

  set(fault: Fault | null): void {
    this.fault = fault;
    this.remaining = fault?.failNext ?? 0;
  }

  /** Waits the configured latency, then says how to fail this request, or null to answer it. */
  async apply(): Promise<FaultDecision | null> {
    const fault = this.fault;
    if (!fault) return null;
    if (fault.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
    if (fault.failNext !== undefined) {
      if (this.remaining <= 0) return null;
      this.remaining -= 1;
    } else if (!(this.random() < fault.failRate)) {
      return null;
    }
    switch (fault.body ?? 'vendor') {
      case 'html':
        return { kind: 'html', status: fault.status };
      case 'truncated':
        return { kind: 'truncate' };
      default:
        return {
          kind: 'status',
          status: fault.status,
          ...(fault.retryAfterSeconds !== undefined ? { retryAfterSeconds: fault.retryAfterSeconds } : {}),
        };
    }
  }
}

/** The page a proxy or CDN serves in front of an unreachable service (`text/html`). */
export function sendHtmlFault(res: ServerResponse, status: number): void {
  const title = status === 200 ? 'We&rsquo;ll be right back' : `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
  res.end(
    `<!DOCTYPE html>\n<html><head><title>${title}</title></head><body><center><h1>${title}</h1></center><hr><center>sandbox edge proxy</center></body></html>\n`,
  );
}

/**
 * Makes `res` send only the first half of whatever body the handler writes: the handler runs
 * (and its side effects happen) as usual; the client gets a cut-off answer. `content-length`
 * is dropped so the framing stays valid (chunked) and the client reads a short body, not a reset.
 */
export function cutResponseBody(res: ServerResponse): void {
  const chunks: Buffer[] = [];
  const toBuffer = (chunk: unknown, encoding?: unknown): Buffer =>
    Buffer.isBuffer(chunk)
      ? chunk
      : chunk instanceof Uint8Array
        ? Buffer.from(chunk)
        : Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  const end = res.end.bind(res) as (chunk?: unknown) => ServerResponse;
  res.removeHeader('content-length');
  (res as unknown as { writeHead: (...args: unknown[]) => ServerResponse }).writeHead = (...args) => {
    for (const arg of args) {
      if (arg && typeof arg === 'object' && !Array.isArray(arg)) {
        for (const name of Object.keys(arg)) {
          if (name.toLowerCase() === 'content-length') delete (arg as Record<string, unknown>)[name];
        }
      }
    }
    if (!res.headersSent) res.removeHeader('content-length');
    return writeHead(...args);
  };
  (res as unknown as { write: (...args: unknown[]) => boolean }).write = (chunk, encoding) => {
    if (typeof chunk !== 'function' && chunk !== undefined && chunk !== null)
      chunks.push(toBuffer(chunk, encoding));
    const callback = [encoding].find((arg) => typeof arg === 'function') as (() => void) | undefined;
    callback?.();
    return true;
  };
  (res as unknown as { end: (...args: unknown[]) => ServerResponse }).end = (chunk, encoding) => {
    if (typeof chunk !== 'function' && chunk !== undefined && chunk !== null)
      chunks.push(toBuffer(chunk, encoding));
    if (!res.headersSent) res.removeHeader('content-length');
    const body = Buffer.concat(chunks);
    return end(body.subarray(0, Math.floor(body.length / 2)));
  };
}

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}
