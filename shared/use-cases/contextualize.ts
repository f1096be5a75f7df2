import {
  type ContextPacket,
  type Gathered,
  type ReplayContext,
  renderContextPacket,
  summarizeContextPacket,
} from '../domain/context-packet.js';
import { describeFailure } from '../domain/describe-failure.js';
import { deterministicUuid } from '../domain/deterministic-id.js';
import { rankRecordings } from '../domain/recordings.js';
import { extractReferences, type References } from '../domain/references.js';
import { fenceUntrusted, toPlainLine } from '../domain/untrusted-text.js';
import type { DiscordCommandJob } from '../jobs/job-schemas.js';
import type { BugStore } from '../ports/bug-store.js';
import type { ChatHistoryMessage, ChatPlatform, OutgoingMessage } from '../ports/chat-platform.js';
import type { FixJobs } from '../ports/fix-jobs.js';
import type { IssueTracker, TrackerIssue } from '../ports/issue-tracker.js';
import type { SessionReplay } from '../ports/session-replay.js';

export interface ContextualizeDeps {
  readonly tracker: IssueTracker;
  readonly chat: ChatPlatform;
  readonly replay: SessionReplay;
  readonly store: BugStore;
  /** Per-person allowances, counted in the table as fixes are. */
  readonly allowances: Pick<FixJobs, 'consumeAllowance'>;
  readonly now: () => Date;
  readonly settings?: Partial<ContextualizeSettings>;
}

export interface ContextualizeSettings {
  /** How much of the conversation goes into the packet. */
  readonly threadMessageLimit: number;
  /** PostHog lists only 3 days unless given `date_from`; bugs are often reported later than that. */
  readonly replayLookbackDays: number;
  readonly recordingsListed: number;
  /**
   * Roles whose members may look people up in PostHog (by e-mail or session id). Empty: nobody.
   * Everyone else still gets the issue, the conversation and the packet, without session replay.
   */
  readonly peopleLookupRoleIds: readonly string[];
  /** Contextualize requests one person may make per hour. */
  readonly perUserPerHour: number;
}

const defaultSettings: ContextualizeSettings = {
  threadMessageLimit: 25,
  replayLookbackDays: 14,
  recordingsListed: 25,
  peopleLookupRoleIds: [],
  perUserPerHour: 20,
};

const LOOKUP_REFUSED = 'PostHog was not looked up: only members with a maintainer role may look people up.';

export type ContextualizeOutcome =
  | {
      readonly kind: 'done';
      readonly issue: Pick<TrackerIssue, 'id' | 'identifier' | 'url'>;
      readonly reply: OutgoingMessage;
    }
  /** Nothing to do (e.g. the referenced issue does not exist); the user is told why. */
  | { readonly kind: 'refused'; readonly reply: OutgoingMessage };

const COMMENT_STEP = 'context-comment';
const ALLOWANCE_STEP = 'allowance';

/**
 * Seed 000's contextualize: resolve the issue, gather the Discord conversation and PostHog
 * recordings at the same time, and comment the packet on the issue exactly once.
 *
 * Once-only rests on two things: the comment's id is derived from the job's idempotency key
 * (Linear refuses a second comment with the same id, and the adapter returns the first), and a
 * step record lets a redelivered job skip the gathering altogether.
 */
export async function contextualize(
  job: DiscordCommandJob,
  deps: ContextualizeDeps,
): Promise<ContextualizeOutcome> {
  const settings = { ...defaultSettings, ...deps.settings };
  const done = await deps.store.getStep(job.idempotencyKey, COMMENT_STEP);
  if (done) {
    const { identifier, url, id, summary } = done.result as Record<string, string>;
    return {
      kind: 'done',
      issue: { id: id ?? '', identifier: identifier ?? '', url: url ?? '' },
      reply: { content: summary ?? '' },
    };
  }

  if (!(await allow(job, deps, settings))) {
    return {
      kind: 'refused',
      reply: {
        content: `You have asked for context ${settings.perUserPerHour} times this hour, the most one person may; try again next hour.`,
      },
    };
  }

  const refs = extractReferences(requestText(job));
  const mayLookUp = job.interaction.member.roles.some((role) => settings.peopleLookupRoleIds.includes(role));
  const [issue, thread, replay] = await Promise.all([
    resolveIssue(job, refs, deps),
    gatherThread(job, deps, settings),
    mayLookUp
      ? gatherReplay(refs, deps, settings)
      : Promise.resolve<Gathered<ReplayContext>>({
          status: 'none',
          reason: 'the person who asked may not look people up in PostHog (maintainer roles only)',
        }),
  ]);
  if (issue.kind === 'refused') return { kind: 'refused', reply: { content: issue.message } };
  const asksForPeople = refs.emails.length > 0 || refs.posthogSessions.length > 0;

  const packet: ContextPacket = {
    issue: issue.issue,
    requestedBy: job.interaction.member.username,
    requestedAt: job.receivedAt,
    source: job.command.source,
    discordUrl: discordUrl(job),
    instructions: job.command.instructions,
    reportedMessage: job.command.targetMessage && {
      authorName: job.command.targetMessage.authorName,
      content: job.command.targetMessage.content,
      timestamp: job.command.targetMessage.timestamp,
    },
    thread,
    replay,
    ...(!mayLookUp && asksForPeople ? { replayRefusal: LOOKUP_REFUSED } : {}),
  };
  await deps.tracker.addComment({
    id: deterministicUuid('bugbot:context-comment', job.idempotencyKey),
    issueId: issue.issue.id,
    body: renderContextPacket(packet),
  });
  const summary = summarizeContextPacket(packet);
  await deps.store.recordStep({
    key: job.idempotencyKey,
    step: COMMENT_STEP,
    result: { id: issue.issue.id, identifier: issue.issue.identifier, url: issue.issue.url, summary },
    completedAt: deps.now().toISOString(),
  });
  return { kind: 'done', issue: issue.issue, reply: { content: summary } };
}

/**
 * One use of the person's hourly allowance per request: a redelivered job finds its step record
 * and spends nothing more.
 */
async function allow(
  job: DiscordCommandJob,
  deps: ContextualizeDeps,
  settings: ContextualizeSettings,
): Promise<boolean> {
  if (await deps.store.getStep(job.idempotencyKey, ALLOWANCE_STEP)) return true;
  const now = deps.now();
  const allowance = await deps.allowances.consumeAllowance({
    scope: 'contextualize',
    userId: job.interaction.member.userId,
    window: now.toISOString().slice(0, 13), // one-hour windows
    limit: settings.perUserPerHour,
    expiresAt: Math.floor(now.getTime() / 1000) + 2 * 3600,
  });
  if (!allowance.allowed) return false;
  await deps.store.recordStep({
    key: job.idempotencyKey,
    step: ALLOWANCE_STEP,
    result: {},
    completedAt: now.toISOString(),
  });
  return true;
}

/** The text a person gave us with the command: options and, for message commands, the message. */
function requestText(job: DiscordCommandJob): string {
  const { issue, repo, instructions, targetMessage } = job.command;
  return [issue, repo, instructions, targetMessage?.content].filter(Boolean).join('\n');
}

type ResolvedIssue = { kind: 'found'; issue: TrackerIssue } | { kind: 'refused'; message: string };

/**
 * A reference in the request wins; else the issue already mapped to this conversation; else a
 * new issue. The new issue's id is derived from the conversation, so two jobs racing in one
 * thread both ask Linear for the same id and end up on one issue, and the conditional mapping
 * write records it once.
 */
async function resolveIssue(
  job: DiscordCommandJob,
  refs: References,
  deps: ContextualizeDeps,
): Promise<ResolvedIssue> {
  const conversation = conversationKey(job);
  const reference = refs.linearIssues[0];
  if (reference) {
    const issue = await deps.tracker.getIssue(reference);
    if (!issue)
      return { kind: 'refused', message: `I couldn't find ${reference} in Linear, so I added nothing.` };
    if (conversation) await linkConversation(conversation, issue, deps);
    return { kind: 'found', issue };
  }

  if (conversation) {
    const link = await deps.store.getThreadIssue(conversation);
    if (link) {
      const issue = await deps.tracker.getIssue(link.issueId);
      if (issue) return { kind: 'found', issue };
      if (!link.identifier) {
        // Claimed for creation by an attempt that did not get to create it (a failure, or a
        // concurrent job still on its way): creating by the claimed id is idempotent.
        const created = await deps.tracker.createIssue({
          id: link.issueId,
          title: issueTitle(job),
          description: issueDescription(job),
        });
        return { kind: 'found', issue: created };
      }
      return {
        kind: 'refused',
        message:
          'The Linear issue this conversation was linked to no longer exists. Name an issue (e.g. `ENG-123`) to use instead.',
      };
    }
  }

  let issueId = deterministicUuid('bugbot:issue', conversation ?? `job:${job.idempotencyKey}`);
  if (conversation) {
    const claim = await deps.store.claimThreadIssue({
      threadId: conversation,
      issueId,
      createdAt: deps.now().toISOString(),
    });
    if (!claim.claimed) issueId = claim.existing.issueId;
  }
  const issue = await deps.tracker.createIssue({
    id: issueId,
    title: issueTitle(job),
    description: issueDescription(job),
  });
  return { kind: 'found', issue };
}

async function linkConversation(
  conversation: string,
  issue: TrackerIssue,
  deps: ContextualizeDeps,
): Promise<void> {
  await deps.store.claimThreadIssue({
    threadId: conversation,
    issueId: issue.id,
    identifier: issue.identifier,
    url: issue.url,
    createdAt: deps.now().toISOString(),
  });
}

/**
 * What "this conversation" is: the thread when the command ran in one; for a message command
 * outside a thread, that message; a plain slash command in a busy channel has no conversation
 * of its own (mapping the whole channel would pile unrelated bugs onto one issue).
 */
export function conversationKey(job: DiscordCommandJob): string | null {
  if (job.interaction.threadId) return job.interaction.threadId;
  const target = job.command.targetMessage;
  if (target) return `message:${target.channelId}:${target.id}`;
  return null;
}

function issueTitle(job: DiscordCommandJob): string {
  const source = job.command.targetMessage?.content || job.command.instructions || '';
  const firstLine = source.split('\n').find((line) => line.trim().length > 0) ?? '';
  const title = toPlainLine(firstLine, 80);
  return title.length >= 3
    ? title
    : `Bug reported in Discord by ${toPlainLine(job.interaction.member.username, 60)}`;
}

function issueDescription(job: DiscordCommandJob): string {
  const lines = [
    `Reported in Discord by **${toPlainLine(job.interaction.member.username, 80)}**: ${discordUrl(job)}`,
  ];
  const target = job.command.targetMessage;
  if (target)
    lines.push('', `Message from ${toPlainLine(target.authorName, 80)}:`, fenceUntrusted(target.content));
  lines.push('', '_Created by bugbot; the context packet follows as a comment._');
  return lines.join('\n');
}

function discordUrl(job: DiscordCommandJob): string {
  const guild = job.interaction.guildId ?? '@me';
  const target = job.command.targetMessage;
  if (target) return `https://discord.com/channels/${guild}/${target.channelId}/${target.id}`;
  return `https://discord.com/channels/${guild}/${job.interaction.threadId ?? job.interaction.channelId}`;
}

async function gatherThread(
  job: DiscordCommandJob,
  deps: ContextualizeDeps,
  settings: ContextualizeSettings,
): Promise<Gathered<readonly ChatHistoryMessage[]>> {
  const channelId =
    job.interaction.threadId ?? job.command.targetMessage?.channelId ?? job.interaction.channelId;
  try {
    return {
      status: 'ok',
      value: await deps.chat.fetchRecentMessages(channelId, settings.threadMessageLimit),
    };
  } catch (error) {
    return { status: 'unavailable', reason: describeFailure('Discord', error) };
  }
}

async function gatherReplay(
  refs: References,
  deps: ContextualizeDeps,
  settings: ContextualizeSettings,
): Promise<Gathered<ReplayContext>> {
  const sessionId = refs.posthogSessions[0];
  const email = refs.emails[0];
  try {
    if (sessionId) {
      const [recording, insights] = await Promise.allSettled([
        deps.replay.getRecording(sessionId),
        deps.replay.getSessionInsights(sessionId),
      ]);
      if (recording.status === 'rejected') throw recording.reason;
      return {
        status: 'ok',
        value: {
          lookedUpBy: { kind: 'session', sessionId },
          recordings: recording.value ? [recording.value] : [],
          ...(insights.status === 'fulfilled'
            ? { insights: insights.value }
            : { insightsUnavailable: describeFailure('PostHog', insights.reason) }),
        },
      };
    }
    if (email) {
      const person = await deps.replay.findPersonByEmail(email);
      if (!person) return { status: 'none', reason: `PostHog knows no person with the e-mail ${email}` };
      const now = deps.now();
      const dateFrom = new Date(now.getTime() - settings.replayLookbackDays * 86_400_000);
      const listed = await deps.replay.listRecordings({
        personId: person.id,
        dateFrom,
        limit: settings.recordingsListed,
      });
      const recordings = rankRecordings(listed, now);
      const top = recordings[0];
      if (!top) return { status: 'ok', value: { lookedUpBy: { kind: 'email', email }, recordings } };
      try {
        const insights = await deps.replay.getSessionInsights(top.id);
        return { status: 'ok', value: { lookedUpBy: { kind: 'email', email }, recordings, insights } };
      } catch (error) {
        return {
          status: 'ok',
          value: {
            lookedUpBy: { kind: 'email', email },
            recordings,
            insightsUnavailable: describeFailure('PostHog', error),
          },
        };
      }
    }
    return { status: 'none', reason: 'the request names no PostHog session and no reporter e-mail' };
  } catch (error) {
    return { status: 'unavailable', reason: describeFailure('PostHog', error) };
  }
}
