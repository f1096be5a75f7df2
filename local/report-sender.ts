import { randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** A bug report signed as the product's backend signs it (Standard Webhooks). */
export function signReport(
  secret: string,
  report: Record<string, unknown>,
  messageId = `msg_${randomUUID()}`,
) {
  const body = JSON.stringify(report);
  const timestamp = new Date();
  const signature = new Webhook(secret).sign(messageId, timestamp, body);
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': messageId,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': signature,
    },
  };
}
