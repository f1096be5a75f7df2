import type { ChatHistoryMessage } from '../ports/chat-platform.js';
import type { TrackerIssue } from '../ports/issue-tracker.js';
import type { SessionInsights, SessionRecording } from '../ports/session-replay.js';
import { formatDuration } from './recordings.js';
import { fenceUntrusted, toPlainLine, truncate } from './untrusted-text.js';

/**
 * The context packet: everything bugbot could gather about a bug, rendered as one Markdown
 * comment on the tracker issue. Pure: the use case gathers, this only formats, so the output is
 * pinned by golden files.
 */

export type Gathered<T> =
  | { readonly status: 'ok'; readonly value: T }
  /** Nothing to look up (no session id, no e-mail): not a failure. */
  | { readonly status: 'none'; readonly reason: string }
  /** The source failed; the packet says what is missing instead of failing the job. */
  | { readonly status: 'unavailable'; readonly reason: string };

export interface ReplayContext {
  readonly lookedUpBy:
    | { readonly kind: 'session'; readonly sessionId: string }
    | { readonly kind: 'email'; readonly email: string };
  readonly recordings: readonly SessionRecording[];
  readonly insights?: SessionInsights;
  /** Set when the insights query alone failed. */
  readonly insightsUnavailable?: string;
}

export interface ContextPacket {
  readonly issue: Pick<TrackerIssue, 'identifier' | 'title' | 'url'>;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly source: 'slash' | 'message';
  readonly discordUrl?: string;
  readonly instructions?: string;
  readonly reportedMessage?: {
    readonly authorName: string;
    readonly content: string;
    readonly timestamp: string;
  };
  readonly thread: Gathered<readonly ChatHistoryMessage[]>;
  readonly replay: Gathered<ReplayContext>;
  /** Set when the asker may not look people up: said in the answer as well as in the packet. */
  readonly replayRefusal?: string;
}

const MAX_THREAD_MESSAGES = 20;
const MAX_MESSAGE_CHARS = 600;
const MAX_RECORDINGS = 5;
const MAX_EXCEPTIONS = 10;
const MAX_RAGE_CLICKS = 10;
const MAX_PAGES = 10;

export function renderContextPacket(packet: ContextPacket): string {
  const sections = [
    `## bugbot context for ${packet.issue.identifier}`,
    renderRequest(packet),
    renderReportedMessage(packet),
    renderThread(packet.thread),
    renderReplay(packet.replay),
    renderMissing(packet),
    '_Reported text above is quoted as data, exactly as written; it was not checked._',
  ];
  return `${sections.filter((section) => section.length > 0).join('\n\n')}\n`;
}

function renderRequest(packet: ContextPacket): string {
  const via =
    packet.source === 'message' ? 'the "Contextualize bug" message command' : '`/bugbot contextualize`';
  const lines = [
    `Requested by **${toPlainLine(packet.requestedBy, 80)}** via ${via} at ${packet.requestedAt}.`,
  ];
  if (packet.discordUrl) lines.push(`Discord: ${packet.discordUrl}`);
  if (packet.instructions)
    lines.push('', 'Notes from the requester:', fenceUntrusted(truncate(packet.instructions, 2000)));
  return lines.join('\n');
}

function renderReportedMessage(packet: ContextPacket): string {
  const message = packet.reportedMessage;
  if (!message) return '';
  return [
    `### Reported message`,
    `From **${toPlainLine(message.authorName, 80)}** at ${message.timestamp}:`,
    fenceUntrusted(truncate(message.content, 4000)),
  ].join('\n');
}

/**
 * Discord hands other people's messages back with empty text, embeds and attachments when the
 * bot lacks the privileged Message Content intent (Message Resource, "Message Structure"). A
 * conversation whose every human message is blank in that way is read as "text withheld", not
 * quoted as blanks.
 */
export function isThreadTextWithheld(messages: readonly ChatHistoryMessage[]): boolean {
  const human = messages.filter((message) => !message.isBot);
  return human.length > 0 && human.every(isBlank);
}

function isBlank(message: ChatHistoryMessage): boolean {
  return message.content.trim().length === 0 && !message.attachments && !message.embeds;
}

const WITHHELD_NOTE =
  "⚠️ Discord returned these messages without their text: bugbot's application lacks the Message Content intent (developer portal → Bot → Privileged Gateway Intents; see bugbot's README, Discord set-up).";

function renderThread(thread: ContextPacket['thread']): string {
  const heading = '### Discord conversation';
  if (thread.status !== 'ok') return `${heading}\n${describeGap(thread)}`;
  if (isThreadTextWithheld(thread.value)) {
    const human = thread.value.filter((message) => !message.isBot).length;
    return `${heading}\n${human} message(s) from people, ${WITHHELD_NOTE}`;
  }
  const messages = thread.value.filter((message) => message.content.trim().length > 0);
  if (messages.length === 0) return `${heading}\nNo messages with text.`;
  const shown = messages.slice(-MAX_THREAD_MESSAGES);
  const omitted = messages.length - shown.length;
  const transcript = shown
    .map((message) => {
      const who = `${toPlainLine(message.authorName, 40)}${message.isBot ? ' (bot)' : ''}`;
      return `[${message.timestamp}] ${who}: ${truncate(message.content.replace(/\s*\n\s*/g, ' ⏎ '), MAX_MESSAGE_CHARS)}`;
    })
    .join('\n');
  const note = omitted > 0 ? `\n_${omitted} earlier message(s) not shown._` : '';
  return `${heading}\nLast ${shown.length} message(s), oldest first:\n${fenceUntrusted(transcript)}${note}`;
}

function renderReplay(replay: ContextPacket['replay']): string {
  const heading = '### PostHog session replay';
  if (replay.status !== 'ok') return `${heading}\n${describeGap(replay)}`;
  const { lookedUpBy, recordings, insights, insightsUnavailable } = replay.value;
  const lines = [
    heading,
    lookedUpBy.kind === 'session'
      ? `Session \`${toPlainLine(lookedUpBy.sessionId, 64)}\` referenced in the report.`
      : `Recent recordings of the person with e-mail ${toPlainLine(lookedUpBy.email, 120)}, most relevant first.`,
  ];
  if (recordings.length === 0) {
    lines.push('No recordings found.');
  } else {
    lines.push(
      '',
      '| Recording | Started | Duration | Active | Console errors | Start URL |',
      '|---|---|---|---|---|---|',
    );
    for (const recording of recordings.slice(0, MAX_RECORDINGS)) {
      lines.push(
        `| [${toPlainLine(recording.id, 40)}](${recording.replayUrl}) | ${recording.startTime} | ${formatDuration(recording.durationSeconds)} | ${
          recording.activeSeconds === undefined ? '—' : formatDuration(recording.activeSeconds)
        } | ${recording.consoleErrorCount} | ${recording.startUrl ? toPlainLine(recording.startUrl, 120) : '—'} |`,
      );
    }
  }
  if (insightsUnavailable) lines.push('', `Session events unavailable: ${insightsUnavailable}.`);
  if (insights) lines.push('', renderInsights(insights));
  return lines.join('\n');
}

function renderInsights(insights: SessionInsights): string {
  const lines = [`#### In session \`${toPlainLine(insights.sessionId, 64)}\``];
  if (insights.exceptions.length === 0) {
    lines.push('No exceptions captured.');
  } else {
    lines.push(`Exceptions (${insights.exceptions.length}):`);
    const text = insights.exceptions
      .slice(0, MAX_EXCEPTIONS)
      .map(
        (exception) =>
          `[${exception.timestamp}] ${exception.type}: ${truncate(exception.message, 300)}${exception.url ? ` @ ${exception.url}` : ''}`,
      )
      .join('\n');
    lines.push(fenceUntrusted(text));
  }
  if (insights.rageClicks.length === 0) {
    lines.push('No rage clicks.');
  } else {
    lines.push(`Rage clicks (${insights.rageClicks.length}):`);
    for (const click of insights.rageClicks.slice(0, MAX_RAGE_CLICKS)) {
      const where = [
        click.element && `on \`${toPlainLine(click.element, 80)}\``,
        click.url && `at ${toPlainLine(click.url, 160)}`,
      ]
        .filter(Boolean)
        .join(' ');
      lines.push(`- ${click.timestamp}${where ? ` ${where}` : ''}`);
    }
  }
  if (insights.pagesVisited.length > 0) {
    lines.push(
      `Pages visited: ${insights.pagesVisited
        .slice(0, MAX_PAGES)
        .map((page) => toPlainLine(page, 160))
        .join(' → ')}`,
    );
  }
  return lines.join('\n');
}

function renderMissing(packet: ContextPacket): string {
  const gaps: string[] = [];
  if (packet.thread.status === 'unavailable') gaps.push(`the Discord conversation (${packet.thread.reason})`);
  if (packet.thread.status === 'ok' && isThreadTextWithheld(packet.thread.value))
    gaps.push('the text of the Discord conversation (Message Content intent missing)');
  if (packet.replay.status === 'unavailable') gaps.push(`PostHog session replay (${packet.replay.reason})`);
  if (packet.replay.status === 'ok' && packet.replay.value.insightsUnavailable)
    gaps.push('PostHog session events');
  if (gaps.length === 0) return '';
  return `> ⚠️ This packet is incomplete: ${gaps.join('; ')} could not be fetched. Run contextualize again to retry.`;
}

function describeGap(gathered: { status: 'none' | 'unavailable'; reason: string }): string {
  return gathered.status === 'none'
    ? `Not looked up: ${gathered.reason}.`
    : `⚠️ Unavailable: ${gathered.reason}.`;
}

/**
 * The short Discord answer once the comment is on the issue. It is posted in the channel, where
 * anyone may read it, so it says nothing about what PostHog holds: not whether an e-mail address
 * belongs to a person, nor how many recordings or exceptions they have. That stays in the
 * comment, on the tracker, where only the team reads it.
 */
export function summarizeContextPacket(packet: ContextPacket): string {
  const parts: string[] = [];
  if (packet.thread.status === 'ok' && !isThreadTextWithheld(packet.thread.value))
    parts.push(`${packet.thread.value.length} message(s)`);
  const missing = [
    packet.thread.status === 'unavailable' ? 'Discord history' : null,
    packet.thread.status === 'ok' && isThreadTextWithheld(packet.thread.value)
      ? 'the text of Discord messages (the bot needs the Message Content intent)'
      : null,
    packet.replay.status === 'unavailable' ? 'PostHog' : null,
  ].filter((item): item is string => item !== null);
  const gathered = parts.length > 0 ? ` (${parts.join('; ')})` : '';
  const gap = missing.length > 0 ? ` Missing: ${missing.join(', ')}.` : '';
  const refused = packet.replayRefusal ? ` ${packet.replayRefusal}` : '';
  return `Context added to **${packet.issue.identifier}**${gathered}: ${packet.issue.url}${gap}${refused}`;
}
