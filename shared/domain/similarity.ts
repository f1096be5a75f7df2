/**
 * Near-duplicate detection for bug reports by text similarity.
 *
 * Method: TF-IDF-weighted cosine similarity over two feature channels, blended, then gated:
 *  1. Normalize: drop stack-frame lines, fold accents, lowercase, reduce URLs to their path words,
 *     drop numbers, ids and hashes, fold bug-report vocabulary onto concept tokens (VOCABULARY:
 *     "white screen"/"crashes"/"closes the app" → `_crash`, "basket"/"cart" → `_cart`, "not
 *     arriving"/"never came" → `_missing`...), remove stopwords (and device/OS/browser names:
 *     the same bug comes from every device), stem what is left with a light suffix stemmer.
 *  2. Two channels: the words and concepts; and character trigrams of the plain words (typos:
 *     "wishlsit", "reciept"). Sublinear tf (1 + ln tf), smoothed IDF ln((1 + N) / (1 + df)) + 1
 *     over the stored bugs, capped (MAX_IDF). Cosine per channel; trigrams may only raise the
 *     word score (see WORD_WEIGHT).
 *  3. Gate: when both reports name symptoms and share none, or name app components and share
 *     none, the score is multiplied down (mismatchPenalty). This is what separates the hard
 *     negatives — "notifications not arriving" vs "notifications arriving twice" share nearly
 *     every word — which no bag-of-words weighting can.
 *
 * Why not MinHash/LSH or embeddings: reports are short (10–40 words) and near-duplicates often
 * share few words, where MinHash's unweighted Jaccard estimate is noisy and misses paraphrases;
 * embeddings need a model this pure, dependency-free module cannot ship. TF-IDF over an inverted
 * index is exact and fast: a query visits only the stored bugs that share a feature with it
 * (bench/duplicates-bench.ts times it against 10,000 bugs).
 *
 * The threshold and its evaluation numbers are at DUPLICATE_SIMILARITY_THRESHOLD below.
 */

/**
 * The similarity at or above which a report is treated as a duplicate of an open bug.
 *
 * Evaluated on test/data/duplicate-pairs.json: 84 hand-written pairs (42 duplicates, 42 not),
 * most of them hard — same screen, different bug; same crash in other words, on another device,
 * with or without a stack trace. The pairs were written BEFORE this detector and not edited
 * afterwards; the method (vocabulary, penalties, weights, IDF cap) and this threshold were then
 * tuned on them, so these numbers are optimistic. A second set written after tuning and scored
 * once (duplicate-pairs-holdout.json, 30 pairs from other app domains) is the honest estimate:
 * precision 0.83, recall 0.67 at this threshold. bench/duplicates-bench.ts prints both.
 *
 * Fingerprints come first (they alone catch 10 of the 42 duplicates, with no false match); text
 * similarity decides the rest. Precision / recall on the labeled set by threshold:
 *
 *   0.24  0.82 / 0.95    0.30  0.95 / 0.90    0.34–0.40  0.97 / 0.83    0.44  0.97 / 0.74
 *   0.26  0.89 / 0.95    0.32  0.97 / 0.86    0.42       0.97 / 0.81    0.46  0.97 / 0.67
 *
 * Below ~0.30 the hard negatives flood in; above ~0.42 recall falls. The one false positive
 * that survives the whole band is "Order total shows 19.999999 instead of 20.00" vs "Order total
 * shows $ instead of €" (same words, same "wrong value" symptom). With 1,000 or 10,000
 * synthetic bugs added to the index the band where precision ≥ 0.95 and recall ≥ 0.8 is
 * 0.32–0.40. 0.34 is inside it at every size: precision 0.97, recall 0.83–0.86, F1 0.90–0.91.
 * The misses are paraphrases with little shared vocabulary ("1h off after the DST change" vs
 * "an hour late since daylight saving") and heavy typos ("crahses when i opne the camra").
 */
export const DUPLICATE_SIMILARITY_THRESHOLD = 0.34;

/**
 * The word channel's share when trigrams are blended in: score = max(cos(words), WORD_WEIGHT ·
 * cos(words) + (1 − WORD_WEIGHT) · cos(trigrams)), so trigrams can raise a score — typos and
 * word forms outside the vocabulary ("wishlsit", "synching") — but never lower one (a report made
 * of concepts has few plain words to take trigrams from). Trigrams are secondary evidence: on the
 * labeled set every weight from 0.5 to 1.0 (no trigrams) gives the same precision/recall band, so
 * this is set for typo tolerance. (A plain weighted sum, tried first, narrowed that band: at
 * weight 0.7 recall fell to 0.71 by threshold 0.38.)
 */
export const WORD_WEIGHT = 0.7;

/**
 * Score factor when both reports name symptoms and none is shared (see mismatchPenalty). 0.5
 * halves "same screen, other symptom"; 0.3 reached a higher peak on the labeled set but only at
 * one exact threshold, 0.7 let hard negatives through (recall 0.74 at precision ≥ 0.95).
 */
export const SYMPTOM_MISMATCH_FACTOR = 0.5;
/**
 * Score factor when both reports name app components and none is shared. 0.6 and 0.8 let
 * "crashes when opening Settings" match "... opening Notifications".
 */
export const COMPONENT_MISMATCH_FACTOR = 0.4;

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
  /** Normalized, stemmed words and vocabulary concepts (`_crash`, `_checkout`), with repeats. */
  readonly words: readonly string[];
  /** Character trigrams of the plain words (with repeats). */
  readonly grams: readonly string[];
  /** Symptom concepts named by the report (`_crash`, `_missing`...). */
  readonly symptoms: ReadonlySet<string>;
  /** Component concepts named by the report (`_checkout`, `_chat`...). */
  readonly components: ReadonlySet<string>;
}

export interface SimilarityIndexOptions {
  /** Default WORD_WEIGHT. */
  readonly wordWeight?: number;
  /** Default SYMPTOM_MISMATCH_FACTOR. */
  readonly symptomMismatchFactor?: number;
  /** Default COMPONENT_MISMATCH_FACTOR. */
  readonly componentMismatchFactor?: number;
}

export function createSimilarityIndex<M = undefined>(
  options: SimilarityIndexOptions = {},
): SimilarityIndex<M> {
  return new TfIdfIndex<M>({
    wordWeight: options.wordWeight ?? WORD_WEIGHT,
    symptomMismatchFactor: options.symptomMismatchFactor ?? SYMPTOM_MISMATCH_FACTOR,
    componentMismatchFactor: options.componentMismatchFactor ?? COMPONENT_MISMATCH_FACTOR,
  });
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
    'app application bug issue problem broken working work works worked happens happen happened time times ' +
    'help anyone somebody someone something thing things way eg ie etc since now today yesterday morning ' +
    // Devices, systems and browsers: the same bug is reported from all of them, so they must not
    // make two reports look alike (or different).
    'iphone ipad ios ipados android samsung galaxy pixel oneplus xiaomi redmi moto motorola huawei ' +
    'chrome safari firefox edge windows macos mac laptop phone phones tablet device devices webview ' +
    'mobile desktop browser version update updated latest'
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
 * How a vocabulary concept takes part in scoring. `symptom` and `component` concepts also gate
 * the score (see mismatchPenalty); `term` concepts only fold synonyms together.
 */
export type ConceptKind = 'symptom' | 'component' | 'term';

interface VocabularyEntry {
  readonly kind: ConceptKind;
  /** What the phrase becomes: one or more concept tokens (`_crash`, `_auth _login`). */
  readonly emit: string;
  readonly patterns: readonly string[];
}

/**
 * Bug-report vocabulary: phrases people use for the same symptom or the same part of an app,
 * folded onto one concept token. Entries are tried in order (specific before general: "no sound"
 * is a sound symptom before "missing" is a generic one) on lowercased, accent-free text with
 * apostrophes removed ("doesn't" → "doesnt"). It aims at consumer mobile/web apps in general but
 * was written while tuning on the labeled pairs (a shop app): on the held-out pairs from other
 * domains (banking, fitness, travel) recall drops where it has no words for the domain ("greyed
 * out" = disabled, "drops connection" = disconnects). Extend it with a deployment's own words;
 * see DUPLICATE_SIMILARITY_THRESHOLD for the evaluation.
 */
const VOCABULARY: readonly VocabularyEntry[] = [
  // Generic failure: agrees with any specific failure mode (see FAILURE_SYMPTOMS), not with
  // "it works but looks wrong" symptoms such as blurry, rotated or out of order.
  {
    kind: 'symptom',
    emit: '_error',
    patterns: [
      'something went wrong',
      'an error',
      'error (?:message|screen|toast|page|popup)',
      'fail(?:s|ed|ing|ure)?',
      'oops',
    ],
  },
  // Symptoms.
  {
    kind: 'symptom',
    emit: '_nosound',
    patterns: [
      'no (?:sound|audio)',
      '(?:sound|audio)(?: is| are)? (?:missing|gone|muted|not working|silent)',
      'cant hear',
      'muted',
    ],
  },
  {
    kind: 'symptom',
    emit: '_noplay',
    patterns: ['(?:dont|doesnt|didnt|wont|do not|does not|not|never) play(?:s|ing)?(?: at all)?'],
  },
  {
    kind: 'symptom',
    emit: '_rotated',
    patterns: ['rotated', 'sideways', 'upside down', 'wrong orientation'],
  },
  {
    kind: 'symptom',
    emit: '_reset',
    patterns: [
      'resets?',
      'revert(?:s|ed)?',
      'switch(?:es|ed)? back',
      'back to (?:the )?(?:default|light|english|original)',
      '(?:not|isnt|wasnt|never|arent) (?:being )?(?:kept|saved|persisted|remembered|stored)',
      '(?:doesnt|does not|dont|wont|didnt) (?:save|stick|persist|remember|keep)',
      '(?:get|gets|got|getting) logged out',
      'forgets?',
      'have to (?:log|sign) ?in again',
    ],
  },
  {
    kind: 'symptom',
    emit: '_noload',
    // ("fails to load" is already `_error`, which agrees with this symptom.)
    patterns: ['(?:dont|doesnt|didnt|wont|do not|does not|not|never|stops?|stopped) load(?:s|ing)?'],
  },
  {
    kind: 'symptom',
    emit: '_loading',
    patterns: [
      '(?<!no )spinners?',
      '(?:keeps?|kept|endless(?:ly)?|infinite(?:ly)?|forever) loading',
      'loading (?:forever|endlessly|indefinitely)',
      'loads? forever',
    ],
  },
  {
    kind: 'symptom',
    emit: '_crash',
    patterns: [
      'crash\\w*',
      'force[ -]?clos\\w*',
      '(?<!\\b(?:i|we|you) )(?:exits?|quits?|closes?) (?:the |my )?(?:whole |entire )?app',
      'app (?:closes|quits|exits|shuts down|dies)',
      '(?:white|blank|black) (?:screen|page)',
      '(?:screen|page) (?:goes|went|turns|is) (?:white|blank|black)',
      'goes (?:white|blank)',
      'oops screen',
      'kicks? me out',
    ],
  },
  {
    kind: 'symptom',
    emit: '_freeze',
    patterns: ['freez\\w*', 'froze\\w*', 'hang(?:s|ing)?', 'hung', '(?:not|isnt|stops?|stopped) responding'],
  },
  {
    kind: 'symptom',
    emit: '_noop',
    patterns: [
      '(?:does|do|did) nothing',
      'nothing happen(?:s|ed)?',
      'no (?:response|reaction)',
      'unresponsive',
      'not clickable',
      '(?:doesnt|dont|didnt|wont|does not|do not) (?:respond|react|open)',
      '(?:doesnt|does not|dont|wont|cant|cannot|unable to|not able to) (?:let me |allow me to |permit (?:the )?)?(?:select|pick|choose|tap|click|press)',
    ],
  },
  {
    kind: 'symptom',
    emit: '_slow',
    patterns: [
      'slow\\w*',
      'lag\\w*',
      'stutter\\w*',
      'jank\\w*',
      'sluggish',
      'choppy',
      'drops? frames',
      'takes forever',
    ],
  },
  {
    kind: 'symptom',
    emit: '_loop',
    patterns: [
      '(?:redirect )?loop(?:s|ing)?',
      'keeps? (?:going|coming|sending me|redirecting) back',
      'ends? up (?:on|at) (?:\\w+ ){1,4}again',
    ],
  },
  {
    kind: 'symptom',
    emit: '_missing',
    patterns: [
      '(?:not|never|dont|doesnt|didnt|isnt|arent|wont|no longer) (?:\\w+ )?(?:arriv\\w*|receiv\\w*|get|got|getting|come|came|coming|deliver\\w*|sen[dt]\\w*|fir(?:e|es|ing)|show(?:s|n|ing)? up)',
      'never (?:arrives?|came|comes|showed up)',
      '(?:is|are) missing',
      'missing (?:button|option)',
      'no way to',
      '(?:is|are) not (?:shown|showing|displayed|visible)',
      '(?:doesnt|dont) show',
    ],
  },
  {
    kind: 'symptom',
    emit: '_lost',
    patterns: [
      'disappear\\w*',
      'vanish\\w*',
      '(?:is|are|get|gets|got|were|was) lost',
      'overwritten',
      'overwrites?',
      'empties',
      'wiped',
    ],
  },
  {
    kind: 'symptom',
    emit: '_duplicate',
    patterns: [
      'twice',
      'doubled?',
      'duplicat\\w*',
      'repeat\\w*',
      '(?:several|multiple|many) times',
      'more than once',
      'two identical',
      'same (?:\\w+ ){1,3}(?:again|\\d+(?:-\\d+)? times)',
    ],
  },
  {
    kind: 'symptom',
    emit: '_order',
    patterns: [
      'out of order',
      '(?:wrong|random|weird) order',
      'order (?:\\w+ ){0,4}(?:is )?messed up',
      'messed up order',
      '(?:newer|older) \\w+ (?:\\w+ ){0,3}(?:above|below|before|after) (?:the )?(?:older|newer)',
      'not sorted',
      'sorted wrong\\w*',
    ],
  },
  {
    kind: 'symptom',
    emit: '_notvisible',
    patterns: [
      'unreadable',
      'invisible',
      'illegible',
      'cant (?:see|read)',
      'black on black',
      'white on white',
      'low contrast',
      'hid(?:es|den|ing|e)',
      'covers?',
      'covered',
      'overlap\\w*',
      'cut off',
      'behind the keyboard',
      'off ?screen',
    ],
  },
  {
    kind: 'symptom',
    emit: '_stale',
    patterns: [
      '(?:doesnt|does not|dont|not|isnt|never) (?:update|updating|refresh\\w*)',
      'still shows? the old',
      'outdated',
      'stale',
    ],
  },
  {
    kind: 'symptom',
    emit: '_empty',
    patterns: [
      'no (?:results?|data)',
      'zero results?',
      'nothing found',
      'returns nothing',
      'empty (?:file|list|page|results?|export|screen|document)',
      'only (?:has )?the header(?: row)?',
    ],
  },
  {
    kind: 'symptom',
    emit: '_timing',
    patterns: ['(?:an?|one) hour (?:late|early|off|behind|ahead)', 'late', 'delayed', 'too early'],
  },
  {
    kind: 'symptom',
    emit: '_blurry',
    patterns: ['blurry', 'blurred', 'pixelated', 'low (?:quality|resolution)', 'compressed'],
  },
  {
    kind: 'symptom',
    emit: '_untranslated',
    patterns: ['(?:still )?in english', 'untranslated', 'not translated'],
  },
  {
    kind: 'symptom',
    emit: '_invalid',
    patterns: [
      'invalid',
      '(?:not|isnt|wasnt|doesnt|dont|wont|never) (?:be )?(?:accept\\w*|applied|apply|applies|valid)',
      'rejected',
      'declined',
      'expired',
    ],
  },
  {
    kind: 'symptom',
    emit: '_wrong',
    patterns: [
      'wrong',
      'incorrect\\w*',
      'inaccurate',
      'instead of',
      '\\d+ ?(?:km|mi|miles?|meters?|m) (?:away|off)',
    ],
  },
  // Components: parts of an app.
  { kind: 'term', emit: '_applepay', patterns: ['apple ?pay'] },
  { kind: 'term', emit: '_googlepay', patterns: ['google ?pay'] },
  { kind: 'component', emit: '_checkout', patterns: ['check ?out', 'pay(?:s|ing|ment|ments)?'] },
  { kind: 'component', emit: '_cart', patterns: ['carts?', 'baskets?', 'shopping bag'] },
  { kind: 'component', emit: '_password', patterns: ['passwords?', 'passcodes?'] },
  {
    kind: 'component',
    emit: '_otp',
    patterns: [
      '(?:sms|verification|confirmation|one[ -]time|2fa|otp|security|login) codes?',
      'otp',
      '\\d+[ -]digit (?:code|input|field)',
    ],
  },
  {
    kind: 'component',
    emit: '_signup _email',
    patterns: ['(?:verification|confirmation|activation) (?:e-?)?(?:mail|email|link)'],
  },
  {
    kind: 'component',
    emit: '_signup',
    patterns: [
      'sign(?:ed|ing|s)? ?up',
      'register\\w*',
      'registration',
      'create (?:an |my )?account',
      'activat\\w* (?:my |the )?account',
    ],
  },
  {
    kind: 'component',
    emit: '_auth _logout',
    patterns: ['log(?:ged|ging|s)? ?(?:out|off)', 'sign(?:ed|ing|s)? ?(?:out|off)'],
  },
  {
    kind: 'component',
    emit: '_auth _login',
    patterns: ['log(?:ged|ging|s)? ?(?:in|on)', 'sign(?:ed|ing|s)? ?(?:in|on)', 'signin', 'login'],
  },
  { kind: 'component', emit: '_auth', patterns: ['sessions?', '2fa', 'two[ -]factor'] },
  { kind: 'component', emit: '_feed', patterns: ['feeds?', 'timelines?'] },
  { kind: 'component', emit: '_search', patterns: ['search\\w*'] },
  { kind: 'component', emit: '_chat', patterns: ['chat\\w*', 'conversations?', 'direct messages?', 'inbox'] },
  {
    kind: 'component',
    emit: '_notification',
    patterns: ['push notifications?', 'notifications?', 'notif(?:y|ied|ies)', 'push'],
  },
  { kind: 'component', emit: '_avatar', patterns: ['avatars?', 'profile (?:photo|picture|pic|image)s?'] },
  { kind: 'component', emit: '_settings', patterns: ['settings?', 'preferences', 'prefs'] },
  { kind: 'component', emit: '_map', patterns: ['maps?', 'store locator', 'pins', 'markers'] },
  { kind: 'component', emit: '_camera', patterns: ['cameras?', 'scan\\w*'] },
  { kind: 'component', emit: '_upload', patterns: ['upload\\w*'] },
  { kind: 'component', emit: '_video', patterns: ['videos?', 'clips?', 'video player', 'playback'] },
  { kind: 'component', emit: '_subscription _yearly', patterns: ['(?:annual|yearly) (?:plan|subscription)'] },
  {
    kind: 'component',
    emit: '_subscription',
    patterns: ['subscri\\w*', '(?:monthly|premium|pro) plan', 'premium', 'upgrad\\w*'],
  },
  {
    kind: 'component',
    emit: '_orders',
    patterns: [
      'my orders',
      'order history',
      'orders? page',
      'order tracking',
      'track(?:ing)? (?:my )?orders?',
      'orders? list',
    ],
  },
  { kind: 'component', emit: '_invoice', patterns: ['invoices?'] },
  { kind: 'component', emit: '_export', patterns: ['export\\w*'] },
  { kind: 'component', emit: '_reminder', patterns: ['reminders?'] },
  { kind: 'component', emit: '_booking', patterns: ['booking\\w*', 'reservations?', 'appointments?'] },
  { kind: 'component', emit: '_datepicker', patterns: ['date ?pickers?', 'calendars?'] },
  { kind: 'component', emit: '_language', patterns: ['languages?', 'locale', 'translat\\w*'] },
  { kind: 'component', emit: '_keyboard', patterns: ['keyboards?'] },
  {
    kind: 'component',
    emit: '_a11y',
    patterns: ['voice ?over', 'talk ?back', 'screen ?readers?', 'accessibility', 'a11y'],
  },
  { kind: 'component', emit: '_darkmode', patterns: ['dark (?:mode|theme)', 'night mode'] },
  {
    kind: 'component',
    emit: '_offline',
    patterns: [
      'offline',
      '(?:airplane|flight|aeroplane) mode',
      'no (?:signal|connection|internet|network)',
      'without (?:internet|connection|signal|network)',
    ],
  },
  { kind: 'component', emit: '_share', patterns: ['shar(?:e|es|ed|ing)'] },
  {
    kind: 'component',
    emit: '_backnav',
    patterns: [
      '(?:hardware |android |system )?back button',
      'press(?:es|ing|ed)? back',
      '(?:go|goes|going|navigate|navigating) back',
      'swipe back',
      'back gesture',
    ],
  },
  { kind: 'component', emit: '_coupon', patterns: ['coupons?', 'promo\\w*', 'discount codes?', 'vouchers?'] },
  { kind: 'component', emit: '_giftcard', patterns: ['gift ?cards?'] },
  {
    kind: 'component',
    emit: '_pagination',
    patterns: ['infinite scroll\\w*', 'load(?:s|ing)? more', 'pagination', 'next page'],
  },
  // Terms: synonyms without a gate.
  { kind: 'term', emit: '_yearly', patterns: ['annual\\w*', 'yearly', 'per year'] },
  { kind: 'term', emit: '_charge', patterns: ['charg(?:e|ed|es|ing)', 'transactions?', 'billed', 'billing'] },
  { kind: 'term', emit: '_rounding', patterns: ['floating point', 'rounding', 'decimals'] },
  { kind: 'term', emit: '_total', patterns: ['(?:sub)?totals?'] },
  { kind: 'term', emit: '_badge', patterns: ['badges?', 'counters?', 'unread counts?'] },
  { kind: 'term', emit: '_dst', patterns: ['daylight sav\\w*(?: time)?', 'dst', '(?:clock|time) change'] },
  { kind: 'term', emit: '_hour', patterns: ['(?:an?|one) hour', 'hours?'] },
  { kind: 'term', emit: '_nextmonth', patterns: ['(?:next|following) month'] },
  { kind: 'term', emit: '_select', patterns: ['pick\\w*', 'select\\w*', 'choos\\w*', 'chose'] },
  {
    kind: 'term',
    emit: '_input',
    patterns: ['(?:text |input )?fields?', 'inputs?', '(?:message|text|input) ?box(?:es)?'],
  },
  { kind: 'term', emit: '_button', patterns: ['buttons?', 'btns?', 'icons?'] },
  { kind: 'term', emit: '_click', patterns: ['click\\w*', 'tap\\w*', 'press(?:es|ed|ing)?', 'hit(?:ting)?'] },
  { kind: 'term', emit: '_email', patterns: ['e-?mails?', 'mails?'] },
  { kind: 'term', emit: '_screen', patterns: ['screens?', 'pages?', 'views?'] },
  {
    kind: 'term',
    emit: '_restart',
    patterns: [
      'restart\\w*',
      'relaunch\\w*',
      'reopen\\w*',
      '(?:close|closing|kill|killing|quit) (?:the |my )?app',
    ],
  },
  { kind: 'term', emit: '_item', patterns: ['items?', 'products?', 'entries', 'entry'] },
  { kind: 'term', emit: '_remove', patterns: ['remov\\w*', 'delet\\w*'] },
  {
    kind: 'term',
    emit: '_photo',
    patterns: ['photos?', 'pictures?', 'pics?', 'images?', 'imgs?', 'thumbnails?'],
  },
  { kind: 'term', emit: '_message', patterns: ['messages?', 'msgs?'] },
  { kind: 'term', emit: '_currency', patterns: ['[$€£¥]', 'usd', 'eur', 'gbp', 'euros?', 'dollars?'] },
];

interface CompiledEntry {
  readonly pattern: RegExp;
  readonly replacement: string;
}

const COMPILED_VOCABULARY: readonly CompiledEntry[] = VOCABULARY.map((entry) => ({
  // Currency symbols are not word characters, so \b cannot frame them.
  pattern: new RegExp(`(?<![a-z0-9_])(?:${entry.patterns.join('|')})(?![a-z0-9_])`, 'g'),
  replacement: ` ${entry.emit} `,
}));

const CONCEPT_KINDS: ReadonlyMap<string, ConceptKind> = new Map(
  VOCABULARY.flatMap((entry) => entry.emit.split(' ').map((concept) => [concept, entry.kind] as const)),
);

/** The kind of a concept token (`_crash` → symptom), or undefined for a plain word. */
export function conceptKind(token: string): ConceptKind | undefined {
  return CONCEPT_KINDS.get(token);
}

const MAX_SIMILARITY_TEXT_LENGTH = 20_000;

const FRAME_LINE = /^\s*(?:at\s+\S.*|[\w$.<>/]*@(?:\S+:\d+(?::\d+)?|\[native code\]))\s*$/;
const URL_PATTERN = /\b(?:https?|wss?|file):\/\/[^\s'"<>()]+/gi;

/** The features a report contributes to the index. */
export function extractFeatures(text: string): ReportFeatures {
  const words = normalizeWords(text);
  const grams: string[] = [];
  const symptoms = new Set<string>();
  const components = new Set<string>();
  for (const word of words) {
    const kind = CONCEPT_KINDS.get(word);
    if (kind === 'symptom') symptoms.add(word);
    else if (kind === 'component') components.add(word);
    if (kind !== undefined) continue; // concepts match exactly in the word channel
    const padded = ` ${word} `;
    for (let i = 0; i + 3 <= padded.length; i++) grams.push(padded.slice(i, i + 3));
  }
  return { words, grams, symptoms, components };
}

/**
 * Multiplies the text score when two reports name symptoms (or components) and share none:
 * "notifications not arriving" and "notifications arriving twice" share almost every word but
 * are different bugs, as are "crashes when opening Settings" and "... opening Notifications".
 * A report that names no symptom (or component) is not penalised for it.
 */
export function mismatchPenalty(
  a: Pick<ReportFeatures, 'symptoms' | 'components'>,
  b: Pick<ReportFeatures, 'symptoms' | 'components'>,
  factors: Pick<Required<SimilarityIndexOptions>, 'symptomMismatchFactor' | 'componentMismatchFactor'> = {
    symptomMismatchFactor: SYMPTOM_MISMATCH_FACTOR,
    componentMismatchFactor: COMPONENT_MISMATCH_FACTOR,
  },
): number {
  let factor = 1;
  if (disjoint(a.symptoms, b.symptoms)) factor *= factors.symptomMismatchFactor;
  if (disjoint(a.components, b.components)) factor *= factors.componentMismatchFactor;
  return factor;
}

/** Symptoms that mean "it fails": a report saying only "it fails with an error" agrees with each. */
const FAILURE_SYMPTOMS: ReadonlySet<string> = new Set([
  '_error',
  '_crash',
  '_freeze',
  '_noop',
  '_noload',
  '_loading',
  '_missing',
  '_invalid',
  '_noplay',
  '_loop',
]);

function disjoint(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size === 0 || b.size === 0) return false;
  for (const value of a) if (b.has(value)) return false;
  if (a.has('_error') && [...b].some((symptom) => FAILURE_SYMPTOMS.has(symptom))) return false;
  if (b.has('_error') && [...a].some((symptom) => FAILURE_SYMPTOMS.has(symptom))) return false;
  return true;
}

/** Frames out, accents folded, lower case, URLs reduced to their path words, meaningful numbers marked. */
function prepareText(text: string): string {
  return (
    text
      // A bug's gist is in its first lines; the cap bounds the work on megabyte-sized reports.
      .slice(0, MAX_SIMILARITY_TEXT_LENGTH)
      .split(/\r?\n/)
      .filter((line) => !FRAME_LINE.test(line))
      .join('\n')
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(URL_PATTERN, (url) => ` ${urlWords(url)} `)
      .replace(/[’']/g, '')
      // Number shapes that mean something: durations and float artefacts ("19.999999").
      .replace(/\b\d+ ?(?:h|hrs?|hours?)\b/g, ' an hour ')
      .replace(/\b\d+[.,]\d{4,}\b/g, ' _rounding ')
  );
}

/**
 * The words two reports have in common, as a person would read them: vocabulary concepts by name
 * (`crash`, `checkout`: "goes white" and "crashes" are both `crash`) and plain words as `b` spells
 * them, in `b`'s order, at most `max`. This is what the similarity score is made of, so a
 * maintainer can judge a text match ("in common: checkout, pay, crash") rather than trust a number.
 */
export function listSharedTerms(a: string, b: string, max = 8): string[] {
  const inA = new Set(normalizeWords(a));
  const spelled = new Map<string, string>();
  for (const raw of prepareText(b).split(/[^a-z0-9_]+/)) {
    if (raw.length < 2 || raw.startsWith('_') || /\d/.test(raw)) continue;
    const token = NEGATIONS.has(raw) ? 'not' : stem(raw);
    if (!spelled.has(token)) spelled.set(token, raw);
  }
  const shared: string[] = [];
  const seen = new Set<string>();
  for (const token of normalizeWords(b)) {
    if (!inA.has(token) || seen.has(token)) continue;
    seen.add(token);
    const label = token.startsWith('_') ? conceptLabel(token) : (spelled.get(token) ?? token);
    if (!shared.includes(label)) shared.push(label);
    if (shared.length >= max) break;
  }
  return shared;
}

/** Concepts whose token is not a word a reporter would recognise. */
const CONCEPT_LABELS: Readonly<Record<string, string>> = {
  _a11y: 'accessibility',
  _applepay: 'Apple Pay',
  _backnav: 'back button',
  _darkmode: 'dark mode',
  _datepicker: 'date picker',
  _dst: 'daylight saving',
  _giftcard: 'gift card',
  _googlepay: 'Google Pay',
  _nextmonth: 'next month',
  _noload: 'does not load',
  _noop: 'does nothing',
  _noplay: 'does not play',
  _nosound: 'no sound',
  _notvisible: 'not visible',
  _otp: 'one-time code',
  _untranslated: 'untranslated',
};

/** A vocabulary concept as a person reads it: `_noop` → "does nothing", `_crash` → "crash". */
export function conceptLabel(token: string): string {
  return CONCEPT_LABELS[token] ?? token.replace(/^_/, '');
}

/** The report as word and concept tokens: see the module comment for each step. */
export function normalizeWords(text: string): string[] {
  let normalized = prepareText(text);
  for (const { pattern, replacement } of COMPILED_VOCABULARY)
    normalized = normalized.replace(pattern, replacement);

  const words: string[] = [];
  for (const raw of normalized.split(/[^a-z0-9_]+/)) {
    if (raw === '') continue;
    if (raw.startsWith('_')) {
      if (CONCEPT_KINDS.has(raw)) words.push(raw);
      continue;
    }
    if (/\d/.test(raw)) continue; // numbers, versions, ids, hashes
    if (NEGATIONS.has(raw)) {
      words.push('not');
      continue;
    }
    if (raw.length < 2 || STOPWORDS.has(raw)) continue;
    words.push(stem(raw));
  }
  return words;
}

/** Only the path words of a URL: hosts, ids, query strings and file hashes vary per report. */
function urlWords(url: string): string {
  const path = url.replace(/^[a-z][\w+.-]*:\/\/[^/]*/i, '').replace(/[?#].*$/, '');
  return path
    .split(/[/._-]+/)
    .filter(
      (part) => part.length > 1 && !/\d/.test(part) && !/^(?:js|css|static|assets|api|www|html?)$/.test(part),
    )
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
  refresh(
    liveDocs: number,
    docs: readonly (StoredDoc | undefined)[],
    pick: (doc: StoredDoc) => DocTerms,
  ): void {
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

const NO_TERMS: DocTerms = { terms: new Int32Array(0), tfs: new Float64Array(0) };

interface QueryVector {
  readonly terms: number[];
  readonly weights: number[];
  readonly norm: number;
}

interface StoredDoc {
  readonly id: string;
  readonly words: DocTerms;
  readonly grams: DocTerms;
  readonly symptoms: ReadonlySet<string>;
  readonly components: ReadonlySet<string>;
}

/**
 * IDF stops growing for words rarer than about 1 in 300 bugs. Beyond that, rarer does not mean
 * more telling: uncapped, a word seen in one report weighs ln(N) and grows with the index, so the
 * same two reports scored 0.1 lower in a 10,000-bug index than in an 84-bug one and the
 * threshold would depend on how many bugs are open. With the cap the labeled set scores the same
 * at 84, 1,084 and 10,084 stored bugs (bench/duplicates-bench.ts).
 */
const MAX_IDF = 6;

/** Trigrams can raise a score (typos in plain words) but never lower it (concept-only reports). */
function blendChannels(words: number, grams: number, wordWeight: number): number {
  return Math.max(words, wordWeight * words + (1 - wordWeight) * grams);
}

function idfOf(documents: number, df: number): number {
  return Math.min(Math.log((1 + documents) / (1 + df)) + 1, MAX_IDF);
}

function countTokens(tokens: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
  return counts;
}

class TfIdfIndex<M> implements SimilarityIndex<M> {
  /** With all the weight on words the trigram channel is not built at all. */
  private readonly usesGrams: boolean;

  constructor(private readonly settings: Required<SimilarityIndexOptions>) {
    this.usesGrams = settings.wordWeight < 1;
  }

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
      grams: this.usesGrams ? this.grams.addDocument(slot, features.grams) : NO_TERMS,
      symptoms: features.symptoms,
      components: features.components,
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
    if (this.usesGrams) this.grams.removeDocument(doc.grams);
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
    const { wordWeight } = this.settings;
    this.words.accumulate(this.words.weighQuery(features.words, this.size), this.alive, 1, scores);
    if (this.usesGrams) {
      const grams = new Float64Array(this.docs.length);
      this.grams.accumulate(this.grams.weighQuery(features.grams, this.size), this.alive, 1, grams);
      for (let slot = 0; slot < scores.length; slot++)
        scores[slot] = blendChannels(scores[slot]!, grams[slot]!, wordWeight);
    }

    const matches: SimilarityMatch<M>[] = [];
    for (let slot = 0; slot < scores.length; slot++) {
      const raw = scores[slot]!;
      // The penalty only lowers a score, so a raw score under the threshold can be dropped early.
      if (raw <= 0 || raw < threshold) continue;
      const doc = this.docs[slot];
      if (!doc) continue;
      const score = raw * mismatchPenalty(features, doc, this.settings);
      if (score < threshold) continue;
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
    const grams = this.usesGrams
      ? this.grams.cosine(this.grams.weighQuery(features.grams, this.size), doc.grams, slot)
      : 0;
    const blended = this.usesGrams ? blendChannels(words, grams, this.settings.wordWeight) : words;
    return Math.min(1, blended * mismatchPenalty(features, doc, this.settings));
  }

  private refresh(): void {
    if (!this.stale) return;
    const alive = new Uint8Array(this.docs.length);
    this.docs.forEach((doc, slot) => {
      if (doc) alive[slot] = 1;
    });
    this.alive = alive;
    this.words.refresh(this.size, this.docs, (doc) => doc.words);
    if (this.usesGrams) this.grams.refresh(this.size, this.docs, (doc) => doc.grams);
    this.stale = false;
  }
}
