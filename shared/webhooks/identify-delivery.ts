import { createHash } from 'node:crypto';
import type { DeliveryIdentity } from './authenticate-webhook.js';

export interface DeliveryKeys {
  /** `bug_` + 20 base32 characters; stable across a sender's retries of one delivery. */
  bugId: string;
  /** `webhook:<webhook-id>` or `webhook-body:<sha256 of the body>`. */
  idempotencyKey: string;
}

// Job schemas cap idempotency keys at 200 characters; `webhook:` takes 8 of them.
const MAX_RAW_WEBHOOK_ID_LENGTH = 190;

/**
 * The bug id is derived from the delivery, not random: senders retry a delivery they did not see
 * acknowledged (a timeout, a 503), and a retry must name the same bug so the processor's
 * "create once" guards collapse it instead of filing a second report.
 *
 * - Standard Webhooks: the `webhook-id` header, which the spec keeps identical across retries
 *   (the timestamp and signature change).
 * - Bearer (Supabase database webhooks): there is no delivery id, so the body's SHA-256 stands
 *   in; the body carries the row, so two distinct reports do not share one.
 *
 * bugId = `bug_` + the first 20 base32 characters (100 bits) of SHA-256 over a versioned prefix
 * and the idempotency key: short enough for Discord `custom_id`s (`bug:<action>:<bugId>` ≤ 100),
 * wide enough that collisions are not a concern, and lower-case [a-z2-7] so it is safe in
 * URLs, DynamoDB keys and branch names.
 */
export function identifyDelivery(delivery: DeliveryIdentity, body: string): DeliveryKeys {
  const idempotencyKey =
    delivery.mode === 'standard-webhooks'
      ? webhookIdKey(delivery.webhookId)
      : `webhook-body:${createHash('sha256').update(body, 'utf8').digest('hex')}`;
  const digest = createHash('sha256').update(`bugbot:bug-id:v1:${idempotencyKey}`, 'utf8').digest();
  return { bugId: `bug_${encodeBase32(digest).slice(0, 20)}`, idempotencyKey };
}

function webhookIdKey(webhookId: string): string {
  // Ids are sender-chosen: keep short printable ones readable, hash anything else.
  if (webhookId.length <= MAX_RAW_WEBHOOK_ID_LENGTH && /^[\x21-\x7e]+$/.test(webhookId)) {
    return `webhook:${webhookId}`;
  }
  return `webhook:sha256:${createHash('sha256').update(webhookId, 'utf8').digest('hex')}`;
}

const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lower case, unpadded. */
function encodeBase32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}
