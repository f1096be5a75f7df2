import { createHmac } from 'node:crypto';
import {
  type DeliveryRecord,
  deliverWebhook,
  newDeliveryId,
  type WebhookTarget,
} from '../webhook-delivery.js';
import { type GitRunner, resolveBranch } from './bare-repository.js';
import { renderPull, renderRepository, SANDBOX_USER } from './github-rest.js';
import type { GitHubStore, PullRecord, ServedRepository } from './github-store.js';

/**
 * What GitHub does when a pull request is merged or closed, or a deployment reports success, and
 * the webhook it then sends (DESIGN "Local stack": the stand-ins deliver webhooks as their
 * services do). Headers and signature as GitHub documents them
 * (https://docs.github.com/en/webhooks/webhook-events-and-payloads, "Delivery headers";
 * "Validating webhook deliveries"): `X-GitHub-Event`, `X-GitHub-Delivery` (a GUID),
 * `X-GitHub-Hook-ID`, `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>` and the legacy
 * SHA-1 `X-Hub-Signature`; payload shapes as in `@octokit/webhooks-examples`.
 */

export interface GitHubWebhookContext {
  readonly store: GitHubStore;
  readonly git: GitRunner;
  readonly now: () => Date;
  readonly htmlBaseUrl: string;
  readonly apiBaseUrl: string;
  readonly gitBaseUrl: string;
  readonly target: () => WebhookTarget | null;
  readonly deliveries: DeliveryRecord[];
}

export type SandboxAnswer =
  | { readonly ok: true; readonly body: Record<string, unknown> }
  | { readonly ok: false; readonly status: number; readonly error: string };

/** Merges like GitHub's merge button: a merge commit of head into base, then `pull_request` closed. */
export async function mergePull(
  ctx: GitHubWebhookContext,
  repository: ServedRepository,
  number: number,
): Promise<SandboxAnswer> {
  const pull = repository.pulls.find((candidate) => candidate.number === number);
  if (!pull) return { ok: false, status: 404, error: `no pull request #${number}` };
  if (pull.state !== 'open')
    return { ok: false, status: 405, error: 'Pull Request is not mergeable (it is closed)' };
  const gitDir = repository.bareDir;
  if (!gitDir) return { ok: false, status: 405, error: 'the repository has no branches' };
  const base = await resolveBranch(ctx.git, gitDir, pull.base);
  const head = await resolveBranch(ctx.git, gitDir, pull.head);
  if (!base || !head) return { ok: false, status: 405, error: 'Head or base branch is gone' };
  const tree = await ctx.git(gitDir, ['merge-tree', '--write-tree', '--end-of-options', base, head]);
  const treeId = tree.stdout.toString('utf8').split('\n')[0]?.trim();
  if (tree.code !== 0 || !treeId)
    return { ok: false, status: 405, error: 'Pull Request is not mergeable (conflicts)' };
  const message = `Merge pull request #${number} from ${repository.owner}/${pull.head}\n\n${pull.title}`;
  const commit = await ctx.git(gitDir, [
    '-c',
    'user.name=GitHub',
    '-c',
    'user.email=noreply@github.com',
    'commit-tree',
    treeId,
    '-p',
    base,
    '-p',
    head,
    '-m',
    message,
  ]);
  const mergeSha = commit.stdout.toString('utf8').trim();
  if (commit.code !== 0 || !mergeSha)
    return { ok: false, status: 500, error: 'could not write the merge commit' };
  const moved = await ctx.git(gitDir, ['update-ref', `refs/heads/${pull.base}`, mergeSha, base]);
  if (moved.code !== 0)
    return { ok: false, status: 409, error: 'Base branch was modified. Review and try the merge again.' };
  const at = ctx.now().toISOString();
  const merged = repository.updatePull(number, {
    state: 'closed',
    mergedAt: at,
    closedAt: at,
    mergeCommitSha: mergeSha,
    headSha: head,
  });
  const delivery = await sendPullRequestClosed(ctx, repository, merged ?? pull);
  return {
    ok: true,
    body: { sha: mergeSha, merged: true, message: 'Pull Request successfully merged', delivery },
  };
}

/** Closes without merging, then `pull_request` closed with `merged: false`. */
export async function closePull(
  ctx: GitHubWebhookContext,
  repository: ServedRepository,
  number: number,
): Promise<SandboxAnswer> {
  const pull = repository.pulls.find((candidate) => candidate.number === number);
  if (!pull) return { ok: false, status: 404, error: `no pull request #${number}` };
  if (pull.state !== 'open') return { ok: false, status: 422, error: 'the pull request is already closed' };
  const closed = repository.updatePull(number, { state: 'closed', closedAt: ctx.now().toISOString() });
  const delivery = await sendPullRequestClosed(ctx, repository, closed ?? pull);
  return { ok: true, body: { number, state: 'closed', merged: false, delivery } };
}

/**
 * A deployment of `ref` that succeeded at `environmentUrl` (Vercel reports its previews this way:
 * a deployment whose status carries `environment_url`), then `deployment_status`.
 */
export async function deploy(
  ctx: GitHubWebhookContext,
  repository: ServedRepository,
  input: { readonly ref: string; readonly environmentUrl: string; readonly environment?: string },
): Promise<SandboxAnswer> {
  const sha = repository.bareDir ? await resolveBranch(ctx.git, repository.bareDir, input.ref) : null;
  if (!sha) return { ok: false, status: 422, error: `No ref found for: ${input.ref}` };
  const at = ctx.now().toISOString();
  const deployment = repository.addDeployment({
    ref: input.ref,
    sha,
    environment: input.environment ?? 'Preview',
    environmentUrl: input.environmentUrl,
    createdAt: at,
  });
  const deploymentUrl = `${ctx.apiBaseUrl}/repos/${repository.fullName}/deployments/${deployment.id}`;
  const payload = {
    action: 'created',
    deployment_status: {
      url: `${deploymentUrl}/statuses/${deployment.id + 1}`,
      id: deployment.id + 1,
      node_id: `DES_${deployment.id + 1}`,
      state: 'success',
      creator: SANDBOX_USER,
      description: 'Deployment has completed',
      environment: deployment.environment,
      target_url: input.environmentUrl,
      environment_url: input.environmentUrl,
      log_url: input.environmentUrl,
      created_at: at,
      updated_at: at,
      deployment_url: deploymentUrl,
      repository_url: `${ctx.apiBaseUrl}/repos/${repository.fullName}`,
    },
    deployment: {
      url: deploymentUrl,
      id: deployment.id,
      node_id: `DE_${deployment.id}`,
      sha,
      ref: input.ref,
      task: 'deploy',
      payload: {},
      original_environment: deployment.environment,
      environment: deployment.environment,
      description: null,
      creator: SANDBOX_USER,
      created_at: at,
      updated_at: at,
      statuses_url: `${deploymentUrl}/statuses`,
      repository_url: `${ctx.apiBaseUrl}/repos/${repository.fullName}`,
    },
    repository: renderRepository(ctx, repository),
    sender: SANDBOX_USER,
  };
  const delivery = await send(ctx, 'deployment_status', 'created', payload);
  return { ok: true, body: { deployment: { id: deployment.id, ref: input.ref, sha }, delivery } };
}

function sendPullRequestClosed(
  ctx: GitHubWebhookContext,
  repository: ServedRepository,
  pull: PullRecord,
): Promise<DeliveryRecord | null> {
  return sendPullRequestEvent(ctx, repository, pull, 'closed');
}

/**
 * `pull_request` with `action` for a pull request whose state changed. GitHub sends `closed`
 * however the pull request was closed — the merge button, the close button or the REST API's
 * `PATCH /repos/{owner}/{repo}/pulls/{pull_number}` with `state: closed` — with `merged` telling
 * which ("If the action is closed and the merged key is false, the pull request was closed with
 * unmerged commits", https://docs.github.com/webhooks/webhook-events-and-payloads#pull_request),
 * and `reopened` when it is opened again.
 */
export function sendPullRequestEvent(
  ctx: GitHubWebhookContext,
  repository: ServedRepository,
  pull: PullRecord,
  action: 'closed' | 'reopened',
): Promise<DeliveryRecord | null> {
  return send(ctx, 'pull_request', action, {
    action,
    number: pull.number,
    pull_request: renderPull(ctx, repository, pull),
    repository: renderRepository(ctx, repository),
    sender: SANDBOX_USER,
  });
}

async function send(
  ctx: GitHubWebhookContext,
  event: string,
  action: string,
  payload: Record<string, unknown>,
): Promise<DeliveryRecord | null> {
  const target = ctx.target();
  if (!target) return null;
  const body = JSON.stringify(payload);
  const id = newDeliveryId();
  const result = await deliverWebhook({
    url: target.url,
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/sandbox',
      'x-github-event': event,
      'x-github-delivery': id,
      'x-github-hook-id': '1',
      'x-github-hook-installation-target-type': 'repository',
      'x-hub-signature': `sha1=${createHmac('sha1', target.secret).update(body).digest('hex')}`,
      'x-hub-signature-256': `sha256=${createHmac('sha256', target.secret).update(body).digest('hex')}`,
    },
  });
  const record: DeliveryRecord = { id, event, action, at: ctx.now().toISOString(), ...result };
  ctx.deliveries.push(record);
  return record;
}
