import { createHmac, randomUUID } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  replyTo,
  type SentMessage,
  type StackDriver,
  type StackState,
  startStackDriver,
} from '../support/local-stack-driver.js';

/**
 * The whole life of a bug through the local stack (DESIGN "Hearing back", "Telling the
 * reporters"): report → card → issue → fix → preview → merge → resolved, the reporters told in
 * Discord and the product told through its status webhook; then the same crash again → regressed.
 * The GitHub and Linear stand-ins deliver their webhooks as the services do; the deliveries this
 * test forges or repeats are signed here with node:crypto, independently of the code under test.
 */

let driver: StackDriver;

beforeAll(async () => {
  driver = await startStackDriver();
}, 60_000);
afterAll(async () => driver?.close());

interface LoopBug {
  bugId: string;
  status: string;
  reportCount: number;
  regressionCount?: number;
  issue?: { identifier: string; url: string; id: string };
  card?: { channelId: string; messageId: string; threadId?: string };
  fix?: { branch?: string; pullRequestUrl?: string; previewUrl?: string; status?: string };
  resolution?: { by: string; pullRequestUrl?: string };
  discordReporters?: string[];
  dismissal?: { by: string; reason: string };
}
interface Pull {
  number: number;
  head: string;
  url: string;
  state: string;
  merged: boolean;
}
interface HeardEvent {
  webhookId: string;
  verified: boolean;
  status: number;
  type?: string;
  data?: {
    bugId: string;
    status: string;
    reports: { id: string | null; user_id: string | null; user_email: string | null }[];
    pullRequestUrl?: string;
  };
}

const bugOf = (state: StackState, bugId: string) =>
  state.bugs.find((bug) => bug.bugId === bugId) as unknown as LoopBug | undefined;
const pullsOf = (state: StackState) => (state.sandbox.github as { pulls: Pull[] }).pulls;
const heardOf = (state: StackState) => (state.sandbox.product as { statusEvents: HeardEvent[] }).statusEvents;
const threadOf = (state: StackState, bugId: string): SentMessage[] => {
  const threadId = bugOf(state, bugId)?.card?.threadId;
  return state.sandbox.discord.messages.filter((message) => threadId && message.threadId === threadId);
};
const cardOf = (state: StackState, bugId: string) =>
  state.sandbox.discord.messages.find((message) => message.id === bugOf(state, bugId)?.card?.messageId);
const cardsIn = (state: StackState) =>
  state.sandbox.discord.messages.filter((message) => message.kind === 'channel' && message.embeds.length > 0);

const crash = (hash: string, line: number) =>
  [
    "TypeError: Cannot read properties of undefined (reading 'price')",
    `    at OrderSummary (https://shop.example.com/assets/main.${hash}.js:${line}:17)`,
    `    at CheckoutPage (https://shop.example.com/assets/main.${hash}.js:${line + 30}:9)`,
  ].join('\n');

async function report(body: Record<string, unknown>): Promise<string> {
  const sent = await driver.sendReport(body);
  expect(sent.status).toBe(202);
  return String(sent.body.bugId);
}

async function waitForStatus(bugId: string, status: string, timeoutMs = 30_000): Promise<StackState> {
  return driver.waitFor(
    `${bugId} to be ${status}`,
    (state) => (bugOf(state, bugId)?.status === status ? state : undefined),
    timeoutMs,
  );
}

async function click(action: string, bugId: string) {
  const sent = await driver.sendCommand('button', [action, bugId]);
  expect(sent.status).toBe(200);
  return driver.waitFor(`the ${action} reply`, (state) => replyTo(state, sent.interaction));
}

async function post(path: string, body: unknown = {}) {
  const response = await fetch(`${driver.stack.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** A GitHub delivery signed here, as GitHub signs it (HMAC-SHA256 of the body, hex, `sha256=`). */
async function sendGitHub(
  event: string,
  payload: unknown,
  options: { deliveryId?: string; secret?: string } = {},
) {
  const body = JSON.stringify(payload);
  const signature = `sha256=${createHmac('sha256', options.secret ?? driver.stack.loop.githubWebhookSecret)
    .update(body)
    .digest('hex')}`;
  const response = await fetch(`${driver.stack.url}/webhooks/github`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': options.deliveryId ?? randomUUID(),
      'x-hub-signature-256': signature,
    },
    body,
  });
  return response.status;
}

async function draftFix(bugId: string): Promise<Pull> {
  await click('draft_fix', bugId);
  const state = await waitForStatus(bugId, 'fix_drafted', 120_000);
  const branch = bugOf(state, bugId)?.fix?.branch;
  const pull = pullsOf(state).find((candidate) => candidate.head === branch);
  if (!pull) throw new Error('no pull request for the fix');
  return pull;
}

describe('closing the loop through the local stack', () => {
  let checkoutBug: string;
  let checkoutPull: Pull;
  let issueIdentifier: string;

  it('triages a report and tells the product (bug.triaged, signed, verified by the product)', async () => {
    checkoutBug = await report({
      id: 'rep_101',
      description: 'Checkout crashes when I open the order summary',
      user_id: 'u_maya',
      user_email: 'maya@example.com',
      console_logs: crash('3f2a9c1b', 88),
    });
    const state = await driver.waitFor('bug.triaged at the product', (current) =>
      heardOf(current).find((event) => event.type === 'bug.triaged' && event.data?.bugId === checkoutBug)
        ? current
        : undefined,
    );
    const heard = heardOf(state).filter((event) => event.data?.bugId === checkoutBug);
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({
      verified: true,
      status: 204,
      data: {
        status: 'triaged',
        reports: [{ id: 'rep_101', user_id: 'u_maya', user_email: 'maya@example.com' }],
      },
    });
    expect(heard[0]?.webhookId).toMatch(/^msg_[0-9a-f]{32}$/);
  });

  it('records the author of a reported Discord message as a reporter of the bug', async () => {
    const issueReply = await click('create_issue', checkoutBug);
    const state = await waitForStatus(checkoutBug, 'issue_created');
    issueIdentifier = bugOf(state, checkoutBug)?.issue?.identifier ?? 'missing';
    expect(issueReply.content).toContain(issueIdentifier);
    // "Contextualize bug" on devon's message that names the issue: devon reported it too.
    const sent = await driver.sendCommand('contextualize-message', [
      `same here, ${issueIdentifier} breaks my checkout`,
    ]);
    expect(sent.status).toBe(200);
    await driver.waitFor('devon recorded', (current) =>
      bugOf(current, checkoutBug)?.discordReporters?.includes('1300000000000000099') ? current : undefined,
    );
  });

  it('returns the bug to where it was before the fix when its pull request is closed unmerged', async () => {
    const pull = await draftFix(checkoutBug);
    const closed = await post(`/_local/github/pulls/${pull.number}/close`);
    expect((closed.body.delivery as { status: number }).status).toBe(202);
    const state = await waitForStatus(checkoutBug, 'issue_created');
    expect(bugOf(state, checkoutBug)?.fix?.status).toBe('closed');
    const note = await driver.waitFor('the closed note', (current) =>
      threadOf(current, checkoutBug).find((message) =>
        message.content.includes('was closed without merging'),
      ),
    );
    expect(note.content).toContain(pull.url);
    expect(note.content).toContain('tracked in an issue again');
  }, 150_000);

  it('posts the preview of the fix once, from a deployment of its branch', async () => {
    checkoutPull = await draftFix(checkoutBug);
    const first = await post('/_local/github/deployments', {
      ref: checkoutPull.head,
      environment_url: 'https://shop-git-fix-checkout.vercel.app/',
    });
    expect(first.status).toBe(200);
    expect((first.body.delivery as { status: number }).status).toBe(202);
    const second = await post('/_local/github/deployments', {
      ref: checkoutPull.head,
      environment_url: 'https://shop-git-fix-checkout-2.vercel.app/',
    });
    expect((second.body.delivery as { status: number }).status).toBe(202);
    await driver.waitForIdle();
    const state = await driver.waitFor('the preview in the thread', (current) =>
      threadOf(current, checkoutBug).some((message) => message.content.startsWith('Preview'))
        ? current
        : undefined,
    );
    const previews = threadOf(state, checkoutBug).filter((message) => message.content.startsWith('Preview'));
    expect(previews).toHaveLength(1);
    expect(previews[0]?.content).toContain('https://shop-git-fix-checkout.vercel.app/');
    expect(bugOf(state, checkoutBug)?.fix?.previewUrl).toBe('https://shop-git-fix-checkout.vercel.app/');
  }, 150_000);

  it('refuses forged, unsigned and wrongly signed GitHub deliveries with 401, queueing nothing', async () => {
    const before = driver.stack.engine.counts('bugbot-jobs');
    const payload = { action: 'closed', number: checkoutPull.number };
    expect(await sendGitHub('pull_request', payload, { secret: 'not-the-secret' })).toBe(401);
    const unsigned = await fetch(`${driver.stack.url}/webhooks/github`, {
      method: 'POST',
      headers: { 'x-github-event': 'pull_request', 'x-github-delivery': randomUUID() },
      body: JSON.stringify(payload),
    });
    expect(unsigned.status).toBe(401);
    const after = driver.stack.engine.counts('bugbot-jobs');
    expect(after.visible + after.inFlight + after.delayed).toBe(
      before.visible + before.inFlight + before.delayed,
    );
    expect(bugOf(await driver.state(), checkoutBug)?.status).toBe('fix_drafted');
  });

  it('resolves the bug when its pull request is merged, mentioning its Discord reporters once', async () => {
    const merged = await post(`/_local/github/pulls/${checkoutPull.number}/merge`);
    expect(merged.status).toBe(200);
    expect((merged.body.delivery as { status: number }).status).toBe(202);
    const state = await waitForStatus(checkoutBug, 'resolved');
    const bug = bugOf(state, checkoutBug);
    expect(bug?.resolution).toMatchObject({ by: 'github', pullRequestUrl: checkoutPull.url });
    expect(pullsOf(state).find((pull) => pull.number === checkoutPull.number)).toMatchObject({
      state: 'closed',
      merged: true,
    });
    const fixed = await driver.waitFor('the fixed note', (current) =>
      threadOf(current, checkoutBug).find((message) => message.content.startsWith('✅ Fixed')),
    );
    expect(fixed.content).toContain(checkoutPull.url);
    expect(fixed.content).toContain('<@1300000000000000099>');
    expect(fixed.allowedMentions).toEqual({ parse: [], users: ['1300000000000000099'] });
    // Nobody else is ever pinged: every other message bugbot sent mentions no one.
    const others = (await driver.state()).sandbox.discord.messages.filter(
      (message) => message.id !== fixed.id,
    );
    for (const message of others) {
      if (message.allowedMentions) expect(message.allowedMentions).toEqual({ parse: [] });
    }
    // The card shows it resolved, with no action left but View Details.
    const card = await driver.waitFor('the resolved card', (current) => {
      const message = cardOf(current, checkoutBug);
      return message?.embeds[0]?.fields?.some(
        (field) => field.name === 'Status' && field.value === 'Resolved',
      )
        ? message
        : undefined;
    });
    const buttons = card.components.flatMap((row) => row.components).filter((button) => button.custom_id);
    expect(buttons.filter((button) => !button.disabled).map((button) => button.custom_id)).toEqual([
      `bug:details:${checkoutBug}`,
    ]);
    expect(card.embeds[0]?.fields?.find((field) => field.name === 'Resolved')?.value).toContain(
      checkoutPull.url,
    );
    // The product hears it, with the report it sent.
    const heard = await driver.waitFor('bug.resolved at the product', (current) =>
      heardOf(current).find((event) => event.type === 'bug.resolved' && event.data?.bugId === checkoutBug),
    );
    expect(heard).toMatchObject({
      verified: true,
      data: { status: 'resolved', pullRequestUrl: checkoutPull.url },
    });
    expect(heard.data?.reports.map((entry) => entry.id)).toEqual(['rep_101']);
  }, 60_000);

  it('shows the resolution in /bugbot status and the dashboard', async () => {
    const status = await driver.sendCommand('status', [], { issue: issueIdentifier });
    const reply = await driver.waitFor('the status reply', (state) => replyTo(state, status.interaction));
    const history = (reply.embeds[0]?.description ?? '').replace(/\\/g, '');
    expect(JSON.stringify(reply.embeds[0]?.fields)).toContain('Resolved');
    expect(history).toMatch(/github · transition — fix_drafted → resolved \(PR #\d+ merged\)/);
    expect(history).toMatch(/github · transition — fix_drafted → issue_created \(PR #\d+ closed unmerged\)/);
    const dashboard = await driver.sendCommand('dashboard');
    const board = await driver.waitFor('the dashboard', (state) => replyTo(state, dashboard.interaction));
    expect(board.embeds[0]?.description).toMatch(/Resolved [1-9]/);
  });

  it('changes nothing twice when GitHub redelivers the merge', async () => {
    const before = await driver.state();
    const deliveryId = randomUUID();
    const payload = {
      action: 'closed',
      number: checkoutPull.number,
      pull_request: {
        number: checkoutPull.number,
        html_url: checkoutPull.url,
        merged: true,
        head: { ref: checkoutPull.head, sha: '' },
      },
      repository: { full_name: 'acme/shop' },
    };
    expect(await sendGitHub('pull_request', payload, { deliveryId })).toBe(202);
    expect(await sendGitHub('pull_request', payload, { deliveryId })).toBe(202);
    const after = await driver.waitForIdle();
    const notes = (state: StackState) =>
      threadOf(state, checkoutBug).filter((message) => message.content.startsWith('✅'));
    expect(notes(after)).toHaveLength(notes(before).length);
    expect(bugOf(after, checkoutBug)?.status).toBe('resolved');
    expect(after.queues.dlq.visible).toBe(before.queues.dlq.visible);
  });

  it('answers events bugbot does not act on, and branches it does not know, with 202 and does nothing', async () => {
    const before = await driver.state();
    expect(await sendGitHub('ping', { zen: 'Keep it logically awesome.', hook_id: 1 })).toBe(200);
    expect(await sendGitHub('issues', { action: 'opened', repository: { full_name: 'acme/shop' } })).toBe(
      202,
    );
    const unknownBranch = {
      action: 'closed',
      number: 999,
      pull_request: {
        number: 999,
        html_url: 'https://github.com/acme/shop/pull/999',
        merged: true,
        head: { ref: 'bugbot/fix-nobody-1234', sha: '' },
      },
      repository: { full_name: 'acme/shop' },
    };
    expect(await sendGitHub('pull_request', unknownBranch)).toBe(202);
    const otherRepo = {
      ...unknownBranch,
      pull_request: { ...unknownBranch.pull_request, head: { ref: checkoutPull.head, sha: '' } },
      repository: { full_name: 'someone/else' },
    };
    expect(await sendGitHub('pull_request', otherRepo)).toBe(202);
    const after = await driver.waitForIdle();
    expect(after.bugs.map((bug) => [bug.bugId, bug.status])).toEqual(
      before.bugs.map((bug) => [bug.bugId, bug.status]),
    );
    expect(after.sandbox.discord.messages.length).toBe(before.sandbox.discord.messages.length);
    expect(after.queues.dlq.visible).toBe(before.queues.dlq.visible);
  });

  it('reopens the resolved bug as regressed when the same crash is reported again: no new card', async () => {
    const cardsBefore = cardsIn(await driver.state()).length;
    const again = await report({
      id: 'rep_202',
      description: 'the order summary page is blank again on my phone',
      user_id: 'u_devon',
      user_email: 'devon@example.com',
      console_logs: crash('77ee00aa', 12),
    });
    const state = await driver.waitFor('the regression counted', (current) =>
      bugOf(current, checkoutBug)?.status === 'regressed' && bugOf(current, checkoutBug)?.reportCount === 2
        ? current
        : undefined,
    );
    const bug = bugOf(state, checkoutBug);
    expect(bug?.regressionCount).toBe(1);
    expect(bug?.reportCount).toBe(2);
    expect(bugOf(state, again)?.status).toBe('duplicate');
    const note = await driver.waitFor('the regression note', (current) =>
      threadOf(current, checkoutBug).find((message) => message.content.startsWith('🔁 Regressed')),
    );
    expect(note.content).toContain(checkoutPull.url);
    const heard = await driver.waitFor('bug.regressed at the product', (current) =>
      heardOf(current).find((event) => event.type === 'bug.regressed' && event.data?.bugId === checkoutBug),
    );
    expect(heard.data?.reports.map((entry) => entry.id).sort()).toEqual(['rep_101', 'rep_202']);
    await driver.waitFor('the card to show the regression', (current) =>
      cardOf(current, checkoutBug)?.embeds[0]?.fields?.some(
        (field) => field.name === 'Status' && field.value === 'Regressed',
      ),
    );
    expect(cardsIn(await driver.waitForIdle()).length).toBe(cardsBefore);
  });

  it('does not reopen a resolved bug on a text-only match', async () => {
    // Resolve it again through Linear: its issue completed.
    const done = await post(`/_local/linear/issues/${issueIdentifier}/state`, { type: 'completed' });
    expect(done.status).toBe(200);
    expect((done.body.delivery as { status: number }).status).toBe(202);
    await waitForStatus(checkoutBug, 'resolved');
    const lookalike = await report({
      description: 'Checkout crashes when I open the order summary',
      user_id: 'u_sam',
    });
    const state = await driver.waitFor('the look-alike triaged', (current) =>
      ['triaged', 'new'].includes(bugOf(current, lookalike)?.status ?? '') &&
      bugOf(current, lookalike)?.card?.threadId
        ? current
        : undefined,
    );
    expect(bugOf(state, checkoutBug)?.status).toBe('resolved');
    expect(bugOf(state, lookalike)?.status).not.toBe('duplicate');
  });
});

describe('Linear cancels', () => {
  it('dismisses a bug whose Linear issue is canceled (GraphQL issueUpdate), and refuses a stale delivery', async () => {
    const bugId = await report({ description: 'Avatar upload spinner never stops', user_id: 'u_kim' });
    await waitForStatus(bugId, 'triaged');
    await click('create_issue', bugId);
    const created = await waitForStatus(bugId, 'issue_created');
    const issue = bugOf(created, bugId)?.issue;
    // A stale delivery, signed correctly: refused.
    const staleBody = JSON.stringify({
      action: 'update',
      type: 'Issue',
      data: { id: issue?.id, identifier: issue?.identifier, state: { type: 'canceled', name: 'Canceled' } },
      updatedFrom: { stateId: 'x' },
      webhookTimestamp: Date.now() - 120_000,
    });
    const stale = await fetch(`${driver.stack.url}/webhooks/linear`, {
      method: 'POST',
      headers: {
        'linear-delivery': randomUUID(),
        'linear-signature': createHmac('sha256', driver.stack.loop.linearWebhookSecret)
          .update(staleBody)
          .digest('hex'),
      },
      body: staleBody,
    });
    expect(stale.status).toBe(401);
    // Canceled the way a Linear client does it: the issueUpdate mutation.
    const states = (await graphql('{ workflowStates { nodes { id type } } }')) as {
      workflowStates: { nodes: { id: string; type: string }[] };
    };
    const canceled = states.workflowStates.nodes.find((state) => state.type === 'canceled');
    await graphql(
      'mutation($id: String!, $input: IssueUpdateInput!) { issueUpdate(id: $id, input: $input) { success } }',
      {
        id: issue?.id,
        input: { stateId: canceled?.id },
      },
    );
    const state = await waitForStatus(bugId, 'dismissed');
    expect(bugOf(state, bugId)?.dismissal).toMatchObject({ by: 'Linear', reason: 'canceled in Linear' });
  });
});

describe('the product status webhook when the product is down', () => {
  it('retries the event with the same webhook-id and dead-letters it if never accepted', async () => {
    await post('/_local/faults', { service: 'product', failRate: 1, status: 503 });
    try {
      const before = await driver.state();
      const bugId = await report({ id: 'rep_303', description: 'Search results flicker', user_id: 'u_ana' });
      // The product answers 503 before reading a body: the attempts are the 503s since `before`.
      const refusedBefore = heardOf(before).filter((event) => event.status === 503).length;
      const attemptsIn = (current: StackState) =>
        heardOf(current)
          .filter((event) => event.status === 503)
          .slice(refusedBefore);
      // Its third refused attempt, and then the DLQ (another test's job may land there too:
      // wait for this event's own attempts, not only for the count to move).
      const state = await driver.waitFor(
        'the status event in the DLQ',
        (current) =>
          attemptsIn(current).length >= 3 && current.queues.dlq.visible > before.queues.dlq.visible
            ? current
            : undefined,
        60_000,
      );
      const attempts = attemptsIn(state);
      expect(attempts).toHaveLength(3);
      expect(new Set(attempts.map((event) => event.webhookId)).size).toBe(1);
      expect(bugOf(state, bugId)?.status).toBe('triaged');
    } finally {
      await post('/_local/faults', { service: 'product', clear: true });
    }
  }, 90_000);

  it('signs what it sends so the product can verify it (standardwebhooks, independently)', () => {
    const body = JSON.stringify({ type: 'bug.resolved' });
    const secret = driver.stack.loop.bugStatusWebhookSecret;
    const sentAt = new Date();
    const signature = new Webhook(secret).sign('msg_1', sentAt, body);
    const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
    const expected = createHmac('sha256', key)
      .update(`msg_1.${Math.floor(sentAt.getTime() / 1000)}.${body}`)
      .digest('base64');
    expect(signature).toBe(`v1,${expected}`);
  });
});

async function graphql(query: string, variables: Record<string, unknown> = {}): Promise<unknown> {
  const response = await fetch(`${driver.stack.url}/_sandbox/linear/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'lin_api_sandbox' },
    body: JSON.stringify({ query, variables }),
  });
  const answer = (await response.json()) as { data?: unknown; errors?: unknown };
  if (answer.errors) throw new Error(JSON.stringify(answer.errors));
  return answer.data;
}
