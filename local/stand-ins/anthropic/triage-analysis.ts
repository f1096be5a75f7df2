import { readAllUserText } from './conversation.js';
import type { JsonSchema, MessagesRequest, ToolDefinition } from './messages-wire.js';
import { generateFromSchema, type ValueHint } from './schema-values.js';

/**
 * The stand-in's answer to a forced tool call: a plausible, deterministic bug analysis read off
 * the report in the request, shaped to whatever `input_schema` the caller declared. Property names
 * pick the facts (root cause, area, severity, reason, fix, confidence, title, steps, labels); the
 * schema decides types and bounds. Same report in, same analysis out.
 */

export type TriageResponder = (
  request: MessagesRequest,
  tool: ToolDefinition,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

interface ReportFacts {
  readonly title: string;
  readonly error: string | undefined;
  readonly area: string;
  /** 1 (cosmetic) … 5 (outage); flipped when the schema says 1 is the most severe. */
  readonly severity: number;
  readonly severityReason: string;
  readonly rootCause: string;
  readonly fix: string;
  readonly confidence: number;
  readonly steps: readonly string[];
  /** Source files named in the report (stack traces), else a guess from the area. */
  readonly files: readonly string[];
}

export function createTriageAnalysis(
  request: MessagesRequest,
  tool: ToolDefinition,
): Record<string, unknown> {
  const facts = readReportFacts(readAllUserText(request));
  const schema: JsonSchema = tool.input_schema ?? { type: 'object', properties: {} };
  const value = generateFromSchema(schema, hintFrom(facts));
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : { analysis: value };
}

/**
 * The JSON text a structured-output request (`output_config.format` or the older `output_format`,
 * `type: 'json_schema'`) gets back, built the same way from the conversation. The Claude Code CLI
 * uses this for its session-title side request.
 */
export function createStructuredOutput(request: MessagesRequest, schema: JsonSchema): string {
  const facts = readReportFacts(readAllUserText(request));
  return JSON.stringify(generateFromSchema(schema, hintFrom(facts)));
}

/** The schema of a structured-output request, if it is one. */
export function readOutputSchema(request: MessagesRequest): JsonSchema | undefined {
  const config = request.output_config as { format?: unknown } | undefined;
  for (const format of [config?.format, request.output_format]) {
    const { type, schema } = (format ?? {}) as { type?: unknown; schema?: unknown };
    if (type === 'json_schema' && typeof schema === 'object' && schema !== null) return schema as JsonSchema;
  }
  return undefined;
}

export function readReportFacts(report: string): ReportFacts {
  const error = findError(report);
  const area = findArea(report);
  const steps = findSteps(report);
  const { severity, severityReason } = rateSeverity(report, error);
  const title = findTitle(report, error, area);
  const symptom = error ? `"${error}"` : 'the reported misbehaviour';
  return {
    title,
    error,
    area,
    severity,
    severityReason,
    rootCause:
      `The ${area} code most likely raises ${symptom} because it uses data that has not loaded ` +
      'or is missing (an unchecked undefined/null value on this path).',
    fix:
      `Guard the ${area} code path that produces ${symptom} against missing data, show a ` +
      'recoverable error state instead, and add a regression test that replays the report.',
    // Counted in tenths so the value prints cleanly (0.8, not 0.7999999999999999).
    confidence:
      Math.min(
        8.5,
        3.5 + (error ? 2.5 : 0) + (area !== 'user interface' ? 1 : 0) + (steps.length > 0 ? 1 : 0),
      ) / 10,
    steps,
    files: findFiles(report, area),
  };
}

function hintFrom(facts: ReportFacts): ValueHint {
  return (path, schema) => {
    const name = meaningfulKey(path);
    if (name === undefined) return undefined;
    const wantsList = schema.type === 'array';
    if (/rootcause|hypothes|^cause/.test(name)) return facts.rootCause;
    if (/fix|suggest|remediat|recommend|solution/.test(name)) return facts.fix;
    if (/reason|rationale|justif|explanation/.test(name)) return facts.severityReason;
    if (/confidence|certainty|probability/.test(name)) return facts.confidence;
    if (/severity|priority|impact|urgency/.test(name)) return severityFor(facts.severity, schema);
    if (/area|component|module|feature|affected|subsystem/.test(name))
      return wantsList ? [facts.area] : facts.area;
    if (/title|summary|headline/.test(name)) return facts.title;
    if (/step|reproduc/.test(name)) return wantsList ? facts.steps : facts.steps.join('\n');
    if (/file|path/.test(name)) return wantsList ? facts.files : facts.files[0];
    if (/label|tag|categor/.test(name)) return wantsList ? ['bug', facts.area] : 'bug';
    if (/error|exception|symptom/.test(name)) return facts.error ?? facts.title;
    if (/duplicate/.test(name)) return schema.type === 'boolean' ? false : null;
    return undefined;
  };
}

/**
 * The property name that says what a value is: the last key, or its parent's when the last key is
 * generic (`affectedArea.name` is an area). Lower-case letters only.
 */
function meaningfulKey(path: readonly string[]): string | undefined {
  const keys = path
    .filter((segment) => !/^\d+$/.test(segment))
    .map((key) => key.toLowerCase().replace(/[^a-z]/g, ''));
  const last = keys.at(-1);
  if (last !== undefined && /^(name|value|text|description|label|id)$/.test(last) && keys.length > 1) {
    return keys.at(-2);
  }
  return last;
}

/** Numbers follow the schema's direction; words follow the usual critical…low vocabulary. */
function severityFor(severity: number, schema: JsonSchema): unknown {
  if (schema.type === 'string' || Array.isArray(schema.enum)) {
    return ['trivial', 'low', 'medium', 'high', 'critical'][severity - 1];
  }
  const description = typeof schema.description === 'string' ? schema.description.toLowerCase() : '';
  const oneIsWorst = /1\s*(=|is|means|:)\s*(the\s+)?(most|highest|urgent|critical|worst)/.test(description);
  const min = typeof schema.minimum === 'number' ? schema.minimum : 1;
  const max = typeof schema.maximum === 'number' ? schema.maximum : 5;
  // Map 1..5 onto the schema's own range before the direction flip, so 0..4 or 1..10 scales work.
  const scaled = min + ((severity - 1) / 4) * (max - min);
  return Math.round(oneIsWorst ? max + min - scaled : scaled);
}

function findError(report: string): string | undefined {
  // The message stops at a line end, a quote or a backslash: reports often arrive JSON-encoded.
  const named = /\b([A-Z][A-Za-z]*(?:Error|Exception))\b(?::[ \t]*([^\n"\\]{0,160}))?/.exec(report);
  if (named) return (named[2] ? `${named[1]}: ${named[2].trim()}` : named[1])!.replace(/["`]+$/, '');
  const line = report
    .split('\n')
    .map((candidate) => candidate.trim())
    .find((candidate) => /\b(error|failed|failure|crash(?:es|ed)?|exception)\b/i.test(candidate));
  return line ? truncate(line, 160) : undefined;
}

const AREA_KEYWORDS: readonly (readonly [RegExp, string])[] = [
  [/\b(log ?in|sign ?in|sign ?up|auth\w*|password|oauth)\b/i, 'authentication'],
  [/\b(checkout|payment|billing|cart|invoice|subscription)\b/i, 'payments'],
  [/\b(upload\w*|attachment|image|avatar|file picker)\b/i, 'uploads'],
  [/\b(notification|push|e-?mail)s?\b/i, 'notifications'],
  [/\b(search|filter)\w*\b/i, 'search'],
  [/\b(profile|settings|account|preferences)\b/i, 'account settings'],
  [/\b(dashboard|chart|graph|analytics)\b/i, 'dashboard'],
  [/\b(chat|message|thread|comment)s?\b/i, 'messaging'],
];

function findArea(report: string): string {
  const url = /https?:\/\/[^\s/]+\/([A-Za-z][\w-]*)/.exec(report);
  if (url?.[1] && !/^(api|v\d+|app|www)$/i.test(url[1])) return url[1].toLowerCase();
  return AREA_KEYWORDS.find(([pattern]) => pattern.test(report))?.[1] ?? 'user interface';
}

function rateSeverity(
  report: string,
  error: string | undefined,
): { severity: number; severityReason: string } {
  if (/\b(data loss|lost (all|my)|security|all users|everyone|outage|production is down)\b/i.test(report)) {
    return {
      severity: 5,
      severityReason: 'The report describes data loss or an outage affecting many users.',
    };
  }
  if (/\b(crash\w*|freez\w*|blank (screen|page)|can(no|')t|unable to|blocked|stuck)\b/i.test(report)) {
    return {
      severity: 4,
      severityReason: 'The user is blocked: the app crashes or cannot complete the action.',
    };
  }
  if (error || /\b(error|fail\w*|broken|wrong)\b/i.test(report)) {
    return {
      severity: 3,
      severityReason: 'An error interrupts the flow, but a retry or workaround may exist.',
    };
  }
  return { severity: 2, severityReason: 'A minor or cosmetic problem with no error reported.' };
}

function findTitle(report: string, error: string | undefined, area: string): string {
  const description = /"?description"?\s*[:=]\s*"?([^"\n]{3,})/i.exec(report)?.[1];
  if (description) return truncate(description.trim(), 80);
  if (error) return truncate(`${error} in ${area}`, 80);
  const line = report
    .split('\n')
    .map((candidate) => candidate.trim())
    .find((candidate) => candidate.length > 0 && !candidate.startsWith('<'));
  return truncate(line ?? `Problem in ${area}`, 80);
}

function findSteps(report: string): string[] {
  return report
    .split('\n')
    .map((line) => /^\s*(?:\d+[.)]|[-*])\s+(.{3,})$/.exec(line)?.[1]?.trim())
    .filter((step): step is string => step !== undefined)
    .slice(0, 8);
}

function findFiles(report: string, area: string): string[] {
  const named = report.match(/[\w@./-]*[\w-]+\.(?:tsx?|jsx?|mjs|vue|svelte|css|scss|html|py|go|rs)\b/g) ?? [];
  const files = [...new Set(named.filter((file) => !/^https?:/.test(file)))].slice(0, 5);
  return files.length > 0 ? files : [`src/${area.replace(/\s+/g, '-')}`];
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
