import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import type { LocalKeys } from './local-keys.js';

/**
 * Which private key `npm run discord` (and a team's tests) sign interactions with. The stack
 * verifies with the public key in effect (local-settings.ts): its own from `.local/keys.json`,
 * or the team's DISCORD_PUBLIC_KEY. The stack never has the private half of a team's key, so
 * then the signer must be given it (DISCORD_PRIVATE_KEY) — or be told plainly that it must.
 */
export type SigningKey = { ok: true; privateKeyPem: string } | { ok: false; message: string };

export function resolveSigningKey(input: {
  /** DISCORD_PRIVATE_KEY: a PKCS#8 PEM, or the 32-byte Ed25519 seed as 64 hex characters. */
  privateKey: string | undefined;
  keys: Pick<LocalKeys, 'discordPrivateKeyPem' | 'discordPublicKeyHex'>;
  /** The public key the stack verifies with (its `/_local/state` config). */
  stackPublicKey: string | undefined;
}): SigningKey {
  const expected = (input.stackPublicKey ?? input.keys.discordPublicKeyHex).toLowerCase();
  const given = input.privateKey?.trim();
  if (given) {
    let key: KeyObject;
    try {
      key = parseEd25519PrivateKey(given);
    } catch {
      return {
        ok: false,
        message:
          'DISCORD_PRIVATE_KEY is not an Ed25519 private key: give a PKCS#8 PEM or the 32-byte seed as 64 hex characters',
      };
    }
    if (publicKeyHex(key) !== expected) {
      return {
        ok: false,
        message:
          'DISCORD_PRIVATE_KEY does not match the public key the local stack verifies with (DISCORD_PUBLIC_KEY): Discord would refuse these signatures too',
      };
    }
    return { ok: true, privateKeyPem: key.export({ format: 'pem', type: 'pkcs8' }).toString() };
  }
  if (expected === input.keys.discordPublicKeyHex.toLowerCase()) {
    return { ok: true, privateKeyPem: input.keys.discordPrivateKeyPem };
  }
  return {
    ok: false,
    message:
      'the local stack verifies interactions with your DISCORD_PUBLIC_KEY, and never has its private key: set DISCORD_PRIVATE_KEY (PKCS#8 PEM, or the 32-byte seed as 64 hex characters) to sign with it, or unset DISCORD_PUBLIC_KEY to use the sandbox key pair in .local/keys.json',
  };
}

function parseEd25519PrivateKey(text: string): KeyObject {
  if (/^[0-9a-f]{64}$/i.test(text)) {
    // PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410): a fixed 16-byte prefix, then the seed.
    const der = Buffer.concat([
      Buffer.from('302e020100300506032b657004220420', 'hex'),
      Buffer.from(text, 'hex'),
    ]);
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  }
  const key = createPrivateKey(text.replace(/\\n/g, '\n'));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
  return key;
}

function publicKeyHex(privateKey: KeyObject): string {
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return spki.subarray(spki.length - 32).toString('hex');
}
