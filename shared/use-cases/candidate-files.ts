import type { Bug } from '../domain/bug.js';
import { extractSearchTerms, rankCandidateFiles, type TermHits } from '../domain/code-search-terms.js';
import type { CodeHost, RepositoryRef } from '../ports/code-host.js';
import { readAnalysis } from './bug-context.js';

/**
 * Queries per fix request: under half of GitHub's 10 a minute, so two requests in a minute still
 * get hints; Octokit's throttling plugin spaces searches 2 s apart, so this is about 8 s.
 */
export const MAX_SEARCH_QUERIES = 4;
export const MAX_CANDIDATE_FILES = 10;

/**
 * Files the fix agent should look at first: one code search per distinctive term (see
 * code-search-terms.ts), ranked. Best effort — the code host returns [] when its budget is spent
 * or GitHub fails, and the fix goes ahead without hints.
 */
export async function findCandidateFiles(
  target: { readonly bug?: Bug; readonly title: string; readonly body: string },
  deps: { readonly codeHost: CodeHost; readonly settings: { readonly repo: RepositoryRef } },
): Promise<string[]> {
  const analysis = target.bug ? readAnalysis(target.bug)?.result : undefined;
  const terms = extractSearchTerms(
    {
      title: target.title,
      description: target.bug?.description ?? target.body,
      consoleLogs: target.bug?.report?.consoleLogs,
      affectedArea: analysis?.affectedArea,
      rootCauseHypothesis: analysis?.rootCauseHypothesis,
      suggestedFix: analysis?.suggestedFix,
    },
    MAX_SEARCH_QUERIES,
  );
  // One at a time: the code host paces searches anyway, and a spent budget ends the rest at once.
  const hits: TermHits[] = [];
  for (const term of terms) {
    // A file name is looked for in paths (`cart.js` in:path: GitHub ignores the dot, so the
    // words `cart` and `js`); everything else in contents, GitHub's default.
    const found = await deps.codeHost.searchCode(
      deps.settings.repo,
      term.term,
      20,
      term.kind === 'filename' ? { in: 'path' } : {},
    );
    hits.push({ term, paths: found.map((hit) => hit.path) });
  }
  return rankCandidateFiles(hits, MAX_CANDIDATE_FILES);
}
