import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { executeGraphQL, type GraphQLRequestBody } from './linear/graphql-executor.js';
import { authenticationRequired, faultBody, rateLimited } from './linear/linear-errors.js';
import { LinearWorkspace } from './linear/linear-workspace.js';
import {
  type Fault,
  FaultInjector,
  type RecordedCall,
  readBody,
  type StandIn,
  sendJson,
} from './stand-in.js';

export { LINEAR_SANDBOX } from './linear/linear-workspace.js';

/**
 * Linear's GraphQL API as the real `@linear/sdk` speaks it: `POST /graphql` with a full document
 * (fragments, variables), `Authorization: <api key>`, answers `{ data }` or `{ errors }` with the
 * `extensions` the SDK classifies errors by. Point a client at it with
 * `new LinearClient({ apiKey: 'anything', apiUrl: '<prefix>/graphql' })`.
 */

export interface LinearStandInOptions {
  readonly now?: () => Date;
  /** Ids for records created without a client-chosen id. */
  readonly newId?: () => string;
  /** For `FaultInjector`'s `failRate`. */
  readonly random?: () => number;
}

export interface LinearStandIn extends StandIn {
  readonly service: 'linear';
  /**
   * Answers the next `count` requests the way Linear does when an API key runs out of its hourly
   * budget: HTTP 400, `extensions.code: "RATELIMITED"`, `x-ratelimit-requests-*` headers (the reset
   * an epoch in milliseconds) and no `retry-after`. A fault with status 429 is the other shape.
   */
  rateLimitNext(count: number, options?: { resetInMs?: number }): void;
}

const REQUESTS_PER_HOUR = 5000;

export function createLinearStandIn(options: LinearStandInOptions = {}): LinearStandIn {
  const now = options.now ?? (() => new Date());
  const workspace = new LinearWorkspace({ now, newId: options.newId ?? randomUUID });
  const faults = new FaultInjector(options.random);
  const calls: RecordedCall[] = [];
  let rateLimit = { remaining: 0, resetInMs: 60_000 };

  async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const raw = await readBody(req);
    const body = parseJson(raw);
    const method = req.method ?? 'GET';
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      sendJson(res, status, payload, headers);
      calls.push({ at: now().toISOString(), method, path, body, status });
    };

    const faultStatus = await faults.apply();
    if (faultStatus !== null) {
      const { contentType, body: text } = faultBody(faultStatus);
      const headers: Record<string, string> = { 'content-type': contentType };
      if (faultStatus === 429)
        Object.assign(headers, rateLimitHeaders(now(), 30_000), { 'retry-after': '30' });
      res.writeHead(faultStatus, headers);
      res.end(text);
      calls.push({ at: now().toISOString(), method, path, body, status: faultStatus });
      return;
    }

    const pathname = path.split('?')[0];
    if (pathname !== '/graphql') {
      answer(404, {
        errors: [{ message: `Cannot ${method} ${pathname}`, extensions: { code: 'NOT_FOUND' } }],
      });
      return;
    }
    if (method !== 'POST') {
      answer(
        405,
        { errors: [{ message: 'Only POST is supported.', extensions: { code: 'METHOD_NOT_ALLOWED' } }] },
        {
          allow: 'POST',
        },
      );
      return;
    }
    if (!hasCredentials(req.headers.authorization)) {
      answer(401, authenticationRequired);
      return;
    }
    if (rateLimit.remaining > 0) {
      rateLimit = { ...rateLimit, remaining: rateLimit.remaining - 1 };
      answer(400, rateLimited(REQUESTS_PER_HOUR), rateLimitHeaders(now(), rateLimit.resetInMs));
      return;
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      answer(400, {
        errors: [
          {
            message: 'POST body missing, invalid Content-Type, or JSON object has no keys.',
            extensions: { code: 'BAD_REQUEST', type: 'graphql error', userError: true },
          },
        ],
      });
      return;
    }

    const result = executeGraphQL(body as GraphQLRequestBody, workspace.resolvers);
    if (result.kind === 'invalid') {
      answer(400, { errors: result.errors });
      return;
    }
    answer(
      200,
      result.errors.length > 0 ? { errors: result.errors, data: result.data } : { data: result.data },
    );
  }

  return {
    service: 'linear',
    handle,
    calls,
    setFault(fault: Fault | null) {
      faults.set(fault);
    },
    rateLimitNext(count, limitOptions = {}) {
      rateLimit = { remaining: count, resetInMs: limitOptions.resetInMs ?? 60_000 };
    },
    snapshot() {
      return workspace.snapshot();
    },
  };
}

/** Linear takes a personal API key as-is or an OAuth token as `Bearer …`; either must be non-empty. */
function hasCredentials(header: string | undefined): boolean {
  if (header === undefined) return false;
  const token = header.replace(/^Bearer\s+/i, '').trim();
  return token.length > 0;
}

function rateLimitHeaders(at: Date, resetInMs: number): Record<string, string> {
  return {
    'x-ratelimit-requests-limit': String(REQUESTS_PER_HOUR),
    'x-ratelimit-requests-remaining': '0',
    'x-ratelimit-requests-reset': String(at.getTime() + resetInMs),
  };
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}
