import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replyTo, type StackDriver, startStackDriver } from '../support/local-stack-driver.js';

// A deployment that chose GitHub as its tracker: Create Issue files a GitHub issue instead.
let driver: StackDriver;

beforeAll(async () => {
  driver = await startStackDriver({ ISSUE_TRACKER: 'github' });
}, 60_000);
afterAll(async () => driver?.close());

describe('Create Issue with GitHub as the tracker', () => {
  it('files one GitHub issue, labelled with the bug, however many clicks arrive at once', async () => {
    const sent = await driver.sendReport({
      description: 'Wishlist button does nothing on the product page',
      user_id: 'u_ana',
    });
    const bugId = String(sent.body.bugId);
    await driver.waitFor(
      'the card',
      (state) => state.bugs.find((bug) => bug.bugId === bugId)?.card?.threadId,
    );

    const clicks = await Promise.all(
      [1, 2, 3].map(() => driver.sendCommand('button', ['create_issue', bugId])),
    );
    const state = await driver.waitFor('every answer', (current) =>
      clicks.every((click) => replyTo(current, click.interaction)) ? current : undefined,
    );
    await driver.waitForIdle();
    const github = (await driver.state()).sandbox.github as {
      issues: { number: number; title: string; body: string; labels: string[]; url: string }[];
    };
    expect(github.issues).toHaveLength(1);
    const [issue] = github.issues;
    expect(issue?.labels).toContain(`bugbot:${bugId}`);
    expect(issue?.body).toContain('Wishlist button does nothing');
    const bug = (await driver.state()).bugs.find((candidate) => candidate.bugId === bugId);
    expect(bug?.status).toBe('issue_created');
    expect(bug?.issue?.identifier).toBe(`#${issue?.number}`);
    expect(state.sandbox.linear.issues.some((candidate) => candidate.title.includes('Wishlist'))).toBe(false);
  });
});
