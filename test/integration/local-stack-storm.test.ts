import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_QUEUE, JOBS_QUEUE } from '../../local/local-stack.js';
import type { StandIn } from '../../local/stand-ins/stand-in.js';
import { buildStormReports, stormCrashLogs } from '../factories/storm-reports.js';
import {
  replyTo,
  type StackDriver,
  type StackState,
  startStackDriver,
} from '../support/local-stack-driver.js';
import {
  countDiscordWrites,
  countModelCalls,
  deadLetters,
  jobsPending,
  openStackTable,
  readStormOutcome,
  sendStorm,
} from '../support/storm-driver.js';

/**
 * Issue 12 through the whole local stack: an incident storm (300 reports of one crash, in other
 * words, from 300 people, sent 25 at a time), then the duplicates people can trust — why a
 * report was folded in, splitting one back out, merging by hand, and never folding into a closed
 * bug. Timing is the bench's business (`npm run bench -- storm`); this asserts the outcomes.
 */

let driver: StackDriver;

beforeAll(async () => {
  // STORM_LOG=1 shows the processor's retries too (how the fractional-timeout fault was found).
  driver = await startStackDriver(process.env.STORM_LOG ? { POWERTOOLS_LOG_LEVEL: 'WARN' } : {});
}, 60_000);
afterAll(async () => driver?.close());

const STORM = 300;
/** Generous: the machine is shared; waits end as soon as the condition holds. */
const STORM_DEADLINE_MS = 400_000;

function standIn(service: 'discord' | 'anthropic'): StandIn {
  const found = driver.stack.sandbox.standIns.find((candidate) => candidate.service === service);
  if (!found) throw new Error(`${service} is not sandboxed`);
  return found;
}

/** The queue is empty (delayed refreshes included) and stays so for a moment. */
async function waitForQuiet(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quietSince: number | undefined;
  while (Date.now() < deadline) {
    if (jobsPending(driver.stack) === 0) {
      quietSince ??= Date.now();
      if (Date.now() - quietSince >= 500) return;
    } else quietSince = undefined;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the jobs queue did not go quiet (${jobsPending(driver.stack)} pending)`);
}

const bugOf = (state: StackState, bugId: string) => state.bugs.find((bug) => bug.bugId === bugId);
const cardOf = (state: StackState, bugId: string) =>
  state.sandbox.discord.messages.find((message) => message.id === bugOf(state, bugId)?.card?.messageId);
const threadPosts = (state: StackState, bugId: string) =>
  state.sandbox.discord.messages.filter(
    (message) => message.threadId !== undefined && message.threadId === bugOf(state, bugId)?.card?.threadId,
  );
const fieldOf = (message: StackState['sandbox']['discord']['messages'][number] | undefined, name: string) =>
  message?.embeds[0]?.fields?.find((field) => field.name === name)?.value;
const buttonsOf = (
  message:
    | { components: { components: { custom_id?: string; label?: string; disabled?: boolean }[] }[] }
    | undefined,
) => (message?.components ?? []).flatMap((row) => row.components).filter((button) => button.custom_id);

async function report(body: Record<string, unknown>): Promise<string> {
  const sent = await driver.sendReport(body);
  expect(sent.status).toBe(202);
  return String(sent.body.bugId);
}

async function reportAndWaitForCard(body: Record<string, unknown>): Promise<string> {
  const bugId = await report(body);
  await driver.waitFor(
    'the card',
    // The card and thread come while the analysis runs; the commands here need it triaged.
    (state) => {
      const bug = bugOf(state, bugId);
      return bug?.card?.threadId && cardOf(state, bugId) && !['new', 'analyzing'].includes(bug.status)
        ? state
        : undefined;
    },
    60_000,
  );
  return bugId;
}

async function interact(
  command: string,
  args: string[],
  options: { as?: 'maintainer' | 'member'; reason?: string } = {},
) {
  const sent = await driver.sendCommand(command, args, options);
  expect(sent.status).toBe(200);
  const answer = JSON.parse(sent.body) as { type: number; data?: { content?: string } };
  if (answer.type !== 5) return { answer, reply: undefined };
  const reply = await driver.waitFor(
    `the reply to ${command}`,
    (state) => replyTo(state, sent.interaction),
    60_000,
  );
  return { answer, reply };
}

/** When the storm did not end as expected, what the bugs that stayed open went through (CI's log is all we get). */
async function printWhatWentWrong(bugIds: readonly string[]): Promise<void> {
  const table = openStackTable(driver.stack);
  try {
    for (const bugId of bugIds) {
      const bug = await table.records.getBug(bugId);
      const trail = await table.records.listAudit(bugId, 50);
      console.error(
        `[storm] ${bugId}: ${bug?.status} analysis=${JSON.stringify(bug?.analysis)?.slice(0, 300)} card=${JSON.stringify(bug?.card)}\n` +
          trail
            .map((entry) => `  ${entry.at} ${entry.actor} ${entry.action} ${entry.detail ?? ''}`)
            .join('\n'),
      );
    }
    const dead = await driver.stack.engine.receiveMessages(DEAD_LETTER_QUEUE, {
      maxNumberOfMessages: 10,
      visibilityTimeout: 0,
      waitTimeSeconds: 0,
    });
    console.error(
      `[storm] DLQ ${deadLetters(driver.stack)}: ${dead.map((message) => message.body.slice(0, 200)).join('\n')}`,
    );
  } finally {
    table.close();
  }
}

describe('an incident storm through the local stack', () => {
  let originalId: string;

  it(
    `folds ${STORM} reports of one crash into one bug: one card, exact counts, a handful of Discord writes`,
    async () => {
      const discord = standIn('discord');
      const anthropic = standIn('anthropic');
      const discordFrom = discord.calls.length;
      const modelFrom = anthropic.calls.length;

      const sent = await sendStorm(driver.stack, buildStormReports(STORM, 'itstorm'));
      expect(sent.refused).toEqual({});
      expect(sent.bugIds).toHaveLength(STORM);
      await waitForQuiet(STORM_DEADLINE_MS);

      const outcome = await readStormOutcome(driver.stack, sent.bugIds);
      if (outcome.openBugs.length !== 1 || outcome.openBugs[0]?.status !== 'triaged')
        await printWhatWentWrong(outcome.openBugs.map((bug) => bug.bugId));
      expect(outcome.openBugs).toHaveLength(1);
      expect(outcome.statuses).toEqual({ triaged: 1, duplicate: STORM - 1 });
      originalId = outcome.openBugs[0]?.bugId ?? 'missing';
      // Every report and every reporter, exactly.
      expect(outcome.foldedIntoOriginal).toBe(STORM - 1);
      expect(outcome.reportCount).toBe(STORM);
      expect(outcome.reporterCount).toBe(STORM);
      const table = openStackTable(driver.stack);
      try {
        const folds = await table.folds.listFolds(originalId);
        expect(new Set(folds.map((fold) => fold.bugId)).size).toBe(STORM - 1);
        expect(folds.every((fold) => fold.reason?.kind === 'fingerprint')).toBe(true);
      } finally {
        table.close();
      }

      const writes = countDiscordWrites(discord, discordFrom, driver.sandbox.channelId);
      expect(writes.cardPosts).toBe(1);
      expect(writes.threadStarts).toBe(1);
      expect(writes.total).toBeLessThanOrEqual(15);
      expect(countModelCalls(anthropic, modelFrom)).toBeLessThanOrEqual(2);
      expect(deadLetters(driver.stack)).toBe(0);

      const state = await driver.state();
      const original = bugOf(state, originalId);
      expect(original?.reportCount).toBe(STORM);
      // The card's counters are current, and the priority reflects the surge.
      expect(fieldOf(cardOf(state, originalId), 'Reports')).toMatch(
        /^300 reports · 300 users · last \d{4}-\d\d-\d\d \d\d:\d\d UTC$/,
      );
      const breakdown = (
        original?.analysis as { priority?: { breakdown: { factor: string; reason: string }[] } }
      )?.priority?.breakdown;
      expect(breakdown?.find((factor) => factor.factor === 'reporters')?.reason).toBe(
        'Reported by 300 different people.',
      );
      // The thread heard about it a few times, not 299: who, how many, and why.
      const notes = threadPosts(state, originalId);
      expect(notes.length).toBe(writes.threadPosts);
      expect(notes.length).toBeGreaterThanOrEqual(1);
      const last = notes.at(-1)?.content ?? '';
      expect(last).toMatch(/\*\*\d+ more reports\*\* of this bug since the last note/);
      expect(last).toContain('the same crash (TypeError at CheckoutForm › PaymentStep)');
      expect(last).toMatch(/From itstorm\\_user\\_\d+/);
      expect(notes.every((note) => note.allowedMentions?.parse?.length === 0)).toBe(true);
    },
    STORM_DEADLINE_MS + 60_000,
  );

  it('shows in View Details which reports were folded in and why, with Split buttons', async () => {
    const { reply } = await interact('button', ['details', originalId]);
    const duplicates = reply?.embeds[0]?.fields?.find((field) => field.name.startsWith('Duplicates'));
    expect(duplicates?.name).toBe(`Duplicates (${STORM - 1})`);
    expect(duplicates?.value.split('\n')[0]).toMatch(
      /^• `bug_\w+` · itstorm\\_user\\_\d+ · .* UTC — same crash: TypeError at CheckoutForm › PaymentStep$/,
    );
    const splits = buttonsOf(reply).filter((button) => button.custom_id?.startsWith('bug:split:'));
    expect(splits).toHaveLength(5);
    expect(splits.every((button) => (button.custom_id?.length ?? 0) <= 100)).toBe(true);
  });

  it('splits a folded report back out: its own analysis and card, the counts corrected, never folded back in', async () => {
    const details = await interact('button', ['details', originalId]);
    const target = buttonsOf(details.reply)[0]?.custom_id?.split(':')[2] ?? 'missing';
    const anthropic = standIn('anthropic');
    const modelFrom = anthropic.calls.length;

    // A member without the maintainers' role is refused at the door; nothing is queued.
    const refused = await interact('button', ['split', target], { as: 'member' });
    expect(refused.answer).toMatchObject({
      type: 4,
      data: { content: 'Only members with a maintainer role can split or merge bugs.' },
    });

    const { reply } = await interact('button', ['split', target]);
    expect(reply?.content).toContain(`Split \`${target}\` out of \`${originalId}\``);
    const state = await driver.waitFor(
      'the split report to have its own card, and the original to count one report less',
      (current) =>
        bugOf(current, target)?.status === 'triaged' &&
        cardOf(current, target) &&
        bugOf(current, originalId)?.reportCount === STORM - 1
          ? current
          : undefined,
      60_000,
    );
    expect(bugOf(state, target)).toMatchObject({ notDuplicateOf: [originalId] });
    expect(bugOf(state, target)?.duplicateOf).toBeUndefined();
    expect(bugOf(state, originalId)?.reporterCount).toBe(STORM - 1);
    expect(countModelCalls(anthropic, modelFrom)).toBe(1); // its own analysis
    expect(fieldOf(cardOf(state, originalId), 'Reports')).toMatch(/^299 reports · 299 users/);
    expect(threadPosts(state, originalId).at(-1)?.content).toBe(
      `maya split \`${target}\` out of this bug: it was not the same bug, and is a bug of its own now. This bug counts 299 reports from 299 people.`,
    );

    // Its report delivered again (a DLQ redrive): it stays a bug of its own.
    const table = openStackTable(driver.stack);
    try {
      const split = await table.records.getBug(target);
      driver.stack.engine.sendMessage(JOBS_QUEUE, {
        body: JSON.stringify({
          v: 1,
          kind: 'bug.report',
          idempotencyKey: `redrive-${target}`,
          receivedAt: new Date().toISOString(),
          bugId: target,
          report: { description: split?.description, console_logs: split?.report?.consoleLogs },
        }),
      });
      await waitForQuiet(60_000);
      expect((await table.records.getBug(target))?.status).toBe('triaged');
      expect((await table.records.getBug(originalId))?.reportCount).toBe(STORM - 1);
      const audit = await table.records.listAudit(originalId, 50);
      expect(
        audit.some((entry) => entry.action === 'split' && entry.detail.startsWith(`${target} split out`)),
      ).toBe(true);
    } finally {
      table.close();
    }
  }, 120_000);
});

describe('merging by hand, and undoing it', () => {
  let bugA: string;
  let bugB: string;

  it("marks one bug a duplicate of another, with a fold's effects on both, and a card that says so", async () => {
    bugA = await reportAndWaitForCard({
      description: 'Dark mode makes the settings text unreadable',
      user_id: 'u_ana',
    });
    bugB = await reportAndWaitForCard({
      description: 'The language picker is missing Portuguese',
      user_id: 'u_ben',
    });

    const member = await interact('merge', [bugA, bugB], { as: 'member' });
    expect(member.answer).toMatchObject({ type: 4 });
    const itself = await interact('merge', [bugA, bugA]);
    expect(itself.reply?.content).toBe('A bug cannot be a duplicate of itself.');

    const { reply } = await interact('merge', [bugA, bugB]);
    expect(reply?.content).toBe(
      `Merged \`${bugA}\` into \`${bugB}\`, which now counts 2 report(s) from 2 people. Undo with \`/bugbot split bug:${bugA}\`.`,
    );
    const state = await driver.waitFor('both cards to show the merge', (current) =>
      fieldOf(cardOf(current, bugA), 'Duplicate of') &&
      fieldOf(cardOf(current, bugB), 'Reports')?.startsWith('2 reports')
        ? current
        : undefined,
    );
    expect(bugOf(state, bugA)).toMatchObject({
      status: 'duplicate',
      duplicateOf: bugB,
      foldReason: { kind: 'manual' },
    });
    expect(bugOf(state, bugB)).toMatchObject({ reportCount: 2, reporterCount: 2 });
    expect(fieldOf(cardOf(state, bugA), 'Duplicate of')).toBe(`\`${bugB}\` · merged by maya`);
    expect(
      buttonsOf(cardOf(state, bugA))
        .filter((button) => !button.disabled)
        .map((button) => button.label),
    ).toEqual(['View Details']);
    expect(threadPosts(state, bugA).at(-1)?.content).toContain(
      `maya marked this bug a duplicate of \`${bugB}\``,
    );
    expect(threadPosts(state, bugB).at(-1)?.content).toBe(
      `maya merged \`${bugA}\` (1 report) into this bug: 2 reports from 2 people now.`,
    );

    // Into a duplicate, or a duplicate again: refused with the way forward.
    const intoDuplicate = await interact('merge', [bugB, bugA]);
    expect(intoDuplicate.reply?.content).toBe(
      `\`${bugA}\` is itself a duplicate of \`${bugB}\`: merge into that bug instead.`,
    );
  }, 120_000);

  it('splits the merged bug out again: its analysis stands, no second model call, the counts go back', async () => {
    const anthropic = standIn('anthropic');
    const modelFrom = anthropic.calls.length;
    const { reply } = await interact('split', [bugA]);
    expect(reply?.content).toContain(`Split \`${bugA}\` out of \`${bugB}\``);
    const state = await driver.waitFor('the merge undone', (current) =>
      bugOf(current, bugA)?.status === 'triaged' && bugOf(current, bugB)?.reportCount === 1
        ? current
        : undefined,
    );
    expect(bugOf(state, bugB)?.reporterCount).toBe(1);
    await driver.waitFor(
      'the card of the split bug to be live again',
      (current) =>
        buttonsOf(cardOf(current, bugA)).find((button) => button.label === 'Create Issue')?.disabled ===
        false,
    );
    expect(countModelCalls(anthropic, modelFrom)).toBe(0);
  }, 120_000);
});

describe('never folding into a closed bug', () => {
  it('makes a new bug of a report that matches a dismissed bug by text', async () => {
    const dismissed = await reportAndWaitForCard({
      description: 'Exporting the invoice as PDF shows a blank page',
      user_id: 'u_ivy',
    });
    await interact('dismiss', [dismissed], { reason: 'Fixed by the PDF service upgrade' });
    await driver.waitFor('the dismissal', (state) =>
      bugOf(state, dismissed)?.status === 'dismissed' ? state : undefined,
    );

    const again = await reportAndWaitForCard({
      description: 'the invoice PDF export is a blank page',
      user_id: 'u_joe',
    });
    const state = await driver.state();
    expect(bugOf(state, again)?.status).toBe('triaged');
    expect(bugOf(state, again)?.duplicateOf).toBeUndefined();
    expect(bugOf(state, dismissed)?.reportCount).toBe(1);
  }, 120_000);

  it('starts one new bug for a crash whose bug was dismissed, and folds the rest of its reports into it', async () => {
    // Another crash (other frames), described in words no open bug shares.
    const calendarCrash = (i: number) =>
      stormCrashLogs(i).replaceAll('CheckoutForm', 'MonthGrid').replaceAll('PaymentStep', 'CalendarView');
    const dismissed = await reportAndWaitForCard({
      description: 'The calendar crashes on the month view',
      user_id: 'u_kai',
      console_logs: calendarCrash(0),
    });
    await interact('dismiss', [dismissed], { reason: 'Could not reproduce' });
    await driver.waitFor('the dismissal', (state) =>
      bugOf(state, dismissed)?.status === 'dismissed' ? state : undefined,
    );

    const bugIds = await Promise.all(
      [1, 2, 3, 4].map((i) =>
        report({
          description: `month view of the calendar goes blank (${i})`,
          user_id: `u_cal${i}`,
          console_logs: calendarCrash(i),
        }),
      ),
    );
    await waitForQuiet(120_000);
    const outcome = await readStormOutcome(driver.stack, bugIds);
    expect(outcome.openBugs).toHaveLength(1);
    expect(outcome.statuses).toEqual({ triaged: 1, duplicate: 3 });
    expect(outcome.reportCount).toBe(4);
    const table = openStackTable(driver.stack);
    try {
      expect((await table.records.getBug(dismissed))?.reportCount).toBe(1);
      const audit = await table.records.listAudit(outcome.openBugs[0]?.bugId ?? '', 20);
      expect(
        audit.some((entry) => entry.action === 'same_crash_as_closed' && entry.detail.includes(dismissed)),
      ).toBe(true);
    } finally {
      table.close();
    }
  }, 180_000);
});
