import { MAX_DISCORD_REPORTERS } from '../domain/bug.js';
import { extractReferences } from '../domain/references.js';
import type { DiscordCommandJob } from '../jobs/job-schemas.js';
import type { BugRecords } from '../ports/bug-records.js';

/**
 * A message command ("Contextualize bug", "Draft fix") reports a Discord message: its author is
 * one of the bug's reporters, and is mentioned when the bug is resolved (DESIGN "Telling the
 * reporters"). The bug is the one whose thread the message is in, or the one the command or the
 * message names by its issue. Returns the bug the author was recorded on, if any.
 */
export async function recordDiscordReporter(
  job: DiscordCommandJob,
  deps: { readonly records: BugRecords },
): Promise<string | null> {
  const target = job.command.targetMessage;
  if (!target) return null;
  let bugId: string | null = null;
  if (job.interaction.threadId)
    bugId = await deps.records.findBugIdByReference('thread', job.interaction.threadId);
  if (!bugId) {
    const named = extractReferences([job.command.issue, target.content].filter(Boolean).join('\n'))
      .linearIssues[0];
    if (named) bugId = await deps.records.findBugIdByReference('issue', named);
  }
  if (!bugId) return null;
  await deps.records.addDiscordReporter(bugId, target.authorId, MAX_DISCORD_REPORTERS);
  return bugId;
}
