import type { FixRisk, FixRiskKind } from '../jobs/job-schemas.js';
import type { AddedLine } from './allowlist-gate.js';

/**
 * What the gate cannot judge, it reports (DESIGN "Fix runner"): risky front-end code a change
 * ADDS, found line by line in the added lines of each changed text file. Pure: the runner reads
 * the files and the facts about the base tree (which hosts it already names, which packages its
 * package.json files declare) and passes them in.
 *
 * The risks never stop a push; a fix with risks becomes a draft whose PR lists them first. So the
 * rules lean towards reporting: a false alarm costs a reviewer a look, a miss costs more.
 *
 * Every pattern is linear in the line (bounded repetitions, no nested quantifiers), since an agent
 * chooses the input: one minified line may be a whole MiB.
 */

export interface RiskScanFile {
  readonly path: string;
  readonly addedLines: readonly AddedLine[];
}

export interface RiskScanInput {
  readonly files: readonly RiskScanFile[];
  /** Hosts (lower-case) the base tree already names in URLs: not new origins. */
  readonly baseHosts: readonly string[];
  /**
   * The dependencies declared by each package.json of the base tree, by its directory (`''` for
   * the root). A file may import what any package.json above it declares.
   */
  readonly manifests: readonly { readonly dir: string; readonly dependencies: readonly string[] }[];
  /** Node's built-in module names (`fs`, `path`, …), which are never dependencies. */
  readonly builtinModules: readonly string[];
  /**
   * Names that resolve inside the repository through a bundler or TypeScript alias (`baseUrl`):
   * the entries at the root and directly under each allowlisted directory of the base tree.
   */
  readonly localNames: readonly string[];
}

/** At most this many risks are reported (the result travels in a queue message). */
export const MAX_RISKS = 100;
const MAX_DETAIL_CHARS = 160;

/** Hosts that name something without being fetched (XML namespaces) or never leave the machine. */
const IGNORED_HOSTS = new Set(['www.w3.org', 'localhost', '127.0.0.1', '[::1]', '0.0.0.0']);

interface LineRule {
  readonly kind: FixRiskKind;
  readonly pattern: RegExp;
  readonly detail: string;
}

/** Fixed-text rules: one finding per rule and line. */
const LINE_RULES: readonly LineRule[] = [
  { kind: 'script_tag', pattern: /<script\b/i, detail: 'adds a <script> tag' },
  {
    kind: 'script_tag',
    pattern: /\bcreateElement\s*\(\s*['"`]script['"`]/i,
    detail: 'creates a <script> element',
  },
  {
    // `onclick="…"` in HTML, a template string or JSX given a string; not `onClick={handler}`
    // (React's event binding), not `const onload = '…'` or `el.onload = …`.
    kind: 'inline_event_handler',
    pattern: /(?<![\w$.-])(?<!(?:const|let|var)\s{1,20})on[a-z]{3,30}\s{0,20}=\s{0,20}\\?["'`]/i,
    detail: 'adds an inline event handler attribute (on…="…")',
  },
  {
    kind: 'inline_event_handler',
    pattern: /\bsetAttribute\s*\(\s*['"`]on[a-z]{3,30}['"`]/i,
    detail: 'sets an on… event handler attribute from a string',
  },
  {
    kind: 'inline_event_handler',
    pattern: /["'`(=]\s{0,20}javascript:/i,
    detail: 'adds a javascript: URL',
  },
  { kind: 'cookie_or_storage', pattern: /\bdocument\s*\.\s*cookie\b/, detail: 'uses document.cookie' },
  { kind: 'cookie_or_storage', pattern: /\bcookieStore\b/, detail: 'uses cookieStore' },
  { kind: 'cookie_or_storage', pattern: /\blocalStorage\b/, detail: 'uses localStorage' },
  { kind: 'cookie_or_storage', pattern: /\bsessionStorage\b/, detail: 'uses sessionStorage' },
  { kind: 'cookie_or_storage', pattern: /\bindexedDB\b/, detail: 'uses indexedDB' },
  {
    kind: 'dynamic_code',
    pattern: /(?:(?<![\w$.])|\b(?:window|globalThis|self)\s*\.\s*)eval\s*\(/,
    detail: 'calls eval()',
  },
  {
    kind: 'dynamic_code',
    pattern: /\bnew\s+Function\s*\(/,
    detail: 'creates a function from text (new Function)',
  },
  {
    kind: 'dynamic_code',
    pattern: /(?<![\w$.])Function\s*\(\s*['"`]/,
    detail: 'creates a function from text (Function)',
  },
  {
    kind: 'dynamic_code',
    pattern: /\bset(?:Timeout|Interval)\s*\(\s*['"`]/,
    detail: 'passes a string to setTimeout/setInterval',
  },
];

/** Imports from a URL (absolute or protocol-relative), JavaScript and CSS. */
const URL_IMPORT_PATTERNS: readonly RegExp[] = [
  /\bimport\s*\(\s*['"`]((?:https?:)?\/\/[^'"`\s]{1,300})/gi,
  /\b(?:from|import)\s*['"`]((?:https?:)?\/\/[^'"`\s]{1,300})/gi,
  /\bimportScripts\s*\(\s*['"`]((?:https?:)?\/\/[^'"`\s]{1,300})/gi,
  /@import\s{1,20}(?:url\(\s*)?['"]?((?:https?:)?\/\/[^'"`\s)]{1,300})/gi,
  /<script\b[^>]{0,300}?\bsrc\s*=\s*['"]?((?:https?:)?\/\/[^'"`\s>]{1,300})/gi,
];

/** `scheme://host` and protocol-relative `"//host` in a string or `url(`. */
const ORIGIN_PATTERNS: readonly RegExp[] = [
  /\b(?:https?|wss?):\/\/([a-z0-9.-]{1,253}|\[[0-9a-f:]{2,39}\])/gi,
  /["'`(]\/\/([a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){1,8})/gi,
];

/** Module specifiers of static and dynamic imports, re-exports and require(). */
const SPECIFIER_PATTERNS: readonly RegExp[] = [
  /\b(?:from|import)\s*['"]([^'"\s]{1,214})['"]/g,
  /\b(?:import|require)\s*\(\s*['"]([^'"\s]{1,214})['"]\s*\)/g,
];

/** Where imports mean packages: script and component files. */
const SCRIPT_FILE = /\.(?:[cm]?[jt]sx?|vue|svelte|astro|html?|mdx)$/i;

const PACKAGE_NAME = /^(?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i;

/** Hosts named in URLs in the added lines (lower-case, loopback and namespaces left out). */
export function listAddedHosts(files: readonly RiskScanFile[]): string[] {
  const hosts = new Set<string>();
  for (const file of files) {
    for (const { text } of file.addedLines) for (const host of findHosts(text)) hosts.add(host);
  }
  return [...hosts].sort();
}

/** Package names of bare imports in the added lines of script files. */
export function listAddedPackages(files: readonly RiskScanFile[]): string[] {
  const names = new Set<string>();
  for (const file of files) {
    if (!SCRIPT_FILE.test(file.path)) continue;
    for (const { text } of file.addedLines) for (const name of findPackageImports(text)) names.add(name);
  }
  return [...names].sort();
}

export function findFixRisks(input: RiskScanInput): FixRisk[] {
  const baseHosts = new Set(input.baseHosts.map((host) => host.toLowerCase()));
  const alwaysKnown = new Set([
    ...input.builtinModules.map((name) => name.replace(/^node:/, '')),
    ...input.localNames,
  ]);
  const risks: FixRisk[] = [];
  const seen = new Set<string>();
  const add = (path: string, line: number, kind: FixRiskKind, detail: string) => {
    const key = `${path}\0${line}\0${kind}\0${detail}`;
    if (seen.has(key)) return;
    seen.add(key);
    risks.push({ path, line, kind, detail: truncateDetail(detail) });
  };

  for (const file of input.files) {
    const scriptFile = SCRIPT_FILE.test(file.path);
    const declared = scriptFile ? declaredFor(file.path, input.manifests) : new Set<string>();
    for (const { line, text } of file.addedLines) {
      for (const rule of LINE_RULES)
        if (rule.pattern.test(text)) add(file.path, line, rule.kind, rule.detail);
      for (const pattern of URL_IMPORT_PATTERNS) {
        for (const match of text.matchAll(pattern)) {
          add(file.path, line, 'url_import', `imports code from ${describeUrl(match[1] ?? '')}`);
        }
      }
      for (const host of findHosts(text)) {
        if (!baseHosts.has(host)) add(file.path, line, 'external_origin', `new external origin ${host}`);
      }
      if (scriptFile) {
        for (const name of findPackageImports(text)) {
          if (!declared.has(name) && !alwaysKnown.has(name)) {
            add(file.path, line, 'new_dependency', `imports "${name}", which no package.json here declares`);
          }
        }
      }
    }
  }
  return risks.slice(0, MAX_RISKS);
}

function findHosts(text: string): string[] {
  const hosts: string[] = [];
  for (const pattern of ORIGIN_PATTERNS) {
    for (const match of text.matchAll(pattern)) {
      const host = (match[1] ?? '').toLowerCase().replace(/\.+$/, '');
      if (host && !IGNORED_HOSTS.has(host) && !/^127\./.test(host)) hosts.push(host);
    }
  }
  return hosts;
}

function findPackageImports(text: string): string[] {
  const names: string[] = [];
  for (const pattern of SPECIFIER_PATTERNS) {
    for (const match of text.matchAll(pattern)) {
      const name = packageNameOf(match[1] ?? '');
      if (name) names.push(name);
    }
  }
  return names;
}

/** The package a bare specifier names, or null for relative, absolute, URL and alias specifiers. */
export function packageNameOf(specifier: string): string | null {
  if (/^(?:\.|\/|#|~|@\/|[a-z][a-z0-9+.-]*:)/i.test(specifier)) return null;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? '');
  return PACKAGE_NAME.test(name) ? name : null;
}

function declaredFor(path: string, manifests: RiskScanInput['manifests']): Set<string> {
  const names = new Set<string>();
  for (const manifest of manifests) {
    if (manifest.dir === '' || path.startsWith(`${manifest.dir}/`)) {
      for (const name of manifest.dependencies) names.add(name);
    }
  }
  return names;
}

/** A URL for a detail line: scheme, host and a little path, printable characters only. */
function describeUrl(url: string): string {
  return url.replace(/[^\x21-\x7e]/g, '').slice(0, 100);
}

function truncateDetail(detail: string): string {
  return detail.length > MAX_DETAIL_CHARS ? `${detail.slice(0, MAX_DETAIL_CHARS - 1)}…` : detail;
}
