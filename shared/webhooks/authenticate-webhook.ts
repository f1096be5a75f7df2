import { createHash, timingSafeEqual } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

/** Secrets as configured (environment or the service secret). Never logged. */
export interface WebhookSecrets {
  /** Standard Webhooks secret, `whsec_…`. */
  webhookSecret?: string | undefined;
  /** Shared bearer token for senders that cannot sign (Supabase database webhooks). */
  bearerToken?: string | undefined;
}

/** Secrets turned into what verification needs, once per container rather than per request. */
export interface WebhookCredentials {
  readonly verifier: Webhook | undefined;
  readonly bearerDigest: Buffer | undefined;
}

export interface WebhookRequestHeaders {
  webhookId?: string | undefined;
  webhookTimestamp?: string | undefined;
  webhookSignature?: string | undefined;
  authorization?: string | undefined;
}

/** Who sent this delivery, as far as a retry of it is concerned. */
export type DeliveryIdentity =
  | { mode: 'standard-webhooks'; webhookId: string }
  /** A bearer sender has no delivery id: the body itself identifies a retry. */
  | { mode: 'bearer' };

export type WebhookAuthFailure =
  | 'no-credentials'
  | 'signature-not-configured'
  | 'bad-signature'
  | 'stale-timestamp'
  | 'bearer-not-configured'
  | 'bad-bearer';

export type WebhookAuthentication =
  | { ok: true; delivery: DeliveryIdentity }
  | { ok: false; reason: WebhookAuthFailure };

export function prepareWebhookCredentials(secrets: WebhookSecrets): WebhookCredentials {
  return {
    verifier: secrets.webhookSecret ? new Webhook(secrets.webhookSecret) : undefined,
    bearerDigest: secrets.bearerToken ? sha256(secrets.bearerToken) : undefined,
  };
}

/**
 * Checks the request against the configured credentials on the exact body text, before anything
 * parses it. A request carrying any Standard Webhooks header is judged as a signed delivery
 * only: a bad signature never falls back to the bearer check.
 */
export function authenticateWebhook(
  credentials: WebhookCredentials,
  request: { headers: WebhookRequestHeaders; body: string },
): WebhookAuthentication {
  const { headers } = request;
  if (
    headers.webhookId !== undefined ||
    headers.webhookSignature !== undefined ||
    headers.webhookTimestamp !== undefined
  ) {
    return verifySignature(credentials, headers, request.body);
  }
  if (headers.authorization !== undefined) return verifyBearer(credentials, headers.authorization);
  return { ok: false, reason: 'no-credentials' };
}

function verifySignature(
  credentials: WebhookCredentials,
  headers: WebhookRequestHeaders,
  body: string,
): WebhookAuthentication {
  if (!credentials.verifier) return { ok: false, reason: 'signature-not-configured' };
  const { webhookId, webhookTimestamp, webhookSignature } = headers;
  if (!webhookId || !webhookTimestamp || !webhookSignature) return { ok: false, reason: 'bad-signature' };
  try {
    // The library owns the ±5 minute tolerance and the constant-time comparison; parsing stays
    // ours so a signed non-JSON body is a 400, not a verification failure.
    credentials.verifier.verify(
      body,
      {
        'webhook-id': webhookId,
        'webhook-timestamp': webhookTimestamp,
        'webhook-signature': webhookSignature,
      },
      { jsonParse: false },
    );
  } catch (error) {
    if (!(error instanceof WebhookVerificationError)) throw error;
    return {
      ok: false,
      reason: /timestamp too (old|new)/i.test(error.message) ? 'stale-timestamp' : 'bad-signature',
    };
  }
  return { ok: true, delivery: { mode: 'standard-webhooks', webhookId } };
}

function verifyBearer(credentials: WebhookCredentials, authorization: string): WebhookAuthentication {
  if (!credentials.bearerDigest) return { ok: false, reason: 'bearer-not-configured' };
  const match = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  if (!match?.[1]) return { ok: false, reason: 'bad-bearer' };
  // Digests have equal length whatever the token's, so the comparison leaks neither the token
  // nor its length.
  if (!timingSafeEqual(sha256(match[1]), credentials.bearerDigest))
    return { ok: false, reason: 'bad-bearer' };
  return { ok: true, delivery: { mode: 'bearer' } };
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
