import { createPublicKey, type KeyObject, verify } from 'node:crypto';

/** DER prefix of an Ed25519 SubjectPublicKeyInfo: what Node needs around Discord's raw 32-byte key. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PUBLIC_KEY_HEX = /^[0-9a-fA-F]{64}$/;
const SIGNATURE_HEX = /^[0-9a-fA-F]{128}$/;

/** True only when `signatureHex` is Discord's Ed25519 signature of `timestamp` + the raw body. */
export type DiscordVerifier = (
  rawBody: Buffer,
  signatureHex: string | undefined,
  timestamp: string | undefined,
) => boolean;

/** Parses the key once (at cold start) so each request only pays for the verification itself. */
export function createDiscordPublicKey(publicKeyHex: string): KeyObject {
  if (!PUBLIC_KEY_HEX.test(publicKeyHex)) {
    throw new RangeError('a Discord public key is 64 hexadecimal characters');
  }
  return createPublicKey({
    key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(publicKeyHex, 'hex')]),
    format: 'der',
    type: 'spki',
  });
}

export function createDiscordVerifier(publicKeyHex: string): DiscordVerifier {
  const key = createDiscordPublicKey(publicKeyHex);
  return (rawBody, signatureHex, timestamp) => {
    // Buffer.from(hex) silently drops what is not hex; check the shape so a mangled header
    // can never shorten into something else.
    if (!signatureHex || !timestamp || !SIGNATURE_HEX.test(signatureHex)) return false;
    const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]);
    try {
      return verify(null, signed, key, Buffer.from(signatureHex, 'hex'));
    } catch {
      return false;
    }
  };
}
