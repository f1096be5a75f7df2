import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { FixJobRecord, FixJobs, FixJobWrite } from '../../ports/fix-jobs.js';
import { isConditionalCheckFailed, toDynamoDbServiceError } from './dynamodb-errors.js';

/** `JOB#<jobId>` / `JOB`: the runner reads `spec` from this item in Fargate. */
export function fixJobKey(jobId: string) {
  return { pk: `JOB#${jobId}`, sk: 'JOB' };
}

export class DynamoDbFixJobs implements FixJobs {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async createFixJob(job: FixJobRecord): Promise<{ created: boolean; job: FixJobRecord }> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...fixJobKey(job.jobId), entity: 'fix-job', ...strip(job) },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { created: true, job };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw toDynamoDbServiceError(error, 'create a fix job');
      const existing = await this.getFixJob(job.jobId);
      if (!existing) throw toDynamoDbServiceError(error, 'create a fix job');
      return { created: false, job: existing };
    }
  }

  async getFixJob(jobId: string): Promise<FixJobRecord | null> {
    try {
      const { Item } = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: fixJobKey(jobId), ConsistentRead: true }),
      );
      return Item ? toRecord(Item) : null;
    } catch (error) {
      throw toDynamoDbServiceError(error, 'read a fix job');
    }
  }

  async updateFixJob(
    jobId: string,
    from: readonly FixJobRecord['status'][],
    patch: Partial<FixJobRecord>,
  ): Promise<FixJobWrite> {
    const fields = Object.entries(strip(patch)).filter(([name]) => name !== 'jobId');
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = {};
    from.forEach((status, index) => {
      values[`:from${index}`] = status;
    });
    const sets = fields.map(([name, value], index) => {
      names[`#f${index}`] = name;
      values[`:v${index}`] = value;
      return `#f${index} = :v${index}`;
    });
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: fixJobKey(jobId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: `attribute_exists(pk) AND #status IN (${from.map((_, index) => `:from${index}`).join(', ')})`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { ok: true, job: toRecord(Attributes ?? {}) };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw toDynamoDbServiceError(error, 'update a fix job');
      return { ok: false, current: await this.getFixJob(jobId) };
    }
  }

  async consumeAllowance(input: {
    scope: string;
    userId: string;
    window: string;
    limit: number;
    expiresAt: number;
  }) {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `RATE#${input.scope}#${input.userId}`, sk: input.window },
          UpdateExpression: 'ADD #count :one SET expiresAt = if_not_exists(expiresAt, :expiresAt)',
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
          ExpressionAttributeNames: { '#count': 'count' },
          ExpressionAttributeValues: { ':one': 1, ':limit': input.limit, ':expiresAt': input.expiresAt },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { allowed: true, used: Number(Attributes?.count ?? 1) };
    } catch (error) {
      if (isConditionalCheckFailed(error)) return { allowed: false, used: input.limit };
      throw toDynamoDbServiceError(error, 'count a rate-limited use');
    }
  }
}

function toRecord(item: Record<string, unknown>): FixJobRecord {
  const { pk: _pk, sk: _sk, entity: _entity, ...fields } = item;
  return fields as unknown as FixJobRecord;
}

function strip<T extends object>(value: T): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}
