import type { JsonSchema } from './messages-wire.js';

/**
 * Builds a value that satisfies a tool's `input_schema`, the way a model answering a forced tool
 * call must. A hint supplies meaningful values by property path; each hint is coerced to its
 * subschema (clamped, truncated, matched to an enum) and replaced by a generated value when it
 * cannot fit. Covers what zod's `toJSONSchema` emits: types, enums, const, min/max, lengths,
 * item counts, required, `anyOf`/`oneOf` (nullable), `allOf`, local `$ref`s and common formats.
 * `pattern` is honoured only for hints (a hint that does not match is dropped).
 */

export type ValueHint = (path: readonly string[], schema: JsonSchema) => unknown;

interface Context {
  readonly root: JsonSchema;
  readonly hint: ValueHint | undefined;
}

const MAX_DEPTH = 12;
const FALLBACK_DATE = '2026-01-01T00:00:00.000Z';

export function generateFromSchema(schema: JsonSchema, hint?: ValueHint): unknown {
  return generate(schema, { root: schema, hint }, [], 0);
}

function generate(rawSchema: JsonSchema, context: Context, path: readonly string[], depth: number): unknown {
  const schema = resolve(rawSchema, context.root);
  if ('const' in schema) return schema.const;
  if (context.hint && depth < MAX_DEPTH) {
    const hinted = context.hint(path, schema);
    if (hinted !== undefined) {
      const fitted = coerce(hinted, schema, context, path, depth);
      if (fitted !== undefined) return fitted;
    }
  }
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const variants = readVariants(schema);
  if (variants) {
    const preferred =
      variants.find((variant) => resolve(variant, context.root).type !== 'null') ?? variants[0];
    return preferred === undefined ? null : generate(preferred, context, path, depth + 1);
  }
  if ('default' in schema && schema.default !== undefined) return schema.default;

  switch (readType(schema)) {
    case 'object':
      return generateObject(schema, context, path, depth, undefined);
    case 'array': {
      if (depth >= MAX_DEPTH) return [];
      return fillItems([], asSchema(schema.items), itemCount(schema, 1), context, path, depth);
    }
    case 'string':
      return generateString(schema, path);
    case 'integer':
      return clampNumber(0, schema, true);
    case 'number':
      return clampNumber(0, schema, false);
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return generateString(schema, path);
  }
}

/** Fits `value` to `schema`, or returns undefined when it cannot be made to fit. */
function coerce(
  value: unknown,
  rawSchema: JsonSchema,
  context: Context,
  path: readonly string[],
  depth: number,
): unknown {
  const schema = resolve(rawSchema, context.root);
  if ('const' in schema) return value === schema.const ? value : undefined;
  if (Array.isArray(schema.enum)) return matchEnum(value, schema.enum);
  const variants = readVariants(schema);
  if (variants) {
    for (const variant of variants) {
      const fitted = coerce(value, variant, context, path, depth + 1);
      if (fitted !== undefined) return fitted;
    }
    return undefined;
  }
  switch (readType(schema)) {
    case 'object':
      return isPlainObject(value) ? generateObject(schema, context, path, depth, value) : undefined;
    case 'array': {
      const items = asSchema(schema.items);
      const list = Array.isArray(value) ? value : [value];
      const fitted: unknown[] = list
        .map((item, index) => coerce(item, items, context, [...path, String(index)], depth + 1))
        .filter((item) => item !== undefined);
      return fillItems(fitted, items, itemCount(schema, fitted.length), context, path, depth);
    }
    case 'string': {
      const text = typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
      if (typeof text !== 'string' || !fitsFormat(text, schema)) return undefined;
      return fitLength(text, schema);
    }
    case 'integer':
    case 'number': {
      const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof number !== 'number' || !Number.isFinite(number)) return undefined;
      return clampNumber(number, schema, readType(schema) === 'integer');
    }
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'null':
      return value === null ? null : undefined;
    default:
      return value;
  }
}

/** Tops `given` up to `count` items; enum items take distinct members first (`uniqueItems`). */
function fillItems(
  given: readonly unknown[],
  items: JsonSchema,
  count: number,
  context: Context,
  path: readonly string[],
  depth: number,
): unknown[] {
  const filled = given.slice(0, count);
  const choices = resolve(items, context.root).enum;
  const unused = Array.isArray(choices) ? choices.filter((choice) => !filled.includes(choice)) : [];
  while (filled.length < count) {
    const index = filled.length;
    if (Array.isArray(choices) && choices.length > 0)
      filled.push(unused.shift() ?? choices[index % choices.length]);
    else filled.push(generate(items, context, [...path, String(index)], depth + 1));
  }
  return filled;
}

function generateObject(
  schema: JsonSchema,
  context: Context,
  path: readonly string[],
  depth: number,
  given: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const properties = isPlainObject(schema.properties)
    ? (schema.properties as Record<string, JsonSchema>)
    : {};
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  const result: Record<string, unknown> = {};
  if (depth >= MAX_DEPTH) return result;
  // Optional properties are filled too: an analysis with every field is the plausible answer.
  for (const [key, propertySchema] of Object.entries(properties)) {
    const childPath = [...path, key];
    const fitted =
      given && key in given ? coerce(given[key], propertySchema, context, childPath, depth + 1) : undefined;
    result[key] = fitted !== undefined ? fitted : generate(propertySchema, context, childPath, depth + 1);
  }
  for (const key of required) {
    if (!(key in result)) result[key] = given?.[key] ?? `sandbox ${key}`;
  }
  if (given && schema.additionalProperties !== false) {
    for (const [key, value] of Object.entries(given)) if (!(key in result)) result[key] = value;
  }
  return result;
}

function generateString(schema: JsonSchema, path: readonly string[]): string {
  switch (schema.format) {
    case 'date-time':
      return FALLBACK_DATE;
    case 'date':
      return FALLBACK_DATE.slice(0, 10);
    case 'email':
      return 'sandbox@example.com';
    case 'uri':
    case 'url':
      return 'https://example.com/sandbox';
    case 'uuid':
      return '00000000-0000-4000-8000-000000000000';
    default:
      return fitLength(`sandbox ${lastKey(path) ?? 'value'}`, schema);
  }
}

function fitsFormat(text: string, schema: JsonSchema): boolean {
  if (typeof schema.pattern === 'string') {
    try {
      if (!new RegExp(schema.pattern, 'u').test(text)) return false;
    } catch {
      return false;
    }
  }
  switch (schema.format) {
    case 'date-time':
    case 'date':
      return !Number.isNaN(Date.parse(text));
    case 'email':
      return /^[^@\s]+@[^@\s]+$/.test(text);
    case 'uri':
    case 'url':
      return /^[a-z][a-z0-9+.-]*:\S+$/i.test(text);
    case 'uuid':
      return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text);
    default:
      return true;
  }
}

function fitLength(text: string, schema: JsonSchema): string {
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Number.POSITIVE_INFINITY;
  const min = typeof schema.minLength === 'number' ? schema.minLength : 0;
  let fitted = [...text].length > max ? [...text].slice(0, max).join('') : text;
  if ([...fitted].length < min) fitted = fitted + '.'.repeat(min - [...fitted].length);
  return fitted;
}

function clampNumber(value: number, schema: JsonSchema, integer: boolean): number {
  let low = Number.NEGATIVE_INFINITY;
  let high = Number.POSITIVE_INFINITY;
  let lowExclusive = false;
  let highExclusive = false;
  if (typeof schema.minimum === 'number') {
    low = schema.minimum;
    lowExclusive = schema.exclusiveMinimum === true;
  }
  if (typeof schema.exclusiveMinimum === 'number' && schema.exclusiveMinimum >= low) {
    low = schema.exclusiveMinimum;
    lowExclusive = true;
  }
  if (typeof schema.maximum === 'number') {
    high = schema.maximum;
    highExclusive = schema.exclusiveMaximum === true;
  }
  if (typeof schema.exclusiveMaximum === 'number' && schema.exclusiveMaximum <= high) {
    high = schema.exclusiveMaximum;
    highExclusive = true;
  }
  const step = typeof schema.multipleOf === 'number' && schema.multipleOf > 0 ? schema.multipleOf : undefined;
  let number = integer ? Math.round(value) : value;
  if (step !== undefined) number = Math.round(number / step) * step;
  const tooLow = number < low || (lowExclusive && number <= low);
  const tooHigh = number > high || (highExclusive && number >= high);
  if (tooLow) {
    if (integer) number = lowExclusive ? Math.floor(low) + 1 : Math.ceil(low);
    else number = lowExclusive ? (Number.isFinite(high) ? (low + high) / 2 : low + 1) : low;
  } else if (tooHigh) {
    if (integer) number = highExclusive ? Math.ceil(high) - 1 : Math.floor(high);
    else number = highExclusive ? (Number.isFinite(low) ? (low + high) / 2 : high - 1) : high;
  }
  if (step !== undefined && Math.abs(number / step - Math.round(number / step)) > 1e-9) {
    // Clamping broke the step: take the nearest multiple inside the bounds.
    const up = Math.ceil(number / step) * step;
    number = up <= high && !(highExclusive && up >= high) ? up : Math.floor(number / step) * step;
  }
  return number;
}

function itemCount(schema: JsonSchema, wanted: number): number {
  const min = typeof schema.minItems === 'number' ? schema.minItems : 0;
  const max = typeof schema.maxItems === 'number' ? schema.maxItems : Number.POSITIVE_INFINITY;
  return Math.min(Math.max(wanted, min), max);
}

function matchEnum(value: unknown, options: readonly unknown[]): unknown {
  if (options.includes(value)) return value;
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    return options.find((option) => typeof option === 'string' && option.toLowerCase() === lower);
  }
  return undefined;
}

/** Follows local `$ref`s and merges `allOf` members, so callers see one flat schema. */
function resolve(schema: JsonSchema, root: JsonSchema, seen: ReadonlySet<string> = new Set()): JsonSchema {
  let current = schema;
  if (typeof current.$ref === 'string' && current.$ref.startsWith('#') && !seen.has(current.$ref)) {
    const target = pointer(root, current.$ref);
    const { $ref, ...rest } = current;
    current = { ...resolve(target, root, new Set([...seen, $ref as string])), ...rest };
  }
  if (Array.isArray(current.allOf)) {
    const { allOf, ...rest } = current;
    const merged: JsonSchema = { ...rest };
    const properties: Record<string, unknown> = { ...asSchema(rest.properties) };
    const required: string[] = Array.isArray(rest.required) ? [...(rest.required as string[])] : [];
    for (const member of allOf as unknown[]) {
      const part = resolve(asSchema(member), root, seen);
      Object.assign(merged, part);
      Object.assign(properties, asSchema(part.properties));
      if (Array.isArray(part.required)) required.push(...(part.required as string[]));
    }
    return { ...merged, properties, required };
  }
  return current;
}

function pointer(root: JsonSchema, ref: string): JsonSchema {
  const segments = ref
    .replace(/^#\/?/, '')
    .split('/')
    .filter((segment) => segment.length > 0)
    .map((segment) => decodeURIComponent(segment).replace(/~1/g, '/').replace(/~0/g, '~'));
  let node: unknown = root;
  for (const segment of segments) node = isPlainObject(node) ? node[segment] : undefined;
  return asSchema(node);
}

function readVariants(schema: JsonSchema): JsonSchema[] | undefined {
  const variants = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(variants) && variants.length > 0) return variants.map(asSchema);
  // `type: ['string', 'null']` is the same choice written differently.
  if (Array.isArray(schema.type)) {
    return (schema.type as string[]).map((type) => ({ ...schema, type }));
  }
  return undefined;
}

function readType(schema: JsonSchema): string | undefined {
  if (typeof schema.type === 'string') return schema.type;
  if (isPlainObject(schema.properties)) return 'object';
  if (schema.items !== undefined) return 'array';
  return undefined;
}

function asSchema(value: unknown): JsonSchema {
  return isPlainObject(value) ? value : {};
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function lastKey(path: readonly string[]): string | undefined {
  return [...path].reverse().find((segment) => !/^\d+$/.test(segment));
}
