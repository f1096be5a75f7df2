import { describe, expect, it } from 'vitest';
import {
  type ApiMessageLike,
  buildConsoleView,
  type ConsoleViewInput,
  type LoggedInteraction,
  type SentMessageLike,
  type ViewMessage,
} from '../../local/console/console-view.js';

const BUG_REPORTS = '1100000000000000004';
const GENERAL = '1100000000000000003';
const CARD = '1100000000000000100';

const card: ApiMessageLike = {
  id: CARD,
  author: { username: 'bugbot', global_name: 'bugbot', bot: true },
  content: '',
  timestamp: '2026-01-01T10:00:00.000Z',
  edited_timestamp: '2026-01-01T10:05:00.000Z',
  embeds: [{ title: 'Checkout crashes' }],
  components: [
    { type: 1, components: [{ type: 2, label: 'Create Issue', custom_id: 'bug:create_issue:b1' }] },
  ],
  flags: 32,
  thread: { id: CARD, name: 'Bug: Checkout crashes' },
};
const person: ApiMessageLike = {
  id: '1100000000000000050',
  author: { username: 'devonp', global_name: 'Devon Park' },
  content: 'checkout is broken',
  timestamp: '2026-01-01T09:00:00.000Z',
  edited_timestamp: null,
  embeds: [],
  components: [],
  flags: 0,
};
const threadNote: ApiMessageLike = {
  id: '1100000000000000101',
  author: { username: 'bugbot', bot: true },
  content: 'Issue ENG-6 created',
  timestamp: '2026-01-01T10:04:00.000Z',
};

function answer(
  token: string,
  kind: string,
  at: string,
  overrides: Partial<SentMessageLike> = {},
): SentMessageLike {
  return {
    id: `9${at.replace(/\D/g, '').slice(0, 17)}`,
    kind,
    interactionToken: token,
    content: `answer to ${token}`,
    embeds: [],
    components: [],
    flags: 0,
    createdAt: at,
    ...overrides,
  };
}

function logged(token: string, at: string, overrides: Partial<LoggedInteraction> = {}): LoggedInteraction {
  return {
    token,
    at,
    channelId: BUG_REPORTS,
    user: 'maya',
    label: 'clicked View Details',
    status: 200,
    response: { type: 5, data: { flags: 64 } },
    ...overrides,
  };
}

function input(overrides: Partial<ConsoleViewInput> & { sent?: SentMessageLike[] } = {}): ConsoleViewInput {
  const histories: Record<string, ApiMessageLike[]> = {
    [BUG_REPORTS]: [person, card],
    [GENERAL]: [],
    [CARD]: [threadNote],
  };
  return {
    discord: {
      bugReportsChannelId: BUG_REPORTS,
      channels: [
        { id: GENERAL, name: 'general' },
        { id: BUG_REPORTS, name: 'bug-reports' },
      ],
      sent: overrides.sent ?? [],
      history: (channelId) => histories[channelId] ?? [],
    },
    interactions: [],
    queues: { jobs: { visible: 0, inFlight: 0 }, dlq: [] },
    services: [],
    ...overrides,
  };
}

function channel(view: ReturnType<typeof buildConsoleView>, id = BUG_REPORTS): ViewMessage[] {
  if (!view.discord.sandboxed) throw new Error('not sandboxed');
  return view.discord.channels.find((candidate) => candidate.id === id)?.messages ?? [];
}

describe('the console view', () => {
  it('shows a channel as its members see it: people, cards with their buttons, threads under their cards', () => {
    const messages = channel(buildConsoleView(input()));
    expect(messages.map((message) => [message.author.name, message.human])).toEqual([
      ['Devon Park', true],
      ['bugbot', false],
    ]);
    const shown = messages[1];
    expect(shown?.edited).toBe(true);
    expect(shown?.components).toEqual(card.components);
    expect(shown?.thread?.name).toBe('Bug: Checkout crashes');
    expect(shown?.thread?.messages.map((message) => [message.content, message.threadId])).toEqual([
      ['Issue ENG-6 created', CARD],
    ]);
  });

  it('shows a deferred answer as "thinking" until bugbot writes it, then in its place, ephemeral as deferred', () => {
    const interaction = logged('t1', '2026-01-01T11:00:00.000Z');
    const thinking = channel(buildConsoleView(input({ interactions: [interaction] }))).at(-1);
    expect(thinking).toMatchObject({
      pending: true,
      ephemeral: true,
      interaction: { user: 'maya', label: 'clicked View Details' },
    });

    const written = channel(
      buildConsoleView(
        input({
          interactions: [interaction],
          sent: [answer('t1', 'interaction-original', '2026-01-01T11:00:01.000Z')],
        }),
      ),
    ).at(-1);
    expect(written).toMatchObject({
      pending: false,
      ephemeral: true,
      content: 'answer to t1',
      at: '2026-01-01T11:00:00.000Z',
      interaction: { label: 'clicked View Details' },
    });
  });

  it('shows an immediate refusal as only-you-can-see, and a failed interaction as failed', () => {
    const messages = channel(
      buildConsoleView(
        input({
          interactions: [
            logged('t2', '2026-01-01T12:00:00.000Z', {
              label: 'clicked Draft Fix',
              response: { type: 4, data: { flags: 64, content: 'Only members with a fix-approver role…' } },
            }),
            logged('t3', '2026-01-01T12:01:00.000Z', { status: 401 }),
          ],
        }),
      ),
    );
    expect(messages.at(-2)).toMatchObject({
      ephemeral: true,
      content: 'Only members with a fix-approver role…',
    });
    expect(messages.at(-1)?.failed).toContain('HTTP 401');
  });

  it('puts an answer in the thread the command was used in, and follow-ups after it', () => {
    const messages = channel(
      buildConsoleView(
        input({
          interactions: [
            logged('t4', '2026-01-01T10:10:00.000Z', {
              threadId: CARD,
              label: 'used /bugbot status',
              response: { type: 5 },
            }),
          ],
          sent: [
            answer('t4', 'interaction-original', '2026-01-01T10:10:01.000Z'),
            answer('t4', 'followup', '2026-01-01T10:10:02.000Z', { content: 'more', flags: 64 }),
          ],
        }),
      ),
    );
    const thread = messages.find((message) => message.thread)?.thread?.messages ?? [];
    expect(thread.map((message) => [message.content, message.ephemeral])).toEqual([
      ['Issue ENG-6 created', false],
      ['answer to t4', false],
      ['more', true],
    ]);
  });

  it('puts answers to interactions sent from elsewhere (npm run discord) in #bug-reports, said so', () => {
    const messages = channel(
      buildConsoleView(input({ sent: [answer('cli', 'interaction-original', '2026-01-01T13:00:00.000Z')] })),
    );
    expect(messages.at(-1)).toMatchObject({
      content: 'answer to cli',
      interaction: { label: 'an interaction sent outside the console' },
    });
  });

  it('lists dead letters by kind, key and reason, never with the report text they carry', () => {
    const view = buildConsoleView(
      input({
        queues: {
          jobs: { visible: 1, inFlight: 2 },
          dlq: [
            {
              messageId: 'm1',
              body: JSON.stringify({
                kind: 'bug.report',
                idempotencyKey: 'webhook:msg_1',
                report: { description: 'SECRET TEXT' },
              }),
              state: 'visible',
              receiveCount: 3,
              sentTimestamp: Date.UTC(2026, 0, 1),
              messageAttributes: { failure: { dataType: 'String', stringValue: 'anthropic answered 529' } },
            },
            { messageId: 'm2', body: 'not json', state: 'visible', receiveCount: 1, sentTimestamp: 0 },
          ],
        },
      }),
    );
    expect(view.queues.jobs).toEqual({ visible: 1, inFlight: 2 });
    expect(view.queues.dlq.messages).toEqual([
      {
        messageId: 'm1',
        kind: 'bug.report',
        idempotencyKey: 'webhook:msg_1',
        receiveCount: 3,
        sentAt: '2026-01-01T00:00:00.000Z',
        failure: 'anthropic answered 529',
      },
      {
        messageId: 'm2',
        kind: 'not a job',
        idempotencyKey: '',
        receiveCount: 1,
        sentAt: '1970-01-01T00:00:00.000Z',
        failure: 'unknown',
      },
    ]);
    expect(JSON.stringify(view)).not.toContain('SECRET TEXT');
  });

  it('gives each Linear issue its own comments and attachments, newest issue first', () => {
    const view = buildConsoleView(
      input({
        linear: {
          issues: [
            { id: 'i1', identifier: 'ENG-1', title: 'old', state: 'Done', url: 'u1', description: null },
            { id: 'i2', identifier: 'ENG-2', title: 'new', state: 'Backlog', url: 'u2', description: 'd' },
          ],
          comments: [
            { id: 'c1', issueId: 'i2', body: '| a |\n|---|\n| b |', createdAt: 't' },
            { id: 'c2', issueId: 'i1', body: 'other', createdAt: 't' },
          ],
          attachments: [
            {
              id: 'a1',
              issueId: 'i2',
              url: 'https://github.com/acme/shop/pull/1',
              title: 'PR #1',
              subtitle: 'open',
            },
          ],
        },
      }),
    );
    expect(
      view.linear.issues.map((issue) => [
        issue.identifier,
        issue.comments.map((c) => c.id),
        issue.attachments.length,
      ]),
    ).toEqual([
      ['ENG-2', ['c1'], 1],
      ['ENG-1', ['c2'], 0],
    ]);
    expect(view.linear.issues[1]?.description).toBe('');
  });

  it('says which services are real: no Discord, Linear or GitHub sandbox, nothing of theirs shown', () => {
    const view = buildConsoleView({ ...input(), discord: undefined });
    expect(view.discord).toEqual({ sandboxed: false });
    expect(view.linear).toEqual({ sandboxed: false, issues: [] });
    expect(view.github).toEqual({ sandboxed: false, pulls: [], issues: [] });
  });
});
