import { rm } from 'node:fs/promises';
import { runGit, runGitText } from './git-command.js';
import { type RunLayout, runnerGitOptions } from './workspace.js';

/** A file to place in a tree: a blob already in the runner's repository. */
export interface TreeFile {
  readonly path: string;
  readonly mode: string;
  readonly blob: string;
}

/**
 * `baseTree` with `files` added or replaced, as a new tree object in the runner's repository
 * (through a throwaway index; nothing is checked out).
 */
export async function buildTreeWith(
  layout: RunLayout,
  baseTree: string,
  files: readonly TreeFile[],
  indexFile: string,
): Promise<string> {
  const options = runnerGitOptions(layout, { indexFile });
  await rm(indexFile, { force: true });
  await runGit(['read-tree', baseTree], options);
  await runGit(['update-index', '-z', '--add', '--index-info'], {
    ...options,
    input: files.map((file) => `${file.mode} ${file.blob}\t${file.path}\0`).join(''),
  });
  return runGitText(['write-tree'], options);
}

/** Checks `tree` out into the empty directory `dir`, from the runner's repository. */
export async function checkoutTree(
  layout: RunLayout,
  tree: string,
  dir: string,
  indexFile: string,
): Promise<void> {
  await rm(indexFile, { force: true });
  await runGit(['read-tree', '--reset', '-u', tree], {
    ...runnerGitOptions(layout),
    cwd: dir,
    workTree: dir,
    indexFile,
  });
}
