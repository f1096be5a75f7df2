import { describe, expect, it } from 'vitest';
import {
  collectSecretValues,
  decideGate,
  decideToolUse,
  findCredentials,
  findFileNameProblem,
  findPathProblem,
  type GateInput,
  isTestFileEmptied,
  isTestPath,
  listAddedLines,
  normalizeAllowlist,
  numberAddedLines,
  parseNumstat,
  parseRawDiff,
  type RawDiffEntry,
  redactSecrets,
} from '../../shared/domain/allowlist-gate.js';

const ALLOWLIST = normalizeAllowlist(['src/', 'app', 'components/']);
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const Z = '0'.repeat(40);

function entry(overrides: Partial<RawDiffEntry>): RawDiffEntry {
  return {
    status: 'M',
    oldMode: '100644',
    newMode: '100644',
    oldBlob: A,
    newBlob: B,
    oldPath: 'src/a.ts',
    newPath: 'src/a.ts',
    ...overrides,
  };
}

function gate(overrides: Partial<GateInput>): ReturnType<typeof decideGate> {
  return decideGate({
    allowlist: ['src/', 'app/'],
    limits: { maxChangedFiles: 3, maxDiffLines: 10 },
    entries: [],
    numstat: [],
    contents: [],
    secretValues: [],
    ...overrides,
  });
}

describe('normalizeAllowlist', () => {
  it('turns entries into directory prefixes', () => {
    expect(ALLOWLIST).toEqual(['src/', 'app/', 'components/']);
  });

  it.each([[''], ['/'], ['.'], ['/src'], ['../src'], ['src/../..'], ['.github/'], ['src/.git'], ['a//b']])(
    'refuses %j instead of widening the gate',
    (entry) => {
      expect(() => normalizeAllowlist([entry])).toThrow(/allowlist entry/);
    },
  );

  it('refuses an empty allowlist', () => {
    expect(() => normalizeAllowlist([])).toThrow(/at least one/);
  });
});

describe('findPathProblem', () => {
  it.each([
    ['src/cart.ts', null],
    ['src/deep/er/file.tsx', null],
    ['app/x.js', null],
    ['SRC/cart.ts', 'outside the allowlist'],
    ['Src/cart.ts', 'outside the allowlist'],
    ['srcx/cart.ts', 'outside the allowlist'],
    ['src', 'outside the allowlist'],
    ['package.json', 'outside the allowlist'],
    ['.github/workflows/ci.yml', 'git metadata file (.git*)'],
    ['src/.gitattributes', 'git metadata file (.git*)'],
    ['src/.GIT/config', 'git metadata file (.git*)'],
    ['.gitmodules', 'git metadata file (.git*)'],
    ['src/GIT~1/config', 'git metadata file (.git*)'],
    ['src/../package.json', 'relative path segment'],
    ['src/./a.ts', 'relative path segment'],
    ['/src/a.ts', 'absolute path'],
    ['src//a.ts', 'empty path segment'],
    ['src/a\nb.ts', 'control character, backslash or undecodable byte in path'],
    ['src/a\\..\\b.ts', 'control character, backslash or undecodable byte in path'],
    ['src/\ufffd.ts', 'control character, backslash or undecodable byte in path'],
    ['src/evil.', 'path segment ends with a dot or space'],
    ['src/.claude/settings.json', 'agent configuration file'],
    ['src/CLAUDE.md', 'agent configuration file'],
    ['src/.mcp.json', 'agent configuration file'],
  ])('%j → %s', (path, problem) => {
    expect(findPathProblem(path, ALLOWLIST)).toBe(problem);
  });
});

describe('findPathProblem inside the allowlist (issue 10: files that run or configure tools)', () => {
  const DOTFILE = 'dotfile (a path segment starts with ".")';
  const MANIFEST = 'package manifest or lockfile';
  const CONFIG = 'tool configuration file (*.config.*, *rc)';
  const NODE_MODULES = 'under node_modules/ (changes what gets resolved)';
  const RESERVED = 'Markdown or reserved character in path (` * < > : " | ?)';
  const INVISIBLE = 'invisible or direction-changing character in path';

  it.each([
    // dotfiles, at any depth
    ['src/.env', DOTFILE],
    ['src/.env.local', DOTFILE],
    ['src/.npmrc', DOTFILE],
    ['src/.yarnrc.yml', DOTFILE],
    ['src/.babelrc', DOTFILE],
    ['src/.eslintrc.json', DOTFILE],
    ['src/.storybook/main.js', DOTFILE],
    ['src/a/.hidden/b.js', DOTFILE],
    // node_modules, at any depth
    ['src/node_modules/react/index.js', NODE_MODULES],
    ['src/lib/node_modules/x/package.json', NODE_MODULES],
    ['src/Node_Modules/react/index.js', NODE_MODULES],
    // manifests and lockfiles, any ecosystem, any depth
    ['src/package.json', MANIFEST],
    ['src/Package.json', MANIFEST],
    ['src/ui/package-lock.json', MANIFEST],
    ['src/npm-shrinkwrap.json', MANIFEST],
    ['src/yarn.lock', MANIFEST],
    ['src/pnpm-lock.yaml', MANIFEST],
    ['src/pnpm-workspace.yaml', MANIFEST],
    ['src/bun.lock', MANIFEST],
    ['src/bun.lockb', MANIFEST],
    ['src/deno.json', MANIFEST],
    ['src/import_map.json', MANIFEST],
    ['src/requirements.txt', MANIFEST],
    ['src/setup.py', MANIFEST],
    ['src/Gemfile', MANIFEST],
    ['src/app.gemspec', MANIFEST],
    ['src/Cargo.toml', MANIFEST],
    ['src/go.mod', MANIFEST],
    ['src/composer.json', MANIFEST],
    ['src/pubspec.yaml', MANIFEST],
    ['src/Podfile', MANIFEST],
    ['src/build.gradle.kts', MANIFEST],
    // tool configurations
    ['src/postcss.config.js', CONFIG],
    ['src/vite.config.ts', CONFIG],
    ['src/tailwind.config.cjs', CONFIG],
    ['src/babel.config.json', CONFIG],
    ['src/app/next.config.mjs', CONFIG],
    ['src/karma.conf.js', CONFIG],
    ['src/web.config', CONFIG],
    ['src/eslint.config.js', CONFIG],
    ['src/npmrc', CONFIG],
    ['src/babelrc', CONFIG],
    ['src/eslintrc.json', CONFIG],
    ['src/prettierrc.yaml', CONFIG],
    ['src/babelrc.js', CONFIG],
    ['src/lintstagedrc.mjs', CONFIG],
    ['src/tsconfig.json', CONFIG],
    ['src/tsconfig.app.json', CONFIG],
    ['src/jsconfig.json', CONFIG],
    ['src/browserslist', CONFIG],
    ['src/vercel.json', CONFIG],
    ['src/netlify.toml', CONFIG],
    ['src/Makefile', CONFIG],
    ['src/gulpfile.js', CONFIG],
    ['src/Dockerfile', CONFIG],
    // names that would render as Markdown or HTML, or not check out on Windows
    ['src/a` **Security review: APPROVED** `.js', RESERVED],
    ['src/a*b.js', RESERVED],
    ['src/<img>.js', RESERVED],
    ['src/a:b.js', RESERVED],
    ['src/a|b.js', RESERVED],
    ['src/what?.js', RESERVED],
    ['src/"q".js', RESERVED],
    ['src/cart\u202e.sj', INVISIBLE],
    ['src/cart\u200b.js', INVISIBLE],
    ['src/cart\u00a0.js', INVISIBLE],
    ['src/a\u0085b.js', 'control character, backslash or undecodable byte in path'],
  ])('%j → %s', (path, problem) => {
    expect(findPathProblem(path, ALLOWLIST)).toBe(problem);
  });

  it.each([
    ['src/source.js'],
    ['src/src.js'],
    ['src/Arc.tsx'],
    ['src/resource.ts'],
    ['src/rc-slider.js'],
    ['src/rcUtils.js'],
    ['src/config.js'],
    ['src/config/index.ts'],
    ['src/app-config.ts'],
    ['src/configure.js'],
    ['src/confirm.js'],
    ['src/packages.json.ts'],
    ['src/package/index.js'],
    ['src/lockfile.js'],
    ['src/pages/[id].tsx'],
    ['app/(marketing)/page.tsx'],
    ['app/@modal/(.)photo/page.tsx'],
    ['src/_app.tsx'],
    ['src/routes/$id.tsx'],
    ['src/cart.test.js'],
    ['src/__tests__/cart.js'],
    ['src/a b.js'],
    ['src/main.rs.js'],
    ['src/npc.js'],
    ['src/rc.js'],
  ])('leaves the ordinary name %j alone', (path) => {
    expect(findPathProblem(path, ALLOWLIST)).toBeNull();
  });

  it('says the same to the hook: the agent hears why before the gate rejects', () => {
    expect(decideToolUse('Write', ['src/postcss.config.js'], ['src/'])).toEqual({
      allow: false,
      reason: `Editing src/postcss.config.js is not allowed (${CONFIG}). Only files under src/ may be changed.`,
    });
  });

  it('refuses a dotfile or node_modules allowlist entry', () => {
    expect(() => normalizeAllowlist(['src/.storybook'])).toThrow(/dotfile/);
    expect(() => normalizeAllowlist(['node_modules/'])).toThrow(/node_modules/);
  });
});

describe('findFileNameProblem on real directories', () => {
  // Every file name under node_modules/ (real packages' real source files, thousands of names)
  // and in this repository: anything the rule calls a tool configuration must be one by the
  // shapes its documentation gives, and no ordinary name may be caught.
  const CONFIG_SHAPES = [
    /\.(?:config|conf)(?:\.|$)/i,
    /^[^.]{1,}rc$/i,
    /^[^.]{1,}rc\.(?:json5?|jsonc|ya?ml|toml|ini|cfg|conf)$/i,
    /^(?:babel|eslint|prettier|stylelint|postcss|swc|mocha|nyc|c8|ava|jest|lint-?staged|commitlint|husky|release|markdownlint|remark|browserslist|jshint|jscs|bower|htmlhint|textlint|svgo|editorconfig|npm|yarn|pnpm|bun)rc\./i,
    /^(?:ts|js)config(?:\..+)?\.json$/i,
    /^(?:gruntfile|gulpfile|jakefile)\./i,
  ];

  it('catches only configuration-shaped names among the real file names on this machine', async () => {
    const { readdir } = await import('node:fs/promises');
    const { fileURLToPath } = await import('node:url');
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const names = new Set<string>();
    for (const dir of ['node_modules', 'shared', 'fargate-runner', 'local', 'sandbox-repo', 'infra']) {
      for (const entry of await readdir(`${root}${dir}`, { recursive: true, withFileTypes: true })) {
        if (entry.isFile() && !entry.name.startsWith('.')) names.add(entry.name);
      }
    }
    expect(names.size).toBeGreaterThan(5000);
    const caught = [...names].filter(
      (name) => findFileNameProblem(name) === 'tool configuration file (*.config.*, *rc)',
    );
    const unexplained = caught.filter(
      (name) =>
        !CONFIG_SHAPES.some((shape) => shape.test(name)) &&
        ![
          'browserslist',
          'vercel.json',
          'makefile',
          'dockerfile',
          'biome.json',
          'project.json',
          'turbo.json',
        ].includes(name.toLowerCase()),
    );
    expect(unexplained).toEqual([]);
    expect(caught).toEqual(expect.arrayContaining(['jest.config.js', 'eslint.config.mjs']));
    // Real names that look close (`config.js`, `config.d.ts`, `define-config-x.mjs`,
    // `configuration-set.js`, `*rc` stems with code extensions…) and are ordinary modules.
    const lookalikes = [...names].filter(
      (name) => /conf|rc(?:\.|$)/i.test(name) && !CONFIG_SHAPES.some((shape) => shape.test(name)),
    );
    expect(lookalikes.length).toBeGreaterThan(50);
    expect(lookalikes.filter((name) => findFileNameProblem(name) !== null)).toEqual([]);
  });
});

describe('test files', () => {
  it.each([
    ['src/cart.test.js', true],
    ['src/cart.spec.tsx', true],
    ['src/cart.test.d.ts', true],
    ['src/__tests__/cart.js', true],
    ['src/a/__tests__/b/c.ts', true],
    ['src/Cart.Test.js', true],
    ['src/test.js', false],
    ['src/testing.js', false],
    ['src/latest.js', false],
    ['src/cart.test', false],
    ['src/tests/cart.js', false],
    ['src/__tests__', false],
  ])('isTestPath(%j) is %s', (path, expected) => {
    expect(isTestPath(path)).toBe(expected);
  });

  it.each([
    ['blank', 'test("a", () => {});', '', true],
    ['only whitespace', 'test("a", () => {});', '  \n\t\n', true],
    ['only comments', 'test("a", () => {});', '// gone\n/* all of it */\n', true],
    [
      'every case deleted',
      "import { x } from './x.js';\ntest('a', () => {});",
      "import { x } from './x.js';\n",
      true,
    ],
    [
      'every case skipped',
      "it('a', () => {});\ntest('b', () => {});",
      "it.skip('a', () => {});\ntest.skip('b', () => {});",
      true,
    ],
    ['a case kept', "it('a', () => {});\nit('b', () => {});", "it('a', () => {});", false],
    ['cases rewritten', "test('a', () => {});", "test.each([1, 2])('n %i', () => {});", false],
    [
      'a helper file with no cases before or after',
      'export const make = () => 1;',
      'export const make = () => 2;',
      false,
    ],
  ])('isTestFileEmptied: %s → %s', (_name, before, after, expected) => {
    expect(isTestFileEmptied(before, after)).toBe(expected);
  });
});

describe('git output parsers', () => {
  it('parses raw diff-tree output with renames, additions and deletions', () => {
    const raw = [
      `:100644 100644 ${A} ${B} M`,
      'src/a.ts',
      `:000000 120000 ${Z} ${B} A`,
      'src/link',
      `:100644 000000 ${A} ${Z} D`,
      'README.md',
      `:100644 100644 ${A} ${A} R100`,
      'src/old.ts',
      'lib/new.ts',
      '',
    ].join('\0');
    expect(parseRawDiff(raw)).toEqual([
      entry({}),
      entry({
        status: 'A',
        oldMode: '000000',
        newMode: '120000',
        oldBlob: Z,
        oldPath: null,
        newPath: 'src/link',
      }),
      entry({ status: 'D', newMode: '000000', newBlob: Z, oldPath: 'README.md', newPath: null }),
      entry({ status: 'R', newBlob: A, oldPath: 'src/old.ts', newPath: 'lib/new.ts' }),
    ]);
  });

  it('keeps paths with spaces, tabs and newlines intact', () => {
    expect(parseRawDiff(`:100644 100644 ${A} ${B} M\0src/a b\tc\nd.ts\0`)[0]?.newPath).toBe(
      'src/a b\tc\nd.ts',
    );
  });

  it('throws on output it does not understand', () => {
    expect(() => parseRawDiff('garbage\0')).toThrow(/unexpected diff-tree line/);
    expect(() => parseRawDiff(`:100644 100644 ${A} ${B} R100\0only-one-path\0`)).toThrow(/ended early/);
  });

  it('parses numstat with binary files and renames', () => {
    expect(parseNumstat('3\t1\tsrc/a.ts\0-\t-\tsrc/img.png\0' + '0\t0\t\0src/old.ts\0lib/new.ts\0')).toEqual([
      { path: 'src/a.ts', added: 3, deleted: 1 },
      { path: 'src/img.png', added: null, deleted: null },
      { path: 'lib/new.ts', added: 0, deleted: 0 },
    ]);
  });
});

describe('listAddedLines', () => {
  it('returns the lines of the new text that the old text did not have, as a multiset', () => {
    expect(listAddedLines('a\nb\nc', 'c\na\nx\nb\nb')).toEqual(['x', 'b']);
    expect(listAddedLines('', 'one')).toEqual(['one']);
  });

  it('numbers them by their line in the new text', () => {
    expect(numberAddedLines('a\nb\nc', 'c\na\nx\nb\nb')).toEqual([
      { line: 3, text: 'x' },
      { line: 5, text: 'b' },
    ]);
  });
});

describe('findCredentials', () => {
  const kinds = (line: string, secrets: string[] = []) => findCredentials([line], secrets).map((f) => f.kind);

  it.each([
    [`const id = '${'AKI'}AIOSFODNN7EXAMPLE';`, 'an AWS access key id'],
    ['token: ghp' + '_abcdefghijklmnopqrstuvwxyz0123456789', 'a GitHub token'],
    ['github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyz0123456789', 'a GitHub fine-grained token'],
    [`key = "${'sk-'}ant-api03-abcdefghijklmnop"`, 'an Anthropic API key'],
    ['-----BEGIN RSA PRIVATE KEY-----', 'a private key'],
    ['-----BEGIN PRIVATE KEY-----', 'a private key'],
    [`slack = "${'xox'}b-1234567890-abcdefghij"`, 'a Slack token'],
    ['https://hooks.slack.com/services/T000/B000/XXXXXXXX', 'a Slack webhook URL'],
    ['sk_live_abcdefghijklmnopqrstuvwx', 'a Stripe secret key'],
    ['AIzaSyA-abcdefghijklmnopqrstuvwxyz01234', 'a Google API key'],
    ['eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnop', 'a JSON Web Token'],
    ["const dbUrl = 'postgres://admin:hunter2pass@db.internal:5432/app';", 'a URL with embedded credentials'],
    ['const clientSecret = "q8Xr2LmZ9vTb4KpW";', 'a high-entropy literal assigned to a secret-like name'],
  ])('finds %s', (line, kind) => {
    expect(kinds(line)).toContain(kind);
  });

  it.each([
    ['const total = items.reduce((sum, item) => sum + item.price, 0);'],
    ["const tokenCount = 'computeTokenCountFrom';"],
    ["const sessionToken = 'session-token-v2-header';"],
    ["const apiKeyHeader = 'x-api-key-header-name';"],
    ["const password = 'placeholderpassword';"],
    ["const authUrl = 'https://example.com/auth/callback';"],
    ['// see https://github.com/acme/shop/issues/12'],
    ["import { secretsManager } from './aws/secrets-manager.js';"],
  ])('leaves ordinary code alone: %s', (line) => {
    expect(kinds(line)).toEqual([]);
  });

  it('finds the exact value of a runner secret, plain, base64 or hex, whatever it looks like', () => {
    const secret = 'plain-looking-value-42';
    const finding = "a value of the runner's own secret environment";
    expect(kinds(`x = "${secret}"`, [secret])).toEqual([finding]);
    expect(kinds(Buffer.from(secret).toString('base64'), [secret])).toEqual([finding]);
    expect(kinds(Buffer.from(secret).toString('hex'), [secret])).toEqual([finding]);
    expect(kinds('unrelated', [secret])).toEqual([]);
  });

  it('reports line numbers, never the value', () => {
    const findings = findCredentials(['fine', 'AKI' + 'AIOSFODNN7EXAMPLE'], []);
    expect(findings).toEqual([{ line: 2, kind: 'an AWS access key id' }]);
  });
});

describe('collectSecretValues and redactSecrets', () => {
  it('collects the named secrets and long secret-looking environment values', () => {
    expect(
      collectSecretValues({
        ANTHROPIC_API_KEY: 'sk-ant-short',
        GITHUB_TOKEN: 'ghs_abcdef',
        SERVICE_PASSWORD: 'long-enough-password',
        OTHER_TOKEN: 'short',
        PATH: '/usr/local/bin:/usr/bin:/bin:/sbin',
        EMPTY_SECRET: '',
      }),
    ).toEqual(['sk-ant-short', 'ghs_abcdef', 'long-enough-password']);
  });

  it('redacts secret values and credential-looking tokens', () => {
    expect(
      redactSecrets('key my-own-secret-value and ghp' + '_abcdefghijklmnopqrstuvwxyz0123456789 end', [
        'my-own-secret-value',
      ]),
    ).toBe('key [redacted] and [redacted] end');
  });
});

describe('decideGate', () => {
  it('has nothing to decide without changes', () => {
    expect(gate({})).toEqual({ verdict: 'no_changes' });
  });

  it('accepts an allowlisted edit and counts its lines', () => {
    expect(
      gate({
        entries: [entry({})],
        numstat: [{ path: 'src/a.ts', added: 2, deleted: 1 }],
        contents: [{ path: 'src/a.ts', binary: false, tooLarge: false, addedLines: ['x', 'y'] }],
      }),
    ).toEqual({
      verdict: 'accepted',
      changedFiles: [{ path: 'src/a.ts', change: 'modified' }],
      diffLines: 3,
    });
  });

  it('checks both sides of a rename', () => {
    const decision = gate({
      entries: [
        entry({ status: 'R', oldPath: 'src/a.ts', newPath: 'lib/a.ts' }),
        entry({ status: 'R', oldPath: 'scripts/x.sh', newPath: 'src/x.sh' }),
      ],
    });
    expect(decision).toMatchObject({
      verdict: 'rejected',
      rejected: [
        { path: 'lib/a.ts', reason: 'outside the allowlist' },
        { path: 'scripts/x.sh', reason: 'outside the allowlist' },
      ],
    });
  });

  it.each([
    [entry({ status: 'A', oldMode: '000000', newMode: '120000', oldPath: null }), 'symbolic link', 'added'],
    [entry({ status: 'T', newMode: '120000' }), 'symbolic link', 'typechange'],
    [
      entry({ status: 'A', oldMode: '000000', newMode: '160000', oldPath: null }),
      'submodule (gitlink)',
      'added',
    ],
    [
      entry({ status: 'D', oldMode: '160000', newMode: '000000', newPath: null }),
      'submodule (gitlink)',
      'deleted',
    ],
    [entry({ newMode: '100755', newBlob: A }), 'file made executable', 'mode'],
    [
      entry({ status: 'A', oldMode: '000000', newMode: '100755', oldPath: null }),
      'file made executable',
      'added',
    ],
    [entry({ newMode: '040000' }), 'unexpected file mode 040000', 'modified'],
  ])('rejects %o: %s', (rawEntry, reason, change) => {
    const decision = gate({ entries: [rawEntry] });
    expect(decision).toMatchObject({
      verdict: 'rejected',
      changedFiles: [{ path: rawEntry.newPath ?? rawEntry.oldPath, change }],
      rejected: [{ path: rawEntry.newPath ?? rawEntry.oldPath, reason }],
    });
  });

  it('keeps an executable bit the base already had', () => {
    expect(gate({ entries: [entry({ oldMode: '100755', newMode: '100755' })] }).verdict).toBe('accepted');
  });

  it.each([['C'], ['U'], ['X']])('fails closed on the unexpected status %s', (status) => {
    expect(gate({ entries: [entry({ status })] })).toMatchObject({
      verdict: 'rejected',
      rejected: [{ path: 'src/a.ts', reason: `unexpected change status ${status}` }],
    });
  });

  it('rejects too many files and too many lines, counting binary lines as none', () => {
    const entries = ['src/1', 'src/2', 'src/3', 'src/4'].map((path) =>
      entry({ oldPath: path, newPath: path }),
    );
    const decision = gate({
      entries,
      numstat: [
        { path: 'src/1', added: 6, deleted: 5 },
        { path: 'src/2', added: null, deleted: null },
      ],
    });
    expect(decision).toMatchObject({
      verdict: 'rejected',
      rejected: [
        { path: '(change)', reason: '4 files changed, over the limit of 3' },
        { path: '(change)', reason: '11 lines changed, over the limit of 10' },
      ],
    });
  });

  it('refuses deleting, renaming away or emptying an existing test file; adding and changing tests is fine', () => {
    const decision = gate({
      limits: { maxChangedFiles: 10, maxDiffLines: 100 },
      entries: [
        entry({ status: 'D', newMode: '000000', newBlob: Z, oldPath: 'src/a.test.ts', newPath: null }),
        entry({ status: 'R', oldPath: 'src/b.test.ts', newPath: 'src/b.ts' }),
        entry({ oldPath: 'src/c.test.ts', newPath: 'src/c.test.ts' }),
        entry({ oldPath: 'src/__tests__/d.ts', newPath: 'src/__tests__/d.ts' }),
        entry({ status: 'R', oldPath: 'src/e.test.ts', newPath: 'src/e.spec.ts' }),
        entry({ status: 'A', oldMode: '000000', oldBlob: Z, oldPath: null, newPath: 'src/f.test.ts' }),
      ],
      contents: [
        { path: 'src/c.test.ts', binary: false, tooLarge: false, addedLines: [], emptiesTestFile: true },
        {
          path: 'src/__tests__/d.ts',
          binary: false,
          tooLarge: false,
          addedLines: ['x'],
          emptiesTestFile: false,
        },
        { path: 'src/f.test.ts', binary: false, tooLarge: false, addedLines: ['test()'] },
      ],
    });
    expect(decision).toMatchObject({
      verdict: 'rejected',
      rejected: [
        { path: 'src/a.test.ts', reason: 'deletes an existing test file' },
        { path: 'src/b.test.ts', reason: 'renames an existing test file to a name that is not a test' },
        { path: 'src/c.test.ts', reason: 'empties an existing test file (no test left in it)' },
      ],
    });
  });

  it('rejects binary, oversized and credential-bearing content, once per kind', () => {
    const decision = gate({
      entries: [
        entry({}),
        entry({ oldPath: 'src/b.ts', newPath: 'src/b.ts' }),
        entry({ oldPath: 'app/c', newPath: 'app/c' }),
      ],
      contents: [
        { path: 'src/a.ts', binary: true, tooLarge: false, addedLines: [] },
        { path: 'src/b.ts', binary: false, tooLarge: true, addedLines: [] },
        {
          path: 'app/c',
          binary: false,
          tooLarge: false,
          addedLines: ['AKI' + 'AIOSFODNN7EXAMPLE', 'AKI' + 'AIOSFODNN7EXAMPLF'],
        },
      ],
    });
    expect(decision).toMatchObject({
      verdict: 'rejected',
      rejected: [
        { path: 'src/a.ts', reason: 'binary content' },
        { path: 'src/b.ts', reason: 'file too large to review' },
        { path: 'app/c', reason: 'added text looks like an AWS access key id' },
      ],
    });
  });
});

describe('decideToolUse (the PreToolUse hook)', () => {
  it('allows reads anywhere in the workspace and writes under the allowlist', () => {
    expect(decideToolUse('Read', ['package.json'], ['src/'])).toEqual({ allow: true });
    expect(decideToolUse('Glob', ['', ''], ['src/'])).toEqual({ allow: true });
    expect(decideToolUse('Edit', ['src/a.ts'], ['src/'])).toEqual({ allow: true });
  });

  it('refuses writes outside the allowlist with a reason the model can act on', () => {
    expect(decideToolUse('Write', ['package.json'], ['src/'])).toEqual({
      allow: false,
      reason:
        'Editing package.json is not allowed (outside the allowlist). Only files under src/ may be changed.',
    });
    expect(decideToolUse('NotebookEdit', ['src/.gitattributes'], ['src/']).allow).toBe(false);
  });

  it('refuses anything outside the workspace, unknown tools, and edits that name no file', () => {
    expect(decideToolUse('Read', [null], ['src/'])).toMatchObject({ allow: false });
    expect(decideToolUse('Bash', [], ['src/'])).toEqual({
      allow: false,
      reason: 'The tool Bash is not available in this sandbox.',
    });
    expect(decideToolUse('WebFetch', [], ['src/']).allow).toBe(false);
    expect(decideToolUse('Write', [], ['src/']).allow).toBe(false);
  });
});

describe('findCredentials on hostile input', () => {
  it('finds a URL with credentials after a 1 MiB run of scheme-like characters (bounded, linear)', () => {
    const line = `${'a+'.repeat(512 * 1024)} postgres://admin:hunter2pass@db.internal/app`;
    expect(findCredentials([line], []).map((finding) => finding.kind)).toContain(
      'a URL with embedded credentials',
    );
  });

  it('scans a 1 MiB single-line file and still finds the secret at its end (the name match must not restart at every character)', () => {
    const line = `${'a'.repeat(1024 * 1024)} api_key = "Zq7Lm2Xv9Rt4Kp8Wn3Hj5Bc6Df"`;
    expect(findCredentials([line], []).map((finding) => finding.kind)).toContain(
      'a high-entropy literal assigned to a secret-like name',
    );
  });
});
