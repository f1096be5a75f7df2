import { type HttpEvent, readRawBody } from '../http/api-gateway.js';

/** The contract's limit: reports are text; anything larger is a mistake or an attack. */
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;

export type WebhookBody =
  | { ok: true; text: string; bytes: number }
  | { ok: false; reason: 'too-large'; bytes: number; limitBytes: number };

/**
 * Measures the body before decoding it: `Buffer.byteLength` is arithmetic for base64 and a
 * native scan for UTF-8, so an oversized request is refused without allocating its copy or
 * spending an HMAC on it.
 */
export function readWebhookBody(
  event: Pick<HttpEvent, 'body' | 'isBase64Encoded'>,
  limitBytes: number = MAX_WEBHOOK_BODY_BYTES,
): WebhookBody {
  const body = event.body ?? '';
  const bytes = Buffer.byteLength(body, event.isBase64Encoded ? 'base64' : 'utf8');
  if (bytes > limitBytes) return { ok: false, reason: 'too-large', bytes, limitBytes };
  const raw = readRawBody(event);
  // The signature covers the text the sender encoded; the signing library hashes the same
  // UTF-8 decoding, so verifying and parsing this one string keeps them in agreement.
  return { ok: true, text: raw.toString('utf8'), bytes: raw.length };
}
