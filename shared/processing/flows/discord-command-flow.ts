import type { DiscordCommandJob } from '../../jobs/job-schemas.js';
import type { ChatPlatform, OutgoingMessage } from '../../ports/chat-platform.js';
import type { ContextualizeOutcome } from '../../use-cases/contextualize.js';
import type { JobFlow } from '../job-runner.js';

export interface DiscordCommandFlowDeps {
  readonly chat: ChatPlatform;
  readonly contextualize: (job: DiscordCommandJob) => Promise<ContextualizeOutcome>;
  readonly status: (job: DiscordCommandJob) => Promise<OutgoingMessage>;
  readonly dashboard: (job: DiscordCommandJob) => Promise<OutgoingMessage>;
  /** The fix flow, once deployed; without it a fix request says fixes are not set up. */
  readonly fix?: (job: DiscordCommandJob) => Promise<OutgoingMessage>;
  /** `/bugbot split bug:<id>` and `/bugbot merge bug:<id> into:<id>` (the ingress checked roles and ids). */
  readonly split?: (job: DiscordCommandJob) => Promise<OutgoingMessage>;
  readonly merge?: (job: DiscordCommandJob) => Promise<OutgoingMessage>;
}

const NOT_SET_UP: OutgoingMessage = { content: 'Splitting and merging bugs is not set up on this bugbot.' };

/**
 * `/bugbot …` and the message commands. The ingress deferred the interaction; every outcome,
 * failures included, ends as an edit of that deferred response.
 */
export function createDiscordCommandFlow(deps: DiscordCommandFlowDeps): JobFlow<DiscordCommandJob> {
  const reply = (job: DiscordCommandJob, message: OutgoingMessage) =>
    deps.chat.editInteractionResponse(
      { applicationId: job.interaction.applicationId, token: job.interaction.token },
      message,
    );

  return {
    async run(job) {
      switch (job.command.name) {
        case 'contextualize': {
          const outcome = await deps.contextualize(job);
          await reply(job, outcome.reply);
          return;
        }
        case 'fix':
          // Until the fix pipeline is deployed, say so plainly: never a fake success.
          await reply(
            job,
            deps.fix
              ? await deps.fix(job)
              : { content: 'Fixes are not set up on this bugbot yet, so nothing was started.' },
          );
          return;
        case 'status':
          await reply(job, await deps.status(job));
          return;
        case 'dashboard':
          await reply(job, await deps.dashboard(job));
          return;
        case 'split':
          await reply(job, deps.split ? await deps.split(job) : NOT_SET_UP);
          return;
        case 'merge':
          await reply(job, deps.merge ? await deps.merge(job) : NOT_SET_UP);
          return;
      }
    },
    async tellFailure(job, description) {
      await reply(job, { content: `⚠️ I couldn't finish \`${job.command.name}\`: ${description}.` });
    },
  };
}
