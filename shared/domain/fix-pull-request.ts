import type { FixReproduction, FixResult, FixRisk } from '../jobs/job-schemas.js';
import { toPlainLine, truncate } from './untrusted-text.js';

/**
 * What a fix's pull request says, and whether it is ready for review (DESIGN.md "Fix runner").
 *
 * Only a proven fix — the agent's own tests failed on the base tree (`reproduced`) and pass on
 * the final tree — whose checks pass and that adds no risks becomes a pull request ready for
 * review. Everything else is a draft whose body says plainly what is not proven, with the risks
 * first.
 *
 * Every piece of text the runner reports came from a model steered by a report anyone could
 * write, and every path came from the agent: none of it may render as Markdown that could pose
 * as the pull request's own words (a file named ``src/a` **Security review: APPROVED** `.js``).
 * Untrusted text therefore only ever appears inside fenced code blocks whose fence is longer than
 * any backtick run inside, or inside code spans built the same way on a single line; the rest of
 * the body is ours. `test/unit/fix-pull-request.test.ts` renders the body with a CommonMark/GFM
 * renderer (markdown-it, HTML and autolinks on, as GitHub renders) and checks that no hostile
 * marker escapes a code element.
 */

export interface FixPullRequestInput {
  readonly jobId: string;
  readonly task: { readonly title: string; readonly url?: string };
  readonly result: FixResult;
  /** Who asked, as Discord shows them (untrusted: rendered as code). */
  readonly requestedBy: string;
  readonly issue?: { readonly identifier: string; readonly url: string };
  readonly bug?: { readonly bugId: string; readonly reportCount: number };
  readonly baseBranch: string;
  readonly maxBudgetUsd: number;
  /** This month's spend on fixes, for the reader's sense of cost. */
  readonly monthSpend?: MonthSpendView;
}

export interface MonthSpendView {
  readonly spentUsd: number;
  readonly budgetUsd: number;
}

/** Why a fix is not proven or not ready, in plain words (also used in the thread). */
export interface FixAssessment {
  readonly proven: boolean;
  readonly checksPassed: boolean;
  readonly ready: boolean;
  /** Empty when ready; otherwise what is missing, most important first. */
  readonly gaps: readonly string[];
}

export function assessFix(result: FixResult): FixAssessment {
  const gaps: string[] = [];
  const reproduction = result.reproduction;
  if (result.risks.length > 0)
    gaps.push(
      `${result.risks.length} risk${result.risks.length === 1 ? '' : 's'} the runner cannot judge (listed first)`,
    );
  if (!result.verify) {
    gaps.push('verify not run: no checks are configured, so nothing was run against the fix');
  } else if (!reproduction) {
    gaps.push('no reproduction: the runner did not report whether a test caught the bug');
  } else {
    gaps.push(...reproductionGaps(reproduction));
  }
  const checksPassed = result.verify?.exitCode === 0;
  if (result.verify && !checksPassed)
    gaps.push(`checks failed: the verify command exited ${describeExit(result.verify.exitCode)}`);
  const proven =
    reproduction?.status === 'reproduced' &&
    reproduction.after !== undefined &&
    reproduction.after.exitCode === 0;
  const ready = proven && checksPassed && result.risks.length === 0;
  return { proven, checksPassed, ready, gaps: ready ? [] : gaps };
}

function reproductionGaps(reproduction: FixReproduction): string[] {
  switch (reproduction.status) {
    case 'no_test':
      return ['no test: the agent wrote no test that shows the bug'];
    case 'not_reproduced':
      return [
        'the test did not fail before the fix: it passes on the unfixed code too, so it does not show the bug',
      ];
    case 'reproduced':
      if (!reproduction.after) return ['the test was not run after the fix'];
      if (reproduction.after.exitCode !== 0)
        return [`the test still fails after the fix (exit ${describeExit(reproduction.after.exitCode)})`];
      return [];
  }
}

export interface RenderedPullRequest {
  readonly title: string;
  readonly body: string;
  readonly draft: boolean;
}

/** GitHub's limit on a pull request body is 65,536 characters; keep well inside it. */
export const PULL_REQUEST_BODY_LIMIT = 60_000;

/** How much of each untrusted part is shown; a smaller set when the first does not fit. */
interface Caps {
  readonly summary: number;
  readonly outputTail: number;
  readonly listed: number;
  readonly item: number;
}
const CAPS: Caps = { summary: 4000, outputTail: 3000, listed: 50, item: 200 };
const SMALL_CAPS: Caps = { summary: 1000, outputTail: 500, listed: 10, item: 120 };

/**
 * `draftsSupported: false` when the repository refused a draft (some plans' private
 * repositories): the pull request is then a normal one whose title and first line say plainly
 * that it is not ready.
 */
export function renderFixPullRequest(
  input: FixPullRequestInput,
  options: { readonly draftsSupported?: boolean } = {},
): RenderedPullRequest {
  const rendered = renderWith(input, options.draftsSupported ?? true, CAPS);
  return rendered.body.length <= PULL_REQUEST_BODY_LIMIT
    ? rendered
    : renderWith(input, options.draftsSupported ?? true, SMALL_CAPS);
}

function renderWith(input: FixPullRequestInput, draftsSupported: boolean, caps: Caps): RenderedPullRequest {
  const assessment = assessFix(input.result);
  const draft = !assessment.ready;
  const plainTitle = toPlainLine(input.task.title, 200) || 'a reported bug';
  const title =
    draft && !draftsSupported ? `[Not ready for review] Fix: ${plainTitle}` : `Fix: ${plainTitle}`;
  const sections: string[] = [];
  if (draft && !draftsSupported) {
    sections.push(
      '> **Not ready for review.** This repository does not accept draft pull requests, so this one is opened as a normal pull request. Treat it as a draft: do not merge it until the points below are settled.',
    );
  }
  const { result } = input;
  if (result.risks.length > 0) sections.push(renderRisks(result.risks, caps));
  sections.push(renderVerdict(assessment));
  sections.push(renderReproduction(result, caps));
  sections.push(renderChecks(result, caps));
  sections.push(renderChanges(result, caps));
  sections.push(
    [
      '## What the agent says',
      fenceCode(truncate(result.summary.trim(), caps.summary) || '(no summary)'),
    ].join('\n\n'),
  );
  sections.push(renderAbout(input));
  return { title, body: sections.join('\n\n'), draft };
}

function renderRisks(risks: readonly FixRisk[], caps: Caps): string {
  const lines = risks
    .slice(0, caps.listed)
    .map(
      (risk) =>
        `${risk.kind}  ${shortLine(risk.path, caps)}${risk.line ? `:${risk.line}` : ''}  ${shortLine(risk.detail, caps)}`,
    );
  if (risks.length > caps.listed) lines.push(`… and ${risks.length - caps.listed} more`);
  return [
    '## ⚠️ Risks to review first',
    'The change adds front-end code the runner cannot judge (scripts, inline handlers, new origins, cookie or storage access, dynamic code, URL imports, new dependencies). Check each before anything else:',
    fenceCode(lines.join('\n')),
  ].join('\n\n');
}

function renderVerdict(assessment: FixAssessment): string {
  if (assessment.ready) {
    return [
      '## Verdict: proven',
      "The agent's test failed on the unfixed code and passes with the fix, the checks pass, and the runner found no risky additions. It is ready for review.",
    ].join('\n\n');
  }
  const head = assessment.proven ? '## Verdict: not ready for review' : '## Verdict: not proven — a draft';
  return [
    head,
    'This fix is not ready for review, because:',
    assessment.gaps.map((gap) => `- ${gap}`).join('\n'),
  ].join('\n\n');
}

function renderReproduction(result: FixResult, caps: Caps): string {
  const reproduction = result.reproduction;
  const lines = ['## Reproduction'];
  if (!reproduction) {
    lines.push(
      result.verify
        ? 'The runner did not report a reproduction for this fix.'
        : 'No reproduction: without a verify command the runner cannot run a test before and after the fix.',
    );
    return lines.join('\n\n');
  }
  const status: Record<FixReproduction['status'], string> = {
    reproduced: 'Reproduced: the tests the agent wrote fail on the unfixed code.',
    not_reproduced:
      'Not reproduced: the tests the agent wrote pass on the unfixed code too, so they do not catch the bug.',
    no_test: 'No test: the agent changed no test file.',
  };
  lines.push(status[reproduction.status]);
  if (reproduction.tests.length > 0) {
    lines.push(
      "The agent's tests (the runner ran the verify command on the base tree plus only these files, then on the final tree):",
      fenceCode(listPaths(reproduction.tests, caps)),
    );
  }
  if (reproduction.before) {
    lines.push(
      `**Before the fix** (must fail): exit ${describeExit(reproduction.before.exitCode)} ${reproduction.before.exitCode !== 0 ? '✅' : '❌'}`,
      fenceCode(tail(reproduction.before.outputTail, caps), 'text'),
    );
  }
  if (reproduction.after) {
    lines.push(
      `**After the fix** (must pass): exit ${describeExit(reproduction.after.exitCode)} ${reproduction.after.exitCode === 0 ? '✅' : '❌'}`,
      fenceCode(tail(reproduction.after.outputTail, caps), 'text'),
    );
  }
  return lines.join('\n\n');
}

function renderChecks(result: FixResult, caps: Caps): string {
  if (!result.verify) return '## Checks\n\nNo checks are configured for fixes, so none ran.';
  const passed = result.verify.exitCode === 0;
  return [
    '## Checks',
    `The verify command exited ${describeExit(result.verify.exitCode)} ${passed ? '✅' : '❌'}:`,
    fenceCode(`$ ${shortLine(result.verify.command, caps)}\n${tail(result.verify.outputTail, caps)}`, 'text'),
  ].join('\n\n');
}

function renderChanges(result: FixResult, caps: Caps): string {
  const files = result.changedFiles
    .slice(0, caps.listed)
    .map((file) => `${file.change.padEnd(8)}  ${shortLine(file.path, caps)}`);
  if (result.changedFiles.length > caps.listed)
    files.push(`… and ${result.changedFiles.length - caps.listed} more`);
  return [`## Changed files (${result.changedFiles.length})`, fenceCode(files.join('\n') || '(none)')].join(
    '\n\n',
  );
}

function renderAbout(input: FixPullRequestInput): string {
  const { result } = input;
  const lines = [
    '## About this pull request',
    `- Asked for in Discord by ${codeSpan(truncate(input.requestedBy, 100))}; fix job ${codeSpan(input.jobId)}.`,
    '- **The code was written by an AI** (Claude Code) from a bug report that anyone could have written. Review it as you would a stranger’s pull request. The runner only let it change allowed front-end paths and checked every changed path before pushing; it could not judge what the code does.',
  ];
  if (input.issue) lines.push(`- Issue: ${codeSpan(input.issue.identifier)} ${safeUrl(input.issue.url)}`);
  else if (input.task.url) lines.push(`- Reported at: ${safeUrl(input.task.url)}`);
  if (input.bug) lines.push(`- Bug: ${codeSpan(input.bug.bugId)} (${input.bug.reportCount} report(s))`);
  lines.push(
    `- Base: ${codeSpan(input.baseBranch)} at ${codeSpan(result.baseCommit ?? 'unknown')}; head ${codeSpan(result.headCommit ?? 'unknown')}.`,
  );
  const month = input.monthSpend
    ? ` Fixes this month so far: ${formatUsd(input.monthSpend.spentUsd)} of the ${formatUsd(input.monthSpend.budgetUsd)} budget.`
    : '';
  lines.push(
    `- Cost: ${formatUsd(result.costUsd)} of model usage (limit ${formatUsd(input.maxBudgetUsd)} per fix).${month}`,
  );
  lines.push('', '_Drafted by bugbot._');
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Markdown that untrusted text cannot escape

/**
 * A fenced code block longer than any backtick run in `text`, so no line inside can close it.
 * Control characters other than newline and tab are shown escaped (a carriage return could hide
 * a line on some renderers).
 */
export function fenceCode(text: string, info = 'text'): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is made visible
  const safe = text.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, escapeControl);
  const longestRun = Math.max(0, ...Array.from(safe.matchAll(/`+/g), (match) => match[0].length));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return `${fence}${info}\n${safe}\n${fence}`;
}

/**
 * An inline code span on one line: newlines would end the paragraph (and the span with it),
 * so they become visible `\n`; the delimiter is longer than any backtick run inside.
 */
export function codeSpan(text: string): string {
  const line = oneLine(text) || ' ';
  const longestRun = Math.max(0, ...Array.from(line.matchAll(/`+/g), (match) => match[0].length));
  const delimiter = '`'.repeat(longestRun + 1);
  const pad = line.startsWith('`') || line.endsWith('`') || line.startsWith(' ') ? ' ' : '';
  return `${delimiter}${pad}${line}${pad}${delimiter}`;
}

/** Backslash-escapes every ASCII punctuation character CommonMark could read as syntax. */
export function escapeInline(text: string): string {
  return oneLine(text).replace(/[!-/:-@[-`{-~]/g, (character) => `\\${character}`);
}

/** A path or short value on one line, control characters made visible. */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is made visible
  return text.replace(/\r\n|\r|\n/g, '\\n').replace(/[\u0000-\u001f\u007f]/g, escapeControl);
}

function escapeControl(character: string): string {
  if (character === '\t') return '\\t';
  if (character === '\n') return '\\n';
  return `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

function shortLine(text: string, caps: Caps): string {
  return truncate(oneLine(text), caps.item);
}

function listPaths(paths: readonly string[], caps: Caps): string {
  const shown = paths.slice(0, caps.listed).map((path) => shortLine(path, caps));
  if (paths.length > caps.listed) shown.push(`… and ${paths.length - caps.listed} more`);
  return shown.join('\n');
}

function tail(text: string, caps: Caps): string {
  const trimmed = text.trimEnd();
  return trimmed.length > caps.outputTail ? `…${trimmed.slice(-caps.outputTail)}` : trimmed || '(no output)';
}

/** Our own links only: an https URL, percent-encoding anything Markdown could read. */
function safeUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return codeSpan(raw);
    return `<${url.href.replace(/[<>\s`]/g, (character) => encodeURIComponent(character))}>`;
  } catch {
    return codeSpan(raw);
  }
}

export function describeExit(code: number | null | undefined): string {
  return code === null || code === undefined ? 'without a code (killed or timed out)' : String(code);
}

export function formatUsd(amount: number): string {
  return `$${amount.toFixed(2)}`;
}
