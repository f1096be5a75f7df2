import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsoleView } from '../../local/console/console-view.js';
import { type StackDriver, startStackDriver } from '../support/local-stack-driver.js';

/**
 * The console's routes without a browser (test/browser/ drives the page itself): the page and its
 * policy, the signing endpoints and their guards, and the live event stream.
 */

let driver: StackDriver;
beforeAll(async () => {
  driver = await startStackDriver();
}, 60_000);
afterAll(async () => driver?.close());

const consolePost = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${driver.stack.url}/_local/console/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

async function view(): Promise<ConsoleView> {
  return (await (await fetch(`${driver.stack.url}/_local/console/view`)).json()) as ConsoleView;
}

async function waitForView<T>(what: string, probe: (view: ConsoleView) => T | undefined | false): Promise<T> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const found = probe(await view());
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Reads server-sent events from the console's stream until `until` accepts one. */
function readEvents(until: (view: ConsoleView) => boolean): {
  first: Promise<void>;
  done: Promise<ConsoleView[]>;
} {
  const views: ConsoleView[] = [];
  let arrived = () => {};
  const first = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const done = new Promise<ConsoleView[]>((resolve, reject) => {
    const req = request(`${driver.stack.url}/_local/console/events`, (res) => {
      expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(event)?.[1];
          if (/^event: view$/m.test(event) && data) {
            const parsed = JSON.parse(data) as ConsoleView;
            views.push(parsed);
            arrived();
            if (until(parsed)) {
              req.destroy();
              resolve(views);
              return;
            }
          }
          end = buffer.indexOf('\n\n');
        }
      });
    });
    req.on('error', (error) => (views.length > 0 ? resolve(views) : reject(error)));
    req.end();
  });
  return { first, done };
}

describe('the console page', () => {
  it('is served at / under a policy that allows no inline script and no HTML sinks', async () => {
    const response = await fetch(driver.stack.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'self'");
    expect(policy).toContain("script-src 'self'");
    expect(policy).not.toContain('unsafe-inline');
    expect(policy).toContain("require-trusted-types-for 'script'");
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await response.text();
    // Every script is a file of its own: none inline, no inline handlers or styles.
    expect(html.match(/<script\b[^>]*>/g)).toEqual(['<script type="module" src="/_local/console/app.js">']);
    expect(html).not.toMatch(/\son[a-z]+=|\sstyle=/i);
  });

  it('serves its modules with their types, and answers 304 to a page that has them', async () => {
    for (const [name, type] of [
      ['app.js', 'text/javascript; charset=utf-8'],
      ['markdown.js', 'text/javascript; charset=utf-8'],
      ['console.css', 'text/css; charset=utf-8'],
    ]) {
      const response = await fetch(`${driver.stack.url}/_local/console/${name}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(type);
      expect(response.headers.get('content-encoding')).toBe('gzip');
      const etag = response.headers.get('etag') ?? '';
      await response.arrayBuffer();
      const again = await fetch(`${driver.stack.url}/_local/console/${name}`, {
        headers: { 'if-none-match': etag },
      });
      expect(again.status).toBe(304);
    }
    expect((await fetch(`${driver.stack.url}/_local/console/../local-stack.ts`)).status).toBe(404);
    expect((await fetch(`${driver.stack.url}/_local/console/tsconfig.json`)).status).toBe(404);
  });
});

describe('what the console sends for the page', () => {
  it('refuses writes that are not JSON from this origin, and queues nothing', async () => {
    const before = await driver.state();
    const form = await fetch(`${driver.stack.url}/_local/console/reports`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ description: 'from a form elsewhere' }),
    });
    expect(form.status).toBe(403);
    const foreign = await consolePost('reports', { description: 'x' }, { origin: 'https://evil.example' });
    expect(foreign.status).toBe(403);
    const crossSite = await consolePost(
      'interactions',
      { kind: 'command', name: 'dashboard' },
      { 'sec-fetch-site': 'cross-site' },
    );
    expect(crossSite.status).toBe(403);
    const after = await driver.state();
    expect(after.bugs.length).toBe(before.bugs.length);
    expect(after.queues.jobs.visible + after.queues.jobs.inFlight).toBe(0);
  });

  it('signs a command as Discord would; the stack verifies it and the answer lands where it was used', async () => {
    const response = await consolePost('interactions', {
      kind: 'command',
      name: 'dashboard',
      channelId: driver.sandbox.channelId,
      maintainer: false,
    });
    expect(response.status).toBe(200);
    const sent = (await response.json()) as { status: number; response: { type: number } };
    // 200 with a deferred answer: the signature passed the real ingress handler.
    expect(sent.status).toBe(200);
    expect(sent.response.type).toBe(5);
    const answer = await waitForView('the dashboard answer', (current) => {
      if (!current.discord.sandboxed) return false;
      const channel = current.discord.channels.find((candidate) => candidate.id === driver.sandbox.channelId);
      return channel?.messages.find(
        (message) => message.interaction?.label === 'used /bugbot dashboard' && !message.pending,
      );
    });
    expect(answer.interaction?.user).toBe('maya');
    expect(answer.author.bot).toBe(true);
  });

  it('refuses to click what is not there: an unknown message, or a button the message does not have', async () => {
    const unknown = await consolePost('interactions', {
      kind: 'button',
      customId: 'bug:details:b',
      messageId: '1234567890123456789',
    });
    expect(unknown.status).toBe(400);
    const bad = await consolePost('interactions', {
      kind: 'command',
      name: 'rm -rf',
      channelId: driver.sandbox.channelId,
    });
    expect(bad.status).toBe(400);
    const nowhere = await consolePost('interactions', {
      kind: 'command',
      name: 'status',
      channelId: '1234567890123456789',
    });
    expect(((await nowhere.json()) as { error: string }).error).toBe('no such channel or thread');
  });

  it('signs a report as the product would; the webhook answers through the console', async () => {
    const response = await consolePost('reports', {
      id: 'r_console',
      description: 'The Settings text is unreadable in dark mode',
    });
    const sent = (await response.json()) as { status: number; body: { bugId?: string } };
    expect(sent.status).toBe(202);
    expect(sent.body.bugId).toMatch(/^bug_/);
    const refused = (await (await consolePost('reports', { id: 'r_empty' })).json()) as { status: number };
    expect([400, 422]).toContain(refused.status);
  });

  it('answers 404 for the diff of a pull request the sandbox does not have', async () => {
    expect((await fetch(`${driver.stack.url}/_local/console/pulls/acme/shop/999/diff`)).status).toBe(404);
  });
});

describe('the live view', () => {
  it('arrives when the page connects and again after each change, without asking', async () => {
    const stream = readEvents((current) =>
      current.services.some((service) => service.service === 'posthog' && service.fault?.status === 503),
    );
    await stream.first;
    // Changed from outside the page: the stream must carry it by itself.
    await driver.setFault({ service: 'posthog', failRate: 1, status: 503, latencyMs: 0 });
    const views = await stream.done;
    expect(views.length).toBeGreaterThanOrEqual(2);
    expect(views[0]?.services.find((service) => service.service === 'posthog')?.fault).toBeNull();
    await driver.clearFaults();
  });

  it('lets the stack close while a page is still connected', async () => {
    // afterAll closes the stack with this stream open; a stream that kept it open would time out.
    const stream = readEvents(() => false);
    await stream.first;
    void stream.done.catch(() => undefined);
  });
});
