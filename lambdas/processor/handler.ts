import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { PowertoolsBusinessMetrics } from '../../shared/adapters/aws-cloudwatch/powertools-business-metrics.js';
import { SqsJobRetryControl } from '../../shared/adapters/aws-sqs/sqs-job-retry-control.js';
import { loadProcessorConfig } from '../../shared/config/processor-config.js';
import { createServiceMetrics, SERVICE_NAMES } from '../../shared/observability/metrics.js';
import { type JobCorrelation, runJob } from '../../shared/processing/job-runner.js';
import { deadlineFromRemaining, runWithDeadline } from '../../shared/runtime/invocation-deadline.js';
import { composeProcessor, composeSenderCheck, type ProcessorParts } from './compose.js';

const logger = new Logger({ serviceName: SERVICE_NAMES.processor });
// Off outside Lambda (the local stack, tests): Powertools Tracer only traces where X-Ray runs.
const tracer = new Tracer({ serviceName: SERVICE_NAMES.processor });
// EMF on stdout, flushed once per invocation; flows get the same object to count business events.
const businessMetrics = new PowertoolsBusinessMetrics(createServiceMetrics(SERVICE_NAMES.processor), {
  onError: (error, metric) => logger.warn('metric not recorded', { metric, error }),
});
// Cold start: a bad configuration fails here, naming every problem, before any job is touched.
const config = loadProcessorConfig(process.env);
const retryControl = new SqsJobRetryControl(
  tracer.captureAWSv3Client(
    // The configured endpoint (AWS_ENDPOINT_URL_SQS) wins over the queue URL's host, and every
    // call has a deadline.
    new SQSClient({
      useQueueUrlAsEndpoint: false,
      requestHandler: { connectionTimeout: 1000, requestTimeout: 3000 },
    }),
  ),
  config.JOBS_QUEUE_URL,
  config.DEAD_LETTER_QUEUE_URL,
);
const correlationKeys = ['jobKind', 'idempotencyKey', 'interactionId', 'bugId', 'jobId', 'messageId'];

const authorizeSender = composeSenderCheck(config);
const runnerLog = {
  info: (message: string, extra: Record<string, unknown> = {}) => logger.info(message, extra),
  warn: (message: string, extra: Record<string, unknown> = {}) => logger.warn(message, extra),
  error: (message: string, extra: Record<string, unknown> = {}) => logger.error(message, extra),
};

let parts: Promise<ProcessorParts> | undefined;

function loadParts(): Promise<ProcessorParts> {
  // Reading the secret can fail transiently: forget a failed attempt so the next batch retries.
  parts ??= composeProcessor(config, { metrics: businessMetrics }).catch((error: unknown) => {
    parts = undefined;
    throw error;
  });
  return parts;
}

async function processRecord(record: SQSRecord, processor: ProcessorParts): Promise<void> {
  logger.removeKeys(correlationKeys);
  logger.appendKeys({ messageId: record.messageId });
  // A message that is not a job never reaches onJob: it is counted as `invalid`.
  let kind = 'invalid';
  try {
    const outcome = await runJob(
      {
        messageId: record.messageId,
        receiptHandle: record.receiptHandle,
        body: record.body,
        receiveCount: Number(record.attributes.ApproximateReceiveCount ?? '1'),
        senderId: record.attributes.SenderId,
      },
      {
        flows: processor.flows,
        recordFailure: processor.recordFailure,
        retryControl,
        log: runnerLog,
        maxReceives: config.MAX_RECEIVES,
        authorizeSender,
        backoffSeconds: (receiveCount: number) =>
          Math.min(300, config.RETRY_BASE_DELAY_SECONDS * 3 ** (receiveCount - 1)),
        onJob: (ids: JobCorrelation) => {
          kind = ids.jobKind;
          logger.appendKeys({ ...ids });
        },
      },
    );
    businessMetrics.record(outcome === 'done' ? 'JobsProcessed' : 'JobFailures', 1, { kind });
  } catch (error) {
    businessMetrics.record('JobFailures', 1, { kind });
    throw error;
  }
}

export async function handler(event: SQSEvent, context: Context): Promise<SQSBatchResponse> {
  // The manual form of Powertools' captureLambdaHandler: one subsegment per invocation.
  const segment = tracer.getSegment();
  const subsegment = segment?.addNewSubsegment('## processor handler');
  if (subsegment) tracer.setSegment(subsegment);
  tracer.annotateColdStart();
  tracer.addServiceNameAnnotation();
  try {
    const processor = await loadParts();
    // Every outside call and every job in this batch stops short of the invocation's end, so
    // a slow or rate-limiting service can fail a job (told, retried) but never the whole batch.
    return await runWithDeadline(deadlineFromRemaining(context.getRemainingTimeInMillis()), () =>
      processPartialResponse(
        event,
        (record: SQSRecord) => processRecord(record, processor),
        // One processor per invocation: its state is per batch, and the local stack runs
        // invocations side by side in one process (a Lambda container never does).
        new BatchProcessor(EventType.SQS),
        { context, throwOnFullBatchFailure: false },
      ),
    );
  } catch (error) {
    tracer.addErrorAsMetadata(error as Error);
    throw error;
  } finally {
    subsegment?.close();
    if (segment) tracer.setSegment(segment);
    businessMetrics.flush();
  }
}
