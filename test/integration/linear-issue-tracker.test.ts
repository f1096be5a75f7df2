import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LinearClient } from '@linear/sdk';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createLinearStandIn,
  LINEAR_SANDBOX,
  type LinearStandIn,
} from '../../local/stand-ins/linear-stand-in.js';
import { createLinearClient } from '../../shared/adapters/linear/create-linear-client.js';
import {
  LinearIssueTracker,
  type LinearIssueTrackerOptions,
} from '../../shared/adapters/linear/linear-issue-tracker.js';
import { deterministicUuid } from '../../shared/domain/deterministic-id.js';
import { ServiceError } from '../../shared/domain/errors.js';
import { type ServedStandIn, serveStandIn } from '../support/serve-stand-in.js';

const API_KEY = 'lin_api_sandbox_0123456789abcdef';
const SEEDED_ENG_2 = 'c0ffee02-5a1e-4b0b-9e11-000000000002';

let standIn: LinearStandIn;
let served: ServedStandIn;
let sleeps: number[];

beforeEach(async () => {
  standIn = createLinearStandIn();
  served = await serveStandIn(standIn);
  sleeps = [];
});

afterEach(async () => {
  await served.close();
});

function trackerWith(
  options: Partial<LinearIssueTrackerOptions> = {},
  timeoutMs = 2_000,
): LinearIssueTracker {
  const client = createLinearClient({ apiKey: API_KEY, apiUrl: `${served.baseUrl}/graphql`, timeoutMs });
  return new LinearIssueTracker(client, {
    teamId: LINEAR_SANDBOX.teamId,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...options,
  });
}

async function failureOf(promise: Promise<unknown>): Promise<ServiceError> {
  const error = await promise.then(
    () => expect.fail('expected the call to fail'),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ServiceError);
  return error as ServiceError;
}

function operationsCalled(): string[] {
  return standIn.calls.map((call) => {
    const query = (call.body as { query?: string } | undefined)?.query ?? '';
    return /(?:query|mutation)\s+(\w+)/.exec(query)?.[1] ?? '?';
  });
}

describe('LinearIssueTracker against the Linear stand-in', () => {
  it('gets an issue by identifier in one request, with its state', async () => {
    const issue = await trackerWith().getIssue('ENG-2');

    expect(issue).toEqual({
      id: SEEDED_ENG_2,
      identifier: 'ENG-2',
      title: 'Crash when uploading a profile photo larger than 10 MB',
      description: expect.stringContaining('HEIC'),
      url: 'https://linear.app/acme/issue/ENG-2/crash-when-uploading-a-profile-photo-larger-than-10-mb',
      state: 'In Progress',
    });
    expect(operationsCalled()).toEqual(['BugbotIssue']);
    expect(standIn.calls[0]?.body).toMatchObject({ variables: { id: 'ENG-2' } });
  });

  it('gets an issue by its UUID', async () => {
    const issue = await trackerWith().getIssue(SEEDED_ENG_2);
    expect(issue?.identifier).toBe('ENG-2');
  });

  it('answers null for issues that do not exist, asking Linear only when the reference could name one', async () => {
    const tracker = trackerWith();

    expect(await tracker.getIssue('ENG-999')).toBeNull();
    expect(await tracker.getIssue('0f0e0d0c-0b0a-4909-8807-060504030201')).toBeNull();
    expect(await tracker.getIssue('not an issue')).toBeNull();
    expect(standIn.calls).toHaveLength(2);
  });

  it('creates an issue with the caller-chosen id, and a second create with that id returns the same issue', async () => {
    const tracker = trackerWith();
    const id = deterministicUuid('linear-issue', 'bug-42');
    const input = { id, title: 'Save button does nothing on Firefox', description: 'Reported in #bugs.' };

    const first = await tracker.createIssue(input);
    const again = await tracker.createIssue(input);

    expect(first).toEqual({
      id,
      identifier: 'ENG-6',
      title: input.title,
      description: input.description,
      url: 'https://linear.app/acme/issue/ENG-6/save-button-does-nothing-on-firefox',
      state: 'Backlog',
    });
    expect(again).toEqual(first);
    const issues = standIn.snapshot().issues as { id: string }[];
    expect(issues.filter((issue) => issue.id === id)).toHaveLength(1);
    expect(issues).toHaveLength(6);
    // The refused duplicate is followed by one lookup, not retried.
    expect(operationsCalled()).toEqual(['BugbotIssueCreate', 'BugbotIssueCreate', 'BugbotIssue']);
  });

  it('returns the issue a timed-out create actually made, instead of making a second one', async () => {
    const id = deterministicUuid('linear-issue', 'bug-timeout');
    const input = { id, title: 'Slow network hides a success', description: '' };
    // The answers come long after the client's 150 ms, however late its timer fires.
    standIn.setFault({ failRate: 0, status: 200, latencyMs: 2_000 });

    const timedOut = await failureOf(trackerWith({ maxAttempts: 1 }, 150).createIssue(input));
    expect(timedOut.retryable).toBe(true);
    expect(timedOut.status).toBeUndefined();
    // The stand-in finishes both the create and the lookup after the client gave up.
    await vi.waitFor(() => expect(standIn.calls).toHaveLength(2), { timeout: 20_000, interval: 50 });

    standIn.setFault(null);
    const redelivered = await trackerWith().createIssue(input);

    expect(redelivered.id).toBe(id);
    expect(redelivered.identifier).toBe('ENG-6');
    expect((standIn.snapshot().issues as { id: string }[]).filter((issue) => issue.id === id)).toHaveLength(
      1,
    );
  });

  it('adds a comment once per id, keeping its body', async () => {
    const tracker = trackerWith();
    const id = deterministicUuid('linear-comment', 'bug-42:context');
    const input = {
      id,
      issueId: SEEDED_ENG_2,
      body: '**Context** from Discord thread: 3 more users hit this.',
    };

    const first = await tracker.addComment(input);
    const again = await tracker.addComment(input);

    expect(first).toEqual({
      id,
      url: `https://linear.app/acme/issue/ENG-2/crash-when-uploading-a-profile-photo-larger-than-10-mb#comment-${id.slice(0, 8)}`,
    });
    expect(again).toEqual(first);
    const comments = standIn.snapshot().comments as { id: string; issueId: string; body: string }[];
    expect(comments).toEqual([
      { id, issueId: SEEDED_ENG_2, body: input.body, createdAt: expect.any(String) },
    ]);
  });

  it('refuses a comment on an issue that does not exist, without retrying', async () => {
    const error = await failureOf(
      trackerWith().addComment({
        id: deterministicUuid('linear-comment', 'orphan'),
        issueId: '0f0e0d0c-0b0a-4909-8807-060504030201',
        body: 'hello',
      }),
    );

    expect(error.retryable).toBe(false);
    expect(error.status).toBe(404);
    expect(operationsCalled()).toEqual(['BugbotCommentCreate', 'BugbotComment']);
  });

  it('attaches a link, and attaching the same URL again keeps one attachment', async () => {
    const tracker = trackerWith();
    const link = {
      issueId: SEEDED_ENG_2,
      url: 'https://github.com/acme/app/pull/318',
      title: 'Fix: resize photos before upload',
      subtitle: 'Draft PR by bugbot',
    };

    const first = await tracker.attachLink(link);
    const again = await tracker.attachLink({ ...link, subtitle: 'Ready for review' });

    expect(again.id).toBe(first.id);
    expect(standIn.snapshot().attachments).toEqual([
      {
        id: first.id,
        issueId: SEEDED_ENG_2,
        url: link.url,
        title: link.title,
        subtitle: 'Ready for review',
        createdAt: expect.any(String),
      },
    ]);
  });

  it('retries a 500 and gives up with a retryable ServiceError when it persists', async () => {
    standIn.setFault({ failRate: 1, status: 500, latencyMs: 0 });

    const error = await failureOf(trackerWith().getIssue('ENG-1'));

    expect(error).toMatchObject({ service: 'linear', status: 500, retryable: true });
    expect(standIn.calls.map((call) => call.status)).toEqual([500, 500, 500]);
    expect(sleeps).toHaveLength(2);
  });

  it('takes a 200 with an HTML page for a failure to retry, not for an answer', async () => {
    standIn.setFault({ failRate: 1, status: 200, latencyMs: 0, body: 'html' });
    const error = await failureOf(trackerWith().getIssue('ENG-1'));
    expect(error).toMatchObject({ service: 'linear', status: 502, retryable: true });
    expect(standIn.calls.map((call) => call.status)).toEqual([200, 200, 200]);
  });

  it('makes one issue when the answer to the create was cut off: the retry finds the first', async () => {
    const id = deterministicUuid('linear-issue', 'bug-cut-off');
    standIn.setFault({ failRate: 0, status: 200, latencyMs: 0, body: 'truncated', failNext: 1 });
    const issue = await trackerWith().createIssue({ id, title: 'Cut-off answers', description: '' });
    expect(issue.id).toBe(id);
    expect((standIn.snapshot().issues as { id: string }[]).filter((entry) => entry.id === id)).toHaveLength(
      1,
    );
  });

  it('recovers when Linear fails twice and then answers', async () => {
    standIn.setFault({ failRate: 0, status: 503, latencyMs: 0, failNext: 2 });

    const issue = await trackerWith().getIssue('ENG-1');

    expect(issue?.title).toBe('Login button unresponsive on Safari 17');
    expect(standIn.calls.map((call) => call.status)).toEqual([503, 503, 200]);
  });

  it('does not retry a 400 and marks it permanent', async () => {
    standIn.setFault({ failRate: 1, status: 400, latencyMs: 0 });

    const error = await failureOf(
      trackerWith().attachLink({ issueId: SEEDED_ENG_2, url: 'https://x.test', title: 't' }),
    );

    expect(error).toMatchObject({ service: 'linear', status: 400, retryable: false });
    expect(standIn.calls).toHaveLength(1);
  });

  it('reports missing credentials as a permanent 401', async () => {
    // The SDK refuses to start without a key; an empty header is how a blank secret reaches Linear.
    const client = new LinearClient({
      apiKey: 'unused',
      apiUrl: `${served.baseUrl}/graphql`,
      headers: { Authorization: '' },
    });
    const tracker = new LinearIssueTracker(client, { teamId: LINEAR_SANDBOX.teamId });

    const error = await failureOf(tracker.getIssue('ENG-1'));

    expect(error).toMatchObject({ status: 401, retryable: false });
    expect(standIn.calls.map((call) => call.status)).toEqual([401]);
  });

  it('never puts the API key in error messages', async () => {
    standIn.setFault({ failRate: 1, status: 400, latencyMs: 0 });

    const error = await failureOf(trackerWith().getIssue('ENG-1'));

    expect(error.message).not.toContain(API_KEY);
    expect(JSON.stringify(error.cause)).not.toContain(API_KEY);
  });

  it("treats Linear's rate limit (HTTP 400, RATELIMITED) as retryable after the reset, beyond the retry budget", async () => {
    standIn.rateLimitNext(5, { resetInMs: 45_000 });

    const error = await failureOf(trackerWith().getIssue('ENG-1'));

    expect(error).toMatchObject({ status: 429, retryable: true });
    expect(error.retryAfterMs).toBeGreaterThan(40_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(45_000);
    expect(standIn.calls).toHaveLength(1);
  });

  it('waits out a short rate limit and carries on', async () => {
    standIn.rateLimitNext(1, { resetInMs: 1_500 });

    const issue = await trackerWith().getIssue('ENG-3');

    expect(issue?.identifier).toBe('ENG-3');
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThan(1_000);
  });

  it('reads retry-after from an HTTP 429', async () => {
    standIn.setFault({ failRate: 1, status: 429, latencyMs: 0 });

    const error = await failureOf(trackerWith().getIssue('ENG-1'));

    expect(error).toMatchObject({ status: 429, retryable: true, retryAfterMs: 30_000 });
  });

  it('times out a request that takes too long', async () => {
    standIn.setFault({ failRate: 0, status: 200, latencyMs: 500 });

    const error = await failureOf(trackerWith({ maxAttempts: 1 }, 100).getIssue('ENG-1'));

    expect(error).toMatchObject({ status: undefined, retryable: true });
    expect(error.message).toContain('timed out');
  });

  it('treats a refused connection as retryable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const client = createLinearClient({
      apiKey: API_KEY,
      apiUrl: `http://127.0.0.1:${port}/graphql`,
      timeoutMs: 1_000,
    });
    const tracker = new LinearIssueTracker(client, { teamId: LINEAR_SANDBOX.teamId, maxAttempts: 1 });

    const error = await failureOf(tracker.getIssue('ENG-1'));

    expect(error).toMatchObject({ status: undefined, retryable: true });
  });
});
