import { copyFile } from 'node:fs/promises';
import {
  type AddedLine,
  isTestFileEmptied,
  isTestPath,
  type NewContent,
  type NumstatEntry,
  numberAddedLines,
  parseNumstat,
  parseRawDiff,
  type RawDiffEntry,
} from '../../../shared/domain/allowlist-gate.js';
import { BugbotError } from '../../../shared/domain/errors.js';
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

/**
 * Blobs are read in `cat-file --batch` calls of at most this many bytes of output each, so a
 * change of many files never meets the cap on one git call's output (see `runGit`).
 */
export const DEFAULT_BLOB_BATCH_BYTES = 16 * 1024 * 1024;

const ZERO_OID = /^0+$/;
const REGULAR_MODES = new Set(['100644', '100755']);

export interface InspectFinalTreeOptions {
  /**
   * Past this many changed files the change is rejected on count alone, so the new contents are
   * not read (an agent that rewrote the whole tree costs no more to refuse).
   */
  readonly maxReviewedFiles?: number;
  /** The output cap of one blob read (default `DEFAULT_BLOB_BATCH_BYTES`); tests lower it. */
  readonly blobBatchBytes?: number;
}

/**
 * git returned less (or other) than the blob it declared: its tail would go unreviewed, so the
 * inspection fails rather than judge part of a file.
 */
export class BlobReadError extends BugbotError {
  constructor(
    readonly blob: string,
    detail: string,
  ) {
    super(`could not read blob ${blob} in full: ${detail}`);
  }
}

export interface FinalTreeInspection {
  readonly finalTree: string;
  readonly entries: readonly RawDiffEntry[];
  readonly numstat: readonly NumstatEntry[];
  readonly contents: readonly NewContent[];
  /** The added lines of each reviewed text file with their line numbers, for `risks`. */
  readonly addedLines: ReadonlyMap<string, readonly AddedLine[]>;
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

export async function inspectFinalTree(
  layout: RunLayout,
  baseTree: string,
  options: InspectFinalTreeOptions = {},
): Promise<FinalTreeInspection> {
  const finalTree = await snapshotWorkspaceTree(layout);
  if (finalTree === baseTree)
    return { finalTree, entries: [], numstat: [], contents: [], addedLines: new Map() };
  const runner = runnerGitOptions(layout);
  const diffArgs = ['diff-tree', '-r', '-z', '--no-abbrev', '-M', '--no-ext-diff', '--no-textconv'];
  const [raw, numstat] = await Promise.all([
    runGit([...diffArgs, '--raw', baseTree, finalTree], runner),
    runGit([...diffArgs, '--numstat', baseTree, finalTree], runner),
  ]);
  const entries = parseRawDiff(raw.toString('utf8'));
  const tooMany = options.maxReviewedFiles !== undefined && entries.length > options.maxReviewedFiles;
  const reviewed = tooMany
    ? []
    : await readNewContents(layout, entries, options.blobBatchBytes ?? DEFAULT_BLOB_BATCH_BYTES);
  return {
    finalTree,
    entries,
    numstat: parseNumstat(numstat.toString('utf8')),
    contents: reviewed.map(({ content }) => content),
    addedLines: new Map(reviewed.map(({ content, added }) => [content.path, added])),
  };
}

async function readNewContents(
  layout: RunLayout,
  entries: readonly RawDiffEntry[],
  batchBytes: number,
): Promise<Array<{ content: NewContent; added: AddedLine[] }>> {
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
  const blobs = await readBlobs(layout, [...blobIds], batchBytes);
  return reviewed.map((entry) => {
    const after = blobs.get(entry.newBlob);
    const before =
      entry.oldPath !== null && REGULAR_MODES.has(entry.oldMode) ? blobs.get(entry.oldBlob) : undefined;
    const path = entry.newPath as string;
    if (!after || after === 'too-large') {
      return { content: { path, binary: false, tooLarge: true, addedLines: [] }, added: [] };
    }
    if (isBinary(after))
      return { content: { path, binary: true, tooLarge: false, addedLines: [] }, added: [] };
    const beforeText = before && before !== 'too-large' && !isBinary(before) ? before.toString('utf8') : '';
    const afterText = after.toString('utf8');
    const added = numberAddedLines(beforeText, afterText);
    const existingTest = entry.oldPath !== null && isTestPath(entry.oldPath);
    return {
      content: {
        path,
        binary: false,
        tooLarge: false,
        addedLines: added.map((line) => line.text),
        ...(existingTest ? { emptiesTestFile: isTestFileEmptied(beforeText, afterText) } : {}),
      },
      added,
    };
  });
}

export interface BlobSize {
  readonly id: string;
  readonly size: number;
}

/**
 * Reads blobs (gitlinks are not objects here and are skipped; a blob too large to review is
 * marked so). Every blob comes back whole or the read throws: a blob cut short would leave its
 * tail, where a credential can sit, out of the review.
 */
async function readBlobs(
  layout: RunLayout,
  ids: readonly string[],
  batchBytes: number,
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
  const wanted: BlobSize[] = [];
  for (const line of sizes) {
    const [id, type, size] = line.split(' ');
    if (!id || type !== 'blob') continue;
    if (!size || !/^\d+$/.test(size)) throw new BlobReadError(id, `unexpected size ${JSON.stringify(size)}`);
    if (Number(size) > MAX_REVIEWED_FILE_BYTES) result.set(id, 'too-large');
    else wanted.push({ id, size: Number(size) });
  }
  for (const batch of splitIntoBatches(wanted, batchBytes)) {
    // The cap is the batch's budget: a batch can only outgrow it if a single blob does, and then
    // runGit throws rather than hand back a head.
    const output = await runGit(['cat-file', '--batch'], {
      ...runner,
      input: `${batch.map((blob) => blob.id).join('\n')}\n`,
      maxStdoutBytes: batchBytes,
    });
    parseCatFileBatch(output, batch, result);
  }
  return result;
}

/** `cat-file --batch` writes `<id> blob <size>\n<content>\n` per blob. */
function recordBytes(blob: BlobSize): number {
  return `${blob.id} blob ${blob.size}\n`.length + blob.size + 1;
}

function splitIntoBatches(blobs: readonly BlobSize[], batchBytes: number): BlobSize[][] {
  const batches: BlobSize[][] = [];
  let current: BlobSize[] = [];
  let currentBytes = 0;
  for (const blob of blobs) {
    const bytes = recordBytes(blob);
    if (current.length > 0 && currentBytes + bytes > batchBytes) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(blob);
    currentBytes += bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Checks each record against the id and size `--batch-check` declared, in request order (exported for its unit test). */
export function parseCatFileBatch(
  output: Buffer,
  expected: readonly BlobSize[],
  into: Map<string, Buffer | 'too-large'>,
): void {
  let offset = 0;
  for (const blob of expected) {
    const headerEnd = output.indexOf(0x0a, offset);
    if (headerEnd < 0) throw new BlobReadError(blob.id, 'the output ended before its header');
    const header = output.subarray(offset, headerEnd).toString('utf8');
    if (header !== `${blob.id} blob ${blob.size}`)
      throw new BlobReadError(blob.id, `unexpected header ${JSON.stringify(header.slice(0, 120))}`);
    const start = headerEnd + 1;
    const end = start + blob.size;
    if (end >= output.length || output[end] !== 0x0a) {
      const got = Math.max(0, Math.min(output.length, end) - start);
      throw new BlobReadError(blob.id, `got ${got} of ${blob.size} bytes`);
    }
    into.set(blob.id, output.subarray(start, end));
    offset = end + 1;
  }
  if (offset !== output.length) throw new BlobReadError('(batch)', 'unexpected output after the last blob');
}

/** Stricter than git's test (a NUL in the first 8000 bytes): a NUL anywhere hides text from review. */
function isBinary(content: Buffer): boolean {
  return content.includes(0);
}
