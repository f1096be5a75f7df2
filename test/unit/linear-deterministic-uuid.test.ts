import { describe, expect, it } from 'vitest';
import { deterministicUuid } from '../../shared/domain/deterministic-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('deterministicUuid', () => {
  it('gives the same id for the same namespace and name', () => {
    expect(deterministicUuid('linear-issue', 'bug-42')).toBe(deterministicUuid('linear-issue', 'bug-42'));
  });

  it('is a lowercase UUID stamped version 4 with the RFC 4122 variant, as Linear asks for', () => {
    for (const name of ['', 'bug-42', 'ünïcødé', 'x'.repeat(10_000)]) {
      expect(deterministicUuid('linear-comment', name)).toMatch(UUID_V4);
    }
  });

  it('pins the derivation, so ids stay stable across releases', () => {
    // sha1('["linear-issue","bug-42"]') = 82bda5d9 607b 09c4 3bb7 b1ab0daa54ac…, version and variant bits set.
    expect(deterministicUuid('linear-issue', 'bug-42')).toBe('82bda5d9-607b-49c4-bbb7-b1ab0daa54ac');
  });

  it('differs between names and between namespaces', () => {
    const ids = new Set([
      deterministicUuid('linear-issue', 'bug-42'),
      deterministicUuid('linear-issue', 'bug-43'),
      deterministicUuid('linear-comment', 'bug-42'),
      deterministicUuid('a:b', 'c'),
      deterministicUuid('a', 'b:c'),
      deterministicUuid('ab', 'c'),
      deterministicUuid('a', 'bc'),
    ]);
    expect(ids.size).toBe(7);
  });
});
