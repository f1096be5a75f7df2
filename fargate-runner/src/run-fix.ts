import { chmod, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { decideGate, redactSecrets } from '../../shared/domain/allowlist-gate.js';
import { findFixRisks } from '../../shared/domain/fix-risks.js';
import { toPlainLine, truncate } from '../../shared/domain/untrusted-text.js';
import { DEFAULT_VERIFY_TIMEOUT_SECONDS, type FixJobSpec } from '../../shared/jobs/fix-job-spec.js';
import type { FixResult } from '../../shared/jobs/job-schemas.js';
import { buildFixPrompt } from './agent/build-prompt.js';
import { runAgent } from './agent/run-claude.js';
import { inspectFinalTree } from './gate/inspect-final-tree.js';
import { gatherRiskInput } from './gate/risk-context.js';
import { type GitAuth, GitError } from './git/git-command.js';
import { BranchExistsError, createFixCommit, pushFixBranch } from './git/publish.js';
import { describeLayout, prepareWorkspace, type RunLayout } from './git/workspace.js';
import {
  type AcquiredSandbox,
  acquireSandbox,
  SandboxError,
  type SandboxState,
  stopUser,
} from './sandbox/sandbox-users.js';
import { runChecks } from './verify/run-checks.js';

/**
 * One fix run: clone → agent → gate → risks → reproduce and verify → one fresh commit → push.
 * The runner, not the agent, decides what leaves: nothing is pushed unless the gate accepts the
 * final tree; and it, not the agent, runs the checks, as a user that can reach no secret.
 */

export interface RunFixOptions {
  readonly claudeBin: string;
  readonly anthropicApiKey: string;
  readonly anthropicBaseUrl?: string;
  readonly model?: string;
  readonly githubToken?: string;
  /** Values that must never appear in what the run publishes (see `collectSecretValues`). */
  readonly secretValues: readonly string[];
  readonly path: string;
  /** Use (and keep) this directory instead of a fresh temporary one. */
  readonly workDir?: string;
  /** Default true; the benchmark compares a full clone. */
  readonly partialClone?: boolean;
  readonly now?: () => Date;
  /** The gate's per-read output cap for file contents (see `inspectFinalTree`); tests lower it. */
  readonly blobBatchBytes?: number;
  readonly log?: (message: string, fields?: Record<string, unknown>) => void;
}

export interface RunFixReport {
  readonly result: FixResult;
  /** Milliseconds per phase, for logs and the benchmark. */
  readonly timings: Readonly<Record<string, number>>;
  readonly workDir: string;
  /** Whether agent-written code could run as a user of its own, and if not why. */
  readonly sandbox: SandboxState;
}

const MAX_SUMMARY_CHARS = 4000;

export async function runFix(spec: FixJobSpec, options: RunFixOptions): Promise<RunFixReport> {
  const log = options.log ?? (() => {});
  const now = options.now ?? (() => new Date());
  const timings: Record<string, number> = {};
  const timed = async <T>(phase: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      timings[phase] = Math.round(performance.now() - started);
      log(`phase ${phase} done`, { phase, ms: timings[phase] });
    }
  };
  const root = options.workDir ?? (await mkdtemp(join(tmpdir(), 'bugbot-fix-')));
  await mkdir(root, { recursive: true });
  const layout = describeLayout(root);
  const redact = (text: string) => redactSecrets(text, options.secretValues);
  let acquired: AcquiredSandbox;
  try {
    acquired = await timed('sandbox', () => acquireSandbox());
  } catch (error) {
    const message = error instanceof SandboxError ? error.message : describeError(error);
    log('no sandbox', { error: message });
    if (!options.workDir) await removeWorkDir(layout);
    const failed = emptyFailedResult(spec, `the sandbox could not be set up: ${message}`);
    return { result: failed, timings: {}, workDir: root, sandbox: { available: false, reason: message } };
  }
  const sandbox = acquired.state;
  log(
    'sandbox',
    sandbox.available
      ? { agentUid: sandbox.agent.uid, testsUid: sandbox.tests.uid }
      : { unavailable: sandbox.reason },
  );

  let result: FixResult = emptyFailedResult(spec);
  try {
    const auth = buildAuth(spec.repo.cloneUrl, options.githubToken);
    if (sandbox.available) await openRunRoot(root);
    const prepared = await timed('clone', () =>
      prepareWorkspace({
        layout,
        cloneUrl: spec.repo.cloneUrl,
        baseBranch: spec.repo.baseBranch,
        branch: spec.branch,
        auth,
        partial: options.partialClone,
        agentUser: sandbox.available ? sandbox.agent : null,
      }),
    );
    timings['clone.fetch'] = prepared.timings.fetch;
    timings['clone.checkout'] = prepared.timings.checkout;
    result = { ...result, baseCommit: prepared.baseCommit };

    const agent = await timed('agent', () =>
      runAgent({
        claudeBin: options.claudeBin,
        workspace: layout.workspace,
        agentHome: layout.agentHome,
        settingsDir: layout.agentSettings,
        sandbox: sandbox.available ? sandbox : null,
        prompt: buildFixPrompt(spec),
        allowlist: spec.allowlist,
        limits: spec.limits,
        anthropicApiKey: options.anthropicApiKey,
        anthropicBaseUrl: options.anthropicBaseUrl,
        model: options.model,
        path: options.path,
      }),
    );
    result = {
      ...result,
      costUsd: agent.costUsd,
      summary: redact(truncate(agent.summary.trim(), MAX_SUMMARY_CHARS)),
    };
    if (agent.status === 'failed') {
      log('agent failed', { reason: redact(agent.reason) });
      return finish({ ...result, status: 'failed', error: redact(agent.reason) });
    }

    const inspection = await timed('gate', () =>
      inspectFinalTree(layout, prepared.baseTree, {
        maxReviewedFiles: spec.limits.maxChangedFiles,
        blobBatchBytes: options.blobBatchBytes,
      }),
    );
    const decision = decideGate({
      allowlist: spec.allowlist,
      limits: spec.limits,
      entries: inspection.entries,
      numstat: inspection.numstat,
      contents: inspection.contents,
      secretValues: options.secretValues,
    });
    if (decision.verdict === 'no_changes') return finish({ ...result, status: 'no_changes' });
    if (decision.verdict === 'rejected') {
      log('gate rejected the change', { rejected: decision.rejected.length });
      return finish({
        ...result,
        status: 'rejected',
        changedFiles: [...decision.changedFiles],
        rejected: decision.rejected.map((rejection) => ({
          path: redact(rejection.path),
          reason: rejection.reason,
        })),
      });
    }
    const riskInput = await timed('risks', () =>
      gatherRiskInput(layout, prepared.baseTree, inspection.addedLines, spec.allowlist),
    );
    result = {
      ...result,
      changedFiles: [...decision.changedFiles],
      risks: findFixRisks(riskInput).map((risk) => ({
        ...risk,
        path: redact(risk.path),
        detail: redact(risk.detail),
      })),
    };

    if (spec.verify) {
      const checks = await runChecks({
        layout,
        sandbox,
        verify: {
          command: spec.verify.command,
          timeoutSeconds: spec.verify.timeoutSeconds ?? DEFAULT_VERIFY_TIMEOUT_SECONDS,
        },
        baseTree: prepared.baseTree,
        finalTree: inspection.finalTree,
        entries: inspection.entries,
        path: options.path,
        timed,
      });
      const redactRun = <T extends { outputTail: string }>(run: T): T => ({
        ...run,
        outputTail: redact(run.outputTail),
      });
      const reproduction = checks.reproduction;
      result = {
        ...result,
        verify: redactRun(checks.verify),
        ...(reproduction
          ? {
              reproduction: {
                ...reproduction,
                ...(reproduction.before ? { before: redactRun(reproduction.before) } : {}),
                ...(reproduction.after ? { after: redactRun(reproduction.after) } : {}),
              },
            }
          : {}),
      };
    }

    const headCommit = await timed('commit', () =>
      createFixCommit(layout, {
        tree: inspection.finalTree,
        baseCommit: prepared.baseCommit,
        message: buildCommitMessage(spec),
        now: now(),
      }),
    );
    // A fork when the deployment pushes fixes there (`repo.pushUrl`), else the cloned repository.
    const pushUrl = spec.repo.pushUrl ?? spec.repo.cloneUrl;
    const pushAuth = pushUrl === spec.repo.cloneUrl ? auth : buildAuth(pushUrl, options.githubToken);
    // Nothing the agent or its code started may still run while the token is in use.
    if (sandbox.available) {
      await stopUser(sandbox, sandbox.agent);
      await stopUser(sandbox, sandbox.tests);
    }
    await timed('push', () =>
      pushFixBranch(layout, { url: pushUrl, branch: spec.branch, commit: headCommit, auth: pushAuth }),
    );
    return finish({ ...result, status: 'pushed', headCommit });
  } catch (error) {
    log('run failed', { error: redact(describeError(error)) });
    return finish({ ...result, status: 'failed', error: redact(describeError(error)) });
  }

  async function finish(final: FixResult): Promise<RunFixReport> {
    await acquired.release();
    if (!options.workDir) await removeWorkDir(layout);
    return { result: final, timings, workDir: root, sandbox };
  }
}

/**
 * The run's root must be traversable (not listable) by the sandbox users, and so must every
 * directory above it; a root that is not, in a private parent, fails the run rather than run
 * the agent where it could not even reach its workspace.
 */
async function openRunRoot(root: string): Promise<void> {
  await chmod(root, 0o711);
  for (let dir = dirname(root); ; dir = dirname(dir)) {
    const info = await stat(dir);
    if ((info.mode & 0o001) === 0) {
      throw new SandboxError(
        `the sandbox users cannot reach the work directory: ${dir} is not traversable by others (mode ${(info.mode & 0o777).toString(8)})`,
      );
    }
    if (dirname(dir) === dir) return;
  }
}

/** result.json's status as the process exit code: 0 pushed or no_changes, 2 rejected, 1 failed. */
export function exitCodeFor(status: FixResult['status']): number {
  if (status === 'pushed' || status === 'no_changes') return 0;
  if (status === 'rejected') return 2;
  return 1;
}

/**
 * The GitHub token travels only as a header scoped to the remote's origin, never in a URL or a
 * file. Required for https; used for the local stack's loopback http remote when given.
 */
export function buildAuth(cloneUrl: string, githubToken: string | undefined): GitAuth | undefined {
  const url = new URL(cloneUrl);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (!githubToken) {
    if (url.protocol === 'https:')
      throw new MissingTokenError('GITHUB_TOKEN is required for an https:// repository');
    return undefined;
  }
  const basic = Buffer.from(`x-access-token:${githubToken}`).toString('base64');
  return { origin: `${url.protocol}//${url.host}/`, header: `Authorization: Basic ${basic}` };
}

export class MissingTokenError extends Error {
  override name = 'MissingTokenError';
}

export function buildCommitMessage(spec: FixJobSpec): string {
  const subject = truncate(`fix: ${toPlainLine(spec.task.title, 200)}`, 72);
  const lines = [subject, '', `Drafted by bugbot for fix job ${spec.jobId}.`];
  if (spec.task.url) lines.push(`Issue: ${spec.task.url}`);
  return `${lines.join('\n')}\n`;
}

function describeError(error: unknown): string {
  if (error instanceof BranchExistsError || error instanceof MissingTokenError) return error.message;
  if (error instanceof SandboxError) return error.message;
  if (error instanceof GitError) return error.message;
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 1000);
  return 'unexpected failure';
}

async function removeWorkDir(layout: RunLayout): Promise<void> {
  await rm(layout.root, { recursive: true, force: true, maxRetries: 3 }).catch(() => {});
}

/** A failed run that changed nothing (yet): the result each early exit starts from. */
function emptyFailedResult(spec: FixJobSpec, error?: string): FixResult {
  return {
    jobId: spec.jobId,
    status: 'failed',
    branch: spec.branch,
    changedFiles: [],
    rejected: [],
    summary: '',
    costUsd: 0,
    risks: [],
    ...(error === undefined ? {} : { error }),
  };
}
