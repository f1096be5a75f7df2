import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type {
  FixJobRecord,
  FixJobStatus,
  FixJobs,
  FixJobWrite,
  FixTargetHolder,
  MonthSpend,
} from '../../ports/fix-jobs.js';
import { isConditionalCheckFailed, toDynamoDbServiceError } from './dynamodb-errors.js';

/** `JOB#<jobId>` / `JOB`: the runner reads `spec` from this item in Fargate. */
export function fixJobKey(jobId: string) {
  return { pk: `JOB#${jobId}`, sk: 'JOB' };
}

/** "One fix at a time" for a target: `FIXTARGET#<targetKey>` / `CLAIM`. */
function fixTargetKey(targetKey: string) {
  return { pk: `FIXTARGET#${targetKey}`, sk: 'CLAIM' };
}

/**
 * A month's fix spend: `FIXBUDGET#<yyyy-mm>` / `MONTH`, with `spentMicros`, `committedMicros`
 * and the job ids reserved (`reservedJobs`) and settled (`settledJobs`) as string sets, so that a
 * redelivered reservation or settlement is recognised inside the same conditional update (no
 * transactions: dynalite has none). About 60 bytes per fix: some 6,000 fixes a month fit in an item.
 */
function fixBudgetKey(month: string) {
  return { pk: `FIXBUDGET#${month}`, sk: 'MONTH' };
}

function allowanceKey(input: { scope: string; userId: string; window: string }) {
  return { pk: `RATE#${input.scope}#${input.userId}`, sk: input.window };
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
    from: readonly FixJobStatus[],
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
    useId?: string;
  }) {
    if (input.useId !== undefined) return this.consumeCountedUse({ ...input, useId: input.useId });
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: allowanceKey(input),
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

  /** The use is a member of the window's `uses` set: counted once, refundable. */
  private async consumeCountedUse(input: {
    scope: string;
    userId: string;
    window: string;
    limit: number;
    expiresAt: number;
    useId: string;
  }) {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: allowanceKey(input),
          UpdateExpression: 'ADD #uses :use SET expiresAt = if_not_exists(expiresAt, :expiresAt)',
          ConditionExpression: 'attribute_not_exists(#uses) OR size(#uses) < :limit OR contains(#uses, :id)',
          ExpressionAttributeNames: { '#uses': 'uses' },
          ExpressionAttributeValues: {
            ':use': new Set([input.useId]),
            ':id': input.useId,
            ':limit': input.limit,
            ':expiresAt': input.expiresAt,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { allowed: true, used: setSize(Attributes?.uses) };
    } catch (error) {
      if (isConditionalCheckFailed(error)) return { allowed: false, used: input.limit };
      throw toDynamoDbServiceError(error, 'count a rate-limited use');
    }
  }

  async peekAllowance(input: { scope: string; userId: string; window: string }): Promise<number> {
    const item = await this.read(allowanceKey(input), 'read a rate-limit window');
    return Math.max(Number(item?.count ?? 0), setSize(item?.uses));
  }

  async refundAllowance(input: { scope: string; userId: string; window: string; useId: string }) {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: allowanceKey(input),
          UpdateExpression: 'DELETE #uses :use',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: { '#uses': 'uses' },
          ExpressionAttributeValues: { ':use': new Set([input.useId]) },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw toDynamoDbServiceError(error, 'refund a rate-limited use');
    }
  }

  async claimFixTarget(input: {
    targetKey: string;
    holder: FixTargetHolder;
    expiresAt: number;
    now: number;
  }): Promise<{ claimed: true } | { claimed: false; holder: FixTargetHolder }> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...fixTargetKey(input.targetKey),
            entity: 'fix-target',
            ...input.holder,
            expiresAt: input.expiresAt,
          },
          ConditionExpression: 'attribute_not_exists(pk) OR jobId = :jobId OR expiresAt < :now',
          ExpressionAttributeValues: { ':jobId': input.holder.jobId, ':now': input.now },
        }),
      );
      return { claimed: true };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw toDynamoDbServiceError(error, 'claim a fix target');
      const item = await this.read(fixTargetKey(input.targetKey), 'read a fix target');
      // Released between the two calls: the next receive of the request claims it.
      if (!item) throw toDynamoDbServiceError(error, 'claim a fix target');
      return {
        claimed: false,
        holder: {
          jobId: String(item.jobId),
          notifyChannelId: String(item.notifyChannelId),
          requestedBy: String(item.requestedBy),
        },
      };
    }
  }

  async releaseFixTarget(targetKey: string, jobId: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: fixTargetKey(targetKey),
          ConditionExpression: 'jobId = :jobId',
          ExpressionAttributeValues: { ':jobId': jobId },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw toDynamoDbServiceError(error, 'release a fix target');
    }
  }

  async readMonthSpend(month: string): Promise<MonthSpend> {
    return toMonthSpend(month, await this.read(fixBudgetKey(month), 'read the fix budget'));
  }

  async reserveBudget(input: { month: string; jobId: string; amountMicros: number; limitMicros: number }) {
    // Condition expressions cannot add, so the headroom is computed here: committed ≤ limit − amount.
    const ceiling = input.limitMicros - input.amountMicros;
    if (ceiling < 0) return { reserved: false, spend: await this.readMonthSpend(input.month) };
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: fixBudgetKey(input.month),
          UpdateExpression: 'ADD committedMicros :amount, reservedJobs :job SET entity = :entity',
          ConditionExpression:
            '(attribute_not_exists(committedMicros) OR committedMicros <= :ceiling) AND NOT contains(reservedJobs, :jobId) AND NOT contains(settledJobs, :jobId)',
          ExpressionAttributeValues: {
            ':amount': input.amountMicros,
            ':job': new Set([input.jobId]),
            ':jobId': input.jobId,
            ':ceiling': ceiling,
            ':entity': 'fix-budget',
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { reserved: true, spend: toMonthSpend(input.month, Attributes) };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw toDynamoDbServiceError(error, 'reserve fix budget');
      const item = await this.read(fixBudgetKey(input.month), 'read the fix budget');
      // Already reserved (a redelivered request) holds; settled means it already ran.
      const holds = hasMember(item?.reservedJobs, input.jobId) || hasMember(item?.settledJobs, input.jobId);
      return { reserved: holds, spend: toMonthSpend(input.month, item) };
    }
  }

  async settleBudget(input: {
    month: string;
    jobId: string;
    reservedMicros: number;
    costMicros: number;
  }): Promise<MonthSpend> {
    const attempt = async (reserved: boolean) =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: fixBudgetKey(input.month),
          UpdateExpression: reserved
            ? 'ADD committedMicros :delta, spentMicros :cost, settledJobs :job DELETE reservedJobs :job SET entity = :entity'
            : 'ADD committedMicros :cost, spentMicros :cost, settledJobs :job SET entity = :entity',
          ConditionExpression: reserved
            ? 'contains(reservedJobs, :jobId) AND NOT contains(settledJobs, :jobId)'
            : 'NOT contains(reservedJobs, :jobId) AND NOT contains(settledJobs, :jobId)',
          ExpressionAttributeValues: {
            ...(reserved ? { ':delta': input.costMicros - input.reservedMicros } : {}),
            ':cost': input.costMicros,
            ':job': new Set([input.jobId]),
            ':jobId': input.jobId,
            ':entity': 'fix-budget',
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
    for (const reserved of [true, false]) {
      try {
        const { Attributes } = await attempt(reserved);
        return toMonthSpend(input.month, Attributes);
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw toDynamoDbServiceError(error, 'settle fix budget');
      }
    }
    // Settled before (a redelivery): nothing more to count.
    return this.readMonthSpend(input.month);
  }

  private async read(
    key: { pk: string; sk: string },
    what: string,
  ): Promise<Record<string, unknown> | undefined> {
    try {
      const { Item } = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      return Item;
    } catch (error) {
      throw toDynamoDbServiceError(error, what);
    }
  }
}

function toMonthSpend(month: string, item: Record<string, unknown> | undefined): MonthSpend {
  return {
    month,
    spentMicros: Number(item?.spentMicros ?? 0),
    committedMicros: Number(item?.committedMicros ?? 0),
  };
}

function setSize(value: unknown): number {
  return value instanceof Set ? value.size : Array.isArray(value) ? value.length : 0;
}

function hasMember(value: unknown, member: string): boolean {
  return value instanceof Set ? value.has(member) : Array.isArray(value) ? value.includes(member) : false;
}

function toRecord(item: Record<string, unknown>): FixJobRecord {
  const { pk: _pk, sk: _sk, entity: _entity, ...fields } = item;
  return fields as unknown as FixJobRecord;
}

function strip<T extends object>(value: T): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}
