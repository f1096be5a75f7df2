import { describe, expect, it } from 'vitest';
import { BlobReadError, parseCatFileBatch } from '../../fargate-runner/src/gate/inspect-final-tree.js';

/**
 * The gate's reading of `git cat-file --batch` output: each blob must come back exactly as
 * `--batch-check` declared it, or the read fails — a blob cut short would leave its tail unreviewed.
 */

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);

function record(id: string, content: string): string {
  return `${id} blob ${Buffer.byteLength(content)}\n${content}\n`;
}

function parse(output: string, expected: ReadonlyArray<{ id: string; size: number }>) {
  const into = new Map<string, Buffer | 'too-large'>();
  parseCatFileBatch(Buffer.from(output), expected, into);
  return into;
}

describe('parseCatFileBatch', () => {
  it('reads each declared blob whole, newlines and empty blobs included', () => {
    const blobs = parse(`${record(A, 'one\ntwo\n')}${record(B, '')}`, [
      { id: A, size: 8 },
      { id: B, size: 0 },
    ]);
    expect(blobs.get(A)?.toString()).toBe('one\ntwo\n');
    expect(blobs.get(B)?.toString()).toBe('');
  });

  it('throws when the last blob is shorter than its declared size (an output cut off)', () => {
    const whole = `${record(A, 'first')}${record(B, 'const key = "sk-secret";')}`;
    const cut = whole.slice(0, whole.length - 12);
    const read = () =>
      parse(cut, [
        { id: A, size: 5 },
        { id: B, size: 24 },
      ]);
    expect(read).toThrow(BlobReadError);
    expect(read).toThrow(`could not read blob ${B} in full: got 13 of 24 bytes`);
  });

  it('throws when a declared blob is missing from the output altogether', () => {
    expect(() =>
      parse(record(A, 'first'), [
        { id: A, size: 5 },
        { id: B, size: 3 },
      ]),
    ).toThrow(`could not read blob ${B} in full: the output ended before its header`);
  });

  it('throws when a header disagrees with what was declared', () => {
    expect(() => parse(record(A, 'first'), [{ id: A, size: 6 }])).toThrow(/unexpected header/);
    expect(() => parse(record(B, 'first'), [{ id: A, size: 5 }])).toThrow(/unexpected header/);
    expect(() => parse(`${A} tree 5\nfirst\n`, [{ id: A, size: 5 }])).toThrow(/unexpected header/);
  });

  it('throws when a blob is not followed by its newline, or output follows the last blob', () => {
    expect(() => parse(`${A} blob 5\nfirstX`, [{ id: A, size: 5 }])).toThrow(BlobReadError);
    expect(() => parse(`${record(A, 'first')}extra`, [{ id: A, size: 5 }])).toThrow(
      'unexpected output after the last blob',
    );
  });
});
