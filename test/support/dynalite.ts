import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ensureTable, startDynalite } from '../../local/dynamo/start-dynalite.js';
import { createDocumentClient } from '../../shared/adapters/dynamodb/document-client.js';

export interface TestTable {
  readonly endpoint: string;
  readonly tableName: string;
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  close(): Promise<void>;
}

/**
 * A client for a local server that never looks at the environment: a developer's AWS profile
 * or region must not leak into tests. `maxAttempts: 1` lets fault tests see the first failure.
 */
export function createLocalDynamoDbClient(endpoint: string, options: { maxAttempts?: number } = {}) {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
  });
}

/** A dynalite server on 127.0.0.1:0 (in memory unless `path`) holding a fresh bugbot table. */
export async function startTestTable(
  options: { path?: string; tableName?: string } = {},
): Promise<TestTable> {
  const server = await startDynalite({ port: 0, path: options.path });
  const client = createLocalDynamoDbClient(server.endpoint);
  const tableName = options.tableName ?? `bugbot-test-${randomUUID().slice(0, 8)}`;
  try {
    await ensureTable(client, tableName);
  } catch (error) {
    client.destroy();
    await server.close();
    throw error;
  }
  return {
    endpoint: server.endpoint,
    tableName,
    client,
    doc: createDocumentClient(client),
    async close() {
      client.destroy();
      await server.close();
    },
  };
}
