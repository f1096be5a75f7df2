import { type GitRunner, grepFiles, listFiles } from './bare-repository.js';

/**
 * `GET /search/code?q=…` over the default branch of served bare repositories, as GitHub's REST
 * (legacy) code search behaves (docs.github.com "Searching code (legacy)"; the endpoint's
 * OpenAPI description in @octokit/openapi-types):
 * - only the default branch is searched, and only files smaller than 384 KB;
 * - every bare word and "quoted phrase" must occur in one file, as a whole word, ignoring case
 *   (`cart` does not find `cartTotal`); the symbols `. , : ; / \ ' " = * ! ? # $ & + ^ | ~ < > ( )
 *   { } [ ] @` are ignored, so `items.map` is the two words `items` and `map`;
 * - without `in:`, only file contents are searched; `in:path` searches the path, `in:file,path`
 *   either; qualifiers `repo:`, `path:`, `filename:`, `extension:`, `language:` narrow it.
 * Unknown qualifiers count as words, as GitHub treats them.
 */

export interface ParsedCodeQuery {
  readonly terms: readonly string[];
  readonly repos: readonly string[];
  readonly paths: readonly string[];
  readonly filenames: readonly string[];
  readonly extensions: readonly string[];
  readonly languages: readonly string[];
  readonly inFile: boolean;
  readonly inPath: boolean;
}

const LANGUAGE_EXTENSIONS: Record<string, readonly string[]> = {
  typescript: ['ts', 'tsx', 'mts', 'cts'],
  javascript: ['js', 'jsx', 'mjs', 'cjs'],
  css: ['css'],
  html: ['html', 'htm'],
  json: ['json'],
  markdown: ['md', 'markdown'],
  python: ['py'],
};

export function parseCodeQuery(q: string): ParsedCodeQuery {
  const terms: string[] = [];
  const repos: string[] = [];
  const paths: string[] = [];
  const filenames: string[] = [];
  const extensions: string[] = [];
  const languages: string[] = [];
  const ins: string[] = [];
  for (const match of q.matchAll(/"([^"]*)"|(\S+)/g)) {
    const phrase = match[1];
    if (phrase !== undefined) {
      const words = splitWords(phrase);
      if (words.length > 0) terms.push(words.join(' '));
      continue;
    }
    const token = match[2] ?? '';
    const qualifier = /^([a-z]+):(.+)$/i.exec(token);
    const name = qualifier?.[1]?.toLowerCase();
    const value = qualifier?.[2] ?? '';
    if (name === 'repo') repos.push(value.toLowerCase());
    else if (name === 'path') paths.push(value.replace(/^\/+/, ''));
    else if (name === 'filename') filenames.push(value.toLowerCase());
    else if (name === 'extension') extensions.push(value.replace(/^\./, '').toLowerCase());
    else if (name === 'language') languages.push(value.toLowerCase());
    else if (name === 'in') ins.push(...value.toLowerCase().split(','));
    else if (!['AND', 'OR', 'NOT'].includes(token)) terms.push(...splitWords(token));
  }
  // "When you omit this qualifier, only the file contents are searched."
  const inFile = ins.length === 0 || ins.includes('file');
  const inPath = ins.includes('path');
  return { terms, repos, paths, filenames, extensions, languages, inFile, inPath };
}

/** The symbols code search ignores split a token into words (`items.map` → `items`, `map`). */
function splitWords(text: string): string[] {
  return text.split(/[\s.,:;/\\`'"=*!?#$&+^|~<>(){}[\]@]+/).filter((word) => word.length > 0);
}

/** GitHub indexes files smaller than 384 KB. */
const MAX_INDEXED_BYTES = 384 * 1024;

export interface SearchableRepository {
  readonly fullName: string;
  readonly bareDir: string | undefined;
  readonly defaultBranch: string;
}

export interface CodeSearchMatch {
  readonly repository: SearchableRepository;
  readonly path: string;
  readonly sha: string;
  readonly score: number;
}

export async function searchCode(
  git: GitRunner,
  query: ParsedCodeQuery,
  repositories: readonly SearchableRepository[],
): Promise<CodeSearchMatch[]> {
  const targets =
    query.repos.length === 0
      ? repositories
      : repositories.filter((repository) => query.repos.includes(repository.fullName.toLowerCase()));
  const matches: CodeSearchMatch[] = [];
  for (const repository of targets) {
    if (!repository.bareDir) continue;
    const ref = `refs/heads/${repository.defaultBranch}`;
    const files = (await listFiles(git, repository.bareDir, ref)).filter(
      (file) => file.size < MAX_INDEXED_BYTES && passesQualifiers(file.path, query),
    );
    const contentHits = query.inFile
      ? await Promise.all(query.terms.map((term) => grepFiles(git, repository.bareDir ?? '', ref, term)))
      : query.terms.map(() => new Set<string>());
    for (const file of files) {
      const pathWords = ` ${splitWords(file.path.replace(/[-]/g, ' ')).join(' ').toLowerCase()} `;
      let score = 0;
      const all = query.terms.every((term, index) => {
        const inPath = query.inPath && pathWords.includes(` ${term.toLowerCase()} `);
        const inContent = contentHits[index]?.has(file.path) ?? false;
        // A word in the path weighs more, as it does on GitHub.
        score += (inPath ? 2 : 0) + (inContent ? 1 : 0);
        return inPath || inContent;
      });
      if (all) matches.push({ repository, path: file.path, sha: file.sha, score });
    }
  }
  return matches.sort((a, b) => b.score - a.score || a.path.localeCompare(b.path));
}

function passesQualifiers(path: string, query: ParsedCodeQuery): boolean {
  const name = (path.split('/').pop() ?? '').toLowerCase();
  const extension = name.includes('.') ? (name.split('.').pop() ?? '') : '';
  if (query.paths.length > 0 && !query.paths.some((prefix) => path.startsWith(prefix))) return false;
  if (query.filenames.length > 0 && !query.filenames.includes(name)) return false;
  if (query.extensions.length > 0 && !query.extensions.includes(extension)) return false;
  const languageExtensions = query.languages.flatMap((language) => LANGUAGE_EXTENSIONS[language] ?? []);
  if (languageExtensions.length > 0 && !languageExtensions.includes(extension)) return false;
  return true;
}
