/**
 * Finds what a bug report points at — Linear issues, GitHub repositories, PostHog session
 * replays, e-mail addresses — in free text written by anyone. Pure: no I/O, never throws.
 *
 * Choices (each pinned by a test in `test/unit/references.test.ts`):
 * - Fenced code blocks (``` or ~~~) are scanned for URLs, e-mails and session ids, because users
 *   paste logs precisely to share those; but NOT for bare Linear identifiers, because logs and
 *   stack traces are full of `ABC-123`-shaped tokens (error codes, build ids, versions) that are
 *   not issues. A Linear issue URL inside a fence still counts: it cannot be anything else.
 * - Bare identifiers (`ENG-123`) are matched in any case and normalised to upper case. Tokens that
 *   look like identifiers but are standards, hashes or versions (`UTF-8`, `SHA-256`, `ISO-8601`,
 *   `COVID-19`, `ES-2022`, …) are refused by a deny-list; a one-letter key must be typed upper
 *   case (`a-1` in prose is a list item, not team "A"); numbers have no leading zero (`ENG-0`,
 *   `ENG-007` are not issues). Nothing inside a URL, e-mail or UUID is read as an identifier.
 *   Callers that know their Linear team keys pass `linearTeamKeys` and get exact matching.
 * - A bare UUID is a PostHog session id only with context: inside a replay URL (`/replay/<id>`,
 *   `sessionRecordingId=<id>`, any host, so self-hosted PostHog works), or with the word
 *   "session", "replay" or "recording" within 40 characters before it on the same line (other
 *   UUIDs on the line are skipped when measuring, so `session ids: <a>, <b>` yields both). Any
 *   UUID version is accepted: posthog-js uses v7, older SDKs did not.
 * - GitHub repositories come from `github.com/<owner>/<repo>` URLs (with or without scheme, any
 *   sub-path, `.git` stripped) and `git@github.com:<owner>/<repo>` remotes; GitHub's own pages
 *   (`/settings`, `/orgs`, `/marketplace`, …) and other hosts (`gist.`, `api.`) are not repos.
 * - E-mails need a dotted domain with an alphabetic TLD; asset names (`icon@2x.png`), URL
 *   credentials (`https://user@host`) and SSH remotes (`git@github.com:o/r`) are not e-mails.
 *   They are lower-cased.
 * - Results are de-duplicated (case-insensitively where the target is) in first-seen order.
 */

export interface GithubRepoReference {
  owner: string;
  repo: string;
  /** Canonical `https://github.com/<owner>/<repo>`. */
  url: string;
}

export interface References {
  /** Linear identifiers, upper case: `ENG-123`. */
  linearIssues: string[];
  githubRepos: GithubRepoReference[];
  /** PostHog session (recording) ids, lower case. */
  posthogSessions: string[];
  /** Lower case. */
  emails: string[];
}

export interface ExtractReferencesOptions {
  /** When given, a bare identifier counts only if its team key is one of these (any case). */
  linearTeamKeys?: readonly string[];
}

interface Found<T> {
  index: number;
  value: T;
}

type Span = readonly [start: number, end: number];

const UUID_SOURCE = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const UUID_PATTERN = new RegExp(`(?<![0-9a-z-])${UUID_SOURCE}(?![0-9a-z-])`, 'gi');
const UUID_ANYWHERE = new RegExp(UUID_SOURCE, 'gi');
const REPLAY_IN_URL = new RegExp(`(?:/replay/|[?&#]sessionRecordingId=)(${UUID_SOURCE})(?![0-9a-z-])`, 'gi');
const SESSION_CONTEXT = /session|replay|recording/i;
const SESSION_CONTEXT_WINDOW = 40;
const SESSION_LOOKBACK_LIMIT = 480;

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const URL_TRAILING_PUNCTUATION = /[.,;:!?)\]}*_~]+$/;

const LINEAR_URL_PATTERN =
  /(?<![\w.@-])(?:https?:\/\/)?linear\.app\/[\w-]+\/issue\/([a-z][a-z0-9]{0,9}-[1-9][0-9]{0,6})(?![0-9a-z])/gi;

const GITHUB_OWNER = '[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,38}';
const GITHUB_REPO = '[\\w.-]{1,100}';
const GITHUB_PATTERN = new RegExp(
  [
    `(?:\\bhttps?://(?:www\\.)?|(?<![\\w.@/-])(?:www\\.)?)github\\.com/(${GITHUB_OWNER})/(${GITHUB_REPO})`,
    `(?:\\bssh://)?\\bgit@github\\.com[:/](${GITHUB_OWNER})/(${GITHUB_REPO})`,
  ].join('|'),
  'gi',
);
/** First path segments that are GitHub's own pages, not users or organisations. */
const GITHUB_RESERVED_OWNERS = new Set([
  'about',
  'account',
  'apps',
  'codespaces',
  'collections',
  'contact',
  'customer-stories',
  'enterprise',
  'events',
  'explore',
  'features',
  'login',
  'marketplace',
  'new',
  'notifications',
  'organizations',
  'orgs',
  'pricing',
  'pulls',
  'issues',
  'readme',
  'search',
  'security',
  'settings',
  'site',
  'sponsors',
  'team',
  'topics',
  'trending',
  'users',
]);

const EMAIL_PATTERN =
  /(?<![\w.%+-])([a-z0-9](?:[a-z0-9._%+-]{0,62}[a-z0-9_%+-])?)@((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,24}))(?![\w-]|\.[a-z0-9])/gi;
/** "TLDs" that are really file extensions: `logo@2x.png` is an asset, not an address. */
const FILE_EXTENSION_TLDS = new Set([
  'png',
  'jpg',
  'jpeg',
  'gif',
  'svg',
  'webp',
  'avif',
  'ico',
  'bmp',
  'js',
  'mjs',
  'cjs',
  'ts',
  'tsx',
  'jsx',
  'css',
  'scss',
  'map',
  'json',
  'html',
  'htm',
  'wasm',
  'woff',
  'woff2',
]);

const LINEAR_ID_PATTERN = /(?<![\w.@-])([a-z][a-z0-9]{0,9})-([1-9][0-9]{0,6})(?![\w@]|[-.][0-9]|\.[a-z])/gi;
/**
 * Keys of well-known `WORD-NUMBER` tokens that are not Linear issues: encodings, hashes,
 * standards, ciphers, protocols, platforms, and prose like "top-10".
 */
const NOT_TEAM_KEYS = new Set([
  'AES',
  'ANDROID',
  'ARM',
  'BASE',
  'CP',
  'COVID',
  'CVE',
  'CWE',
  'DAY',
  'DES',
  'ECMA',
  'ES',
  'GPT',
  'H',
  'HMAC',
  'HTTP',
  'HTTPS',
  'IEC',
  'IEEE',
  'IOS',
  'IPHONE',
  'IPV',
  'ISO',
  'JSR',
  'LATIN',
  'MACOS',
  'MD',
  'MP',
  'NODE',
  'P',
  'PEP',
  'PIXEL',
  'PYTHON',
  'RFC',
  'RSA',
  'SARS',
  'SHA',
  'SSL',
  'STEP',
  'TLS',
  'TOP',
  'UCS',
  'UTF',
  'WIN',
  'WINDOWS',
  'X',
]);

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})/;

export function extractReferences(text: string, options: ExtractReferencesOptions = {}): References {
  const urls = findUrls(text);
  const linearUrls = findLinearUrls(text);
  const githubRepos = findGithubRepos(text);
  const emails = findEmails(text);
  const uuids = Array.from(
    text.matchAll(UUID_PATTERN),
    (match) => [match.index, match.index + match[0].length] as const,
  );

  // Identifiers are read from what is left once every URL, address and UUID is blanked out, so a
  // branch name in a URL or a UUID segment is never mistaken for an issue.
  const masked = blank(text, [
    ...urls.map((url) => [url.index, url.index + url.value.length] as const),
    ...linearUrls.map((found) => found.span),
    ...githubRepos.map((found) => found.span),
    ...emails.map((found) => found.span),
    ...uuids,
    ...findCodeFences(text),
  ]);

  return {
    linearIssues: dedupe([...linearUrls, ...findLinearIdentifiers(masked, options)], (id) => id),
    githubRepos: dedupe(githubRepos, (repo) => `${repo.owner}/${repo.repo}`.toLowerCase()),
    posthogSessions: dedupe(findSessions(text, urls), (id) => id),
    emails: dedupe(emails, (email) => email),
  };
}

function findUrls(text: string): Found<string>[] {
  return Array.from(text.matchAll(URL_PATTERN), (match) => ({
    index: match.index,
    value: match[0].replace(URL_TRAILING_PUNCTUATION, ''),
  }));
}

function findLinearUrls(text: string): (Found<string> & { span: Span })[] {
  return Array.from(text.matchAll(LINEAR_URL_PATTERN), (match) => ({
    index: match.index,
    value: (match[1] ?? '').toUpperCase(),
    span: [match.index, tokenEnd(text, match.index + match[0].length)] as const,
  }));
}

function findLinearIdentifiers(masked: string, options: ExtractReferencesOptions): Found<string>[] {
  const allowed = options.linearTeamKeys && new Set(options.linearTeamKeys.map((key) => key.toUpperCase()));
  const found: Found<string>[] = [];
  for (const match of masked.matchAll(LINEAR_ID_PATTERN)) {
    const typedKey = match[1] ?? '';
    const key = typedKey.toUpperCase();
    if (allowed) {
      if (!allowed.has(key)) continue;
    } else {
      if (NOT_TEAM_KEYS.has(key)) continue;
      if (key.length === 1 && typedKey !== key) continue;
    }
    found.push({ index: match.index, value: `${key}-${match[2]}` });
  }
  return found;
}

function findGithubRepos(text: string): (Found<GithubRepoReference> & { span: Span })[] {
  const found: (Found<GithubRepoReference> & { span: Span })[] = [];
  for (const match of text.matchAll(GITHUB_PATTERN)) {
    const owner = match[1] ?? match[3] ?? '';
    const repo = cleanRepoName(match[2] ?? match[4] ?? '');
    if (!repo || GITHUB_RESERVED_OWNERS.has(owner.toLowerCase())) continue;
    found.push({
      index: match.index,
      value: { owner, repo, url: `https://github.com/${owner}/${repo}` },
      span: [match.index, tokenEnd(text, match.index + match[0].length)],
    });
  }
  return found;
}

/** `repo.git`, `repo.` (end of sentence) → `repo`; `.` and `..` are not repositories. */
function cleanRepoName(raw: string): string | undefined {
  const name = raw
    .replace(/\.+$/, '')
    .replace(/\.git$/i, '')
    .replace(/\.+$/, '');
  if (name === '' || /^\.+$/.test(name)) return undefined;
  return name;
}

function findEmails(text: string): (Found<string> & { span: Span })[] {
  const found: (Found<string> & { span: Span })[] = [];
  for (const match of text.matchAll(EMAIL_PATTERN)) {
    const [address, local = '', , tld = ''] = match;
    const end = match.index + address.length;
    if (local.includes('..') || FILE_EXTENSION_TLDS.has(tld.toLowerCase())) continue;
    const before = text[match.index - 1];
    // `https://user@host` and `https://user:pass@host` are credentials, `mailto:` is an address.
    if (
      before === '/' ||
      (before === ':' && !/mailto:$/i.test(text.slice(Math.max(0, match.index - 7), match.index)))
    )
      continue;
    // `git@github.com:owner/repo` is a remote.
    if (text[end] === ':' && /\S/.test(text[end + 1] ?? '')) continue;
    found.push({ index: match.index, value: address.toLowerCase(), span: [match.index, end] });
  }
  return found;
}

function findSessions(text: string, urls: readonly Found<string>[]): Found<string>[] {
  const found: Found<string>[] = [];
  for (const url of urls) {
    for (const match of url.value.matchAll(REPLAY_IN_URL)) {
      found.push({ index: url.index + match.index, value: (match[1] ?? '').toLowerCase() });
    }
  }
  for (const match of text.matchAll(UUID_PATTERN)) {
    const lineStart = text.lastIndexOf('\n', match.index - 1) + 1;
    // Bounded look-back: enough to skip a list of earlier UUIDs, never quadratic on one huge line.
    const from = Math.max(lineStart, match.index - SESSION_LOOKBACK_LIMIT);
    const before = text.slice(from, match.index).replace(UUID_ANYWHERE, '');
    if (SESSION_CONTEXT.test(before.slice(-SESSION_CONTEXT_WINDOW))) {
      found.push({ index: match.index, value: match[0].toLowerCase() });
    }
  }
  return found;
}

/** Line ranges of fenced code blocks; an unclosed fence runs to the end, as Markdown renders it. */
function findCodeFences(text: string): Span[] {
  const spans: Span[] = [];
  let open: { start: number; marker: string } | undefined;
  let lineStart = 0;
  while (lineStart <= text.length) {
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline === -1 ? text.length : newline;
    const line = text.slice(lineStart, lineEnd);
    const fence = FENCE_OPEN.exec(line)?.[1];
    if (!open) {
      if (fence) open = { start: lineStart, marker: fence };
    } else if (
      fence &&
      fence[0] === open.marker[0] &&
      fence.length >= open.marker.length &&
      line.trim() === fence
    ) {
      spans.push([open.start, lineEnd]);
      open = undefined;
    }
    if (newline === -1) break;
    lineStart = newline + 1;
  }
  if (open) spans.push([open.start, text.length]);
  return spans;
}

/** A URL written without a scheme still runs to the next space: its slug or fragment is part of it. */
function tokenEnd(text: string, from: number): number {
  let end = from;
  while (end < text.length && !/[\s<>"'`]/.test(text[end] ?? ' ')) end += 1;
  return end;
}

/** Replaces each span with spaces, keeping every other character at its index. */
function blank(text: string, spans: readonly Span[]): string {
  if (spans.length === 0) return text;
  const chars = text.split('');
  for (const [start, end] of spans) {
    for (let index = start; index < end; index += 1) {
      if (chars[index] !== '\n') chars[index] = ' ';
    }
  }
  return chars.join('');
}

function dedupe<T>(found: readonly Found<T>[], keyOf: (value: T) => string): T[] {
  const seen = new Set<string>();
  const values: T[] = [];
  for (const { value } of [...found].sort((a, b) => a.index - b.index)) {
    const key = keyOf(value);
    if (seen.has(key)) continue;
    seen.add(key);
    values.push(value);
  }
  return values;
}
