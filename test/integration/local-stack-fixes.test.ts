import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JOBS_QUEUE, LOCAL_TABLE_NAME, SANDBOX_FORK, SANDBOX_REPO } from '../../local/local-stack.js';
import { main as dlq } from '../../scripts/dlq.js';
import { createDocumentClient } from '../../shared/adapters/dynamodb/document-client.js';
import { DynamoDbBugRecords } from '../../shared/adapters/dynamodb/dynamodb-bug-records.js';
import { DynamoDbFixJobs } from '../../shared/adapters/dynamodb/dynamodb-fix-jobs.js';
import type { FixJobRecord } from '../../shared/ports/fix-jobs.js';
import { createLocalDynamoDbClient } from '../support/dynalite.js';
import {
  replyTo,
  type StackDriver,
  type StackState,
  startStackDriver,
} from '../support/local-stack-driver.js';

/**
 * Fixes through the whole local stack, in the orders and faults that used to strand them: a
 * dismissal while the runner runs, a fork as the push target, a repository without drafts, a
 * pull request that cannot be opened (then redriven from the DLQ), and the month's spend.
 */

const run = promisify(execFile);
let driver: StackDriver;

beforeAll(async () => {
  driver = await startStackDriver({ FIX_PUSH_REPO: `${SANDBOX_FORK.owner}/${SANDBOX_FORK.repo}` });
}, 60_000);
afterAll(async () => driver?.close());
afterEach(async () => driver.clearFaults());

type Pull = {
  number: number;
  title: string;
  head: string;
  headRepository: string;
  body: string;
  draft: boolean;
  state: string;
  url: string;
  comments: string[];
};
const pullsOf = (state: StackState) => (state.sandbox.github as { pulls: Pull[] }).pulls;
const bugOf = (state: StackState, bugId: string) =>
  state.bugs.find((bug) => bug.bugId === bugId) as
    | (StackState['bugs'][number] & { fix?: { jobId: string; status: string; branch?: string } })
    | undefined;
const threadOf = (state: StackState, bugId: string) =>
  state.sandbox.discord.messages.filter(
    (message) => message.threadId === bugOf(state, bugId)?.card?.threadId,
  );

async function withFixJobs<T>(use: (jobs: DynamoDbFixJobs) => Promise<T>): Promise<T> {
  const client = createLocalDynamoDbClient(driver.stack.dynamoEndpoint);
  try {
    return await use(new DynamoDbFixJobs(createDocumentClient(client), LOCAL_TABLE_NAME));
  } finally {
    client.destroy();
  }
}

async function reportBug(description: string, user: string) {
  const sent = await driver.sendReport({ description, user_id: user });
  expect(sent.status).toBe(202);
  const bugId = String(sent.body.bugId);
  // The card (with its thread) is posted while the analysis runs: a fix needs the bug triaged.
  await driver.waitFor('the triaged card', (state) => {
    const bug = bugOf(state, bugId);
    return bug?.card?.threadId && bug.status === 'triaged' ? state : undefined;
  });
  return bugId;
}

async function click(action: string, bugId: string) {
  const sent = await driver.sendCommand('button', [action, bugId]);
  expect(sent.status).toBe(200);
  return driver.waitFor(`the ${action} reply`, (state) => replyTo(state, sent.interaction), 60_000);
}

async function git(args: readonly string[]): Promise<string> {
  const { stdout } = await run('git', args, {
    env: { PATH: process.env.PATH, GIT_CONFIG_GLOBAL: '/dev/null' },
  });
  return stdout.trim();
}

/** A branch with one commit on the sandbox repository or its fork, as a runner would push it. */
async function pushedBranch(bareDir: string, branch: string): Promise<string> {
  const tree = await git([`--git-dir=${bareDir}`, 'rev-parse', 'refs/heads/main^{tree}']);
  const base = await git([`--git-dir=${bareDir}`, 'rev-parse', 'refs/heads/main']);
  const commit = await git([
    `--git-dir=${bareDir}`,
    '-c',
    'user.name=bugbot',
    '-c',
    'user.email=bugbot@example.test',
    'commit-tree',
    tree,
    '-p',
    base,
    '-m',
    'fix',
  ]);
  await git([`--git-dir=${bareDir}`, 'update-ref', `refs/heads/${branch}`, commit]);
  return commit;
}

/** A fix job stored and "launched" for `bugId`, as requestFix leaves it, and the bug claimed. */
async function launchedJob(
  bugId: string,
  jobId: string,
  branch: string,
  pushUrl?: string,
): Promise<FixJobRecord> {
  const state = await driver.state();
  const bug = bugOf(state, bugId);
  const record: FixJobRecord = {
    jobId,
    bugId,
    spec: {
      jobId,
      repo: {
        cloneUrl: driver.stack.sandboxRepo.cloneUrl,
        baseBranch: 'main',
        ...(pushUrl ? { pushUrl } : {}),
      },
      branch,
      task: { title: 'Coupon ignored', body: 'Coupon codes are ignored' },
      allowlist: ['src/'],
      limits: { maxTurns: 5, maxBudgetUsd: 1, timeoutSeconds: 600, maxChangedFiles: 5, maxDiffLines: 100 },
      verify: { command: 'node --test' },
    },
    notifyChannelId: bug?.card?.threadId ?? '1',
    requestedBy: 'maya',
    requestedById: '1300000000000000042',
    status: 'launched',
    taskId: `arn:aws:ecs:us-east-1:000000000000:task/bugbot-local/${jobId}`,
    createdAt: new Date().toISOString(),
    budgetMonth: new Date().toISOString().slice(0, 7),
  };
  await withFixJobs((jobs) => jobs.createFixJob(record));
  const client = createLocalDynamoDbClient(driver.stack.dynamoEndpoint);
  try {
    const records = new DynamoDbBugRecords(createDocumentClient(client), LOCAL_TABLE_NAME);
    const moved = await records.transitionBug(bugId, ['triaged'], 'fix_requested', {
      fix: { jobId, status: 'requested', branch },
    });
    expect(moved.ok).toBe(true);
  } finally {
    client.destroy();
  }
  return record;
}

function resultJob(record: FixJobRecord, overrides: Record<string, unknown> = {}) {
  return {
    v: 1,
    kind: 'fix.result',
    idempotencyKey: `fix-result:${record.jobId}`,
    receivedAt: new Date().toISOString(),
    result: {
      jobId: record.jobId,
      status: 'pushed',
      branch: record.spec.branch,
      changedFiles: [{ path: 'src/cart.js', change: 'modified' }],
      rejected: [],
      summary: 'Tried a guard.',
      costUsd: 0.25,
      verify: { command: 'node --test', exitCode: 0, outputTail: 'pass 7' },
      reproduction: { status: 'no_test', tests: [] },
      risks: [],
      ...overrides,
    },
  };
}

describe('fixes through the local stack', () => {
  it('pushes to the fork and opens the pull request from `acme-bugbot:<branch>`', async () => {
    const bugId = await reportBug('Checkout crashes when I press Pay: the cart total throws', 'u_fork');
    const reply = await click('draft_fix', bugId);
    expect(reply.content).toContain('Drafting a fix');
    // The bug records its pull request before the thread is told: wait for both.
    const state = await driver.waitFor(
      'the pull request and its note',
      (current) =>
        bugOf(current, bugId)?.status === 'fix_drafted' &&
        threadOf(current, bugId).some((message) => message.content.startsWith('Fix drafted'))
          ? current
          : undefined,
      120_000,
    );
    const pull = pullsOf(state).find((candidate) => candidate.head === bugOf(state, bugId)?.fix?.branch);
    expect(pull?.headRepository).toBe(`${SANDBOX_FORK.owner}/${SANDBOX_FORK.repo}`);
    // The branch is in the fork, not in the repository whose CI holds the secrets.
    const forkDir = driver.stack.sandboxRepo.bareDir.replace(
      `${SANDBOX_REPO.owner}/${SANDBOX_REPO.repo}.git`,
      `${SANDBOX_FORK.owner}/${SANDBOX_FORK.repo}.git`,
    );
    expect(await git([`--git-dir=${forkDir}`, 'branch', '--list', pull?.head ?? 'missing'])).toContain(
      pull?.head,
    );
    expect(
      await git([
        `--git-dir=${driver.stack.sandboxRepo.bareDir}`,
        'branch',
        '--list',
        pull?.head ?? 'missing',
      ]),
    ).toBe('');
    // Every fix message in the thread carries the month's spend; the dashboard shows it too.
    const notes = threadOf(state, bugId).filter((message) =>
      /^Fix (requested|drafted)/.test(message.content),
    );
    expect(notes).toHaveLength(2);
    for (const note of notes)
      expect(note.content).toMatch(/Budget: \$\d+\.\d\d of \$100\.00 spent on fixes this month/);
    const dashboard = await driver.sendCommand('dashboard');
    const answer = await driver.waitFor('the dashboard', (current) =>
      replyTo(current, dashboard.interaction),
    );
    expect(answer.embeds[0]?.description).toMatch(
      /Fixes: \$\d+\.\d\d of \$100\.00 spent on fixes this month/,
    );
  }, 180_000);

  it('stops the runner when the bug is dismissed while its fix runs: no pull request, nothing stuck', async () => {
    const bugId = await reportBug(
      'The cart total is wrong after removing the last item at checkout',
      'u_dismiss',
    );
    const before = pullsOf(await driver.state()).length;
    const reply = await click('draft_fix', bugId);
    expect(reply.content).toContain('Drafting a fix');
    const submitted = await driver.sendCommand('dismiss', [bugId], { reason: 'Duplicate of a known issue' });
    expect(submitted.status).toBe(200);
    const state = await driver.waitFor(
      'the runner to be stopped and the job to settle',
      (current) => {
        const bug = bugOf(current, bugId);
        return bug?.status === 'dismissed' &&
          current.queues.jobs.visible + current.queues.jobs.inFlight === 0 &&
          driver.stack.launcher.runningTasks().length === 0
          ? current
          : undefined;
      },
      120_000,
    );
    const jobId = bugOf(state, bugId)?.fix?.jobId ?? '';
    const job = await withFixJobs((jobs) => jobs.getFixJob(jobId));
    expect(job?.status).toBe('cancelled');
    expect(job?.stopRequestedAt).toBeDefined();
    expect(pullsOf(state)).toHaveLength(before);
    const dismissed = threadOf(state, bugId).find((message) => message.content.startsWith('Dismissed by'));
    expect(dismissed?.content).toContain('was stopped');
    expect(state.queues.dlq.visible).toBe(0);
  }, 180_000);

  it('closes the pull request of a dismissed bug through the REST API; GitHub’s `pull_request` closed comes back and changes nothing', async () => {
    const { stack } = driver;
    const bugId = await reportBug('The cart badge keeps counting removed items at checkout', 'u_closes');
    const record = await launchedJob(bugId, 'fix_dismissedpr', 'bugbot/fix-dismissedpr');
    await pushedBranch(stack.sandboxRepo.bareDir, record.spec.branch);
    stack.engine.sendMessage(JOBS_QUEUE, { body: JSON.stringify(resultJob(record)) });
    const drafted = await driver.waitFor('the drafted fix', (current) =>
      bugOf(current, bugId)?.status === 'fix_drafted' ? current : undefined,
    );
    const pull = pullsOf(drafted).find((candidate) => candidate.head === record.spec.branch);
    expect(pull?.state).toBe('open');
    const closedDeliveries = (state: StackState) =>
      (
        state.sandbox.github as { deliveries: { event: string; action?: string; status: number }[] }
      ).deliveries.filter((delivery) => delivery.event === 'pull_request' && delivery.action === 'closed');
    const before = closedDeliveries(drafted).length;

    const submitted = await driver.sendCommand('dismiss', [bugId], { reason: 'Works as designed' });
    expect(submitted.status).toBe(200);
    // bugbot closes it with `PATCH /repos/{owner}/{repo}/pulls/{n}` (state closed); GitHub then
    // delivers `pull_request` closed with merged false, as for any close.
    const closed = await driver.waitFor('the closed pull request and its delivery', (current) => {
      const now = pullsOf(current).find((candidate) => candidate.number === pull?.number);
      return now?.state === 'closed' && closedDeliveries(current).length > before ? current : undefined;
    });
    expect(pullsOf(closed).find((candidate) => candidate.number === pull?.number)?.comments).toEqual([
      expect.stringContaining('Closed by bugbot'),
    ]);
    expect(closedDeliveries(closed).slice(before)).toEqual([expect.objectContaining({ status: 202 })]);
    // The event is processed (not dead-lettered) and leaves the dismissed bug dismissed: no
    // "closed without merging" note, no return to where it was before the fix.
    const idle = await driver.waitForIdle(60_000);
    expect(idle.queues.dlq.visible).toBe(drafted.queues.dlq.visible);
    expect(bugOf(idle, bugId)?.status).toBe('dismissed');
    expect(threadOf(idle, bugId).map((message) => message.content)).not.toContainEqual(
      expect.stringContaining('was closed without merging'),
    );
  }, 120_000);

  it('opens a normal pull request that says it is not ready where drafts are refused, and asks the reporter when not reproduced', async () => {
    const { stack } = driver;
    stack.sandbox.github.addRepository({ ...SANDBOX_REPO, ...stack.sandboxRepo, draftPullRequests: false });
    try {
      const bugId = await reportBug(
        'Coupon codes are ignored at checkout when the cart has one item',
        'u_drafts',
      );
      const record = await launchedJob(bugId, 'fix_nodrafts', 'bugbot/fix-nodrafts');
      await pushedBranch(stack.sandboxRepo.bareDir, record.spec.branch);
      stack.engine.sendMessage(JOBS_QUEUE, { body: JSON.stringify(resultJob(record)) });
      const state = await driver.waitFor('the pull request', (current) =>
        pullsOf(current).find((pull) => pull.head === record.spec.branch) ? current : undefined,
      );
      const pull = pullsOf(state).find((candidate) => candidate.head === record.spec.branch);
      expect(pull?.draft).toBe(false);
      expect(pull?.title).toMatch(/^\[Not ready for review\] Fix: /);
      expect(pull?.body).toMatch(/^> \*\*Not ready for review\.\*\*/);
      const settled = await driver.waitFor('the question to the reporter', (current) =>
        threadOf(current, bugId).find((message) => message.content.startsWith('bugbot could not reproduce')),
      );
      expect(settled.content).toContain('**To the reporter:** What exactly did you do, step by step');
      expect(settled.allowedMentions).toEqual({ parse: [] });
    } finally {
      stack.sandbox.github.addRepository({ ...SANDBOX_REPO, ...stack.sandboxRepo });
    }
  }, 120_000);

  it('when the pull request cannot be opened, names the branch in the thread and puts the bug back; a redrive opens it', async () => {
    const { stack } = driver;
    const bugId = await reportBug('Place order button does nothing after applying a gift card', 'u_prfail');
    const record = await launchedJob(bugId, 'fix_prfail', 'bugbot/fix-prfail', 'http://127.0.0.1/fork.git');
    const forkDir = stack.sandboxRepo.bareDir.replace(
      `${SANDBOX_REPO.owner}/${SANDBOX_REPO.repo}.git`,
      `${SANDBOX_FORK.owner}/${SANDBOX_FORK.repo}.git`,
    );
    await pushedBranch(forkDir, record.spec.branch);
    await driver.setFault({ service: 'github', failRate: 1, status: 502, latencyMs: 0 });
    stack.engine.sendMessage(JOBS_QUEUE, {
      body: JSON.stringify(
        resultJob({
          ...record,
          spec: { ...record.spec, repo: { ...record.spec.repo, pushUrl: 'http://127.0.0.1/fork.git' } },
        }),
      ),
    });
    const told = await driver.waitFor(
      'the thread to be told',
      (current) => threadOf(current, bugId).find((message) => message.content.startsWith('Fix failed')),
      60_000,
    );
    expect(told.content).toContain('bugbot/fix-prfail');
    expect(told.content).toContain('acme-bugbot/shop');
    expect(told.content).toMatch(/nothing is lost/);
    const dead = await driver.waitFor(
      'the DLQ',
      (current) => (current.queues.dlq.visible > 0 ? current : undefined),
      30_000,
    );
    expect(bugOf(dead, bugId)?.status).not.toBe('fix_requested');
    expect((await withFixJobs((jobs) => jobs.getFixJob(record.jobId)))?.status).toBe('failed');

    await driver.clearFaults();
    const io = { out: () => undefined, err: () => undefined };
    expect(await dlq(['redrive', '--local', '--endpoint', stack.sqsEndpoint], {}, io)).toBe(0);
    const opened = await driver.waitFor('the redriven result to open the pull request', (current) =>
      pullsOf(current).find((pull) => pull.head === record.spec.branch) ? current : undefined,
    );
    expect(pullsOf(opened).find((pull) => pull.head === record.spec.branch)?.headRepository).toBe(
      'acme-bugbot/shop',
    );
    expect((await withFixJobs((jobs) => jobs.getFixJob(record.jobId)))?.status).toBe('finished');
  }, 120_000);
});
