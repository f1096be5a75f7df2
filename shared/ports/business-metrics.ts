import type {
  BusinessMetricDimensions,
  BusinessMetricName,
} from '../observability/business-metric-catalog.js';

export type { BusinessMetricName } from '../observability/business-metric-catalog.js';

/**
 * Where use cases and flows count what happened (reports, duplicates, fixes, cost). Fire and
 * forget: recording never throws and never waits, so a metrics problem cannot fail a job.
 *
 *   metrics.record('DuplicatesFound', 1);
 *   metrics.record('TriageLatency', Date.now() - Date.parse(job.receivedAt));
 *   metrics.record('JobsProcessed', 1, { kind: job.kind });
 */
export interface BusinessMetrics {
  record<N extends BusinessMetricName>(
    name: N,
    value: number,
    ...dimensions: BusinessMetricDimensions<N>
  ): void;
}
