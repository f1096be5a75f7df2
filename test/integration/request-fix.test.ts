import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbBugRecords } from '../../shared/adapters/dynamodb/dynamodb-bug-records.js';
import { DynamoDbBugStore } from '../../shared/adapters/dynamodb/dynamodb-bug-store.js';
import { DynamoDbFixJobs } from '../../shared/adapters/dynamodb/dynamodb-fix-jobs.js';
import { createNewBug } from '../../shared/domain/bug.js';
import { PermanentJobError, ServiceError } from '../../shared/domain/errors.js';
import type { FixJobSpec } from '../../shared/jobs/fix-job-spec.js';
import type { DiscordCommandJob, DiscordComponentJob, FixResultJob } from '../../shared/jobs/job-schemas.js';
import type { ChatPlatform, OutgoingMessage } from '../../shared/ports/chat-platform.js';
import type { CodeHost } from '../../shared/ports/code-host.js';
import type { IssueTracker } from '../../shared/ports/issue-tracker.js';
import { handleBugCardAction } from '../../shared/use-cases/bug-card-actions.js';
import {
  type FixResultDeps,
  reportFixResult,
  reportFixTaskStopped,
} from '../../shared/use-cases/report-fix-result.js';
import {
  fixJobIdFor,
  MAX_TASK_BODY_CHARS,
  type RequestFixDeps,
  requestFix,
} from '../../shared/use-cases/request-fix.js';
import { startTestTable, type TestTable } from '../support/dynalite.js';

// requestFix on real storage (dynalite); the outside services are fakes of our own ports.
let table: TestTable;
beforeAll(async () => {
  table = await startTestTable();
});
afterAll(async () => table?.close());

class RecordingChat implements ChatPlatform {
  readonly posts: { channelId: string; message: OutgoingMessage }[] = [];
  /** Posts still to fail as Discord down would fail them. */
  failPosts = 0;
  async fetchRecentMessages() {
    return [];
  }
  async listOwnPostsSince() {
    return [];
  }
  async postMessage(channelId: string, message: OutgoingMessage) {
    if (this.failPosts > 0) {
      this.failPosts -= 1;
      throw new ServiceError('discord', 'Discord had an error', { status: 500, retryable: true });
    }
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

const closed: { number: number; comment: string }[] = [];
const codeHost: CodeHost = {
  createIssueOnce: async () => expect.fail('not used'),
  openPullRequest: async () => expect.fail('not used'),
  closePullRequest: async (_repo, number, comment) => {
    closed.push({ number, comment });
  },
  searchCode: async () => [{ path: 'src/cart.js' }, { path: 'package.json' }],
  getDefaultBranch: async () => 'main',
};
const linearIssue = {
  id: 'issue-uuid-12',
  identifier: 'ENG-12',
  url: 'https://linear.app/acme/issue/ENG-12',
  title: 'Cart total wrong',
  description: `The cart total is wrong.\n${'x'.repeat(150_000)}`,
};
const tracker = {
  getIssue: async (identifier: string) => (identifier === 'ENG-12' ? linearIssue : null),
} as unknown as IssueTracker;

function setup(
  launch: (spec: FixJobSpec) => Promise<{ taskId: string }>,
  overrides: Partial<RequestFixDeps['settings']> = {},
) {
  const chat = new RecordingChat();
  const launched: FixJobSpec[] = [];
  const stopped: { taskId: string; reason: string }[] = [];
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
      stop: async (taskId, reason) => {
        stopped.push({ taskId, reason });
      },
    },
    settings: {
      repo: { owner: 'acme', repo: 'shop' },
      allowlist: ['src/', 'app/'],
      limits: { maxTurns: 10, maxBudgetUsd: 1, timeoutSeconds: 600, maxChangedFiles: 5, maxDiffLines: 100 },
      perUserPerHour: 2,
      monthlyBudgetUsd: 1000,
      ...overrides,
    },
  };
  return { deps, chat, launched, stopped };
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

function slash(
  issue: string,
  options: { userId?: string; instructions?: string; channelId?: string } = {},
): DiscordCommandJob {
  const interactionId = `${1_300_000_000_000_000_000n + BigInt(++sequence)}`;
  return {
    v: 1,
    kind: 'discord.command',
    idempotencyKey: interactionId,
    receivedAt: '2026-11-20T10:00:00.000Z',
    interaction: {
      id: interactionId,
      token: 't',
      applicationId: '1100000000000000001',
      channelId: options.channelId ?? '1100000000000000003',
      member: { userId: options.userId ?? '1300000000000000042', username: 'maya', roles: [] },
    },
    command: {
      name: 'fix',
      source: 'slash',
      issue,
      ...(options.instructions ? { instructions: options.instructions } : {}),
    },
  };
}

describe('requestFix: one fix at a time, spending only on launch', () => {
  it('launches one runner for ten variants of a fix for the same Linear issue, and tells the others where it is', async () => {
    const { deps, launched } = setup(async () => ({ taskId: 'arn:aws:ecs:r:1:task/c/one' }));
    const people = Array.from(
      { length: 10 },
      (_, index) => `13000000000000001${String(index).padStart(2, '0')}`,
    );
    const answers = await Promise.all(
      people.map((userId, index) =>
        requestFix(
          slash(index % 2 ? 'ENG-12' : 'fix ENG-12 please', { userId, instructions: `variant ${index}` }),
          {},
          deps,
        ),
      ),
    );
    expect(launched).toHaveLength(1);
    const drafting = answers.filter((answer) => answer.content?.startsWith('Drafting a fix'));
    const told = answers.filter((answer) => answer.content?.startsWith('A fix is already being drafted'));
    expect(drafting).toHaveLength(1);
    expect(told).toHaveLength(9);
    expect(told[0]?.content).toContain('<#1100000000000000003>');
    // Nobody but the one whose fix launched spent any of their allowance.
    const window = '2026-11-20T10';
    const spent = await Promise.all(
      people.map((userId) => deps.fixJobs.peekAllowance({ scope: 'fix', userId, window })),
    );
    expect(spent.reduce((sum, used) => sum + used, 0)).toBe(1);
    // The issue's huge body reached the spec cut, saying so.
    expect(launched[0]?.task.body.length).toBeLessThanOrEqual(MAX_TASK_BODY_CHARS);
    expect(launched[0]?.task.body).toMatch(
      /\[bugbot cut this text here: \d+ more characters were left out\]$/,
    );
  });

  it('does not spend the allowance on "already drafting" or refused clicks', async () => {
    const { deps, launched } = setup(async () => ({ taskId: 'task' }));
    const userId = '1300000000000000077';
    const bugId = await triagedBug(deps);
    const bug = await deps.records.getBug(bugId);
    await requestFix(click(bugId, userId), { bug: bug ?? undefined }, deps);
    const again = await requestFix(
      click(bugId, userId),
      { bug: (await deps.records.getBug(bugId)) ?? undefined },
      deps,
    );
    expect(again.content).toMatch(/^A fix is already being drafted for this bug\..*<#thread-1>/);
    expect(launched).toHaveLength(1);
    expect(await deps.fixJobs.peekAllowance({ scope: 'fix', userId, window: '2026-11-20T10' })).toBe(1);
  });

  it('refuses visibly once the month’s budget is spent, spending nothing, and counts exactly under concurrency', async () => {
    const month = new Date('2027-02-10T10:00:00.000Z');
    // $1 per fix, $3 a month: three of five concurrent requests launch.
    const { deps: base, launched } = setup(async () => ({ taskId: 'task' }), {
      monthlyBudgetUsd: 3,
      perUserPerHour: 10,
    });
    const deps = { ...base, now: () => month };
    const bugs = await Promise.all(Array.from({ length: 5 }, () => triagedBug(deps)));
    const answers = await Promise.all(
      bugs.map(async (bugId) =>
        requestFix(
          click(bugId, '1300000000000000088'),
          { bug: (await deps.records.getBug(bugId)) ?? undefined },
          deps,
        ),
      ),
    );
    expect(launched).toHaveLength(3);
    const refused = answers.filter((answer) =>
      answer.content?.startsWith("This month's fix budget is spent"),
    );
    expect(refused).toHaveLength(2);
    expect(refused[0]?.ephemeral).toBe(false);
    expect(await deps.fixJobs.readMonthSpend('2027-02')).toMatchObject({ committedMicros: 3_000_000 });
    // The refused ones are back where they were, and their allowance was not spent.
    const statuses = await Promise.all(bugs.map(async (bugId) => (await deps.records.getBug(bugId))?.status));
    expect(statuses.filter((status) => status === 'fix_requested')).toHaveLength(3);
    expect(statuses.filter((status) => status === 'triaged')).toHaveLength(2);
    expect(
      await deps.fixJobs.peekAllowance({
        scope: 'fix',
        userId: '1300000000000000088',
        window: '2027-02-10T10',
      }),
    ).toBe(3);
  });

  it('pushes to the fork when one is configured', async () => {
    const { deps, launched } = setup(async () => ({ taskId: 'task' }), {
      pushRepo: { owner: 'acme-bugbot', repo: 'shop' },
    });
    const bugId = await triagedBug(deps);
    await requestFix(
      click(bugId, '1300000000000000056'),
      { bug: (await deps.records.getBug(bugId)) ?? undefined },
      deps,
    );
    expect(launched[0]?.repo).toEqual({
      cloneUrl: 'https://github.com/acme/shop.git',
      pushUrl: 'https://github.com/acme-bugbot/shop.git',
      baseBranch: 'main',
    });
  });
});

describe('dismissing a bug while its fix runs', () => {
  it('cancels the fix, stops its task, and says so in the thread', async () => {
    const { deps, chat, stopped } = setup(async () => ({ taskId: 'arn:aws:ecs:r:1:task/c/abc' }));
    const bugId = await triagedBug(deps);
    const job = click(bugId, '1300000000000000055');
    expect(
      (await requestFix(job, { bug: (await deps.records.getBug(bugId)) ?? undefined }, deps)).content,
    ).toMatch(/^Drafting a fix/);
    const dismiss: DiscordComponentJob = { ...click(bugId), action: 'dismiss', reason: 'Works as designed' };
    const cardDeps = {
      ...deps,
      settings: { issueTracker: 'linear' as const },
      fixes: { fixJobs: deps.fixJobs, launcher: deps.launcher, codeHost, repo: deps.settings.repo },
    };
    const answer = await handleBugCardAction(dismiss, cardDeps);
    expect(answer.content).toContain('Dismissed');
    expect((await deps.records.getBug(bugId))?.status).toBe('dismissed');
    expect((await deps.fixJobs.getFixJob(fixJobIdFor(job.idempotencyKey)))?.status).toBe('cancelled');
    expect(stopped).toEqual([
      { taskId: 'arn:aws:ecs:r:1:task/c/abc', reason: expect.stringContaining('dismissed by maya') },
    ]);
    expect(chat.posts.at(-1)?.message.content).toMatch(/Dismissed by maya.*\n.*was stopped/s);
    // A redelivered dismissal stops nothing twice and changes nothing.
    await handleBugCardAction(dismiss, cardDeps);
    expect(stopped).toHaveLength(1);
  });
});

describe('reportFixResult: a result counts only for the job it was launched for', () => {
  const opened: { head: string; draft: boolean; title: string }[] = [];
  const host: CodeHost = {
    ...codeHost,
    openPullRequest: async (_repo, input) => {
      opened.push({ head: input.head, draft: input.draft, title: input.title });
      return { number: 7, url: 'https://github.com/acme/shop/pull/7', draft: input.draft, state: 'open' };
    },
  };
  const resultDeps = (deps: RequestFixDeps): FixResultDeps => ({
    ...deps,
    codeHost: host,
    repo: deps.settings.repo,
    resultGraceSeconds: 0,
    settings: { monthlyBudgetUsd: 1000 },
  });
  const resultOf = (
    jobId: string,
    branch: string,
    overrides: Partial<FixResultJob['result']> = {},
  ): FixResultJob => ({
    v: 1,
    kind: 'fix.result',
    idempotencyKey: `fix-result:${jobId}`,
    receivedAt: '2026-11-20T10:05:00.000Z',
    result: {
      jobId,
      status: 'pushed',
      branch,
      changedFiles: [{ path: 'src/cart.js', change: 'modified' }],
      rejected: [],
      summary: 'done',
      costUsd: 0.2,
      risks: [],
      ...overrides,
    },
  });
  const failureOf = async (promise: Promise<unknown>) =>
    promise.then(
      () => null,
      (error: unknown) => error,
    );

  it('refuses a result for no job, for a refused job, or for another branch; waits for a launch being recorded', async () => {
    const { deps } = setup(async () => ({ taskId: 'task' }));
    expect(await failureOf(reportFixResult(resultOf('fix_nobody', 'b'), resultDeps(deps)))).toBeInstanceOf(
      PermanentJobError,
    );
    const bugId = await triagedBug(deps);
    const job = click(bugId, '1300000000000000061');
    await requestFix(job, { bug: (await deps.records.getBug(bugId)) ?? undefined }, deps);
    const record = await deps.fixJobs.getFixJob(fixJobIdFor(job.idempotencyKey));
    expect(
      await failureOf(reportFixResult(resultOf(record!.jobId, 'other'), resultDeps(deps))),
    ).toBeInstanceOf(PermanentJobError);
    await deps.fixJobs.createFixJob({
      ...record!,
      jobId: 'fix_refused',
      status: 'refused',
      taskId: undefined,
    });
    expect(
      await failureOf(reportFixResult(resultOf('fix_refused', record!.spec.branch), resultDeps(deps))),
    ).toBeInstanceOf(PermanentJobError);
    await deps.fixJobs.createFixJob({
      ...record!,
      jobId: 'fix_unlaunched',
      status: 'requested',
      taskId: undefined,
    });
    const waiting = await failureOf(
      reportFixResult(resultOf('fix_unlaunched', record!.spec.branch), resultDeps(deps)),
    );
    expect(waiting).toBeInstanceOf(ServiceError);
    expect((waiting as ServiceError).retryable).toBe(true);
    expect(opened).toEqual([]);
  });

  it('records a result that arrives after the dismissal, opens nothing, and settles the budget at its cost', async () => {
    const { deps, chat } = setup(async () => ({ taskId: 'arn:aws:ecs:r:1:task/c/late' }));
    const bugId = await triagedBug(deps);
    const job = click(bugId, '1300000000000000062');
    await requestFix(job, { bug: (await deps.records.getBug(bugId)) ?? undefined }, deps);
    const jobId = fixJobIdFor(job.idempotencyKey);
    await handleBugCardAction(
      { ...click(bugId), action: 'dismiss', reason: 'not a bug' },
      {
        ...deps,
        settings: { issueTracker: 'linear' },
        fixes: { fixJobs: deps.fixJobs, launcher: deps.launcher, codeHost: host, repo: deps.settings.repo },
      },
    );
    const before = await deps.fixJobs.readMonthSpend('2026-11');
    const record = await deps.fixJobs.getFixJob(jobId);
    await reportFixResult(resultOf(jobId, record!.spec.branch), resultDeps(deps));
    expect(opened).toEqual([]);
    expect((await deps.fixJobs.getFixJob(jobId))?.result?.status).toBe('pushed');
    expect(chat.posts.at(-1)?.message.content).toMatch(/finished after the bug was dismissed.*branch/s);
    const after = await deps.fixJobs.readMonthSpend('2026-11');
    expect(after.spentMicros - before.spentMicros).toBe(200_000);
    expect(after.committedMicros - before.committedMicros).toBe(200_000 - 1_000_000);
  });
  it('records the pull request on the bug before the thread is told: Discord down leaves it fix_drafted, the retry tells once', async () => {
    const { deps, chat } = setup(async () => ({ taskId: 'arn:aws:ecs:r:1:task/c/drafted' }));
    const bugId = await triagedBug(deps);
    const job = click(bugId, '1300000000000000063');
    await requestFix(job, { bug: (await deps.records.getBug(bugId)) ?? undefined }, deps);
    const jobId = fixJobIdFor(job.idempotencyKey);
    const record = await deps.fixJobs.getFixJob(jobId);
    const posted = chat.posts.length;
    chat.failPosts = 1;
    const failure = await failureOf(reportFixResult(resultOf(jobId, record!.spec.branch), resultDeps(deps)));
    expect(failure).toBeInstanceOf(ServiceError);
    const bug = await deps.records.getBug(bugId);
    expect(bug?.status).toBe('fix_drafted');
    expect(bug?.fix?.pullRequestUrl).toBe('https://github.com/acme/shop/pull/7');
    await reportFixResult(resultOf(jobId, record!.spec.branch), resultDeps(deps));
    await reportFixResult(resultOf(jobId, record!.spec.branch), resultDeps(deps));
    const notes = chat.posts
      .slice(posted)
      .filter((post) => (post.message.content ?? '').startsWith('Fix drafted'));
    expect(notes).toHaveLength(1);
  });

  it('puts the bug back before telling when its task stops without a result; a redelivery still tells', async () => {
    const { deps, chat } = setup(async () => ({ taskId: 'arn:aws:ecs:r:1:task/c/crashed' }));
    const bugId = await triagedBug(deps);
    const job = click(bugId, '1300000000000000064');
    await requestFix(job, { bug: (await deps.records.getBug(bugId)) ?? undefined }, deps);
    const jobId = fixJobIdFor(job.idempotencyKey);
    expect((await deps.records.getBug(bugId))?.status).toBe('fix_requested');
    const stopped = {
      v: 1 as const,
      kind: 'fix.task-stopped' as const,
      idempotencyKey: `fix-stopped:${jobId}`,
      receivedAt: '2026-11-20T10:06:00.000Z',
      jobId,
      taskArn: 'arn:aws:ecs:r:1:task/c/crashed',
      stoppedReason: 'Essential container in task exited',
      exitCode: 137,
    };
    const posted = chat.posts.length;
    chat.failPosts = 1;
    expect(await failureOf(reportFixTaskStopped(stopped, resultDeps(deps)))).toBeInstanceOf(ServiceError);
    expect((await deps.records.getBug(bugId))?.status).toBe('triaged');
    expect((await deps.fixJobs.getFixJob(jobId))?.status).toBe('failed');
    await reportFixTaskStopped(stopped, resultDeps(deps));
    await reportFixTaskStopped(stopped, resultDeps(deps));
    const notes = chat.posts.slice(posted).map((post) => post.message.content);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(
      /Fix failed.*stopped without a result \(Essential container in task exited, exit code 137\)/s,
    );
  });
});
