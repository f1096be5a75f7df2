import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { SqsJobRetryControl } from '../../shared/adapters/aws-sqs/sqs-job-retry-control.js';
import { loadProcessorConfig } from '../../shared/config/processor-config.js';
import { type JobCorrelation, type JobFlows, runJob } from '../../shared/processing/job-runner.js';
import { composeProcessorFlows } from './compose.js';

const logger = new Logger({ serviceName: 'bugbot-processor' });
// Cold start: a bad configuration fails here, naming every problem, before any job is touched.
const config = loadProcessorConfig(process.env);
const retryControl = new SqsJobRetryControl(
  new SQSClient({}),
  config.JOBS_QUEUE_URL,
  config.DEAD_LETTER_QUEUE_URL,
);
const processor = new BatchProcessor(EventType.SQS);
const correlationKeys = ['jobKind', 'idempotencyKey', 'interactionId', 'bugId', 'jobId', 'messageId'];

const runnerLog = {
  info: (message: string, extra: Record<string, unknown> = {}) => logger.info(message, extra),
  warn: (message: string, extra: Record<string, unknown> = {}) => logger.warn(message, extra),
  error: (message: string, extra: Record<string, unknown> = {}) => logger.error(message, extra),
};

let flows: Promise<JobFlows> | undefined;

function loadFlows(): Promise<JobFlows> {
  // Reading the secret can fail transiently: forget a failed attempt so the next batch retries.
  flows ??= composeProcessorFlows(config).catch((error: unknown) => {
    flows = undefined;
    throw error;
  });
  return flows;
}

async function processRecord(record: SQSRecord, jobFlows: JobFlows): Promise<void> {
  logger.removeKeys(correlationKeys);
  logger.appendKeys({ messageId: record.messageId });
  await runJob(
    {
      messageId: record.messageId,
      receiptHandle: record.receiptHandle,
      body: record.body,
      receiveCount: Number(record.attributes.ApproximateReceiveCount ?? '1'),
    },
    {
      flows: jobFlows,
      retryControl,
      log: runnerLog,
      maxReceives: config.MAX_RECEIVES,
      backoffSeconds: (receiveCount: number) =>
        Math.min(300, config.RETRY_BASE_DELAY_SECONDS * 3 ** (receiveCount - 1)),
      onJob: (ids: JobCorrelation) => logger.appendKeys({ ...ids }),
    },
  );
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  const jobFlows = await loadFlows();
  return processPartialResponse(event, (record: SQSRecord) => processRecord(record, jobFlows), processor, {
    context,
    throwOnFullBatchFailure: false,
  });
}
