import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbFoldLedger } from '../../shared/adapters/dynamodb/dynamodb-fold-ledger.js';
import type { FoldRecord } from '../../shared/domain/fold.js';
import { startTestTable, type TestTable } from '../support/dynalite.js';

let table: TestTable;
let ledger: DynamoDbFoldLedger;
let counter = 0;

beforeAll(async () => {
  table = await startTestTable();
  ledger = new DynamoDbFoldLedger(table.doc, table.tableName);
});
afterAll(async () => table?.close());

function original(): string {
  counter += 1;
  return `bug_orig${counter}`;
}

const fold = (originalId: string, bugId: string, overrides: Partial<FoldRecord> = {}): FoldRecord => ({
  originalId,
  bugId,
  kind: 'report',
  reporterId: `u_${bugId}`,
  at: '2026-05-01T12:00:00.000Z',
  reason: { kind: 'fingerprint', errorType: 'TypeError', frames: ['CheckoutForm', 'PaymentStep'] },
  ...overrides,
});

describe('fold records', () => {
  it('records each fold once, however many redeliveries race, and lists every one', async () => {
    const originalId = original();
    const attempts = await Promise.all(
      Array.from({ length: 5 }, () => ledger.recordFold(fold(originalId, 'bug_dup'))),
    );
    expect(attempts.filter(Boolean)).toHaveLength(1);
    expect(await ledger.listFolds(originalId)).toEqual([fold(originalId, 'bug_dup')]);
  });

  it('lists a storm of folds exactly, past DynamoDB pages, and keeps reasons and merges', async () => {
    const originalId = original();
    // ~1.4 KB each: 1,000 of them are more than one 1 MB query page.
    const padding = 'x'.repeat(1_300);
    await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        ledger.recordFold(
          fold(originalId, `bug_dup${i}`, {
            reason: { kind: 'similar', score: 0.41, threshold: 0.34, sharedTerms: [padding] },
          }),
        ),
      ),
    );
    await ledger.recordFold(
      fold(originalId, 'bug_merged', { kind: 'merge', reason: { kind: 'manual', by: 'maya' } }),
    );
    await ledger.recordFold(fold(originalId, 'bug_legacy', { reason: undefined, reporterId: undefined }));
    const listed = await ledger.listFolds(originalId);
    expect(listed).toHaveLength(1_002);
    expect(new Set(listed.map((record) => record.bugId)).size).toBe(1_002);
    expect(listed.find((record) => record.bugId === 'bug_merged')).toMatchObject({
      kind: 'merge',
      reason: { kind: 'manual', by: 'maya' },
    });
    const legacy = listed.find((record) => record.bugId === 'bug_legacy');
    expect(legacy).not.toHaveProperty('reason');
    expect(legacy).not.toHaveProperty('reporterId');
  });

  it('forgets a split fold, and knows whether a bug has any', async () => {
    const originalId = original();
    expect(await ledger.hasFolds(originalId)).toBe(false);
    await ledger.recordFold(fold(originalId, 'bug_a'));
    await ledger.recordFold(fold(originalId, 'bug_b'));
    expect(await ledger.hasFolds(originalId)).toBe(true);
    expect(await ledger.removeFold(originalId, 'bug_a')).toBe(true);
    expect(await ledger.removeFold(originalId, 'bug_a')).toBe(false);
    expect((await ledger.listFolds(originalId)).map((record) => record.bugId)).toEqual(['bug_b']);
    // The refresh state shares the partition but is not a fold.
    await ledger.claimRefresh(originalId, { key: 'k', now: 0, lostAfter: 10 });
    expect(await ledger.listFolds(originalId)).toHaveLength(1);
  });
});

describe('refresh claims', () => {
  it('lets exactly one of many concurrent folds schedule the refresh', async () => {
    const bugId = original();
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        ledger.claimRefresh(bugId, { key: `k${i}`, now: 1_000, lostAfter: 200_000 }),
      ),
    );
    expect(claims.filter((claim) => claim.claimed)).toHaveLength(1);
    const winner = claims.findIndex((claim) => claim.claimed);
    expect(claims[winner]).toEqual({ claimed: true, state: { notedCount: 1 } });

    // Another key's release (a retried older job) leaves the pending claim alone…
    await ledger.releaseRefresh(bugId, 'k-old', 2_000);
    expect((await ledger.claimRefresh(bugId, { key: 'late', now: 3_000, lostAfter: 200_000 })).claimed).toBe(
      false,
    );
    // …the winner's release ends it and stamps the refresh; the next fold claims again.
    expect(await ledger.releaseRefresh(bugId, `k${winner}`, 4_000)).toEqual({
      lastRefreshAt: 4_000,
      notedCount: 1,
    });
    const next = await ledger.claimRefresh(bugId, { key: 'next', now: 5_000, lostAfter: 200_000 });
    expect(next).toEqual({ claimed: true, state: { lastRefreshAt: 4_000, notedCount: 1 } });
    await ledger.setStormStart(bugId, 5_000);
    expect(await ledger.releaseRefresh(bugId, 'next', 6_000)).toMatchObject({ stormStartedAt: 5_000 });
  });

  it('takes over a claim that was never released in time, and gives back one whose job was not sent', async () => {
    const bugId = original();
    await ledger.claimRefresh(bugId, { key: 'lost', now: 1_000, lostAfter: 10_000 });
    expect((await ledger.claimRefresh(bugId, { key: 'early', now: 9_000, lostAfter: 20_000 })).claimed).toBe(
      false,
    );
    expect((await ledger.claimRefresh(bugId, { key: 'after', now: 10_001, lostAfter: 20_000 })).claimed).toBe(
      true,
    );
    await ledger.abandonRefresh(bugId, 'after');
    expect((await ledger.claimRefresh(bugId, { key: 'again', now: 10_002, lostAfter: 20_000 })).claimed).toBe(
      true,
    );
  });
});

describe('note outbox', () => {
  it('lets one refresh claim the next note, keeps it until it is confirmed, then allows the next', async () => {
    const bugId = original();
    await ledger.claimRefresh(bugId, { key: 'r1', now: 0, lostAfter: 10 });
    const note = (count: number) => ({ key: `folds:${count}`, content: `${count} reports`, count });
    const claims = await Promise.all([
      ledger.claimNote(bugId, 1, note(40), 1_000),
      ledger.claimNote(bugId, 1, note(41), 1_000),
      ledger.claimNote(bugId, 1, note(42), 1_000),
    ]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    const claimed = [40, 41, 42][claims.indexOf(true)] ?? 0;

    // Not confirmed (the refresh stopped before posting): the next refresh reads it back.
    const state = await ledger.releaseRefresh(bugId, 'r1', 2_000);
    expect(state).toMatchObject({ notedCount: claimed, notedAt: 1_000, pendingNote: note(claimed) });
    expect(await ledger.claimNote(bugId, claimed, note(100), 3_000)).toBe(false);

    await ledger.finishNote(bugId, 'folds:other');
    expect(await ledger.claimNote(bugId, claimed, note(100), 3_000)).toBe(false);
    await ledger.finishNote(bugId, note(claimed).key);
    expect(await ledger.claimNote(bugId, claimed, note(100), 3_000)).toBe(true);
  });
});
