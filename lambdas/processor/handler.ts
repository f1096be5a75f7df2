import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { PermanentJobError } from '../../shared/domain/errors.js';
import { parseJob } from '../../shared/jobs/job-schemas.js';

const logger = new Logger({ serviceName: 'bugbot-processor' });
const processor = new BatchProcessor(EventType.SQS);

/**
 * A job that does not parse is failed, not dropped: it goes back to the queue and, after three
 * receives, to the DLQ where an operator can read it.
 */
async function processRecord(record: SQSRecord): Promise<void> {
  const parsed = parseJob(record.body);
  if (!parsed.ok) {
    logger.error('job rejected: it does not match any job schema', {
      messageId: record.messageId,
      receiveCount: record.attributes.ApproximateReceiveCount,
      reason: parsed.reason,
    });
    throw new PermanentJobError(`malformed job: ${parsed.reason}`);
  }
  const { job } = parsed;
  logger.info('job received', { kind: job.kind, idempotencyKey: job.idempotencyKey });
  // The flows for each kind arrive with their issues; until a kind has one, fail it into the
  // retry/DLQ path rather than acknowledging work that was never done.
  throw new PermanentJobError(`no flow handles jobs of kind ${job.kind} yet`);
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  return processPartialResponse(event, processRecord, processor, { context, throwOnFullBatchFailure: false });
}
