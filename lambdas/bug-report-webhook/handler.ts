import { Logger } from '@aws-lambda-powertools/logger';
import type { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { PowertoolsBusinessMetrics } from '../../shared/adapters/aws-cloudwatch/powertools-business-metrics.js';
import { SqsJobQueue } from '../../shared/adapters/aws-sqs/sqs-job-queue.js';
import { loadWebhookIngressConfig } from '../../shared/config/webhook-ingress-config.js';
import { ConfigError } from '../../shared/domain/errors.js';
import {
  errorResult,
  type HttpEvent,
  type HttpResult,
  jsonResult,
  readHeader,
} from '../../shared/http/api-gateway.js';
import { MAX_JOB_MESSAGE_BYTES } from '../../shared/jobs/job-message.js';
import { JOB_SCHEMA_VERSION } from '../../shared/jobs/job-schemas.js';
import { createServiceMetrics, SERVICE_NAMES } from '../../shared/observability/metrics.js';
import { loadServiceTracer, traceHttpInvocation } from '../../shared/observability/tracing.js';
import type { BusinessMetrics } from '../../shared/ports/business-metrics.js';
import type { JobQueue } from '../../shared/ports/job-queue.js';
import { authenticateWebhook } from '../../shared/webhooks/authenticate-webhook.js';
import { fitReportJob } from '../../shared/webhooks/fit-report-job.js';
import { identifyDelivery } from '../../shared/webhooks/identify-delivery.js';
import { parseBugReport } from '../../shared/webhooks/parse-bug-report.js';
import { readWebhookBody } from '../../shared/webhooks/read-webhook-body.js';
import {
  createWebhookCredentialsProvider,
  type WebhookCredentialsProvider,
} from '../../shared/webhooks/webhook-credentials.js';
import { type Budget, type RetryPolicy, retryWithinBudget } from '../../shared/webhooks/within-budget.js';

/**
 * The subset of a structured logger the handler uses (Powertools' Logger fits). Attributes carry
 * ids, counts and fixed reasons only: never a credential or the report's text.
 */
export interface WebhookLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

export interface BugReportWebhookDeps {
  jobQueue: JobQueue;
  credentials: WebhookCredentialsProvider;
  logger: WebhookLogger;
  /** Counts accepted reports (`ReportsReceived`). */
  metrics?: BusinessMetrics;
  now?: () => Date;
  /** Milliseconds a delivery may spend waiting on Secrets Manager and SQS together. */
  budgetMs?: number;
  /** How SendMessage is retried inside the budget. */
  sendPolicy?: Partial<RetryPolicy>;
  /** The largest job to send (MAX_JOB_MESSAGE_BYTES); a larger one is cut to fit (and says so). */
  maxMessageBytes?: number;
}

/**
 * How long a delivery may keep trying before it answers 503. Not Supabase's one second: a
 * database webhook is sent once and never retried (pg_net), so once that second is over, bugbot
 * answering late costs nothing but a timeout line in Supabase's log, while giving up loses the
 * report. When AWS is well the answer comes in milliseconds, inside the second; when it is not,
 * short attempts go on for up to 4 s (the Lambda's timeout is 5 s, so the answer is still a
 * clean 503, not a timed-out invocation). A sender that does retry (Standard Webhooks, the
 * outbox) and gave up meanwhile sends again: the delivery's key collapses the copy.
 */
export const WEBHOOK_BUDGET_MS = 4_000;

/** Kept back from the invocation's remaining time, to log and answer. */
const ANSWER_MARGIN_MS = 300;

/** Extra time an attempt gets per MiB of report: the body has to travel and be checked by SQS. */
const SEND_MS_PER_MIB = 300;

/**
 * SendMessage answers in milliseconds when SQS is well; a first attempt still waiting after
 * 250 ms is abandoned and sent again (the processor is idempotent on the delivery's key, so a
 * duplicate that did arrive changes nothing), each next one with twice the time (250, 500, 1000,
 * 2000 ms: two tries inside Supabase's second, the rest of the budget after it).
 */
export const DEFAULT_SEND_POLICY: RetryPolicy = {
  attemptTimeoutMs: 250,
  attemptTimeoutGrowth: 2,
  minAttemptMs: 40,
  backoffMs: 25,
  maxAttempts: 8,
};

export type BugReportWebhookHandler = (
  event: HttpEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
) => Promise<HttpResult>;

/**
 * `POST /webhooks/bug-report`: size → authenticate → parse → enqueue one `bug.report` job → 202.
 * Refusals queue nothing. Cheap checks come first so a flood of junk costs no HMAC or queue call.
 */
export function createBugReportWebhookHandler(deps: BugReportWebhookDeps): BugReportWebhookHandler {
  const { jobQueue, credentials, logger, metrics } = deps;
  const now = deps.now ?? (() => new Date());
  const budgetMs = deps.budgetMs ?? WEBHOOK_BUDGET_MS;
  const sendPolicy: RetryPolicy = { ...DEFAULT_SEND_POLICY, ...deps.sendPolicy };
  const maxMessageBytes = deps.maxMessageBytes ?? MAX_JOB_MESSAGE_BYTES;

  return async (event, context) => {
    // The budget runs on the wall clock of this process, from the moment the delivery arrives,
    // and never past the invocation's own end.
    const started = Date.now();
    // What is left of the invocation (Lambda's context), to answer before it ends.
    const remaining = context?.getRemainingTimeInMillis?.();
    const allowed = remaining === undefined ? budgetMs : Math.min(budgetMs, remaining - ANSWER_MARGIN_MS);
    const budget: Budget = { deadline: started + Math.max(0, allowed), now: Date.now };
    const body = readWebhookBody(event);
    if (!body.ok) {
      logger.warn('bug report refused: body too large', { bytes: body.bytes });
      return errorResult(413, 'payload too large', `the limit is ${body.limitBytes} bytes`);
    }

    let prepared: Awaited<ReturnType<WebhookCredentialsProvider>>;
    try {
      prepared = await credentials(budget);
    } catch (error) {
      logger.error('bug report refused: webhook credentials unavailable', { error: describeFault(error) });
      return unavailable();
    }

    const auth = authenticateWebhook(prepared, {
      headers: {
        webhookId: readHeader(event, 'webhook-id'),
        webhookTimestamp: readHeader(event, 'webhook-timestamp'),
        webhookSignature: readHeader(event, 'webhook-signature'),
        authorization: readHeader(event, 'authorization'),
      },
      body: body.text,
    });
    if (!auth.ok) {
      logger.warn('bug report refused: not authenticated', { reason: auth.reason });
      return errorResult(401, 'invalid or missing webhook credentials');
    }

    const parsed = parseBugReport(body.text);
    if (!parsed.ok) {
      if (parsed.reason === 'not-a-new-report') {
        // UPDATE and DELETE events of the reports table: acknowledged, so the sender's log stays
        // clean, and nothing is queued.
        logger.info('database event ignored: not a new report', { type: parsed.type, table: parsed.table });
        return jsonResult(202, { ignored: true, type: parsed.type });
      }
      logger.warn('bug report refused: invalid body', {
        reason: parsed.reason,
        fields: parsed.reason === 'invalid-report' ? parsed.fields.map((field) => field.path) : undefined,
      });
      switch (parsed.reason) {
        case 'malformed-json':
          return errorResult(400, 'body is not valid JSON');
        case 'not-an-object':
          return errorResult(400, 'body must be a JSON object: a bug report or a database webhook envelope');
        case 'invalid-report':
          return jsonResult(422, { error: 'invalid bug report', fields: parsed.fields });
      }
    }

    const { bugId, idempotencyKey } = identifyDelivery(auth.delivery, body.text);
    // The processor's correlation keys; the idempotency key names the delivery (`webhook:<id>`).
    const correlation = { jobKind: 'bug.report', bugId, idempotencyKey } as const;
    const fitted = fitReportJob(
      {
        v: JOB_SCHEMA_VERSION,
        kind: 'bug.report',
        idempotencyKey,
        receivedAt: now().toISOString(),
        bugId,
        report: parsed.report,
      },
      maxMessageBytes,
      body.bytes,
    );
    if (fitted.cuts.length > 0) {
      logger.warn('bug report cut to fit the jobs queue', {
        ...correlation,
        cuts: fitted.cuts.map((cut) => cut.field),
      });
    }
    let attempts: number;
    try {
      ({ attempts } = await retryWithinBudget(
        'sqs',
        (signal) => jobQueue.send(fitted.job, { signal }),
        budget,
        // A large report takes longer to upload: its attempts get more time before they are abandoned.
        {
          ...sendPolicy,
          attemptTimeoutMs: sendPolicy.attemptTimeoutMs + (body.bytes * SEND_MS_PER_MIB) / 1_048_576,
        },
      ));
    } catch (error) {
      logger.error('bug report not queued', { ...correlation, error: describeFault(error) });
      return unavailable();
    }
    logger.info('bug report queued', {
      ...correlation,
      mode: auth.delivery.mode,
      source: parsed.source.kind,
      ...(attempts > 1 ? { attempts } : {}),
    });
    metrics?.record('ReportsReceived', 1);
    return jsonResult(202, { bugId });
  };
}

function unavailable(): HttpResult {
  return errorResult(503, 'temporarily unable to accept bug reports; retry later');
}

/** Names and messages of our own fault types carry no secrets; the cause chain stays in logs only by name. */
function describeFault(error: unknown): Record<string, unknown> {
  if (error instanceof ConfigError) return { name: error.name, problems: error.problems };
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? error.cause.name : undefined;
    return { name: error.name, message: error.message, cause };
  }
  return { name: typeof error };
}

// ---- composition root -------------------------------------------------------------------------

const logger = new Logger({ serviceName: SERVICE_NAMES.webhookIngress });
const metrics = new PowertoolsBusinessMetrics(createServiceMetrics(SERVICE_NAMES.webhookIngress));
// Loaded only in Lambda, where it traces (see shared/observability/tracing.ts for the cost).
const tracer = await loadServiceTracer(SERVICE_NAMES.webhookIngress, process.env);
let secretsManager:
  | Promise<{ client: SecretsManagerClient; command: typeof GetSecretValueCommand }>
  | undefined;

/**
 * Loaded on demand so a deployment that passes the secret in the environment never evaluates the
 * Secrets Manager SDK; `endpoint` is left alone so `AWS_ENDPOINT_URL_SECRETS_MANAGER` applies.
 */
function loadSecretsManager() {
  secretsManager ??= import('@aws-sdk/client-secrets-manager').then(
    ({ SecretsManagerClient, GetSecretValueCommand }) => ({
      // One attempt per call: the credentials provider retries, each attempt on its own short clock.
      client: traced(new SecretsManagerClient({ maxAttempts: 1 })),
      command: GetSecretValueCommand,
    }),
  );
  return secretsManager;
}

async function readServiceSecret(secretId: string, signal: AbortSignal): Promise<string> {
  const { client, command } = await loadSecretsManager();
  const output = await client.send(new command({ SecretId: secretId }), { abortSignal: signal });
  if (output.SecretString === undefined) throw new ConfigError(['service secret: has no SecretString']);
  return output.SecretString;
}

/** An AWS SDK client whose calls become subsegments (and carry the trace to SQS) where tracing is on. */
function traced<Client>(client: Client): Client {
  return tracer ? tracer.captureAWSv3Client(client) : client;
}

type Composition = { ok: true; handle: BugReportWebhookHandler } | { ok: false; error: ConfigError };

function composeFromEnvironment(env: Record<string, string | undefined>): Composition {
  try {
    const config = loadWebhookIngressConfig(env);
    const { secretsArn } = config;
    const credentials = createWebhookCredentialsProvider({
      env: { webhookSecret: config.webhookSecret, bearerToken: config.bearerToken },
      readServiceSecret: secretsArn ? (signal) => readServiceSecret(secretsArn, signal) : undefined,
      prepare: loadSecretsManager,
    });
    // Start the secret read now, while the rest of the container starts: the first delivery then
    // finds it done or under way. It retries on its own; a read that fails altogether is started
    // again by the next delivery, so the rejection is safe to drop here.
    credentials().catch(() => undefined);
    const jobQueue = new SqsJobQueue(
      // One attempt per call, with short socket deadlines: the handler retries inside the
      // delivery's budget (DEFAULT_SEND_POLICY). The configured endpoint wins.
      traced(
        new SQSClient({
          useQueueUrlAsEndpoint: false,
          maxAttempts: 1,
          requestHandler: { connectionTimeout: config.sendAttemptMs, requestTimeout: WEBHOOK_BUDGET_MS },
        }),
      ),
      config.jobsQueueUrl,
    );
    return {
      ok: true,
      handle: createBugReportWebhookHandler({
        jobQueue,
        credentials,
        logger,
        metrics,
        sendPolicy: { ...DEFAULT_SEND_POLICY, attemptTimeoutMs: config.sendAttemptMs },
      }),
    };
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, error };
    throw error;
  }
}

// A configuration problem is kept and reported per request rather than thrown at import, so the
// module stays importable (tests, the local stack) and every refused delivery says why in the logs.
const composition = composeFromEnvironment(process.env);

/** `context` is optional so the local stack and tests can call it with an event alone. */
export const handler = (event: HttpEvent, context?: Context): Promise<HttpResult> => {
  // Adds the request id and cold start to every line (no persistent keys: nothing leaks across invocations).
  if (context) logger.addContext(context);
  return traceHttpInvocation(tracer, '## bug-report-webhook handler', () => handleConfigured(event, context));
};

async function handleConfigured(event: HttpEvent, context: Context | undefined): Promise<HttpResult> {
  if (!composition.ok) {
    logger.error('webhook ingress is misconfigured', { problems: composition.error.problems });
    return errorResult(500, 'the webhook ingress is not configured');
  }
  try {
    return await composition.handle(event, context);
  } finally {
    metrics.flush();
  }
}
