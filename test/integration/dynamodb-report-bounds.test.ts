import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbBugRecords } from '../../shared/adapters/dynamodb/dynamodb-bug-records.js';
import { DynamoDbBugStore } from '../../shared/adapters/dynamodb/dynamodb-bug-store.js';
import { DynamoDbFoldLedger } from '../../shared/adapters/dynamodb/dynamodb-fold-ledger.js';
import { MAX_DISCORD_REPORTERS, MAX_REMEMBERED_REPORTS } from '../../shared/domain/bug.js';
import { renderBugCard } from '../../shared/domain/bug-card.js';
import { renderBugDetails } from '../../shared/domain/bug-views.js';
import { REPORT_LIMITS } from '../../shared/domain/report-bounds.js';
import { type BugReportJob, bugReportJobSchema } from '../../shared/jobs/job-schemas.js';
import type { Analyst, BugAnalysisResult } from '../../shared/ports/analyst.js';
import type { ChatPlatform } from '../../shared/ports/chat-platform.js';
import type { SessionReplay } from '../../shared/ports/session-replay.js';
import { triageBugReport } from '../../shared/use-cases/triage-bug-report.js';
import { startTestTable, type TestTable } from '../support/dynalite.js';
import { dynamoDbItemSize } from '../support/dynamodb-item-size.js';

/**
 * A bug is one DynamoDB item, and an item is at most 400 KB. This stores the largest bug bugbot
 * can make — a report far over every cap, the longest analysis the model's schema allows, a
 * dismissal, an issue, a fix, and what grows with every report at its caps — through the real triage code
 * into dynalite, and measures it as DynamoDB does. In ASCII dynalite's own 400 KB check is exact;
 * for multi-byte text (which dynalite undercounts) the byte-accurate estimate decides.
 */

const KB = 1024;
const ITEM_LIMIT = 400 * KB;

let table: TestTable;
let records: DynamoDbBugRecords;

beforeAll(async () => {
  table = await startTestTable();
  records = new DynamoDbBugRecords(table.doc, table.tableName);
});
afterAll(async () => table?.close());

/** Every field bugbot reads, each many times its cap, in `unit` (1 to 4 UTF-8 bytes). */
function maximalJob(bugId: string, unit: string): BugReportJob {
  const text = (bytes: number) => unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit)));
  return bugReportJobSchema.parse({
    v: 1,
    kind: 'bug.report',
    idempotencyKey: `webhook:${bugId}`,
    receivedAt: '2025-05-01T12:00:00.000Z',
    bugId,
    report: {
      id: text(1 * KB),
      description: `Checkout crashes ${text(300 * KB)}`,
      user_id: text(2 * KB),
      user_email: 'reporter@example.com',
      app_version: text(1 * KB),
      created_at: text(1 * KB),
      device_info: Object.fromEntries(
        Array.from({ length: 2_000 }, (_, index) => [`${unit}${index}`, text(100)]),
      ),
      console_logs: `${text(400 * KB)}\nTypeError: x is undefined`,
      url: `https://app.example.com/${text(10 * KB)}`,
      posthog_session_id: text(1 * KB),
      screenshot_url: `https://cdn.example.com/${text(10 * KB)}`,
      team_column: text(100 * KB),
    },
  });
}

function maximalAnalysis(unit: string): BugAnalysisResult {
  // The caps of the model's tool schema (shared/adapters/anthropic/claude-analyst.ts).
  return {
    rootCauseHypothesis: unit.repeat(2000),
    affectedArea: unit.repeat(200),
    severity: 5,
    severityReason: unit.repeat(1000),
    suggestedFix: unit.repeat(2000),
    confidence: 0.9,
    model: 'claude-sonnet-4-5-20250929',
  };
}

function fakes(unit: string) {
  let ids = 0;
  const nextId = (base: bigint) => {
    ids += 1;
    return String(base + BigInt(ids));
  };
  const analyst: Analyst = { analyzeBug: async () => maximalAnalysis(unit) };
  const replay: SessionReplay = {
    findPersonByEmail: async () => null,
    listRecordings: async () => [],
    getRecording: async () => null,
    getSessionInsights: async () => ({ exceptions: [], rageClicks: [], pagesVisited: [] }),
  } as unknown as SessionReplay;
  const chat: ChatPlatform = {
    fetchRecentMessages: async () => [],
    postMessage: async () => ({ id: nextId(1_300_000_000_000_000_000n) }),
    editMessage: async () => undefined,
    startThread: async () => ({ id: nextId(1_400_000_000_000_000_000n) }),
    editInteractionResponse: async () => undefined,
    sendFollowup: async () => ({ id: '1' }),
    listOwnPostsSince: async () => [],
  };
  return { analyst, replay, chat };
}

async function storeMaximalBug(bugId: string, unit: string) {
  const { analyst, replay, chat } = fakes(unit);
  const store = new DynamoDbBugStore(table.doc, table.tableName);
  const outcome = await triageBugReport(maximalJob(bugId, unit), {
    records,
    store,
    chat,
    analyst,
    replay,
    folds: new DynamoDbFoldLedger(table.doc, table.tableName),
    queue: { send: async () => undefined },
    now: () => new Date('2025-05-01T12:00:01.000Z'),
    settings: { bugChannelId: '1200000000000000001' },
  });
  expect(outcome.kind).toBe('triaged');

  // Everything else a bug gathers over its life, each at its largest.
  const long = (length: number) => unit.repeat(length);
  const issued = await records.transitionBug(bugId, ['triaged'], 'issue_created', {
    issue: {
      tracker: 'linear',
      id: '0196a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
      identifier: 'ENG-123456',
      url: `https://linear.app/acme/issue/ENG-123456/${long(200)}`,
    },
    fix: {
      jobId: 'fixjob_0196a1b2c3d47e5f8a9b0c1d2e3f4a5b',
      status: 'pushed',
      branch: `bugbot/fix-${bugId}`,
      pullRequestUrl: 'https://github.com/acme/shop/pull/123456',
    },
  });
  expect(issued.ok).toBe(true);
  const dismissed = await records.transitionBug(bugId, ['issue_created'], 'dismissed', {
    // A Discord username is at most 32 characters; the modal's reason at most 1000.
    dismissal: { by: long(32), reason: long(1000), at: '2025-05-02T12:00:00.000Z' },
  });
  expect(dismissed.ok).toBe(true);

  // What grows as the bug is reported again, at its caps: the product reports remembered
  // (MAX_REMEMBERED_REPORTS, each with the longest id, user id and e-mail a report keeps), the
  // Discord reporters (MAX_DISCORD_REPORTERS), the recent reporters of the fold counts.
  const id = (index: number) =>
    `${index}`.padEnd(REPORT_LIMITS.shortTextBytes / Buffer.byteLength(unit), unit);
  for (let index = 0; index < MAX_REMEMBERED_REPORTS; index += 1) {
    await records.rememberReport(
      bugId,
      {
        bugId: `bug_${String(index).padStart(20, 'a')}`,
        id: id(index),
        userId: id(index),
        userEmail: `${'r'.repeat(64)}@${'e'.repeat(240)}.example.com`.slice(0, 320),
      },
      MAX_REMEMBERED_REPORTS,
    );
  }
  for (let index = 0; index < MAX_DISCORD_REPORTERS; index += 1) {
    await records.addDiscordReporter(
      bugId,
      String(1_300_000_000_000_000_000n + BigInt(index)),
      MAX_DISCORD_REPORTERS,
    );
  }
  const current = await records.getBug(bugId);
  if (!current) throw new Error('no bug');
  await records.saveFoldCounts(
    current,
    {
      reportCount: 1_200,
      reporterCount: 900,
      lastReportAt: '2025-05-03T12:00:00.000Z',
      recentReporters: Array.from({ length: 10 }, (_, index) => id(index)),
    },
    { countedAt: '2025-05-03T12:00:00.000Z' },
  );

  const { Item } = await table.client.send(
    new GetItemCommand({ TableName: table.tableName, Key: { pk: { S: `BUG#${bugId}` }, sk: { S: 'BUG' } } }),
  );
  if (!Item) throw new Error('the bug was not stored');
  return { item: Item, bug: await records.getBug(bugId) };
}

describe('the largest bug bugbot can store fits one DynamoDB item', () => {
  it.each([
    ['ASCII (dynalite checks the limit exactly)', 'x'],
    ['3-byte characters (the worst case per UTF-16 unit)', '€'],
    ['4-byte characters', '🐛'],
  ])('%s', async (_, unit) => {
    const bugId = `bug_maximal${Buffer.from(unit).toString('hex')}`;
    const { item, bug } = await storeMaximalBug(bugId, unit);

    const size = dynamoDbItemSize(item);
    // Within the limit with room to spare for what later versions may add.
    expect(size).toBeLessThan(ITEM_LIMIT * 0.6);

    // What was kept is each field's cap, and what was cut is on record.
    expect(Buffer.byteLength(bug?.description ?? '')).toBeLessThanOrEqual(REPORT_LIMITS.descriptionBytes);
    expect(Buffer.byteLength(bug?.report?.consoleLogs ?? '')).toBeLessThanOrEqual(
      REPORT_LIMITS.consoleLogsBytes,
    );
    expect(bug?.report?.consoleLogs?.endsWith('TypeError: x is undefined')).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(bug?.report?.deviceInfo))).toBeLessThanOrEqual(
      REPORT_LIMITS.deviceInfoBytes,
    );
    expect(bug?.report?.cuts?.map((cut) => cut.field).sort()).toEqual([
      'app_version',
      'console_logs',
      'created_at',
      'description',
      'device_info',
      'id',
      'posthog_session_id',
      'screenshot_url',
      'url',
      'user_id',
    ]);
    expect(bug?.reports).toHaveLength(MAX_REMEMBERED_REPORTS);
    expect(bug?.recentReporters).toHaveLength(10);
  });

  it('says on the card and in View Details what was cut', async () => {
    const { bug } = await storeMaximalBug('bug_maximalcard', 'x');
    if (!bug) throw new Error('no bug');
    const card = JSON.stringify(renderBugCard(bug));
    const details = JSON.stringify(renderBugDetails(bug));
    for (const text of [card, details]) {
      expect(text).toContain('Report cut to fit');
      expect(text).toMatch(/[Cc]onsole log cut to the last 16 KB of 400 KB/);
      expect(text).toMatch(/[Dd]escription cut to the first 16 KB of 300 KB/);
    }
  });
});
