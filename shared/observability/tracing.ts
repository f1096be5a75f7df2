import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { HttpResult } from '../http/api-gateway.js';
import type { ServiceName } from './business-metric-catalog.js';

/**
 * Powertools Tracer for the ingress Lambdas, loaded only where it will trace.
 *
 * Why not `new Tracer()` at the top like the processor: importing the Tracer evaluates the X-Ray
 * SDK, about 10 ms of cold import (measured on this machine with the bench's bundling: Discord
 * ingress 50 → 60 ms, webhook 69 → 79 ms). Outside Lambda (tests, the local stack, `npm run bench`)
 * Powertools turns tracing off anyway, so there the import buys nothing and is skipped; in Lambda
 * it is paid at init either way, and both ingresses stay under 80 ms. The bytes (~120 KB) stay in
 * the bundle: esbuild keeps a dynamic `import()` in the one file but does not evaluate it until it
 * runs. Traced, a warm invocation costs ~0.4 ms more (the SQS subsegment and the X-Ray SDK's
 * async hooks); untraced, nothing.
 *
 * Not gated on `_X_AMZN_TRACE_ID`: Lambda sets it per invocation, after init, so at import time it
 * is absent even where tracing is active.
 */

/**
 * Powertools' own switch (Tracer `setTracingEnabled`): on in a Lambda execution environment
 * (`AWS_EXECUTION_ENV`), except under SAM local and the Amplify mock, and unless
 * `POWERTOOLS_TRACE_ENABLED` is `false`. Mirrored so the SDK is loaded exactly when it would trace.
 */
export function isTracingEnabledIn(env: Readonly<Record<string, string | undefined>>): boolean {
  const read = (key: string) => env[key]?.trim() ?? '';
  if (read('POWERTOOLS_TRACE_ENABLED').toLowerCase() === 'false') return false;
  const executionEnv = read('AWS_EXECUTION_ENV');
  return executionEnv !== '' && executionEnv !== 'AWS_Lambda_amplify-mock' && read('AWS_SAM_LOCAL') === '';
}

/** The service's Tracer where tracing is on; `undefined` elsewhere, without loading the X-Ray SDK. */
export async function loadServiceTracer(
  service: ServiceName,
  env: Readonly<Record<string, string | undefined>>,
): Promise<Tracer | undefined> {
  if (!isTracingEnabledIn(env)) return undefined;
  const { Tracer } = await import('@aws-lambda-powertools/tracer');
  return new Tracer({ serviceName: service });
}

/**
 * Runs one invocation in its own subsegment, annotated with the cold start and the service (the
 * manual form of Powertools' `captureLambdaHandler`, as the processor does). `isFault` marks an
 * answered failure (an HTTP 5xx) as a fault, since the handler returns it rather than throwing.
 * Without a Tracer it is a plain call: nothing is allocated on the warm path.
 */
export function traceInvocation<T>(
  tracer: Tracer | undefined,
  name: string,
  run: () => Promise<T>,
  isFault?: (result: T) => boolean,
): Promise<T> {
  if (tracer === undefined || !tracer.isTracingEnabled()) return run();
  return runInSubsegment(tracer, name, run, isFault);
}

/** An HTTP handler's invocation: a 5xx it answers is a fault, though nothing was thrown. */
export function traceHttpInvocation(
  tracer: Tracer | undefined,
  name: string,
  run: () => Promise<HttpResult>,
): Promise<HttpResult> {
  return traceInvocation(tracer, name, run, (result) => result.statusCode >= 500);
}

async function runInSubsegment<T>(
  tracer: Tracer,
  name: string,
  run: () => Promise<T>,
  isFault: ((result: T) => boolean) | undefined,
): Promise<T> {
  const segment = tracer.getSegment();
  const subsegment = segment?.addNewSubsegment(name);
  if (subsegment) tracer.setSegment(subsegment);
  tracer.annotateColdStart();
  tracer.addServiceNameAnnotation();
  try {
    const result = await run();
    if (isFault?.(result)) subsegment?.addFaultFlag();
    return result;
  } catch (error) {
    tracer.addErrorAsMetadata(error as Error);
    throw error;
  } finally {
    subsegment?.close();
    if (segment) tracer.setSegment(segment);
  }
}
