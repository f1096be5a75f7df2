import type { FixReproduction } from '../jobs/job-schemas.js';
import type { OutgoingMessage } from '../ports/chat-platform.js';
import type { BugReportDetails } from './bug.js';
import {
  clipText,
  EMBED_LIMITS,
  pullRequestLabel,
  toFencedExcerpt,
  toSafeLine,
  toSafeUrl,
} from './bug-card.js';
import type { FixAssessment } from './fix-pull-request.js';

/**
 * What a fix says in its bug's thread (or where it was asked for): plain Discord text, every
 * untrusted part (names, the agent's summary, test paths) escaped or fenced, never a mention
 * (the chat adapter sends `allowed_mentions: { parse: [] }` too). Every one of them carries the
 * month's spend on fixes, so the cost of asking is never out of sight.
 */

export interface FixDraftedNote {
  readonly pullRequestUrl: string;
  readonly assessment: FixAssessment;
  readonly changedFiles: number;
  readonly costUsd: number;
  /** `describeMonthSpend`, or undefined when no budget is kept. */
  readonly spend?: string;
  /** The repository refused a draft: the PR is a normal one that says it is not ready. */
  readonly draftRefused?: boolean;
  /** The Linear issue the pull request could not be linked on (Linear failed): said, not hidden. */
  readonly issueLinkFailed?: string;
}

export function renderFixDraftedNote(note: FixDraftedNote): OutgoingMessage {
  const url = toSafeUrl(note.pullRequestUrl);
  const head = url ? `Fix drafted: ${pullRequestLabel(url)} <${url}>` : 'Fix drafted.';
  const verdict = note.assessment.ready
    ? "Proven: the agent's test failed before the fix and passes after it, and the checks pass. Ready for review."
    : `${note.draftRefused ? 'Not ready for review (this repository refuses drafts, so the pull request says so in its title)' : 'Opened as a draft'}, because:\n${note.assessment.gaps.map((gap) => `- ${toSafeLine(gap, 200)}`).join('\n')}`;
  const facts = `${note.changedFiles} file(s) changed, $${note.costUsd.toFixed(2)} of model usage.`;
  const link = note.issueLinkFailed
    ? `Linear did not take the link, so ${toSafeLine(note.issueLinkFailed, 40)} does not show this pull request yet; add it by hand if wanted.`
    : null;
  return finish([head, verdict, facts, link, spendLine(note.spend)]);
}

export interface NotReproducedNote {
  readonly reproduction: FixReproduction;
  /** The agent's own account; untrusted. */
  readonly summary: string;
  readonly question: string;
  readonly spend?: string;
}

/**
 * The agent could not show the bug with a test: what it tried (its tests, its summary, fenced),
 * and the one question for the reporter that would help most.
 */
export function renderNotReproducedNote(note: NotReproducedNote): OutgoingMessage {
  const what =
    note.reproduction.status === 'no_test'
      ? 'bugbot could not reproduce this bug: the agent wrote no test that shows it.'
      : "bugbot could not reproduce this bug: the agent's tests pass on the current code too, so they do not show the bug.";
  const tests =
    note.reproduction.tests.length > 0
      ? `Tests it tried: ${note.reproduction.tests
          .slice(0, 5)
          .map((path) => `\`${clipText(path.replace(/[`\s]+/g, ''), 120)}\``)
          .join(
            ', ',
          )}${note.reproduction.tests.length > 5 ? ` and ${note.reproduction.tests.length - 5} more` : ''}`
      : null;
  const summary = note.summary.trim() ? toFencedExcerpt(note.summary, 700, 12).fenced : null;
  return finish([
    what,
    tests,
    summary ? `What the agent says:\n${summary}` : null,
    `**To the reporter:** ${note.question}`,
    spendLine(note.spend),
  ]);
}

export function renderFixRequestedNote(by: string, spend?: string): OutgoingMessage {
  return finish([
    `Fix requested by ${toSafeLine(by, 80)}. bugbot is drafting a pull request; the result will be posted here.`,
    spendLine(spend),
  ]);
}

/** A failure, rejection or "nothing changed" note, with the month's spend under it. */
export function withSpend(message: OutgoingMessage, spend?: string): OutgoingMessage {
  return finish([message.content ?? '', spendLine(spend)]);
}

function spendLine(spend: string | undefined): string | null {
  return spend ? `_Budget: ${spend}._` : null;
}

function finish(parts: readonly (string | null)[]): OutgoingMessage {
  return { content: clipText(parts.filter(Boolean).join('\n'), EMBED_LIMITS.content) };
}

/** What the report left out, most useful first, and how to ask for it. */
const QUESTIONS: readonly {
  readonly missing: (context: ReporterContext) => boolean;
  readonly ask: string;
}[] = [
  {
    missing: (context) => !hasSteps(context.description),
    ask: 'What exactly did you do, step by step, right before it went wrong (which page, what you clicked or typed)?',
  },
  {
    missing: (context) => !context.report?.url && !/https?:\/\//.test(context.description),
    ask: 'On which page did it happen? The address (URL) from the browser bar would help most.',
  },
  {
    missing: (context) => !context.report?.consoleLogs,
    ask: 'Could you open the browser console (F12 → Console), do it again, and paste the red errors you see?',
  },
  {
    missing: (context) => !context.report?.appVersion,
    ask: 'Which version of the app were you on (Settings → About), and does it still happen after a reload?',
  },
  {
    missing: (context) => !context.report?.deviceInfo,
    ask: 'Which browser and device were you using (for example Safari on an iPhone, Chrome on Windows)?',
  },
];

export interface ReporterContext {
  readonly description: string;
  readonly report?: BugReportDetails;
}

/**
 * The one question that would help most, derived from what the report is missing: steps first
 * (nothing reproduces without them), then the page, the console errors, the app version, the
 * browser. With all of them there, ask what differs from a working case.
 */
export function chooseReporterQuestion(context: ReporterContext): string {
  const found = QUESTIONS.find((question) => question.missing(context));
  return (
    found?.ask ??
    'Does it happen every time, or only sometimes? If only sometimes, what is different when it does (account, cart contents, time of day)?'
  );
}

/** Numbered or arrowed steps, or enough words of narrative to follow. */
function hasSteps(description: string): boolean {
  if (/(^|\n)\s*(\d+[.)]|[-*•])\s+\S/.test(description) && description.split('\n').length >= 2) return true;
  if (/→|->|\bthen\b|\bafter\b|\bwhen i\b|\bsteps?\b/i.test(description) && description.length >= 60)
    return true;
  return description.trim().split(/\s+/).length >= 40;
}
