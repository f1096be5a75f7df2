import type { Webhook } from 'standardwebhooks';
import { parseRetryAfter, ServiceError } from '../../domain/errors.js';
import type { BugStatusEvent } from '../../jobs/job-schemas.js';
import type { BugStatusSender } from '../../ports/bug-status-sender.js';

export interface StandardWebhooksBugStatusSenderOptions {
  /** The product's endpoint (`BUG_STATUS_WEBHOOK_URL`). */
  readonly url: string;
  /** One attempt's deadline; the jobs queue does the retrying, spaced by backoff. */
  readonly timeoutMs: number;
  readonly fetch?: typeof fetch;
  readonly now?: () => Date;
}

/**
 * Delivers bug status events as Standard Webhooks (https://www.standardwebhooks.com/, the
 * `standardwebhooks` package's `Webhook.sign`): `webhook-id` (the same on every retry),
 * `webhook-timestamp` (this attempt, seconds) and `webhook-signature` (`v1,<base64 HMAC-SHA256>`
 * of `id.timestamp.body`), body `{ type, timestamp, data }`. One attempt per call: a failure is
 * thrown so the job is retried through the queue, and ends in the DLQ if never accepted.
 */
export class StandardWebhooksBugStatusSender implements BugStatusSender {
  private readonly fetch: typeof fetch;
  private readonly now: () => Date;

  constructor(
    private readonly webhook: Webhook,
    private readonly options: StandardWebhooksBugStatusSenderOptions,
  ) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? (() => new Date());
  }

  async send(delivery: { readonly webhookId: string; readonly event: BugStatusEvent }): Promise<void> {
    const body = JSON.stringify(delivery.event);
    const sentAt = this.now();
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'bugbot',
      'webhook-id': delivery.webhookId,
      'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
      'webhook-signature': this.webhook.sign(delivery.webhookId, sentAt, body),
    };
    let response: Response;
    try {
      response = await this.fetch(this.options.url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      throw new ServiceError('product', 'the status webhook did not answer', {
        retryable: true,
        cause: error,
      });
    }
    // The answer's body is the product's business; read and drop it so the connection is freed.
    await response.arrayBuffer().catch(() => undefined);
    if (response.status >= 200 && response.status < 300) return;
    throw new ServiceError('product', `the status webhook answered ${response.status}`, {
      status: response.status,
      retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), this.now().getTime()),
    });
  }
}
