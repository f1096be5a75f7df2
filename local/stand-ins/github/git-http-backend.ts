import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename, dirname } from 'node:path';
import { scrubbedGitEnv } from './bare-repository.js';

/**
 * Git's smart HTTP protocol for one bare repository, served by `git http-backend` (the CGI program
 * git ships for exactly this) so clone, fetch, partial clone and push behave as against a real
 * host, protocol v2 included. The request body streams into the CGI's stdin (it undoes gzip
 * itself when told the encoding); its stdout is CGI headers, a blank line, then the body, which
 * streams back without buffering a whole pack.
 *
 * Configuration for the served repository comes through `GIT_CONFIG_*` variables rather than the
 * repository's own config, so registering a directory does not change it.
 */

export interface GitHttpRequest {
  readonly bareDir: string;
  /** `info/refs`, `git-upload-pack` or `git-receive-pack`. */
  readonly endpoint: string;
  readonly queryString: string;
  /** Set only for an authenticated caller: receive-pack refuses anonymous pushes without it. */
  readonly remoteUser: string | undefined;
  readonly gitBinary: string;
}

/** Server-side settings of every served repository. */
const SERVED_CONFIG: ReadonlyArray<readonly [string, string]> = [
  // `--filter=blob:none` clones, and the lazy fetches of missing blobs that follow them.
  ['uploadpack.allowFilter', 'true'],
  ['uploadpack.allowAnySHA1InWant', 'true'],
  // Enabled per request only when a caller authenticated (see `remoteUser`).
  ['http.receivepack', 'true'],
];

export function serveGitHttp(
  req: IncomingMessage,
  res: ServerResponse,
  request: GitHttpRequest,
): Promise<number> {
  const config = SERVED_CONFIG.filter(
    ([key]) => key !== 'http.receivepack' || request.remoteUser !== undefined,
  );
  const env = scrubbedGitEnv({
    GIT_PROJECT_ROOT: dirname(request.bareDir),
    GIT_HTTP_EXPORT_ALL: '1',
    PATH_INFO: `/${basename(request.bareDir)}/${request.endpoint}`,
    REQUEST_METHOD: req.method ?? 'GET',
    QUERY_STRING: request.queryString,
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    GIT_CONFIG_COUNT: String(config.length),
    ...Object.fromEntries(
      config.flatMap(([key, value], index) => [
        [`GIT_CONFIG_KEY_${index}`, key],
        [`GIT_CONFIG_VALUE_${index}`, value],
      ]),
    ),
  });
  const contentLength = req.headers['content-length'];
  if (contentLength !== undefined) env.CONTENT_LENGTH = contentLength;
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined) env.HTTP_CONTENT_ENCODING = encoding;
  const protocol = req.headers['git-protocol'];
  if (typeof protocol === 'string') env.GIT_PROTOCOL = protocol;
  if (request.remoteUser !== undefined) env.REMOTE_USER = request.remoteUser;

  return new Promise((resolve) => {
    const child = spawn(request.gitBinary, ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let header = Buffer.alloc(0);
    let status = 0;
    const stderr: Buffer[] = [];

    // The CGI may answer (an error, say) before reading all of its input.
    child.stdin.on('error', () => {});
    // A client that goes away mid-pack leaves nobody to read the rest: stop this one child.
    res.on('close', () => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
    });
    req.pipe(child.stdin);
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 64) stderr.push(chunk);
    });

    const onData = (chunk: Buffer) => {
      header = Buffer.concat([header, chunk]);
      const end = findHeaderEnd(header);
      if (!end) return;
      child.stdout.off('data', onData);
      const { statusCode, headers } = parseCgiHeaders(header.subarray(0, end.index).toString('latin1'));
      status = statusCode;
      res.writeHead(statusCode, headers);
      res.write(header.subarray(end.index + end.length));
      child.stdout.pipe(res);
    };
    child.stdout.on('data', onData);

    child.on('error', () => {
      finishWithError();
    });
    child.on('close', () => {
      if (status === 0) finishWithError();
      else resolve(status);
    });

    function finishWithError() {
      if (status !== 0) return;
      status = 500;
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`git http-backend failed: ${Buffer.concat(stderr).toString('utf8').slice(0, 500)}`);
      resolve(status);
    }
  });
}

function findHeaderEnd(buffer: Buffer): { index: number; length: number } | null {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) return { index: crlf, length: 4 };
  if (lf >= 0) return { index: lf, length: 2 };
  return null;
}

function parseCgiHeaders(text: string): { statusCode: number; headers: Record<string, string> } {
  let statusCode = 200;
  const headers: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') statusCode = Number.parseInt(value, 10) || 500;
    else headers[name] = value;
  }
  return { statusCode, headers };
}
