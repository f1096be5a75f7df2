import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { FoldReason } from '../../domain/bug.js';
import type { FoldRecord } from '../../domain/fold.js';
import type { FoldLedger, PendingFoldNote, RefreshClaim, RefreshState } from '../../ports/fold-ledger.js';
import { isConditionalCheckFailed, toDynamoDbServiceError } from './dynamodb-errors.js';

type Item = Record<string, unknown>;

/**
 * Fold records and refresh state, beside the bug items in the one table (table-definition.ts):
 *
 * | item          | pk                 | sk               |
 * |---------------|--------------------|------------------|
 * | fold record   | FOLDS#<originalId> | REPORT#<bugId>   |
 * | refresh state | FOLDS#<bugId>      | REFRESH          |
 *
 * A partition of their own, so the bug's partition (its item and audit trail) takes no write per
 * report. A storm's records all share one partition key: DynamoDB allows 1,000 writes per second
 * on one partition, far above what the processor's five concurrent batches can send.
 */

const RECORD_PREFIX = 'REPORT#';

export function foldRecordKey(originalId: string, bugId: string) {
  return { pk: `FOLDS#${originalId}`, sk: `${RECORD_PREFIX}${bugId}` };
}

export function refreshStateKey(bugId: string) {
  return { pk: `FOLDS#${bugId}`, sk: 'REFRESH' };
}

export class DynamoDbFoldLedger implements FoldLedger {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async recordFold(record: FoldRecord): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...foldRecordKey(record.originalId, record.bugId),
            entity: 'fold',
            originalId: record.originalId,
            bugId: record.bugId,
            kind: record.kind,
            ...(record.reporterId ? { reporterId: record.reporterId } : {}),
            at: record.at,
            ...(record.reason ? { reason: record.reason } : {}),
          },
          // Keyed on the folded bug: a redelivered report is recorded (and so counted) once.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw toDynamoDbServiceError(error, 'record a fold');
    }
  }

  async removeFold(originalId: string, bugId: string): Promise<boolean> {
    try {
      const { Attributes } = await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: foldRecordKey(originalId, bugId),
          ReturnValues: 'ALL_OLD',
        }),
      );
      return Attributes !== undefined;
    } catch (error) {
      throw toDynamoDbServiceError(error, 'remove a fold');
    }
  }

  async listFolds(originalId: string): Promise<FoldRecord[]> {
    const records: FoldRecord[] = [];
    let startKey: Item | undefined;
    do {
      try {
        const page = await this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': `FOLDS#${originalId}`, ':prefix': RECORD_PREFIX },
            // A refresh must see every fold written before it started (see FoldLedger.releaseRefresh).
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        );
        for (const item of page.Items ?? []) records.push(toFoldRecord(item));
        startKey = page.LastEvaluatedKey;
      } catch (error) {
        throw toDynamoDbServiceError(error, 'list folds');
      }
    } while (startKey);
    return records;
  }

  async hasFolds(originalId: string): Promise<boolean> {
    try {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': `FOLDS#${originalId}`, ':prefix': RECORD_PREFIX },
          ConsistentRead: true,
          Limit: 1,
        }),
      );
      return (page.Items ?? []).length > 0;
    } catch (error) {
      throw toDynamoDbServiceError(error, 'look for folds');
    }
  }

  async claimRefresh(
    bugId: string,
    claim: { key: string; now: number; lostAfter: number },
  ): Promise<RefreshClaim> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: refreshStateKey(bugId),
          UpdateExpression:
            'SET pendingKey = :key, pendingUntil = :lostAfter, #entity = :entity, notedCount = if_not_exists(notedCount, :one)',
          ExpressionAttributeNames: { '#entity': 'entity' },
          // One pending refresh per bug; a pending one that was never released in time is lost.
          ConditionExpression: 'attribute_not_exists(pendingKey) OR pendingUntil < :now',
          ExpressionAttributeValues: {
            ':key': claim.key,
            ':lostAfter': claim.lostAfter,
            ':now': claim.now,
            ':entity': 'fold-refresh',
            ':one': 1,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { claimed: true, state: toRefreshState(Attributes ?? {}) };
    } catch (error) {
      if (isConditionalCheckFailed(error)) return { claimed: false };
      throw toDynamoDbServiceError(error, 'claim a refresh');
    }
  }

  async setStormStart(bugId: string, stormStartedAt: number): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: refreshStateKey(bugId),
          UpdateExpression: 'SET stormStartedAt = :at',
          ExpressionAttributeValues: { ':at': stormStartedAt },
        }),
      );
    } catch (error) {
      throw toDynamoDbServiceError(error, 'start a storm');
    }
  }

  async abandonRefresh(bugId: string, key: string): Promise<void> {
    await this.releaseIf(bugId, key, 'REMOVE pendingKey, pendingUntil', {}, 'abandon a refresh');
  }

  async releaseRefresh(bugId: string, key: string, now: number): Promise<RefreshState> {
    const released = await this.releaseIf(
      bugId,
      key,
      'REMOVE pendingKey, pendingUntil SET lastRefreshAt = :now',
      { ':now': now },
      'release a refresh',
    );
    return released ?? (await this.readState(bugId));
  }

  async claimNote(
    bugId: string,
    expectedNotedCount: number,
    note: PendingFoldNote,
    now: number,
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: refreshStateKey(bugId),
          UpdateExpression: 'SET notedCount = :count, notedAt = :now, pendingNote = :note, #entity = :entity',
          ExpressionAttributeNames: { '#entity': 'entity' },
          ConditionExpression:
            '(attribute_not_exists(notedCount) OR notedCount = :expected) AND attribute_not_exists(pendingNote)',
          ExpressionAttributeValues: {
            ':count': note.count,
            ':now': now,
            ':note': { key: note.key, content: note.content, count: note.count },
            ':expected': expectedNotedCount,
            ':entity': 'fold-refresh',
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw toDynamoDbServiceError(error, 'claim a thread note');
    }
  }

  async finishNote(bugId: string, key: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: refreshStateKey(bugId),
          UpdateExpression: 'REMOVE pendingNote',
          ConditionExpression: 'pendingNote.#key = :key',
          ExpressionAttributeNames: { '#key': 'key' },
          ExpressionAttributeValues: { ':key': key },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) return;
      throw toDynamoDbServiceError(error, 'finish a thread note');
    }
  }

  /** Applies `update` if `key` holds the pending claim; returns the new state, or null if it did not. */
  private async releaseIf(
    bugId: string,
    key: string,
    update: string,
    values: Item,
    action: string,
  ): Promise<RefreshState | null> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: refreshStateKey(bugId),
          UpdateExpression: update,
          ConditionExpression: 'pendingKey = :key',
          ExpressionAttributeValues: { ':key': key, ...values },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toRefreshState(Attributes ?? {});
    } catch (error) {
      if (isConditionalCheckFailed(error)) return null;
      throw toDynamoDbServiceError(error, action);
    }
  }

  private async readState(bugId: string): Promise<RefreshState> {
    try {
      const { Item } = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: refreshStateKey(bugId), ConsistentRead: true }),
      );
      return toRefreshState(Item ?? {});
    } catch (error) {
      throw toDynamoDbServiceError(error, 'read a refresh state');
    }
  }
}

function toFoldRecord(item: Item): FoldRecord {
  return {
    originalId: String(item.originalId),
    bugId: String(item.bugId),
    kind: item.kind === 'merge' ? 'merge' : 'report',
    ...(typeof item.reporterId === 'string' ? { reporterId: item.reporterId } : {}),
    at: String(item.at),
    ...(item.reason && typeof item.reason === 'object' ? { reason: item.reason as FoldReason } : {}),
  };
}

function toRefreshState(item: Item): RefreshState {
  const number = (value: unknown) => (typeof value === 'number' ? value : undefined);
  const note = item.pendingNote as Partial<PendingFoldNote> | undefined;
  return {
    ...(number(item.lastRefreshAt) !== undefined ? { lastRefreshAt: number(item.lastRefreshAt) } : {}),
    ...(number(item.stormStartedAt) !== undefined ? { stormStartedAt: number(item.stormStartedAt) } : {}),
    notedCount: number(item.notedCount) ?? 1,
    ...(number(item.notedAt) !== undefined ? { notedAt: number(item.notedAt) } : {}),
    ...(note && typeof note.key === 'string' && typeof note.content === 'string'
      ? { pendingNote: { key: note.key, content: note.content, count: Number(note.count) } }
      : {}),
  };
}
