import type { z } from 'zod';
import { ConfigError } from '../domain/errors.js';

/**
 * One loader per process: parse the environment once at cold start and fail fast, naming every
 * problem at once (never their values: some are secrets).
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(env)'}: ${issue.message}`),
    );
  }
  return parsed.data;
}

/** `"a, b,,c"` → `["a","b","c"]`; empty or unset → `[]`. */
export function splitList(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}
