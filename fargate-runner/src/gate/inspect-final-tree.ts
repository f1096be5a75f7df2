import { copyFile } from 'node:fs/promises';
import {
  listAddedLines,
  type NewContent,
  type NumstatEntry,
  parseNumstat,
  parseRawDiff,
  type RawDiffEntry,
} from '../../../shared/domain/allowlist-gate.js';
import { runGit, runGitText } from '../git/git-command.js';
import { type RunLayout, runnerGitOptions } from '../git/workspace.js';

/**
 * The git side of the gate: turns the workspace as the agent left it into a tree object, and
 * reports how that tree differs from the base commit's tree.
 *
 * The tree is built from the files on disk through a throwaway index in the runner's own
 * repository, so it does not matter what the agent did to `workspace/.git`: a commit, a moved
 * HEAD, a rewritten index or config. What is on disk is what the run produced, and it is what
 * gets pushed (in a fresh commit on the base commit), so it is what the gate must judge.
 *
 * `git add --all --force`: ignore rules are files the agent can edit, and a file it wrote must
 * be judged whether or not some `.gitignore` hides it, rather than silently dropped.
 */

/** Files bigger than this are not read for review; the gate rejects them. */
export const MAX_REVIEWED_FILE_BYTES = 1024 * 1024;

const ZERO_OID = /^0+$/;
const REGULAR_MODES = new Set(['100644', '100755']);

export interface FinalTreeInspection {
  readonly finalTree: string;
  readonly entries: readonly RawDiffEntry[];
  readonly numstat: readonly NumstatEntry[];
  readonly contents: readonly NewContent[];
}

export async function snapshotWorkspaceTree(layout: RunLayout): Promise<string> {
  // Seeding the throwaway index with the checkout's stat data lets git skip rehashing untouched
  // files. Safe to trust: ctime and inode cannot be set back by a process (core.trustctime is on).
  await copyFile(layout.baseIndex, layout.finalIndex);
  const options = runnerGitOptions(layout, {
    cwd: layout.workspace,
    workTree: layout.workspace,
    indexFile: layout.finalIndex,
  });
  await runGit(['add', '--all', '--force', '--', '.'], options);
  return runGitText(['write-tree'], options);
}

/**
 * `maxReviewedFiles`: past this many changed files the change is rejected on count alone, so the
 * new contents are not read (an agent that rewrote the whole tree costs no more to refuse).
 */
export async function inspectFinalTree(
  layout: RunLayout,
  baseTree: string,
  options: { maxReviewedFiles?: number } = {},
): Promise<FinalTreeInspection> {
  const finalTree = await snapshotWorkspaceTree(layout);
  if (finalTree === baseTree) return { finalTree, entries: [], numstat: [], contents: [] };
  const runner = runnerGitOptions(layout);
  const diffArgs = ['diff-tree', '-r', '-z', '--no-abbrev', '-M', '--no-ext-diff', '--no-textconv'];
  const [raw, numstat] = await Promise.all([
    runGit([...diffArgs, '--raw', baseTree, finalTree], runner),
    runGit([...diffArgs, '--numstat', baseTree, finalTree], runner),
  ]);
  const entries = parseRawDiff(raw.toString('utf8'));
  const tooMany = options.maxReviewedFiles !== undefined && entries.length > options.maxReviewedFiles;
  const contents = tooMany ? [] : await readNewContents(layout, entries);
  return { finalTree, entries, numstat: parseNumstat(numstat.toString('utf8')), contents };
}

async function readNewContents(layout: RunLayout, entries: readonly RawDiffEntry[]): Promise<NewContent[]> {
  // Regular files only: symlinks and gitlinks are rejected by mode, and a gitlink names a commit
  // that is not even in this repository.
  const reviewed = entries.filter(
    (entry) => entry.newPath !== null && REGULAR_MODES.has(entry.newMode) && !ZERO_OID.test(entry.newBlob),
  );
  const blobIds = new Set<string>();
  for (const entry of reviewed) {
    blobIds.add(entry.newBlob);
    if (entry.oldPath !== null && REGULAR_MODES.has(entry.oldMode)) blobIds.add(entry.oldBlob);
  }
  const blobs = await readBlobs(layout, [...blobIds]);
  return reviewed.map((entry) => {
    const after = blobs.get(entry.newBlob);
    const before =
      entry.oldPath !== null && REGULAR_MODES.has(entry.oldMode) ? blobs.get(entry.oldBlob) : undefined;
    const path = entry.newPath as string;
    if (!after || after === 'too-large') {
      return { path, binary: false, tooLarge: true, addedLines: [] };
    }
    if (isBinary(after)) return { path, binary: true, tooLarge: false, addedLines: [] };
    const beforeText = before && before !== 'too-large' && !isBinary(before) ? before.toString('utf8') : '';
    return {
      path,
      binary: false,
      tooLarge: false,
      addedLines: listAddedLines(beforeText, after.toString('utf8')),
    };
  });
}

/** Reads blobs (gitlinks are not objects here and are skipped) with one `cat-file --batch`. */
async function readBlobs(
  layout: RunLayout,
  ids: readonly string[],
): Promise<Map<string, Buffer | 'too-large'>> {
  const result = new Map<string, Buffer | 'too-large'>();
  if (ids.length === 0) return result;
  const runner = runnerGitOptions(layout);
  const sizes = (
    await runGit(['cat-file', '--batch-check=%(objectname) %(objecttype) %(objectsize)'], {
      ...runner,
      input: `${ids.join('\n')}\n`,
    })
  )
    .toString('utf8')
    .trim()
    .split('\n');
  const wanted: string[] = [];
  for (const line of sizes) {
    const [id, type, size] = line.split(' ');
    if (!id || type !== 'blob') continue;
    if (Number(size) > MAX_REVIEWED_FILE_BYTES) result.set(id, 'too-large');
    else wanted.push(id);
  }
  if (wanted.length === 0) return result;
  const batch = await runGit(['cat-file', '--batch'], { ...runner, input: `${wanted.join('\n')}\n` });
  let offset = 0;
  while (offset < batch.length) {
    const headerEnd = batch.indexOf(0x0a, offset);
    if (headerEnd < 0) break;
    const [id, , size] = batch.subarray(offset, headerEnd).toString('utf8').split(' ');
    const length = Number(size);
    if (!id || !Number.isFinite(length)) throw new Error('unexpected cat-file output');
    result.set(id, batch.subarray(headerEnd + 1, headerEnd + 1 + length));
    offset = headerEnd + 1 + length + 1;
  }
  return result;
}

/** Stricter than git's test (a NUL in the first 8000 bytes): a NUL anywhere hides text from review. */
function isBinary(content: Buffer): boolean {
  return content.includes(0);
}
