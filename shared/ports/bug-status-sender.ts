import type { BugStatusEvent } from '../jobs/job-schemas.js';

/**
 * Where the product hears about its users' bugs (`BUG_STATUS_WEBHOOK_URL`). `send` resolves once
 * the product accepted the event (2xx) and throws a `ServiceError` otherwise: retryable for 429,
 * 5xx, timeouts and network failures, permanent for other answers.
 */
export interface BugStatusSender {
  send(delivery: { readonly webhookId: string; readonly event: BugStatusEvent }): Promise<void>;
}
