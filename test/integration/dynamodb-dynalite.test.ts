import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteTableCommand, DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureTable, resetDynaliteData, startDynalite } from '../../local/dynamo/start-dynalite.js';
import { createDocumentClient } from '../../shared/adapters/dynamodb/document-client.js';
import { DynamoDbBugRecords } from '../../shared/adapters/dynamodb/dynamodb-bug-records.js';
import { DynamoDbBugStore } from '../../shared/adapters/dynamodb/dynamodb-bug-store.js';
import { createNewBug } from '../../shared/domain/bug.js';
import { BugbotError } from '../../shared/domain/errors.js';
import { buildCreateTableInput } from '../../shared/table/table-definition.js';
import { createLocalDynamoDbClient, startTestTable } from '../support/dynalite.js';

let workDir: string;

beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'bugbot-dynalite-'));
});

afterEach(async () => {
  await rm(workDir, { recursive: true, force: true });
});

describe('ensureTable', () => {
  it('creates the table once, ACTIVE with its index, and reports TTL as unsupported on dynalite', async () => {
    const server = await startDynalite();
    const client = createLocalDynamoDbClient(server.endpoint);
    try {
      const results = await Promise.all([
        ensureTable(client, 'bugbot'),
        ensureTable(client, 'bugbot'),
        ensureTable(client, 'bugbot'),
      ]);
      const later = await ensureTable(client, 'bugbot');

      expect(results.filter((result) => result.created)).toHaveLength(1);
      expect(later).toEqual({ created: false, timeToLive: 'unsupported' });
      const { Table } = await client.send(new DescribeTableCommand({ TableName: 'bugbot' }));
      expect(Table?.TableStatus).toBe('ACTIVE');
      expect(Table?.KeySchema).toEqual(buildCreateTableInput('bugbot').KeySchema);
      expect(Table?.GlobalSecondaryIndexes?.map((index) => [index.IndexName, index.IndexStatus])).toEqual([
        ['gsi1', 'ACTIVE'],
      ]);
    } finally {
      client.destroy();
      await server.close();
    }
  });

  it('recreates a table that was deleted', async () => {
    const server = await startDynalite();
    const client = createLocalDynamoDbClient(server.endpoint);
    try {
      await ensureTable(client, 'bugbot');
      await client.send(new DeleteTableCommand({ TableName: 'bugbot' }));

      expect((await ensureTable(client, 'bugbot')).created).toBe(true);
    } finally {
      client.destroy();
      await server.close();
    }
  });
});

describe('on-disk persistence', () => {
  it('keeps bugs, thread links and the state index across a restart on the same path', async () => {
    const path = join(workDir, '.local', 'dynamo');
    const bug = createNewBug(
      {
        bugId: 'bug-persist',
        title: 'Crash on launch',
        description: 'It crashes.',
        reporter: { id: 'u1' },
        priority: 2,
      },
      '2025-03-01T12:00:00.000Z',
    );
    const link = {
      threadId: 't-persist',
      issueId: 'i-1',
      identifier: 'ENG-9',
      createdAt: '2025-03-01T12:00:00.000Z',
    };

    const first = await startTestTable({ path, tableName: 'bugbot' });
    await new DynamoDbBugRecords(first.doc, 'bugbot').putNewBug(bug);
    await new DynamoDbBugStore(first.doc, 'bugbot').claimThreadIssue(link);
    await first.close();

    const server = await startDynalite({ path });
    const client = createLocalDynamoDbClient(server.endpoint);
    try {
      const doc = createDocumentClient(client);
      expect((await ensureTable(client, 'bugbot')).created).toBe(false);
      const records = new DynamoDbBugRecords(doc, 'bugbot');
      expect(await records.getBug('bug-persist')).toEqual(bug);
      expect(await records.listOpenBugs(10)).toEqual([bug]);
      expect(await new DynamoDbBugStore(doc, 'bugbot').getThreadIssue('t-persist')).toEqual(link);
    } finally {
      client.destroy();
      await server.close();
    }
  });

  it('starts empty after resetDynaliteData', async () => {
    const path = join(workDir, 'dynamo');
    const first = await startTestTable({ path, tableName: 'bugbot' });
    await first.close();
    expect(await readdir(path)).toContain('CURRENT');

    await resetDynaliteData(path);

    const server = await startDynalite({ path });
    const client = createLocalDynamoDbClient(server.endpoint);
    try {
      expect((await ensureTable(client, 'bugbot')).created).toBe(true);
    } finally {
      client.destroy();
      await server.close();
    }
  });

  it('reset ignores a missing directory and refuses one that is not dynalite data', async () => {
    await expect(resetDynaliteData(join(workDir, 'never-created'))).resolves.toBeUndefined();
    await writeFile(join(workDir, 'keep.txt'), 'x');

    await expect(resetDynaliteData(workDir)).rejects.toBeInstanceOf(BugbotError);
    expect(await readdir(workDir)).toContain('keep.txt');
  });
});

describe('startDynalite', () => {
  it('listens on the given port and frees it on close', async () => {
    const probe = await startDynalite();
    const port = Number(new URL(probe.endpoint).port);
    await probe.close();

    const server = await startDynalite({ port });
    expect(server.endpoint).toBe(`http://127.0.0.1:${port}`);
    await server.close();
    const again = await startDynalite({ port });
    await again.close();
  });

  it('fails to start on a port already taken', async () => {
    const server = await startDynalite();
    try {
      await expect(startDynalite({ port: Number(new URL(server.endpoint).port) })).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
    } finally {
      await server.close();
    }
  });
});
