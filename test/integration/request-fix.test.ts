import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbBugRecords } from '../../shared/adapters/dynamodb/dynamodb-bug-records.js';
import { DynamoDbBugStore } from '../../shared/adapters/dynamodb/dynamodb-bug-store.js';
import { DynamoDbFixJobs } from '../../shared/adapters/dynamodb/dynamodb-fix-jobs.js';
import { createNewBug } from '../../shared/domain/bug.js';
import { ServiceError } from '../../shared/domain/errors.js';
import type { FixJobSpec } from '../../shared/jobs/fix-job-spec.js';
import type { DiscordComponentJob } from '../../shared/jobs/job-schemas.js';
import type { ChatPlatform, OutgoingMessage } from '../../shared/ports/chat-platform.js';
import type { CodeHost } from '../../shared/ports/code-host.js';
import type { IssueTracker } from '../../shared/ports/issue-tracker.js';
import { fixJobIdFor, type RequestFixDeps, requestFix } from '../../shared/use-cases/request-fix.js';
import { startTestTable, type TestTable } from '../support/dynalite.js';

// requestFix on real storage (dynalite); the outside services are fakes of our own ports.
let table: TestTable;
beforeAll(async () => {
  table = await startTestTable();
});
afterAll(async () => table?.close());

class RecordingChat implements ChatPlatform {
  readonly posts: { channelId: string; message: OutgoingMessage }[] = [];
  async fetchRecentMessages() {
    return [];
  }
  async postMessage(channelId: string, message: OutgoingMessage) {
    this.posts.push({ channelId, message });
    return { id: String(this.posts.length) };
  }
  async editMessage() {}
  async startThread() {
    return { id: 'thread' };
  }
  async editInteractionResponse() {}
  async sendFollowup() {
    return { id: 'f' };
  }
}

const codeHost: CodeHost = {
  createIssueOnce: async () => expect.fail('not used'),
  openPullRequest: async () => expect.fail('not used'),
  searchCode: async () => [{ path: 'src/cart.js' }, { path: 'package.json' }],
  getDefaultBranch: async () => 'main',
};
const tracker = { getIssue: async () => null } as unknown as IssueTracker;

function setup(launch: (spec: FixJobSpec) => Promise<{ taskId: string }>) {
  const chat = new RecordingChat();
  const launched: FixJobSpec[] = [];
  const deps: RequestFixDeps = {
    records: new DynamoDbBugRecords(table.doc, table.tableName),
    store: new DynamoDbBugStore(table.doc, table.tableName),
    fixJobs: new DynamoDbFixJobs(table.doc, table.tableName),
    chat,
    now: () => new Date('2026-11-20T10:00:00.000Z'),
    tracker,
    codeHost,
    launcher: {
      launch: async (spec) => {
        launched.push(spec);
        return launch(spec);
      },
    },
    settings: {
      repo: { owner: 'acme', repo: 'shop' },
      allowlist: ['src/', 'app/'],
      limits: { maxTurns: 10, maxBudgetUsd: 1, timeoutSeconds: 600, maxChangedFiles: 5, maxDiffLines: 100 },
      perUserPerHour: 2,
    },
  };
  return { deps, chat, launched };
}

let sequence = 0;
async function triagedBug(deps: RequestFixDeps) {
  sequence += 1;
  const bugId = `bug_fix${sequence}`;
  await deps.records.putNewBug(
    createNewBug(
      { bugId, title: 'Cart crashes', description: 'Cart crashes', reporter: {} },
      '2026-11-20T09:00:00.000Z',
    ),
  );
  await deps.records.transitionBug(bugId, ['new'], 'triaged', {
    card: { channelId: '1', messageId: '2', threadId: 'thread-1' },
  });
  return bugId;
}

function click(
  bugId: string,
  userId = '1300000000000000042',
  interactionId = `${1_300_000_000_000_000_000n + BigInt(++sequence)}`,
): DiscordComponentJob {
  return {
    v: 1,
    kind: 'discord.component',
    idempotencyKey: interactionId,
    receivedAt: '2026-11-20T10:00:00.000Z',
    interaction: {
      id: interactionId,
      token: 't',
      applicationId: '1100000000000000001',
      channelId: '1100000000000000003',
      member: { userId, username: 'maya', roles: [] },
    },
    action: 'draft_fix',
    bugId,
  };
}

describe('requestFix', () => {
  it('stores the spec once and launches once, however often the request is delivered', async () => {
    const { deps, launched } = setup(async () => ({ taskId: 'task-1' }));
    const bugId = await triagedBug(deps);
    const job = click(bugId);
    const bug = await deps.records.getBug(bugId);
    await requestFix(job, { bug: bug ?? undefined }, deps);
    await requestFix(job, { bug: bug ?? undefined }, deps);
    expect(launched).toHaveLength(1);
    expect(launched[0]?.candidateFiles).toEqual(['src/cart.js']); // filtered to the allowlist
    expect((await deps.fixJobs.getFixJob(fixJobIdFor(job.idempotencyKey)))?.status).toBe('launched');
    expect((await deps.records.getBug(bugId))?.status).toBe('fix_requested');
  });

  it('puts the bug back and tells the thread when the launch fails for good', async () => {
    const { deps, chat } = setup(async () => {
      throw new ServiceError('ecs', 'the fix task was not started (MISSING)', { retryable: false });
    });
    const bugId = await triagedBug(deps);
    const job = click(bugId);
    const bug = await deps.records.getBug(bugId);
    await expect(requestFix(job, { bug: bug ?? undefined }, deps)).rejects.toBeInstanceOf(ServiceError);
    expect((await deps.records.getBug(bugId))?.status).toBe('triaged');
    expect((await deps.fixJobs.getFixJob(fixJobIdFor(job.idempotencyKey)))?.status).toBe('failed');
    expect(chat.posts.map((post) => post.message.content).join('\n')).toMatch(/Fix failed.*could not start/s);
  });

  it('refuses past the hourly allowance, spending nothing on a redelivery', async () => {
    const { deps, launched } = setup(async () => ({ taskId: 'task' }));
    const userId = '1300000000000000099';
    const answers: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      const bugId = await triagedBug(deps);
      const job = click(bugId, userId);
      const bug = await deps.records.getBug(bugId);
      answers.push((await requestFix(job, { bug: bug ?? undefined }, deps)).content ?? '');
      if (index === 0) await requestFix(job, { bug: bug ?? undefined }, deps); // redelivered
    }
    expect(launched).toHaveLength(2);
    expect(answers[2]).toMatch(/2 fixes this hour/);
  });
});
