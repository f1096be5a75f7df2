import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEAD_LETTER_QUEUE, JOBS_QUEUE, LOCAL_TABLE_NAME, type LocalStack } from '../../local/local-stack.js';
import { signReport } from '../../local/report-sender.js';
import type { RecordedCall, StandIn } from '../../local/stand-ins/stand-in.js';
import { createDocumentClient } from '../../shared/adapters/dynamodb/document-client.js';
import { DynamoDbBugRecords } from '../../shared/adapters/dynamodb/dynamodb-bug-records.js';
import { DynamoDbFoldLedger } from '../../shared/adapters/dynamodb/dynamodb-fold-ledger.js';
import { type Bug, countReporters } from '../../shared/domain/bug.js';

/**
 * Sends an incident storm through a local stack's webhook, as the product's backend would (each
 * report signed, many at once), and reads what came of it: Discord writes by kind, model calls,
 * the bugs and their counts, the queues. Shared by the storm integration test and the bench.
 */

export interface StormSent {
  /** Milliseconds from the first send to the last answer. */
  readonly sendMs: number;
  readonly bugIds: readonly string[];
  /** Answers other than 202, by status. */
  readonly refused: Readonly<Record<number, number>>;
}

export async function sendStorm(
  stack: LocalStack,
  reports: readonly Record<string, unknown>[],
  concurrency = 25,
): Promise<StormSent> {
  const bugIds: string[] = [];
  const refused: Record<number, number> = {};
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < reports.length) {
      const report = reports[next];
      next += 1;
      if (!report) continue;
      const signed = signReport(stack.keys.webhookSecret, report);
      const response = await fetch(`${stack.url}/webhooks/bug-report`, {
        method: 'POST',
        headers: signed.headers,
        body: signed.body,
      });
      const body = (await response.json()) as { bugId?: string };
      if (response.status === 202 && body.bugId) bugIds.push(body.bugId);
      else refused[response.status] = (refused[response.status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, reports.length) }, worker));
  return { sendMs: performance.now() - started, bugIds, refused };
}

/** Jobs waiting, delayed or in flight; 0 once the storm (and its delayed follow-ups) are done. */
export function jobsPending(stack: LocalStack): number {
  const counts = stack.engine.counts(JOBS_QUEUE);
  return counts.visible + counts.inFlight + counts.delayed;
}

export function deadLetters(stack: LocalStack): number {
  const counts = stack.engine.counts(DEAD_LETTER_QUEUE);
  return counts.visible + counts.inFlight + counts.delayed;
}

/** Polls the engine itself (cheap): `/_local/state` would load the one event loop the stack runs on. */
export async function waitForDrain(stack: LocalStack, timeoutMs: number, pollMs = 50): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if (jobsPending(stack) === 0) return performance.now() - started;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  throw new Error(`the jobs queue did not drain within ${timeoutMs} ms (${jobsPending(stack)} pending)`);
}

export interface DiscordWrites {
  readonly cardPosts: number;
  readonly threadStarts: number;
  readonly threadPosts: number;
  readonly cardEdits: number;
  readonly other: number;
  readonly total: number;
  /** Requests Discord answered 429 (not writes; they are retried). */
  readonly rateLimited: number;
}

const CHANNEL_MESSAGES = /^\/api\/v10\/channels\/(\d+)\/messages$/;
const CHANNEL_MESSAGE = /^\/api\/v10\/channels\/(\d+)\/messages\/\d+$/;
const THREADS = /^\/api\/v10\/channels\/\d+\/messages\/\d+\/threads$/;

/** Successful writes (anything but GET) the Discord stand-in answered since `from`. */
export function countDiscordWrites(
  discord: StandIn,
  from: number,
  bugReportsChannelId: string,
): DiscordWrites {
  const calls: readonly RecordedCall[] = discord.calls.slice(from);
  let cardPosts = 0;
  let threadStarts = 0;
  let threadPosts = 0;
  let cardEdits = 0;
  let other = 0;
  let rateLimited = 0;
  for (const call of calls) {
    if (call.status === 429) rateLimited += 1;
    if (call.method === 'GET' || call.status >= 300) continue;
    const path = call.path.split('?')[0] ?? '';
    const posted = CHANNEL_MESSAGES.exec(path);
    if (call.method === 'POST' && posted) {
      if (posted[1] === bugReportsChannelId) cardPosts += 1;
      else threadPosts += 1;
    } else if (call.method === 'POST' && THREADS.test(path)) threadStarts += 1;
    else if (call.method === 'PATCH' && CHANNEL_MESSAGE.test(path)) cardEdits += 1;
    else other += 1;
  }
  return {
    cardPosts,
    threadStarts,
    threadPosts,
    cardEdits,
    other,
    total: cardPosts + threadStarts + threadPosts + cardEdits + other,
    rateLimited,
  };
}

/** `POST /v1/messages` calls the Anthropic stand-in answered since `from`. */
export function countModelCalls(anthropic: StandIn, from: number): number {
  return anthropic.calls
    .slice(from)
    .filter((call) => call.method === 'POST' && call.path.startsWith('/v1/messages')).length;
}

export interface StormOutcome {
  readonly openBugs: readonly Bug[];
  /** The bugs the storm's reports became, by status. */
  readonly statuses: Readonly<Record<string, number>>;
  readonly original: Bug | null;
  /** Reports folded into the original, as their duplicate bugs say. */
  readonly foldedIntoOriginal: number;
  /** What the original's counters say. */
  readonly reportCount: number;
  readonly reporterCount: number;
}

/** The stack's table, read directly (dynalite), not through `/_local/state`. */
export function openStackTable(stack: LocalStack) {
  const client = new DynamoDBClient({
    endpoint: stack.dynamoEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const doc = createDocumentClient(client);
  return {
    records: new DynamoDbBugRecords(doc, LOCAL_TABLE_NAME),
    folds: new DynamoDbFoldLedger(doc, LOCAL_TABLE_NAME),
    close: () => client.destroy(),
  };
}

/** Reads the storm's bugs straight from the table. */
export async function readStormOutcome(stack: LocalStack, bugIds: readonly string[]): Promise<StormOutcome> {
  const table = openStackTable(stack);
  try {
    const { records } = table;
    const bugs = (await Promise.all(bugIds.map((bugId) => records.getBug(bugId)))).filter(
      (bug): bug is Bug => bug !== null,
    );
    const statuses: Record<string, number> = {};
    for (const bug of bugs) statuses[bug.status] = (statuses[bug.status] ?? 0) + 1;
    const open = bugs.filter((bug) => bug.status !== 'duplicate');
    const original = open.length === 1 ? (open[0] ?? null) : null;
    const stored = original ? await records.getBug(original.bugId) : null;
    return {
      openBugs: open,
      statuses,
      original: stored,
      foldedIntoOriginal: bugs.filter(
        (bug) => bug.status === 'duplicate' && bug.duplicateOf === original?.bugId,
      ).length,
      reportCount: stored?.reportCount ?? 0,
      reporterCount: stored ? countReporters(stored) : 0,
    };
  } finally {
    table.close();
  }
}
