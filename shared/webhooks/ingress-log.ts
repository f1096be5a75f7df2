import { ConfigError } from '../domain/errors.js';

/**
 * The subset of a structured logger the webhook ingresses use (Powertools' Logger fits).
 * Attributes carry ids, counts and fixed reasons only: never a credential or a payload's text.
 */
export interface IngressLogger {
  info(message: string, attributes: Record<string, unknown>): void;
  warn(message: string, attributes: Record<string, unknown>): void;
  error(message: string, attributes: Record<string, unknown>): void;
}

/** Names and messages of our own fault types carry no secrets; causes stay in the logs by name only. */
export function describeFault(error: unknown): Record<string, unknown> {
  if (error instanceof ConfigError) return { name: error.name, problems: error.problems };
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? error.cause.name : undefined;
    return { name: error.name, message: error.message, cause };
  }
  return { name: typeof error };
}
