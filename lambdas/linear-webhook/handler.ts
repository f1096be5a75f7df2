import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { LinearWebhookClient } from '@linear/sdk/webhooks';
import {
  errorResult,
  type HttpEvent,
  type HttpResult,
  jsonResult,
  readHeader,
  readRawBody,
} from '../../shared/http/api-gateway.js';
import { SERVICE_NAMES } from '../../shared/observability/business-metric-catalog.js';
import { loadServiceTracer } from '../../shared/observability/tracing.js';
import type { JobQueue } from '../../shared/ports/job-queue.js';
import { describeFault, type IngressLogger } from '../../shared/webhooks/ingress-log.js';
import { decideLinearDelivery } from '../../shared/webhooks/linear-events.js';
import { MAX_WEBHOOK_BODY_BYTES } from '../../shared/webhooks/read-webhook-body.js';
import type { SigningSecretProvider } from '../../shared/webhooks/signing-secret.js';
import { createSignedWebhookEntry } from '../signed-webhook/compose-signed-webhook.js';

export interface LinearWebhookDeps {
  readonly jobQueue: JobQueue;
  readonly secret: SigningSecretProvider;
  readonly logger: IngressLogger;
  readonly now?: () => number;
}

export type LinearWebhookHandler = (event: HttpEvent) => Promise<HttpResult>;

/**
 * `POST /webhooks/linear` (DESIGN "Hearing back"): size → `linear-signature` checked with the
 * `@linear/sdk/webhooks` helper (`LinearWebhookClient.parseData`: hex HMAC-SHA256 of the raw body,
 * `timingSafeEqual`, then refuses a signed `webhookTimestamp` more than 60 s from now; the SDK
 * parses the body only after the HMAC matched) → one `linear.event` job keyed on
 * `linear-delivery` → 202.
 */
export function createLinearWebhookHandler(deps: LinearWebhookDeps): LinearWebhookHandler {
  const now = deps.now ?? Date.now;
  const { logger } = deps;
  let client: { secret: string; client: LinearWebhookClient } | undefined;
  return async (event) => {
    const bytes = Buffer.byteLength(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
    if (bytes > MAX_WEBHOOK_BODY_BYTES) {
      logger.warn('linear delivery refused: body too large', { bytes });
      return errorResult(413, 'payload too large', `the limit is ${MAX_WEBHOOK_BODY_BYTES} bytes`);
    }
    const signature = readHeader(event, 'linear-signature');
    if (!signature) {
      logger.warn('linear delivery refused: not signed', {});
      return errorResult(401, 'missing linear-signature');
    }
    let secret: string;
    try {
      secret = await deps.secret();
    } catch (error) {
      logger.error('linear delivery refused: webhook secret unavailable', { error: describeFault(error) });
      return errorResult(503, 'temporarily unable to accept deliveries; retry later');
    }
    if (client?.secret !== secret) client = { secret, client: new LinearWebhookClient(secret) };
    const raw = readRawBody(event);
    let payload: unknown;
    try {
      payload = client.client.parseData(raw, signature);
    } catch (error) {
      // The HMAC matched but the body is not JSON: a malformed delivery, not a forged one.
      if (error instanceof SyntaxError) {
        logger.warn('linear delivery refused: signed body is not JSON', {});
        return errorResult(400, 'malformed delivery');
      }
      const stale = error instanceof Error && /timestamp/i.test(error.message);
      logger.warn('linear delivery refused: not authenticated', {
        reason: stale ? 'stale' : 'bad-signature',
      });
      return errorResult(401, stale ? 'stale or missing webhookTimestamp' : 'invalid signature');
    }

    // Linear names every delivery (`Linear-Delivery`); without it, the body names a redelivery.
    const deliveryHeader = readHeader(event, 'linear-delivery');
    const deliveryKey =
      deliveryHeader && /^[A-Za-z0-9-]{1,100}$/.test(deliveryHeader)
        ? deliveryHeader
        : `body-${createHash('sha256').update(raw).digest('hex')}`;
    const decision = decideLinearDelivery({ deliveryKey, payload, now: now() });
    switch (decision.kind) {
      case 'ignore':
        logger.info('linear delivery ignored', { deliveryKey, reason: decision.reason });
        return jsonResult(202, { queued: false });
      case 'malformed':
        logger.warn('linear delivery refused: malformed', { deliveryKey, reason: decision.reason });
        return errorResult(400, 'malformed delivery', decision.reason);
      case 'enqueue': {
        const { job } = decision;
        const correlation = {
          jobKind: job.kind,
          idempotencyKey: job.idempotencyKey,
          stateType: job.stateType,
        };
        try {
          await deps.jobQueue.send(job);
        } catch (error) {
          logger.error('linear delivery not queued', { ...correlation, error: describeFault(error) });
          // Linear retries a failed delivery with backoff.
          return errorResult(503, 'temporarily unable to accept deliveries; retry later');
        }
        logger.info('linear delivery queued', correlation);
        return jsonResult(202, { queued: true });
      }
    }
  };
}

// ---- composition root -------------------------------------------------------------------------

const logger = new Logger({ serviceName: SERVICE_NAMES.linearWebhook });
const tracer = await loadServiceTracer(SERVICE_NAMES.linearWebhook, process.env);

export const handler = createSignedWebhookEntry(
  process.env,
  {
    name: 'linear',
    secretEnvName: 'LINEAR_WEBHOOK_SECRET',
    secretField: 'linearWebhookSecret',
    logger,
    tracer,
  },
  ({ jobQueue, secret }) => createLinearWebhookHandler({ jobQueue, secret, logger }),
);
