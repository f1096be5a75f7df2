import * as z from 'zod';
import type { ReportCut } from '../domain/report-bounds.js';

/**
 * Jobs are the only thing that crosses the queue. Producers (ingress Lambdas, the fix runner,
 * the EventBridge rule for stopped tasks) and the processor share these schemas, so a message
 * that does not parse here is a bug or an attack, never a "maybe".
 *
 * Versioned with `v`; one `kind` per job; `idempotencyKey` names the side effects the job may
 * cause at most once (interaction id, webhook id, or job id).
 */

export const JOB_SCHEMA_VERSION = 1 as const;

const snowflake = z.string().regex(/^\d{15,22}$/, 'must be a Discord snowflake');

export const discordMemberSchema = z.object({
  userId: snowflake,
  username: z.string().max(100),
  roles: z.array(snowflake).max(250),
});
export type DiscordMember = z.infer<typeof discordMemberSchema>;

/** Everything the processor needs to answer an interaction after the ingress has deferred it. */
export const interactionContextSchema = z.object({
  id: snowflake,
  token: z.string().min(1).max(500),
  applicationId: snowflake,
  guildId: snowflake.optional(),
  channelId: snowflake,
  /** Set when the interaction happened inside a thread (the channel is then the thread). */
  threadId: snowflake.optional(),
  member: discordMemberSchema,
});
export type InteractionContext = z.infer<typeof interactionContextSchema>;

export const targetMessageSchema = z.object({
  id: snowflake,
  channelId: snowflake,
  authorId: snowflake,
  authorName: z.string().max(100),
  content: z.string().max(4000),
  timestamp: z.string(),
});
export type TargetMessage = z.infer<typeof targetMessageSchema>;

export const commandNames = ['contextualize', 'fix', 'status', 'dashboard', 'split', 'merge'] as const;
export type CommandName = (typeof commandNames)[number];

export const discordCommandJobSchema = z.object({
  v: z.literal(JOB_SCHEMA_VERSION),
  kind: z.literal('discord.command'),
  idempotencyKey: z.string().min(1).max(200),
  receivedAt: z.iso.datetime(),
  interaction: interactionContextSchema,
  command: z.object({
    name: z.enum(commandNames),
    /** `slash` for /bugbot, `message` for the message context-menu commands. */
    source: z.enum(['slash', 'message']),
    issue: z.string().max(200).optional(),
    repo: z.string().max(300).optional(),
    instructions: z.string().max(2000).optional(),
    /** `split`: the folded report's bug id; `merge`: the bug that is a duplicate. */
    bug: z.string().max(80).optional(),
    /** `merge`: the bug it duplicates. */
    into: z.string().max(80).optional(),
    targetMessage: targetMessageSchema.optional(),
  }),
});
export type DiscordCommandJob = z.infer<typeof discordCommandJobSchema>;

/** `split`: sits on View Details, and names the folded report to split out of its original. */
export const bugActions = ['create_issue', 'draft_fix', 'dismiss', 'details', 'split'] as const;
export type BugAction = (typeof bugActions)[number];

export const discordComponentJobSchema = z.object({
  v: z.literal(JOB_SCHEMA_VERSION),
  kind: z.literal('discord.component'),
  idempotencyKey: z.string().min(1).max(200),
  receivedAt: z.iso.datetime(),
  interaction: interactionContextSchema,
  action: z.enum(bugActions),
  bugId: z.string().min(1).max(80),
  /** The message the button sits on (the bug card). */
  messageId: snowflake.optional(),
  /** Dismiss arrives as a modal submit carrying the reason. */
  reason: z.string().max(1000).optional(),
});
export type DiscordComponentJob = z.infer<typeof discordComponentJobSchema>;

/**
 * Absent, `null` (an empty Supabase column) and `''` all mean "not given", and come out as
 * absent: the processor never sees a null.
 */
const optionalText = z
  .string()
  .nullish()
  .transform((value) => (value === null || value === '' ? undefined : value));

/** Identity and foreign-key columns are often numbers (`bigint generated always as identity`). */
const optionalId = z
  .union([z.string(), z.number().refine(Number.isFinite, 'must be a finite number')])
  .nullish()
  .transform((value) => (value === null || value === undefined || value === '' ? undefined : String(value)));

/**
 * Report fields from the bug-report webhook contract. A Supabase database webhook sends the
 * whole row (`to_jsonb(NEW)`): every column, empty ones as null, identity ids as numbers, and the
 * team's own columns. Unknown fields are kept (loose) but never trusted: they travel as data and
 * are only ever rendered fenced. No length caps here: the webhook takes up to 1 MiB and what is
 * stored is bounded, with the cut said out loud (shared/domain/report-bounds.ts) — a report is
 * never refused for being long.
 */
const bugReportFields = z.looseObject({
  id: optionalId,
  description: z.string().trim().min(1, 'is required'),
  user_id: optionalId,
  user_email: z
    .union([z.literal(''), z.email().max(320)])
    .nullish()
    .transform((value) => (value === null || value === '' ? undefined : value)),
  app_version: optionalId,
  created_at: optionalText,
  device_info: z
    .record(z.string(), z.unknown())
    .nullish()
    .transform((value) => value ?? undefined),
  console_logs: optionalText,
  url: optionalText,
  posthog_session_id: optionalText,
  screenshot_url: optionalText,
});

/** The report fields bugbot reads; everything else a report carries is an extra field. */
export const KNOWN_REPORT_FIELDS: readonly string[] = Object.keys(bugReportFields.shape);

/** Known fields that were null or empty leave no key behind (extra fields keep their nulls). */
export const bugReportSchema = bugReportFields.transform((report) => {
  for (const key of KNOWN_REPORT_FIELDS) {
    if (report[key as keyof typeof report] === undefined) delete report[key as keyof typeof report];
  }
  return report;
});
export type BugReport = z.infer<typeof bugReportSchema>;

/** What the webhook had to cut so the job fits the queue (see shared/domain/report-bounds.ts). */
export const reportCutSchema: z.ZodType<ReportCut> = z.object({
  field: z.enum([
    'id',
    'description',
    'console_logs',
    'device_info',
    'url',
    'screenshot_url',
    'user_id',
    'app_version',
    'created_at',
    'posthog_session_id',
    'extra_fields',
  ]),
  keep: z.enum(['start', 'end', 'fields']),
  keptBytes: z.number().int().nonnegative(),
  totalBytes: z.number().int().nonnegative(),
});

export const bugReportJobSchema = z.object({
  v: z.literal(JOB_SCHEMA_VERSION),
  kind: z.literal('bug.report'),
  idempotencyKey: z.string().min(1).max(200),
  receivedAt: z.iso.datetime(),
  bugId: z.string().min(1).max(80),
  report: bugReportSchema,
  /** Set only when the webhook cut the report to fit the queue's maximum message size. */
  cuts: z.array(reportCutSchema).max(20).optional(),
});
export type BugReportJob = z.infer<typeof bugReportJobSchema>;

/**
 * Refresh a bug that reports were folded into: recount, edit its card once, and post a thread note
 * at meaningful moments (shared/domain/fold.ts). Sent by the processor itself, delayed, at most one
 * pending per bug; a redelivered or forged one only repeats an idempotent recount.
 */
export const bugRefreshJobSchema = z.object({
  v: z.literal(JOB_SCHEMA_VERSION),
  kind: z.literal('bug.refresh'),
  idempotencyKey: z.string().min(1).max(200),
  receivedAt: z.iso.datetime(),
  bugId: z.string().min(1).max(80),
});
export type BugRefreshJob = z.infer<typeof bugRefreshJobSchema>;

export const changedFileSchema = z.object({
  path: z.string(),
  change: z.enum(['added', 'modified', 'deleted', 'renamed', 'mode', 'typechange']),
});

const verifyRunSchema = z.object({ exitCode: z.number().int().nullable(), outputTail: z.string() });

/**
 * Whether the agent's own tests caught the bug (DESIGN.md "Fix runner"): the runner runs
 * `verify.command` on the base tree plus only the agent's test files (`before`, must fail) and on
 * the final tree (`after`, must pass). `reproduced`: they failed on the base tree;
 * `not_reproduced`: they passed there too; `no_test`: no test file changed.
 */
export const fixReproductionSchema = z.object({
  status: z.enum(['reproduced', 'not_reproduced', 'no_test']),
  tests: z.array(z.string()),
  before: verifyRunSchema.optional(),
  after: verifyRunSchema.optional(),
});
export type FixReproduction = z.infer<typeof fixReproductionSchema>;

export const FIX_RISK_KINDS = [
  'script_tag',
  'inline_event_handler',
  'external_origin',
  'cookie_or_storage',
  'dynamic_code',
  'url_import',
  'new_dependency',
] as const;
export type FixRiskKind = (typeof FIX_RISK_KINDS)[number];

export const fixRiskSchema = z.object({
  path: z.string(),
  line: z.number().int().positive().optional(),
  kind: z.enum(FIX_RISK_KINDS),
  detail: z.string(),
});
export type FixRisk = z.infer<typeof fixRiskSchema>;

/** The runner's `result.json`, as in DESIGN.md "Fix runner". */
export const fixResultSchema = z.object({
  jobId: z.string().min(1),
  status: z.enum(['pushed', 'no_changes', 'rejected', 'failed']),
  branch: z.string(),
  baseCommit: z.string().optional(),
  headCommit: z.string().optional(),
  changedFiles: z.array(changedFileSchema),
  rejected: z.array(z.object({ path: z.string(), reason: z.string() })),
  summary: z.string(),
  costUsd: z.number().nonnegative(),
  verify: z
    .object({ command: z.string(), exitCode: z.number().int().nullable(), outputTail: z.string() })
    .optional(),
  reproduction: fixReproductionSchema.optional(),
  /** Risky front-end code the change adds, which the gate cannot judge (DESIGN "Fix runner"). */
  risks: z.array(fixRiskSchema).default([]),
  error: z.string().optional(),
});
export type FixResult = z.infer<typeof fixResultSchema>;
export type FixResultInput = z.input<typeof fixResultSchema>;

export const fixResultJobSchema = z.object({
  v: z.literal(JOB_SCHEMA_VERSION),
  kind: z.literal('fix.result'),
  idempotencyKey: z.string().min(1).max(200),
  receivedAt: z.iso.datetime(),
  result: fixResultSchema,
});
export type FixResultJob = z.infer<typeof fixResultJobSchema>;

/**
 * A fix task stopped. Produced by the EventBridge rule (ECS "Task State Change", STOPPED) through
 * an input transformer, and by the local launcher when the runner process exits.
 */
export const fixTaskStoppedJobSchema = z.object({
  v: z.literal(JOB_SCHEMA_VERSION),
  kind: z.literal('fix.task-stopped'),
  idempotencyKey: z.string().min(1).max(300),
  receivedAt: z.string(),
  /** ECS `startedBy`, which the launcher sets to the fix job id. */
  jobId: z.string().min(1),
  taskArn: z.string(),
  stopCode: z.string().optional(),
  stoppedReason: z.string().optional(),
  /**
   * The runner's exit code, null when it never ran. The local launcher sends a number or null;
   * the EventBridge rule can only send it as a string, "" when the event has none (see
   * `TASK_STOPPED_TEMPLATE` in infra/constructs/fix-runner.ts). Parsed, it is always a number or null.
   */
  exitCode: z
    .union([z.number().int(), z.null(), z.string().regex(/^(-?\d+|null)?$/, 'must be an integer')])
    .optional()
    .transform((code) => (typeof code === 'string' ? (/^-?\d+$/.test(code) ? Number(code) : null) : code)),
});
export type FixTaskStoppedJob = z.infer<typeof fixTaskStoppedJobSchema>;

const repositoryName = z.string().regex(/^[\w.-]{1,100}\/[\w.-]{1,100}$/, 'must be owner/name');
const httpUrl = z.url({ protocol: /^https?$/ }).max(2000);

/**
 * A GitHub webhook delivery the loop acts on (DESIGN "Hearing back"), reduced by the ingress to
 * the fields the processor needs: the full payloads run to tens of kilobytes of repository and
 * user objects. `idempotencyKey` is `github:<x-github-delivery>`, the same on every redelivery.
 */
export const githubEventJobSchema = z.object({
  v: z.literal(JOB_SCHEMA_VERSION),
  kind: z.literal('github.event'),
  idempotencyKey: z.string().min(1).max(200),
  receivedAt: z.iso.datetime(),
  event: z.discriminatedUnion('type', [
    z.object({
      /** `pull_request` with `action: closed`; `merged` tells merged from closed unmerged. */
      type: z.literal('pull_request.closed'),
      repository: repositoryName,
      number: z.number().int().positive(),
      url: httpUrl,
      headRef: z.string().min(1).max(255),
      headSha: z.string().max(64),
      merged: z.boolean(),
    }),
    z.object({
      /** `deployment_status` whose state is `success`: a preview (or any) deployment is up. */
      type: z.literal('deployment_status.success'),
      repository: repositoryName,
      deploymentId: z.number().int().nonnegative(),
      ref: z.string().max(255),
      sha: z.string().max(64),
      /** `environment_url`, or `target_url` when the deployer set no environment URL. */
      environmentUrl: httpUrl,
      environment: z.string().max(255).optional(),
    }),
  ]),
});
export type GitHubEventJob = z.infer<typeof githubEventJobSchema>;
export type GitHubLoopEvent = GitHubEventJob['event'];

/**
 * A Linear `Issue` `update` whose workflow state became completed or canceled. The key is
 * `linear:<linear-delivery>`.
 */
export const linearEventJobSchema = z.object({
  v: z.literal(JOB_SCHEMA_VERSION),
  kind: z.literal('linear.event'),
  idempotencyKey: z.string().min(1).max(200),
  receivedAt: z.iso.datetime(),
  issue: z.object({
    id: z.string().min(1).max(100),
    /** `ENG-12`: how bugbot links issues to bugs. */
    identifier: z.string().min(1).max(50),
    url: httpUrl.optional(),
  }),
  stateType: z.enum(['completed', 'canceled']),
  stateName: z.string().max(100),
});
export type LinearEventJob = z.infer<typeof linearEventJobSchema>;

export const BUG_STATUS_EVENT_TYPES = [
  'bug.triaged',
  'bug.duplicate',
  'bug.resolved',
  'bug.regressed',
] as const;
export type BugStatusEventType = (typeof BUG_STATUS_EVENT_TYPES)[number];

/**
 * What the product hears about its users' bugs (DESIGN "Telling the reporters"), exactly the body
 * POSTed to `BUG_STATUS_WEBHOOK_URL`. `reports` are the product's own ids (null when a report
 * had none). `duplicateOf` (bug.duplicate only) is a documented addition: the bug this report was
 * folded into, whose later events name the report again.
 */
export const bugStatusEventSchema = z.object({
  type: z.enum(BUG_STATUS_EVENT_TYPES),
  /** When it happened, ISO-8601 UTC; the same on every retry (the signature's timestamp is not). */
  timestamp: z.iso.datetime(),
  data: z.object({
    bugId: z.string().min(1).max(80),
    status: z.string().min(1).max(40),
    title: z.string().max(300),
    reports: z
      .array(
        z.object({
          id: z.string().max(200).nullable(),
          user_id: z.string().max(200).nullable(),
          user_email: z.string().max(320).nullable(),
        }),
      )
      .max(100),
    issueUrl: httpUrl.optional(),
    pullRequestUrl: httpUrl.optional(),
    duplicateOf: z.string().min(1).max(80).optional(),
  }),
});
export type BugStatusEvent = z.infer<typeof bugStatusEventSchema>;

/**
 * One status event to deliver. `idempotencyKey` is the event's `webhook-id`: derived from the bug
 * and what happened to it, so every retry (and a redelivered job that enqueued it twice) sends
 * the same id and the product can drop repeats.
 */
export const bugStatusJobSchema = z.object({
  v: z.literal(JOB_SCHEMA_VERSION),
  kind: z.literal('bug.status'),
  idempotencyKey: z.string().min(1).max(200),
  receivedAt: z.iso.datetime(),
  event: bugStatusEventSchema,
});
export type BugStatusJob = z.infer<typeof bugStatusJobSchema>;

export const jobSchema = z.discriminatedUnion('kind', [
  discordCommandJobSchema,
  discordComponentJobSchema,
  bugReportJobSchema,
  bugRefreshJobSchema,
  fixResultJobSchema,
  fixTaskStoppedJobSchema,
  githubEventJobSchema,
  linearEventJobSchema,
  bugStatusJobSchema,
]);
export type Job = z.infer<typeof jobSchema>;
export type JobKind = Job['kind'];

export type ParsedJob = { ok: true; job: Job } | { ok: false; reason: string };

/** Parses a raw queue message body; never throws. */
export function parseJob(body: string): ParsedJob {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch {
    return { ok: false, reason: 'body is not JSON' };
  }
  const parsed = jobSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, reason: describeZodIssues(parsed.error.issues) };
  }
  return { ok: true, job: parsed.data };
}

/** `field.path: message; other.field: message` — names every offending field, echoes no values. */
export function describeZodIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const path = issue.path.map(String).join('.');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
