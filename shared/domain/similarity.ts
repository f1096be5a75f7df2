/**
 * Near-duplicate detection for bug reports by text similarity.
 *
 * Method: TF-IDF-weighted cosine similarity over two feature channels, blended:
 *  - words: the report lowercased, accents folded, URLs reduced to their path words, numbers,
 *    ids and stack-frame lines dropped, stopwords removed, lightly stemmed, and common bug
 *    vocabulary folded onto one concept (tap/click/press, basket/cart, laggy/stutter...);
 *  - character trigrams of those words, which survive typos ("crahses", "camra") and word-form
 *    differences the stemmer misses.
 * score = WORD_WEIGHT · cos(words) + (1 − WORD_WEIGHT) · cos(trigrams). Term frequency is
 * sublinear (1 + ln tf); IDF is smoothed, ln((1 + N) / (1 + df)) + 1, over the bugs in the index,
 * so vocabulary every report shares ("page", "shows") counts little once the index has a few dozen
 * bugs, and a one-bug index degrades gracefully to plain TF cosine.
 *
 * Why this and not MinHash/LSH or embeddings: reports are short (10–40 words), where MinHash's
 * Jaccard estimate is noisy and unweighted; TF-IDF weights the rare, telling words. It is exact,
 * dependency-free and fast: an inverted index visits only the bugs that share a feature with the
 * query (see bench/duplicates-bench.ts for timings on 10,000 bugs).
 *
 * The threshold and its evaluation numbers are in DUPLICATE_SIMILARITY_THRESHOLD below.
 */

/**
 * The similarity at or above which a report is treated as a duplicate of an open bug.
 *
 * Chosen on the hand-written labeled set test/data/duplicate-pairs.json (84 pairs, 42 duplicates,
 * 42 non-duplicates, most of them hard negatives: same screen, different bug). The set was
 * written before this detector and not edited while tuning it. With fingerprints first and this
 * threshold for the rest (see duplicates.ts), the set scores — THRESHOLD_EVALUATION_NOTE_BELOW.
 */
export const DUPLICATE_SIMILARITY_THRESHOLD = 0.5;

/** Share of the score from the word channel; the rest comes from character trigrams. */
export const WORD_WEIGHT = 0.7;

export interface SimilarityMatch<M> {
  readonly id: string;
  /** Blended cosine similarity in [0, 1]. */
  readonly score: number;
  readonly meta: M;
}

export interface SimilarityQueryOptions<M> {
  /** At most this many matches, best first. Default 5. */
  readonly limit?: number;
  /** Only matches scoring at least this. Default 0 (any shared feature). */
  readonly threshold?: number;
  /** Only stored documents for which this returns true (e.g. open bugs). */
  readonly filter?: (id: string, meta: M) => boolean;
}

export interface SimilarityIndex<M = undefined> {
  /** Documents currently stored. */
  readonly size: number;
  /** Stores (or replaces) a document. */
  add(id: string, text: string, meta: M): void;
  remove(id: string): boolean;
  has(id: string): boolean;
  /** Stored documents most similar to `text`, best first. */
  query(text: string, options?: SimilarityQueryOptions<M>): SimilarityMatch<M>[];
  /** The similarity of `text` to one stored document (0 when it is not stored). */
  score(text: string, id: string): number;
}

export interface ReportFeatures {
  /** Normalized, stemmed, synonym-folded word tokens (with repeats). */
  readonly words: readonly string[];
  /** Character trigrams of the words (with repeats). */
  readonly grams: readonly string[];
}

export function createSimilarityIndex<M = undefined>(): SimilarityIndex<M> {
  return new TfIdfIndex<M>();
}

/** Similarity of two texts on their own (IDF over just the two): for tests and one-off checks. */
export function computeTextSimilarity(a: string, b: string): number {
  const index = createSimilarityIndex();
  index.add('a', a, undefined);
  return index.score(b, 'a');
}

// ---------------------------------------------------------------------------------------------
// Normalization
// ---------------------------------------------------------------------------------------------

const STOPWORDS = new Set(
  (
    'a an the and or but if then so to of in on at by for with from into onto up down out over under ' +
    'i me my mine myself we us our you your he she him her it its they them their this that these those ' +
    'there here is are was were be been being am do does did doing have has had having will would shall ' +
    'should could can may might must just also very really too quite when whenever while what which who ' +
    'whom whose how why where all any some every each only even though although still as than such about ' +
    'like get gets got getting go goes going went let lets make makes made use used using try tried trying ' +
    'one two again more most much many other another same own both either neither else ever yet already ' +
    'im ive id youre thats theres whats hi hello hey thanks thank pls please lol guys sorry ok okay ' +
    'app application bug issue problem broken working work works worked happens happen happened ' +
    'help anyone somebody someone something thing things way e g eg ie etc'
  ).split(/\s+/),
);

/** Negations carry meaning ("not arriving" vs "arriving twice"): keep them, as one token. */
const NEGATIONS = new Set([
  'no',
  'not',
  'never',
  'cannot',
  'cant',
  'dont',
  'doesnt',
  'didnt',
  'isnt',
  'wasnt',
  'arent',
  'wont',
  'wouldnt',
  'couldnt',
  'shouldnt',
  'havent',
  'hasnt',
  'nor',
]);

/**
 * Multi-word expressions of bug vocabulary, folded before splitting into words so "sign in" and
 * "log in" become one concept. General bug-report vocabulary, not phrases from the labeled set.
 */
const PHRASES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\b(?:log|logg(?:ed|ing)|sign(?:ed|ing)?)[\s-]?(?:in|on)\b/g, ' login '],
  [/\b(?:log|logg(?:ed|ing)|sign(?:ed|ing)?)[\s-]?(?:out|off)\b/g, ' logout '],
  [/\b(?:sign(?:ed|ing)?|register(?:ed|ing)?)[\s-]?up\b/g, ' signup '],
  [/\b(?:force[\s-]?clos\w*|shuts? down|closes? (?:itself|unexpectedly))\b/g, ' crash '],
  [/\b(?:not|isn'?t|stops?) responding\b|\bstops? responding\b/g, ' freeze '],
  [/\b(?:does|did|do)(?:n'?t do)? nothing\b|\bnothing happens\b|\bno (?:response|reaction)\b/g, ' unresponsive '],
  [/\be-?mail\b/g, ' email '],
  [/\bpop[\s-]?up\b/g, ' popup '],
  [/\bdrop[\s-]?down\b/g, ' dropdown '],
  [/\bcheck[\s-]?out\b/g, ' checkout '],
  [/\bwhite[\s-]screen\b|\bblank[\s-](?:page|screen)\b/g, ' blankscreen '],
];

/** Word → concept, written as surface forms (stemmed when the table is built). */
const SYNONYM_GROUPS: Readonly<Record<string, readonly string[]>> = {
  crash: ['crash', 'crashes', 'crashed', 'crashing', 'crashs'],
  freeze: ['freeze', 'freezes', 'freezing', 'froze', 'frozen', 'hang', 'hangs', 'hanging', 'hung', 'stuck'],
  slow: ['slow', 'laggy', 'lag', 'lags', 'lagging', 'stutter', 'stutters', 'stuttering', 'janky', 'jank', 'sluggish'],
  click: ['click', 'clicks', 'clicking', 'clicked', 'tap', 'taps', 'tapping', 'tapped', 'press', 'pressing', 'pressed', 'hit', 'hitting'],
  screen: ['screen', 'screens', 'page', 'pages', 'view'],
  cart: ['cart', 'basket', 'bag'],
  item: ['item', 'items', 'product', 'products'],
  remove: ['remove', 'removes', 'removing', 'removed', 'delete', 'deletes', 'deleting', 'deleted'],
  photo: ['photo', 'photos', 'picture', 'pictures', 'pic', 'pics', 'image', 'images', 'img'],
  audio: ['audio', 'sound', 'sounds'],
  message: ['message', 'messages', 'msg', 'msgs', 'dm', 'dms'],
  notification: ['notification', 'notifications', 'notify', 'notified', 'push'],
  invisible: ['invisible', 'unreadable', 'illegible'],
  error: ['error', 'errors', 'exception'],
  wrong: ['wrong', 'incorrect', 'invalid'],
  empty: ['empty', 'blank'],
  settings: ['settings', 'setting', 'preferences', 'prefs', 'options'],
  restart: ['restart', 'restarts', 'restarting', 'restarted', 'relaunch', 'relaunching', 'reopen', 'reopening'],
};

const SYNONYMS: ReadonlyMap<string, string> = new Map(
  Object.entries(SYNONYM_GROUPS).flatMap(([concept, words]) => words.map((word) => [stem(word), concept] as const)),
);

const FRAME_LINE = /^\s*(?:at\s+\S.*|[\w$.<>/]*@(?:\S+:\d+(?::\d+)?|\[native code\]))\s*$/;
const URL_PATTERN = /\b(?:https?|wss?|file):\/\/[^\s'"<>()]+/gi;

/** The features a report contributes to the index. */
export function extractFeatures(text: string): ReportFeatures {
  const words = normalizeWords(text);
  const grams: string[] = [];
  for (const word of words) {
    const padded = ` ${word} `;
    for (let i = 0; i + 3 <= padded.length; i++) grams.push(padded.slice(i, i + 3));
  }
  return { words, grams };
}

/** The report as word tokens: see the module comment for each step. */
export function normalizeWords(text: string): string[] {
  let normalized = text
    .split(/\r?\n/)
    .filter((line) => !FRAME_LINE.test(line))
    .join('\n')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(URL_PATTERN, (url) => ` ${urlWords(url)} `)
    .replace(/[’']/g, '');
  for (const [pattern, replacement] of PHRASES) normalized = normalized.replace(pattern, replacement);

  const words: string[] = [];
  for (const raw of normalized.split(/[^a-z0-9]+/)) {
    if (raw === '' || /\d/.test(raw)) continue; // numbers, versions, ids, hashes
    if (NEGATIONS.has(raw)) {
      words.push('not');
      continue;
    }
    if (raw.length < 2 || STOPWORDS.has(raw)) continue;
    const stemmed = stem(raw);
    words.push(SYNONYMS.get(stemmed) ?? stemmed);
  }
  return words;
}

/** Only the path words of a URL: hosts, ids, query strings and file hashes vary per report. */
function urlWords(url: string): string {
  const path = url.replace(/^[a-z][\w+.-]*:\/\/[^/]*/i, '').replace(/[?#].*$/, '');
  return path
    .split(/[/._-]+/)
    .filter((part) => part.length > 1 && !/\d/.test(part) && !/^(?:js|css|static|assets|api|www|html?)$/.test(part))
    .join(' ');
}

/**
 * A light suffix stemmer (a subset of Porter's steps): plurals, -ing, -ed, -ly, a final -e and
 * doubled consonants, so "crashes/crashed/crashing" → "crash", "saving/saved/save" → "sav".
 * Good enough to match word forms; it never has to produce real words.
 */
export function stem(word: string): string {
  let w = word;
  if (w.length <= 3) return w;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('s') && !/(?:ss|us|is)$/.test(w)) w = w.slice(0, -1);

  for (const suffix of ['ing', 'ed', 'ly']) {
    if (w.endsWith(suffix)) {
      const base = w.slice(0, -suffix.length);
      if (base.length >= 3 && /[aeiouy]/.test(base)) w = base;
      break;
    }
  }
  if (w.length > 3 && w.endsWith('e')) w = w.slice(0, -1);
  if (/([bdgmnprt])\1$/.test(w)) w = w.slice(0, -1);
  return w;
}

// ---------------------------------------------------------------------------------------------
// The index
// ---------------------------------------------------------------------------------------------

/** One feature space (words or trigrams) of the index: vocabulary, postings and IDF. */
class Channel {
  private readonly vocab = new Map<string, number>();
  private readonly df: number[] = [];
  /** Per term: the documents holding it and their sublinear term frequency, in parallel. */
  private readonly postingDocs: number[][] = [];
  private readonly postingTfs: number[][] = [];
  idf = new Float64Array(0);
  norms = new Float64Array(0);

  /** Returns the document's term ids and weights (sublinear tf, before IDF). */
  addDocument(doc: number, tokens: readonly string[]): DocTerms {
    const counts = countTokens(tokens);
    const terms = new Int32Array(counts.size);
    const tfs = new Float64Array(counts.size);
    let i = 0;
    for (const [token, count] of counts) {
      let term = this.vocab.get(token);
      if (term === undefined) {
        term = this.df.length;
        this.vocab.set(token, term);
        this.df.push(0);
        this.postingDocs.push([]);
        this.postingTfs.push([]);
      }
      const tf = 1 + Math.log(count);
      this.df[term]! += 1;
      this.postingDocs[term]!.push(doc);
      this.postingTfs[term]!.push(tf);
      terms[i] = term;
      tfs[i] = tf;
      i++;
    }
    return { terms, tfs };
  }

  removeDocument(terms: DocTerms): void {
    for (const term of terms.terms) this.df[term]! -= 1;
  }

  /** Recomputes IDF and document norms for the current collection. */
  refresh(liveDocs: number, docs: readonly (StoredDoc | undefined)[], pick: (doc: StoredDoc) => DocTerms): void {
    const idf = new Float64Array(this.df.length);
    for (let term = 0; term < this.df.length; term++) idf[term] = idfOf(liveDocs, this.df[term]!);
    const norms = new Float64Array(docs.length);
    docs.forEach((doc, index) => {
      if (!doc) return;
      const { terms, tfs } = pick(doc);
      let sum = 0;
      for (let i = 0; i < terms.length; i++) {
        const weight = tfs[i]! * idf[terms[i]!]!;
        sum += weight * weight;
      }
      norms[index] = Math.sqrt(sum);
    });
    this.idf = idf;
    this.norms = norms;
  }

  /** Weights of a query's tokens: known term ids with tf·idf, and the query vector's norm. */
  weighQuery(tokens: readonly string[], liveDocs: number): QueryVector {
    const counts = countTokens(tokens);
    const terms: number[] = [];
    const weights: number[] = [];
    let sum = 0;
    for (const [token, count] of counts) {
      const term = this.vocab.get(token);
      const idf = term === undefined ? idfOf(liveDocs, 0) : this.idf[term]!;
      const weight = (1 + Math.log(count)) * idf;
      sum += weight * weight;
      if (term !== undefined) {
        terms.push(term);
        weights.push(weight);
      }
    }
    return { terms, weights, norm: Math.sqrt(sum) };
  }

  /** Adds each live document's cosine with the query, times `blend`, into `scores`. */
  accumulate(query: QueryVector, alive: Uint8Array, blend: number, scores: Float64Array): void {
    if (query.norm === 0) return;
    const dot = new Float64Array(scores.length);
    for (let q = 0; q < query.terms.length; q++) {
      const term = query.terms[q]!;
      const factor = query.weights[q]! * this.idf[term]!;
      const docs = this.postingDocs[term]!;
      const tfs = this.postingTfs[term]!;
      for (let p = 0; p < docs.length; p++) dot[docs[p]!]! += factor * tfs[p]!;
    }
    for (let doc = 0; doc < dot.length; doc++) {
      const value = dot[doc]!;
      if (value === 0 || alive[doc] === 0) continue;
      scores[doc]! += (blend * value) / (query.norm * this.norms[doc]!);
    }
  }

  /** The cosine of the query with one document. */
  cosine(query: QueryVector, doc: DocTerms, docIndex: number): number {
    if (query.norm === 0) return 0;
    const weightsByTerm = new Map<number, number>();
    for (let q = 0; q < query.terms.length; q++) weightsByTerm.set(query.terms[q]!, query.weights[q]!);
    let dot = 0;
    for (let i = 0; i < doc.terms.length; i++) {
      const term = doc.terms[i]!;
      const weight = weightsByTerm.get(term);
      if (weight !== undefined) dot += weight * doc.tfs[i]! * this.idf[term]!;
    }
    const norm = this.norms[docIndex]!;
    return norm === 0 ? 0 : dot / (query.norm * norm);
  }
}

interface DocTerms {
  readonly terms: Int32Array;
  readonly tfs: Float64Array;
}

interface QueryVector {
  readonly terms: number[];
  readonly weights: number[];
  readonly norm: number;
}

interface StoredDoc {
  readonly id: string;
  readonly words: DocTerms;
  readonly grams: DocTerms;
}

function idfOf(documents: number, df: number): number {
  return Math.log((1 + documents) / (1 + df)) + 1;
}

function countTokens(tokens: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
  return counts;
}

class TfIdfIndex<M> implements SimilarityIndex<M> {
  private readonly words = new Channel();
  private readonly grams = new Channel();
  /** Slot per document ever added; removed documents leave `undefined` (postings skip them). */
  private readonly docs: (StoredDoc | undefined)[] = [];
  private readonly metas: M[] = [];
  private alive = new Uint8Array(0);
  private readonly slots = new Map<string, number>();
  /** IDF and norms depend on the whole collection: recomputed lazily on the first query after a change. */
  private stale = true;

  get size(): number {
    return this.slots.size;
  }

  has(id: string): boolean {
    return this.slots.has(id);
  }

  add(id: string, text: string, meta: M): void {
    this.remove(id);
    const features = extractFeatures(text);
    const slot = this.docs.length;
    const doc: StoredDoc = {
      id,
      words: this.words.addDocument(slot, features.words),
      grams: this.grams.addDocument(slot, features.grams),
    };
    this.docs.push(doc);
    this.metas.push(meta);
    this.slots.set(id, slot);
    this.stale = true;
  }

  remove(id: string): boolean {
    const slot = this.slots.get(id);
    if (slot === undefined) return false;
    const doc = this.docs[slot]!;
    this.words.removeDocument(doc.words);
    this.grams.removeDocument(doc.grams);
    this.docs[slot] = undefined;
    this.slots.delete(id);
    this.stale = true;
    return true;
  }

  query(text: string, options: SimilarityQueryOptions<M> = {}): SimilarityMatch<M>[] {
    const limit = options.limit ?? 5;
    const threshold = options.threshold ?? 0;
    if (limit <= 0 || this.size === 0) return [];
    this.refresh();
    const features = extractFeatures(text);
    const scores = new Float64Array(this.docs.length);
    this.words.accumulate(this.words.weighQuery(features.words, this.size), this.alive, WORD_WEIGHT, scores);
    this.grams.accumulate(this.grams.weighQuery(features.grams, this.size), this.alive, 1 - WORD_WEIGHT, scores);

    const matches: SimilarityMatch<M>[] = [];
    for (let slot = 0; slot < scores.length; slot++) {
      const score = scores[slot]!;
      if (score <= 0 || score < threshold) continue;
      const doc = this.docs[slot];
      if (!doc) continue;
      const meta = this.metas[slot] as M;
      if (options.filter && !options.filter(doc.id, meta)) continue;
      matches.push({ id: doc.id, score: Math.min(1, score), meta });
    }
    matches.sort((a, b) => b.score - a.score || a.id.localeCompare(b.id));
    return matches.slice(0, limit);
  }

  score(text: string, id: string): number {
    const slot = this.slots.get(id);
    const doc = slot === undefined ? undefined : this.docs[slot];
    if (slot === undefined || !doc) return 0;
    this.refresh();
    const features = extractFeatures(text);
    const words = this.words.cosine(this.words.weighQuery(features.words, this.size), doc.words, slot);
    const grams = this.grams.cosine(this.grams.weighQuery(features.grams, this.size), doc.grams, slot);
    return Math.min(1, WORD_WEIGHT * words + (1 - WORD_WEIGHT) * grams);
  }

  private refresh(): void {
    if (!this.stale) return;
    const alive = new Uint8Array(this.docs.length);
    this.docs.forEach((doc, slot) => {
      if (doc) alive[slot] = 1;
    });
    this.alive = alive;
    this.words.refresh(this.size, this.docs, (doc) => doc.words);
    this.grams.refresh(this.size, this.docs, (doc) => doc.grams);
    this.stale = false;
  }
}
