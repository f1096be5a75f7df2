import type { Metrics } from '@aws-lambda-powertools/metrics';
import {
  BUSINESS_METRICS,
  type BusinessMetricDimensions,
  type BusinessMetricName,
} from '../../observability/business-metric-catalog.js';
import type { BusinessMetrics } from '../../ports/business-metrics.js';

export interface PowertoolsBusinessMetricsOptions {
  /** Told about a value that could not be recorded; recording itself never throws. */
  readonly onError?: (error: unknown, name?: BusinessMetricName) => void;
}

/** A bound on the emitter cache, should a caller ever pass an unbounded dimension value. */
const MAX_EMITTERS = 100;

/**
 * BusinessMetrics as CloudWatch embedded metric format, through Powertools Metrics (one JSON line
 * on stdout per flush, which CloudWatch Logs turns into metrics; no API call, no latency).
 *
 * A metric without a dimension is buffered and goes out with the invocation's
 * `flush()`. A metric with a dimension is written at once as its own line: Powertools applies
 * dimensions to a whole flush, and one processor batch mixes job kinds.
 */
export class PowertoolsBusinessMetrics implements BusinessMetrics {
  /**
   * One single-metric emitter per dimension value, kept: building one costs more than the rest
   * of a Discord command's handling (measured), and the values are a small fixed set.
   */
  private readonly emitters = new Map<string, Metrics>();

  constructor(
    private readonly metrics: Metrics,
    private readonly options: PowertoolsBusinessMetricsOptions = {},
  ) {}

  record<N extends BusinessMetricName>(name: N, value: number, ...rest: BusinessMetricDimensions<N>): void {
    try {
      if (!Number.isFinite(value)) throw new RangeError(`${name}: ${value} is not a finite number`);
      const definition: { unit: Parameters<Metrics['addMetric']>[1]; dimension?: string } =
        BUSINESS_METRICS[name];
      const dimensions = rest[0] as Readonly<Record<string, string>> | undefined;
      if (definition.dimension === undefined) {
        this.metrics.addMetric(name, definition.unit, value);
        return;
      }
      const dimensionValue = dimensions?.[definition.dimension];
      if (!dimensionValue) throw new RangeError(`${name}: dimension ${definition.dimension} is missing`);
      this.emitterFor(definition.dimension, dimensionValue).addMetric(name, definition.unit, value);
    } catch (error) {
      this.options.onError?.(error, name);
    }
  }

  private emitterFor(dimension: string, value: string): Metrics {
    const key = `${dimension}=${value}`;
    let emitter = this.emitters.get(key);
    if (!emitter) {
      // The parent's default dimensions (`service`) plus this one, kept across flushes.
      emitter = this.metrics.singleMetric().setDefaultDimensions({ [dimension]: value });
      if (this.emitters.size < MAX_EMITTERS) this.emitters.set(key, emitter);
    }
    return emitter;
  }

  /** Writes the buffered metrics (once per invocation); a no-op when nothing was recorded. */
  flush(): void {
    try {
      if (this.metrics.hasStoredMetrics()) this.metrics.publishStoredMetrics();
    } catch (error) {
      this.options.onError?.(error);
    }
  }
}
