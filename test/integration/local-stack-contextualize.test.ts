import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JOBS_QUEUE } from '../../local/local-stack.js';
import { buildCommandJob } from '../factories/jobs.js';
import { replyTo, type StackDriver, startStackDriver } from '../support/local-stack-driver.js';

let driver: StackDriver;

beforeAll(async () => {
  driver = await startStackDriver();
}, 60_000);
afterAll(async () => driver?.close());
afterEach(async () => driver.clearFaults());

const commentsMentioning = (state: Awaited<ReturnType<StackDriver['state']>>, marker: string) =>
  state.sandbox.linear.comments.filter((comment) => comment.body.includes(marker));

describe('contextualize through the local stack', () => {
  it('comments the context packet on a new issue and answers in Discord, without pinging anyone', async () => {
    const marker = `first-run-${Date.now()}`;
    const sent = await driver.sendCommand('contextualize-message', [
      `Pay button crashes ${marker} maya@example.com`,
    ]);
    expect(sent.status).toBe(200);
    expect(JSON.parse(sent.body)).toEqual({ type: 5 });

    const reply = await driver.waitFor('the reply', (state) => replyTo(state, sent.interaction));
    expect(reply.content).toMatch(/^Context added to \*\*ENG-\d+\*\*/);
    expect(reply.allowedMentions).toEqual({ parse: [] });

    const state = await driver.waitFor('the comment', (current) =>
      commentsMentioning(current, marker).length > 0 ? current : undefined,
    );
    const [comment] = commentsMentioning(state, marker);
    expect(comment?.body).toContain('### PostHog session replay');
    expect(comment?.body).toContain("TypeError: Cannot read properties of undefined (reading 'map')");
    const issue = state.sandbox.linear.issues.find((candidate) => candidate.id === comment?.issueId);
    expect(reply.content).toContain(issue?.identifier);
  });

  it('uses the issue named in the command', async () => {
    const sent = await driver.sendCommand('contextualize', [], { issue: 'ENG-2' });
    const reply = await driver.waitFor('the reply', (state) => replyTo(state, sent.interaction));
    expect(reply.content).toContain('**ENG-2**');
    // Exactly one, once the job is finished (not merely once the reply is in).
    const state = await driver.waitForIdle();
    const eng2 = state.sandbox.linear.issues.find((issue) => issue.identifier === 'ENG-2');
    expect(state.sandbox.linear.comments.filter((comment) => comment.issueId === eng2?.id)).toHaveLength(1);
  });

  it('refuses plainly when the named issue does not exist, adding nothing', async () => {
    const before = (await driver.state()).sandbox.linear.comments.length;
    const sent = await driver.sendCommand('contextualize', [], { issue: 'ENG-999' });
    const reply = await driver.waitFor('the reply', (state) => replyTo(state, sent.interaction));
    expect(reply.content).toContain("couldn't find ENG-999");
    expect((await driver.waitForIdle()).sandbox.linear.comments).toHaveLength(before);
  });

  it('makes one comment and one reply when the same job is delivered three times, even at once', async () => {
    const marker = `redelivered-${Date.now()}`;
    const job = buildCommandJob({
      interaction: {
        applicationId: driver.stack.keys.discordApplicationId,
        channelId: driver.sandbox.channelId,
        guildId: driver.sandbox.guildId,
      },
      command: {
        name: 'contextualize',
        source: 'message',
        targetMessage: {
          id: '1300000000000000555',
          channelId: driver.sandbox.channelId,
          authorId: '1300000000000000099',
          authorName: 'devon',
          content: `Cart empties itself ${marker}`,
          timestamp: '2026-11-20T09:00:00.000Z',
        },
      },
    });
    // SQS delivers at least once: the same message can arrive again, even while the first runs.
    const body = JSON.stringify(job);
    for (let copy = 0; copy < 3; copy += 1) driver.stack.engine.sendMessage(JOBS_QUEUE, { body });
    await driver.waitForIdle();
    const state = await driver.state();
    expect(commentsMentioning(state, marker)).toHaveLength(1);
    const replies = state.sandbox.discord.messages.filter(
      (message) => message.interactionToken === job.interaction.token,
    );
    expect(replies).toHaveLength(1);
    expect(replies[0]?.content).toMatch(/^Context added/);
    expect(state.queues.dlq.visible).toBe(0);
  });

  it('puts two concurrent jobs in one thread on one issue', async () => {
    const before = (await driver.state()).sandbox.linear.issues.length;
    const [first, second] = await Promise.all([
      driver.sendCommand('contextualize', [], { thread: true }),
      driver.sendCommand('contextualize', [], { thread: true }),
    ]);
    const replies = await driver.waitFor('both replies', (state) => {
      const a = replyTo(state, first.interaction);
      const b = replyTo(state, second.interaction);
      return a && b ? ([a, b] as const) : undefined;
    });
    const state = await driver.waitForIdle();
    expect(state.sandbox.linear.issues).toHaveLength(before + 1);
    const identifier = replies[0].content.match(/ENG-\d+/)?.[0];
    expect(replies[1].content).toContain(`**${identifier}**`);
  });

  it('recovers when Linear fails twice with 500: one comment, job done', async () => {
    const marker = `flaky-${Date.now()}`;
    await driver.setFault({ service: 'linear', failRate: 0, status: 500, latencyMs: 0, failNext: 2 });
    const sent = await driver.sendCommand('contextualize-message', [`Avatar upload spins ${marker}`]);
    const reply = await driver.waitFor('the reply', (state) => replyTo(state, sent.interaction));
    expect(reply.content).toMatch(/^Context added/);
    await driver.waitForIdle();
    const state = await driver.state();
    expect(commentsMentioning(state, marker)).toHaveLength(1);
    expect(state.queues.dlq.visible).toBe(0);
  });

  it('degrades the packet when PostHog is down, and still finishes', async () => {
    const marker = `posthog-down-${Date.now()}`;
    await driver.setFault({ service: 'posthog', failRate: 1, status: 503, latencyMs: 0 });
    const sent = await driver.sendCommand('contextualize-message', [
      `Search is blank ${marker} devon@example.com`,
    ]);
    const reply = await driver.waitFor('the reply', (state) => replyTo(state, sent.interaction));
    expect(reply.content).toContain('Missing: PostHog.');
    const state = await driver.waitFor('the comment', (current) =>
      commentsMentioning(current, marker).length > 0 ? current : undefined,
    );
    const [comment] = commentsMentioning(state, marker);
    expect(comment?.body).toContain('⚠️ Unavailable: PostHog had an error (HTTP 503)');
    expect(comment?.body).toContain('This packet is incomplete');
  });

  it('dead-letters a job after three receives when Linear fails forever, and tells the user', async () => {
    const dlqBefore = (await driver.state()).queues.dlq.visible;
    await driver.setFault({ service: 'linear', failRate: 1, status: 500, latencyMs: 0 });
    const sent = await driver.sendCommand('contextualize', [], { issue: 'ENG-3' });
    const reply = await driver.waitFor(
      'the failure message',
      (state) => {
        const message = replyTo(state, sent.interaction);
        return message?.content.includes("couldn't finish") ? message : undefined;
      },
      40_000,
    );
    expect(reply.content).toContain('Linear had an error (HTTP 500); I tried several times and gave up');
    await driver.waitFor('the DLQ', (state) => state.queues.dlq.visible === dlqBefore + 1, 20_000);
    const [dead] = driver.stack.engine
      .peekMessages('bugbot-jobs-dlq')
      .filter((message) => message.body.includes(sent.interaction.id));
    expect(dead?.receiveCount).toBe(3);
  }, 60_000);

  it('under a 50% Discord failure rate, comments at most once per job and ends every job done or dead-lettered', async () => {
    await driver.clearFaults();
    const dlqBefore = (await driver.state()).queues.dlq.visible;
    await driver.setFault({ service: 'discord', failRate: 0.5, status: 500, latencyMs: 0 });
    const marker = `chaos-${Date.now()}`;
    const sends = [];
    for (let index = 0; index < 8; index += 1) {
      sends.push(await driver.sendCommand('contextualize-message', [`Chaos report ${index} ${marker}`]));
    }
    const state = await driver.waitForIdle(60_000);
    await driver.clearFaults();
    const dead = driver.stack.engine.peekMessages('bugbot-jobs-dlq');
    for (const [index, sent] of sends.entries()) {
      const comments = commentsMentioning(state, `Chaos report ${index} ${marker}`);
      expect(comments.length).toBeLessThanOrEqual(1);
      const done =
        replyTo(state, sent.interaction)?.content.startsWith('Context added') && comments.length === 1;
      const deadLettered = dead.some((message) => message.body.includes(sent.interaction.id));
      expect(done || deadLettered, `job ${index} ended neither done nor in the DLQ`).toBe(true);
    }
    expect(state.queues.dlq.visible).toBeGreaterThanOrEqual(dlqBefore);
  }, 90_000);
});
