import { describe, expect, it } from 'vitest';
import { createDiscordPublicKey, createDiscordVerifier } from '../../shared/discord/verify-signature.js';
import { createDiscordTestKeys, signDiscordBody } from '../factories/discord-interactions.js';

const KEYS = createDiscordTestKeys(3);
const BODY = Buffer.from('{"type":1,"id":"1310000000000000001","application_id":"1180000000000000001"}');
const TIMESTAMP = '1763632800';

describe('createDiscordVerifier (node:crypto, checked against tweetnacl signatures)', () => {
  const verify = createDiscordVerifier(KEYS.publicKeyHex);

  it('accepts a signature over timestamp + body', () => {
    expect(verify(BODY, signDiscordBody(BODY, TIMESTAMP, KEYS), TIMESTAMP)).toBe(true);
  });

  it('accepts upper-case hex, as some proxies rewrite it', () => {
    expect(verify(BODY, signDiscordBody(BODY, TIMESTAMP, KEYS).toUpperCase(), TIMESTAMP)).toBe(true);
  });

  it('accepts an upper-case public key', () => {
    const upper = createDiscordVerifier(KEYS.publicKeyHex.toUpperCase());
    expect(upper(BODY, signDiscordBody(BODY, TIMESTAMP, KEYS), TIMESTAMP)).toBe(true);
  });

  it('signs the exact bytes: one changed byte fails', () => {
    const signature = signDiscordBody(BODY, TIMESTAMP, KEYS);
    const tampered = Buffer.from(BODY);
    tampered[tampered.length - 2] = 0x30;
    expect(verify(tampered, signature, TIMESTAMP)).toBe(false);
  });

  it('binds the timestamp', () => {
    expect(verify(BODY, signDiscordBody(BODY, TIMESTAMP, KEYS), '1763632801')).toBe(false);
  });

  it('rejects a signature from another key', () => {
    expect(verify(BODY, signDiscordBody(BODY, TIMESTAMP, createDiscordTestKeys(4)), TIMESTAMP)).toBe(false);
  });

  it('does not accept the timestamp and body split differently', () => {
    // "17636328" + "00{...}" is the same byte string; the verifier must not care how it was split,
    // which is exactly why the timestamp header must be the one that was signed.
    const signature = signDiscordBody(BODY, TIMESTAMP, KEYS);
    expect(verify(Buffer.concat([Buffer.from('00'), BODY]), signature, '17636328')).toBe(true);
    expect(verify(BODY, signature, '17636328')).toBe(false);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['not hex', 'g'.repeat(128)],
    ['too short', 'ab'.repeat(63)],
    ['too long', 'ab'.repeat(65)],
    ['hex with a trailing junk character', `${'ab'.repeat(64)}z`],
  ])('rejects a signature that is %s', (_case, signature) => {
    expect(verify(BODY, signature, TIMESTAMP)).toBe(false);
  });

  it('rejects a missing or empty timestamp', () => {
    const signature = signDiscordBody(BODY, '', KEYS);
    expect(verify(BODY, signature, undefined)).toBe(false);
    expect(verify(BODY, signature, '')).toBe(false);
  });

  it('rejects a bit-flipped signature', () => {
    const signature = Buffer.from(signDiscordBody(BODY, TIMESTAMP, KEYS), 'hex');
    signature[10] = (signature[10] ?? 0) ^ 0x01;
    expect(verify(BODY, signature.toString('hex'), TIMESTAMP)).toBe(false);
  });
});

describe('createDiscordPublicKey', () => {
  it('turns the raw 32-byte hex key into an Ed25519 key object', () => {
    const key = createDiscordPublicKey(KEYS.publicKeyHex);
    expect(key.asymmetricKeyType).toBe('ed25519');
    expect(key.export({ format: 'jwk' }).x).toBe(Buffer.from(KEYS.publicKeyHex, 'hex').toString('base64url'));
  });

  it.each(['', 'abc', 'z'.repeat(64), 'ab'.repeat(33)])('refuses %j', (hex) => {
    expect(() => createDiscordPublicKey(hex)).toThrow(RangeError);
  });
});
