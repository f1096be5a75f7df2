import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbFixJobs } from '../../shared/adapters/dynamodb/dynamodb-fix-jobs.js';
import { toMicros } from '../../shared/domain/fix-budget.js';
import { startTestTable, type TestTable } from '../support/dynalite.js';

// The fix pipeline's counters on dynalite: exact under concurrency with single-item conditions.
let table: TestTable;
let jobs: DynamoDbFixJobs;
beforeAll(async () => {
  table = await startTestTable();
  jobs = new DynamoDbFixJobs(table.doc, table.tableName);
});
afterAll(async () => table?.close());

describe('the monthly fix budget', () => {
  it('lets exactly as many concurrent fixes reserve as the budget holds', async () => {
    const month = '2026-01';
    const attempts = Array.from({ length: 25 }, (_, index) =>
      jobs.reserveBudget({
        month,
        jobId: `fix_${index}`,
        amountMicros: toMicros(5),
        limitMicros: toMicros(42),
      }),
    );
    const outcomes = await Promise.all(attempts);
    expect(outcomes.filter((outcome) => outcome.reserved)).toHaveLength(8); // 8 × $5 ≤ $42 < 9 × $5
    expect(await jobs.readMonthSpend(month)).toEqual({
      month,
      spentMicros: 0,
      committedMicros: toMicros(40),
    });
  });

  it('reserves once per job however often it is asked, and settles once at the real cost', async () => {
    const month = '2026-02';
    const reserve = () =>
      jobs.reserveBudget({ month, jobId: 'fix_a', amountMicros: toMicros(5), limitMicros: toMicros(100) });
    const first = await Promise.all([reserve(), reserve(), reserve()]);
    expect(first.every((outcome) => outcome.reserved)).toBe(true);
    expect((await jobs.readMonthSpend(month)).committedMicros).toBe(toMicros(5));

    const settle = () =>
      jobs.settleBudget({
        month,
        jobId: 'fix_a',
        reservedMicros: toMicros(5),
        costMicros: toMicros(0.123456),
      });
    await Promise.all([settle(), settle(), settle()]);
    expect(await jobs.readMonthSpend(month)).toEqual({
      month,
      spentMicros: 123_456,
      committedMicros: 123_456,
    });
    // A settled job does not reserve again.
    expect((await reserve()).reserved).toBe(true);
    expect((await jobs.readMonthSpend(month)).committedMicros).toBe(123_456);
  });

  it('counts a job that never reserved at its cost, once', async () => {
    const month = '2026-03';
    await jobs.settleBudget({ month, jobId: 'fix_old', reservedMicros: 0, costMicros: 2_000_000 });
    await jobs.settleBudget({ month, jobId: 'fix_old', reservedMicros: 0, costMicros: 2_000_000 });
    expect(await jobs.readMonthSpend(month)).toEqual({
      month,
      spentMicros: 2_000_000,
      committedMicros: 2_000_000,
    });
  });

  it('refuses a fix whose limit alone is over the budget', async () => {
    const outcome = await jobs.reserveBudget({
      month: '2026-04',
      jobId: 'fix_big',
      amountMicros: toMicros(10),
      limitMicros: toMicros(5),
    });
    expect(outcome.reserved).toBe(false);
  });
});

describe('the hourly allowance with use ids', () => {
  const window = { scope: 'fix', userId: 'u1', window: '2026-01-01T10' };
  const consume = (useId: string) => jobs.consumeAllowance({ ...window, limit: 3, expiresAt: 1, useId });

  it('counts each use once, exactly up to the limit under concurrency, and refunds exactly', async () => {
    const outcomes = await Promise.all(
      ['a', 'a', 'b', 'c', 'd', 'e', 'b'].map((useId) =>
        consume(useId).then((outcome) => ({ useId, ...outcome })),
      ),
    );
    const allowed = new Set(outcomes.filter((outcome) => outcome.allowed).map((outcome) => outcome.useId));
    expect(allowed.size).toBe(3);
    expect(await jobs.peekAllowance(window)).toBe(3);
    const [refunded] = [...allowed];
    await jobs.refundAllowance({ ...window, useId: refunded ?? '' });
    await jobs.refundAllowance({ ...window, useId: refunded ?? '' });
    expect(await jobs.peekAllowance(window)).toBe(2);
    expect((await consume('z')).allowed).toBe(true);
    expect((await consume('y')).allowed).toBe(false);
  });
});

describe('one fix at a time per target', () => {
  it('gives the target to one of many concurrent claims, and to the next once released or expired', async () => {
    const claim = (jobId: string, now = 1000) =>
      jobs.claimFixTarget({
        targetKey: 'issue:linear:ENG-12',
        holder: { jobId, notifyChannelId: '1', requestedBy: jobId },
        expiresAt: now + 3600,
        now,
      });
    const outcomes = await Promise.all(Array.from({ length: 10 }, (_, index) => claim(`fix_${index}`)));
    const winners = outcomes.filter((outcome) => outcome.claimed);
    expect(winners).toHaveLength(1);
    const holder = outcomes.find((outcome) => !outcome.claimed);
    const winner = holder && !holder.claimed ? holder.holder.jobId : 'none';
    expect((await claim(winner)).claimed).toBe(true); // the holder again: still its own
    expect((await claim('fix_other')).claimed).toBe(false);
    await jobs.releaseFixTarget('issue:linear:ENG-12', 'fix_other'); // not the holder: no effect
    expect((await claim('fix_other')).claimed).toBe(false);
    await jobs.releaseFixTarget('issue:linear:ENG-12', winner);
    expect((await claim('fix_other')).claimed).toBe(true);
    // A holder that never released loses the target once its claim expired.
    expect((await claim('fix_late', 1000 + 3601)).claimed).toBe(true);
  });
});
