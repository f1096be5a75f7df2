import { randomUUID } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type AuditEntry,
  BUG_PATCH_FIELDS,
  type Bug,
  type BugPatch,
  type BugQueue,
  type BugReportRef,
  type BugStatus,
  isBugStatus,
  queueOfStatus,
} from '../../domain/bug.js';
import { BugbotError, ServiceError } from '../../domain/errors.js';
import type { PriorityResult } from '../../domain/priority.js';
import type {
  BugRecords,
  BugReferenceKind,
  BugWriteResult,
  FingerprintClaim,
  FoldCounts,
  PutNewBugResult,
} from '../../ports/bug-records.js';
import { BUGS_BY_STATE_INDEX } from '../../table/table-definition.js';
import { isConditionalCheckFailed, toDynamoDbServiceError } from './dynamodb-errors.js';

type Item = Record<string, unknown>;
type Key = { pk: string; sk: string };

const AUDIT_PREFIX = 'AUDIT#';
/** Sorts after every real priority, so unprioritised bugs come last on the dashboard. */
const NO_PRIORITY_SORT_KEY = '999';

export function bugKey(bugId: string): Key {
  return { pk: `BUG#${bugId}`, sk: 'BUG' };
}

export function referenceKey(kind: BugReferenceKind, value: string): Key {
  return { pk: `REF#${kind}#${value.toUpperCase()}`, sk: 'REF' };
}

export function fingerprintKey(fingerprint: string): Key {
  return { pk: `FP#${fingerprint}`, sk: 'FP' };
}

export function bugQueuePartition(queue: BugQueue): string {
  return `BUGS#${queue}`;
}

/** `<priority, 3 digits>#<createdAt>#<bugId>`: most urgent first, then oldest first. */
export function bugQueueSortKey(priority: number | null, createdAt: string, bugId: string): string {
  return `${formatPriority(priority)}#${createdAt}#${bugId}`;
}

function formatPriority(priority: number | null): string {
  if (priority === null) return NO_PRIORITY_SORT_KEY;
  if (!Number.isInteger(priority) || priority < 0 || priority > 998) {
    throw new BugbotError(`bug priority must be an integer from 0 to 998 or null, got ${priority}`);
  }
  return String(priority).padStart(3, '0');
}

export class DynamoDbBugRecords implements BugRecords {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
    /** Epoch milliseconds; stamps `updatedAt` and fingerprint claims. */
    private readonly clock: () => number = Date.now,
  ) {}

  async putNewBug(bug: Bug): Promise<PutNewBugResult> {
    if (await this.putOnce(toBugItem(bug), 'create a bug')) return { created: true, bug };
    return { created: false, existing: await this.requireBug(bug.bugId) };
  }

  async getBug(bugId: string): Promise<Bug | null> {
    const item = await this.getItem(bugKey(bugId), 'read a bug');
    return item ? toBug(item) : null;
  }

  async transitionBug(
    bugId: string,
    from: readonly BugStatus[],
    to: BugStatus,
    patch: BugPatch = {},
  ): Promise<BugWriteResult> {
    if (from.length === 0) return { ok: false, current: await this.getBug(bugId) };
    const update = await this.buildUpdate(bugId, patch);
    if (!update) return { ok: false, current: null };
    update.set('status', to);
    update.setRaw('gsi1pk', bugQueuePartition(queueOfStatus(to)));
    const allowed = from.map((status, index) => update.value(`from${index}`, status));
    return this.applyUpdate(bugId, update, `#status IN (${allowed.join(', ')})`, 'transition a bug');
  }

  async updateBug(bugId: string, patch: BugPatch, expectedVersion: number): Promise<BugWriteResult> {
    const update = await this.buildUpdate(bugId, patch);
    if (!update) return { ok: false, current: null };
    const expected = update.value('expectedVersion', expectedVersion);
    return this.applyUpdate(bugId, update, `#version = ${expected}`, 'update a bug');
  }

  async appendAudit(bugId: string, entry: AuditEntry): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: bugKey(bugId).pk,
            // The random tail keeps two entries stamped in the same millisecond apart.
            sk: `${AUDIT_PREFIX}${entry.at}#${randomUUID()}`,
            entity: 'audit',
            bugId,
            actor: entry.actor,
            action: entry.action,
            detail: entry.detail,
            at: entry.at,
          },
        }),
      );
    } catch (error) {
      throw toDynamoDbServiceError(error, 'append an audit entry');
    }
  }

  async listAudit(bugId: string, limit: number): Promise<AuditEntry[]> {
    const items = await this.query(
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': bugKey(bugId).pk, ':prefix': AUDIT_PREFIX },
        ScanIndexForward: false,
        ConsistentRead: true,
      },
      limit,
      'list audit entries',
    );
    return items.reverse().map((item) => ({
      actor: String(item.actor),
      action: String(item.action),
      detail: String(item.detail),
      at: String(item.at),
    }));
  }

  listOpenBugs(limit: number): Promise<Bug[]> {
    return this.listQueue('open', limit);
  }

  listClosedBugs(limit: number): Promise<Bug[]> {
    return this.listQueue('closed', limit);
  }

  async claimFingerprint(fingerprint: string, bugId: string): Promise<FingerprintClaim> {
    // Read first: in a storm nearly every report finds the claim already made, and a read is one
    // call where a refused conditional put is two (the put, then a read to learn the winner).
    const known = await this.getItem(fingerprintKey(fingerprint), 'read a fingerprint');
    if (known) {
      const owner = String(known.bugId);
      return owner === bugId ? { claimed: true, bugId } : { claimed: false, bugId: owner };
    }
    const item = {
      ...fingerprintKey(fingerprint),
      entity: 'fingerprint',
      fingerprint,
      bugId,
      createdAt: this.now(),
    };
    if (await this.putOnce(item, 'claim a fingerprint')) return { claimed: true, bugId };
    const existing = await this.getItem(fingerprintKey(fingerprint), 'read a fingerprint');
    // Fingerprints are never deleted, so a failed claim always has a winner to read.
    if (!existing) throw new ServiceError('dynamodb', 'fingerprint claim lost to a vanished record');
    const winner = String(existing.bugId);
    // The same bug claiming again is a redelivered job finishing its own work.
    return winner === bugId ? { claimed: true, bugId } : { claimed: false, bugId: winner };
  }

  async saveFoldCounts(
    bug: Pick<Bug, 'bugId' | 'createdAt'>,
    counts: FoldCounts,
    options: { readonly countedAt: string; readonly priority?: PriorityResult },
  ): Promise<Bug | null> {
    const { bugId } = bug;
    const values: Item = {
      ':reports': counts.reportCount,
      ':reporters': counts.reporterCount,
      ':last': counts.lastReportAt,
      ':recent': [...counts.recentReporters],
      ':countedAt': options.countedAt,
    };
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: bugKey(bugId),
          UpdateExpression:
            'SET reportCount = :reports, reporterCount = :reporters, lastReportAt = :last, recentReporters = :recent, countedAt = :countedAt',
          // A slower refresh that counted earlier must not overwrite a later count.
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(countedAt) OR countedAt <= :countedAt)',
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw toDynamoDbServiceError(error, 'save fold counts');
      return this.getBug(bugId);
    }
    if (options.priority) {
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: bugKey(bugId),
            UpdateExpression: 'SET #priority = :priority, gsi1sk = :sortKey, analysis.#priority = :result',
            // Only the analysis's own priority moves with the counts, and only this count's.
            ConditionExpression: 'analysis.#state = :done AND countedAt = :countedAt',
            ExpressionAttributeNames: { '#priority': 'priority', '#state': 'state' },
            ExpressionAttributeValues: {
              ':priority': options.priority.priority,
              ':sortKey': bugQueueSortKey(options.priority.priority, bug.createdAt, bugId),
              ':result': compact(options.priority),
              ':done': 'done',
              ':countedAt': options.countedAt,
            },
          }),
        );
      } catch (error) {
        if (!isConditionalCheckFailed(error)) throw toDynamoDbServiceError(error, 'save a priority');
      }
    }
    return this.getBug(bugId);
  }

  async splitOut(bugId: string, originalId: string): Promise<BugWriteResult> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: bugKey(bugId),
          UpdateExpression:
            'SET #status = :new, gsi1pk = :open, updatedAt = :now, #version = #version + :one, notDuplicateOf = list_append(if_not_exists(notDuplicateOf, :empty), :original) REMOVE duplicateOf, foldReason',
          ConditionExpression: 'attribute_exists(pk) AND #status = :duplicate AND duplicateOf = :originalId',
          ExpressionAttributeNames: { '#status': 'status', '#version': 'version' },
          ExpressionAttributeValues: {
            ':new': 'new',
            ':open': bugQueuePartition('open'),
            ':now': this.now(),
            ':one': 1,
            ':empty': [],
            ':original': [originalId],
            ':duplicate': 'duplicate',
            ':originalId': originalId,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      if (!Attributes) throw new ServiceError('dynamodb', 'split returned no item', { retryable: false });
      await this.forgetLegacyDuplicate(originalId, bugId);
      return { ok: true, bug: toBug(Attributes) };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) {
        if (error instanceof ServiceError) throw error;
        throw toDynamoDbServiceError(error, 'split a bug out');
      }
    }
    return { ok: false, current: await this.getBug(bugId) };
  }

  async takeOverFingerprint(fingerprint: string, fromBugId: string, toBugId: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: fingerprintKey(fingerprint),
          UpdateExpression: 'SET bugId = :to, previousBugId = :from, updatedAt = :now',
          ConditionExpression: 'bugId = :from',
          ExpressionAttributeValues: { ':to': toBugId, ':from': fromBugId, ':now': this.now() },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw toDynamoDbServiceError(error, 'take over a fingerprint');
    }
  }

  /** Bugs stored before fold records kept their duplicates' ids in a set: a split takes its id out. */
  private async forgetLegacyDuplicate(originalId: string, bugId: string): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: bugKey(originalId),
          UpdateExpression: 'DELETE duplicateBugIds :id',
          ConditionExpression: 'contains(duplicateBugIds, :bugId)',
          ExpressionAttributeValues: { ':id': new Set([bugId]), ':bugId': bugId },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) return;
      throw toDynamoDbServiceError(error, 'forget a legacy duplicate');
    }
  }

  async rememberReport(bugId: string, report: BugReportRef, max: number): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: bugKey(bugId),
          UpdateExpression:
            'SET #reports = list_append(if_not_exists(#reports, :empty), :report), updatedAt = :now ADD reportKeys :keys',
          // Keyed on the report's own bug id, so a redelivered report is not remembered twice;
          // bounded, so a storm of reports cannot grow the item past DynamoDB's 400 KB.
          ConditionExpression:
            'attribute_exists(pk) AND NOT contains(reportKeys, :key) AND (attribute_not_exists(#reports) OR size(#reports) < :max)',
          ExpressionAttributeNames: { '#reports': 'reports' },
          ExpressionAttributeValues: {
            ':empty': [],
            ':report': [compact(report)],
            ':keys': new Set([report.bugId]),
            ':key': report.bugId,
            ':max': max,
            ':now': this.now(),
          },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) return;
      throw toDynamoDbServiceError(error, 'remember a report');
    }
  }

  async addDiscordReporter(bugId: string, userId: string, max: number): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: bugKey(bugId),
          UpdateExpression: 'ADD discordReporters :user SET updatedAt = :now',
          ConditionExpression:
            'attribute_exists(pk) AND (contains(discordReporters, :userId) OR attribute_not_exists(discordReporters) OR size(discordReporters) < :max)',
          ExpressionAttributeValues: {
            ':user': new Set([userId]),
            ':userId': userId,
            ':max': max,
            ':now': this.now(),
          },
        }),
      );
    } catch (error) {
      if (isConditionalCheckFailed(error)) return;
      throw toDynamoDbServiceError(error, 'remember a Discord reporter');
    }
  }

  async linkReference(kind: BugReferenceKind, value: string, bugId: string): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...referenceKey(kind, value), entity: 'bug-reference', bugId, createdAt: this.now() },
        }),
      );
    } catch (error) {
      throw toDynamoDbServiceError(error, 'link a reference to a bug');
    }
  }

  async findBugIdByReference(kind: BugReferenceKind, value: string): Promise<string | null> {
    const item = await this.getItem(referenceKey(kind, value), 'find a bug by reference');
    return typeof item?.bugId === 'string' ? item.bugId : null;
  }

  /** Null when the bug does not exist (only checked when the patch needs the stored bug). */
  private async buildUpdate(bugId: string, patch: BugPatch): Promise<UpdateBuilder | null> {
    const update = new UpdateBuilder();
    // Only listed fields: a whole Bug passed as a patch must not overwrite status or version.
    for (const field of BUG_PATCH_FIELDS) {
      const value = patch[field];
      if (value !== undefined) update.set(field, compact(value));
    }
    if (patch.priority !== undefined) {
      // The queue sort key embeds createdAt, which only the stored bug knows; it never changes,
      // so reading it first cannot race with another writer.
      const stored = await this.getBug(bugId);
      if (!stored) return null;
      update.setRaw('gsi1sk', bugQueueSortKey(patch.priority, stored.createdAt, bugId));
    }
    update.set('updatedAt', this.now());
    update.increment('version');
    return update;
  }

  private async applyUpdate(
    bugId: string,
    update: UpdateBuilder,
    condition: string,
    action: string,
  ): Promise<BugWriteResult> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: bugKey(bugId),
          UpdateExpression: update.expression(),
          ConditionExpression: `attribute_exists(pk) AND ${condition}`,
          ExpressionAttributeNames: update.names,
          ExpressionAttributeValues: update.values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      if (!Attributes) throw new ServiceError('dynamodb', `${action} returned no item`, { retryable: false });
      return { ok: true, bug: toBug(Attributes) };
    } catch (error) {
      if (!isConditionalCheckFailed(error)) {
        if (error instanceof ServiceError) throw error;
        throw toDynamoDbServiceError(error, action);
      }
    }
    return { ok: false, current: await this.getBug(bugId) };
  }

  private async listQueue(queue: BugQueue, limit: number): Promise<Bug[]> {
    const items = await this.query(
      {
        TableName: this.tableName,
        IndexName: BUGS_BY_STATE_INDEX,
        KeyConditionExpression: 'gsi1pk = :queue',
        ExpressionAttributeValues: { ':queue': bugQueuePartition(queue) },
        ScanIndexForward: true,
      },
      limit,
      `list ${queue} bugs`,
    );
    return items.map(toBug);
  }

  /** Follows pages until `limit` items or the end; DynamoDB stops a page at 1 MB. */
  private async query(input: QueryCommandInput, limit: number, action: string): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    while (items.length < limit) {
      try {
        const page = await this.doc.send(
          new QueryCommand({ ...input, Limit: limit - items.length, ExclusiveStartKey: startKey }),
        );
        items.push(...(page.Items ?? []));
        startKey = page.LastEvaluatedKey;
      } catch (error) {
        throw toDynamoDbServiceError(error, action);
      }
      if (!startKey) break;
    }
    return items;
  }

  private async requireBug(bugId: string): Promise<Bug> {
    const bug = await this.getBug(bugId);
    // Bugs are never deleted, so a failed create always has an existing bug to read.
    if (!bug) throw new ServiceError('dynamodb', 'bug create lost to a vanished record');
    return bug;
  }

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

  private async getItem(key: Key, action: string): Promise<Item | null> {
    try {
      const { Item } = await this.doc.send(
        new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
      );
      return Item ?? null;
    } catch (error) {
      throw toDynamoDbServiceError(error, action);
    }
  }

  private now(): string {
    return new Date(this.clock()).toISOString();
  }
}

/** Collects SET clauses with placeholder names, so no attribute can hit a reserved word. */
class UpdateBuilder {
  readonly names: Record<string, string> = {};
  readonly values: Item = {};
  private readonly clauses: string[] = [];

  set(field: string, value: unknown): void {
    this.names[`#${field}`] = field;
    this.clauses.push(`#${field} = ${this.value(field, value)}`);
  }

  /** For the index attributes, whose names are fixed and not reserved. */
  setRaw(field: string, value: unknown): void {
    this.clauses.push(`${field} = ${this.value(field, value)}`);
  }

  increment(field: string): void {
    this.names[`#${field}`] = field;
    this.clauses.push(`#${field} = #${field} + ${this.value(`${field}Step`, 1)}`);
  }

  value(name: string, value: unknown): string {
    const placeholder = `:${name}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  expression(): string {
    return `SET ${this.clauses.join(', ')}`;
  }
}

function toBugItem(bug: Bug): Item {
  const { distinctReporters, duplicateBugIds, discordReporters, ...fields } = bug;
  const reportKeys = (bug.reports ?? []).map((report) => report.bugId);
  return {
    ...bugKey(bug.bugId),
    entity: 'bug',
    gsi1pk: bugQueuePartition(queueOfStatus(bug.status)),
    gsi1sk: bugQueueSortKey(bug.priority, bug.createdAt, bug.bugId),
    ...(compact(fields) as Item),
    // DynamoDB has no empty sets: no reporter ids means no attribute.
    ...(distinctReporters.length > 0 ? { distinctReporters: new Set(distinctReporters) } : {}),
    ...(duplicateBugIds && duplicateBugIds.length > 0 ? { duplicateBugIds: new Set(duplicateBugIds) } : {}),
    ...(discordReporters && discordReporters.length > 0
      ? { discordReporters: new Set(discordReporters) }
      : {}),
    ...(reportKeys.length > 0 ? { reportKeys: new Set(reportKeys) } : {}),
  };
}

function toBug(item: Item): Bug {
  const {
    pk: _pk,
    sk: _sk,
    entity: _entity,
    gsi1pk: _gsi1pk,
    gsi1sk: _gsi1sk,
    reportKeys: _reportKeys,
    ...fields
  } = item;
  if (!isBugStatus(fields.status)) {
    throw new ServiceError('dynamodb', `stored bug ${String(fields.bugId)} has an unknown status`, {
      retryable: false,
    });
  }
  const reporters = fields.distinctReporters;
  const duplicates = fields.duplicateBugIds;
  const discordReporters = fields.discordReporters;
  return {
    ...(fields as unknown as Bug),
    priority: typeof fields.priority === 'number' ? fields.priority : null,
    reporter: (fields.reporter ?? {}) as Bug['reporter'],
    reportCount: typeof fields.reportCount === 'number' ? fields.reportCount : 1,
    distinctReporters: reporters instanceof Set ? [...(reporters as Set<string>)].sort() : [],
    ...(duplicates instanceof Set ? { duplicateBugIds: [...(duplicates as Set<string>)].sort() } : {}),
    ...(discordReporters instanceof Set
      ? { discordReporters: [...(discordReporters as Set<string>)].sort() }
      : {}),
  };
}

/** Drops undefined members of plain objects, however deep, so any document client can marshal them. */
function compact(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((entry) => entry !== undefined).map(compact);
  if (value === null || typeof value !== 'object') return value;
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, entry]) => entry !== undefined)
      .map(([key, entry]) => [key, compact(entry)]),
  );
}
