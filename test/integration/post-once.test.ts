import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDiscordStandIn, type DiscordStandIn } from '../../local/stand-ins/discord-stand-in.js';
import { DiscordChatPlatform } from '../../shared/adapters/discord/discord-chat-platform.js';
import { createDiscordRest } from '../../shared/adapters/discord/discord-rest.js';
import type { BugRecords } from '../../shared/ports/bug-records.js';
import type { BugStore, StepRecord } from '../../shared/ports/bug-store.js';
import { type BugFlowContext, NONCE_TRUSTED_MS, postOnce } from '../../shared/use-cases/bug-context.js';
import { type ServedStandIn, serveStandIn } from '../support/serve-stand-in.js';

/**
 * `postOnce` against the Discord stand-in, with Discord's nonce memory made short (it is "a few
 * minutes" at Discord): a post whose answer was lost, retried after the nonce window, must still
 * appear once. The step store is a fake of our own port (pure bookkeeping); the clock is ours.
 */

class MemoryStore implements BugStore {
  readonly steps = new Map<string, StepRecord>();
  async getThreadIssue() {
    return null;
  }
  async claimThreadIssue(): Promise<never> {
    throw new Error('not used');
  }
  async getStep(key: string, step: string) {
    return this.steps.get(`${key}|${step}`) ?? null;
  }
  async recordStep(record: StepRecord) {
    const id = `${record.key}|${record.step}`;
    if (!this.steps.has(id)) this.steps.set(id, record);
  }
}

let standIn: DiscordStandIn;
let served: ServedStandIn;
let clock: number;
let context: BugFlowContext;
let store: MemoryStore;

beforeEach(async () => {
  // Discord would remember the nonce for minutes; here it forgets at once.
  standIn = createDiscordStandIn({ botToken: 'bot', nonceWindowMs: 0 });
  served = await serveStandIn(standIn);
  store = new MemoryStore();
  clock = Date.now();
  const chat = new DiscordChatPlatform(
    createDiscordRest({ botToken: 'bot', api: `${served.baseUrl}/api`, retries: 0, timeoutMs: 2_000 }),
  );
  context = { chat, store, records: {} as BugRecords, now: () => new Date(clock) };
});

afterEach(async () => served.close());

const note = { content: 'Fix drafted: https://github.com/acme/shop/pull/7' };

function input(channelId: string) {
  return {
    channelId,
    message: note,
    nonce: 'bug_1:fix-drafted',
    stepKey: 'bug:bug_1',
    step: 'thread:fix-drafted',
  };
}

async function cutOffOnce(promise: () => Promise<unknown>): Promise<void> {
  standIn.setFault({ failRate: 0, status: 200, latencyMs: 0, body: 'truncated', failNext: 1 });
  await expect(promise()).rejects.toMatchObject({ service: 'discord', retryable: true });
  standIn.setFault(null);
}

describe('postOnce', () => {
  it('posts once when the answer was lost and the retry comes after the nonce window', async () => {
    const channelId = standIn.ids.bugReportsChannelId;
    await cutOffOnce(() => postOnce(input(channelId), context));
    expect(standIn.snapshot().messages).toHaveLength(1);

    clock += NONCE_TRUSTED_MS + 1_000;
    const retried = await postOnce(input(channelId), context);

    const messages = standIn.snapshot().messages;
    expect(messages).toHaveLength(1);
    expect(retried.id).toBe(messages[0]?.id);
    // …and a third delivery asks Discord nothing at all.
    const calls = standIn.calls.length;
    await postOnce(input(channelId), context);
    expect(standIn.calls).toHaveLength(calls);
  });

  it('would post twice without it: the stand-in really forgets the nonce', async () => {
    const channelId = standIn.ids.bugReportsChannelId;
    await context.chat.postMessage(channelId, note, { nonce: 'bug_1:fix-drafted' });
    await context.chat.postMessage(channelId, note, { nonce: 'bug_1:fix-drafted' });
    expect(standIn.snapshot().messages).toHaveLength(2);
  });

  it('posts when the earlier attempt never reached Discord', async () => {
    const channelId = standIn.ids.bugReportsChannelId;
    standIn.setFault({ failRate: 0, status: 502, latencyMs: 0, body: 'html', failNext: 1 });
    await expect(postOnce(input(channelId), context)).rejects.toMatchObject({ retryable: true });
    standIn.setFault(null);
    expect(standIn.snapshot().messages).toHaveLength(0);

    clock += NONCE_TRUSTED_MS + 1_000;
    await postOnce(input(channelId), context);
    expect(standIn.snapshot().messages).toHaveLength(1);
  });

  it('recognises a card by its buttons, even when its text changed between attempts', async () => {
    const channelId = standIn.ids.bugReportsChannelId;
    const card = (state: string) => ({
      embeds: [{ title: `Checkout crash (${state})` }],
      buttonRows: [[{ id: 'bug:details:bug_9', label: 'View Details', style: 'secondary' as const }]],
    });
    const recognize = (post: { buttonIds: readonly string[] }) =>
      post.buttonIds.some((id) => id.endsWith(':bug_9'));
    const cardInput = (state: string) => ({
      channelId,
      message: card(state),
      nonce: 'card:bug_9',
      stepKey: 'bug:bug_9',
      step: 'card',
      recognize,
    });
    await cutOffOnce(() => postOnce(cardInput('analysis pending'), context));
    clock += NONCE_TRUSTED_MS + 1_000;
    await postOnce(cardInput('analysis failed'), context);
    expect(standIn.snapshot().messages).toHaveLength(1);
  });
});
