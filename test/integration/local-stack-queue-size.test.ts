import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StackDriver, startStackDriver } from '../support/local-stack-driver.js';

/**
 * The deployed jobs queue once kept SQS's default maximum message size (256 KiB) while the
 * webhook took 1 MiB: reports in between were refused forever. The local queues default to that
 * size too, unless sized as the stack sizes them (local-stack-config.test.ts takes the same
 * report through a sized stack); left unsized, the local stack shows the failure. One stack per
 * file: the handlers read their environment once, at import, as a Lambda does.
 */

let unsized: StackDriver;
beforeAll(async () => {
  unsized = await startStackDriver({}, { maxMessageBytes: 262_144 });
}, 60_000);
afterAll(async () => unsized?.close());

describe('a jobs queue left at SQS’s old default size', () => {
  it('refuses a 700 KB report the sized queue takes, and queues nothing', async () => {
    const sent = await unsized.sendReport({ description: 'big', console_logs: 'x'.repeat(700 * 1024) });
    expect(sent.status).toBe(503);
    const state = await unsized.state();
    expect(state.queues.jobs.visible + state.queues.jobs.inFlight).toBe(0);
  });
});
