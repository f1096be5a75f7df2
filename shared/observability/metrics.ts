import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, type ServiceName } from './business-metric-catalog.js';

export {
  BUSINESS_METRICS,
  type BusinessMetricName,
  METRICS_NAMESPACE,
  SERVICE_NAMES,
  type ServiceName,
} from './business-metric-catalog.js';

/**
 * The Powertools Metrics of one process: namespace `Bugbot`, dimension `service` = the process's
 * service name. It writes EMF lines to stdout through its own `Console`, not the global
 * `console` the Lambda runtime rewrites in JSON log mode, so CloudWatch Logs still sees bare EMF
 * objects and extracts the metrics; the local stack runs the same code and prints the same lines.
 */
export function createServiceMetrics(service: ServiceName): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service });
}
