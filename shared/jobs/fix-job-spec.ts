import * as z from 'zod';
import { findAllowlistEntryProblem } from '../domain/allowlist-gate.js';
import { describeZodIssues } from './job-schemas.js';

/**
 * `job.json`, as in DESIGN.md "Fix runner", plus optional additions (`repo.pushUrl`, below, and):
 * - `candidateFiles`: repository paths the processor thinks are relevant (e.g. from code search);
 *   only hints for the prompt, filtered to the allowlist, never permissions.
 * - `verify.timeoutSeconds`: the verify command's own limit (default 600).
 */

/** A branch name git accepts and that cannot be mistaken for an option or a revision expression. */
export function findBranchNameProblem(name: string): string | null {
  if (name.length === 0 || name.length > 200) return 'must be 1 to 200 characters';
  if (!/^[A-Za-z0-9._/-]+$/.test(name)) return 'may only contain letters, digits, ".", "_", "-" and "/"';
  if (name.startsWith('-') || name.startsWith('/') || name.endsWith('/'))
    return 'must not start with "-" or "/", nor end with "/"';
  if (name.includes('..') || name.includes('//')) return 'must not contain ".." or "//"';
  if (name === 'HEAD' || name.startsWith('refs/')) return 'must be a plain branch name';
  if (name.split('/').some((segment) => segment.startsWith('.') || segment.endsWith('.lock'))) {
    return 'no segment may start with "." or end with ".lock"';
  }
  if (name.endsWith('.')) return 'must not end with "."';
  return null;
}

/**
 * `file://` paths and `https://` URLs, as the contract says; plain `http://` only to this machine
 * (the local stack's GitHub stand-in). Never credentials in the URL: they come from the
 * environment and travel in a header.
 */
export function findCloneUrlProblem(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be a URL';
  }
  if (/\s/.test(value)) return 'must not contain whitespace';
  if (!['file:', 'https:', 'http:'].includes(url.protocol)) return 'must be a file:// or https:// URL';
  if (url.username || url.password) return 'must not carry credentials';
  if (url.protocol === 'file:') return url.pathname.length > 1 ? null : 'must name a path';
  if (url.protocol === 'https:') return url.hostname ? null : 'must name a host';
  return ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)
    ? null
    : 'http is only allowed to this machine';
}

const remoteUrl = z.string().superRefine((value, context) => {
  const problem = findCloneUrlProblem(value);
  if (problem) context.addIssue({ code: 'custom', message: problem });
});

const branchName = z.string().superRefine((value, context) => {
  const problem = findBranchNameProblem(value);
  if (problem) context.addIssue({ code: 'custom', message: problem });
});

export const fixJobSpecSchema = z
  .object({
    jobId: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1 to 128 letters, digits, ".", "_", ":" or "-"'),
    repo: z.object({
      cloneUrl: remoteUrl,
      /**
       * Where the branch is pushed when it is not `cloneUrl`: a fork, so the repository's CI
       * does not run agent-written code with its secrets before review (README, "Fixes from a
       * fork"). The pull request is then opened from `<fork owner>:<branch>`.
       */
      pushUrl: remoteUrl.optional(),
      baseBranch: branchName,
    }),
    branch: branchName,
    task: z.object({
      title: z.string().trim().min(1).max(500),
      body: z.string().max(100_000),
      url: z
        .url({ protocol: /^https?$/ })
        .max(2000)
        .optional(),
    }),
    allowlist: z
      .array(
        z.string().superRefine((value, context) => {
          const problem = findAllowlistEntryProblem(value.replace(/\/+$/, ''));
          if (problem) context.addIssue({ code: 'custom', message: problem });
        }),
      )
      .min(1)
      .max(50),
    limits: z.object({
      maxTurns: z.number().int().min(1).max(500),
      maxBudgetUsd: z.number().positive().max(1000),
      timeoutSeconds: z
        .number()
        .int()
        .min(1)
        .max(24 * 3600),
      maxChangedFiles: z.number().int().min(1).max(10_000),
      maxDiffLines: z.number().int().min(1).max(1_000_000),
    }),
    verify: z
      .object({
        command: z.string().trim().min(1).max(4000),
        timeoutSeconds: z
          .number()
          .int()
          .min(1)
          .max(6 * 3600)
          .optional(),
      })
      .optional(),
    candidateFiles: z.array(z.string().min(1).max(1000)).max(100).optional(),
  })
  .refine((spec) => spec.branch !== spec.repo.baseBranch, {
    path: ['branch'],
    message: 'must differ from repo.baseBranch',
  });

export type FixJobSpec = z.infer<typeof fixJobSpecSchema>;

export const DEFAULT_VERIFY_TIMEOUT_SECONDS = 600;

/** Validates a job spec; on failure keeps what it can (job id, branch) for the failed result. */
export type ParsedSpec =
  | { ok: true; spec: FixJobSpec }
  | { ok: false; jobId: string; branch: string; error: string };

export function parseFixJobSpec(raw: unknown, fallbackJobId: string): ParsedSpec {
  const parsed = fixJobSpecSchema.safeParse(raw);
  if (parsed.success) return { ok: true, spec: parsed.data };
  const loose = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const jobId =
    typeof loose.jobId === 'string' && loose.jobId.length > 0 ? loose.jobId.slice(0, 128) : fallbackJobId;
  const branch = typeof loose.branch === 'string' ? loose.branch.slice(0, 200) : '';
  return { ok: false, jobId, branch, error: `invalid job: ${describeZodIssues(parsed.error.issues)}` };
}
