import { mkdir, readdir, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { toDynamoDbServiceError } from '../../shared/adapters/dynamodb/dynamodb-errors.js';
import { BugbotError } from '../../shared/domain/errors.js';
import { buildCreateTableInput, tableDefinition } from '../../shared/table/table-definition.js';

export interface DynaliteOptions {
  /** Defaults to 127.0.0.1: the local stack's database is not for the network. */
  readonly host?: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** LevelDB directory that survives restarts; in memory when absent. */
  readonly path?: string;
}

export interface RunningDynalite {
  /** `http://host:port`, for the DynamoDB client's `endpoint`. */
  readonly endpoint: string;
  close(): Promise<void>;
}

export async function startDynalite(options: DynaliteOptions = {}): Promise<RunningDynalite> {
  const host = options.host ?? '127.0.0.1';
  if (options.path) await mkdir(options.path, { recursive: true });
  // Tables are ACTIVE at once: nothing waits on a simulated AWS provisioning delay.
  const server = dynalite({ path: options.path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    endpoint: `http://${urlHost}:${port}`,
    // Resolves once LevelDB is closed, so the same path can be opened again right after.
    close: () =>
      new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

export interface EnsureTableResult {
  readonly created: boolean;
  /** dynalite has no UpdateTimeToLive: items keep their `expiresAt` but never expire locally. */
  readonly timeToLive: 'enabled' | 'unsupported';
}

/** Creates the table from the shared definition unless it exists, and waits until it is usable. */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  options: { readonly timeoutMs?: number } = {},
): Promise<EnsureTableResult> {
  let created = false;
  if ((await describeTable(client, tableName)) === null) {
    try {
      await client.send(new CreateTableCommand(buildCreateTableInput(tableName)));
      created = true;
    } catch (error) {
      // Another process created it between our describe and create: fine, it exists.
      if (errorName(error) !== 'ResourceInUseException')
        throw toDynamoDbServiceError(error, 'create the table');
    }
  }
  await waitUntilActive(client, tableName, options.timeoutMs ?? 10_000);
  return { created, timeToLive: await enableTimeToLive(client, tableName) };
}

/** For `--fresh`: deletes a dynalite data directory, refusing anything that does not look like one. */
export async function resetDynaliteData(path: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  // Every LevelDB directory has CURRENT; a typo'd path to real files must not be wiped.
  if (entries.length > 0 && !entries.includes('CURRENT')) {
    throw new BugbotError(`refusing to delete ${path}: it is not a dynalite data directory`);
  }
  await rm(path, { recursive: true, force: true });
}

type TableState = { readonly active: boolean } | null;

async function describeTable(client: DynamoDBClient, tableName: string): Promise<TableState> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every(
      (index) => index.IndexStatus === 'ACTIVE',
    );
    return { active: Table?.TableStatus === 'ACTIVE' && indexesActive };
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') return null;
    throw toDynamoDbServiceError(error, 'describe the table');
  }
}

async function waitUntilActive(client: DynamoDBClient, tableName: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await describeTable(client, tableName);
    if (state?.active) return;
    if (Date.now() > deadline)
      throw new BugbotError(`table ${tableName} was not ACTIVE after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function enableTimeToLive(
  client: DynamoDBClient,
  tableName: string,
): Promise<'enabled' | 'unsupported'> {
  const attribute = tableDefinition.timeToLiveAttribute;
  try {
    const { TimeToLiveDescription } = await client.send(
      new DescribeTimeToLiveCommand({ TableName: tableName }),
    );
    const status = TimeToLiveDescription?.TimeToLiveStatus;
    if (status === 'ENABLED' || status === 'ENABLING') return 'enabled';
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: attribute, Enabled: true },
      }),
    );
    return 'enabled';
  } catch (error) {
    if (errorName(error) === 'UnknownOperationException') return 'unsupported';
    throw toDynamoDbServiceError(error, 'enable time to live');
  }
}

function errorName(error: unknown): string | undefined {
  return (error as { name?: string } | null)?.name;
}
