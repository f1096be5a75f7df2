import { createHmac, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { executeGraphQL, type GraphQLRequestBody } from './linear/graphql-executor.js';
import { authenticationRequired, faultBody, rateLimited } from './linear/linear-errors.js';
import {
  type IssueStateChange,
  LINEAR_SANDBOX,
  LinearWorkspace,
  type WorkflowStateType,
} from './linear/linear-workspace.js';
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
import {
  type DeliveryRecord,
  deliverWebhook,
  newDeliveryId,
  type WebhookTarget,
} from './webhook-delivery.js';

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
  /** Where the workspace's webhook delivers `Issue` updates, signed with `secret`. Null: no hook. */
  setWebhook(target: WebhookTarget | null): void;
  /**
   * Moves an issue to its team's Done (`completed`) or Canceled (`canceled`) state, as a person
   * would in Linear, and delivers the signed `Issue` update (the GraphQL `issueUpdate` mutation
   * delivers it too).
   */
  setIssueState(
    reference: string,
    type: WorkflowStateType,
  ): Promise<
    | { ok: true; issue: Record<string, unknown>; delivery: DeliveryRecord | null }
    | { ok: false; error: string }
  >;
}

const REQUESTS_PER_HOUR = 5000;

export function createLinearStandIn(options: LinearStandInOptions = {}): LinearStandIn {
  const now = options.now ?? (() => new Date());
  const workspace = new LinearWorkspace({ now, newId: options.newId ?? randomUUID });
  const faults = new FaultInjector(options.random);
  const calls: RecordedCall[] = [];
  let rateLimit = { remaining: 0, resetInMs: 60_000 };
  let webhook: WebhookTarget | null = null;
  const deliveries: DeliveryRecord[] = [];
  let lastDelivery: Promise<DeliveryRecord | null> = Promise.resolve(null);

  /**
   * Linear's webhook delivery (https://linear.app/developers/webhooks): a POST whose body is the
   * entity payload `{ action, type, data, updatedFrom, url, createdAt, organizationId,
   * webhookTimestamp (ms), webhookId }`, with `Linear-Delivery` (a UUID), `Linear-Event` and
   * `Linear-Signature` (hex HMAC-SHA256 of the body with the webhook's signing secret) — what
   * `@linear/sdk/webhooks` verifies. Delivered after the mutation answers, as Linear does.
   */
  async function deliverStateChange(change: IssueStateChange): Promise<DeliveryRecord | null> {
    const target = webhook;
    if (!target) return null;
    const sentAt = now();
    const body = JSON.stringify({
      action: 'update',
      type: 'Issue',
      actor: { id: LINEAR_SANDBOX.viewerId, name: 'bugbot sandbox', type: 'user' },
      createdAt: sentAt.toISOString(),
      data: change.data,
      updatedFrom: change.updatedFrom,
      url: change.url,
      organizationId: LINEAR_SANDBOX.organizationId,
      webhookTimestamp: sentAt.getTime(),
      webhookId: 'b0b0b0b0-5a1e-4b0b-9e11-00000000face',
    });
    const id = newDeliveryId();
    const result = await deliverWebhook({
      url: target.url,
      body,
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'user-agent': 'Linear-Webhook',
        'linear-delivery': id,
        'linear-event': 'Issue',
        'linear-signature': createHmac('sha256', target.secret).update(body).digest('hex'),
      },
    });
    const record: DeliveryRecord = {
      id,
      event: 'Issue',
      action: 'update',
      at: sentAt.toISOString(),
      ...result,
    };
    deliveries.push(record);
    return record;
  }
  workspace.onIssueStateChange((change) => {
    const delivery = deliverStateChange(change);
    lastDelivery = delivery;
    delivery.catch(() => undefined);
  });

  async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const raw = await readBody(req);
    const body = parseJson(raw);
    const method = req.method ?? 'GET';
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      sendJson(res, status, payload, headers);
      calls.push({ at: now().toISOString(), method, path, body, status });
    };

    const fault = await faults.apply();
    if (fault?.kind === 'html') {
      sendHtmlFault(res, fault.status);
      calls.push({ at: now().toISOString(), method, path, body, status: fault.status });
      return;
    }
    if (fault?.kind === 'truncate') cutResponseBody(res);
    if (fault?.kind === 'status') {
      const faultStatus = fault.status;
      const { contentType, body: text } = faultBody(faultStatus);
      const headers: Record<string, string> = { 'content-type': contentType };
      if (faultStatus === 429) {
        const seconds = fault.retryAfterSeconds ?? 30;
        Object.assign(headers, rateLimitHeaders(now(), seconds * 1000), { 'retry-after': String(seconds) });
      }
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
    setWebhook(target) {
      webhook = target;
    },
    async setIssueState(reference, type) {
      lastDelivery = Promise.resolve(null); // an issue already in that state changes nothing
      const change = workspace.setIssueState(reference, type);
      if (!change) return { ok: false, error: `no issue ${reference} with a ${type} state` };
      return { ok: true, issue: change.data, delivery: await lastDelivery };
    },
    snapshot() {
      return { ...workspace.snapshot(), deliveries: [...deliveries] };
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
