import { createHmac, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createLinearWebhookHandler } from '../../lambdas/linear-webhook/handler.js';
import { type Job, linearEventJobSchema } from '../../shared/jobs/job-schemas.js';
import { makeHttpEvent } from '../factories/bug-reports.js';

/**
 * The Linear ingress against deliveries signed here with node:crypto as Linear documents
 * (https://linear.app/developers/webhooks: `Linear-Signature` is the hex HMAC-SHA256 of the raw
 * body; `webhookTimestamp` in the body, ms, must be within a minute), shaped like Linear's
 * `Issue` update payload (`@linear/sdk`'s `EntityWebhookPayloadWithIssueData`).
 */

const SECRET = 'lin_wh_test_signing_secret';

function issueUpdate(stateType: string, overrides: Record<string, unknown> = {}) {
  return {
    action: 'update',
    type: 'Issue',
    actor: { id: 'u1', name: 'Dana', type: 'user' },
    createdAt: new Date().toISOString(),
    data: {
      id: 'c0ffee05-5a1e-4b0b-9e11-000000000005',
      identifier: 'ENG-5',
      title: 'Checkout total ignores discount',
      url: 'https://linear.app/acme/issue/ENG-5/checkout-total',
      stateId: 'state-done',
      state: {
        id: 'state-done',
        name: stateType === 'canceled' ? 'Canceled' : 'Done',
        type: stateType,
        color: '#5e6ad2',
      },
      teamId: 'team-1',
    },
    updatedFrom: { stateId: 'state-in-progress', updatedAt: new Date(Date.now() - 60_000).toISOString() },
    url: 'https://linear.app/acme/issue/ENG-5/checkout-total',
    organizationId: 'org-1',
    webhookTimestamp: Date.now(),
    webhookId: 'wh-1',
    ...overrides,
  };
}

function signed(
  payload: unknown,
  options: { secret?: string; delivery?: string | null; body?: string } = {},
) {
  const body = options.body ?? JSON.stringify(payload);
  const headers: Record<string, string> = {
    'linear-event': 'Issue',
    'linear-signature': createHmac('sha256', options.secret ?? SECRET)
      .update(body)
      .digest('hex'),
  };
  if (options.delivery !== null) headers['linear-delivery'] = options.delivery ?? randomUUID();
  return makeHttpEvent({ path: '/webhooks/linear', body, headers });
}

function setup() {
  const sent: Job[] = [];
  const handle = createLinearWebhookHandler({
    jobQueue: { send: async (job) => void sent.push(job) },
    secret: async () => SECRET,
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
  });
  return { handle, sent };
}

describe('POST /webhooks/linear', () => {
  it('queues one job for an issue moved to a completed state, keyed on Linear-Delivery', async () => {
    const { handle, sent } = setup();
    const delivery = randomUUID();
    const result = await handle(signed(issueUpdate('completed'), { delivery }));
    expect(result.statusCode).toBe(202);
    const job = linearEventJobSchema.parse(sent[0]);
    expect(job).toMatchObject({
      idempotencyKey: `linear:${delivery}`,
      issue: { id: 'c0ffee05-5a1e-4b0b-9e11-000000000005', identifier: 'ENG-5' },
      stateType: 'completed',
      stateName: 'Done',
    });
  });

  it('queues a canceled issue', async () => {
    const { handle, sent } = setup();
    await handle(signed(issueUpdate('canceled')));
    expect(linearEventJobSchema.parse(sent[0]).stateType).toBe('canceled');
  });

  it('answers 202 and queues nothing for other updates, states, types and actions', async () => {
    const { handle, sent } = setup();
    expect((await handle(signed(issueUpdate('started')))).statusCode).toBe(202);
    // A done issue whose title was edited: the state did not change.
    expect(
      (await handle(signed(issueUpdate('completed', { updatedFrom: { title: 'old' } })))).statusCode,
    ).toBe(202);
    expect((await handle(signed(issueUpdate('completed', { type: 'Comment' })))).statusCode).toBe(202);
    expect((await handle(signed(issueUpdate('completed', { action: 'create' })))).statusCode).toBe(202);
    expect(sent).toHaveLength(0);
  });

  it('refuses a delivery whose webhookTimestamp is more than 60 s away, however well signed', async () => {
    const { handle, sent } = setup();
    expect(
      (await handle(signed(issueUpdate('completed', { webhookTimestamp: Date.now() - 61_000 })))).statusCode,
    ).toBe(401);
    expect(
      (await handle(signed(issueUpdate('completed', { webhookTimestamp: Date.now() + 61_000 })))).statusCode,
    ).toBe(401);
    const { webhookTimestamp: _dropped, ...without } = issueUpdate('completed');
    expect((await handle(signed(without))).statusCode).toBe(401);
    expect(sent).toHaveLength(0);
  });

  it('refuses forged and unsigned deliveries with 401, queueing nothing', async () => {
    const { handle, sent } = setup();
    expect((await handle(signed(issueUpdate('completed'), { secret: 'wrong' }))).statusCode).toBe(401);
    const unsigned = signed(issueUpdate('completed'));
    delete unsigned.headers['linear-signature'];
    expect((await handle(unsigned)).statusCode).toBe(401);
    expect((await handle(signed(null, { secret: 'wrong', body: '{not json' }))).statusCode).toBe(401);
    expect(sent).toHaveLength(0);
  });

  it('answers 400 to a validly signed body that is not JSON', async () => {
    const { handle } = setup();
    expect((await handle(signed(null, { body: '{not json' }))).statusCode).toBe(400);
  });

  it('keys a delivery without Linear-Delivery on its body, so a repeat of it is the same job', async () => {
    const { handle, sent } = setup();
    const payload = issueUpdate('completed');
    await handle(signed(payload, { delivery: null }));
    await handle(signed(payload, { delivery: null }));
    expect(sent[0]?.idempotencyKey).toMatch(/^linear:body-[0-9a-f]{64}$/);
    expect(sent[1]?.idempotencyKey).toBe(sent[0]?.idempotencyKey);
  });
});
