import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Server-sent events for the console: every connected page gets the whole view when it connects
 * and again whenever it changes, so the page never polls.
 *
 * Nothing in the sandbox announces its changes, but everything that changes it passes through
 * the stack's one HTTP server (stand-in calls, webhooks, interactions, git pushes, faults) or the
 * local SQS engine. So a tick compares a cheap signature (a counter the server bumps after every
 * request that may write, and the queue counts) and only rebuilds the view when it moved; the
 * rebuilt view is sent only when its text differs from the last one sent. A slow full check
 * catches anything else. The timer runs only while a page is connected.
 */

export interface ChangeFeedOptions {
  /** Cheap: called every tick. */
  readonly signature: () => string;
  /** The view, serialized; called only when the signature moved (or on the slow check). */
  readonly build: () => Promise<string>;
  readonly tickMs?: number;
  /** Every this many ticks the view is rebuilt whatever the signature says. */
  readonly fullCheckEvery?: number;
  /** A comment line keeps proxies and the browser from timing the stream out. */
  readonly heartbeatMs?: number;
}

export interface ChangeFeed {
  /** Something may have changed: the next tick looks. */
  bump(): void;
  /** Takes over the response as an event stream. */
  subscribe(req: IncomingMessage, res: ServerResponse): void;
  readonly clientCount: number;
  close(): void;
}

export function createChangeFeed(options: ChangeFeedOptions): ChangeFeed {
  const tickMs = options.tickMs ?? 150;
  const fullCheckEvery = options.fullCheckEvery ?? 20;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const clients = new Set<ServerResponse>();
  let counter = 0;
  let lastSignature = '';
  let lastView = '';
  let ticks = 0;
  let timer: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let building = false;
  let closed = false;

  const send = (res: ServerResponse, view: string) => {
    // One `data:` line: JSON has no raw newlines.
    res.write(`event: view\ndata: ${view}\n\n`);
  };

  async function tick(force: boolean): Promise<void> {
    if (building || clients.size === 0) return;
    ticks += 1;
    const signature = `${counter}|${options.signature()}`;
    if (!force && signature === lastSignature && ticks % fullCheckEvery !== 0) return;
    building = true;
    try {
      const view = await options.build();
      lastSignature = signature;
      if (view === lastView) return;
      lastView = view;
      for (const client of clients) send(client, view);
    } catch (error) {
      console.error('console: could not build the view', error);
    } finally {
      building = false;
    }
  }

  function start(): void {
    timer ??= setInterval(() => void tick(false), tickMs);
    heartbeat ??= setInterval(() => {
      for (const client of clients) client.write(': keep-alive\n\n');
    }, heartbeatMs);
  }

  function stop(): void {
    if (timer) clearInterval(timer);
    if (heartbeat) clearInterval(heartbeat);
    timer = undefined;
    heartbeat = undefined;
  }

  return {
    bump() {
      counter += 1;
    },
    subscribe(req, res) {
      if (closed) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('closing\n');
        return;
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-content-type-options': 'nosniff',
      });
      // Reconnect quickly after a restart of the stack.
      res.write('retry: 1000\n\n');
      clients.add(res);
      req.on('close', () => {
        clients.delete(res);
        if (clients.size === 0) stop();
      });
      start();
      // The newcomer gets the current view at once, built fresh.
      void (async () => {
        try {
          const view = await options.build();
          if (!res.writableEnded) send(res, view);
        } catch (error) {
          console.error('console: could not build the view', error);
        }
      })();
    },
    get clientCount() {
      return clients.size;
    },
    close() {
      closed = true;
      stop();
      for (const client of clients) client.end();
      clients.clear();
    },
  };
}
