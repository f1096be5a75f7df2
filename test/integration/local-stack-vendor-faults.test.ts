import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEAD_LETTER_QUEUE } from '../../local/local-stack.js';
import {
  replyTo,
  type StackDriver,
  type StackState,
  startStackDriver,
} from '../support/local-stack-driver.js';

/**
 * Vendor misbehaviour through the whole local stack, beyond the fault matrix's rounds: who may
 * look people up, the hourly allowance, Discord down for good, a Draft Fix whose first answer
 * was lost.
 */

let driver: StackDriver;

beforeAll(async () => {
  driver = await startStackDriver({ CONTEXTUALIZE_PER_USER_PER_HOUR: '4', HTTP_TIMEOUT_MS: '800' });
}, 60_000);
afterAll(async () => driver?.close());
afterEach(async () => driver.clearFaults());

interface FailingBug {
  bugId: string;
  status: string;
  card?: { threadId?: string };
  fix?: { jobId: string; branch?: string };
  lastFailure?: { job: string; what: string; at: string; told: boolean };
}

const bugOf = (state: StackState, bugId: string) =>
  state.bugs.find((bug) => bug.bugId === bugId) as FailingBug | undefined;

const posthogCalls = () =>
  (driver.stack.sandbox.standIns.find((standIn) => standIn.service === 'posthog')?.calls ?? []).length;

describe('contextualize and people lookups', () => {
  it('looks nobody up in PostHog for a member without a maintainer role, and says so', async () => {
    const before = posthogCalls();
    const marker = `member-${Date.now()}`;
    const sent = await driver.sendCommand(
      'contextualize-message',
      [`Cart is empty ${marker} maya@example.com`],
      {
        as: 'member',
      },
    );
    const reply = await driver.waitFor('the reply', (state) => replyTo(state, sent.interaction));
    expect(reply.content).toMatch(/^Context added to \*\*ENG-\d+\*\*/);
    expect(reply.content).toContain('PostHog was not looked up: only members with a maintainer role');
    expect(posthogCalls()).toBe(before);
    const comment = (await driver.state()).sandbox.linear.comments.find((entry) =>
      entry.body.includes(marker),
    );
    expect(comment?.body).toContain('may not look people up in PostHog');
    expect(comment?.body).not.toContain('Recent recordings');
  });

  it('puts what PostHog holds in the packet only, never in the answer in the channel', async () => {
    const marker = `maintainer-${Date.now()}`;
    const sent = await driver.sendCommand('contextualize-message', [`Pay fails ${marker} MAYA@Example.com`]);
    const reply = await driver.waitFor('the reply', (state) => replyTo(state, sent.interaction));
    expect(reply.content).toMatch(/^Context added/);
    expect(reply.content).not.toMatch(/recording|exception/i);
    const comment = (await driver.state()).sandbox.linear.comments.find((entry) =>
      entry.body.includes(marker),
    );
    // Found whatever the case of the address, and shown on the tracker.
    expect(comment?.body).toMatch(/Recent recordings of the person with e-mail maya@example\.com/i);
    expect(comment?.body).toMatch(/Exceptions \(\d+\)/);
  });

  it('counts contextualize per person per hour and refuses plainly past the limit', async () => {
    // The maintainer has used one this hour already (above); the limit here is 4.
    const replies: string[] = [];
    for (let index = 0; index < 4; index += 1) {
      const sent = await driver.sendCommand('contextualize-message', [`Allowance ${index} ${Date.now()}`]);
      const reply = await driver.waitFor('the reply', (state) => replyTo(state, sent.interaction));
      replies.push(reply.content);
    }
    expect(replies.slice(0, 3).every((content) => content.startsWith('Context added'))).toBe(true);
    expect(replies[3]).toBe(
      'You have asked for context 4 times this hour, the most one person may; try again next hour.',
    );
  });
});

describe('when Discord itself is down', () => {
  it('keeps the failure on the bug record, ends the job in the DLQ, and shows it once Discord is back', async () => {
    await driver.setFault({ service: 'discord', failRate: 1, status: 503, latencyMs: 0 });
    const sent = await driver.sendReport({
      description: 'Coupon field rejects every code on checkout',
      console_logs:
        "TypeError: Cannot read properties of undefined (reading 'code')\n    at applyCouponXq (https://shop.example.com/a.js:1:2)",
    });
    const bugId = String(sent.body.bugId);
    await driver.waitFor(
      'the job in the DLQ',
      () =>
        driver.stack.engine.peekMessages(DEAD_LETTER_QUEUE).some((message) => message.body.includes(bugId)),
      60_000,
    );
    const state = await driver.waitFor(
      'the failure on the bug',
      (current) => bugOf(current, bugId)?.lastFailure,
    );
    expect(state).toMatchObject({
      job: 'bug.report',
      told: false,
      what: 'Discord had an error (HTTP 503); I tried several times and gave up',
    });
    expect(Date.parse(state.at)).toBeGreaterThan(Date.now() - 120_000);

    await driver.clearFaults();
    const details = await driver.sendCommand('button', ['details', bugId]);
    const reply = await driver.waitFor('the details', (current) => replyTo(current, details.interaction));
    const fields = reply.embeds.flatMap((embed) => embed.fields ?? []);
    expect(fields.find((field) => field.name === 'Last failure')?.value).toContain(
      'nobody could be told in Discord',
    );
  }, 90_000);
});

describe('a Draft Fix whose first answer was lost', () => {
  it('is resumed on the retry, not refused as "already being drafted" by its own first attempt', async () => {
    const sent = await driver.sendReport({
      description: 'Checkout total shows NaN when I press Pay',
      console_logs:
        "TypeError: Cannot read properties of undefined (reading 'map')\n    at cartTotalRz (https://shop.example.com/b.js:1:2)",
    });
    const bugId = String(sent.body.bugId);
    await driver.waitFor('the card', (state) => bugOf(state, bugId)?.card?.threadId);
    await driver.waitForIdle();
    // The first attempt moves the bug to fix_requested, then every answer Discord gives it is
    // cut off (its in-process retries included), so the job fails and comes back.
    await driver.setFault({
      service: 'discord',
      failRate: 0,
      status: 200,
      latencyMs: 0,
      body: 'truncated',
      failNext: 3,
    });
    const click = await driver.sendCommand('button', ['draft_fix', bugId]);
    const reply = await driver.waitFor(
      'the answer',
      (state) => {
        const message = replyTo(state, click.interaction);
        return message && !message.content.includes('already being drafted') ? message : undefined;
      },
      60_000,
    );
    expect(reply.content).toMatch(/^Drafting a fix/);
    const state = await driver.waitFor(
      'the pull request',
      (current) => (bugOf(current, bugId)?.status === 'fix_drafted' ? current : undefined),
      120_000,
    );
    const branch = bugOf(state, bugId)?.fix?.branch;
    const pulls = (state.sandbox.github as { pulls: { head: string }[] }).pulls.filter(
      (pull) => pull.head === branch,
    );
    expect(pulls).toHaveLength(1);
  }, 180_000);
});
