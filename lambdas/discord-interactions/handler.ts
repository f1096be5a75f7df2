import { SQSClient } from '@aws-sdk/client-sqs';
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
import type { BusinessMetrics } from '../../shared/ports/business-metrics.js';
import type { JobQueue } from '../../shared/ports/job-queue.js';

/**
 * POST /discord/interactions. On Discord's 3-second clock, so it only verifies, parses,
 * authorizes from the member's roles, queues one job and answers; the processor does the rest.
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
  log?: (entry: IngressLogEntry) => void;
  /** Counts queued commands by name (`CommandsReceived`). */
  metrics?: BusinessMetrics;
}

export type DiscordInteractionsHandler = (event: HttpEvent) => Promise<HttpResult>;

// One JSON line per entry: what CloudWatch Logs Insights queries, without a logger on the cold start.
const logToConsole = (entry: IngressLogEntry): void => {
  console.log(JSON.stringify({ service: SERVICE_NAMES.discordIngress, ...entry }));
};

export function createDiscordInteractionsHandler(deps: DiscordInteractionsDeps): DiscordInteractionsHandler {
  const log = deps.log ?? logToConsole;
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
    });
    switch (outcome.kind) {
      case 'pong':
        return jsonResult(200, pongResponse);
      case 'malformed':
        log({ level: 'warn', message: 'signed interaction rejected', reason: outcome.reason });
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
            kind: job.kind,
            idempotencyKey: job.idempotencyKey,
            error: describeError(error),
          });
          return errorResult(500, 'internal error');
        }
        log({
          level: 'info',
          message: 'interaction job queued',
          kind: job.kind,
          idempotencyKey: job.idempotencyKey,
        });
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

function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { name: typeof error };
  const cause =
    error.cause instanceof Error ? { name: error.cause.name, message: error.cause.message } : undefined;
  return { name: error.name, message: error.message, cause };
}

// Composition root, at cold start: config fails fast, the key is parsed once, no network here.
const config = loadDiscordIngressConfig(process.env);
// A dimensioned metric is written at once (no flush needed); Powertools Metrics costs about 3 ms
// of cold import here (measured with `npm run bench -- ingress`), well inside the budget.
const metrics = new PowertoolsBusinessMetrics(createServiceMetrics(SERVICE_NAMES.discordIngress));

export const handler: DiscordInteractionsHandler = createDiscordInteractionsHandler({
  verifier: createDiscordVerifier(config.publicKeyHex),
  queue: new SqsJobQueue(
    new SQSClient({
      // No `endpoint` override, so AWS_ENDPOINT_URL_SQS can point it at a local queue; and not the
      // queue URL's host either (the SDK's default), which would silently override that variable.
      // In AWS the regional endpoint is the queue URL's host anyway.
      useQueueUrlAsEndpoint: false,
      // Tight timeouts and one retry keep a slow SQS inside Discord's 3-second window.
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 500, requestTimeout: 1000 },
    }),
    config.jobsQueueUrl,
  ),
  allowedRoleIds: config.fixAllowedRoleIds,
  applicationId: config.applicationId,
  clock: Date.now,
  metrics,
});
