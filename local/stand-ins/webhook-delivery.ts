import { randomUUID } from 'node:crypto';

/**
 * How a stand-in delivers a webhook to the stack as its service would: one POST of the exact
 * bytes it signed, with the service's headers, a timeout (GitHub gives a hook 10 s), and a record
 * of the outcome for `/_local/state`. Neither GitHub nor this stand-in retries by itself: a
 * failed delivery is shown, and can be sent again.
 */
export interface WebhookTarget {
  readonly url: string;
  readonly secret: string;
}

export interface DeliveryRecord {
  readonly id: string;
  readonly event: string;
  readonly action?: string;
  readonly at: string;
  /** The stack's HTTP status, or 0 when it did not answer. */
  readonly status: number;
  readonly response?: string;
}

export async function deliverWebhook(input: {
  readonly url: string;
  readonly body: string;
  readonly headers: Record<string, string>;
  readonly timeoutMs?: number;
}): Promise<{ status: number; response: string }> {
  try {
    const response = await fetch(input.url, {
      method: 'POST',
      headers: input.headers,
      body: input.body,
      signal: AbortSignal.timeout(input.timeoutMs ?? 10_000),
    });
    return { status: response.status, response: (await response.text()).slice(0, 500) };
  } catch (error) {
    return { status: 0, response: error instanceof Error ? error.message : String(error) };
  }
}

export function newDeliveryId(): string {
  return randomUUID();
}
