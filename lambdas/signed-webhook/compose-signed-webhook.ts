import type { Logger } from '@aws-lambda-powertools/logger';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { createLazySecretReader } from '../../shared/adapters/aws-secrets/lazy-secret-reader.js';
import { SqsJobQueue } from '../../shared/adapters/aws-sqs/sqs-job-queue.js';
import { loadSignedWebhookConfig } from '../../shared/config/signed-webhook-config.js';
import { ConfigError } from '../../shared/domain/errors.js';
import { errorResult, type HttpEvent, type HttpResult } from '../../shared/http/api-gateway.js';
import { traceHttpInvocation } from '../../shared/observability/tracing.js';
import type { JobQueue } from '../../shared/ports/job-queue.js';
import {
  createSigningSecretProvider,
  type SigningSecretProvider,
} from '../../shared/webhooks/signing-secret.js';

/**
 * The composition root the GitHub and Linear webhook Lambdas share: the signing secret (from the
 * environment, or read lazily from their own Secrets Manager secret), the SQS job queue, and the
 * exported handler that reports a configuration problem per request rather than at import, so
 * the module stays importable (the local stack, tests).
 */
export interface SignedWebhookRoot {
  /** Shown in logs and trace names, e.g. `github`. */
  readonly name: string;
  readonly secretEnvName: 'GITHUB_WEBHOOK_SECRET' | 'LINEAR_WEBHOOK_SECRET';
  /** The JSON field of its own secret that holds the signing secret. */
  readonly secretField: string;
  readonly logger: Logger;
  readonly tracer: Tracer | undefined;
}

type WebhookHandle = (event: HttpEvent) => Promise<HttpResult>;

export function createSignedWebhookEntry(
  env: Record<string, string | undefined>,
  root: SignedWebhookRoot,
  create: (deps: { jobQueue: JobQueue; secret: SigningSecretProvider }) => WebhookHandle,
): (event: HttpEvent, context?: Context) => Promise<HttpResult> {
  const { logger, tracer } = root;
  const traced = <Client>(client: Client): Client => (tracer ? tracer.captureAWSv3Client(client) : client);
  let composition: { ok: true; handle: WebhookHandle } | { ok: false; error: ConfigError };
  try {
    const config = loadSignedWebhookConfig(env, root.secretEnvName);
    const { secretsArn } = config;
    const secret = createSigningSecretProvider({
      envValue: config.signingSecret,
      envName: root.secretEnvName,
      field: root.secretField,
      readSecret: secretsArn ? createLazySecretReader(secretsArn, traced) : undefined,
    });
    // Read during init, off the first delivery's clock; a failure is retried by that delivery.
    secret().catch(() => undefined);
    const sqs = new SQSClient({
      useQueueUrlAsEndpoint: false,
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 500, requestTimeout: 1000 },
    });
    composition = {
      ok: true,
      handle: create({ jobQueue: new SqsJobQueue(traced(sqs), config.jobsQueueUrl), secret }),
    };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    composition = { ok: false, error };
  }

  /** `context` is optional so the local stack and tests can call it with an event alone. */
  return (event, context) => {
    if (context) logger.addContext(context);
    return traceHttpInvocation(tracer, `## ${root.name}-webhook handler`, async () => {
      if (!composition.ok) {
        logger.error(`${root.name} webhook ingress is misconfigured`, {
          problems: composition.error.problems,
        });
        return errorResult(500, 'the webhook ingress is not configured');
      }
      return composition.handle(event);
    });
  };
}
