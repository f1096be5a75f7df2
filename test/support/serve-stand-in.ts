import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StandIn } from '../../local/stand-ins/stand-in.js';

/**
 * Serves stand-ins on a real HTTP server (127.0.0.1, a free port) under path prefixes, the way the
 * local stack mounts them, so tests drive them with the real vendor SDKs.
 *
 *   const served = await serveStandIn(createLinearStandIn());
 *   new LinearClient({ apiKey: 'k', apiUrl: `${served.baseUrl}/graphql` });
 *   await served.close();
 */

export interface StandInMount {
  readonly standIn: StandIn;
  /** Starts with `/`, no trailing slash. Default `/_sandbox/<service>`. */
  readonly prefix?: string;
}

export interface ServedStandIns {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Origin + prefix of each mount, in order. */
  readonly baseUrls: readonly string[];
  close(): Promise<void>;
}

export interface ServedStandIn extends ServedStandIns {
  /** Origin + the stand-in's prefix, e.g. `http://127.0.0.1:53124/_sandbox/linear`. */
  readonly baseUrl: string;
}

export async function serveStandIn(standIn: StandIn, prefix?: string): Promise<ServedStandIn> {
  const served = await serveStandIns([{ standIn, prefix }]);
  return { ...served, baseUrl: served.baseUrls[0]! };
}

export async function serveStandIns(mounts: readonly StandInMount[]): Promise<ServedStandIns> {
  const routes = mounts.map(({ standIn, prefix }) => ({
    standIn,
    prefix: (prefix ?? `/_sandbox/${standIn.service}`).replace(/\/+$/, ''),
  }));
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const route = routes.find(
      ({ prefix }) => url === prefix || url.startsWith(`${prefix}/`) || url.startsWith(`${prefix}?`),
    );
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `no stand-in mounted at ${url}` }));
      return;
    }
    const below = url.slice(route.prefix.length);
    const path = below.startsWith('/') ? below : `/${below}`;
    route.standIn.handle(req, res, path).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: `stand-in ${route.standIn.service} failed: ${String(error)}` }));
    });
  });
  await listen(server);
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    baseUrls: routes.map(({ prefix }) => `${origin}${prefix}`),
    close: () => closeServer(server),
  };
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // fetch keeps connections alive; without this, close waits for them to time out.
    server.closeAllConnections();
  });
}
