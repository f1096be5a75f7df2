import { renderBugStatus, renderDashboard } from '../domain/bug-views.js';
import { budgetMonthOf, describeMonthSpend } from '../domain/fix-budget.js';
import { toPlainLine } from '../domain/untrusted-text.js';
import type { DiscordCommandJob } from '../jobs/job-schemas.js';
import type { BugRecords } from '../ports/bug-records.js';
import type { OutgoingMessage } from '../ports/chat-platform.js';

export interface BugQueryDeps {
  readonly records: BugRecords;
  readonly now: () => Date;
  readonly guildId?: string;
  /** The month's fix spend and budget, when fixes are set up. */
  readonly fixBudget?: {
    readonly readMonthSpend: (month: string) => Promise<{ spentMicros: number; committedMicros: number }>;
    readonly monthlyBudgetUsd: number;
  };
}

const BUG_ID = /^bug_[a-z0-9]{4,40}$/i;

/**
 * `/bugbot status [issue]`: the bug named by its tracker issue (`ENG-12`, `#45`) or bug id, or —
 * without one — the bug whose thread the command runs in.
 */
export async function showBugStatus(job: DiscordCommandJob, deps: BugQueryDeps): Promise<OutgoingMessage> {
  const reference = job.command.issue?.trim();
  let bugId: string | null = null;
  if (reference) {
    bugId = BUG_ID.test(reference) ? reference : await deps.records.findBugIdByReference('issue', reference);
  } else if (job.interaction.threadId) {
    bugId = await deps.records.findBugIdByReference('thread', job.interaction.threadId);
  }
  if (!bugId) {
    return {
      content: reference
        ? `I know no bug for \`${toPlainLine(reference, 80)}\`. Name its issue (e.g. \`ENG-12\`) or its bug id.`
        : "Name a bug (`/bugbot status issue:ENG-12`), or run this in a bug card's thread.",
    };
  }
  const bug = await deps.records.getBug(bugId);
  if (!bug) return { content: `I know no bug \`${toPlainLine(bugId, 80)}\`.` };
  return renderBugStatus(bug, await deps.records.listAudit(bugId, 50));
}

/** `/bugbot dashboard`: read from the state index (most urgent first), never a scan. */
export async function showDashboard(deps: BugQueryDeps): Promise<OutgoingMessage> {
  const [open, closed, spend] = await Promise.all([
    deps.records.listOpenBugs(100),
    deps.records.listClosedBugs(25),
    deps.fixBudget?.readMonthSpend(budgetMonthOf(deps.now())),
  ]);
  return renderDashboard({
    open,
    closed,
    now: deps.now().toISOString(),
    guildId: deps.guildId,
    ...(spend && deps.fixBudget
      ? { fixSpend: describeMonthSpend(spend, deps.fixBudget.monthlyBudgetUsd) }
      : {}),
  });
}
