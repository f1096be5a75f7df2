import { createHash } from 'node:crypto';

/**
 * A UUID derived from a name, so a redelivered job computes the same id for the thing it creates
 * (`deterministicUuid('linear-issue', bugId)`) and the vendor's "id already exists" turns a second
 * create into a lookup. Built like a version-5 UUID (SHA-1 of namespace and name, first 16 bytes)
 * but stamped version 4: Linear documents client-supplied ids as "UUID v4 format", and no reader
 * can tell a hash from random bits. Namespace and name are encoded unambiguously, so
 * ("a:b", "c") and ("a", "b:c") differ.
 */
export function deterministicUuid(namespace: string, name: string): string {
  const digest = createHash('sha1')
    .update(JSON.stringify([namespace, name]), 'utf8')
    .digest();
  const bytes = digest.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // RFC 4122 variant
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
