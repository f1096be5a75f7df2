import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JOBS_QUEUE, LOCAL_TABLE_NAME } from '../../local/local-stack.js';
import { createDocumentClient } from '../../shared/adapters/dynamodb/document-client.js';
import { DynamoDbFixJobs } from '../../shared/adapters/dynamodb/dynamodb-fix-jobs.js';
import { assessFix } from '../../shared/domain/fix-pull-request.js';
import { createLocalDynamoDbClient } from '../support/dynalite.js';
import {
  replyTo,
  type StackDriver,
  type StackState,
  startStackDriver,
} from '../support/local-stack-driver.js';

let driver: StackDriver;

beforeAll(async () => {
  driver = await startStackDriver();
}, 60_000);
afterAll(async () => driver?.close());
afterEach(async () => driver.clearFaults());

const crashLogs = (bundleHash: string, line: number) =>
  [
    "TypeError: Cannot read properties of undefined (reading 'map')",
    `    at CheckoutForm (https://shop.example.com/assets/main.${bundleHash}.js:${line}:17)`,
    `    at PaymentStep (https://shop.example.com/assets/main.${bundleHash}.js:${line + 40}:9)`,
    '    at renderWithHooks (https://shop.example.com/assets/vendor.js:1:2)',
  ].join('\n');

const bugOf = (state: StackState, bugId: string) => state.bugs.find((bug) => bug.bugId === bugId);
const cardOf = (state: StackState, bugId: string) => {
  const bug = bugOf(state, bugId);
  return state.sandbox.discord.messages.find((message) => message.id === bug?.card?.messageId);
};
const buttonsOf = (
  message:
    | { components: { components: { custom_id?: string; label?: string; disabled?: boolean }[] }[] }
    | undefined,
) => (message?.components ?? []).flatMap((row) => row.components).filter((button) => button.custom_id);

async function reportAndWaitForCard(report: Record<string, unknown>) {
  const sent = await driver.sendReport(report);
  expect(sent.status).toBe(202);
  const bugId = String(sent.body.bugId);
  // The card and its thread are recorded a moment before the bug's move to triaged: wait for both.
  const state = await driver.waitFor('the card', (current) => {
    const bug = bugOf(current, bugId);
    return bug?.card?.threadId && cardOf(current, bugId) && !['new', 'analyzing'].includes(bug.status)
      ? current
      : undefined;
  });
  return { bugId, state };
}

async function click(action: string, bugId: string, as: 'maintainer' | 'member' = 'maintainer') {
  const sent = await driver.sendCommand('button', [action, bugId], { as });
  expect(sent.status).toBe(200);
  // A fix request searches the code first (a few searches, spaced as GitHub asks).
  const reply = await driver.waitFor(
    `the ${action} reply`,
    (state) => replyTo(state, sent.interaction),
    action === 'draft_fix' ? 60_000 : undefined,
  );
  return { sent, reply };
}

/** The fix job as stored, with the runner's result (read from the stack's table). */
async function fixJobOf(jobId: string) {
  const client = createLocalDynamoDbClient(driver.stack.dynamoEndpoint);
  try {
    return await new DynamoDbFixJobs(createDocumentClient(client), LOCAL_TABLE_NAME).getFixJob(jobId);
  } finally {
    client.destroy();
  }
}

describe('bug reports through the local stack', () => {
  let checkoutBug: string;

  it('turns a signed report into a triaged card with four buttons and a thread', async () => {
    const { bugId, state } = await reportAndWaitForCard({
      id: 'r1',
      description: 'Checkout crashes when I press Pay',
      user_id: 'u_maya',
      user_email: 'maya@example.com',
      console_logs: crashLogs('3f2a9c1b', 120),
      device_info: { os: 'iOS 17.4', model: 'iPhone 15' },
    });
    checkoutBug = bugId;
    const bug = bugOf(state, bugId);
    expect(bug?.status).toBe('triaged');
    // DESIGN's /_local/state shape: { id, status, priority, duplicateOf, … }
    expect(state.bugs.find((candidate) => candidate.id === bugId)).toMatchObject({
      id: bugId,
      status: 'triaged',
    });
    expect(bug?.priority).toBeGreaterThanOrEqual(1);
    const card = cardOf(state, bugId);
    expect(card?.embeds[0]?.title).toContain('Checkout crashes');
    expect(card?.allowedMentions).toEqual({ parse: [] });
    expect(buttonsOf(card).map((button) => button.custom_id)).toEqual([
      `bug:create_issue:${bugId}`,
      `bug:draft_fix:${bugId}`,
      `bug:dismiss:${bugId}`,
      `bug:details:${bugId}`,
    ]);
    expect(state.sandbox.discord.threads.some((thread) => thread.id === bug?.card?.threadId)).toBe(true);
  });

  it('links the same crash reported in other words by another user, with no second card', async () => {
    const cardsBefore = (await driver.state()).sandbox.discord.messages.filter(
      (message) => message.kind === 'channel' && message.embeds.length > 0,
    ).length;
    const sent = await driver.sendReport({
      description: 'paying does nothing and then the whole checkout page goes white on my android',
      user_id: 'u_devon',
      console_logs: crashLogs('99aa11bb', 14),
    });
    const duplicateId = String(sent.body.bugId);
    // The duplicate is marked before it is counted on the original: wait for both.
    const state = await driver.waitFor('the duplicate, counted', (current) =>
      bugOf(current, duplicateId)?.status === 'duplicate' && bugOf(current, checkoutBug)?.reportCount === 2
        ? current
        : undefined,
    );
    expect(bugOf(state, duplicateId)?.duplicateOf).toBe(checkoutBug);
    // Counted by the original's refresh, a moment after the fold (coalesced: see domain/fold.ts).
    const counted = await driver.waitFor('the original to count the report', (current) =>
      bugOf(current, checkoutBug)?.reportCount === 2 ? current : undefined,
    );
    const original = bugOf(counted, checkoutBug);
    expect(original?.reporterCount).toBe(2);
    expect(original?.recentReporters).toEqual(['u_devon']);
    const note = await driver.waitFor('the note in the thread', (current) =>
      current.sandbox.discord.messages.find(
        (message) =>
          message.threadId === original?.card?.threadId && message.content.includes('Another report'),
      ),
    );
    expect(note.content).toContain('#2, from u\\_devon');
    // Why it was folded in: the crash fingerprint, and which frames.
    expect(note.content).toContain('the same crash (TypeError at CheckoutForm › PaymentStep)');
    await driver.waitFor('the card to show two reports', (current) =>
      cardOf(current, checkoutBug)?.embeds[0]?.fields?.some(
        (field) => field.name === 'Reports' && field.value.startsWith('2 reports · 2 users'),
      ),
    );
    const cardsAfter = state.sandbox.discord.messages.filter(
      (message) => message.kind === 'channel' && message.embeds.length > 0,
    ).length;
    expect(cardsAfter).toBe(cardsBefore);
  });

  it('gives a different bug its own card', async () => {
    const { bugId, state } = await reportAndWaitForCard({
      description: 'Dark mode makes the settings text unreadable',
      user_id: 'u_priya',
    });
    expect(bugId).not.toBe(checkoutBug);
    expect(bugOf(state, bugId)?.duplicateOf).toBeUndefined();
  });

  it('refuses a report without a description, naming the field, and queues nothing', async () => {
    const sent = await driver.sendReport({ description: '   ', user_id: 'u_x' });
    expect(sent.status).toBe(422);
    expect(JSON.stringify(sent.body)).toContain('description');
  });

  it('shows the full analysis in an ephemeral View Details', async () => {
    const { sent, reply } = await click('details', checkoutBug);
    // Ephemerality is decided when the ingress defers; the processor's edit fills it in.
    expect(JSON.parse(sent.body)).toEqual({ type: 5, data: { flags: 64 } });
    const text = JSON.stringify(reply.embeds);
    expect(text).toMatch(/Root cause/i);
    expect(text).toMatch(/Priority/i);
  });

  it('makes one issue however many people click Create Issue at once', async () => {
    const issuesBefore = (await driver.state()).sandbox.linear.issues.length;
    const [first, second] = await Promise.all([
      click('create_issue', checkoutBug),
      click('create_issue', checkoutBug),
    ]);
    const state = await driver.waitForIdle();
    expect(state.sandbox.linear.issues).toHaveLength(issuesBefore + 1);
    const bug = bugOf(state, checkoutBug);
    expect(bug?.status).toBe('issue_created');
    expect(first.reply.content + second.reply.content).toContain(bug?.issue?.identifier ?? 'missing');
    const card = cardOf(state, checkoutBug);
    expect(buttonsOf(card).find((button) => button.custom_id?.startsWith('bug:create_issue'))?.disabled).toBe(
      true,
    );
    const threadPosts = state.sandbox.discord.messages.filter(
      (message) => message.threadId === bug?.card?.threadId && message.content.startsWith('Issue '),
    );
    expect(threadPosts).toHaveLength(1);
  });

  it('drafts a fix for a maintainer: a pull request, a Linear attachment, a thread message and the card', async () => {
    const { reply } = await click('draft_fix', checkoutBug);
    expect(reply.content).toContain('Drafting a fix');
    // The pull request is recorded on the bug (fix_drafted) before the thread is told: wait for both.
    const state = await driver.waitFor(
      'the pull request and the thread told of it',
      (current) => {
        const drafted = bugOf(current, checkoutBug);
        if (drafted?.status !== 'fix_drafted') return undefined;
        const told = current.sandbox.discord.messages.some(
          (message) =>
            message.threadId === drafted.card?.threadId && message.content.startsWith('Fix drafted'),
        );
        return told ? current : undefined;
      },
      120_000,
    );
    const github = state.sandbox.github as {
      pulls: { head: string; base: string; body: string; draft: boolean; url: string }[];
    };
    expect(github.pulls).toHaveLength(1);
    const [pull] = github.pulls;
    expect(pull?.head).toMatch(/^bugbot\/fix-/);
    expect(pull?.base).toBe('main');
    // The body is ours: the verdict, the Reproduction section, the changed files and checks fenced.
    expect(pull?.body).toMatch(/^(## ⚠️ Risks to review first[\s\S]*)?## Verdict: /);
    expect(pull?.body).toContain('## Reproduction');
    expect(pull?.body).toMatch(/## Changed files \(\d+\)\n\n```text\n[\s\S]*modified +src\/cart\.js/);
    expect(pull?.body).toContain('$ node --test');
    expect(pull?.body).toContain('**The code was written by an AI**');
    expect(pull?.body).toContain('Asked for in Discord by `maya`');
    // Ready for review exactly when the runner proved the fix (a failing test first); else a draft.
    const jobId = (bugOf(state, checkoutBug) as { fix?: { jobId: string } } | undefined)?.fix?.jobId ?? '';
    const job = await fixJobOf(jobId);
    expect(job?.result).toBeDefined();
    const assessment = assessFix(job!.result!);
    expect(pull?.draft).toBe(!assessment.ready);
    expect(pull?.body).toContain(
      assessment.ready ? '## Verdict: proven' : 'This fix is not ready for review, because:',
    );
    expect(JSON.stringify(state.sandbox.linear.attachments)).toContain(pull?.url ?? 'missing');
    const bug = bugOf(state, checkoutBug);
    const note = state.sandbox.discord.messages.find(
      (message) => message.threadId === bug?.card?.threadId && message.content.startsWith('Fix drafted'),
    );
    expect(note?.content).toContain(pull?.url);
    expect(note?.content).toMatch(/Budget: \$\d+\.\d\d of \$100\.00 spent on fixes this month/);
    expect(note?.allowedMentions).toEqual({ parse: [] });
    // The card is edited right after the bug moves to fix_drafted.
    await driver.waitFor('the card to show the PR', (current) =>
      JSON.stringify(cardOf(current, checkoutBug)).includes(pull?.url ?? 'missing'),
    );
  }, 150_000);

  it('opens one pull request however often the result is delivered', async () => {
    const before = await driver.state();
    const bug = bugOf(before, checkoutBug) as { fix?: { jobId: string; branch: string } } | undefined;
    const jobId = bug?.fix?.jobId ?? 'missing';
    const result = {
      v: 1,
      kind: 'fix.result',
      idempotencyKey: `fix-result:${jobId}`,
      receivedAt: new Date().toISOString(),
      result: {
        jobId,
        status: 'pushed',
        branch: bug?.fix?.branch ?? 'missing',
        changedFiles: [{ path: 'src/cart.js', change: 'modified' }],
        rejected: [],
        summary: 'Guarded cartTotal against a missing items list.',
        costUsd: 0.04,
        verify: { command: 'node --test', exitCode: 0, outputTail: 'pass 7' },
      },
    };
    for (let copy = 0; copy < 3; copy += 1)
      driver.stack.engine.sendMessage(JOBS_QUEUE, { body: JSON.stringify(result) });
    const after = await driver.waitForIdle();
    expect((after.sandbox.github as { pulls: unknown[] }).pulls).toHaveLength(1);
    const drafted = after.sandbox.discord.messages.filter((message) =>
      message.content.startsWith('Fix drafted'),
    );
    expect(drafted).toHaveLength(1);
    expect(after.queues.dlq.visible).toBe(before.queues.dlq.visible);
  });

  it('starts one fix when two maintainers ask at once', async () => {
    const { bugId } = await reportAndWaitForCard({
      description: 'The cart total is wrong after removing the last item at checkout',
      user_id: 'u_lin',
    });
    const [first, second] = await Promise.all([click('draft_fix', bugId), click('draft_fix', bugId)]);
    const answers = [first.reply.content, second.reply.content].sort();
    expect(answers.filter((answer) => answer.startsWith('Drafting a fix'))).toHaveLength(1);
    expect(
      answers.filter((answer) => /^A fix is already being drafted for this bug\. .*<#\d+>\.$/.test(answer)),
    ).toHaveLength(1);
    const state = await driver.waitFor(
      'the fix to end',
      (current) =>
        ['fix_drafted', 'triaged'].includes(bugOf(current, bugId)?.status ?? '') ? current : undefined,
      120_000,
    );
    const bug = bugOf(state, bugId);
    const notes = state.sandbox.discord.messages.filter(
      (message) => message.threadId === bug?.card?.threadId && message.content.startsWith('Fix requested'),
    );
    expect(notes).toHaveLength(1);
  }, 150_000);

  it('tells the thread when the fix runner crashes, and puts the bug back', async () => {
    const { bugId } = await reportAndWaitForCard({
      description: 'Coupon codes are ignored at checkout when the cart has one item',
      user_id: 'u_kim',
    });
    driver.stack.launcher.crashNext();
    const { reply } = await click('draft_fix', bugId);
    expect(reply.content).toContain('Drafting a fix');
    const state = await driver.waitFor(
      'the failure note',
      (current) => {
        const bug = bugOf(current, bugId);
        const note = current.sandbox.discord.messages.find(
          (message) => message.threadId === bug?.card?.threadId && message.content.startsWith('Fix failed'),
        );
        return note && bug?.status === 'triaged' ? { note, current } : undefined;
      },
      60_000,
    );
    expect(state.note.content).toContain('stopped without a result');
    expect(state.note.content).toContain('exit code 137');
  }, 90_000);

  it('refuses Draft Fix to a member without the maintainer role at the door', async () => {
    const sent = await driver.sendCommand('button', ['draft_fix', checkoutBug], { as: 'member' });
    const answer = JSON.parse(sent.body) as { type: number; data: { flags: number } };
    expect(answer.type).toBe(4);
    expect(answer.data.flags).toBe(64);
  });

  it('dismisses with a reason from the modal, shows it on the card, and refuses an issue afterwards', async () => {
    const { bugId } = await reportAndWaitForCard({
      description: 'The logo is one pixel off on the about page',
      user_id: 'u_sam',
    });
    const modal = await driver.sendCommand('button', ['dismiss', bugId]);
    expect(JSON.parse(modal.body).type).toBe(9);
    const submitted = await driver.sendCommand('dismiss', [bugId], { reason: 'Works as designed' });
    const reply = await driver.waitFor('the dismissal', (state) => replyTo(state, submitted.interaction));
    expect(reply.content).toContain('Dismissed');
    // The card is edited as part of the dismissal; wait for it rather than race it.
    const state = await driver.waitFor('the dismissed card', (current) =>
      bugOf(current, bugId)?.status === 'dismissed' &&
      JSON.stringify(cardOf(current, bugId)?.embeds).includes('Works as designed')
        ? current
        : undefined,
    );
    expect(bugOf(state, bugId)?.status).toBe('dismissed');

    const refused = await click('create_issue', bugId);
    expect(refused.reply.content).toBe('This bug was dismissed, so no issue can be created.');
  });

  it('answers /bugbot status with the history and /bugbot dashboard from the index', async () => {
    const bug = bugOf(await driver.state(), checkoutBug);
    const status = await driver.sendCommand('status', [], { issue: bug?.issue?.identifier });
    const statusReply = await driver.waitFor('status', (state) => replyTo(state, status.interaction));
    const statusText = JSON.stringify(statusReply.embeds);
    expect(statusText).toContain(bug?.issue?.identifier ?? 'missing');
    expect(statusText).toMatch(/History/);
    expect(statusText).toMatch(/analyzing → triaged/);

    const dashboard = await driver.sendCommand('dashboard');
    const dashboardReply = await driver.waitFor('dashboard', (state) =>
      replyTo(state, dashboard.interaction),
    );
    expect(JSON.stringify(dashboardReply.embeds)).toMatch(/P\d/);
  });

  it('posts the card as "analysis pending" when the model is down, then completes it on a retry', async () => {
    await driver.setFault({ service: 'anthropic', failRate: 0, status: 529, latencyMs: 0, failNext: 3 });
    const sent = await driver.sendReport({
      description: 'Search results never load on the orders page',
      user_id: 'u_lee',
    });
    const bugId = String(sent.body.bugId);
    await driver.waitFor(
      'the triaged card',
      (state) => (bugOf(state, bugId)?.status === 'triaged' ? state : undefined),
      30_000,
    );
    // The card was first posted as "analysis pending" (what Discord received), then edited.
    const posts = driver.stack.sandbox.discord.calls.filter(
      (call) =>
        call.method === 'POST' &&
        call.path.endsWith('/messages') &&
        JSON.stringify(call.body ?? '').includes('Search results never load'),
    );
    expect(posts).toHaveLength(1);
    expect(JSON.stringify(posts[0]?.body)).toMatch(/Analysis pending/);
    // The card is edited right after the bug moves to triaged.
    const card = await driver.waitFor('the analysed card', (current) => {
      const candidate = cardOf(current, bugId);
      return candidate && /Root cause/i.test(JSON.stringify(candidate.embeds)) ? candidate : undefined;
    });
    expect(card.editCount).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(card.embeds)).not.toMatch(/analysis pending/i);
  }, 45_000);
});
