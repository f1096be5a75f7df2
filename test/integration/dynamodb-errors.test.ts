import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDynalite } from '../../local/dynamo/start-dynalite.js';
import { createDocumentClient } from '../../shared/adapters/dynamodb/document-client.js';
import { DynamoDbBugRecords } from '../../shared/adapters/dynamodb/dynamodb-bug-records.js';
import { DynamoDbBugStore } from '../../shared/adapters/dynamodb/dynamodb-bug-store.js';
import { ServiceError } from '../../shared/domain/errors.js';
import { createLocalDynamoDbClient, startTestTable, type TestTable } from '../support/dynalite.js';

/**
 * A DynamoDB stand-in that answers every request with one canned error in the real JSON wire
 * format (`__type` + `message`), so the real SDK parses it as it would AWS's.
 */
let answer: { status: number; type: string } = { status: 500, type: 'InternalServerError' };
let standIn: Server;
let standInEndpoint: string;
let table: TestTable;

beforeAll(async () => {
  standIn = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const body = JSON.stringify({
        __type: `com.amazonaws.dynamodb.v20120810#${answer.type}`,
        message: 'simulated',
      });
      res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => standIn.listen(0, '127.0.0.1', resolve));
  standInEndpoint = `http://127.0.0.1:${(standIn.address() as AddressInfo).port}`;
  table = await startTestTable();
});

afterAll(async () => {
  await new Promise((resolve) => standIn?.close(resolve));
  await table?.close();
});

function storeAt(endpoint: string, tableName = 'bugbot') {
  const client = createLocalDynamoDbClient(endpoint, { maxAttempts: 1 });
  return { store: new DynamoDbBugStore(createDocumentClient(client), tableName), client };
}

async function failureOf(promise: Promise<unknown>): Promise<ServiceError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ServiceError);
  return error as ServiceError;
}

describe('DynamoDB error mapping', () => {
  it.each([
    { status: 400, type: 'ProvisionedThroughputExceededException', retryable: true },
    { status: 400, type: 'ThrottlingException', retryable: true },
    { status: 500, type: 'InternalServerError', retryable: true },
    { status: 503, type: 'ServiceUnavailable', retryable: true },
    { status: 400, type: 'ValidationException', retryable: false },
    { status: 400, type: 'AccessDeniedException', retryable: false },
  ])('$type ($status) → retryable: $retryable', async ({ status, type, retryable }) => {
    answer = { status, type };
    const { store, client } = storeAt(standInEndpoint);
    try {
      const error = await failureOf(store.getThreadIssue('t1'));

      expect(error).toMatchObject({ service: 'dynamodb', status, retryable });
      expect(error.message).toContain(type);
      expect((error.cause as Error).name).toBe(type);
    } finally {
      client.destroy();
    }
  });

  it('treats an unreachable server as retryable', async () => {
    const stopped = await startDynalite();
    await stopped.close();
    const { store, client } = storeAt(stopped.endpoint);
    try {
      const error = await failureOf(
        store.recordStep({ key: 'k', step: 's', result: {}, completedAt: 'now' }),
      );

      expect(error).toMatchObject({ service: 'dynamodb', status: undefined, retryable: true });
    } finally {
      client.destroy();
    }
  });

  it('treats a missing table as a permanent fault, not a conditional outcome', async () => {
    const client = createLocalDynamoDbClient(table.endpoint, { maxAttempts: 1 });
    const records = new DynamoDbBugRecords(createDocumentClient(client), 'no-such-table');
    try {
      const error = await failureOf(records.claimFingerprint('fp', 'bug-1'));

      expect(error).toMatchObject({ status: 400, retryable: false });
      expect(error.message).toContain('ResourceNotFoundException');
    } finally {
      client.destroy();
    }
  });

  it('does not let a throttled conditional write pass for a lost race', async () => {
    answer = { status: 400, type: 'ProvisionedThroughputExceededException' };
    const { client } = storeAt(standInEndpoint);
    const records = new DynamoDbBugRecords(createDocumentClient(client), 'bugbot');
    try {
      const error = await failureOf(records.transitionBug('bug-1', ['new'], 'analyzing'));

      expect(error.retryable).toBe(true);
    } finally {
      client.destroy();
    }
  });
});
