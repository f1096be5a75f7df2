import { describe, expect, it } from 'vitest';
import {
  isTracingEnabledIn,
  loadServiceTracer,
  traceInvocation,
} from '../../shared/observability/tracing.js';

describe('tracing on the ingress Lambdas', () => {
  it('is on in Lambda and off elsewhere (tests, the local stack, SAM local, or when switched off)', () => {
    expect(isTracingEnabledIn({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x' })).toBe(true);
    expect(isTracingEnabledIn({})).toBe(false);
    expect(isTracingEnabledIn({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x', AWS_SAM_LOCAL: 'true' })).toBe(
      false,
    );
    expect(isTracingEnabledIn({ AWS_EXECUTION_ENV: 'AWS_Lambda_amplify-mock' })).toBe(false);
    expect(
      isTracingEnabledIn({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x', POWERTOOLS_TRACE_ENABLED: 'false' }),
    ).toBe(false);
  });

  it('does not even load the tracer outside Lambda, and runs the invocation untraced', async () => {
    expect(await loadServiceTracer('bugbot-discord-interactions' as never, {})).toBeUndefined();
    await expect(traceInvocation(undefined, 'handler', async () => 42)).resolves.toBe(42);
  });
});
