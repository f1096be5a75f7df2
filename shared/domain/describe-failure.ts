import { ServiceError } from './errors.js';

/**
 * A failure said plainly for people (packets, Discord replies): which service, and how it
 * failed, never the raw error text, which may carry URLs, tokens or the vendor's internals.
 */
export function describeFailure(service: string, error: unknown): string {
  if (error instanceof ServiceError) {
    if (error.status === undefined) return `${service} did not answer in time`;
    if (error.status === 429) return `${service} is rate limiting us`;
    if (error.status >= 500) return `${service} had an error (HTTP ${error.status})`;
    if (error.status === 401 || error.status === 403)
      return `${service} refused our credentials (HTTP ${error.status})`;
    return `${service} refused the request (HTTP ${error.status})`;
  }
  return `${service} failed unexpectedly`;
}
