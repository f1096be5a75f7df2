import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DynamoDbBugStore,
  STEP_RECORD_TTL_SECONDS,
} from '../../shared/adapters/dynamodb/dynamodb-bug-store.js';
import type { ThreadIssueLink } from '../../shared/ports/bug-store.js';
import { startTestTable, type TestTable } from '../support/dynalite.js';

const NOW = Date.parse('2025-03-01T12:00:00.000Z');

let table: TestTable;
let store: DynamoDbBugStore;

beforeAll(async () => {
  table = await startTestTable();
  store = new DynamoDbBugStore(table.doc, table.tableName, () => NOW);
});

afterAll(async () => {
  await table?.close();
});

async function itemsUnder(pk: string) {
  const { Items } = await table.doc.send(
    new QueryCommand({
      TableName: table.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: true,
    }),
  );
  return Items ?? [];
}

describe('DynamoDbBugStore thread issues', () => {
  it('lets exactly one of ten concurrent claims win and shows the winner to the rest', async () => {
    const links: ThreadIssueLink[] = Array.from({ length: 10 }, (_, index) => ({
      threadId: 'thread-race',
      issueId: `issue-${index}`,
      identifier: `ENG-${index}`,
      url: `https://linear.app/acme/issue/ENG-${index}`,
      createdAt: new Date(NOW + index).toISOString(),
    }));

    const results = await Promise.all(links.map((link) => store.claimThreadIssue(link)));

    const winners = results.filter((result) => result.claimed);
    expect(winners).toHaveLength(1);
    const winner = winners[0]!.claimed ? winners[0]!.value : undefined;
    for (const result of results) {
      if (!result.claimed) expect(result.existing).toEqual(winner);
    }
    expect(await store.getThreadIssue('thread-race')).toEqual(winner);
    expect(await itemsUnder('THREAD#thread-race')).toHaveLength(1);
  });

  it('stores a link without the optional fields as exactly what was given', async () => {
    const link = { threadId: 'thread-bare', issueId: 'issue-bare', createdAt: '2025-03-01T00:00:00.000Z' };

    expect(await store.claimThreadIssue(link)).toEqual({ claimed: true, value: link });

    expect(await store.getThreadIssue('thread-bare')).toEqual(link);
    const [item] = await itemsUnder('THREAD#thread-bare');
    expect(item).toMatchObject({ pk: 'THREAD#thread-bare', sk: 'THREAD', issueId: 'issue-bare' });
    expect(item).not.toHaveProperty('identifier');
  });

  it('answers null for a thread nobody claimed', async () => {
    expect(await store.getThreadIssue('thread-unknown')).toBeNull();
  });
});

describe('DynamoDbBugStore step records', () => {
  it('keeps the first record of a step and ignores a second one', async () => {
    const first = {
      key: 'interaction-1',
      step: 'linear.issue',
      result: { issueId: 'issue-1', nested: { ok: true } },
      completedAt: '2025-03-01T12:00:00.000Z',
    };

    await store.recordStep(first);
    await store.recordStep({
      ...first,
      result: { issueId: 'issue-2' },
      completedAt: '2025-03-01T12:05:00.000Z',
    });

    expect(await store.getStep('interaction-1', 'linear.issue')).toEqual(first);
    const items = await itemsUnder('IDEMP#interaction-1');
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      sk: 'linear.issue',
      expiresAt: Math.floor(NOW / 1000) + STEP_RECORD_TTL_SECONDS,
    });
  });

  it('keeps different steps of one key apart', async () => {
    await store.recordStep({
      key: 'webhook-7',
      step: 'a',
      result: { n: 1 },
      completedAt: '2025-03-01T12:00:00.000Z',
    });
    await store.recordStep({
      key: 'webhook-7',
      step: 'b',
      result: { n: 2 },
      completedAt: '2025-03-01T12:00:01.000Z',
    });

    expect((await store.getStep('webhook-7', 'a'))?.result).toEqual({ n: 1 });
    expect((await store.getStep('webhook-7', 'b'))?.result).toEqual({ n: 2 });
    expect(await store.getStep('webhook-7', 'c')).toBeNull();
    expect(await store.getStep('webhook-8', 'a')).toBeNull();
  });
});
