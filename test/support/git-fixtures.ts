import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { GitAuth } from '../../fargate-runner/src/git/git-command.js';
import { describeLayout, prepareWorkspace, type RunLayout } from '../../fargate-runner/src/git/workspace.js';

/**
 * Real git repositories for runner tests: a small front-end app with a real bug and its tests,
 * pushed to a local bare repository that plays the origin (`file://`).
 *
 * The bug: `cartTotal` starts counting at the second item. `node --test` fails on the base
 * commit and passes once `let i = 1` becomes `let i = 0`.
 */

export const FIXTURE_BASE_BRANCH = 'main';

export const BUGGY_CART = `export function cartTotal(items) {
  let total = 0;
  for (let i = 1; i < items.length; i++) {
    total += items[i].price * items[i].quantity;
  }
  return Math.round(total * 100) / 100;
}

export function formatPrice(amount) {
  return \`$\${amount.toFixed(2)}\`;
}
`;

export const FIXED_CART = BUGGY_CART.replace('let i = 1;', 'let i = 0;');

export const FIXTURE_FILES: Readonly<Record<string, string>> = {
  'package.json': `${JSON.stringify(
    {
      name: 'fixture-shop',
      private: true,
      type: 'module',
      scripts: { test: 'node --test', build: 'echo build' },
    },
    null,
    2,
  )}\n`,
  'README.md': '# Fixture shop\n\nA tiny storefront used by the bugbot runner tests.\n',
  '.gitignore': 'node_modules/\ndist/\n*.log\n',
  '.github/workflows/ci.yml':
    'name: ci\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: npm test\n',
  'src/cart.js': BUGGY_CART,
  'src/cart.test.js': `import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cartTotal, formatPrice } from './cart.js';

test('cartTotal adds every line', () => {
  assert.equal(cartTotal([{ price: 2.5, quantity: 2 }, { price: 1, quantity: 3 }]), 8);
});

test('formatPrice shows cents', () => {
  assert.equal(formatPrice(3), '$3.00');
});
`,
  'src/components/CartView.js': `import { cartTotal, formatPrice } from '../cart.js';

export function renderCart(items) {
  return \`<p>Total: \${formatPrice(cartTotal(items))}</p>\`;
}
`,
  'app/main.js':
    "import { renderCart } from '../src/components/CartView.js';\n\nexport const html = renderCart([]);\n",
  'scripts/deploy.sh': '#!/bin/sh\necho deploying\n',
};

/** Environment for fixture git commands: nothing from the developer's own config. */
export function fixtureGitEnv(home: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    LANG: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    GIT_AUTHOR_NAME: 'Fixture Dev',
    GIT_AUTHOR_EMAIL: 'dev@fixture.test',
    GIT_COMMITTER_NAME: 'Fixture Dev',
    GIT_COMMITTER_EMAIL: 'dev@fixture.test',
    GIT_AUTHOR_DATE: '1700000000 +0000',
    GIT_COMMITTER_DATE: '1700000000 +0000',
  };
}

export function git(
  cwd: string,
  args: readonly string[],
  options: { home?: string; env?: Record<string, string>; input?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'git',
      args,
      {
        cwd,
        env: { ...fixtureGitEnv(options.home ?? cwd), ...options.env },
        maxBuffer: 256 * 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stderr }));
        else resolve(stdout);
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

export interface FixtureOrigin {
  readonly root: string;
  /** The bare repository on disk. */
  readonly originPath: string;
  readonly cloneUrl: string;
  readonly baseBranch: string;
  readonly baseCommit: string;
  /** Full ref names on the origin, e.g. `refs/heads/main`. */
  listBranches(): Promise<string[]>;
  /** The commit a branch points to on the origin, or null. */
  readBranch(branch: string): Promise<string | null>;
  /** `git show <ref>:<path>` on the origin. */
  readFile(ref: string, path: string): Promise<string>;
  /** Runs git in the origin. */
  git(args: readonly string[]): Promise<string>;
  cleanup(): Promise<void>;
}

/** A bare origin holding the fixture app on `main` (plus `extraFiles`), in a fresh temp dir. */
export async function createFixtureOrigin(
  options: {
    extraFiles?: Record<string, string>;
    executable?: readonly string[];
    /** Symbolic links committed in the base: path → target. */
    symlinks?: Record<string, string>;
  } = {},
): Promise<FixtureOrigin> {
  const root = await mkdtemp(join(tmpdir(), 'bugbot-fixture-'));
  const seed = join(root, 'seed');
  const originPath = join(root, 'origin.git');
  // A little history: the base commit has a parent with content the base no longer has.
  await writeTree(seed, { 'README.md': '# Shop (draft)\n', 'src/cart.js': '// to do\n' });
  await git(seed, ['init', '--quiet', `--initial-branch=${FIXTURE_BASE_BRANCH}`]);
  await git(seed, ['add', '--all']);
  await git(seed, ['commit', '--quiet', '-m', 'Start the shop']);
  await writeTree(seed, { ...FIXTURE_FILES, ...options.extraFiles });
  for (const [path, target] of Object.entries(options.symlinks ?? {})) {
    await mkdir(dirname(join(seed, path)), { recursive: true });
    await symlink(target, join(seed, path));
  }
  await git(seed, ['add', '--all']);
  for (const path of ['scripts/deploy.sh', ...(options.executable ?? [])]) {
    await git(seed, ['update-index', '--chmod=+x', '--', path]);
  }
  await git(seed, ['commit', '--quiet', '-m', 'Initial shop']);
  await git(root, ['clone', '--quiet', '--bare', '--', seed, originPath]);
  // Uploads of partial clones need the origin to allow filters, as GitHub does.
  await git(originPath, ['config', 'uploadpack.allowFilter', 'true']);
  await git(originPath, ['config', 'uploadpack.allowAnySHA1InWant', 'true']);
  const baseCommit = (await git(originPath, ['rev-parse', `refs/heads/${FIXTURE_BASE_BRANCH}`])).trim();

  return {
    root,
    originPath,
    cloneUrl: pathToFileURL(originPath).href,
    baseBranch: FIXTURE_BASE_BRANCH,
    baseCommit,
    async listBranches() {
      const out = await git(originPath, ['for-each-ref', '--format=%(refname)', 'refs/heads/']);
      return out.split('\n').filter(Boolean);
    },
    async readBranch(branch) {
      try {
        return (
          (await git(originPath, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`])).trim() || null
        );
      } catch {
        return null;
      }
    },
    readFile: (ref, path) => git(originPath, ['show', `${ref}:${path}`]),
    git: (args) => git(originPath, args),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

export async function writeTree(root: string, files: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const target = join(root, path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
}

/** Every change between two commits on the origin, as `git diff --name-status` lines. */
export async function describeOriginChange(
  origin: FixtureOrigin,
  from: string,
  to: string,
): Promise<string[]> {
  const out = await origin.git(['diff', '--name-status', '--no-renames', from, to]);
  return out.split('\n').filter(Boolean);
}

export interface PreparedFixtureRun {
  readonly origin: FixtureOrigin;
  readonly layout: RunLayout;
  readonly workspace: string;
  readonly baseCommit: string;
  readonly baseTree: string;
  readonly branch: string;
  cleanup(): Promise<void>;
}

/** A fixture origin and a run prepared against it by the runner's own `prepareWorkspace`. */
export async function prepareFixtureRun(
  options: { branch?: string; extraFiles?: Record<string, string>; auth?: GitAuth } = {},
): Promise<PreparedFixtureRun> {
  const origin = await createFixtureOrigin({ extraFiles: options.extraFiles });
  const layout = describeLayout(await mkdtemp(join(tmpdir(), 'bugbot-run-')));
  const branch = options.branch ?? 'bugbot/fix-1';
  const prepared = await prepareWorkspace({
    layout,
    cloneUrl: origin.cloneUrl,
    baseBranch: origin.baseBranch,
    branch,
    auth: options.auth,
  });
  return {
    origin,
    layout,
    workspace: layout.workspace,
    branch,
    baseCommit: prepared.baseCommit,
    baseTree: prepared.baseTree,
    async cleanup() {
      await rm(layout.root, { recursive: true, force: true });
      await origin.cleanup();
    },
  };
}
