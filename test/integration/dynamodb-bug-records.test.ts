import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbBugRecords } from '../../shared/adapters/dynamodb/dynamodb-bug-records.js';
import { type Bug, type BugPatch, createNewBug, type NewBugInput } from '../../shared/domain/bug.js';
import { BugbotError } from '../../shared/domain/errors.js';
import { BUGS_BY_STATE_INDEX } from '../../shared/table/table-definition.js';
import { startTestTable, type TestTable } from '../support/dynalite.js';

let table: TestTable;
let records: DynamoDbBugRecords;
let now = Date.parse('2025-03-01T12:00:00.000Z');
const commands: { name: string; input: Record<string, unknown> }[] = [];
let bugCounter = 0;

beforeAll(async () => {
  table = await startTestTable();
  records = new DynamoDbBugRecords(table.doc, table.tableName, () => now);
  recordCommands(table.client);
});

afterAll(async () => {
  await table?.close();
});

/** Records what the adapter actually sends, to tell an index Query from a Scan. */
function recordCommands(client: DynamoDBClient) {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      commands.push({ name: context.commandName ?? '', input: args.input as Record<string, unknown> });
      return next(args);
    },
    { step: 'initialize', name: 'recordCommands' },
  );
}

function newBug(overrides: Partial<NewBugInput> = {}, createdAt = new Date(now).toISOString()): Bug {
  bugCounter += 1;
  return createNewBug(
    {
      bugId: `bug-${bugCounter}-${Math.random().toString(36).slice(2, 8)}`,
      title: `Checkout button does nothing #${bugCounter}`,
      description: 'Tapping "Pay" on the checkout page has no effect.',
      reporter: { id: `user-${bugCounter}`, email: `user${bugCounter}@example.com` },
      ...overrides,
    },
    createdAt,
  );
}

async function rawBugItem(bugId: string) {
  const { Item } = await table.doc.send(
    new GetCommand({
      TableName: table.tableName,
      Key: { pk: `BUG#${bugId}`, sk: 'BUG' },
      ConsistentRead: true,
    }),
  );
  return Item;
}

describe('putNewBug / getBug', () => {
  it('creates a bug once; a second create returns the stored one untouched', async () => {
    const bug = newBug({ priority: 2, severity: 'high', fingerprint: 'fp-1', analysis: { rootCause: 'x' } });

    expect(await records.putNewBug(bug)).toEqual({ created: true, bug });
    const again = await records.putNewBug({ ...bug, title: 'a different title', version: 7 });

    expect(again).toEqual({ created: false, existing: bug });
    expect(await records.getBug(bug.bugId)).toEqual(bug);
  });

  it('round-trips every optional field and stores the index keys', async () => {
    const bug: Bug = {
      ...newBug({ priority: 1 }),
      severity: 'critical',
      fingerprint: 'fp-full',
      duplicateOf: 'bug-0',
      analysis: { rootCause: 'null deref', files: ['src/a.ts'], confidence: 0.7 },
      issue: { tracker: 'linear', id: 'lin-1', identifier: 'ENG-1', url: 'https://linear.app/x/ENG-1' },
      card: { channelId: 'c1', messageId: 'm1', threadId: 't1' },
      reportCount: 3,
      distinctReporters: ['user-a', 'user-b'],
    };

    await records.putNewBug(bug);

    expect(await records.getBug(bug.bugId)).toEqual(bug);
    expect(await rawBugItem(bug.bugId)).toMatchObject({
      entity: 'bug',
      gsi1pk: 'BUGS#open',
      gsi1sk: `001#${bug.createdAt}#${bug.bugId}`,
      distinctReporters: new Set(['user-a', 'user-b']),
    });
  });

  it('stores an anonymous bug without an empty reporter set or undefined fields', async () => {
    const bug = newBug({ reporter: { email: undefined } });

    await records.putNewBug(bug);

    const item = await rawBugItem(bug.bugId);
    expect(item).not.toHaveProperty('distinctReporters');
    expect(item?.reporter).toEqual({});
    expect(item?.gsi1sk).toBe(`999#${bug.createdAt}#${bug.bugId}`);
    expect(await records.getBug(bug.bugId)).toEqual({ ...bug, reporter: {} });
  });

  it('refuses a priority the sort key cannot order, before writing anything', async () => {
    const bug = newBug({ priority: 1.5 });

    await expect(records.putNewBug(bug)).rejects.toBeInstanceOf(BugbotError);
    expect(await records.getBug(bug.bugId)).toBeNull();
  });

  it('answers null for an unknown bug', async () => {
    expect(await records.getBug('bug-unknown')).toBeNull();
  });
});

describe('transitionBug', () => {
  it('moves a bug whose status is allowed, applying the patch and bumping the version', async () => {
    const bug = newBug();
    await records.putNewBug(bug);
    now += 1000;

    const result = await records.transitionBug(bug.bugId, ['new'], 'analyzing', { severity: 'low' });

    const expected = {
      ...bug,
      status: 'analyzing',
      severity: 'low',
      version: 2,
      updatedAt: new Date(now).toISOString(),
    };
    expect(result).toEqual({ ok: true, bug: expected });
    expect(await records.getBug(bug.bugId)).toEqual(expected);
  });

  it('refuses a bug in another status, returns it as it is and writes nothing', async () => {
    const bug = newBug();
    await records.putNewBug(bug);
    const before = await rawBugItem(bug.bugId);
    now += 1000;

    const result = await records.transitionBug(bug.bugId, ['triaged', 'issue_created'], 'fix_requested', {
      title: 'changed',
    });

    expect(result).toEqual({ ok: false, current: bug });
    expect(await rawBugItem(bug.bugId)).toEqual(before);
  });

  it('refuses a bug that does not exist without creating it', async () => {
    expect(await records.transitionBug('bug-missing', ['new'], 'analyzing')).toEqual({
      ok: false,
      current: null,
    });
    expect(await records.transitionBug('bug-missing', ['new'], 'triaged', { priority: 1 })).toEqual({
      ok: false,
      current: null,
    });
    expect(await rawBugItem('bug-missing')).toBeUndefined();
  });

  it('lets one of ten concurrent transitions from the same status win', async () => {
    const bug = newBug();
    await records.putNewBug(bug);
    const targets = ['analyzing', 'dismissed', 'duplicate', 'analyzing', 'dismissed'] as const;

    const results = await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        records.transitionBug(bug.bugId, ['new'], targets[index % targets.length]!, {
          title: `winner ${index}`,
        }),
      ),
    );

    const winners = results.filter((result) => result.ok);
    expect(winners).toHaveLength(1);
    const stored = await records.getBug(bug.bugId);
    expect(stored?.version).toBe(2);
    expect(winners[0]!.ok && winners[0]!.bug).toEqual(stored);
  });

  it('ignores fields outside the patch list, so a whole bug cannot overwrite status or version', async () => {
    const bug = newBug();
    await records.putNewBug(bug);
    const sneaky = { ...bug, status: 'resolved', version: 40, reportCount: 99, title: 'renamed' } as BugPatch;

    const result = await records.transitionBug(bug.bugId, ['new'], 'analyzing', sneaky);

    expect(result.ok && result.bug).toMatchObject({
      status: 'analyzing',
      version: 2,
      reportCount: 1,
      title: 'renamed',
    });
  });
});

describe('updateBug', () => {
  it('applies a patch at the expected version and refuses a stale one', async () => {
    const bug = newBug();
    await records.putNewBug(bug);
    const card = { channelId: 'chan', messageId: 'msg' };

    const first = await records.updateBug(bug.bugId, { card }, 1);
    const stale = await records.updateBug(bug.bugId, { title: 'lost update' }, 1);

    expect(first.ok && first.bug).toMatchObject({ card, version: 2 });
    expect(stale).toEqual({ ok: false, current: first.ok ? first.bug : null });
    expect((await records.getBug(bug.bugId))?.title).toBe(bug.title);
  });
});

describe('audit', () => {
  it('lists a bug’s entries in time order, the latest ones when limited', async () => {
    const bug = newBug();
    const other = newBug();
    await records.putNewBug(bug);
    const at = (minute: number) => `2025-03-01T12:0${minute}:00.000Z`;
    for (const minute of [3, 1, 4, 2]) {
      await records.appendAudit(bug.bugId, {
        actor: 'system',
        action: `step-${minute}`,
        detail: 'd',
        at: at(minute),
      });
    }
    await records.appendAudit(other.bugId, { actor: 'u1', action: 'other', detail: 'd', at: at(5) });

    const all = await records.listAudit(bug.bugId, 10);
    const latest = await records.listAudit(bug.bugId, 2);

    expect(all.map((entry) => entry.action)).toEqual(['step-1', 'step-2', 'step-3', 'step-4']);
    expect(all[0]).toEqual({ actor: 'system', action: 'step-1', detail: 'd', at: at(1) });
    expect(latest.map((entry) => entry.action)).toEqual(['step-3', 'step-4']);
    expect(await records.listAudit(other.bugId, 10)).toHaveLength(1);
  });

  it('keeps two entries stamped at the same instant', async () => {
    const bug = newBug();
    const entry = { actor: 'system', action: 'same', detail: 'd', at: '2025-03-01T12:00:00.000Z' };

    await Promise.all([records.appendAudit(bug.bugId, entry), records.appendAudit(bug.bugId, entry)]);

    expect(await records.listAudit(bug.bugId, 10)).toEqual([entry, entry]);
  });
});

describe('claimFingerprint', () => {
  it('binds a fingerprint to one of ten racing bugs and tells every loser the winner', async () => {
    const bugIds = Array.from({ length: 10 }, (_, index) => `bug-fp-${index}`);

    const results = await Promise.all(bugIds.map((bugId) => records.claimFingerprint('fp-race', bugId)));

    const winners = results.filter((result) => result.claimed);
    expect(winners).toHaveLength(1);
    const winner = winners[0]!.bugId;
    expect(results.every((result) => result.bugId === winner)).toBe(true);
    expect(await records.claimFingerprint('fp-race', winner)).toEqual({ claimed: true, bugId: winner });
    expect(await records.claimFingerprint('fp-race', 'bug-late')).toEqual({ claimed: false, bugId: winner });
  });
});

describe('saveFoldCounts', () => {
  const counts = (reportCount: number) => ({
    reportCount,
    reporterCount: reportCount - 1,
    lastReportAt: '2025-03-01T12:05:00.000Z',
    recentReporters: ['carol', 'bob'],
  });

  it('stores the counts without bumping the version, and keeps a later count over an earlier one', async () => {
    const bug = newBug({ reporter: { id: 'alice' } });
    await records.putNewBug(bug);

    const saved = await records.saveFoldCounts(bug, counts(12), { countedAt: '2025-03-01T12:00:10.000Z' });
    expect(saved).toMatchObject({
      reportCount: 12,
      reporterCount: 11,
      lastReportAt: '2025-03-01T12:05:00.000Z',
      recentReporters: ['carol', 'bob'],
      distinctReporters: ['alice'],
      version: 1,
    });
    // A slower refresh that counted earlier arrives last: refused, the later count stays.
    const stale = await records.saveFoldCounts(bug, counts(7), { countedAt: '2025-03-01T12:00:05.000Z' });
    expect(stale?.reportCount).toBe(12);
  });

  it('moves the priority (and the queue order) only once the analysis is done', async () => {
    const pending = newBug({ priority: null });
    await records.putNewBug(pending);
    const priority = { priority: 2 as const, score: 40, breakdown: [] };
    const before = await records.saveFoldCounts(pending, counts(30), {
      countedAt: '2025-03-01T12:01:00.000Z',
      priority,
    });
    expect(before?.priority).toBeNull();

    const analysed = newBug({ priority: 3, analysis: { state: 'done', priority: { priority: 3 } } });
    await records.putNewBug(analysed);
    const after = await records.saveFoldCounts(analysed, counts(30), {
      countedAt: '2025-03-01T12:01:00.000Z',
      priority,
    });
    expect(after?.priority).toBe(2);
    expect(after?.analysis).toMatchObject({ state: 'done', priority: { priority: 2, score: 40 } });
    expect((await rawBugItem(analysed.bugId))?.gsi1sk).toBe(`002#${analysed.createdAt}#${analysed.bugId}`);
  });

  it('answers null for an unknown bug and creates nothing', async () => {
    const ghost = newBug();
    expect(
      await records.saveFoldCounts(ghost, counts(2), { countedAt: new Date(now).toISOString() }),
    ).toBeNull();
    expect(await rawBugItem(ghost.bugId)).toBeUndefined();
  });
});

describe('splitOut', () => {
  it('moves a duplicate back to new, remembers its original, and says no when it is not a duplicate of it', async () => {
    const original = newBug();
    const folded = newBug();
    await records.putNewBug(original);
    await records.putNewBug(folded);
    await records.transitionBug(folded.bugId, ['new'], 'duplicate', {
      duplicateOf: original.bugId,
      foldReason: { kind: 'fingerprint', errorType: 'TypeError', frames: ['CheckoutForm'] },
    });

    expect((await records.splitOut(folded.bugId, 'bug-other')).ok).toBe(false);
    const split = await records.splitOut(folded.bugId, original.bugId);
    expect(split.ok).toBe(true);
    const stored = await records.getBug(folded.bugId);
    expect(stored).toMatchObject({ status: 'new', notDuplicateOf: [original.bugId] });
    expect(stored?.duplicateOf).toBeUndefined();
    expect(stored?.foldReason).toBeUndefined();
    expect((await rawBugItem(folded.bugId))?.gsi1pk).toBe('BUGS#open');
    // A second split (another click) changes nothing.
    const again = await records.splitOut(folded.bugId, original.bugId);
    expect(again).toMatchObject({ ok: false, current: { status: 'new', notDuplicateOf: [original.bugId] } });
  });

  it("takes the report out of a legacy original's duplicate set", async () => {
    const original = { ...newBug(), reportCount: 3, duplicateBugIds: ['dup-legacy', 'dup-kept'] };
    const folded = { ...newBug(), bugId: 'dup-legacy' };
    await records.putNewBug(original);
    await records.putNewBug(folded);
    await records.transitionBug(folded.bugId, ['new'], 'duplicate', { duplicateOf: original.bugId });

    await records.splitOut(folded.bugId, original.bugId);
    expect((await records.getBug(original.bugId))?.duplicateBugIds).toEqual(['dup-kept']);
  });
});

describe('takeOverFingerprint', () => {
  it('moves a fingerprint only away from the bug that still owns it', async () => {
    await records.claimFingerprint('fp-closed', 'bug-dismissed');
    const results = await Promise.all(
      ['bug-a', 'bug-b', 'bug-c'].map((bugId) =>
        records.takeOverFingerprint('fp-closed', 'bug-dismissed', bugId),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = ['bug-a', 'bug-b', 'bug-c'][results.indexOf(true)] ?? 'missing';
    expect(await records.claimFingerprint('fp-closed', 'bug-late')).toEqual({
      claimed: false,
      bugId: winner,
    });
    expect(await records.takeOverFingerprint('fp-nobody', 'bug-x', 'bug-y')).toBe(false);
  });
});

describe('listOpenBugs', () => {
  it('queries the state index for open bugs, most urgent then oldest first', async () => {
    // A table of its own, so the expected list is exactly these bugs.
    const own = await startTestTable();
    try {
      const list = new DynamoDbBugRecords(own.doc, own.tableName, () => now);
      const at = (minute: number) => `2025-03-02T10:${String(minute).padStart(2, '0')}:00.000Z`;
      const bugs = {
        lowOld: newBug({ priority: 3 }, at(1)),
        urgentNew: newBug({ priority: 1 }, at(9)),
        unprioritised: newBug({}, at(0)),
        urgentOld: newBug({ priority: 1 }, at(2)),
        resolved: { ...newBug({ priority: 1 }, at(0)), status: 'resolved' as const },
        duplicate: { ...newBug({ priority: 0 }, at(0)), status: 'duplicate' as const, duplicateOf: 'x' },
        dismissedLater: newBug({ priority: 0 }, at(0)),
        reprioritised: newBug({ priority: 4 }, at(3)),
      };
      for (const bug of Object.values(bugs)) await list.putNewBug(bug);
      await list.transitionBug(bugs.dismissedLater.bugId, ['new'], 'dismissed');
      await list.updateBug(bugs.reprioritised.bugId, { priority: 2 }, 1);
      commands.length = 0;
      recordCommands(own.client);

      const open = await list.listOpenBugs(10);
      const firstTwo = await list.listOpenBugs(2);
      const closed = await list.listClosedBugs(10);

      expect(open.map((bug) => bug.bugId)).toEqual([
        bugs.urgentOld.bugId,
        bugs.urgentNew.bugId,
        bugs.reprioritised.bugId,
        bugs.lowOld.bugId,
        bugs.unprioritised.bugId,
      ]);
      expect(open[2]).toMatchObject({ priority: 2, version: 2 });
      expect(firstTwo.map((bug) => bug.bugId)).toEqual([bugs.urgentOld.bugId, bugs.urgentNew.bugId]);
      expect(closed.map((bug) => bug.status).sort()).toEqual(['dismissed', 'duplicate', 'resolved']);
      expect(commands.map((command) => command.name)).toEqual([
        'QueryCommand',
        'QueryCommand',
        'QueryCommand',
      ]);
      expect(commands.every((command) => command.input.IndexName === BUGS_BY_STATE_INDEX)).toBe(true);
      // The table does hold the closed bugs: a Scan would have returned them.
      const { Items } = await own.doc.send(new ScanCommand({ TableName: own.tableName }));
      expect(Items?.filter((item) => item.sk === 'BUG')).toHaveLength(8);
    } finally {
      await own.close();
    }
  });

  it('returns nothing for a zero limit without asking the table', async () => {
    commands.length = 0;
    expect(await records.listOpenBugs(0)).toEqual([]);
    expect(commands).toHaveLength(0);
  });

  it('pages through the index until the limit is met', async () => {
    const own = await startTestTable();
    try {
      const list = new DynamoDbBugRecords(own.doc, own.tableName, () => now);
      // ~150 KB each: DynamoDB (and dynalite) stop a page at 1 MB, so 12 bugs need two pages.
      const big = 'x'.repeat(150_000);
      for (let index = 0; index < 12; index += 1) {
        await list.putNewBug(newBug({ priority: 1, description: big }));
      }
      const pages: number[] = [];
      own.client.middlewareStack.add(
        (next) => async (args) => {
          const output = await next(args);
          pages.push(((output.output as { Items?: unknown[] }).Items ?? []).length);
          return output;
        },
        { step: 'initialize', name: 'countPages' },
      );

      const open = await list.listOpenBugs(12);

      expect(open).toHaveLength(12);
      expect(pages.length).toBeGreaterThan(1);
    } finally {
      await own.close();
    }
  });
});

describe('item layout', () => {
  it('keeps audit entries under the bug’s partition without disturbing the bug', async () => {
    const bug = newBug();
    await records.putNewBug(bug);
    await records.appendAudit(bug.bugId, {
      actor: 'a',
      action: 'b',
      detail: 'c',
      at: '2025-03-01T00:00:00.000Z',
    });

    const { Items } = await table.doc.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `BUG#${bug.bugId}` },
      }),
    );

    expect(Items?.map((item) => String(item.sk).split('#')[0]).sort()).toEqual(['AUDIT', 'BUG']);
    expect(await records.getBug(bug.bugId)).toEqual(bug);
  });
});

describe('references', () => {
  it('finds a bug by its issue identifier (any case) or its thread, and nothing for unknown ones', async () => {
    const bug = newBug({});
    await records.putNewBug(bug);
    await records.linkReference('issue', 'ENG-12', bug.bugId);
    await records.linkReference('thread', '1300000000000000001', bug.bugId);
    expect(await records.findBugIdByReference('issue', 'eng-12')).toBe(bug.bugId);
    expect(await records.findBugIdByReference('thread', '1300000000000000001')).toBe(bug.bugId);
    expect(await records.findBugIdByReference('issue', 'ENG-13')).toBeNull();
    expect(await records.findBugIdByReference('thread', 'ENG-12')).toBeNull();
  });
});

describe('rememberReport / addDiscordReporter (closing the loop)', () => {
  it('remembers the bug’s own report at creation and each folded report once, up to the bound', async () => {
    const bug = newBug({ reportRef: { id: 'rep_1', userId: 'u_1', userEmail: 'u1@example.com' } });
    await records.putNewBug(bug);
    expect((await records.getBug(bug.bugId))?.reports).toEqual([
      { bugId: bug.bugId, id: 'rep_1', userId: 'u_1', userEmail: 'u1@example.com' },
    ]);
    // A redelivered fold remembers nothing twice; concurrent folds each land once.
    await Promise.all([
      records.rememberReport(bug.bugId, { bugId: 'dup-a', id: 'rep_2' }, 3),
      records.rememberReport(bug.bugId, { bugId: 'dup-a', id: 'rep_2' }, 3),
      records.rememberReport(bug.bugId, { bugId: 'dup-b', userId: 'u_3' }, 3),
    ]);
    await records.rememberReport(bug.bugId, { bugId: 'dup-c', id: 'rep_4' }, 3);
    const stored = await records.getBug(bug.bugId);
    expect(stored?.reports?.map((report) => report.bugId).sort()).toEqual(
      [bug.bugId, 'dup-a', 'dup-b'].sort(),
    );
    // Bookkeeping stays out of the bug.
    expect(stored).not.toHaveProperty('reportKeys');
    expect((await rawBugItem(bug.bugId))?.reportKeys).toBeInstanceOf(Set);
  });

  it('stores no report for a bug the product knows nothing of', async () => {
    const bug = newBug({ reportRef: {} });
    await records.putNewBug(bug);
    expect((await records.getBug(bug.bugId))?.reports).toBeUndefined();
  });

  it('remembers Discord reporters once each, up to the bound, and not for a bug that does not exist', async () => {
    const bug = newBug();
    await records.putNewBug(bug);
    await Promise.all(
      ['111111111111111111', '222222222222222222', '111111111111111111'].map((id) =>
        records.addDiscordReporter(bug.bugId, id, 2),
      ),
    );
    await records.addDiscordReporter(bug.bugId, '333333333333333333', 2);
    // One already remembered is still accepted at the bound (a redelivered job).
    await records.addDiscordReporter(bug.bugId, '222222222222222222', 2);
    expect((await records.getBug(bug.bugId))?.discordReporters).toEqual([
      '111111111111111111',
      '222222222222222222',
    ]);
    await records.addDiscordReporter('bug-missing', '111111111111111111', 2);
    expect(await records.getBug('bug-missing')).toBeNull();
  });
});
