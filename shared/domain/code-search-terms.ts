/**
 * What to search the repository for, to hint the fix agent at the right files. GitHub's code
 * search (REST, legacy) finds a file only when every term of the query is in it, searches the
 * default branch only, and allows 10 requests a minute: one query of four words from a title
 * ("checkout crashes press pay") almost never matches a file. So: one term per query, the most
 * distinctive first, and the files ranked by how many (and how rare) the terms they hold are.
 *
 * Terms, strongest first:
 * - source paths named in stack frames (`at cartTotal (webpack:///./src/cart.js:12:3)` → `cart.js`),
 *   searched as `filename:` — bundled names with a content hash (`main.3f2a9c1b.js`) are useless;
 * - identifiers: camelCase, PascalCase and snake_case names from the stack frames, the analysis
 *   and the report (`cartTotal`, `CheckoutForm`), minus the runtime's own (`renderWithHooks`);
 * - plain words of the domain (`checkout`, `coupon`), from the title and the analysis, minus
 *   the words every report uses (`crash`, `page`, `error`).
 */

export type SearchTermKind = 'filename' | 'identifier' | 'word';

export interface SearchTerm {
  readonly kind: SearchTermKind;
  /** For `filename`, the bare file name; otherwise the word. */
  readonly term: string;
  /** How much a file holding it counts: filename 3, identifier 2, word 1. */
  readonly weight: number;
}

export interface SearchTermSources {
  readonly title: string;
  readonly description?: string;
  readonly consoleLogs?: string;
  /** The triage analysis, when there is one. */
  readonly affectedArea?: string;
  readonly rootCauseHypothesis?: string;
  readonly suggestedFix?: string;
}

const WEIGHTS: Record<SearchTermKind, number> = { filename: 3, identifier: 2, word: 1 };

/** Words every bug report uses: they find every file or none. */
const STOP_WORDS = new Set(
  `a about after again all also an and any app are as at be because been before being but by can
  cannot could crash crashed crashes did does doing done error errors fail failed fails for from get
  gets got had has have how if in into is it its just like load loading loads make makes me my no
  not nothing of on once or our out page pages please press pressed pressing properties property
  read reading should shows so some still than that the their them then there these they this to
  too undefined null up was we were what when where which while white why will with work works
  would you your button click clicked clicking screen blank broken bug issue problem wrong user
  users shown show see seen try tried again function value values type typeerror referenceerror
  cannot object reported report using used use new`.split(/\s+/),
);

/** Names from the runtime and frameworks that appear in every stack trace. */
const RUNTIME_IDENTIFIERS = new Set([
  'renderWithHooks',
  'mountIndeterminateComponent',
  'beginWork',
  'performUnitOfWork',
  'workLoopSync',
  'callCallback',
  'invokeGuardedCallback',
  'dispatchEvent',
  'HTMLUnknownElement',
  'TypeError',
  'ReferenceError',
  'SyntaxError',
  'RangeError',
  'Promise',
  'Object',
  'Array',
  'Function',
  'JSON',
  'Error',
  'console',
  'window',
  'document',
  'undefined',
  'Anonymous',
  'anonymous',
]);

/** `main.3f2a9c1b.js`, `chunk-4f9c2a.js`, `vendor.js`: bundles, not sources. */
const BUNDLE_NAME =
  /(^|[.-])[0-9a-f]{6,}([.-]|$)|^(vendor|bundle|main|app|index|chunk|runtime|polyfills)\.[cm]?js$/i;
const SOURCE_PATH =
  /(?:webpack:\/\/\/?|\/)(?:\.\/)?((?:[\w@-]+\/)*[\w.-]+\.(?:[cm]?[jt]sx?|vue|svelte|css|scss|html))(?::\d+)?/g;
const IDENTIFIER = /\b([a-z]+[A-Z][A-Za-z0-9]*|[A-Z][a-z0-9]+[A-Z][A-Za-z0-9]*|[a-z][a-z0-9]*_[a-z0-9_]+)\b/g;
const FRAME_FUNCTION = /\bat\s+(?:new\s+)?([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*)\s*\(/g;
const WORD = /[A-Za-z][A-Za-z0-9]{3,}/g;

export function extractSearchTerms(sources: SearchTermSources, limit = 6): SearchTerm[] {
  const terms = new Map<string, SearchTerm>();
  const add = (kind: SearchTermKind, term: string) => {
    const key = term.toLowerCase();
    const existing = terms.get(key);
    if (existing && existing.weight >= WEIGHTS[kind]) return;
    terms.set(key, { kind, term, weight: WEIGHTS[kind] });
  };
  const logs = sources.consoleLogs ?? '';
  const analysis = [sources.affectedArea, sources.rootCauseHypothesis, sources.suggestedFix]
    .filter(Boolean)
    .join('\n');
  const prose = [sources.title, sources.description ?? '', analysis].join('\n');

  for (const match of `${logs}\n${prose}`.matchAll(SOURCE_PATH)) {
    const name = match[1]?.split('/').pop() ?? '';
    if (name && !BUNDLE_NAME.test(name) && !name.includes('node_modules')) add('filename', name);
  }
  for (const match of logs.matchAll(FRAME_FUNCTION)) {
    for (const part of (match[1] ?? '').split('.')) {
      if (part.length >= 4 && !RUNTIME_IDENTIFIERS.has(part) && /[A-Z_]/.test(part.slice(1)))
        add('identifier', part);
    }
  }
  for (const match of `${analysis}\n${prose}\n${logs}`.matchAll(IDENTIFIER)) {
    const name = match[1] ?? '';
    if (name.length >= 4 && !RUNTIME_IDENTIFIERS.has(name)) add('identifier', name);
  }
  // Words: the title and the analysis's affected area say what the bug is about.
  const wordSources = [sources.title, sources.affectedArea ?? '', sources.description ?? ''].join(' ');
  for (const match of wordSources.matchAll(WORD)) {
    const word = (match[0] ?? '').toLowerCase();
    if (!STOP_WORDS.has(word)) add('word', stem(word));
  }
  // Strongest first; among equals, the order they were found in (titles before descriptions).
  return [...terms.values()].sort((a, b) => b.weight - a.weight).slice(0, limit);
}

/** "carts" → "cart", "payments" → "payment": code names things in the singular. */
function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 4 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

export interface TermHits {
  readonly term: SearchTerm;
  readonly paths: readonly string[];
}

/**
 * Ranks files by the terms they hold: each term adds its weight divided by how many files it
 * matched (a term found in one file says more than one found in twenty). Ties keep the order of
 * the strongest term's hits (GitHub's own relevance).
 */
export function rankCandidateFiles(hits: readonly TermHits[], limit: number): string[] {
  const scores = new Map<string, { score: number; first: number }>();
  let order = 0;
  for (const { term, paths } of hits) {
    if (paths.length === 0) continue;
    const share = term.weight / Math.sqrt(paths.length);
    for (const path of paths) {
      const current = scores.get(path) ?? { score: 0, first: order++ };
      scores.set(path, { score: current.score + share, first: current.first });
    }
  }
  return [...scores.entries()]
    .sort(([, a], [, b]) => b.score - a.score || a.first - b.first)
    .slice(0, limit)
    .map(([path]) => path);
}
