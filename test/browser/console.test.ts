import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BROWSER_REQUIRED, findBrowser, type LaunchedBrowser, launchBrowser } from '../support/browser.js';
import { type StackDriver, startStackDriver } from '../support/local-stack-driver.js';

/**
 * The console as a person uses it, in Debian's Chromium: one local stack and one page for the
 * whole file, the tests in the order a person would go (report → card → issue → context → fix),
 * each waiting on what the page shows, never on time.
 */

/**
 * What the in-page probes use of the page's globals. The functions given to `page.evaluate` run in
 * the browser (their casts vanish when they are compiled); this project type-checks for Node.
 */
interface PageElement {
  readonly outerHTML: string;
  readonly className: string;
  readonly disabled?: boolean;
  readonly attributes: ArrayLike<{ readonly name: string }>;
  getAttribute(name: string): string | null;
}
interface PageGlobals {
  __pwned?: unknown;
  __violations: string[];
  __loadedOnce?: boolean;
  document: {
    querySelectorAll(selector: string): ArrayLike<PageElement>;
    readonly scripts: ArrayLike<{ readonly src: string }>;
    addEventListener(
      type: 'securitypolicyviolation',
      listener: (event: { violatedDirective: string; blockedURI: string }) => void,
    ): void;
  };
  getComputedStyle(element: unknown): { borderLeftColor: string };
}

const browser = findBrowser();
if (!browser.available && !BROWSER_REQUIRED) console.warn(`console browser tests skipped: ${browser.reason}`);

describe.runIf(!browser.available && BROWSER_REQUIRED)(
  'the console browser tests (BUGBOT_REQUIRE_BROWSER=1)',
  () => {
    it('have a browser to run in', () => {
      throw new Error(`BUGBOT_REQUIRE_BROWSER=1 but ${browser.available ? '' : browser.reason}`);
    });
  },
);

describe.runIf(browser.available)('the console, in a browser', () => {
  let driver: StackDriver;
  let launched: LaunchedBrowser;
  let page: Page;
  /** Page errors and policy violations: any is a failure of the page. */
  const problems: string[] = [];
  let cartBugId = '';

  beforeAll(async () => {
    [driver, launched] = await Promise.all([startStackDriver(), launchBrowser()]);
    page = await launched.context.newPage();
    page.setDefaultTimeout(60_000);
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    await page.addInitScript(() => {
      const globals = globalThis as unknown as PageGlobals;
      const seen: string[] = [];
      globals.__violations = seen;
      globals.document.addEventListener('securitypolicyviolation', (event) =>
        seen.push(`${event.violatedDirective} ${event.blockedURI}`),
      );
    });
    await page.goto(driver.stack.url);
    await page.locator('#live.on').waitFor();
    // Set once: a reload would lose it, so it proves that changes arrive without reloading.
    await page.evaluate(() => {
      (globalThis as unknown as PageGlobals).__loadedOnce = true;
    });
  }, 90_000);

  afterAll(async () => {
    await launched?.close();
    await driver?.close();
  });

  const card = (bugId: string): Locator =>
    page.locator('#messages > li[data-testid="card"]', {
      has: page.locator('.embed-footer', { hasText: `Bug ${bugId}` }),
    });

  async function sendExampleReport(example: string, description?: string): Promise<string> {
    await page.getByRole('tab', { name: 'Report a bug' }).click();
    await page.locator(`[data-example="${example}"]`).click();
    if (description !== undefined)
      await page.locator('#report-form textarea[name="description"]').fill(description);
    // A fresh result for this report, not the last one's.
    await page.locator('#report-result').evaluate((element) => element.replaceChildren());
    await page.getByRole('button', { name: 'Send report' }).click();
    // Either answer ends the wait; a refusal fails here with what the webhook said.
    await page.locator('#report-result :is(.ok, .error)').waitFor();
    const result = page.locator('#report-result');
    expect(await result.locator('.ok').count(), (await result.textContent()) ?? '').toBe(1);
    const bugId = /queued as (bug_[a-z0-9]+)/.exec((await result.textContent()) ?? '')?.[1];
    if (!bugId) throw new Error(`no bug id in "${await page.locator('#report-result').textContent()}"`);
    return bugId;
  }

  async function setMaintainer(on: boolean) {
    if ((await page.locator('#maintainer').isChecked()) !== on) await page.locator('#maintainer').click();
  }

  async function expectInert() {
    const report = await page.evaluate(() => {
      const globals = globalThis as unknown as PageGlobals;
      const document = globals.document;
      return {
        flag: globals.__pwned ?? null,
        violations: globals.__violations,
        loadedOnce: globals.__loadedOnce === true,
        foreign: Array.from(
          document.querySelectorAll(
            'img, iframe, object, embed, svg, video, audio, base, meta[http-equiv], link[rel="import"]',
          ),
        ).map((element) => element.outerHTML.slice(0, 120)),
        scripts: Array.from(document.scripts).map((script) => script.src),
        badLinks: Array.from(document.querySelectorAll('a[href]'))
          .map((anchor) => anchor.getAttribute('href') ?? '')
          .filter((href) => !/^(https?:\/\/|mailto:|\/)/i.test(href)),
        handlers: Array.from(document.querySelectorAll('*')).flatMap((element) =>
          Array.from(element.attributes)
            .filter((attribute) => /^on/i.test(attribute.name))
            .map((attribute) => attribute.name),
        ),
      };
    });
    expect(report).toEqual({
      flag: null,
      violations: [],
      loadedOnce: true,
      foreign: [],
      scripts: [`${driver.stack.url}/_local/console/app.js`],
      badLinks: [],
      handlers: [],
    });
  }

  it('shows a report sent from its form as a bug card with Discord’s buttons, and a thread, without reloading', async () => {
    cartBugId = await sendExampleReport('cart-crash');
    const shown = card(cartBugId);
    await shown.waitFor();
    await shown.locator('.thread').waitFor();
    const embed = shown.locator('.embed').first();
    expect(await embed.locator('.embed-title').textContent()).toContain('Checkout crashes when I press Pay');
    // The colour bar is the embed's colour, as Discord draws it.
    expect(
      await embed.evaluate(
        (element) => (globalThis as unknown as PageGlobals).getComputedStyle(element).borderLeftColor,
      ),
    ).not.toBe('rgba(0, 0, 0, 0)');
    expect(await embed.locator('.embed-field-name').allTextContents()).toEqual(
      expect.arrayContaining(['Priority', 'Severity', 'Status', 'Reports']),
    );
    const buttons = shown.locator('.action-row button');
    expect(await buttons.allTextContents()).toEqual(['Create Issue', 'Draft Fix', 'Dismiss', 'View Details']);
    expect(
      await buttons.evaluateAll((all) =>
        all.map((button) => [button.className, (button as unknown as PageElement).disabled]),
      ),
    ).toEqual([
      ['button primary', false],
      ['button success', false],
      ['button secondary', false],
      ['button secondary', false],
    ]);
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__loadedOnce)).toBe(true);
  }, 90_000);

  it('answers a member’s Draft Fix with a refusal only they can see', async () => {
    await setMaintainer(false);
    await card(cartBugId).getByRole('button', { name: 'Draft Fix', exact: true }).click();
    const refusal = page.locator('#messages > li.ephemeral', { hasText: 'fix-approver role' }).last();
    await refusal.waitFor();
    expect(await refusal.locator('.interaction-header').textContent()).toContain('maya clicked Draft Fix');
    expect(await refusal.locator('.ephemeral-note').textContent()).toContain('Only you can see this');
    await refusal.getByRole('button', { name: 'Dismiss message' }).click();
    await refusal.waitFor({ state: 'detached' });
  }, 60_000);

  it('creates the Linear issue when a maintainer clicks Create Issue, and shows it with its Markdown', async () => {
    await setMaintainer(true);
    await card(cartBugId).getByRole('button', { name: 'Create Issue', exact: true }).click();
    // The card is edited: the button is disabled once the issue exists.
    await card(cartBugId).locator('button.primary[disabled]', { hasText: 'Create Issue' }).waitFor();
    await page.getByRole('tab', { name: /Linear/ }).click();
    const issue = page.locator('[data-testid="linear-issue"]', {
      hasText: 'Checkout crashes when I press Pay',
    });
    await issue.waitFor();
    expect(await issue.locator('.identifier').textContent()).toMatch(/^ENG-\d+$/);
    const description = issue.locator('.md').first();
    expect(await description.locator('h2').allTextContents()).toEqual(
      expect.arrayContaining(['Analysis', 'Report (as written by the reporter)']),
    );
    expect(await description.locator('pre.codeblock').first().textContent()).toContain(
      'Checkout crashes when I press Pay',
    );
  }, 60_000);

  it('runs a message command from the page; the context packet lands in Linear with its tables', async () => {
    await page
      .locator('#message-command-form input[name="text"]')
      .fill('Checkout crashes when I press Pay — maya@example.com');
    await page.locator('#message-command-form').getByRole('button', { name: 'Contextualize bug' }).click();
    const answer = page
      .locator('#messages > li[data-interaction]', { hasText: 'used Contextualize bug' })
      .last();
    await answer.locator('.message-body > .md').waitFor();
    await page.getByRole('tab', { name: /Linear/ }).click();
    const table = page.locator('[data-testid="linear-comment"] table').first();
    await table.waitFor();
    expect(await table.locator('th').allTextContents()).toEqual(
      expect.arrayContaining(['Recording', 'Duration']),
    );
  }, 90_000);

  it('drafts a fix when a maintainer clicks Draft Fix: the pull request and its diff appear', async () => {
    await setMaintainer(true);
    await card(cartBugId).getByRole('button', { name: 'Draft Fix', exact: true }).click();
    await page.getByRole('tab', { name: /Pull requests/ }).click();
    const pull = page.locator('[data-testid="pull-request"]', {
      hasText: 'Checkout crashes when I press Pay',
    });
    await pull.waitFor({ timeout: 180_000 });
    const added = pull.locator('[data-testid="diff"] tr.line.add', {
      hasText: '(items ?? []).map(lineTotal)',
    });
    await added.waitFor();
    expect(await pull.locator('.diff-path').allTextContents()).toContain('src/cart.js');
    expect(await pull.locator('[data-testid="diff"] tr.line.del').first().textContent()).toContain(
      'items.map(lineTotal)',
    );
    // The thread under the card says so too.
    await card(cartBugId).locator('.thread', { hasText: 'Fix drafted' }).waitFor();
  }, 240_000);

  it('says plainly when the stack answers the merge switch with a 404', async () => {
    await page.getByRole('tab', { name: /Pull requests/ }).click();
    // Whatever this stack has, the page must explain a 404 from the switch it calls.
    await page.route('**/_local/github/pulls/*/merge', (route) =>
      route.fulfill({ status: 404, contentType: 'application/json', body: '{"error":"not found"}' }),
    );
    await page.locator('[data-testid="pull-request"]').first().getByRole('button', { name: 'Merge' }).click();
    const notice = page.locator('[data-testid="toast"].error', {
      hasText: 'no /_local/github/pulls/1/merge endpoint yet (404)',
    });
    await notice.waitFor();
    await page.unroute('**/_local/github/pulls/*/merge');
  }, 60_000);

  it('merges the drafted fix from the console: GitHub’s webhook resolves the bug, and the page shows it without reloading', async () => {
    await page.getByRole('tab', { name: /Pull requests/ }).click();
    const pull = page.locator('[data-testid="pull-request"]', {
      hasText: 'Checkout crashes when I press Pay',
    });
    // The real switch this time: the GitHub sandbox merges, then delivers the signed
    // `pull_request` closed (merged) to /webhooks/github; the processor resolves the bug.
    await pull.getByRole('button', { name: 'Merge' }).click();
    await page.locator('[data-testid="toast"].ok', { hasText: /^Merging #\d+: done\./ }).waitFor();
    await pull.locator('.state.state-merged').waitFor();
    expect(await pull.getByRole('button', { name: 'Merge' }).count()).toBe(0);
    // The card is edited and the thread told, arriving over the console's event stream.
    const status = card(cartBugId).locator('.embed-field', {
      has: page.locator('.embed-field-name', { hasText: /^Status$/ }),
    });
    await status.locator('.embed-field-value', { hasText: 'Resolved' }).waitFor({ timeout: 90_000 });
    await card(cartBugId)
      .locator('.embed-field', { has: page.locator('.embed-field-name', { hasText: /^Resolved$/ }) })
      .waitFor();
    await card(cartBugId).locator('.thread', { hasText: '✅ Fixed:' }).waitFor();
    // What the page shows is what the stack holds.
    const state = await driver.state();
    expect(state.bugs.find((bug) => bug.bugId === cartBugId)?.status).toBe('resolved');
    expect(
      (state.sandbox.github as { deliveries: { event: string; action?: string; status: number }[] })
        .deliveries,
    ).toContainEqual(expect.objectContaining({ event: 'pull_request', action: 'closed', status: 202 }));
    await expectInert();
  }, 120_000);

  it('opens the dismiss modal from the interaction’s answer, and its submit dismisses the bug', async () => {
    const bugId = await sendExampleReport('dark-mode');
    await card(bugId).waitFor();
    await card(bugId).getByRole('button', { name: 'Dismiss', exact: true }).click();
    const dialog = page.locator('dialog#modal[open]');
    await dialog.waitFor();
    expect(await dialog.locator('h2').textContent()).toBe('Dismiss bug');
    expect(await dialog.locator('label').textContent()).toContain('Why dismiss it?');
    await dialog.locator('textarea').fill('Works as designed');
    await dialog.getByRole('button', { name: 'Submit' }).click();
    await card(bugId).locator('.embed-field', { hasText: 'Works as designed' }).waitFor();
    expect(await card(bugId).locator('.action-row button', { hasText: 'Dismiss' }).isDisabled()).toBe(true);
  }, 90_000);

  it('switches a sandbox’s fault from the page, and shows it', async () => {
    await page.getByRole('tab', { name: /Queues/ }).click();
    await page.locator('select[data-service="posthog"]').selectOption({ label: 'Down (503)' });
    await page.locator('[data-testid="fault-posthog"]', { hasText: '100% answered 503' }).waitFor();
    await page.locator('select[data-service="posthog"]').selectOption({ label: 'Healthy' });
    await page.locator('[data-testid="fault-posthog"]', { hasText: 'healthy' }).waitFor();
    expect(Number(await page.locator('[data-testid="dlq-count"]').textContent())).toBeGreaterThanOrEqual(0);
  }, 60_000);

  it('renders a hostile report and a hostile Linear comment inert: no script runs, nothing is injected', async () => {
    const hostile = [
      "<img src=x onerror=\"window.__pwned='img'\"> <script>window.__pwned='script'</script>",
      '<svg onload="window.__pwned=\'svg\'"></svg> <iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>',
      "[click me](javascript:window.__pwned='link') ![pixel](http://127.0.0.1:9/pixel.png)",
      '<a href="javascript:window.__pwned=\'a\'">free money</a> <style>body{display:none}</style>',
    ].join('\n');
    const bugId = await sendExampleReport('hostile', hostile);
    const shown = card(bugId);
    await shown.waitFor();
    expect(await shown.locator('.embed-description').textContent()).toContain('<img src=x onerror=');

    // A person may write anything in a Linear comment; the console renders it as Markdown, safely.
    const state = await driver.state();
    const issueId = state.sandbox.linear.issues[0]?.id;
    const body = [
      '## Hostile comment',
      '[click me](javascript:window.__pwned=1) ![pixel](https://tracker.example/p.png) <img src=x onerror=window.__pwned=2>',
      '',
      '| cell | html |',
      '|---|---|',
      '| <script>window.__pwned=3</script> | [ok](https://example.com/ok) |',
    ].join('\n');
    const created = await fetch(`${driver.stack.url}/_sandbox/linear/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'lin_api_sandbox' },
      body: JSON.stringify({
        query: 'mutation($input: CommentCreateInput!) { commentCreate(input: $input) { success } }',
        variables: { input: { issueId, body } },
      }),
    });
    expect(created.status).toBe(200);
    await page.getByRole('tab', { name: /Linear/ }).click();
    const comment = page.locator('[data-testid="linear-comment"]', { hasText: 'Hostile comment' });
    await comment.waitFor();
    expect(await comment.locator('td').first().textContent()).toBe('<script>window.__pwned=3</script>');
    expect(
      await comment.locator('a').evaluateAll((links) => links.map((link) => link.getAttribute('href'))),
    ).toEqual(['https://tracker.example/p.png', 'https://example.com/ok']);
    expect(await comment.textContent()).toContain('[click me](javascript:window.__pwned=1)');

    await expectInert();
    expect(problems).toEqual([]);
  }, 90_000);
});
