import { isFixBranch } from '../jobs/fix-branch.js';
import { type GitHubEventJob, JOB_SCHEMA_VERSION } from '../jobs/job-schemas.js';

/**
 * From a verified GitHub delivery to one decision, without I/O (DESIGN "Hearing back"). Payload
 * shapes as GitHub documents and publishes them (`@octokit/webhooks-examples`, the examples the
 * unit tests replay): `pull_request` carries `action`, `number`, `pull_request.{html_url, merged,
 * head.{ref, sha}}`, `repository.full_name`; `deployment_status` carries
 * `deployment_status.{state, environment_url, target_url, environment}` and
 * `deployment.{id, ref, sha}`.
 *
 * Like parse-interaction.ts, this imports only the job schema's types (classic zod would weigh on
 * the cold start) and checks by hand what the schema enforces; the unit tests validate every job
 * it builds with the schema itself.
 */
export type GitHubDeliveryDecision =
  | { readonly kind: 'ping' }
  | { readonly kind: 'enqueue'; readonly job: GitHubEventJob }
  | { readonly kind: 'ignore'; readonly reason: string }
  | { readonly kind: 'malformed'; readonly reason: string };

/** GitHub's delivery GUID (`x-github-delivery`); bounded so the key fits the job schema. */
const DELIVERY_ID = /^[A-Za-z0-9-]{1,100}$/;
const REPOSITORY = /^[\w.-]{1,100}\/[\w.-]{1,100}$/;
const SHA = /^[0-9a-f]{0,64}$/i;

export function decideGitHubDelivery(input: {
  readonly event: string | undefined;
  readonly deliveryId: string | undefined;
  readonly body: string;
  readonly now: number;
}): GitHubDeliveryDecision {
  if (input.event === 'ping') return { kind: 'ping' };
  if (!input.deliveryId || !DELIVERY_ID.test(input.deliveryId)) {
    return { kind: 'malformed', reason: 'x-github-delivery is missing or not a delivery id' };
  }
  // Anything else is answered before parsing: the hook may be subscribed to more than we use.
  if (input.event !== 'pull_request' && input.event !== 'deployment_status') {
    return { kind: 'ignore', reason: `event ${String(input.event).slice(0, 40)} is not one bugbot acts on` };
  }
  let payload: unknown;
  try {
    payload = JSON.parse(input.body);
  } catch {
    return { kind: 'malformed', reason: 'body is not JSON' };
  }
  if (!isObject(payload)) return { kind: 'malformed', reason: 'body is not an object' };
  const repository = readString(payload, 'repository', 'full_name');
  if (!repository || !REPOSITORY.test(repository))
    return { kind: 'malformed', reason: 'repository.full_name' };
  const base = {
    v: JOB_SCHEMA_VERSION,
    kind: 'github.event',
    idempotencyKey: `github:${input.deliveryId}`,
    receivedAt: new Date(input.now).toISOString(),
  } as const;

  if (input.event === 'pull_request') {
    if (payload.action !== 'closed')
      return { kind: 'ignore', reason: `pull_request ${String(payload.action).slice(0, 40)}` };
    const headRef = readString(payload, 'pull_request', 'head', 'ref');
    if (headRef === undefined) return { kind: 'malformed', reason: 'pull_request.head.ref' };
    if (!isFixBranch(headRef)) return { kind: 'ignore', reason: 'not a bugbot fix branch' };
    const number = payload.number ?? readValue(payload, 'pull_request', 'number');
    const url = readString(payload, 'pull_request', 'html_url');
    const merged = readValue(payload, 'pull_request', 'merged');
    const headSha = readString(payload, 'pull_request', 'head', 'sha') ?? '';
    if (typeof number !== 'number' || !Number.isInteger(number) || number <= 0)
      return { kind: 'malformed', reason: 'number' };
    if (!url || !isHttpUrl(url)) return { kind: 'malformed', reason: 'pull_request.html_url' };
    if (typeof merged !== 'boolean') return { kind: 'malformed', reason: 'pull_request.merged' };
    if (!SHA.test(headSha)) return { kind: 'malformed', reason: 'pull_request.head.sha' };
    return {
      kind: 'enqueue',
      job: {
        ...base,
        event: { type: 'pull_request.closed', repository, number, url, headRef, headSha, merged },
      },
    };
  }

  const state = readString(payload, 'deployment_status', 'state');
  if (state !== 'success')
    return { kind: 'ignore', reason: `deployment_status ${String(state).slice(0, 40)}` };
  // Vercel sets environment_url to the preview; target_url is the older field (logs, or the URL).
  const environmentUrl = [
    readString(payload, 'deployment_status', 'environment_url'),
    readString(payload, 'deployment_status', 'target_url'),
  ].find((candidate) => candidate && isHttpUrl(candidate));
  if (!environmentUrl) return { kind: 'ignore', reason: 'deployment_status without a URL' };
  const deploymentId = readValue(payload, 'deployment', 'id');
  const rawRef = readString(payload, 'deployment', 'ref') ?? '';
  const ref = rawRef.replace(/^refs\/heads\//, '');
  const sha = readString(payload, 'deployment', 'sha') ?? '';
  if (typeof deploymentId !== 'number' || !Number.isInteger(deploymentId) || deploymentId < 0)
    return { kind: 'malformed', reason: 'deployment.id' };
  if (ref.length > 255 || !SHA.test(sha))
    return { kind: 'malformed', reason: 'deployment.ref or deployment.sha' };
  const environment = readString(payload, 'deployment_status', 'environment');
  return {
    kind: 'enqueue',
    job: {
      ...base,
      event: {
        type: 'deployment_status.success',
        repository,
        deploymentId,
        ref,
        sha,
        environmentUrl,
        ...(environment && environment.length <= 255 ? { environment } : {}),
      },
    },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readValue(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!isObject(current)) return undefined;
    current = current[key];
  }
  return current;
}

function readString(value: unknown, ...path: string[]): string | undefined {
  const found = readValue(value, ...path);
  return typeof found === 'string' ? found : undefined;
}

export function isHttpUrl(value: string): boolean {
  if (value.length > 2000) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}
