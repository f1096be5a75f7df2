import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { type KeyAttribute, tableDefinition } from '../../shared/table/table-definition.js';

/**
 * The item-level actions the processor's adapters call (shared/adapters/dynamodb: Get, Put,
 * Update, Delete and Query commands — Delete for a released fix target and a removed fold
 * record) and nothing else: no batches, no transactions, no scans — flows keep themselves
 * correct with single-item conditional writes (DESIGN.md, "Data"). A new command needs its
 * action here.
 */
export const ITEM_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
];

/**
 * bugbot's one DynamoDB table (bugs, threads, jobs, idempotency, audit, rate-limit counters).
 * Its keys, index and TTL come from `tableDefinition`, the same definition the local stack
 * gives dynalite, so AWS and a laptop cannot drift apart.
 */
export class BugTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: toAttribute(tableDefinition.partitionKey),
      sortKey: toAttribute(tableDefinition.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: tableDefinition.timeToLiveAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The table is the system's memory (issue links, audit trail): deleting the stack, or a
      // change that would replace the table, must never take the data with it.
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: true,
    });

    for (const index of tableDefinition.globalIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: toAttribute(index.partitionKey),
        sortKey: toAttribute(index.sortKey),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
  }

  /** Read and write items and query the table and its indexes; nothing table-level. */
  grantReadWriteItems(grantee: iam.IGrantable): iam.Grant {
    const indexArns = tableDefinition.globalIndexes.map(
      (index) => `${this.table.tableArn}/index/${index.indexName}`,
    );
    const items = iam.Grant.addToPrincipal({
      grantee,
      actions: ITEM_ACTIONS,
      resourceArns: [this.table.tableArn],
    });
    return items.combine(
      iam.Grant.addToPrincipal({ grantee, actions: ['dynamodb:Query'], resourceArns: indexArns }),
    );
  }
}

function toAttribute(key: KeyAttribute): dynamodb.Attribute {
  return {
    name: key.name,
    type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
  };
}
