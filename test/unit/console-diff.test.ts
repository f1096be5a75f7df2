import { describe, expect, it } from 'vitest';
import { parseUnifiedDiff } from '../../local/console/public/diff.js';

const DIFF = [
  'diff --git a/src/cart.js b/src/cart.js',
  'index 1111111..2222222 100644',
  '--- a/src/cart.js',
  '+++ b/src/cart.js',
  '@@ -10,3 +10,4 @@ export function lineTotal(item) {',
  ' export function cartTotal(items) {',
  '-  const total = items.map(lineTotal).reduce((sum, amount) => sum + amount, 0);',
  '+  // A cart restored before its lines load has no items list yet.',
  '+  const total = (items ?? []).map(lineTotal).reduce((sum, amount) => sum + amount, 0);',
  '   return Math.round(total * 100) / 100;',
  'diff --git a/test/new.test.js b/test/new.test.js',
  'new file mode 100644',
  'index 0000000..3333333',
  '--- /dev/null',
  '+++ b/test/new.test.js',
  '@@ -0,0 +1 @@',
  '+-- a line that starts with dashes',
  '\\ No newline at end of file',
  'diff --git a/old.js b/new.js',
  'similarity index 100%',
  'rename from old.js',
  'rename to new.js',
  'diff --git a/logo.png b/logo.png',
  'Binary files a/logo.png and b/logo.png differ',
  '',
].join('\n');

describe('the console diff reader', () => {
  const files = parseUnifiedDiff(DIFF);

  it('finds every file with its status and counts', () => {
    expect(
      files.map(({ oldPath, newPath, status, binary, additions, deletions }) => ({
        oldPath,
        newPath,
        status,
        binary,
        additions,
        deletions,
      })),
    ).toEqual([
      {
        oldPath: 'src/cart.js',
        newPath: 'src/cart.js',
        status: 'modified',
        binary: false,
        additions: 2,
        deletions: 1,
      },
      {
        oldPath: 'test/new.test.js',
        newPath: 'test/new.test.js',
        status: 'added',
        binary: false,
        additions: 1,
        deletions: 0,
      },
      { oldPath: 'old.js', newPath: 'new.js', status: 'renamed', binary: false, additions: 0, deletions: 0 },
      {
        oldPath: 'logo.png',
        newPath: 'logo.png',
        status: 'modified',
        binary: true,
        additions: 0,
        deletions: 0,
      },
    ]);
  });

  it('numbers old and new lines as GitHub does', () => {
    const lines = files[0]?.hunks[0]?.lines ?? [];
    expect(lines.map((line) => [line.kind, line.oldLine, line.newLine])).toEqual([
      ['context', 10, 10],
      ['del', 11, null],
      ['add', null, 11],
      ['add', null, 12],
      ['context', 12, 13],
    ]);
  });

  it('reads an added line that looks like a file header as an added line', () => {
    expect(files[1]?.hunks[0]?.lines.map((line) => [line.kind, line.text])).toEqual([
      ['add', '-- a line that starts with dashes'],
      ['note', '\\ No newline at end of file'],
    ]);
  });
});
