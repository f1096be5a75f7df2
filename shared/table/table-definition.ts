/**
 * The one DynamoDB table, defined once: the CDK construct and the local stack (dynalite) both
 * build it from this, so the key schema cannot drift between AWS and a laptop.
 *
 * Single-table layout (pk / sk), every item self-describing through its key prefixes:
 *
 * | item                    | pk                    | sk                   | gsi1pk            | gsi1sk                        |
 * |-------------------------|-----------------------|----------------------|-------------------|-------------------------------|
 * | bug                     | BUG#<bugId>           | BUG                  | BUGS#<open|closed>| <priority>#<createdAt>#<bugId>|
 * | audit entry             | BUG#<bugId>           | AUDIT#<iso>#<rand>   |                   |                               |
 * | fingerprint → bug       | FP#<fingerprint>      | FP                   |                   |                               |
 * | fold record (a report   | FOLDS#<originalId>    | REPORT#<bugId>       |                   |                               |
 * |   folded into a bug)    |                       |                      |                   |                               |
 * | fold refresh state      | FOLDS#<bugId>         | REFRESH              |                   |                               |
 * | thread → issue          | THREAD#<threadId>     | THREAD               |                   |                               |
 * | fix job                 | JOB#<jobId>           | JOB                  |                   |                               |
 * | idempotency record      | IDEMP#<key>           | <step>               |                   |                               |
 * | rate-limit counter      | RATE#<scope>#<userId> | <window>             |                   |                               |
 *
 * `expiresAt` (epoch seconds) is the TTL attribute for idempotency records and counters.
 */

export type AttributeType = 'S' | 'N';

export interface KeyAttribute {
  readonly name: string;
  readonly type: AttributeType;
}

export interface GlobalIndexDefinition {
  readonly indexName: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
}

export interface TableDefinition {
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  readonly globalIndexes: readonly GlobalIndexDefinition[];
  readonly timeToLiveAttribute: string;
}

export const BUGS_BY_STATE_INDEX = 'gsi1';

export const tableDefinition: TableDefinition = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  globalIndexes: [
    {
      indexName: BUGS_BY_STATE_INDEX,
      partitionKey: { name: 'gsi1pk', type: 'S' },
      sortKey: { name: 'gsi1sk', type: 'S' },
    },
  ],
  timeToLiveAttribute: 'expiresAt',
};

/** The CreateTable input for DynamoDB-compatible servers (dynalite locally), on-demand billing. */
export function buildCreateTableInput(tableName: string) {
  const attributes = new Map<string, AttributeType>();
  const keys = [
    tableDefinition.partitionKey,
    tableDefinition.sortKey,
    ...tableDefinition.globalIndexes.flatMap((index) => [index.partitionKey, index.sortKey]),
  ];
  for (const key of keys) attributes.set(key.name, key.type);
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({
      AttributeName,
      AttributeType,
    })),
    KeySchema: [
      { AttributeName: tableDefinition.partitionKey.name, KeyType: 'HASH' as const },
      { AttributeName: tableDefinition.sortKey.name, KeyType: 'RANGE' as const },
    ],
    GlobalSecondaryIndexes: tableDefinition.globalIndexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey.name, KeyType: 'HASH' as const },
        { AttributeName: index.sortKey.name, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    })),
  };
}
