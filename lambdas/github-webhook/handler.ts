import { Logger } from '@aws-lambda-powertools/logger';
import { verify } from '@octokit/webhooks-methods';
import {
  errorResult,
  type HttpEvent,
  type HttpResult,
  jsonResult,
  readHeader,
} from '../../shared/http/api-gateway.js';
import { SERVICE_NAMES } from '../../shared/observability/business-metric-catalog.js';
import { loadServiceTracer } from '../../shared/observability/tracing.js';
import type { JobQueue } from '../../shared/ports/job-queue.js';
import { decideGitHubDelivery } from '../../shared/webhooks/github-events.js';
import { describeFault, type IngressLogger } from '../../shared/webhooks/ingress-log.js';
import { readWebhookBody } from '../../shared/webhooks/read-webhook-body.js';
import type { SigningSecretProvider } from '../../shared/webhooks/signing-secret.js';
import { createSignedWebhookEntry } from '../signed-webhook/compose-signed-webhook.js';

export interface GitHubWebhookDeps {
  readonly jobQueue: JobQueue;
  readonly secret: SigningSecretProvider;
  readonly logger: IngressLogger;
  readonly now?: () => number;
}

export type GitHubWebhookHandler = (event: HttpEvent) => Promise<HttpResult>;

/**
 * `POST /webhooks/github` (DESIGN "Hearing back"): size → `x-hub-signature-256` verified over the
 * exact body with `@octokit/webhooks-methods` (HMAC-SHA256, constant-time) → `ping` 200 → one
 * `github.event` job keyed on `x-github-delivery` → 202. Refusals and events bugbot does not act
 * on queue nothing.
 */
export function createGitHubWebhookHandler(deps: GitHubWebhookDeps): GitHubWebhookHandler {
  const now = deps.now ?? Date.now;
  const { logger } = deps;
  return async (event) => {
    const body = readWebhookBody(event);
    if (!body.ok) {
      logger.warn('github delivery refused: body too large', { bytes: body.bytes });
      return errorResult(413, 'payload too large', `the limit is ${body.limitBytes} bytes`);
    }
    const signature = readHeader(event, 'x-hub-signature-256');
    if (!signature) {
      logger.warn('github delivery refused: not signed', {});
      return errorResult(401, 'missing x-hub-signature-256');
    }
    let secret: string;
    try {
      secret = await deps.secret();
    } catch (error) {
      logger.error('github delivery refused: webhook secret unavailable', { error: describeFault(error) });
      return errorResult(503, 'temporarily unable to accept deliveries; retry later');
    }
    // The library compares in constant time over the UTF-8 of the body text, which is the bytes
    // GitHub signed (readWebhookBody decodes the exact bytes, base64 included). An empty body
    // makes it throw: that is a bad delivery, not a fault.
    const valid = await verify(secret, body.text, signature).catch(() => false);
    if (!valid) {
      logger.warn('github delivery refused: bad signature', {});
      return errorResult(401, 'invalid signature');
    }

    const deliveryId = readHeader(event, 'x-github-delivery');
    const githubEvent = readHeader(event, 'x-github-event');
    const decision = decideGitHubDelivery({ event: githubEvent, deliveryId, body: body.text, now: now() });
    switch (decision.kind) {
      case 'ping':
        logger.info('github ping', { deliveryId });
        return jsonResult(200, { ok: true });
      case 'ignore':
        logger.info('github delivery ignored', { deliveryId, event: githubEvent, reason: decision.reason });
        return jsonResult(202, { queued: false });
      case 'malformed':
        logger.warn('github delivery refused: malformed', { deliveryId, reason: decision.reason });
        return errorResult(400, 'malformed delivery', decision.reason);
      case 'enqueue': {
        const { job } = decision;
        const correlation = { jobKind: job.kind, idempotencyKey: job.idempotencyKey, type: job.event.type };
        try {
          await deps.jobQueue.send(job);
        } catch (error) {
          logger.error('github delivery not queued', { ...correlation, error: describeFault(error) });
          // GitHub does not redeliver by itself; a 5xx shows in the hook's "Recent Deliveries".
          return errorResult(503, 'temporarily unable to accept deliveries; retry later');
        }
        logger.info('github delivery queued', correlation);
        return jsonResult(202, { queued: true });
      }
    }
  };
}

// ---- composition root -------------------------------------------------------------------------

const logger = new Logger({ serviceName: SERVICE_NAMES.githubWebhook });
const tracer = await loadServiceTracer(SERVICE_NAMES.githubWebhook, process.env);

export const handler = createSignedWebhookEntry(
  process.env,
  {
    name: 'github',
    secretEnvName: 'GITHUB_WEBHOOK_SECRET',
    secretField: 'githubWebhookSecret',
    logger,
    tracer,
  },
  ({ jobQueue, secret }) => createGitHubWebhookHandler({ jobQueue, secret, logger }),
);
