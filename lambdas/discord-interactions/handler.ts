import { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import { PowertoolsBusinessMetrics } from '../../shared/adapters/aws-cloudwatch/powertools-business-metrics.js';
import { SqsJobQueue } from '../../shared/adapters/aws-sqs/sqs-job-queue.js';
import { loadDiscordIngressConfig } from '../../shared/config/discord-ingress-config.js';
import { pongResponse } from '../../shared/discord/interaction-responses.js';
import { parseInteraction } from '../../shared/discord/parse-interaction.js';
import { createDiscordVerifier, type DiscordVerifier } from '../../shared/discord/verify-signature.js';
import {
  errorResult,
  type HttpEvent,
  type HttpResult,
  jsonResult,
  readHeader,
  readRawBody,
} from '../../shared/http/api-gateway.js';
import type { DiscordCommandJob, DiscordComponentJob } from '../../shared/jobs/job-schemas.js';
import { createServiceMetrics, SERVICE_NAMES } from '../../shared/observability/metrics.js';
import { loadServiceTracer, traceHttpInvocation } from '../../shared/observability/tracing.js';
import type { BusinessMetrics } from '../../shared/ports/business-metrics.js';
import type { JobQueue } from '../../shared/ports/job-queue.js';

/**
 * POST /discord/interactions. On Discord's 3-second clock, so it only verifies, parses,
 * authorizes from the member's roles, queues one job and answers; the processor does the rest.
 */

/**
 * One structured log line. Attributes are ids, kinds and fixed reasons only: never a secret, a
 * token or the user's text. The composition root writes it with Powertools Logger.
 */
export type IngressLogEntry = { level: 'info' | 'warn' | 'error'; message: string } & Record<string, unknown>;

export interface DiscordInteractionsDeps {
  verifier: DiscordVerifier;
  queue: JobQueue;
  /** Roles whose members may launch fixes; empty means nobody may. */
  allowedRoleIds: readonly string[];
  /** Epoch milliseconds. */
  clock: () => number;
  /** When set, a validly signed interaction for another application is rejected (400). */
  applicationId?: string;
  /** When set, interactions from other guilds are refused (ephemeral) and nothing is queued. */
  guildId?: string;
  log: (entry: IngressLogEntry) => void;
  /** Counts queued commands by name (`CommandsReceived`). */
  metrics?: BusinessMetrics;
}

export type DiscordInteractionsHandler = (event: HttpEvent) => Promise<HttpResult>;

export function createDiscordInteractionsHandler(deps: DiscordInteractionsDeps): DiscordInteractionsHandler {
  const { log } = deps;
  return async (event) => {
    const signature = readHeader(event, 'x-signature-ed25519');
    const timestamp = readHeader(event, 'x-signature-timestamp');
    const rawBody = readRawBody(event);
    // Discord probes the endpoint with bad signatures and drops it unless they get a 401.
    if (!deps.verifier(rawBody, signature, timestamp)) {
      return errorResult(401, 'invalid request signature');
    }

    let body: unknown;
    try {
      body = JSON.parse(rawBody.toString('utf8'));
    } catch {
      log({ level: 'warn', message: 'signed interaction body is not JSON' });
      return errorResult(400, 'malformed interaction');
    }

    const outcome = parseInteraction(body, {
      allowedRoleIds: deps.allowedRoleIds,
      now: deps.clock(),
      applicationId: deps.applicationId,
      guildId: deps.guildId,
    });
    switch (outcome.kind) {
      case 'pong':
        return jsonResult(200, pongResponse);
      case 'malformed':
        log({
          level: 'warn',
          message: 'signed interaction rejected',
          reason: outcome.reason,
          interactionId: interactionIdOf(body),
        });
        return errorResult(400, 'malformed interaction');
      case 'respond':
        return jsonResult(200, outcome.response);
      case 'enqueue': {
        const { job } = outcome;
        try {
          await deps.queue.send(job);
        } catch (error) {
          // Discord shows "the application did not respond"; the user can retry.
          log({
            level: 'error',
            message: 'could not enqueue the interaction job',
            ...correlationOf(job),
            error: describeError(error),
          });
          return errorResult(500, 'internal error');
        }
        log({ level: 'info', message: 'interaction job queued', ...correlationOf(job) });
        deps.metrics?.record('CommandsReceived', 1, { command: commandOf(job) });
        return jsonResult(200, outcome.response);
      }
    }
  };
}

/** A small, fixed set of values: the command name, or `button:<action>` for bug-card buttons. */
function commandOf(job: DiscordCommandJob | DiscordComponentJob): string {
  return job.kind === 'discord.command' ? job.command.name : `button:${job.action}`;
}

/** The processor's correlation keys (`jobKind`, `idempotencyKey`, `interactionId`, `bugId`), so one query follows a job end to end. */
function correlationOf(job: DiscordCommandJob | DiscordComponentJob): Record<string, string> {
  const ids = { jobKind: job.kind, idempotencyKey: job.idempotencyKey, interactionId: job.interaction.id };
  return job.kind === 'discord.component' ? { ...ids, bugId: job.bugId } : ids;
}

/** The interaction's id when it is a snowflake; anything else in a rejected body stays out of the logs. */
function interactionIdOf(body: unknown): string | undefined {
  const id = typeof body === 'object' && body !== null ? (body as { id?: unknown }).id : undefined;
  return typeof id === 'string' && /^\d{15,22}$/.test(id) ? id : undefined;
}

function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { name: typeof error };
  const cause =
    error.cause instanceof Error ? { name: error.cause.name, message: error.cause.message } : undefined;
  return { name: error.name, message: error.message, cause };
}

// Composition root, at cold start: config fails fast, the key is parsed once, no network here.
const config = loadDiscordIngressConfig(process.env);
const logger = new Logger({ serviceName: SERVICE_NAMES.discordIngress });
// A dimensioned metric is written at once (no flush needed); Powertools Metrics costs about 3 ms
// of cold import here (measured with `npm run bench -- ingress`), well inside the budget.
const metrics = new PowertoolsBusinessMetrics(createServiceMetrics(SERVICE_NAMES.discordIngress));

// Loaded only in Lambda, where it traces (see shared/observability/tracing.ts for the cost).
const tracer = await loadServiceTracer(SERVICE_NAMES.discordIngress, process.env);
const sqs = new SQSClient({
  // No `endpoint` override, so AWS_ENDPOINT_URL_SQS can point it at a local queue; and not the
  // queue URL's host either (the SDK's default), which would silently override that variable.
  // In AWS the regional endpoint is the queue URL's host anyway.
  useQueueUrlAsEndpoint: false,
  // Tight timeouts and one retry keep a slow SQS inside Discord's 3-second window.
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 500, requestTimeout: 1000 },
});

const handle = createDiscordInteractionsHandler({
  verifier: createDiscordVerifier(config.publicKeyHex),
  queue: new SqsJobQueue(tracer ? tracer.captureAWSv3Client(sqs) : sqs, config.jobsQueueUrl),
  allowedRoleIds: config.fixAllowedRoleIds,
  applicationId: config.applicationId,
  guildId: config.guildId,
  clock: Date.now,
  log: ({ level, message, ...attributes }) => logger[level](message, attributes),
  metrics,
});

/** `context` is optional so the local stack and tests can call it with an event alone. */
export const handler = (event: HttpEvent, context?: Context): Promise<HttpResult> => {
  // Adds the request id and cold start to every line (no persistent keys: nothing leaks across invocations).
  if (context) logger.addContext(context);
  return traceHttpInvocation(tracer, '## discord-interactions handler', () => handle(event));
};
