import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ServiceError } from '../../domain/errors.js';
import type { BugStore, ClaimResult, StepRecord, ThreadIssueLink } from '../../ports/bug-store.js';
import { isConditionalCheckFailed, toDynamoDbServiceError } from './dynamodb-errors.js';

/** Long enough to cover SQS redelivery and DLQ redrive; short enough that the table stays small. */
export const STEP_RECORD_TTL_SECONDS = 30 * 24 * 60 * 60;

type Item = Record<string, unknown>;

export function threadIssueKey(threadId: string) {
  return { pk: `THREAD#${threadId}`, sk: 'THREAD' };
}

export function stepRecordKey(key: string, step: string) {
  return { pk: `IDEMP#${key}`, sk: step };
}

export class DynamoDbBugStore implements BugStore {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Epoch milliseconds; drives the TTL of step records. */
    private readonly clock: () => number = Date.now,
  ) {}

  async getThreadIssue(threadId: string): Promise<ThreadIssueLink | null> {
    const item = await this.getItem(threadIssueKey(threadId), 'read a thread issue');
    return item ? toThreadIssueLink(item) : null;
  }

  async claimThreadIssue(link: ThreadIssueLink): Promise<ClaimResult<ThreadIssueLink>> {
    const claimed = await this.putOnce(
      {
        ...threadIssueKey(link.threadId),
        entity: 'thread-issue',
        threadId: link.threadId,
        issueId: link.issueId,
        ...optional('identifier', link.identifier),
        ...optional('url', link.url),
        createdAt: link.createdAt,
      },
      'claim a thread issue',
    );
    if (claimed) return { claimed: true, value: link };
    const existing = await this.getThreadIssue(link.threadId);
    // Thread mappings are never deleted, so a failed claim always has a winner to read.
    if (!existing) throw new ServiceError('dynamodb', 'thread issue claim lost to a vanished record');
    return { claimed: false, existing };
  }

  async getStep(key: string, step: string): Promise<StepRecord | null> {
    const item = await this.getItem(stepRecordKey(key, step), 'read a step record');
    if (!item) return null;
    return {
      key: String(item.key),
      step: String(item.step),
      result: (item.result ?? {}) as Record<string, unknown>,
      completedAt: String(item.completedAt),
    };
  }

  async recordStep(record: StepRecord): Promise<void> {
    // A second record means a redelivered job redid nothing new: the first one stands.
    await this.putOnce(
      {
        ...stepRecordKey(record.key, record.step),
        entity: 'step',
        key: record.key,
        step: record.step,
        result: record.result,
        completedAt: record.completedAt,
        expiresAt: Math.floor(this.clock() / 1000) + STEP_RECORD_TTL_SECONDS,
      },
      'record a step',
    );
  }

  /** True if this put created the item; false if an item with that key was already there. */
  private async putOnce(item: Item, action: string): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw toDynamoDbServiceError(error, action);
    }
  }

  private async getItem(key: { pk: string; sk: string }, action: string): Promise<Item | null> {
    try {
      const { Item } = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      return Item ?? null;
    } catch (error) {
      throw toDynamoDbServiceError(error, action);
    }
  }
}

function toThreadIssueLink(item: Item): ThreadIssueLink {
  return {
    threadId: String(item.threadId),
    issueId: String(item.issueId),
    ...optional('identifier', item.identifier),
    ...optional('url', item.url),
    createdAt: String(item.createdAt),
  };
}

/** `{ [name]: value }` when value is a string, else nothing: absent stays absent in the item. */
function optional<K extends string>(name: K, value: unknown): { [P in K]?: string } {
  return typeof value === 'string' ? ({ [name]: value } as { [P in K]: string }) : {};
}
