import { buildBugStatusEvent } from '../domain/bug-status-event.js';
import { type BugStatusJob, JOB_SCHEMA_VERSION } from '../jobs/job-schemas.js';
import type { BugStatusSender } from '../ports/bug-status-sender.js';
import type { BugStore } from '../ports/bug-store.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { ProductAnnouncer } from './bug-context.js';

/**
 * The product hears about its users' bugs through the jobs queue: announcing enqueues one
 * `bug.status` job (so a product that is down is retried with backoff, and ends in the DLQ
 * rather than lost); the job's delivery POSTs it once.
 */
export function createProductAnnouncer(deps: {
  readonly queue: JobQueue;
  readonly now: () => Date;
}): ProductAnnouncer {
  return async (type, bug, options) => {
    const delivery = buildBugStatusEvent(type, bug, deps.now().toISOString(), options);
    if (!delivery) return;
    const job: BugStatusJob = {
      v: JOB_SCHEMA_VERSION,
      kind: 'bug.status',
      idempotencyKey: delivery.webhookId,
      receivedAt: deps.now().toISOString(),
      event: delivery.event,
    };
    await deps.queue.send(job);
  };
}

const DELIVERED = 'delivered';

/**
 * Sends one status event, once: an announcement repeated by a redelivered job (same `webhook-id`)
 * finds the delivery recorded and sends nothing more. Failures are thrown for the job runner to
 * retry (429/5xx/timeouts) or dead-letter (other answers).
 */
export async function deliverBugStatus(
  job: BugStatusJob,
  deps: { readonly sender: BugStatusSender; readonly store: BugStore; readonly now: () => Date },
): Promise<'sent' | 'already-sent'> {
  const key = `status:${job.idempotencyKey}`;
  if (await deps.store.getStep(key, DELIVERED)) return 'already-sent';
  await deps.sender.send({ webhookId: job.idempotencyKey, event: job.event });
  await deps.store.recordStep({
    key,
    step: DELIVERED,
    result: { type: job.event.type, bugId: job.event.data.bugId },
    completedAt: deps.now().toISOString(),
  });
  return 'sent';
}
