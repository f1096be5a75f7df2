import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbBugRecords } from '../../shared/adapters/dynamodb/dynamodb-bug-records.js';
import { DynamoDbBugStore } from '../../shared/adapters/dynamodb/dynamodb-bug-store.js';
import { DynamoDbFoldLedger } from '../../shared/adapters/dynamodb/dynamodb-fold-ledger.js';
import { type Bug, createNewBug, type FoldReason } from '../../shared/domain/bug.js';
import { ServiceError } from '../../shared/domain/errors.js';
import { computePriority } from '../../shared/domain/priority.js';
import type { BugRefreshJob, Job } from '../../shared/jobs/job-schemas.js';
import type { ChatPlatform, OutgoingMessage } from '../../shared/ports/chat-platform.js';
import type { FoldLedger } from '../../shared/ports/fold-ledger.js';
import type { JobQueue } from '../../shared/ports/job-queue.js';
import { type FoldDeps, foldReport, refreshFoldedBug } from '../../shared/use-cases/fold-reports.js';
import { startTestTable, type TestTable } from '../support/dynalite.js';

// The fold flow on real storage (dynalite), with the queue and Discord as recording fakes of our
// own ports, and a clock the test moves: how a storm becomes a handful of refreshes, and what a
// refresh does when Discord or SQS fail half-way.

let table: TestTable;
beforeAll(async () => {
  table = await startTestTable();
});
afterAll(async () => table?.close());

class RecordingChat implements ChatPlatform {
  readonly posts: { channelId: string; message: OutgoingMessage; nonce?: string }[] = [];
  readonly edits: { messageId: string; message: OutgoingMessage }[] = [];
  failNextPost = false;
  async fetchRecentMessages() {
    return [];
  }
  async listOwnPostsSince() {
    return [];
  }
  async postMessage(channelId: string, message: OutgoingMessage, options: { nonce?: string } = {}) {
    if (this.failNextPost) {
      this.failNextPost = false;
      throw new ServiceError('discord', 'post message: 503', { status: 503, retryable: true });
    }
    this.posts.push({ channelId, message, nonce: options.nonce });
    return { id: String(this.posts.length) };
  }
  async editMessage(_channelId: string, messageId: string, message: OutgoingMessage) {
    this.edits.push({ messageId, message });
  }
  async startThread() {
    return { id: 'thread' };
  }
  async editInteractionResponse() {}
  async sendFollowup() {
    return { id: 'f' };
  }
}

class RecordingQueue implements JobQueue {
  readonly sent: { job: Job; delaySeconds?: number }[] = [];
  failNext = false;
  async send(job: Job, options: { delaySeconds?: number } = {}) {
    if (this.failNext) {
      this.failNext = false;
      throw new ServiceError('sqs', 'enqueue the job: 500', { status: 500, retryable: true });
    }
    this.sent.push({ job, delaySeconds: options.delaySeconds });
  }
  refreshes(): BugRefreshJob[] {
    return this.sent
      .map((entry) => entry.job)
      .filter((job): job is BugRefreshJob => job.kind === 'bug.refresh');
  }
}

const crash: FoldReason = {
  kind: 'fingerprint',
  errorType: 'TypeError',
  frames: ['CheckoutForm', 'PaymentStep'],
};
let sequence = 0;

function setup() {
  let clock = Date.parse('2026-05-01T12:00:00.000Z');
  const ledger = new DynamoDbFoldLedger(table.doc, table.tableName);
  let claims = 0;
  const countingLedger: FoldLedger = Object.assign(Object.create(ledger) as FoldLedger, {
    claimRefresh: (...args: Parameters<FoldLedger['claimRefresh']>) => {
      claims += 1;
      return ledger.claimRefresh(...args);
    },
  });
  const chat = new RecordingChat();
  const queue = new RecordingQueue();
  const deps: FoldDeps = {
    records: new DynamoDbBugRecords(table.doc, table.tableName, () => clock),
    store: new DynamoDbBugStore(table.doc, table.tableName, () => clock),
    chat,
    now: () => new Date(clock),
    folds: countingLedger,
    queue,
    scheduledRefreshes: new Map(),
  };
  return {
    deps,
    chat,
    queue,
    claims: () => claims,
    advance: (ms: number) => {
      clock += ms;
    },
    at: () => new Date(clock).toISOString(),
  };
}

async function originalBug(deps: FoldDeps, at: string): Promise<Bug> {
  sequence += 1;
  const priority = computePriority({
    severity: 3,
    crashEvidence: true,
    reportCount: 1,
    distinctReporters: 1,
  });
  const bug = {
    ...createNewBug(
      {
        bugId: `bug_orig${sequence}`,
        title: 'Checkout crashes when I press Pay',
        description: 'Checkout crashes when I press Pay',
        reporter: { id: 'u_maya' },
        priority: priority.priority,
        analysis: { state: 'done', priority },
        card: { channelId: 'channel', messageId: `card${sequence}`, threadId: `thread${sequence}` },
      },
      at,
    ),
    status: 'triaged' as const,
  };
  await deps.records.putNewBug(bug);
  return bug;
}

async function foldMany(
  deps: FoldDeps,
  originalId: string,
  count: number,
  at: string,
  options: { prefix?: string; oneByOne?: boolean } = {},
) {
  sequence += 1;
  const prefix = options.prefix ?? 'dup';
  const foldOne = async (i: number) => {
    const bug = createNewBug(
      {
        bugId: `bug_${prefix}${sequence}_${i}`,
        title: 'pay crashes',
        description: 'pay crashes',
        reporter: { id: `u_${prefix}${sequence}_${i}` },
      },
      at,
    );
    await deps.records.putNewBug(bug);
    const outcome = await foldReport(bug, originalId, crash, deps);
    expect(outcome).toEqual({ folded: true, originalId });
  };
  if (options.oneByOne) {
    for (let i = 0; i < count; i += 1) await foldOne(i);
  } else {
    await Promise.all(Array.from({ length: count }, (_, i) => foldOne(i)));
  }
}

describe('a storm of folds', () => {
  it('becomes one delayed refresh that counts them all, edits the card once and posts one note', async () => {
    const { deps, chat, queue, advance, at } = setup();
    const original = await originalBug(deps, at());
    await foldMany(deps, original.bugId, 60, at());

    expect(queue.sent).toHaveLength(1);
    expect(queue.sent[0]?.delaySeconds).toBe(2);
    expect(chat.posts).toHaveLength(0);
    expect(chat.edits).toHaveLength(0);

    advance(2_000);
    await refreshFoldedBug(queue.refreshes()[0] as BugRefreshJob, deps);
    const counted = await deps.records.getBug(original.bugId);
    expect(counted).toMatchObject({ reportCount: 61, reporterCount: 61 });
    expect(counted?.priority).toBeLessThan(original.priority ?? 0);
    expect(chat.edits).toHaveLength(1);
    expect(JSON.stringify(chat.edits[0]?.message)).toContain('61 reports · 61 users');
    expect(chat.posts).toHaveLength(1);
    expect(chat.posts[0]?.channelId).toBe(original.card?.threadId);
    expect(chat.posts[0]?.message.content).toMatch(
      /^\*\*60 more reports\*\* of this bug since the last note/,
    );

    // The same refresh delivered again: the same counts, no second note.
    await refreshFoldedBug(queue.refreshes()[0] as BugRefreshJob, deps);
    expect(chat.posts).toHaveLength(1);
    expect((await deps.records.getBug(original.bugId))?.reportCount).toBe(61);
  });

  it('asks for the next refresh after the window, and claims nothing while one is due', async () => {
    const { deps, queue, claims, advance, at } = setup();
    const original = await originalBug(deps, at());
    await foldMany(deps, original.bugId, 5, at(), { oneByOne: true });
    // Every fold of this process after the first knew a refresh was due: one claim, not five.
    expect(claims()).toBe(1);
    advance(2_000);
    await refreshFoldedBug(queue.refreshes()[0] as BugRefreshJob, deps);

    advance(1_000);
    await foldMany(deps, original.bugId, 3, at(), { prefix: 'late' });
    expect(queue.sent).toHaveLength(2);
    // One refresh per 5 s window: the first ran 1 s ago.
    expect(queue.sent[1]?.delaySeconds).toBe(4);
    advance(4_000);
    await refreshFoldedBug(queue.refreshes()[1] as BugRefreshJob, deps);
    expect((await deps.records.getBug(original.bugId))?.reportCount).toBe(9);
  });

  it('posts a note that Discord refused on the retry, exactly once', async () => {
    const { deps, chat, queue, advance, at } = setup();
    const original = await originalBug(deps, at());
    await foldMany(deps, original.bugId, 3, at());
    advance(2_000);
    const job = queue.refreshes()[0] as BugRefreshJob;

    chat.failNextPost = true;
    await expect(refreshFoldedBug(job, deps)).rejects.toThrow(ServiceError);
    expect(chat.posts).toHaveLength(0);
    await refreshFoldedBug(job, deps); // SQS delivers it again
    await refreshFoldedBug(job, deps);
    expect(chat.posts).toHaveLength(1);
    expect(chat.posts[0]?.message.content).toMatch(/^\*\*3 more reports\*\*/);
    expect((await deps.records.getBug(original.bugId))?.reportCount).toBe(4);
  });

  it('gives its claim back when the refresh job cannot be sent, so the next fold schedules one', async () => {
    const { deps, queue, at } = setup();
    const original = await originalBug(deps, at());
    queue.failNext = true;
    const bug = createNewBug({ bugId: 'bug_unsent', title: 't', description: 'd', reporter: {} }, at());
    await deps.records.putNewBug(bug);
    await expect(foldReport(bug, original.bugId, crash, deps)).rejects.toThrow(ServiceError);
    expect(queue.sent).toHaveLength(0);
    // The report's job is retried: it is a duplicate already, and now its refresh is scheduled.
    const again = await foldReport(bug, original.bugId, crash, deps);
    expect(again).toEqual({ folded: true, originalId: original.bugId });
    expect(queue.refreshes()).toHaveLength(1);
  });
});
