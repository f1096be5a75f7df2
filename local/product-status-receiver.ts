import type { IncomingMessage, ServerResponse } from 'node:http';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { type Fault, FaultInjector, readBody, sendHtmlFault, sendJson } from './stand-ins/stand-in.js';

/**
 * The product's side of `BUG_STATUS_WEBHOOK_URL` in the sandbox: it verifies each event as a
 * product would (Standard Webhooks, the `standardwebhooks` package), answers 2xx, and keeps what
 * it heard for `/_local/state` (`sandbox.product.statusEvents`), so the sandbox shows what the
 * product would be told. `POST /_local/faults {"service":"product",…}` makes it fail like a
 * product that is down, to see the retries and the DLQ.
 */
export interface HeardStatusEvent {
  readonly webhookId: string;
  readonly at: string;
  readonly verified: boolean;
  readonly status: number;
  readonly type?: string;
  readonly data?: unknown;
}

export interface ProductStatusReceiver {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  setFault(fault: Fault | null): void;
  snapshot(): { statusEvents: HeardStatusEvent[] };
}

export function createProductStatusReceiver(options: { readonly secret: string }): ProductStatusReceiver {
  const verifier = new Webhook(options.secret);
  const faults = new FaultInjector();
  const heard: HeardStatusEvent[] = [];
  return {
    async handle(req, res) {
      const body = (await readBody(req)).toString('utf8');
      const header = (name: string) => {
        const value = req.headers[name];
        return Array.isArray(value) ? (value[0] ?? '') : (value ?? '');
      };
      const webhookId = header('webhook-id');
      const at = new Date().toISOString();
      const fault = await faults.apply();
      if (fault?.kind === 'html') {
        heard.push({ webhookId, at, verified: false, status: fault.status });
        return sendHtmlFault(res, fault.status);
      }
      // The product's answer carries nothing bugbot reads: a cut-off one is still a 204.
      if (fault?.kind === 'status') {
        heard.push({ webhookId, at, verified: false, status: fault.status });
        return sendJson(res, fault.status, { error: 'the product is unavailable (sandbox fault)' });
      }
      let event: { type?: string; data?: unknown };
      try {
        event = verifier.verify(body, {
          'webhook-id': webhookId,
          'webhook-timestamp': header('webhook-timestamp'),
          'webhook-signature': header('webhook-signature'),
        }) as { type?: string; data?: unknown };
      } catch (error) {
        if (!(error instanceof WebhookVerificationError)) throw error;
        heard.push({ webhookId, at, verified: false, status: 401 });
        return sendJson(res, 401, { error: 'invalid signature' });
      }
      heard.push({ webhookId, at, verified: true, status: 204, type: event.type, data: event.data });
      res.writeHead(204);
      res.end();
    },
    setFault(fault) {
      faults.set(fault);
    },
    snapshot() {
      return { statusEvents: [...heard] };
    },
  };
}
