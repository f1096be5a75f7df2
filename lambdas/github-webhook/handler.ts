import { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import { verify } from '@octokit/webhooks-methods';
import type { Context } from 'aws-lambda';
import { createLazySecretReader } from '../../shared/adapters/aws-secrets/lazy-secret-reader.js';
import { SqsJobQueue } from '../../shared/adapters/aws-sqs/sqs-job-queue.js';
import { loadSignedWebhookConfig } from '../../shared/config/signed-webhook-config.js';
import { ConfigError } from '../../shared/domain/errors.js';
import {
  errorResult,
  type HttpEvent,
  type HttpResult,
  jsonResult,
  readHeader,
} from '../../shared/http/api-gateway.js';
import { SERVICE_NAMES } from '../../shared/observability/business-metric-catalog.js';
import { loadServiceTracer, traceHttpInvocation } from '../../shared/observability/tracing.js';
import type { JobQueue } from '../../shared/ports/job-queue.js';
import { decideGitHubDelivery } from '../../shared/webhooks/github-events.js';
import { describeFault, type IngressLogger } from '../../shared/webhooks/ingress-log.js';
import { readWebhookBody } from '../../shared/webhooks/read-webhook-body.js';
import {
  createSigningSecretProvider,
  type SigningSecretProvider,
} from '../../shared/webhooks/signing-secret.js';

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

type Composition = { ok: true; handle: GitHubWebhookHandler } | { ok: false; error: ConfigError };

function composeFromEnvironment(env: Record<string, string | undefined>): Composition {
  try {
    const config = loadSignedWebhookConfig(env, 'GITHUB_WEBHOOK_SECRET');
    const { secretsArn } = config;
    const secret = createSigningSecretProvider({
      envValue: config.signingSecret,
      envName: 'GITHUB_WEBHOOK_SECRET',
      field: 'githubWebhookSecret',
      readSecret: secretsArn
        ? createLazySecretReader(secretsArn, (client) =>
            tracer ? tracer.captureAWSv3Client(client) : client,
          )
        : undefined,
    });
    // Read during init, off the first delivery's clock; a failure is retried by that delivery.
    secret().catch(() => undefined);
    const sqs = new SQSClient({
      useQueueUrlAsEndpoint: false,
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 500, requestTimeout: 1000 },
    });
    const jobQueue = new SqsJobQueue(tracer ? tracer.captureAWSv3Client(sqs) : sqs, config.jobsQueueUrl);
    return { ok: true, handle: createGitHubWebhookHandler({ jobQueue, secret, logger }) };
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, error };
    throw error;
  }
}

// Kept and reported per request rather than thrown at import, so the module stays importable.
const composition = composeFromEnvironment(process.env);

/** `context` is optional so the local stack and tests can call it with an event alone. */
export const handler = (event: HttpEvent, context?: Context): Promise<HttpResult> => {
  if (context) logger.addContext(context);
  return traceHttpInvocation(tracer, '## github-webhook handler', async () => {
    if (!composition.ok) {
      logger.error('github webhook ingress is misconfigured', { problems: composition.error.problems });
      return errorResult(500, 'the webhook ingress is not configured');
    }
    return composition.handle(event);
  });
};
