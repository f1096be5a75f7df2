import { JOB_SCHEMA_VERSION, type LinearEventJob } from '../jobs/job-schemas.js';
import { isHttpUrl } from './github-events.js';

/**
 * From a verified Linear delivery to one decision, without I/O (DESIGN "Hearing back"). The body
 * is Linear's entity webhook payload — `{ action, type, data, updatedFrom, url, webhookTimestamp,
 * webhookId, … }` — whose `data` for `type: "Issue"` has `id`, `identifier`, `url` and
 * `state: { id, name, type, color }`, and whose `updatedFrom` holds the previous values of what
 * changed (`stateId` when the workflow state did). Shapes as typed by `@linear/sdk`
 * (`EntityWebhookPayloadWithIssueData`, `IssueWebhookPayload`, `WorkflowStateChildWebhookPayload`)
 * and documented at https://linear.app/developers/webhooks.
 */
export type LinearDeliveryDecision =
  | { readonly kind: 'enqueue'; readonly job: LinearEventJob }
  | { readonly kind: 'ignore'; readonly reason: string }
  | { readonly kind: 'malformed'; readonly reason: string };

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]{0,20}-\d{1,9}$/;

export function decideLinearDelivery(input: {
  /** `linear-delivery`, or another id that names this delivery (see the handler). */
  readonly deliveryKey: string;
  readonly payload: unknown;
  readonly now: number;
}): LinearDeliveryDecision {
  const { payload } = input;
  if (!isObject(payload)) return { kind: 'malformed', reason: 'body is not an object' };
  if (payload.type !== 'Issue' || payload.action !== 'update') {
    return {
      kind: 'ignore',
      reason: `${String(payload.type).slice(0, 40)} ${String(payload.action).slice(0, 20)}`,
    };
  }
  const data = payload.data;
  const updatedFrom = payload.updatedFrom;
  if (!isObject(data)) return { kind: 'malformed', reason: 'data' };
  // Only a change of workflow state: an edited title on a done issue must not resolve anything again.
  if (!isObject(updatedFrom) || !Object.hasOwn(updatedFrom, 'stateId')) {
    return { kind: 'ignore', reason: 'the workflow state did not change' };
  }
  const state = data.state;
  const stateType = isObject(state) ? state.type : undefined;
  if (stateType !== 'completed' && stateType !== 'canceled') {
    return { kind: 'ignore', reason: `state ${String(stateType).slice(0, 20)}` };
  }
  const { id, identifier, url } = data;
  if (typeof id !== 'string' || id.length === 0 || id.length > 100)
    return { kind: 'malformed', reason: 'data.id' };
  if (typeof identifier !== 'string' || !IDENTIFIER.test(identifier))
    return { kind: 'malformed', reason: 'data.identifier' };
  const stateName = isObject(state) && typeof state.name === 'string' ? state.name.slice(0, 100) : '';
  return {
    kind: 'enqueue',
    job: {
      v: JOB_SCHEMA_VERSION,
      kind: 'linear.event',
      idempotencyKey: `linear:${input.deliveryKey}`,
      receivedAt: new Date(input.now).toISOString(),
      issue: { id, identifier, ...(typeof url === 'string' && isHttpUrl(url) ? { url } : {}) },
      stateType,
      stateName,
    },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
