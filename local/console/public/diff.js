// @ts-check
/**
 * Reads `git diff` output into files, hunks and lines for the console's "Files changed" view.
 * Pure: the page draws it with `textContent`.
 *
 * @typedef {{ kind: 'add' | 'del' | 'context' | 'note', text: string, oldLine: number | null, newLine: number | null }} DiffLine
 * @typedef {{ header: string, lines: DiffLine[] }} DiffHunk
 * @typedef {{ oldPath: string, newPath: string, status: 'added' | 'deleted' | 'renamed' | 'modified', binary: boolean, additions: number, deletions: number, hunks: DiffHunk[] }} DiffFile
 */

/**
 * @param {string} text
 * @returns {DiffFile[]}
 */
export function parseUnifiedDiff(text) {
  /** @type {DiffFile[]} */
  const files = [];
  /** @type {DiffFile | null} */
  let file = null;
  /** @type {DiffHunk | null} */
  let hunk = null;
  let oldLine = 0;
  let newLine = 0;
  for (const line of String(text).split('\n')) {
    if (line.startsWith('diff --git ')) {
      const paths = /^diff --git a\/(.*) b\/(.*)$/.exec(line);
      file = {
        oldPath: paths?.[1] ?? '',
        newPath: paths?.[2] ?? '',
        status: 'modified',
        binary: false,
        additions: 0,
        deletions: 0,
        hunks: [],
      };
      files.push(file);
      hunk = null;
      continue;
    }
    if (!file) continue;
    if (!hunk) {
      if (line.startsWith('new file mode')) file.status = 'added';
      else if (line.startsWith('deleted file mode')) file.status = 'deleted';
      else if (line.startsWith('rename from ')) {
        file.status = 'renamed';
        file.oldPath = line.slice('rename from '.length);
      } else if (line.startsWith('rename to ')) file.newPath = line.slice('rename to '.length);
      else if (line.startsWith('Binary files ')) file.binary = true;
      else if (line.startsWith('--- ') || line.startsWith('+++ ')) {
        // The paths are known from the header.
      }
    }
    const header = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$/.exec(line);
    if (header) {
      hunk = { header: line, lines: [] };
      file.hunks.push(hunk);
      oldLine = Number(header[1]);
      newLine = Number(header[2]);
      continue;
    }
    if (!hunk) continue;
    if (line.startsWith('+')) {
      hunk.lines.push({ kind: 'add', text: line.slice(1), oldLine: null, newLine });
      newLine += 1;
      file.additions += 1;
    } else if (line.startsWith('-')) {
      hunk.lines.push({ kind: 'del', text: line.slice(1), oldLine, newLine: null });
      oldLine += 1;
      file.deletions += 1;
    } else if (line.startsWith(' ')) {
      hunk.lines.push({ kind: 'context', text: line.slice(1), oldLine, newLine });
      oldLine += 1;
      newLine += 1;
    } else if (line.startsWith('\\')) {
      hunk.lines.push({ kind: 'note', text: line, oldLine: null, newLine: null });
    }
  }
  return files;
}
