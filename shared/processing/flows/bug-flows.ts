import type { BugRefreshJob, BugReportJob, DiscordComponentJob } from '../../jobs/job-schemas.js';
import type { ChatPlatform, OutgoingMessage } from '../../ports/chat-platform.js';
import { type BugFlowContext, postOnce, readAnalysis, refreshCard } from '../../use-cases/bug-context.js';
import { giveUpAnalysis } from '../../use-cases/triage-bug-report.js';
import type { JobFlow } from '../job-runner.js';

/** A report from the webhook: triage it. Nobody waits on an interaction, so failures show on the card. */
export function createBugReportFlow(deps: {
  readonly triage: (job: BugReportJob) => Promise<unknown>;
  readonly context: BugFlowContext;
  readonly bugChannelId: string;
}): JobFlow<BugReportJob> {
  return {
    async run(job) {
      await deps.triage(job);
    },
    async tellFailure(job, description) {
      const bug = await deps.context.records.getBug(job.bugId);
      if (bug?.card && readAnalysis(bug)?.state !== 'done') {
        // The analysis will not come: say so on the card and let people act on the bug.
        const failed = await deps.context.records.updateBug(
          bug.bugId,
          { analysis: { ...readAnalysis(bug), state: 'failed' } },
          bug.version,
        );
        const shown = await giveUpAnalysis(failed.ok ? failed.bug : bug, deps.context);
        await refreshCard(shown, deps.context);
        return;
      }
      await postOnce(
        {
          channelId: deps.bugChannelId,
          message: {
            content: `⚠️ A bug report (\`${job.bugId}\`) could not be processed: ${description}. It is kept for the operators.`,
          },
          nonce: `failed:${job.bugId}`,
          stepKey: `bug:${job.bugId}`,
          step: 'failure-notice',
          recognize: (post) => post.content.includes(`(\`${job.bugId}\`) could not be processed`),
        },
        deps.context,
      );
    },
  };
}

/**
 * The delayed refresh of a bug that reports were folded into. Nobody waits on it: a refresh that
 * fails for good stays in the DLQ (the counts it would have shown are in the fold records, and the
 * next fold schedules another refresh).
 */
export function createBugRefreshFlow(deps: {
  readonly refresh: (job: BugRefreshJob) => Promise<void>;
}): JobFlow<BugRefreshJob> {
  return { run: (job) => deps.refresh(job) };
}

/** Bug card buttons: the answer replaces the ephemeral "thinking…" the ingress deferred. */
export function createBugCardFlow(deps: {
  readonly chat: ChatPlatform;
  readonly handle: (job: DiscordComponentJob) => Promise<OutgoingMessage>;
}): JobFlow<DiscordComponentJob> {
  const reply = (job: DiscordComponentJob, content: OutgoingMessage) =>
    deps.chat.editInteractionResponse(
      { applicationId: job.interaction.applicationId, token: job.interaction.token },
      content,
    );
  return {
    async run(job) {
      await reply(job, await deps.handle(job));
    },
    async tellFailure(job, description) {
      await reply(job, { content: `⚠️ I couldn't finish that: ${description}.` });
    },
  };
}
