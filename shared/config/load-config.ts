import type { z } from 'zod';
import { ConfigError } from '../domain/errors.js';

/**
 * Classic zod or `zod/mini` schemas: both parse the same way, and mini keeps zod's locales and
 * JSON-schema tooling out of ingress bundles where cold starts count.
 */
type ConfigSchema = z.core.$ZodType & {
  safeParse(input: unknown): { success: true; data: unknown } | { success: false; error: z.core.$ZodError };
};

/**
 * One loader per process: parse the environment once at cold start and fail fast, naming every
 * problem at once (never their values: some are secrets).
 */
export function loadConfig<S extends ConfigSchema>(
  schema: S,
  env: Record<string, string | undefined>,
): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(env)'}: ${issue.message}`),
    );
  }
  return parsed.data as z.infer<S>;
}

/** `"a, b,,c"` → `["a","b","c"]`; empty or unset → `[]`. */
export function splitList(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}
