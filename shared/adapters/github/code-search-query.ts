import type { RepositoryRef } from '../../ports/code-host.js';

/**
 * Builds the `q` of `GET /search/code` from caller text, which may come from a bug report. Only
 * plain words survive: anything shaped like a qualifier (`repo:other/secret`, `org:`, `user:`) is
 * dropped so untrusted text cannot widen the search beyond the one repository the token is used
 * for; quotes, parentheses and a leading `-` (search syntax) go; boolean operators go. The
 * repository qualifier is ours and last. Null when no word is left: an empty search would spend the
 * budget for a 422.
 */

/** GitHub caps `q` at 256 characters; the repository qualifier needs its share. */
const MAX_TERMS_LENGTH = 180;
const MAX_TERMS = 8;
const NAME = /^[\w.-]{1,100}$/;

export function buildCodeSearchQuery(
  repo: RepositoryRef,
  text: string,
  options: { readonly in?: 'file' | 'path' | 'file,path' } = {},
): string | null {
  if (!NAME.test(repo.owner) || !NAME.test(repo.repo)) return null;
  const terms: string[] = [];
  let length = 0;
  for (const token of text.split(/\s+/)) {
    if (token.includes(':') || ['AND', 'OR', 'NOT'].includes(token)) continue;
    const term = token.replace(/[^\p{L}\p{N}_./-]/gu, '').replace(/^[-./]+/, '');
    if (term.length === 0 || terms.includes(term)) continue;
    if (length + term.length + 1 > MAX_TERMS_LENGTH || terms.length >= MAX_TERMS) break;
    terms.push(term);
    length += term.length + 1;
  }
  if (terms.length === 0) return null;
  const scope = options.in ? ` in:${options.in}` : '';
  return `${terms.join(' ')}${scope} repo:${repo.owner}/${repo.repo}`;
}
