/**
 * The fix runner's gate: what may leave the sandbox. Pure decisions over what git reports about
 * the final tree against the base commit; the runner does the git I/O and feeds them in.
 *
 * It is the security boundary, so it fails closed: anything it does not recognise (a diff status,
 * a file mode, a path it cannot read) rejects the run.
 */

export type ChangeKind = 'added' | 'modified' | 'deleted' | 'renamed' | 'mode' | 'typechange';

export interface ChangedFile {
  readonly path: string;
  readonly change: ChangeKind;
}

export interface Rejection {
  readonly path: string;
  readonly reason: string;
}

/** One `git diff-tree --raw -z` entry. Paths exactly as git stores them. */
export interface RawDiffEntry {
  readonly status: string;
  readonly oldMode: string;
  readonly newMode: string;
  readonly oldBlob: string;
  readonly newBlob: string;
  /** Null for an addition. */
  readonly oldPath: string | null;
  /** Null for a deletion. */
  readonly newPath: string | null;
}

export interface NumstatEntry {
  /** The path on the new side (the destination of a rename). */
  readonly path: string;
  /** Null for binary content. */
  readonly added: number | null;
  readonly deleted: number | null;
}

/** What the runner read from the new side of one changed file. */
export interface NewContent {
  readonly path: string;
  readonly binary: boolean;
  /** Larger than the runner is willing to read and review. */
  readonly tooLarge: boolean;
  /** Lines of the new file that the old file did not have (see `listAddedLines`). */
  readonly addedLines: readonly string[];
  /**
   * For a modified or renamed test file (`isTestPath` of the old path): the new text has no test
   * left (see `isTestFileEmptied`). Absent or false otherwise.
   */
  readonly emptiesTestFile?: boolean;
}

/** An added line with its 1-based number in the new file. */
export interface AddedLine {
  readonly line: number;
  readonly text: string;
}

export interface GateLimits {
  readonly maxChangedFiles: number;
  readonly maxDiffLines: number;
}

export interface GateInput {
  readonly allowlist: readonly string[];
  readonly limits: GateLimits;
  readonly entries: readonly RawDiffEntry[];
  readonly numstat: readonly NumstatEntry[];
  readonly contents: readonly NewContent[];
  /** Values that must never leave: the runner's own secrets (see `collectSecretValues`). */
  readonly secretValues: readonly string[];
}

export type GateDecision =
  | { readonly verdict: 'no_changes' }
  | {
      readonly verdict: 'accepted';
      readonly changedFiles: readonly ChangedFile[];
      readonly diffLines: number;
    }
  | {
      readonly verdict: 'rejected';
      readonly changedFiles: readonly ChangedFile[];
      readonly rejected: readonly Rejection[];
    };

/** Used for findings that concern the change as a whole rather than one path. */
export const WHOLE_CHANGE = '(change)';

const REGULAR_FILE = '100644';
const EXECUTABLE_FILE = '100755';
const SYMLINK = '120000';
const GITLINK = '160000';
const NO_FILE = '000000';

// ---------------------------------------------------------------------------------------------
// Allowlist and path rules

/**
 * Allowlist entries are directory prefixes. `src` and `src/` both mean "anything under src/".
 * Throws on an entry that would widen the gate (empty, absolute, `..`, `.git…`): the job is
 * then invalid, never silently broader.
 */
export function normalizeAllowlist(entries: readonly string[]): string[] {
  if (entries.length === 0) throw new Error('allowlist: at least one directory is required');
  return entries.map((entry) => {
    const trimmed = entry.replace(/\/+$/, '');
    const problem = findAllowlistEntryProblem(trimmed);
    if (problem) throw new Error(`allowlist entry ${JSON.stringify(entry)}: ${problem}`);
    return `${trimmed}/`;
  });
}

/** Why an allowlist entry (without its trailing slash) is unacceptable, or null. */
export function findAllowlistEntryProblem(entry: string): string | null {
  if (entry.length === 0 || entry === '.') return 'must name a directory, not the whole repository';
  if (entry.startsWith('/')) return 'must be relative to the repository root';
  const segmentProblem = entry
    .split('/')
    .map(findSegmentProblem)
    .find((problem) => problem !== null);
  return segmentProblem ?? null;
}

/**
 * Why a repository path may not be changed, or null when it may. Case-sensitive on purpose:
 * `SRC/x` is not under `src/`, whatever a case-insensitive checkout would make of it.
 *
 * Being under the allowlist is not enough: inside it too, anything that runs or configures tools at
 * install or build time, or changes what a module name resolves to, is refused (DESIGN "Fix
 * runner"): dotfiles, `node_modules/`, package manifests and lockfiles, tool configurations.
 */
export function findPathProblem(path: string, allowlist: readonly string[]): string | null {
  if (path.length === 0) return 'empty path';
  if (path.startsWith('/')) return 'absolute path';
  const segments = path.split('/');
  for (const segment of segments) {
    const problem = findSegmentProblem(segment);
    if (problem) return problem;
  }
  if (!allowlist.some((prefix) => path.startsWith(prefix) && path.length > prefix.length)) {
    return 'outside the allowlist';
  }
  return findFileNameProblem(segments.at(-1) ?? '');
}

export function isPathAllowed(path: string, allowlist: readonly string[]): boolean {
  return findPathProblem(path, allowlist) === null;
}

/**
 * Names that configure git or the agent itself. `.git` prefixes are matched case-insensitively
 * (and with NTFS short names) because a reviewer's checkout on macOS or Windows would treat
 * `.GITattributes` or `GIT~1` as the real thing.
 */
const AGENT_CONFIG_NAMES = new Set(['.claude', '.mcp.json', 'claude.md', 'claude.local.md']);

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\ufffd\\]/;
/**
 * Characters that render as something else: bidirectional overrides and zero-width characters
 * (`\p{Cf}`), line and paragraph separators, and spaces other than the plain one. A name that
 * reads as `cart.js` must be `cart.js`.
 */
const INVISIBLE_CHARACTERS = /[\p{Cf}\p{Zl}\p{Zp}\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/u;
/**
 * Markdown's code span and emphasis markers and HTML's brackets (a file name is shown in pull
 * requests and chat), and what Windows cannot check out. Next.js-style `[id]`, `(group)` and
 * `@slot` names stay allowed.
 */
const RESERVED_CHARACTERS = /[`*<>:"|?]/;

function findSegmentProblem(segment: string): string | null {
  if (segment.length === 0) return 'empty path segment';
  if (segment === '.' || segment === '..') return 'relative path segment';
  if (CONTROL_CHARACTERS.test(segment)) return 'control character, backslash or undecodable byte in path';
  if (INVISIBLE_CHARACTERS.test(segment)) return 'invisible or direction-changing character in path';
  if (RESERVED_CHARACTERS.test(segment)) return 'Markdown or reserved character in path (` * < > : " | ?)';
  const lower = segment.toLowerCase();
  if (lower.startsWith('.git') || /^git~\d/.test(lower)) return 'git metadata file (.git*)';
  if (/[. ]$/.test(segment)) return 'path segment ends with a dot or space';
  if (AGENT_CONFIG_NAMES.has(lower)) return 'agent configuration file';
  if (segment.startsWith('.')) return 'dotfile (a path segment starts with ".")';
  if (lower === 'node_modules') return 'under node_modules/ (changes what gets resolved)';
  return null;
}

/**
 * Package manifests and lockfiles of the ecosystems a front-end repository may carry, and files
 * that change how names resolve (import maps, TypeScript's `paths`). Matched on the file name at
 * any depth (`src/package.json` is a workspace package npm would install from), case-insensitively
 * (a macOS checkout reads `Package.json` as `package.json`).
 */
const MANIFEST_NAMES = new Set([
  // npm, Yarn, pnpm, Bun, Deno, JSR, Bower
  'package.json',
  'package-lock.json',
  'npm-shrinkwrap.json',
  'yarn.lock',
  'pnpm-lock.yaml',
  'pnpm-workspace.yaml',
  'bun.lock',
  'bun.lockb',
  'deno.json',
  'deno.jsonc',
  'deno.lock',
  'jsr.json',
  'bower.json',
  'import_map.json',
  'importmap.json',
  // Python, Ruby, PHP, Rust, Go, Dart, CocoaPods, JVM, Elixir, Swift, Nix
  'requirements.txt',
  'pyproject.toml',
  'setup.py',
  'setup.cfg',
  'pipfile',
  'pipfile.lock',
  'poetry.lock',
  'uv.lock',
  'gemfile',
  'gemfile.lock',
  'composer.json',
  'composer.lock',
  'cargo.toml',
  'cargo.lock',
  'go.mod',
  'go.sum',
  'go.work',
  'pubspec.yaml',
  'pubspec.lock',
  'podfile',
  'podfile.lock',
  'build.gradle',
  'build.gradle.kts',
  'settings.gradle',
  'settings.gradle.kts',
  'gradle.properties',
  'pom.xml',
  'mix.exs',
  'mix.lock',
  'package.swift',
  'package.resolved',
  'flake.nix',
  'flake.lock',
]);

/**
 * Tool configurations and build entry points known by name: they run or steer code at build,
 * test or deploy time (build commands, plugins, headers, compiler paths).
 */
const TOOL_CONFIG_NAMES = new Set([
  'browserslist',
  'vercel.json',
  'now.json',
  'netlify.toml',
  'firebase.json',
  'turbo.json',
  'nx.json',
  'project.json',
  'angular.json',
  'lerna.json',
  'rush.json',
  'nodemon.json',
  'biome.json',
  'biome.jsonc',
  'makefile',
  'gnumakefile',
  'justfile',
  'taskfile.yml',
  'taskfile.yaml',
  'dockerfile',
  'containerfile',
  'procfile',
  'docker-compose.yml',
  'docker-compose.yaml',
  'compose.yml',
  'compose.yaml',
]);

/** Tools whose `<name>rc` file is read as configuration even without a leading dot or extension. */
const RC_TOOL_NAMES = new Set([
  'npm',
  'yarn',
  'pnpm',
  'bun',
  'babel',
  'eslint',
  'prettier',
  'stylelint',
  'postcss',
  'swc',
  'mocha',
  'nyc',
  'c8',
  'ava',
  'jest',
  'lintstaged',
  'lint-staged',
  'commitlint',
  'husky',
  'release',
  'markdownlint',
  'remark',
  'browserslist',
  'jshint',
  'jscs',
  'bower',
  'htmlhint',
  'textlint',
  'svgo',
  'editorconfig',
]);

/** Extensions under which a configuration file holds data rather than code. */
const DATA_EXTENSIONS = new Set(['json', 'json5', 'jsonc', 'yaml', 'yml', 'toml', 'ini', 'cfg', 'conf']);

/**
 * Why a file name (the last path segment) is refused inside the allowlist, or null.
 *
 * Tool configurations, precisely (`parts` are the name's dot-separated parts, lower-cased):
 * - `*.config.*` and `*.conf.*`: a part other than the first is `config` or `conf`
 *   (`vite.config.ts`, `postcss.config.js`, `karma.conf.js`, `web.config`), not `config.js`;
 * - `*rc` names: the first part ends in `rc` and either there is no other part (`npmrc`,
 *   `babelrc`), or the rest is a data extension (`eslintrc.json`, `prettierrc.yaml`), or the stem
 *   is a known tool's (`babelrc.js`, `eslintrc.cjs`). Ordinary modules such as `src.js`, `Arc.tsx`
 *   or `rc-slider.js` are not caught; dotted forms (`.eslintrc.js`) are dotfiles anyway;
 * - `tsconfig*.json`, `jsconfig*.json` (compiler paths decide resolution, plugins run code) and
 *   the names in `TOOL_CONFIG_NAMES`.
 */
export function findFileNameProblem(name: string): string | null {
  const lower = name.toLowerCase();
  if (MANIFEST_NAMES.has(lower) || lower.endsWith('.gemspec') || lower.endsWith('.csproj'))
    return 'package manifest or lockfile';
  if (isToolConfigName(lower)) return 'tool configuration file (*.config.*, *rc)';
  return null;
}

function isToolConfigName(lower: string): boolean {
  if (TOOL_CONFIG_NAMES.has(lower)) return true;
  if (/^(?:ts|js)config(?:\.[^.]+)*\.json$/.test(lower)) return true;
  if (/^(?:gruntfile|gulpfile|jakefile)\.[a-z]+$/.test(lower)) return true;
  const parts = lower.split('.');
  if (parts.slice(1).some((part) => part === 'config' || part === 'conf')) return true;
  const stem = parts[0] ?? '';
  if (stem.length > 2 && stem.endsWith('rc')) {
    if (parts.length === 1) return true;
    if (parts.length === 2 && DATA_EXTENSIONS.has(parts[1] ?? '')) return true;
    if (RC_TOOL_NAMES.has(stem.slice(0, -2))) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Test files

/**
 * A test file, as DESIGN "Fix runner" names them: `*.test.*`, `*.spec.*`, or anything under a
 * `__tests__/` directory.
 */
export function isTestPath(path: string): boolean {
  const segments = path.split('/');
  const name = segments.at(-1) ?? '';
  if (segments.slice(0, -1).includes('__tests__')) return true;
  return /^[^.].*\.(?:test|spec)\.[^.]/i.test(name);
}

/**
 * Whether a test file's new text has no test left: nothing but whitespace and comments, or no
 * active `test(`/`it(` call where the old text had some (every case deleted, or all turned into
 * `it.skip`). Linear in the text.
 */
export function isTestFileEmptied(before: string, after: string): boolean {
  if (!hasCode(after)) return true;
  return countTestCases(before) > 0 && countTestCases(after) === 0;
}

/** `test(`, `it(` and their `.only`/`.each`/`.concurrent` forms; not `.skip`/`.todo`, `xit`, `describe`. */
const ACTIVE_TEST_CALL = /(?<![\w$.])(?:it|test)(?:\.(?:only|each|concurrent|sequential|fails))*\s*\(/g;

function countTestCases(text: string): number {
  let count = 0;
  for (const _ of text.matchAll(ACTIVE_TEST_CALL)) count += 1;
  return count;
}

/** True when the text has anything but whitespace, `//` line comments and block comments. */
function hasCode(text: string): boolean {
  let index = 0;
  while (index < text.length) {
    const char = text[index];
    if (char === ' ' || char === '\n' || char === '\t' || char === '\r' || char === '\f' || char === '\v') {
      index += 1;
    } else if (text.startsWith('//', index)) {
      const end = text.indexOf('\n', index);
      index = end < 0 ? text.length : end + 1;
    } else if (text.startsWith('/*', index)) {
      const end = text.indexOf('*/', index + 2);
      index = end < 0 ? text.length : end + 2;
    } else if (text.startsWith('<!--', index)) {
      const end = text.indexOf('-->', index + 4);
      index = end < 0 ? text.length : end + 3;
    } else {
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// git output parsers

/** Parses `git diff-tree -r -z --raw --no-abbrev [-M]` output. Throws on anything malformed. */
export function parseRawDiff(output: string): RawDiffEntry[] {
  const fields = output.split('\0');
  if (fields.at(-1) === '') fields.pop();
  const entries: RawDiffEntry[] = [];
  let index = 0;
  const next = (): string => {
    const field = fields[index++];
    if (field === undefined) throw new Error('diff-tree output ended early');
    return field;
  };
  while (index < fields.length) {
    const header = next();
    const match = /^:(\d{6}) (\d{6}) ([0-9a-f]{40,64}) ([0-9a-f]{40,64}) ([A-Z])(\d*)$/.exec(header);
    if (!match) throw new Error(`unexpected diff-tree line: ${JSON.stringify(header.slice(0, 80))}`);
    const [, oldMode, newMode, oldBlob, newBlob, status] = match as unknown as [
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const first = next();
    const twoPaths = status === 'R' || status === 'C';
    const second = twoPaths ? next() : null;
    entries.push({
      status,
      oldMode,
      newMode,
      oldBlob,
      newBlob,
      oldPath: status === 'A' || status === 'C' ? null : first,
      newPath: status === 'D' ? null : (second ?? first),
    });
  }
  return entries;
}

/** Parses `git diff-tree -r -z --numstat [-M]` output. */
export function parseNumstat(output: string): NumstatEntry[] {
  const fields = output.split('\0');
  if (fields.at(-1) === '') fields.pop();
  const entries: NumstatEntry[] = [];
  let index = 0;
  while (index < fields.length) {
    const field = fields[index++]!;
    const match = /^(\d+|-)\t(\d+|-)\t(.*)$/s.exec(field);
    if (!match) throw new Error(`unexpected numstat field: ${JSON.stringify(field.slice(0, 80))}`);
    const [, added, deleted, inlinePath] = match as unknown as [string, string, string, string];
    let path = inlinePath;
    if (inlinePath === '') {
      // A rename: the source and destination follow as their own fields.
      index += 1;
      path = fields[index++] ?? '';
    }
    entries.push({
      path,
      added: added === '-' ? null : Number(added),
      deleted: deleted === '-' ? null : Number(deleted),
    });
  }
  return entries;
}

/**
 * Lines of `after` that `before` does not have, counted as a multiset: a line moved or kept is
 * not new, a second copy of an existing line is. Enough to find credentials the change adds
 * without parsing a patch, and it never misses a line whose text is new.
 */
export function listAddedLines(before: string, after: string): string[] {
  return numberAddedLines(before, after).map((added) => added.text);
}

/** `listAddedLines` with each line's number in the new text (for `risks`). */
export function numberAddedLines(before: string, after: string): AddedLine[] {
  const remaining = new Map<string, number>();
  for (const line of before.split('\n')) remaining.set(line, (remaining.get(line) ?? 0) + 1);
  const added: AddedLine[] = [];
  after.split('\n').forEach((text, index) => {
    const count = remaining.get(text) ?? 0;
    if (count > 0) remaining.set(text, count - 1);
    else added.push({ line: index + 1, text });
  });
  return added;
}

// ---------------------------------------------------------------------------------------------
// Credentials

export interface CredentialFinding {
  /** 1-based index into the added lines. */
  readonly line: number;
  /** What it looks like; never the value itself. */
  readonly kind: string;
}

const CREDENTIAL_PATTERNS: ReadonlyArray<readonly [kind: string, pattern: RegExp]> = [
  ['an AWS access key id', /\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b/],
  ['a GitHub token', /\bgh[pousr]_[A-Za-z0-9]{30,}/],
  ['a GitHub fine-grained token', /\bgithub_pat_[A-Za-z0-9_]{22,}/],
  ['an Anthropic API key', /\bsk-ant-[A-Za-z0-9_-]{16,}/],
  ['an OpenAI-style secret key', /\bsk-(?:proj-|svcacct-)?[A-Za-z0-9_-]{32,}/],
  ['a private key', /-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----/],
  ['a Slack token', /\bxox[abposre]-[A-Za-z0-9-]{10,}/],
  ['a Slack webhook URL', /hooks\.slack\.com\/services\/T[A-Za-z0-9_]+\/B[A-Za-z0-9_]+\/[A-Za-z0-9_]+/],
  ['a Stripe secret key', /\b[rs]k_live_[A-Za-z0-9]{20,}/],
  ['a Google API key', /\bAIza[0-9A-Za-z_-]{35}\b/],
  ['a Discord bot token', /\b[MNO][A-Za-z\d_-]{23,25}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,}/],
  ['a JSON Web Token', /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/],
  ['a Linear API key', /\blin_api_[A-Za-z0-9]{30,}/],
  ['a PostHog personal API key', /\bphx_[A-Za-z0-9]{30,}/],
  ['a Standard Webhooks secret', /\bwhsec_[A-Za-z0-9+/=]{20,}/],
  // Every part bounded: an unbounded scheme made this pattern quadratic on one long line of
  // `a+a+a+…` (issue 10 measured about 5 minutes per MiB).
  ['a URL with embedded credentials', /\b[a-z][a-z0-9+.-]{0,31}:\/\/[^\s:/@'"`]{1,256}:[^\s@/'"`]{6,256}@/i],
];

const SECRET_NAME =
  /(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|apikey|private[_-]?key|access[_-]?key|credential|auth)/i;
const QUOTED_ASSIGNMENT = /(?<![\w$.-])([A-Za-z_$][\w$.-]*)['"]?\s*[:=]\s*(['"`])([^'"`\s]{16,})\2/g;

/**
 * Finds credential-looking text in added lines: known token formats, high-entropy literals
 * assigned to secret-ish names, and the exact values (plain, base64, hex) of the runner's own
 * secrets. Best effort beyond the exact values: the real protection is that the agent never sees
 * the GitHub token and cannot run commands.
 */
export function findCredentials(
  lines: readonly string[],
  secretValues: readonly string[],
): CredentialFinding[] {
  const encodedSecrets = secretValues.flatMap(encodeSecret);
  const findings: CredentialFinding[] = [];
  lines.forEach((text, index) => {
    const line = index + 1;
    if (encodedSecrets.some((secret) => text.includes(secret))) {
      findings.push({ line, kind: "a value of the runner's own secret environment" });
    }
    for (const [kind, pattern] of CREDENTIAL_PATTERNS) {
      if (pattern.test(text)) findings.push({ line, kind });
    }
    for (const match of text.matchAll(QUOTED_ASSIGNMENT)) {
      const [, name, , value] = match as unknown as [string, string, string, string];
      if (SECRET_NAME.test(name) && looksRandom(value)) {
        findings.push({ line, kind: 'a high-entropy literal assigned to a secret-like name' });
      }
    }
  });
  return findings;
}

/** Plain, base64 and hex forms of a secret, so a trivially encoded copy is still caught. */
function encodeSecret(value: string): string[] {
  const bytes = new TextEncoder().encode(value);
  const base64 = btoa(String.fromCharCode(...bytes));
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
  // Base64 of a substring depends on alignment; the unpadded prefix is stable enough to match.
  return [
    value,
    base64.replace(/=+$/, ''),
    base64.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_'),
    hex,
  ];
}

function looksRandom(value: string): boolean {
  if (/^(?:[a-z]+|[A-Z_]+|\d+)$/.test(value)) return false; // a word, a constant name, a number
  if (/^(?:https?:|\.{0,2}\/|[\w-]+\.[a-z]{2,4}$)/.test(value)) return false; // a URL, path or file name
  // Random tokens of this length all but surely mix letters and digits; camelCase names do not.
  if (!/\d/.test(value) || !/[A-Za-z]/.test(value)) return false;
  // Words joined by separators (`session-token-v2-header`) are names, not keys.
  if (value.split(/[-_.:/ ]+/).every((part) => /^(?:[A-Za-z][a-z]+|[a-z]+|v?\d{1,4})$/.test(part)))
    return false;
  return shannonEntropy(value) >= 3.5;
}

function shannonEntropy(value: string): number {
  const counts = new Map<string, number>();
  for (const char of value) counts.set(char, (counts.get(char) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

const SECRET_ENV_NAME = /(?:KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|SESSION|AUTH|SIGNATURE)/i;

/**
 * The values a run must never publish: the named secrets whatever their length, and any other
 * environment value of 12+ characters under a secret-like name.
 */
export function collectSecretValues(
  env: Readonly<Record<string, string | undefined>>,
  alwaysSecret: readonly string[] = ['ANTHROPIC_API_KEY', 'GITHUB_TOKEN'],
): string[] {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    const trimmed = value.trim();
    if (alwaysSecret.includes(name) && trimmed.length >= 6) values.add(trimmed);
    else if (SECRET_ENV_NAME.test(name) && trimmed.length >= 12) values.add(trimmed);
  }
  return [...values];
}

/** Replaces secret values and credential-looking tokens, for text that leaves (summaries, logs). */
export function redactSecrets(text: string, secretValues: readonly string[]): string {
  let redacted = text;
  for (const secret of secretValues.flatMap(encodeSecret).sort((a, b) => b.length - a.length)) {
    if (secret.length >= 6) redacted = redacted.split(secret).join('[redacted]');
  }
  for (const [, pattern] of CREDENTIAL_PATTERNS) {
    redacted = redacted.replace(
      new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`),
      '[redacted]',
    );
  }
  return redacted;
}

// ---------------------------------------------------------------------------------------------
// The decision

export function decideGate(input: GateInput): GateDecision {
  if (input.entries.length === 0) return { verdict: 'no_changes' };
  const allowlist = normalizeAllowlist(input.allowlist);
  const rejected: Rejection[] = [];
  const reject = (path: string, reason: string) => rejected.push({ path, reason });
  const changedFiles: ChangedFile[] = [];
  const contentByPath = new Map(input.contents.map((content) => [content.path, content]));

  for (const entry of input.entries) {
    const change = describeChange(entry);
    changedFiles.push({ path: entry.newPath ?? entry.oldPath ?? WHOLE_CHANGE, change: change ?? 'modified' });
    const shownPath = entry.newPath ?? entry.oldPath ?? WHOLE_CHANGE;
    if (change === null) {
      reject(shownPath, `unexpected change status ${entry.status}`);
      continue;
    }
    // Both sides of a rename must be allowed: moving a file out of src/ deletes it elsewhere.
    const sides = new Set([entry.oldPath, entry.newPath].filter((path): path is string => path !== null));
    for (const path of sides) {
      const problem = findPathProblem(path, allowlist);
      if (problem) reject(path, problem);
    }
    const modeProblem = findModeProblem(entry);
    if (modeProblem) reject(shownPath, modeProblem);
    const testProblem = findTestFileProblem(entry, contentByPath.get(entry.newPath ?? ''));
    if (testProblem) reject(entry.oldPath ?? shownPath, testProblem);
  }

  for (const content of input.contents) {
    if (content.tooLarge) reject(content.path, 'file too large to review');
    if (content.binary) reject(content.path, 'binary content');
    const findings = findCredentials(content.addedLines, input.secretValues);
    for (const kind of new Set(findings.map((finding) => finding.kind))) {
      reject(content.path, `added text looks like ${kind}`);
    }
  }

  if (changedFiles.length > input.limits.maxChangedFiles) {
    reject(
      WHOLE_CHANGE,
      `${changedFiles.length} files changed, over the limit of ${input.limits.maxChangedFiles}`,
    );
  }
  const diffLines = input.numstat.reduce((sum, entry) => sum + (entry.added ?? 0) + (entry.deleted ?? 0), 0);
  if (diffLines > input.limits.maxDiffLines) {
    reject(WHOLE_CHANGE, `${diffLines} lines changed, over the limit of ${input.limits.maxDiffLines}`);
  }

  if (rejected.length > 0) return { verdict: 'rejected', changedFiles, rejected: dedupe(rejected) };
  return { verdict: 'accepted', changedFiles, diffLines };
}

function describeChange(entry: RawDiffEntry): ChangeKind | null {
  switch (entry.status) {
    case 'A':
      return 'added';
    case 'D':
      return 'deleted';
    case 'R':
      return 'renamed';
    case 'T':
      return 'typechange';
    case 'M':
      return entry.oldBlob === entry.newBlob && entry.oldMode !== entry.newMode ? 'mode' : 'modified';
    default:
      // C (copies are not asked for), U (unmerged), X (unknown): never expected from diff-tree -M.
      return null;
  }
}

/**
 * A fix may add and change tests, never take one away: deleting an existing test file, renaming
 * it to a name that is not a test, or leaving no test in it (`emptiesTestFile`) are refused.
 */
function findTestFileProblem(entry: RawDiffEntry, content: NewContent | undefined): string | null {
  if (entry.oldPath === null || !isTestPath(entry.oldPath)) return null;
  if (entry.newPath === null) return 'deletes an existing test file';
  if (!isTestPath(entry.newPath)) return 'renames an existing test file to a name that is not a test';
  if (content?.emptiesTestFile) return 'empties an existing test file (no test left in it)';
  return null;
}

function findModeProblem(entry: RawDiffEntry): string | null {
  const modes = [entry.oldMode, entry.newMode];
  if (modes.includes(GITLINK)) return 'submodule (gitlink)';
  if (entry.newPath !== null) {
    if (entry.newMode === SYMLINK) return 'symbolic link';
    if (entry.newMode === EXECUTABLE_FILE && entry.oldMode !== EXECUTABLE_FILE) return 'file made executable';
    if (entry.newMode !== REGULAR_FILE && entry.newMode !== EXECUTABLE_FILE) {
      return `unexpected file mode ${entry.newMode}`;
    }
  } else if (entry.newMode !== NO_FILE) {
    return `unexpected file mode ${entry.newMode}`;
  }
  return null;
}

function dedupe(rejections: readonly Rejection[]): Rejection[] {
  const seen = new Set<string>();
  return rejections.filter((rejection) => {
    const key = `${rejection.path}\0${rejection.reason}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------
// The agent's tool calls (the PreToolUse hook: defense in depth, not the gate)

/** Tools whose input names a file they write. */
export const WRITE_TOOLS = new Set(['Write', 'Edit', 'MultiEdit', 'NotebookEdit']);
/** Tools that only read, by path or by pattern. */
export const READ_TOOLS = new Set(['Read', 'Glob', 'Grep', 'LS']);

export type ToolUseDecision = { readonly allow: true } | { readonly allow: false; readonly reason: string };

/**
 * Decides one tool call. `resolvedPaths` are the call's target paths already made relative to the
 * workspace by the caller (after resolving symlinks); `null` marks a path outside the workspace.
 */
export function decideToolUse(
  toolName: string,
  resolvedPaths: ReadonlyArray<string | null>,
  allowlist: readonly string[],
): ToolUseDecision {
  const normalized = normalizeAllowlist(allowlist);
  if (!WRITE_TOOLS.has(toolName) && !READ_TOOLS.has(toolName)) {
    return { allow: false, reason: `The tool ${toolName} is not available in this sandbox.` };
  }
  if (resolvedPaths.some((path) => path === null)) {
    return { allow: false, reason: 'Only files inside the repository workspace may be used.' };
  }
  if (!WRITE_TOOLS.has(toolName)) return { allow: true };
  if (resolvedPaths.length === 0) return { allow: false, reason: 'The edit names no file.' };
  for (const path of resolvedPaths as string[]) {
    const problem = findPathProblem(path, normalized);
    if (problem) {
      return {
        allow: false,
        reason: `Editing ${path} is not allowed (${problem}). Only files under ${normalized.join(', ')} may be changed.`,
      };
    }
  }
  return { allow: true };
}
